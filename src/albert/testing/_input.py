"""What the emulator reads from a request: its body (size-limited, UTF-8 JSON) and its query.

Everything that may end up stored goes through here first, so nothing that
could not be sent back is ever kept: a body must be UTF-8 JSON without lone
surrogates, NaN or infinities; a query or a path must be UTF-8; a query may
hold only the parameters its route knows, so that a filter the emulator would
ignore is refused instead of silently answering everything.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive

__all__ = [
    "ApiError",
    "Query",
    "choice",
    "decode_path",
    "invalid",
    "limited_receive",
    "read_form",
    "read_json",
    "too_large",
]

Doc = dict[str, Any]


class ApiError(Exception):
    """An error answer: a status and a JSON body ``{"message": ..., ["errors": ...]}``.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What went wrong, for people.
    errors : Any, optional
        Details (the fields at fault), sent as ``errors``.
    headers : dict[str, str] | None, optional
        Headers of the answer.
    """

    __module__ = "albert.testing.app"  # its public path

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers

    def response(self) -> Response:
        """Return the error as a JSON response.

        Returns
        -------
        starlette.responses.Response
            Status `status`, body ``{"message": ...}`` (plus ``errors`` if any).
        """
        body: Doc = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def invalid(field: str, problem: str) -> ApiError:
    """Return the 400 of a field (or parameter) at fault.

    Parameters
    ----------
    field : str
        The field's wire name.
    problem : str
        What is wrong with it, e.g. ``"is required"``.

    Returns
    -------
    ApiError
        A 400 whose ``errors`` name the field.
    """
    return ApiError(400, f"{field} {problem}", errors=[{"field": field, "message": problem}])


def choice(value: Any, field: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise the field's 400.

    Parameters
    ----------
    value : Any
        What the request sent.
    field : str
        Its wire name.
    choices : Iterable[str]
        The values the API accepts.

    Returns
    -------
    str
        The value.
    """
    allowed = list(choices)
    if value not in allowed:
        raise invalid(field, f"must be one of {allowed}, got {value!r}")
    return str(value)


# ---- the body ------------------------------------------------------------------------

#: What a 413 says, and the header that ends the connection after it.
_CLOSE = {"Connection": "close"}

#: How much more than the limit is read (and dropped) before a 413, so that a
#: client that writes its whole body before it reads gets the answer rather
#: than a reset connection. Past it, the connection is closed.
DRAIN_LIMIT = 64 * 1024 * 1024


def too_large(limit: int) -> ApiError:
    """Return the 413 of a body over ``limit`` bytes (it closes the connection).

    Parameters
    ----------
    limit : int
        The largest body accepted, in bytes.

    Returns
    -------
    ApiError
        A 413 with ``Connection: close``.
    """
    return ApiError(
        413, f"the request body is larger than the limit of {limit} bytes", headers=_CLOSE
    )


async def drain(receive: Receive, budget: int = DRAIN_LIMIT) -> None:
    """Read and drop what is left of a request body, up to ``budget`` bytes.

    Parameters
    ----------
    receive : starlette.types.Receive
        The ASGI receive channel.
    budget : int, optional
        Stop after this many bytes.
    """
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def limited_receive(receive: Receive, limit: int) -> Receive:
    """Return a receive channel that raises the 413 once the body passes ``limit`` bytes.

    The body is counted as it arrives (with a ``Content-Length`` or chunked),
    so no more than ``limit`` bytes are ever buffered; the rest is drained
    before the 413 is raised.

    Parameters
    ----------
    receive : starlette.types.Receive
        The ASGI receive channel.
    limit : int
        The largest body accepted, in bytes.

    Returns
    -------
    starlette.types.Receive
        The counting channel.
    """
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                if message.get("more_body", False):
                    await drain(receive)
                raise too_large(limit)
        return message

    return counted


def _non_finite(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


#: A ``\uD800``-``\uDFFF`` escape: half of a surrogate pair, or a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


async def read_json(request: Request) -> Any:
    """Return the JSON body of a request, or raise the 400 that says why it is unusable.

    Parameters
    ----------
    request : starlette.requests.Request
        The request.

    Returns
    -------
    Any
        The parsed body.
    """
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "a JSON body is required")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # also the UTF-8 encoding of a surrogate
        raise ApiError(400, f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        # NaN and Infinity (or 1e309) could be stored but never sent back as JSON.
        value = json.loads(text, parse_constant=_non_finite, parse_float=_finite)
    except RecursionError:
        raise ApiError(400, "the body is not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        # A surrogate pair is one character; half of one cannot be written as UTF-8.
        raise ApiError(
            400, "the body is not valid JSON: it holds a lone surrogate (\\ud800-\\udfff)"
        )
    return value


def read_form(raw: bytes) -> dict[str, str]:
    """Return a form-encoded body as a dict (the last value of a repeated field wins).

    Parameters
    ----------
    raw : bytes
        The body.

    Returns
    -------
    dict[str, str]
        The fields.
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise ApiError(400, "the token request is not UTF-8") from None
    return dict(pairs)


# ---- the path and the query ----------------------------------------------------------


def decode_path(value: str, name: str) -> str:
    """Return a percent-encoded path parameter decoded as UTF-8, or raise its 400.

    Parameters
    ----------
    value : str
        The parameter as routed (still percent-encoded).
    name : str
        The parameter's name, for the error.

    Returns
    -------
    str
        The decoded value.
    """
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise invalid(name, "in the path is not UTF-8") from None


_RAW_BYTE = re.compile(rb"[\x80-\xff]")


class Query:
    """The query of a request: decoded strictly as UTF-8 and checked against its route.

    Parameters
    ----------
    raw : bytes
        The query string as received (ASGI ``query_string``).
    accepted : Collection[str]
        The parameters the route knows.
    route : str
        The route, for the error (``"GET /api/v3/chats/sessions"``).
    repeatable : Collection[str], optional
        Those that may be given more than once (``name``).

    Raises
    ------
    ApiError
        400 when a parameter is unknown, given twice, empty, or not UTF-8.
    """

    def __init__(
        self,
        raw: bytes,
        accepted: Collection[str],
        route: str,
        repeatable: Collection[str] = (),
    ) -> None:
        # Raw non-ASCII bytes (a server may pass them through) read as their UTF-8.
        text = _RAW_BYTE.sub(lambda match: b"%%%02X" % match.group()[0], raw).decode("ascii")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ApiError(400, "the query string is not UTF-8") from None
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in accepted:
                known = ", ".join(sorted(accepted)) or "none"
                raise ApiError(
                    400,
                    f"unknown query parameter {name!r}: {route} accepts {known}",
                    errors=[{"field": name, "message": f"is not a query parameter of {route}"}],
                )
            if not value:
                raise invalid(name, "must not be empty")
            values = self._values.setdefault(name, [])
            if values and name not in repeatable:
                raise invalid(name, "is given more than once")
            values.append(value)

    def get(self, name: str, *, required: bool = False) -> str | None:
        """Return a parameter's value, or ``None`` when it is absent.

        Parameters
        ----------
        name : str
            The parameter.
        required : bool, optional
            Raise a 400 when it is absent.

        Returns
        -------
        str | None
            Its value.
        """
        values = self._values.get(name)
        if values is None:
            if required:
                raise invalid(name, "is a required query parameter")
            return None
        return values[-1]

    def getlist(self, name: str) -> list[str]:
        """Return every value of a repeatable parameter, in order.

        Parameters
        ----------
        name : str
            The parameter.

        Returns
        -------
        list[str]
            Its values (none when absent).
        """
        return list(self._values.get(name, []))

    def boolean(self, name: str) -> bool:
        """Return a ``true``/``false`` parameter (absent: false).

        Parameters
        ----------
        name : str
            The parameter.

        Returns
        -------
        bool
            Its value.
        """
        value = (self.get(name) or "false").lower()
        if value not in ("true", "false"):
            raise invalid(name, "must be true or false")
        return value == "true"
