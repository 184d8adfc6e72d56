"""Start an awaitable now and collect its result later: one page of read-ahead.

anyio (deliberately) has no free-floating tasks, and a task group cannot stay
open across the ``yield`` of an async generator, so this module starts the
background work with the running event loop's own primitive: an
``asyncio.Task``, or a trio system task inside its own cancel scope.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")


class Prefetch(Generic[T]):
    """Run ``fetch(*args)`` in the background from now on.

    Parameters
    ----------
    fetch : Callable[..., Awaitable[T]]
        The coroutine function to run.
    *args : Any
        Its arguments.

    Notes
    -----
    Await `result` to get the value (or the exception) exactly once, or call
    `cancel` to abandon it; an abandoned fetch never reports an error.
    """

    def __init__(self, fetch: Callable[..., Awaitable[T]], *args: Any) -> None:
        self._runner: _AsyncioRunner[T] | _TrioRunner[T]
        if _running_trio():
            self._runner = _TrioRunner(fetch, args)
        else:
            self._runner = _AsyncioRunner(fetch, args)

    async def result(self) -> T:
        """Wait for the fetch and return its value, or raise its exception."""
        return await self._runner.result()

    def cancel(self) -> None:
        """Abandon the fetch; safe to call at any time, any number of times."""
        self._runner.cancel()


def _running_trio() -> bool:
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class _AsyncioRunner(Generic[T]):
    def __init__(self, fetch: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> None:
        import asyncio

        async def run() -> T:
            return await fetch(*args)

        self._task = asyncio.get_running_loop().create_task(run())

    async def result(self) -> T:
        return await self._task

    def cancel(self) -> None:
        if not self._task.done():
            self._task.cancel()
        # Mark any outcome as seen, so an abandoned failure logs nothing.
        self._task.add_done_callback(_swallow)


def _swallow(task: Any) -> None:
    if not task.cancelled():
        task.exception()


class _TrioRunner(Generic[T]):
    def __init__(self, fetch: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> None:
        import trio

        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

        async def run() -> None:
            try:
                with self._scope:
                    self._value = await fetch(*args)
            except Exception as exc:  # handed to the awaiting caller, not the system nursery
                self._error = exc
            finally:
                self._done.set()

        # A system task starts from the system nursery's context: hand it the
        # caller's, as asyncio tasks get it, so contextvars (request ids, tracing)
        # reach every page.
        trio.lowlevel.spawn_system_task(run, context=contextvars.copy_context())

    async def result(self) -> T:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        if self._scope.cancelled_caught:
            raise RuntimeError("the prefetch was cancelled before its result was read")
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        self._scope.cancel()
