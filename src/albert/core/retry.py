"""Retry decisions and backoff: which failures are safe to retry, and how long to wait.

The policy (DESIGN.md, "Retries"):

=========================================  ==================  =======================
what happened                              GET, DELETE, PATCH  POST
=========================================  ==================  =======================
could not connect (nothing was sent)       retry               retry
429 Too Many Requests                      retry               retry
500, 502, 503, 504                         retry               only if marked idempotent
read timeout, connection lost mid-response retry               only if marked idempotent
any other 4xx                              no                  no
=========================================  ==================  =======================

A failure of the token request that an API request waits for (see
`mark_token_request_failure`) counts as "nothing was sent": the table above is
applied to it as if the API request were a GET.

Waits grow exponentially from 0.5 s with full jitter, capped at 8 s; a
``Retry-After`` header (seconds or an HTTP date) wins, capped at 60 s.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from albert.exceptions import AlbertHTTPError, AlbertTransportError, parse_retry_after

__all__ = [
    "AttemptState",
    "RetryPolicy",
    "mark_token_request_failure",
    "parse_retry_after",
    "retry_reason",
]

#: Methods whose repetition leaves the server as one call would.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
#: Server statuses that say "try again later".
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
#: httpx errors raised before a single byte of the request left this machine.
NOTHING_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
#: The attribute `mark_token_request_failure` sets on an exception.
_TOKEN_REQUEST_FAILURE = "_albert_token_request_failure"

E = TypeVar("E", bound=BaseException)


def mark_token_request_failure(exc: E) -> E:
    """Mark ``exc`` as the failure of a token request, and return it.

    A session fetches its access token before it sends an API request, so
    when the token request fails the API request was never sent: it may be
    retried whatever its method (a 503 from the token endpoint during a create
    is retried, a 503 from the create itself is not).
    """
    setattr(exc, _TOKEN_REQUEST_FAILURE, True)
    return exc


def _is_token_request_failure(exc: BaseException) -> bool:
    return getattr(exc, _TOKEN_REQUEST_FAILURE, False) is True


def nothing_was_sent(exc: BaseException) -> bool:
    """Tell whether a failure happened before the request left this machine.

    True for a connect or pool failure, and for any failure of the token
    request that the request was waiting for.
    """
    if _is_token_request_failure(exc):
        return True
    return isinstance(exc, AlbertTransportError) and isinstance(exc.__cause__, NOTHING_SENT_ERRORS)


def retry_reason(exc: BaseException, *, method: str, idempotent: bool | None = None) -> str | None:
    """Return why ``exc`` may be retried, or ``None`` when retrying is not safe.

    Parameters
    ----------
    exc : BaseException
        The failure of one attempt.
    method : str
        The request's HTTP method.
    idempotent : bool | None, optional
        Overrides what the method implies: ``True`` marks a POST as safe to
        repeat, ``False`` marks any call as unsafe to repeat once sent.

    Returns
    -------
    str | None
        A short reason for the log ("connect error", "429", "503", ...), or
        ``None``.
    """
    if _is_token_request_failure(exc):
        # The request itself was not sent: judge the token request, which is
        # safe to repeat, instead.
        reason = _reason(exc, repeatable=True)
        return f"token request: {reason}" if reason else None
    repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
    return _reason(exc, repeatable=repeatable)


def _reason(exc: BaseException, *, repeatable: bool) -> str | None:
    if isinstance(exc, AlbertHTTPError):
        if exc.status_code == 429:
            return "429 Too Many Requests"
        if exc.status_code in RETRYABLE_SERVER_STATUSES and repeatable:
            return f"{exc.status_code} server error"
        return None
    if isinstance(exc, AlbertTransportError):
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "transport error"
        if isinstance(exc.__cause__, NOTHING_SENT_ERRORS):
            return f"{cause} before sending"
        if repeatable:
            return cause
    return None


def _retry_after_of(exc: BaseException | None) -> float | None:
    if isinstance(exc, AlbertHTTPError) and exc.response is not None:
        return parse_retry_after(exc.response.headers.get("retry-after"))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait between attempts.

    Parameters
    ----------
    max_retries : int
        Retries after the first attempt; ``0`` disables retrying.
    initial_backoff : float
        The cap of the first wait, in seconds; it doubles each retry.
    max_backoff : float
        The largest exponential wait, in seconds.
    max_retry_after : float
        The largest wait a ``Retry-After`` header can ask for, in seconds.
    jitter : Callable[[], float]
        A source of uniform numbers in ``[0, 1)`` ("full jitter").
    """

    max_retries: int = 3
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"max_retries must be an int, got {type(self.max_retries).__name__}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")

    def wait_seconds(self, retry_number: int, exc: BaseException | None = None) -> float:
        """Return how long to sleep before retry number ``retry_number`` (1-based).

        Parameters
        ----------
        retry_number : int
            1 before the first retry, 2 before the second, ...
        exc : BaseException | None, optional
            The failure being retried; its ``Retry-After`` header, if any, wins.

        Returns
        -------
        float
            Seconds to sleep.
        """
        retry_after = _retry_after_of(exc)
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling: float = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry_number - 1))
        return ceiling * float(self.jitter())


def may_have_applied(exc: BaseException) -> bool:
    """Tell whether a failed attempt may still have changed state on the server.

    A 429 or a failure before sending (including a failed token request) did
    nothing; a server error or a connection lost after sending may have done
    the work.
    """
    if nothing_was_sent(exc):
        return False
    if isinstance(exc, AlbertHTTPError):
        return exc.status_code != 429 and exc.status_code >= 500
    return isinstance(exc, AlbertTransportError)


@dataclass
class AttemptState:
    """What earlier attempts of one request left behind for the later ones.

    Attributes
    ----------
    maybe_applied : bool
        An earlier attempt may have changed state on the server (its response
        was lost, or the server failed after receiving it).
    refreshed : bool
        The access token was already refreshed once after a 401.
    """

    maybe_applied: bool = False
    refreshed: bool = False
