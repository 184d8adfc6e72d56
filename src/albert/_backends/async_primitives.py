"""Sleeping and locking for the async variant (asyncio and trio, through anyio).

anyio is imported on first use, not at import time: ``import albert`` stays cheap.
"""

from __future__ import annotations

import time
from types import TracebackType

__all__ = ["Lock", "sleep", "monotonic"]


async def sleep(seconds: float) -> None:
    """Sleep without blocking the event loop.

    Parameters
    ----------
    seconds : float
        How long to sleep.
    """
    import anyio

    await anyio.sleep(seconds)


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
