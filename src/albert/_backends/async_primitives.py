"""Sleeping, locking and worker threads for the async variant (asyncio and trio, through anyio).

anyio is imported on first use, not at import time: ``import albert`` stays cheap.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

__all__ = ["WAITING_BLOCKS_THE_THREAD", "shielded", "Lock", "sleep", "monotonic", "run_in_thread"]

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


@contextlib.contextmanager
def shielded(seconds: float) -> Iterator[None]:
    """Run the block to its end even if the caller is cancelled, for ``seconds`` at most.

    A cancellation requested meanwhile is delivered after the block.

    Parameters
    ----------
    seconds : float
        The longest the block may run; then it is cancelled after all.

    Yields
    ------
    None

    Raises
    ------
    TimeoutError
        If the block was cut short by ``seconds``.
    """
    import anyio

    with anyio.CancelScope(shield=True, deadline=anyio.current_time() + seconds) as scope:
        yield
    if scope.cancelled_caught:
        raise TimeoutError(f"did not finish within {seconds:g} s")
