"""Work that outlives its caller: `Detached` in both variants.

Written per variant, not under tests/_async: the async side is about
cancellation (which the sync variant has no twin of), the sync side about a
worker thread and an interrupt.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from albert._backends import async_primitives, sync_primitives
from albert._backends.async_primitives import Detached
from albert._backends.sync_primitives import Detached as SyncDetached

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Job:
    """Work that records whether it finished, and what it saw."""

    def __init__(self, seconds: float = 0.0, fail: Exception | None = None) -> None:
        self.seconds = seconds
        self.fail = fail
        self.finished = False
        self.seen_request_id = ""
        self.thread = 0

    async def run_async(self) -> str:
        self.seen_request_id = REQUEST_ID.get()
        await anyio.sleep(self.seconds)
        return self._end()

    def run_sync(self) -> str:
        self.seen_request_id = REQUEST_ID.get()
        self.thread = threading.get_ident()
        time.sleep(self.seconds)
        return self._end()

    def _end(self) -> str:
        if self.fail is not None:
            raise self.fail
        self.finished = True
        return "done"


def _async_started(func: Callable[[], Awaitable[str]], seconds: float) -> Detached[str]:
    work = async_primitives.Detached(func, seconds)
    work.start()
    return work


def _sync_started(func: Callable[[], str], seconds: float) -> SyncDetached[str]:
    work = sync_primitives.Detached(func, seconds)
    work.start()
    return work


# async


async def test_the_caller_gets_the_value_and_the_work_its_context() -> None:
    job = Job()
    REQUEST_ID.set("req-1")
    assert await _async_started(job.run_async, math.inf).result() == "done"
    assert job.seen_request_id == "req-1"


async def test_the_caller_gets_the_works_exception() -> None:
    with pytest.raises(ValueError, match="refused"):
        await _async_started(Job(fail=ValueError("refused")).run_async, 5).result()


async def test_work_cut_at_its_bound_raises_timeout_error() -> None:
    job = Job(seconds=30)
    started = time.monotonic()
    with anyio.fail_after(5), pytest.raises(TimeoutError, match=r"within 0\.1 s"):
        await _async_started(job.run_async, 0.1).result()
    assert time.monotonic() - started < 2
    assert not job.finished


async def test_a_cancelled_caller_leaves_at_once_and_the_work_runs_on() -> None:
    job = Job(seconds=0.2)
    started = time.monotonic()
    with anyio.move_on_after(0.05):
        await _async_started(job.run_async, 5).result()
    assert time.monotonic() - started < 0.15
    assert not job.finished
    with anyio.fail_after(5):
        while not job.finished:  # noqa: ASYNC110 - the work has no event to offer
            await anyio.sleep(0.01)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_work_whose_caller_asyncio_cancelled_runs_on() -> None:
    import asyncio

    job = Job(seconds=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(_async_started(job.run_async, 5).result(), 0.05)
    assert not job.finished
    await asyncio.sleep(0.4)
    assert job.finished


async def test_a_failure_nobody_waits_for_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = Job(seconds=0.1, fail=ValueError("nobody listens"))
    with anyio.move_on_after(0.02):
        await _async_started(job.run_async, 5).result()
    await anyio.sleep(0.3)  # the work fails meanwhile; neither loop nor test hears of it
    assert "nobody listens" not in caplog.text


async def test_settle_waits_for_the_work_even_in_a_cancelled_caller() -> None:
    job = Job(seconds=0.2)
    work = _async_started(job.run_async, 5)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await work.settle()  # a block's exit after a cancellation: still waits
    assert job.finished


async def test_settle_does_not_raise_the_works_failure() -> None:
    work = _async_started(Job(fail=ValueError("refused")).run_async, 5)
    await work.settle()
    with pytest.raises(ValueError, match="refused"):
        await work.result()


# sync


def test_sync_the_caller_gets_the_value_from_another_thread_with_its_context() -> None:
    job = Job()
    token = REQUEST_ID.set("req-2")
    try:
        assert _sync_started(job.run_sync, math.inf).result() == "done"
    finally:
        REQUEST_ID.reset(token)
    assert job.seen_request_id == "req-2"
    assert job.thread != threading.get_ident()


def test_sync_the_caller_gets_the_works_exception() -> None:
    with pytest.raises(ValueError, match="refused"):
        _sync_started(Job(fail=ValueError("refused")).run_sync, 5).result()


def test_sync_the_caller_stops_waiting_at_the_bound_and_the_work_runs_on() -> None:
    job = Job(seconds=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"within 0\.05 s"):
        _sync_started(job.run_sync, 0.05).result()
    assert time.monotonic() - started < 0.25
    deadline = time.monotonic() + 5
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.finished


def test_sync_settle_waits_for_the_work_within_its_bound() -> None:
    job = Job(seconds=0.1)
    _sync_started(job.run_sync, 5).settle()
    assert job.finished
    hung = Job(seconds=0.5)
    started = time.monotonic()
    _sync_started(hung.run_sync, 0.05).settle()  # gives up quietly
    assert time.monotonic() - started < 0.4
    assert not hung.finished


def test_a_task_left_by_a_closed_loop_is_let_go() -> None:
    import asyncio

    loop = asyncio.new_event_loop()
    left = loop.run_until_complete(_start(Job(seconds=30)))
    loop.close()  # without cancelling the task: it never ends, nor drops itself

    async def start_another() -> None:
        await _async_started(Job().run_async, 5).result()

    asyncio.run(start_another())
    assert left not in async_primitives._DETACHED_TASKS  # not kept alive with its loop


async def _start(job: Job) -> object:
    before = set(async_primitives._DETACHED_TASKS)
    _async_started(job.run_async, 5)
    (task,) = async_primitives._DETACHED_TASKS - before
    return task


def _within(seconds: float, func: Callable[[], object]) -> None:
    """Run ``func`` in a thread, failing (not hanging) if it takes longer than ``seconds``."""
    done = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            func()
        except BaseException as exc:  # handed to the test
            failures.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(seconds), f"still waiting after {seconds} s"
    if failures:
        raise failures[0]


def test_settle_waits_for_work_running_on_another_event_loop() -> None:
    import asyncio

    job = Job(seconds=0.3)
    handed: list[Detached[str]] = []
    started = threading.Event()

    async def loop_a() -> None:
        handed.append(_async_started(job.run_async, 5))
        started.set()
        await asyncio.sleep(0.5)

    other = threading.Thread(target=asyncio.run, args=(loop_a(),))
    other.start()
    assert started.wait(5)
    _within(5, lambda: asyncio.run(handed[0].settle()))  # no "bound to a different event loop"
    assert job.finished
    other.join(5)


@pytest.mark.parametrize("how", ["never started", "cancelled before its first step", "loop closed"])
def test_settle_returns_for_work_that_will_never_run(how: str) -> None:
    import asyncio

    job = Job(seconds=30)
    if how == "never started":
        work = asyncio.run(_unstarted(job))
    else:
        loop = asyncio.new_event_loop()
        cancel = how == "cancelled before its first step"
        work = loop.run_until_complete(_started_only(job, cancel=cancel))
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()
    _within(2, lambda: asyncio.run(work.settle()))
    _within(2, lambda: anyio.run(work.settle, backend="trio"))
    assert not job.finished


async def _unstarted(job: Job) -> Detached[str]:
    return async_primitives.Detached(job.run_async, 60)


async def _started_only(job: Job, *, cancel: bool) -> Detached[str]:
    before = set(async_primitives._DETACHED_TASKS)
    work = _async_started(job.run_async, 60)
    if cancel:  # as asyncio.run does to what is left, here before the task ever ran
        (task,) = async_primitives._DETACHED_TASKS - before
        task.cancel()
    return work


def test_sync_settle_returns_at_once_for_work_never_started() -> None:
    started = time.monotonic()
    sync_primitives.Detached(Job(seconds=30).run_sync, 60).settle()
    assert time.monotonic() - started < 0.5
