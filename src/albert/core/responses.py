"""Turning HTTP responses into models, or into the typed exception that explains them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from albert._jsonwalk import JSONTooDeepError, map_strings
from albert._sendable import READABLE_JSON_DEPTH, clean_surrogates
from albert.core.redaction import blank_secret
from albert.exceptions import (
    BODY_EXCERPT_CHARS,
    AlbertClientClosedError,
    AlbertConnectionError,
    AlbertDecodeError,
    AlbertHTTPError,
    AlbertTimeoutError,
    AlbertTransportError,
    exception_class_for_status,
)
from albert.resources.base import BaseResource, validate_server_json

__all__ = [
    "closed_client_error",
    "credentials_redactor",
    "decode_created",
    "decode_model",
    "missing_id_error",
    "error_from_response",
    "repeated_key_error",
    "request_id_of",
    "transport_error",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
ResourceT = TypeVar("ResourceT", bound=BaseResource)
HTTPErrorT = TypeVar("HTTPErrorT", bound=AlbertHTTPError)

_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id")


def request_id_of(response: httpx.Response) -> str | None:
    """Return the request id the server sent back, if any.

    Parameters
    ----------
    response : httpx.Response
        The response.

    Returns
    -------
    str | None
        The first of the usual request-id headers that is present.
    """
    headers = response.headers
    for name in _REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


#: What an error quotes in place of a body nested too deeply to read.
_TOO_DEEP = f"<a JSON body nested more than {READABLE_JSON_DEPTH} levels deep, not quoted>"


def _visible_body(response: httpx.Response, redact: Callable[[str], str]) -> tuple[Any, str]:
    r"""Return ``(parsed, text)``: the body as the error shows it, secrets blanked after decoding.

    A secret is blanked in what the user sees, not in the raw bytes: a server
    that echoes a token as JSON escapes (``\/``, ``\u0041``) hides it from a
    search of the raw body, and decoding would bring it back. So a JSON body
    is decoded first, every string (keys too) blanked, and the text quoted
    is the blanked JSON written again; any other body is blanked as text.
    ``parsed`` is the blanked JSON, the blanked text, or ``None`` (an empty
    body, or one nested too deeply to read).
    """
    content = response.content
    if not content:
        return None, ""
    text = content.decode("utf-8", errors="replace")
    try:
        decoded = json.loads(text)
    except RecursionError:
        return None, _TOO_DEEP
    except ValueError:
        blanked = redact(text)
        return blanked, blanked
    try:
        parsed = map_strings(
            decoded, lambda value: redact(clean_surrogates(value)), max_depth=READABLE_JSON_DEPTH
        )
    except JSONTooDeepError:
        return None, _TOO_DEEP
    return parsed, _dumps(parsed)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):  # pragma: no cover - bounded depth above
        return _TOO_DEEP


def _excerpt(text: str) -> str:
    cut = " ".join(text[:BODY_EXCERPT_CHARS].split())
    if len(text) > BODY_EXCERPT_CHARS:
        cut += "…"
    return cut or "<empty body>"


def _parse_error_body(response: httpx.Response, redact: Callable[[str], str]) -> tuple[Any, str]:
    """Return ``(errors, message)`` from an error response's body, JSON or not."""
    body, text = _visible_body(response, redact)
    message: str | None = None
    if isinstance(body, dict):
        for key in ("message", "errors", "error", "detail", "title"):
            value = body.get(key)
            if value:
                message = value if isinstance(value, str) else _dumps(value)[:BODY_EXCERPT_CHARS]
                break
    if message is None:
        message = _excerpt(text) if text else response.reason_phrase or "error"
    if response.is_redirect:
        location = response.headers.get("location", "?")
        message = f"redirected to {location} (check base_url: the SDK does not follow redirects)"
    return body, message


def error_from_response(
    response: httpx.Response, *, redact: Callable[[str], str] = str
) -> AlbertHTTPError:
    """Build the typed exception for an error response (status 400 or more).

    The credentials of the request's ``Authorization`` header, and whatever
    ``redact`` blanks, are blanked out of everything the exception shows
    (its text, ``message`` and ``errors``, keys and nested values included),
    after the body is decoded: a gateway may echo the request, in JSON
    escapes too. A body nested too deeply to read is not quoted.

    Parameters
    ----------
    response : httpx.Response
        A response with a status outside 2xx; its body must have been read.
    redact : Callable[[str], str], optional
        Blanks other secrets out of the body (those of a token request).

    Returns
    -------
    AlbertHTTPError
        The subclass named for the status, carrying the status, method, URL,
        request id, parsed body and the response.
    """
    request = response.request
    credentials = credentials_redactor(request.headers.get("Authorization"))
    errors, message = _parse_error_body(response, lambda text: redact(credentials(text)))
    return _http_error(exception_class_for_status(response.status_code), message, response, errors)


def decode_error(response: httpx.Response, expected: str, detail: str) -> AlbertDecodeError:
    """Build the exception for a success response whose body is not what was expected.

    Parameters
    ----------
    response : httpx.Response
        The response.
    expected : str
        What the SDK expected, for the message (for example ``"ChatSession"``).
    detail : str
        Why the body did not fit.

    Returns
    -------
    AlbertDecodeError
        An exception naming the status and quoting the start of the body.
    """
    request = response.request
    content_type = response.headers.get("content-type", "no content type")
    redact = credentials_redactor(request.headers.get("Authorization"))
    _, text = _visible_body(response, redact)
    return _http_error(
        AlbertDecodeError,
        f"expected {expected} as JSON, got a {content_type} body that does not fit "
        f"({redact(detail)}): {_excerpt(text)}",
        response,
    )


def repeated_key_error(response: httpx.Response, last_key: str | None) -> AlbertDecodeError:
    """Build the exception for a listing page whose ``lastKey`` the listing already had.

    Parameters
    ----------
    response : httpx.Response
        The page's response.
    last_key : str | None
        The key it handed back.

    Returns
    -------
    AlbertDecodeError
        Says that following the key would go round the same pages forever.
    """
    shown = last_key if last_key is None or len(last_key) <= 80 else last_key[:80] + "…"
    return _http_error(
        AlbertDecodeError,
        f"the server handed back lastKey {shown!r}, which this listing already had: "
        "following it would list the same pages forever, so the listing stops here",
        response,
    )


def _http_error(
    cls: type[HTTPErrorT], message: str, response: httpx.Response, errors: Any = None
) -> HTTPErrorT:
    """Build ``cls`` for ``response``: its status, method, URL, request id and the response."""
    request = response.request
    return cls(
        message,
        status_code=response.status_code,
        method=request.method,
        url=str(request.url),
        request_id=request_id_of(response),
        errors=errors,
        response=response,
    )


def decode_model(response: httpx.Response, model: type[ModelT]) -> ModelT:
    r"""Validate a response body straight from its bytes into ``model``.

    Parameters
    ----------
    response : httpx.Response
        A success response whose body has been read.
    model : type[ModelT]
        The pydantic model to validate with.

    Returns
    -------
    ModelT
        The validated model.

    Raises
    ------
    AlbertDecodeError
        If the body is not JSON, is truncated, is nested more than
        `READABLE_JSON_DEPTH` levels deep, or does not fit ``model`` (an
        enum value or a field this SDK does not know yet is kept, not
        refused). A string holding a lone surrogate escape (``"\ud83d"``, as
        JavaScript servers send for an emoji cut in two) does not fail the
        body: the surrogate is read as U+FFFD.
    """
    content = response.content
    try:
        return validate_server_json(model, content)
    except ValidationError as exc:
        failure = exc
    # Off the fast path: a body the parser refused may hold lone surrogates.
    if _invalid_json(failure):
        repaired = repair_lone_surrogates(content)
        if repaired is not content:
            try:
                return validate_server_json(model, repaired)
            except ValidationError as exc:
                failure = exc
    detail = "invalid JSON" if _invalid_json(failure) else field_errors(failure)
    # Not chained: pydantic's error quotes the decoded body, where a secret that
    # the server echoed in JSON escapes reads in clear.
    raise decode_error(response, model.__name__, detail) from None


def decode_created(response: httpx.Response, model: type[ResourceT]) -> ResourceT:
    """Validate the answer to a create, which must name the id the server gave the resource.

    Parameters
    ----------
    response : httpx.Response
        The create's success response.
    model : type[ResourceT]
        The resource's model (it has an ``id`` field).

    Returns
    -------
    ResourceT
        The created resource.

    Raises
    ------
    AlbertDecodeError
        As `decode_model` does, and if the answer holds no id (an empty body,
        a 204, ``{}``): a resource without its id can never be read, edited
        or deleted, so this is not passed off as a success.
    """
    created = decode_model(response, model)
    if not getattr(created, "id", None):
        raise missing_id_error(response, model.__name__)
    return created


def missing_id_error(response: httpx.Response, expected: str) -> AlbertDecodeError:
    """Build the exception for a create whose answer holds no id.

    Parameters
    ----------
    response : httpx.Response
        The create's response.
    expected : str
        What was created (``"ChatMessage"``).

    Returns
    -------
    AlbertDecodeError
        Says that the server may have created it, and that it cannot be addressed.
    """
    return decode_error(
        response,
        f"the created {expected} with its id",
        "no id: the server may have created it, but without its id it can never be "
        "read, edited or deleted",
    )


#: How many of a validation error's field errors a decode error names.
_FIELD_ERRORS_SHOWN = 3


def field_errors(exc: ValidationError) -> str:
    """Say which fields of an answer did not fit, and why, without quoting their values.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error of validating what the server sent.

    Returns
    -------
    str
        For example ``"2 field errors: name: Field required; sequence: Input
        should be a valid string"`` (the first three errors, then how many
        more). Values are left out: they are the server's, and may echo a
        secret.
    """
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    count = len(errors)
    shown = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'the body'}: {error['msg']}"
        for error in errors[:_FIELD_ERRORS_SHOWN]
    )
    more = f"; and {count - _FIELD_ERRORS_SHOWN} more" if count > _FIELD_ERRORS_SHOWN else ""
    return f"{count} field error{'s' if count != 1 else ''}: {shown}{more}"


def _invalid_json(exc: ValidationError) -> bool:
    return any(error["type"] == "json_invalid" for error in exc.errors())


#: A ``\\uD800``-``\\uDFFF`` escape that is not itself escaped (an even number of
#: backslashes before it), with the low half that may follow a high one.
_SURROGATE_ESCAPE = re.compile(
    rb"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|[dD][c-fC-F][0-9a-fA-F]{2})"
)


def repair_lone_surrogates(content: bytes) -> bytes:
    r"""Return JSON bytes with every lone surrogate escape replaced by ``\ufffd``.

    A pair (``\ud83d\ude00``) is kept; an escaped backslash before a ``u``
    (``\\ud800``, the text ``\ud800``) is not an escape and is kept too.

    Parameters
    ----------
    content : bytes
        A JSON document.

    Returns
    -------
    bytes
        ``content`` itself (the same object) when it holds no lone surrogate
        escape, else the repaired copy.
    """

    def replace(match: re.Match[bytes]) -> bytes:
        if len(match.group(2)) > 4:  # a high and a low half: a valid pair
            return match.group(0)
        return match.group(1) + b"\\ufffd"

    repaired = _SURROGATE_ESCAPE.sub(replace, content)
    return content if repaired == content else repaired


def transport_error(
    exc: httpx.RequestError,
    *,
    method: str,
    url: str,
    prefix: str = "",
    redact: Callable[[str], str] = str,
) -> AlbertTransportError:
    """Return the SDK exception for an httpx transport failure (raise it ``from exc``).

    Parameters
    ----------
    exc : httpx.RequestError
        What httpx raised (a transport failure, or a body it could not decode).
    method : str
        The request's method.
    url : str
        The request's URL.
    prefix : str, optional
        What the request was for, put before the message (``"token request: "``).
    redact : Callable[[str], str], optional
        Blanks secrets out of the message (the text of some httpx errors
        quotes what was being sent).

    Returns
    -------
    AlbertTransportError
        `AlbertTimeoutError` for timeouts, else `AlbertConnectionError`.
    """
    if isinstance(exc, httpx.TimeoutException):
        return AlbertTimeoutError(
            f"{prefix}{method} {url} timed out ({type(exc).__name__})", method=method, url=url
        )
    return AlbertConnectionError(
        redact(f"{prefix}{method} {url} failed: {type(exc).__name__}: {exc}"),
        method=method,
        url=url,
    )


def credentials_redactor(authorization: str | None) -> Callable[[str], str]:
    """Return a function that blanks the credentials of an ``Authorization`` header out of a text.

    Parameters
    ----------
    authorization : str | None
        The header's value (``"Bearer <token>"``), if the request had one.

    Returns
    -------
    Callable[[str], str]
        Replaces the credentials with ``***`` wherever the text quotes them.
    """
    credentials = (authorization or "").partition(" ")[2].strip()
    if not credentials:
        return str
    return lambda text: blank_secret(text, credentials)


def closed_client_error(method: str, url: str) -> AlbertClientClosedError:
    """Return the error for a request made through a closed client (raise it ``from None``).

    Parameters
    ----------
    method : str
        The request's method.
    url : str
        The request's URL.

    Returns
    -------
    AlbertClientClosedError
        Says that the client is closed and nothing was sent.
    """
    return AlbertClientClosedError(
        f"{method} {url} was not sent: the client is closed "
        "(build a new one, or keep this one open while you use it)"
    )
