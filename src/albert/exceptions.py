"""The exceptions raised by the Albert SDK, shared by the sync and async clients.

The tree::

    AlbertException
    ├── AlbertClientClosedError          (also a RuntimeError)
    ├── AlbertAuthError
    ├── AlbertTransportError
    │   ├── AlbertConnectionError
    │   └── AlbertTimeoutError
    └── AlbertHTTPError
        ├── AlbertDecodeError            a 2xx whose body does not fit
        ├── AlbertClientError
        │   ├── BadRequestError              400
        │   ├── UnauthorizedError            401
        │   ├── ForbiddenError               403
        │   ├── NotFoundError                404
        │   ├── ConflictError                409
        │   ├── PreconditionFailedError      412
        │   ├── UnsupportedMediaTypeError    415
        │   ├── PreconditionRequiredError    428
        │   └── TooManyRequestsError         429
        └── AlbertServerError
            ├── InternalServerError          500
            ├── BadGateway                   502
            ├── ServiceUnavailableError      503
            └── GatewayTimeoutError          504

Bad arguments never reach the network: they raise ``pydantic.ValidationError``
or ``ValueError`` before a request is sent.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from albert._install import AlbertInstallWarning

__all__ = [
    "AlbertAuthError",
    "AlbertClientClosedError",
    "AlbertClientError",
    "AlbertConnectionError",
    "AlbertDecodeError",
    "AlbertException",
    "AlbertHTTPError",
    "AlbertInstallWarning",
    "AlbertServerError",
    "AlbertTimeoutError",
    "AlbertTransportError",
    "BadGateway",
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "ServiceUnavailableError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
]

#: How much of a response body an exception message quotes.
BODY_EXCERPT_CHARS = 200


class AlbertException(Exception):
    """Base class of every exception the SDK raises on purpose."""


class AlbertClientClosedError(AlbertException, RuntimeError):
    """The client was used after it was closed (``close()``, or the end of its ``with`` block).

    Nothing was sent. Build a new client, or keep this one open for as long
    as it is used.
    """


class AlbertAuthError(AlbertException):
    """Authentication failed: no credentials, or the token endpoint refused them.

    Parameters
    ----------
    message : str
        What failed (never a secret).
    status_code : int | None, optional
        The token endpoint's status, when it answered.
    request_id : str | None, optional
        The request id the token endpoint sent back, if any.

    Attributes
    ----------
    status_code : int | None
        The token endpoint's status; ``None`` when no request was answered
        (no credentials, for example).
    request_id : str | None
        The ``x-request-id`` (or similar) header of the token endpoint's answer.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"status_code": self.status_code, "request_id": self.request_id}
        return (_rebuild, (type(self), (self.message,), state))


class AlbertTransportError(AlbertException):
    """The request could not be completed at the transport level; the httpx error is chained.

    Parameters
    ----------
    message : str
        What went wrong.
    method : str | None, optional
        The HTTP method of the request.
    url : str | None, optional
        The URL of the request (without credentials).
    """

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.message,), {"method": self.method, "url": self.url}))


class AlbertConnectionError(AlbertTransportError):
    """The connection failed or dropped (refused, reset, closed mid-response)."""


class AlbertTimeoutError(AlbertTransportError):
    """The request timed out (connect, read, write or pool timeout)."""


class AlbertHTTPError(AlbertException):
    """The server answered with an error status.

    Parameters
    ----------
    message : str
        The server's message, or a description of the failure.
    status_code : int
        The HTTP status code.
    method : str
        The HTTP method of the request.
    url : str
        The URL of the request.
    request_id : str | None, optional
        The request id the server sent back, if any.
    errors : Any, optional
        The parsed error body (JSON when the server sent JSON, else text).
    response : httpx.Response | None, optional
        The response itself (not kept when the exception is pickled).

    Attributes
    ----------
    status_code : int
        The HTTP status code.
    method : str
        The HTTP method of the request.
    url : str
        The URL of the request.
    request_id : str | None
        The ``x-request-id`` (or similar) header of the response.
    errors : Any
        The parsed error body.
    response : httpx.Response | None
        The response, for anything not copied onto the exception.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        request_id: str | None = None,
        errors: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.method = method
        self.url = url
        self.request_id = request_id
        self.errors = errors
        self.response = response

    def __str__(self) -> str:
        text = f"{self.status_code} {self.method} {self.url}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "status_code": self.status_code,
            "method": self.method,
            "url": self.url,
            "request_id": self.request_id,
            "errors": self.errors,
        }
        return (_rebuild, (type(self), (self.message,), state))


class AlbertDecodeError(AlbertHTTPError):
    """The server answered with a success status but a body that is not what was expected.

    Raised for an HTML page, truncated JSON, or JSON of the wrong shape where
    the SDK expected a resource. The message names the status and quotes the
    start of the body.
    """


class AlbertClientError(AlbertHTTPError):
    """The server refused the request (4xx)."""


class BadRequestError(AlbertClientError):
    """400 Bad Request."""


class UnauthorizedError(AlbertClientError):
    """401 Unauthorized: the token is missing, expired or invalid."""


class ForbiddenError(AlbertClientError):
    """403 Forbidden."""


class NotFoundError(AlbertClientError):
    """404 Not Found."""


class ConflictError(AlbertClientError):
    """409 Conflict."""


class PreconditionFailedError(AlbertClientError):
    """412 Precondition Failed."""


class UnsupportedMediaTypeError(AlbertClientError):
    """415 Unsupported Media Type."""


class PreconditionRequiredError(AlbertClientError):
    """428 Precondition Required."""


class TooManyRequestsError(AlbertClientError):
    """429 Too Many Requests; ``retry_after`` holds the server's hint in seconds, if any."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait, from ``Retry-After``, if it sent one."""
        if self.response is None:
            return None
        return parse_retry_after(self.response.headers.get("retry-after"))


class AlbertServerError(AlbertHTTPError):
    """The server failed (5xx)."""


class InternalServerError(AlbertServerError):
    """500 Internal Server Error."""


class BadGateway(AlbertServerError):
    """502 Bad Gateway."""


class ServiceUnavailableError(AlbertServerError):
    """503 Service Unavailable."""


class GatewayTimeoutError(AlbertServerError):
    """504 Gateway Timeout."""


#: The exception class for each status code the SDK names.
STATUS_EXCEPTIONS: dict[int, type[AlbertHTTPError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    415: UnsupportedMediaTypeError,
    428: PreconditionRequiredError,
    429: TooManyRequestsError,
    500: InternalServerError,
    502: BadGateway,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def exception_class_for_status(status_code: int) -> type[AlbertHTTPError]:
    """Return the exception class that stands for an HTTP error status.

    Parameters
    ----------
    status_code : int
        An HTTP status code outside 2xx.

    Returns
    -------
    type[AlbertHTTPError]
        The named class for the status, else ``AlbertClientError`` for other
        4xx codes, ``AlbertServerError`` for other 5xx codes, and
        ``AlbertHTTPError`` itself for anything else outside 2xx (a redirect).
    """
    try:
        return STATUS_EXCEPTIONS[status_code]
    except KeyError:
        if status_code < 400:
            return AlbertHTTPError
        return AlbertClientError if status_code < 500 else AlbertServerError


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds.

    Parameters
    ----------
    value : str | None
        The header: a number of seconds or an HTTP date.
    now : float | None, optional
        The current POSIX time, for HTTP dates (defaults to ``time.time()``).

    Returns
    -------
    float | None
        Seconds to wait (never negative), or ``None`` when the header is
        missing or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _rebuild(cls: type[Exception], args: tuple[Any, ...], state: dict[str, Any]) -> Exception:
    """Recreate an exception from its pickled parts (keyword-only constructors need this)."""
    return cls(*args, **state)
