"""The async paginator reads one page ahead; the sync one (generated) never does.

Async-only by nature, so these tests live outside tests/_async. They assert
ordering with events, never timings.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
import respx

from albert import Albert, AsyncAlbert
from albert.exceptions import NotFoundError

BASE = "https://albert.test"
LISTING = "/api/v3/chats/sessions"


def page_body(index: int, pages: int) -> bytes:
    items = [{"id": f"s{index}-{i}", "name": "n", "sourceSessionId": "x"} for i in range(2)]
    body: dict[str, object] = {"Items": items}
    if index + 1 < pages:
        body["lastKey"] = str(index + 1)
    return json.dumps(body).encode()


def page_index(request: httpx.Request) -> int:
    return int(request.url.params.get("startKey", "0"))


def async_client(handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> AsyncAlbert:
    transport = httpx.MockTransport(handler)
    return AsyncAlbert(
        base_url=BASE, token="t", max_retries=0, http_client=httpx.AsyncClient(transport=transport)
    )


@pytest.mark.anyio
async def test_the_next_page_is_requested_while_the_consumer_works() -> None:
    arrived = {i: anyio.Event() for i in range(3)}

    async def handler(request: httpx.Request) -> httpx.Response:
        index = page_index(request)
        arrived[index].set()
        return httpx.Response(200, content=page_body(index, pages=3))

    seen = []
    async with async_client(handler) as client:
        with anyio.fail_after(5):
            async for items in client.chat_sessions.get_all().pages():
                index = int(items[0].id.split("-")[0][1:])  # type: ignore[union-attr]
                seen.append(index)
                if index < 2:
                    # Without read-ahead, page index+1 is only requested after this
                    # block returns: waiting here would time out.
                    await arrived[index + 1].wait()
    assert seen == [0, 1, 2]


@pytest.mark.anyio
async def test_max_items_still_never_requests_an_unused_page() -> None:
    requested: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        requested.append(page_index(request))
        return httpx.Response(200, content=page_body(page_index(request), pages=5))

    async with async_client(handler) as client:
        paginator = client.chat_sessions.get_all(max_items=4)
        ids = [s.id async for s in paginator]
        await anyio.sleep(0.01)  # let any stray read-ahead reach the transport
    assert len(ids) == 4
    assert requested == [0, 1]
    assert paginator.has_more is True
    assert paginator.last_key == "2"


def second_page_hangs() -> tuple[
    Callable[[httpx.Request], Awaitable[httpx.Response]], anyio.Event, anyio.Event
]:
    """A handler whose second page never comes, and events for when it started and was cancelled."""
    started, cancelled = anyio.Event(), anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        index = page_index(request)
        if index == 1:
            started.set()
            try:
                await anyio.sleep(30)
            except anyio.get_cancelled_exc_class():
                cancelled.set()
                raise
        return httpx.Response(200, content=page_body(index, pages=3))

    return handler, started, cancelled


@pytest.mark.anyio
async def test_leaving_the_loop_cancels_the_request_under_way() -> None:
    handler, second_started, second_cancelled = second_page_hangs()

    async with async_client(handler) as client:
        pages = client.chat_sessions.get_all().pages()
        with anyio.fail_after(5):
            first = await pages.__anext__()
            await second_started.wait()
            await pages.aclose()  # what `async with aclosing(...)` or leaving a loop does
            await second_cancelled.wait()
    assert [s.id for s in first] == ["s0-0", "s0-1"]


@pytest.mark.anyio
async def test_leaving_async_with_cancels_the_read_ahead_of_a_loop_left_early(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, second_started, second_cancelled = second_page_hangs()

    got = []
    async with async_client(handler) as client:
        with anyio.fail_after(5):
            async with client.chat_sessions.get_all() as paginator:
                async for session in paginator:
                    got.append(session.id)
                    await second_started.wait()  # the read-ahead is under way
                    break
            # Cancelled on leaving the block, not when the iterator is collected
            # (trio would otherwise warn of an async generator left unfinished).
            await second_cancelled.wait()
    assert got == ["s0-0"]
    assert paginator.last_key is not None
    assert paginator.has_more is True
    assert [r for r in caplog.records if r.name == "albert"] == []  # nothing retried


@pytest.mark.anyio
async def test_a_loop_left_before_it_ever_waited_sends_no_further_request() -> None:
    requested: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(page_index(request))
        return httpx.Response(200, content=page_body(page_index(request), pages=3))

    with respx.mock(base_url=BASE) as api:
        api.get(LISTING).mock(side_effect=handler)
        async with AsyncAlbert(base_url=BASE, token="t") as client:
            async with client.chat_sessions.get_all() as paginator:
                async for _session in paginator:
                    break
            for _ in range(5):  # the caller goes on and waits on other things
                await anyio.sleep(0.001)
    assert requested == [0]


@pytest.mark.anyio
async def test_an_error_on_a_read_ahead_page_surfaces_when_it_is_reached() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        index = page_index(request)
        if index == 1:
            return httpx.Response(404, json={"message": "listing expired"})
        return httpx.Response(200, content=page_body(index, pages=3))

    got = []
    async with async_client(handler) as client:
        with pytest.raises(NotFoundError, match="listing expired"):
            async for session in client.chat_sessions.get_all():
                got.append(session.id)
    assert got == ["s0-0", "s0-1"]


@pytest.mark.anyio
async def test_resuming_and_has_more_with_read_ahead() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=page_body(page_index(request), pages=3))

    async with async_client(handler) as client:
        paginator = client.chat_sessions.get_all(start_key="1")
        ids = [s.id async for s in paginator]
    assert ids == ["s1-0", "s1-1", "s2-0", "s2-1"]
    assert paginator.has_more is False
    assert paginator.last_key is None


def test_the_sync_paginator_requests_each_page_only_when_needed() -> None:
    requested: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(page_index(request))
        return httpx.Response(200, content=page_body(page_index(request), pages=3))

    client = Albert(
        base_url=BASE, token="t", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    pages = iter(client.chat_sessions.get_all().pages())
    next(pages)
    assert requested == [0]
    next(pages)
    assert requested == [0, 1]


@pytest.mark.anyio
async def test_read_ahead_pages_see_the_callers_contextvars() -> None:
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    seen: list[tuple[int, str, bool]] = []
    consumer = -1

    async def handler(request: httpx.Request) -> httpx.Response:
        in_background = anyio.get_current_task().id != consumer
        seen.append((page_index(request), request_id.get(), in_background))
        return httpx.Response(200, content=page_body(page_index(request), pages=3))

    request_id.set("req-42")
    consumer = anyio.get_current_task().id
    async with async_client(handler) as client:
        async for _page in client.chat_sessions.get_all().pages():
            await anyio.sleep(0.01)  # waiting lets the read-ahead run in the background
    assert seen == [(0, "req-42", False), (1, "req-42", True), (2, "req-42", True)]


@pytest.mark.anyio
async def test_a_consumer_that_never_waits_fetches_every_page_itself() -> None:
    # Read-ahead overlaps nothing when the consumer never gives the event loop
    # a turn; the pages are then fetched in the consumer's task, without a
    # background task per page.
    fetched_by: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        fetched_by.append(anyio.get_current_task().id)
        return httpx.Response(200, content=page_body(page_index(request), pages=3))

    async with async_client(handler) as client:
        ids = [s.id async for s in client.chat_sessions.get_all()]
        consumer = anyio.get_current_task().id
        await anyio.sleep(0.01)  # a stray background fetch would reach the handler now
    assert ids == ["s0-0", "s0-1", "s1-0", "s1-1", "s2-0", "s2-1"]
    assert fetched_by == [consumer, consumer, consumer]


def test_listing_works_without_sniffio() -> None:
    # sniffio is a dependency for speed only (httpcore looks for it on every
    # request); an environment without it must still list, read-ahead included.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import sys
        sys.modules["sniffio"] = None  # makes `import sniffio` fail

        import asyncio, json
        import httpx
        from albert import AsyncAlbert

        def handler(request):
            index = int(request.url.params.get("startKey", "0"))
            body = {"Items": [{"id": f"s{index}", "name": "n", "sourceSessionId": "x"}]}
            if index < 2:
                body["lastKey"] = str(index + 1)
            return httpx.Response(200, content=json.dumps(body).encode())

        async def main():
            transport = httpx.MockTransport(handler)
            async with AsyncAlbert(
                base_url="https://albert.test", token="t",
                http_client=httpx.AsyncClient(transport=transport),
            ) as client:
                ids = []
                async for session in client.chat_sessions.get_all():
                    ids.append(session.id)
                    await asyncio.sleep(0)  # let the read-ahead run in the background
                print(ids)

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['s0', 's1', 's2']"


def test_read_ahead_in_trio_run_as_a_guest_of_asyncio() -> None:
    # Inside trio's guest mode an asyncio loop is running too: the read-ahead
    # must still be a trio task, not an asyncio.Task that trio cannot await.
    import asyncio

    import trio

    arrived = {i: trio.Event() for i in range(3)}

    async def handler(request: httpx.Request) -> httpx.Response:
        index = page_index(request)
        arrived[index].set()
        await trio.sleep(0.01)  # still under way when the consumer asks for it
        return httpx.Response(200, content=page_body(index, pages=3))

    async def trio_main() -> list[int]:
        seen = []
        async with async_client(handler) as client:
            with trio.fail_after(5):
                async for items in client.chat_sessions.get_all().pages():
                    index = int(items[0].id.split("-")[0][1:])  # type: ignore[union-attr]
                    seen.append(index)
                    if index < 2:
                        await arrived[index + 1].wait()  # only read-ahead sets it
        return seen

    async def host() -> list[int]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()
        trio.lowlevel.start_guest_run(
            trio_main,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            done_callback=done.set_result,
            host_uses_signal_set_wakeup_fd=True,
        )
        outcome = await done
        return outcome.unwrap()  # type: ignore[attr-defined,no-any-return]

    assert asyncio.run(host()) == [0, 1, 2]
