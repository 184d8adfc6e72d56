"""Fault injection for the emulator: fail the next requests to a route, or slow it down."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from albert.core.config import is_header_name

__all__ = ["Fault", "FaultInjector"]

#: The methods a fault may name (``"*"`` matches any).
METHODS = frozenset({"*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@dataclass
class Fault:
    """A planned failure or delay of the requests that match a method and a path pattern.

    Attributes
    ----------
    method : str
        The HTTP method, or ``"*"`` for any.
    path : re.Pattern[str]
        Searched (``re.search``) in the request path, e.g. ``r"/chats/sessions$"``.
    remaining : int | None
        How many more requests it applies to; ``None`` until cleared.
    status : int | None
        The status to answer with; ``None`` for a delay only.
    delay : float
        Seconds to wait before answering (or before failing).
    headers : dict[str, str]
        Headers of the failure response (``Retry-After``, ...).
    body : Any
        The failure's body: a string is sent as is (an HTML gateway page,
        say), anything else as JSON.
    hits : int
        How many requests it has applied to so far.
    """

    method: str
    path: re.Pattern[str]
    remaining: int | None
    status: int | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this fault applies to a request.

        Parameters
        ----------
        method : str
            The request's method.
        path : str
            The request's path.

        Returns
        -------
        bool
            Whether the method and the path pattern match.
        """
        return self.method in ("*", method.upper()) and self.path.search(path) is not None

    def content(self) -> tuple[bytes, str]:
        """Return the failure's body and its content type.

        Returns
        -------
        tuple[bytes, str]
            A string body as ``text/html`` when it looks like markup, else
            ``text/plain``; anything else as JSON.
        """
        if isinstance(self.body, str):
            kind = "text/html" if self.body.lstrip().startswith("<") else "text/plain"
            return self.body.encode("utf-8"), f"{kind}; charset=utf-8"
        return json.dumps(self.body, allow_nan=False).encode("utf-8"), "application/json"

    def describe(self) -> dict[str, Any]:
        """Return the fault as JSON-ready data (for the admin route).

        Returns
        -------
        dict[str, Any]
            Method, path pattern, status, remaining count, delay, headers.
        """
        return {
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "remaining": self.remaining,
            "delay": self.delay,
            "headers": dict(self.headers),
            "hits": self.hits,
        }


def _pattern(path: str) -> re.Pattern[str]:
    try:
        return re.compile(path)
    except re.error as exc:
        raise ValueError(f"path is not a regular expression: {exc}") from None


def _method(method: str) -> str:
    upper = method.upper()
    if upper not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return upper


class FaultInjector:
    """The faults planned on an emulator.

    Thread-safe, so a test can plan faults while the emulator serves from
    another thread. A request meets every matching delay (their seconds add
    up) and at most one failure: the oldest matching one.

    Examples
    --------
    >>> faults = FaultInjector()
    >>> _ = faults.fail_next("GET", r"/chats/sessions$", status=503, times=2)
    >>> _ = faults.fail_next("GET", r"/messages$", status=429, retry_after=1)
    >>> _ = faults.add_latency("*", r"/chats/", 0.01)
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FaultInjector({len(self._faults)} planned)"

    @property
    def planned(self) -> list[Fault]:
        """The faults still planned, oldest first (a copy)."""
        with self._lock:
            return list(self._faults)

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status``.

        The failure comes before the bearer-token check and before the
        request reaches its handler: nothing is stored.

        Parameters
        ----------
        method : str
            The HTTP method, or ``"*"`` for any.
        path : str
            A regular expression searched in the request path.
        status : int
            The status of the failure (400 to 599).
        times : int, optional
            How many requests fail (default 1).
        retry_after : float | str | None, optional
            A ``Retry-After`` header: seconds (sent as whole seconds, rounded
            up), or an HTTP date.
        body : Any, optional
            The body: a string is sent as is (an HTML gateway page, say),
            anything else as JSON; default ``{"message": "injected fault: <status>"}``.
        headers : Mapping[str, str] | None, optional
            More response headers.
        delay : float, optional
            Seconds to wait before failing (default 0).

        Returns
        -------
        Fault
            The planned fault (its ``remaining`` counts down).

        Raises
        ------
        ValueError
            If an argument is out of range, ``path`` is not a regular
            expression, a header could not be sent (a name that is not an
            HTTP token, a value with a line break or outside Latin-1), or the
            body is neither a string nor strict JSON.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an error status (400-599), got {status}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        delay = _seconds(delay, "delay")
        all_headers = dict(headers or {})
        for name, value in all_headers.items():
            _check_header(name, value)
        if isinstance(retry_after, str):
            _check_header("Retry-After", retry_after)
            all_headers["Retry-After"] = retry_after
        elif retry_after is not None:
            all_headers["Retry-After"] = str(math.ceil(_seconds(retry_after, "retry_after")))
        if not isinstance(body, str):
            try:  # as it will be sent: strict JSON, no NaN
                json.dumps(body, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"body must be a string or strict JSON: {exc}") from None
        fault = Fault(
            method=_method(method),
            path=_pattern(path),
            remaining=times,
            status=status,
            delay=delay,
            headers=all_headers,
            body={"message": f"injected fault: {status}"} if body is None else body,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_latency(
        self, method: str, path: str, seconds: float, *, times: int | None = None
    ) -> Fault:
        """Delay the matching requests by ``seconds``.

        Parameters
        ----------
        method : str
            The HTTP method, or ``"*"`` for any.
        path : str
            A regular expression searched in the request path.
        seconds : float
            The delay.
        times : int | None, optional
            How many requests to delay; ``None`` (the default) until `clear`.

        Returns
        -------
        Fault
            The planned delay.

        Raises
        ------
        ValueError
            If an argument is out of range or ``path`` is not a regular expression.
        """
        seconds = _seconds(seconds, "seconds")
        if times is not None and times < 1:
            raise ValueError(f"times must be None or at least 1, got {times}")
        fault = Fault(method=_method(method), path=_pattern(path), remaining=times, delay=seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    def plan(self, spec: Mapping[str, Any]) -> Fault:
        """Plan a fault described as JSON (the body of ``POST /_emulator/faults``).

        Parameters
        ----------
        spec : Mapping[str, Any]
            ``method`` (default ``"*"``) and ``path`` (required), then either
            ``status`` with optional ``times``, ``retryAfter``, ``body``,
            ``headers`` and ``latency``, or ``latency`` (seconds) alone with
            optional ``times``.

        Returns
        -------
        Fault
            The planned fault.

        Raises
        ------
        ValueError
            If the description is incomplete or invalid.
        """
        known = {"method", "path", "status", "times", "retryAfter", "body", "headers", "latency"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        method, path = spec.get("method", "*"), spec.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise ValueError("a fault needs a string 'path' (and 'method', default '*')")
        latency = _seconds(spec.get("latency", 0.0), "latency")
        times = spec.get("times")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool)):
            raise ValueError("times must be an integer")
        headers = spec.get("headers")
        if headers is not None and not (
            isinstance(headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise ValueError("headers must be an object of strings")
        status = spec.get("status")
        if status is None:
            if not latency:
                raise ValueError("a fault needs a 'status' or a 'latency'")
            return self.add_latency(method, path, latency, times=times)
        if not isinstance(status, int) or isinstance(status, bool):
            raise ValueError("status must be an integer")
        retry_after = spec.get("retryAfter")
        if retry_after is not None and not isinstance(retry_after, (int, float, str)):
            raise ValueError("retryAfter must be a number of seconds or an HTTP date")
        return self.fail_next(
            method,
            path,
            status=status,
            times=1 if times is None else times,
            retry_after=retry_after,
            body=spec.get("body"),
            headers=headers,
            delay=latency,
        )

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Count a request against the plan and return what it meets.

        Parameters
        ----------
        method : str
            The request's method.
        path : str
            The request's path.

        Returns
        -------
        tuple[float, Fault | None]
            The seconds to wait, and the failure to answer with (``None``: serve
            the request normally).
        """
        delay = 0.0
        failure: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                if fault.status is not None:
                    if failure is not None:
                        continue  # one failure per request: later ones wait their turn
                    failure = fault
                delay += fault.delay
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
        return delay, failure


def _seconds(value: Any, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and 0 or more."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond float
            seconds = math.inf
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    raise ValueError(f"{name} must be a finite number of seconds, 0 or more")


def _check_header(name: object, value: object) -> None:
    # Checked when the fault is planned: the server cannot send such a header,
    # and would drop the connection or crash when the fault fires.
    if not is_header_name(name):
        raise ValueError(f"header name {name!r} is not an HTTP token")
    if not isinstance(value, str):
        raise ValueError(f"header {name!r} must be a string, got {type(value).__name__}")
    if any(char in value for char in "\r\n\x00") or not _latin1(value):
        raise ValueError(f"header {name!r} holds a line break, NUL or a non-Latin-1 character")


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
