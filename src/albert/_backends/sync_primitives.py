"""Sleeping, locking and worker threads for the sync variant."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import TypeVar

__all__ = ["Lock", "monotonic", "run_in_thread", "sleep"]

T = TypeVar("T")


def sleep(seconds: float) -> None:
    """Block the calling thread.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    time.sleep(seconds)


def run_in_thread(func: Callable[[], T]) -> T:
    """Run a blocking function in a worker thread and wait for it (the twin of the async one's).

    An interrupt (Ctrl-C, a notebook's "interrupt") reaches the caller at
    once, while the thread runs ``func`` to its end; on Windows before Python
    3.14 it comes when the thread is done.

    Parameters
    ----------
    func : Callable[[], T]
        The blocking function (use ``functools.partial`` for arguments).

    Returns
    -------
    T
        What ``func`` returned; what it raised is raised here.
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(func())
        except BaseException as exc:  # for the caller, not the thread's excepthook
            future.set_exception(exc)

    run_in_context = contextvars.copy_context().run
    threading.Thread(target=run_in_context, args=(run,), name="albert-worker", daemon=True).start()
    return future.result()


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
