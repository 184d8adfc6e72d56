"""Sleeping, locking and blocking calls for the sync variant (threads)."""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

__all__ = [
    "WAITING_BLOCKS_THE_THREAD",
    "Lock",
    "monotonic",
    "run_detached",
    "run_in_thread",
    "sleep",
]

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


def run_detached(func: Callable[[], T], seconds: float) -> T:
    """Run ``func()`` in a thread of its own, which runs on if the caller is interrupted.

    The twin of the non-blocking variant's detached task: a KeyboardInterrupt
    (Ctrl-C, a notebook's "interrupt") reaches the caller at once while the
    work goes on. ``func`` must keep its own result where it is needed; a
    failure nobody waits for any more is dropped.

    Parameters
    ----------
    func : Callable[[], T]
        The function to run (use ``functools.partial`` for arguments).
    seconds : float
        The longest the caller waits (``math.inf``: unbounded). A thread
        cannot be stopped: the work's own timeouts must end it.

    Returns
    -------
    T
        What ``func`` returned; what it raised is raised here.

    Raises
    ------
    TimeoutError
        If the work did not finish within ``seconds``.
    """
    job: _DetachedJob[T] = _DetachedJob(func)
    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(job.run,), name="albert-detached", daemon=True
    )
    worker.start()
    if not job.done.wait(None if math.isinf(seconds) else seconds):
        raise TimeoutError(f"did not finish within {seconds:g} s")
    return job.outcome()


class _DetachedJob(Generic[T]):
    """The work of `run_detached`, and what became of it."""

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self.done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._func()
        except BaseException as exc:  # for the caller, not the thread's excepthook
            self._error = exc
        finally:
            self.done.set()

    def outcome(self) -> T:
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
