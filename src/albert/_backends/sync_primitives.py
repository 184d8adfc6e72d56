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
    "Detached",
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


class Detached(Generic[T]):
    """Work run in a thread of its own, which runs on if its caller is interrupted.

    The twin of the non-blocking variant's detached task: a KeyboardInterrupt
    (Ctrl-C, a notebook's "interrupt") reaches a caller waiting on `result`
    at once while the work goes on. The work must keep its own result where
    it is needed; a failure nobody waits for any more is dropped.

    Parameters
    ----------
    func : Callable[[], T]
        The function to run (use ``functools.partial`` for arguments).
    seconds : float
        How long after its start `result` and `settle` wait for the work at
        most (``math.inf``: unbounded). A thread cannot be stopped: the work's
        own timeouts must end it.
    """

    def __init__(self, func: Callable[[], T], seconds: float) -> None:
        self._func: Callable[[], T] | None = func
        self._seconds = seconds
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._deadline = math.inf
        self._value: T | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start the work in a thread of its own."""
        self._deadline = time.monotonic() + self._seconds
        run_in_context = contextvars.copy_context().run
        self._thread = threading.Thread(
            target=run_in_context, args=(self._run,), name="albert-work", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        func, self._func = self._func, None  # let go of what it holds once it ends
        try:
            self._value = func()  # type: ignore[misc]
        except BaseException as exc:  # for the caller, not the thread's excepthook
            self._error = exc
        finally:
            self._done.set()

    def _wait(self) -> bool:
        while not self._done.wait(min(_WAIT_SLICE, max(self._deadline - time.monotonic(), 0.0))):
            thread = self._thread
            if time.monotonic() >= self._deadline or thread is None or not thread.is_alive():
                return self._done.is_set()
        return True

    def result(self) -> T:
        """Wait for the work to end, and return its value (or raise its exception).

        Returns
        -------
        T
            What the work returned.

        Raises
        ------
        TimeoutError
            If the work did not end within its ``seconds`` (it runs on).
        """
        if not self._wait():
            raise TimeoutError(f"did not finish within {self._seconds:g} s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def settle(self) -> None:
        """Wait for started work to end, until its ``seconds`` are up; its outcome is not raised.

        For a caller about to take away what the work needs (such as closing
        its HTTP client).
        """
        self._wait()


#: The longest one uninterrupted wait for a worker: on Windows before Python
#: 3.14 a KeyboardInterrupt cannot end a wait on a lock, only come after it.
_WAIT_SLICE = 0.1
