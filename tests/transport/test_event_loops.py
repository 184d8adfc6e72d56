"""One client, several event loops: each loop gets its own aiohttp session, closed with the loop."""

from __future__ import annotations

import asyncio
import gc
import json
import time

import pytest

from albert import AsyncAlbert
from tests.transport.conftest import Serve, sdk_client
from tests.transport.servers import LoopbackServer, answering, ok

SESSION = json.dumps({"id": "s1", "name": "again", "sourceSessionId": "x"}).encode()


def _until_closed(server: LoopbackServer, *, leaving: int = 0) -> int:
    """Wait until the server sees at most ``leaving`` connections open; return how many are."""
    for _ in range(100):
        if server.open_now <= leaving:
            break
        time.sleep(0.02)
    return server.open_now


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_successive_asyncio_runs_with_one_client(serve: Serve, use_uvloop: bool) -> None:
    # A script (or a notebook cell) calling asyncio.run twice with one client.
    server = serve(answering(lambda exchange: ok(SESSION)))
    albert = AsyncAlbert(base_url=server.url, token="t", max_retries=0)

    async def get() -> str:
        return (await albert.chat_sessions.get_by_id(id="s1")).name

    if use_uvloop:
        uvloop = pytest.importorskip("uvloop")
        run = uvloop.run
    else:
        run = asyncio.run
    assert run(get()) == "again"
    assert _until_closed(server) == 0  # the end of the run closed that loop's connection
    assert run(get()) == "again"
    assert _until_closed(server) == 0
    assert server.connections == 2
    run(albert.aclose())
    gc.collect()  # nothing left unclosed to warn about


def test_two_live_event_loops_taking_turns(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok(b"turn")))
    http = sdk_client(base_url=server.url)
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        for turn in range(6):
            loop = loops[turn % 2]
            assert loop.run_until_complete(http.get("/")).content == b"turn"
        assert server.connections == 2  # one per loop, each kept across the turns
        loops[0].run_until_complete(http.aclose())  # closes the first loop's session
        assert _until_closed(server, leaving=1) == 1
    finally:
        for loop in loops:
            loop.run_until_complete(loop.shutdown_asyncgens())  # as asyncio.run ends
            loop.close()
    assert _until_closed(server) == 0
    gc.collect()


def test_a_trio_guest_run_on_an_asyncio_loop_goes_through_httpx(serve: Serve) -> None:
    # trio's tasks see the host loop running (asyncio.get_running_loop works)
    # but are no asyncio tasks: aiohttp's futures would reach trio's scheduler.
    trio = pytest.importorskip("trio")
    server = serve(answering(lambda exchange: ok(b"guest")))

    async def in_trio() -> bytes:
        async with sdk_client() as http:
            return (await http.get(server.url)).content

    async def host() -> bytes:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()
        trio.lowlevel.start_guest_run(
            in_trio,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            done_callback=done.set_result,
        )
        return (await done).unwrap()  # type: ignore[attr-defined, no-any-return]

    assert asyncio.run(host()) == b"guest"
