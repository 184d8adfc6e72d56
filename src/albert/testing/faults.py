"""Fault injection for the emulator: fail the next requests to a route, or slow it down."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "FaultInjector"]


@dataclass
class Fault:
    """A planned failure or delay of the requests that match a method and a path pattern.

    Attributes
    ----------
    method : str
        The HTTP method, or ``"*"`` for any.
    path : re.Pattern[str]
        Matched with ``search`` against the request path.
    remaining : int | None
        How many more requests it applies to (``None``: all of them).
    status : int | None
        The status to answer with (``None``: only the delay).
    delay : float
        Seconds to wait before answering.
    headers : dict[str, str]
        Headers of the failure response (``Retry-After``, ...).
    body : Any
        JSON body of the failure response.
    """

    method: str
    path: re.Pattern[str]
    remaining: int | None
    status: int | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this fault applies to a request."""
        return (self.method in ("*", method)) and self.path.search(path) is not None


class FaultInjector:
    """The faults planned on an emulator; thread-safe, so tests can plan them while it serves."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status``.

        Parameters
        ----------
        method : str
            The HTTP method, or ``"*"``.
        path : str
            A regular expression searched in the request path.
        status : int
            The status of the failure.
        times : int, optional
            How many requests fail (default 1).
        retry_after : float | str | None, optional
            A ``Retry-After`` header value.
        body : Any, optional
            The JSON body (default ``{"message": "injected fault"}``).

        Returns
        -------
        Fault
            The planned fault (its ``remaining`` counts down).
        """
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        fault = Fault(
            method=method.upper(),
            path=re.compile(path),
            remaining=times,
            status=status,
            headers=headers,
            body={"message": f"injected fault {status}"} if body is None else body,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_latency(self, method: str, path: str, seconds: float) -> Fault:
        """Delay every matching request by ``seconds`` until `clear`."""
        fault = Fault(method=method.upper(), path=re.compile(path), remaining=None, delay=seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Return the delay and the failure (if any) that a request meets, counting it."""
        delay = 0.0
        failure = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                delay += fault.delay
                if fault.status is not None and failure is None:
                    failure = fault
                if fault.remaining is not None and (fault.status is None or fault is failure):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
        return delay, failure
