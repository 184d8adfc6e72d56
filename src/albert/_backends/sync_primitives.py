"""Sleeping and locking for the sync variant (threads)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

__all__ = ["Lock", "sleep", "monotonic"]


def sleep(seconds: float) -> None:
    """Block the calling thread.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    time.sleep(seconds)


def monotonic() -> float:
    """Return a monotonic clock reading in seconds."""
    return time.monotonic()


class Lock:
    """A lock for threads (``threading.Lock``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()
