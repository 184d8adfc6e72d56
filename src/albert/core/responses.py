"""Turning HTTP responses into models, or into the typed exception that explains them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

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
from albert.resources.base import validate_server_json

__all__ = [
    "closed_client_error",
    "credentials_redactor",
    "decode_model",
    "error_from_response",
    "repeated_key_error",
    "request_id_of",
    "transport_error",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

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


def _body_text(response: httpx.Response, redact: Callable[[str], str]) -> str:
    # Blanked before anything is cut or parsed: a secret cut in two by the
    # excerpt would no longer match, and the parsed body is kept on the error.
    return redact(response.content.decode("utf-8", errors="replace")) if response.content else ""


def _excerpt(text: str) -> str:
    cut = " ".join(text[:BODY_EXCERPT_CHARS].split())
    if len(text) > BODY_EXCERPT_CHARS:
        cut += "…"
    return cut or "<empty body>"


def _parse_error_body(response: httpx.Response, redact: Callable[[str], str]) -> tuple[Any, str]:
    """Return ``(errors, message)`` from an error response's body, JSON or not."""
    text = _body_text(response, redact)
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return (text or None), _excerpt(text)
    message: str | None = None
    if isinstance(body, dict):
        for key in ("message", "errors", "error", "detail", "title"):
            value = body.get(key)
            if value:
                message = (
                    value if isinstance(value, str) else json.dumps(value)[:BODY_EXCERPT_CHARS]
                )
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
    ``redact`` blanks, are blanked out of the body before it is quoted or
    parsed (a gateway may echo the request).

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
    cls = exception_class_for_status(response.status_code)
    return cls(
        message,
        status_code=response.status_code,
        method=request.method,
        url=str(request.url),
        request_id=request_id_of(response),
        errors=errors,
        response=response,
    )


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
    text = _body_text(response, credentials_redactor(request.headers.get("Authorization")))
    return AlbertDecodeError(
        f"expected {expected} as JSON, got a {content_type} body that does not fit "
        f"({detail}): {_excerpt(text)}",
        status_code=response.status_code,
        method=request.method,
        url=str(request.url),
        request_id=request_id_of(response),
        errors=None,
        response=response,
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
    request = response.request
    shown = last_key if last_key is None or len(last_key) <= 80 else last_key[:80] + "…"
    return AlbertDecodeError(
        f"the server handed back lastKey {shown!r}, which this listing already had: "
        "following it would list the same pages forever, so the listing stops here",
        status_code=response.status_code,
        method=request.method,
        url=str(request.url),
        request_id=request_id_of(response),
        errors=None,
        response=response,
    )


def decode_model(response: httpx.Response, model: type[ModelT]) -> ModelT:
    """Validate a response body straight from its bytes into ``model``.

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
        If the body is not JSON, is truncated, or does not fit ``model`` (an
        enum value this SDK does not know yet is kept, not refused).
    """
    try:
        return validate_server_json(model, response.content)
    except ValidationError as exc:
        kinds = {err["type"] for err in exc.errors()}
        detail = "invalid JSON" if "json_invalid" in kinds else f"{exc.error_count()} field errors"
        raise decode_error(response, model.__name__, detail) from exc


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
