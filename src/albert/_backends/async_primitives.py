"""Sleeping, locking and worker threads for the async variant (asyncio and trio, through anyio).

anyio is imported on first use, not at import time: ``import albert`` stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

__all__ = ["Lock", "monotonic", "run_in_thread", "sleep"]

T = TypeVar("T")


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

    If the waiting task is cancelled, it leaves at once and the thread runs
    ``func`` to its end (a thread cannot be interrupted): give ``func`` its own
    way to stop early where it must, such as a flag the caller sets when it
    leaves.

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
