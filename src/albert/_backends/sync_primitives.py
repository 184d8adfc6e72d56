"""Sleeping, locking and blocking calls for the sync variant (threads)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

__all__ = ["WAITING_BLOCKS_THE_THREAD", "shielded", "Lock", "sleep", "monotonic", "run_in_thread"]

T = TypeVar("T")

#: Whether this variant's waits block the calling thread (yes: nothing else runs on
#: it meanwhile, not even an event loop it hosts).
WAITING_BLOCKS_THE_THREAD = True


def sleep(seconds: float) -> None:
    """Block the calling thread.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    time.sleep(seconds)


def run_in_thread(func: Callable[[], T]) -> T:
    """Call a blocking function in the calling thread (the twin of the non-blocking variant's).

    Parameters
    ----------
    func : Callable[[], T]
        The blocking function (use ``functools.partial`` for arguments).

    Returns
    -------
    T
        What ``func`` returned.
    """
    return func()


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


@contextlib.contextmanager
def shielded(seconds: float) -> Iterator[None]:
    """Run the block (the twin of the non-blocking variant's shield: a thread is not cancelled).

    Parameters
    ----------
    seconds : float
        Unused: the block's own timeouts bound it.

    Yields
    ------
    None
    """
    yield
