"""Start an awaitable in the background and collect its result later: one page of read-ahead.

anyio (deliberately) has no free-floating tasks, and a task group cannot stay
open across the ``yield`` of an async generator, so this module starts the
background work with the running event loop's own primitive: an
``asyncio.Task``, or a trio system task inside its own cancel scope.

The background work only pays off while the caller waits on something; a
caller that comes back for the result before it ever waited runs the work
itself, which spares a task switch per page to a consumer that does no I/O.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")


def _in_trio_task() -> bool:
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


class Prefetch(Generic[T]):
    """Run ``fetch(*args)`` in the background, from the next time the caller waits.

    Parameters
    ----------
    fetch : Callable[..., Awaitable[T]]
        The coroutine function to run.
    *args : Any
        Its arguments.

    Notes
    -----
    Await what `result` returns to get the value (or the exception) exactly
    once, or call `cancel` to abandon it; an abandoned fetch never reports an error.

    The fetch starts when the caller next gives control to the event loop. A
    caller that asks for the result before that (its work in between never
    waited on anything, so nothing could have overlapped it) gets the fetch
    run in its own task instead, without a background task's cost.
    """

    def __init__(self, fetch: Callable[..., Awaitable[T]], *args: Any) -> None:
        self._runner: _AsyncioRunner[T] | _TrioRunner[T]
        if _in_trio_task():
            self._runner = _TrioRunner(fetch, args)
        else:
            self._runner = _AsyncioRunner(fetch, args)

    def result(self) -> Awaitable[T]:
        """Return what to await for the fetch's value (or its exception).

        Returns
        -------
        Awaitable[T]
            The background task, or the fetch itself when it has not started
            yet (awaiting it then runs it in the caller's task).
        """
        return self._runner.result()

    def cancel(self) -> None:
        """Abandon the fetch; safe to call at any time, any number of times."""
        self._runner.cancel()


class _AsyncioRunner(Generic[T]):
    def __init__(self, fetch: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> None:
        self._fetch = fetch
        self._args = args
        self._task: asyncio.Task[T] | None = None
        # A callback costs less than a task, and only runs once the caller waits.
        self._start = asyncio.get_running_loop().call_soon(self._start_task)

    def _start_task(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> T:
        return await self._fetch(*self._args)

    def result(self) -> Awaitable[T]:
        # Handed out, not awaited here: every coroutine between the caller and
        # the socket is resumed again at each of a request's I/O waits.
        if self._task is None:
            self._start.cancel()
            return self._fetch(*self._args)
        return self._task

    def cancel(self) -> None:
        task = self._task
        if task is None:
            self._start.cancel()
            return
        if not task.done():
            task.cancel()
        # Mark any outcome as seen, so an abandoned failure logs nothing.
        task.add_done_callback(_swallow)


def _swallow(task: Any) -> None:
    if not task.cancelled():
        task.exception()


class _TrioRunner(Generic[T]):
    def __init__(self, fetch: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> None:
        import trio

        self._fetch = fetch
        self._args = args
        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._started = False
        self._taken_over = False
        self._value: T | None = None
        self._error: BaseException | None = None
        # A system task starts from the system nursery's context: hand it the
        # caller's, as asyncio tasks get it, so contextvars (request ids, tracing)
        # reach every page.
        trio.lowlevel.spawn_system_task(self._run, context=contextvars.copy_context())

    async def _run(self) -> None:
        if self._taken_over:
            return  # the caller ran the fetch itself before this task started
        self._started = True
        try:
            with self._scope:
                self._value = await self._fetch(*self._args)
        except Exception as exc:  # handed to the awaiting caller, not the system nursery
            self._error = exc
        finally:
            self._done.set()

    async def result(self) -> T:
        if not self._started:
            self._taken_over = True
            return await self._fetch(*self._args)
        await self._done.wait()
        if self._error is not None:
            raise self._error
        if self._scope.cancelled_caught:
            raise RuntimeError("the prefetch was cancelled before its result was read")
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        self._taken_over = True
        self._scope.cancel()
