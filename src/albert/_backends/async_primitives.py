"""Sleeping, locking and worker threads for the async variant (asyncio and trio, through anyio).

anyio is imported on first use, not at import time: ``import albert`` stays cheap.
"""

from __future__ import annotations

import contextvars
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = [
    "WAITING_BLOCKS_THE_THREAD",
    "Lock",
    "in_trio_task",
    "monotonic",
    "Detached",
    "run_in_thread",
    "sleep",
]

T = TypeVar("T")

#: Whether this variant's waits block the calling thread (no: a wait yields to the
#: event loop, whose other tasks go on).
WAITING_BLOCKS_THE_THREAD = False


async def sleep(seconds: float) -> None:
    """Sleep without blocking the event loop.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    import anyio

    await anyio.sleep(seconds)


async def run_in_thread(func: Callable[[], T]) -> T:
    """Run a blocking function in a worker thread while the event loop keeps running.

    If the waiting task is cancelled, the thread is abandoned (it cannot be
    interrupted): give ``func`` its own way to stop, such as a timeout or a
    flag that the caller sets when it gives up.

    Parameters
    ----------
    func : Callable[[], T]
        The blocking function (use ``functools.partial`` for arguments).

    Returns
    -------
    T
        What ``func`` returned; what it raised is raised here.
    """
    import anyio.to_thread

    return await anyio.to_thread.run_sync(func, abandon_on_cancel=True)


def monotonic() -> float:
    """Return a monotonic clock reading in seconds."""
    return time.monotonic()


class Lock:
    """A lock for tasks of one event loop (``anyio.Lock``)."""

    def __init__(self) -> None:
        import anyio

        self._lock = anyio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()


def in_trio_task() -> bool:
    """Tell whether the caller runs in a trio task (else: an asyncio one).

    Returns
    -------
    bool
        ``True`` in a trio task, also when trio runs as a guest of an asyncio
        loop (its tasks see that loop running too, but must use trio's
        primitives).
    """
    # Not sniffio: the package must keep working where sniffio is missing (it
    # is only there to spare httpcore a failed import per request).
    trio = sys.modules.get("trio")
    if trio is None:
        return False  # never imported, so not running
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class Detached(Generic[T]):
    """Work run in a task of its own, which runs on if its caller is cancelled.

    For work that must finish once started, whoever waits for it: the caller
    awaits `result`, and if it is cancelled meanwhile (by anyio, trio, or
    asyncio's own ``Task.cancel`` and ``wait_for``) it leaves at once while
    the work goes on. The work must keep its own result where it is needed; a
    failure nobody waits for any more is dropped. It ends with the event loop
    at the latest (``asyncio.run`` and trio cancel it then).

    Parameters
    ----------
    func : Callable[[], Awaitable[T]]
        The coroutine function to run (use ``functools.partial`` for arguments).
    seconds : float
        The longest the work may run (``math.inf``: unbounded); then it is
        cancelled.
    """

    def __init__(self, func: Callable[[], Awaitable[T]], seconds: float) -> None:
        import anyio

        self._func: Callable[[], Awaitable[T]] | None = func
        self._seconds = seconds
        self._done = anyio.Event()
        self._launched = False
        self._task: Any = None  # the asyncio task (None under trio)
        self._value: T | None = None
        self._returned = False
        self._error: Exception | None = None

    def start(self) -> None:
        """Start the work in a task of its own, on the running event loop."""
        if in_trio_task():
            import trio

            # A system task starts in the system nursery's context: hand it the caller's.
            trio.lowlevel.spawn_system_task(self._run, context=contextvars.copy_context())
        else:
            import asyncio

            task = self._task = asyncio.get_running_loop().create_task(self._run())
            # The loop keeps only a weak reference. A task left pending by a
            # loop closed without cancelling it never ends: let it go.
            for left in [left for left in _DETACHED_TASKS if left.get_loop().is_closed()]:
                _DETACHED_TASKS.discard(left)
            _DETACHED_TASKS.add(task)
            task.add_done_callback(_DETACHED_TASKS.discard)
        self._launched = True

    async def _run(self) -> None:
        import anyio

        func, self._func = self._func, None  # let go of what it holds once it ends
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + self._seconds):
                self._value = await func()  # type: ignore[misc]
                self._returned = True
        except Exception as exc:  # for the caller; a trio system task must not raise
            self._error = exc
        finally:
            self._done.set()

    async def result(self) -> T:
        """Wait for the work to end, and return its value (or raise its exception).

        Returns
        -------
        T
            What the work returned.

        Raises
        ------
        TimeoutError
            If the work was cut short by its ``seconds``.
        """
        await self._done.wait()
        if self._returned:
            return self._value  # type: ignore[return-value]
        if self._error is not None:
            raise self._error
        raise TimeoutError(f"did not finish within {self._seconds:g} s")

    async def settle(self) -> None:
        """Wait for started work to end, even in a cancelled caller; its outcome is not raised.

        For a caller about to take away what the work needs (such as closing
        its HTTP client), on any event loop.
        """
        import anyio

        with anyio.CancelScope(shield=True):
            while self._running():  # noqa: ASYNC110 - the waiter may be on another loop
                await anyio.sleep(_SETTLE_POLL)

    def _running(self) -> bool:
        if not self._launched or self._done.is_set():  # a flag: readable from any loop
            return False
        task = self._task
        # An asyncio task cancelled before its first step never runs `_run`'s
        # `finally`; one whose loop was closed never runs again.
        return task is None or not (task.done() or task.get_loop().is_closed())


#: Seconds between two looks at detached work that `Detached.settle` waits for
#: (polled: the work may run on another event loop than the waiter's).
_SETTLE_POLL = 0.01

#: Detached asyncio tasks still running.
_DETACHED_TASKS: set[Any] = set()
