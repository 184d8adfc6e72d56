"""Every failure the default async transport maps, provoked on a real loopback connection.

Each test asserts the httpx exception httpx's own transport raises for the
same failure; under trio the request goes through httpx's transport, so the
same test checks that the adapter (asyncio, uvloop) agrees with it. Nothing
aiohttp-typed may escape: the httpx exception is what the caller catches.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time

import anyio
import httpx
import pytest

from albert import AsyncAlbert
from albert.exceptions import AlbertConnectionError, AlbertTimeoutError
from tests.transport.conftest import Serve, sdk_client
from tests.transport.servers import Peer, answering, ok

SESSION = json.dumps({"id": "s1", "name": "n", "sourceSessionId": "x"}).encode()


def _not_aiohttp(error: BaseException) -> None:
    """Fail if an aiohttp exception is what was raised (it may be the cause)."""
    assert not type(error).__module__.startswith("aiohttp"), type(error)
    assert isinstance(error, httpx.TransportError)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


async def test_nothing_listening_is_a_connect_error() -> None:
    async with sdk_client() as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://127.0.0.1:{_free_port()}/")
    _not_aiohttp(caught.value)


async def test_an_untrusted_certificate_is_a_connect_error(
    serve: Serve, server_tls: ssl.SSLContext
) -> None:
    server = serve(answering(lambda exchange: ok()), tls=server_tls)
    async with sdk_client() as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


async def test_a_server_that_closes_without_answering_is_a_remote_protocol_error(
    serve: Serve,
) -> None:
    server = serve(answering(lambda exchange: None))
    async with sdk_client() as http:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


async def test_a_reset_before_the_answer_is_a_read_error(serve: Serve) -> None:
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        peer.reset()

    server = serve(handler)
    async with sdk_client() as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
            await http.post(server.url, content=b"once")
    _not_aiohttp(caught.value)


async def test_a_body_cut_by_a_clean_close_is_a_remote_protocol_error(serve: Serve) -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort"
    server = serve(answering(lambda exchange: cut))
    async with sdk_client() as http:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


async def test_a_body_cut_by_a_reset_is_a_read_error(serve: Serve) -> None:
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await asyncio.sleep(0.05)
        peer.reset()

    server = serve(handler)
    async with sdk_client() as http:
        with pytest.raises(httpx.ReadError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


@pytest.mark.parametrize("pause", [0.0, 0.05])
async def test_a_close_delimited_body_cut_by_a_reset_is_an_error_not_a_short_body(
    serve: Serve, pause: float
) -> None:
    # No Content-Length: the body ends where the connection does. A reset there
    # is a failure, not the end of the body.
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial body")
        if pause:
            await asyncio.sleep(pause)
        peer.reset()

    server = serve(handler)
    async with sdk_client() as http:
        with pytest.raises(httpx.ReadError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


async def test_through_the_sdk_a_cut_body_is_a_connection_error(serve: Serve) -> None:
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"id": "s1", "na')
        await asyncio.sleep(0.05)
        peer.reset()

    server = serve(handler)
    async with AsyncAlbert(base_url=server.url, token="t", max_retries=0) as albert:
        with pytest.raises(AlbertConnectionError) as caught:
            await albert.chat_sessions.get_by_id(id="s1")
    assert isinstance(caught.value.__cause__, httpx.ReadError)


async def test_a_malformed_answer_is_a_remote_protocol_error(serve: Serve) -> None:
    server = serve(answering(lambda exchange: b"NOT HTTP AT ALL\r\n\r\n"))
    async with sdk_client() as http:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await http.get(server.url)
    _not_aiohttp(caught.value)


async def test_a_header_that_cannot_be_sent_is_a_local_protocol_error(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok()))
    async with sdk_client(base_url=server.url) as http:
        with pytest.raises(httpx.LocalProtocolError) as caught:
            await http.get("/", headers={"X-Split": "a\r\nX-Injected: b"})
        _not_aiohttp(caught.value)
        assert (await http.get("/")).status_code == 200
    assert len(server.exchanges) == 1


async def test_a_handshake_that_never_ends_is_a_connect_timeout(serve: Serve) -> None:
    async def silent(peer: Peer) -> None:
        await asyncio.sleep(30)  # plain TCP: it never answers the TLS hello

    server = serve(silent)
    started = time.monotonic()
    async with sdk_client() as http:
        with pytest.raises(httpx.ConnectTimeout) as caught:
            await http.get(
                f"https://localhost:{server.port}/", timeout=httpx.Timeout(5, connect=0.3)
            )
    assert time.monotonic() - started < 3
    _not_aiohttp(caught.value)


async def test_a_slow_answer_is_a_read_timeout_and_its_connection_is_not_reused(
    serve: Serve,
) -> None:
    async def handler(peer: Peer) -> None:
        while (exchange := await peer.read_request()) is not None:
            if exchange.request_line.startswith("GET /slow"):
                await asyncio.sleep(0.5)
                await peer.send(ok(b"late"))
            else:
                await peer.send(ok(b"now"))

    server = serve(handler)
    async with sdk_client(base_url=server.url) as http:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await http.get("/slow", timeout=httpx.Timeout(5, read=0.2))
        _not_aiohttp(caught.value)
        await anyio.sleep(0.5)  # the late answer arrives on the first connection
        assert (await http.get("/fast")).content == b"now"
    assert server.connections == 2


async def test_a_body_that_stalls_is_a_read_timeout(serve: Serve) -> None:
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
        await asyncio.sleep(30)

    server = serve(handler)
    async with sdk_client() as http:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await http.get(server.url, timeout=httpx.Timeout(5, read=0.2))
    _not_aiohttp(caught.value)


@pytest.mark.parametrize("waiting", [False, True], ids=["next-read", "read-waiting"])
async def test_a_body_read_while_the_client_closes_is_a_read_error(
    serve: Serve, waiting: bool
) -> None:
    # A service shutting down closes its client while a task still streams an
    # answer: the task fails at once (under aiohttp's session close, a read
    # waiting went on for ever, its read timeout gone with the connection, and
    # the next read raised a bare RuntimeError).
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
        await asyncio.sleep(30)

    server = serve(handler)
    http = sdk_client(base_url=server.url)
    with anyio.fail_after(5):
        async with http.stream("GET", "/", timeout=httpx.Timeout(10)) as response:
            chunks = response.aiter_raw()
            assert await chunks.__anext__() == b"some"
            async with anyio.create_task_group() as group:
                if waiting:
                    group.start_soon(http.aclose)  # once this task waits for the body
                else:
                    await http.aclose()
                with pytest.raises(httpx.ReadError) as caught:
                    await chunks.__anext__()
    _not_aiohttp(caught.value)


#: httpcore (under trio) leaves httpx's body generator unfinished after a failed
#: write, and trio warns when it is collected: not the adapter's doing.
_HTTPCORE_LEAVES_THE_BODY = pytest.mark.filterwarnings(
    "ignore:Async generator 'httpx._content:ResourceWarning"
)


@_HTTPCORE_LEAVES_THE_BODY
@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "stream"])
async def test_a_server_that_does_not_read_the_body_is_a_write_timeout(
    serve: Serve, streamed: bool
) -> None:
    async def deaf(peer: Peer) -> None:
        await peer.read_request(body=False)
        await asyncio.sleep(30)

    server = serve(deaf)
    body = b"z" * 50_000_000  # far more than the socket buffers take

    async def pieces():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 1_000_000):
            yield body[start : start + 1_000_000]

    started = time.monotonic()
    async with sdk_client() as http:
        with pytest.raises(httpx.WriteTimeout) as caught:
            await http.post(
                server.url,
                content=pieces() if streamed else body,
                timeout=httpx.Timeout(5, write=0.3),
            )
    assert time.monotonic() - started < 4
    _not_aiohttp(caught.value)


@_HTTPCORE_LEAVES_THE_BODY
async def test_a_write_timeout_does_not_swallow_a_cancellation(serve: Serve) -> None:
    async def deaf(peer: Peer) -> None:
        await peer.read_request(body=False)
        await asyncio.sleep(30)

    server = serve(deaf)
    async with sdk_client() as http:
        with anyio.move_on_after(0.3) as scope:
            await http.post(
                server.url, content=b"z" * 50_000_000, timeout=httpx.Timeout(5, write=2)
            )
    assert scope.cancelled_caught


async def test_a_full_pool_is_a_pool_timeout(serve: Serve) -> None:
    release = anyio.Event()

    async def handler(peer: Peer) -> None:
        while (exchange := await peer.read_request()) is not None:
            if exchange.request_line.startswith("GET /held"):
                await asyncio.sleep(0.6)
            await peer.send(ok())

    server = serve(handler)
    async with sdk_client(httpx.Limits(max_connections=1), base_url=server.url) as http:
        async with anyio.create_task_group() as group:
            group.start_soon(http.get, "/held")
            await anyio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout) as caught:
                await http.get("/waits", timeout=httpx.Timeout(5, pool=0.1))
            _not_aiohttp(caught.value)
            release.set()
        assert (await http.get("/after")).status_code == 200
    assert [e.request_line for e in server.exchanges] == [
        "GET /held HTTP/1.1",
        "GET /after HTTP/1.1",
    ]


async def test_through_the_sdk_timeouts_and_refusals_keep_their_meaning(serve: Serve) -> None:
    async def silent(peer: Peer) -> None:
        await peer.read_request()
        await asyncio.sleep(30)

    server = serve(silent)
    async with AsyncAlbert(
        base_url=server.url, token="t", max_retries=0, timeout=httpx.Timeout(5, read=0.2)
    ) as albert:
        with pytest.raises(AlbertTimeoutError) as timed_out:
            await albert.chat_sessions.get_by_id(id="s1")
    assert isinstance(timed_out.value.__cause__, httpx.ReadTimeout)
    async with AsyncAlbert(
        base_url=f"http://127.0.0.1:{_free_port()}", token="t", max_retries=0
    ) as albert:
        with pytest.raises(AlbertConnectionError) as refused:
            await albert.chat_sessions.get_by_id(id="s1")
    assert isinstance(refused.value.__cause__, httpx.ConnectError)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the SDK's retry waits instead of sleeping them."""
    from albert._backends import async_primitives

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(async_primitives, "sleep", record)
    return waits


@pytest.mark.parametrize(
    ("method", "attempts"), [("GET", 2), ("POST", 1)], ids=["get-retried", "post-not-retried"]
)
async def test_the_retry_table_sees_a_dropped_connection_as_possibly_applied(
    serve: Serve, no_backoff: list[float], method: str, attempts: int
) -> None:
    # The server reads the request, then resets: it may have acted on it, so a
    # POST is not sent again; a GET is.
    async def handler(peer: Peer) -> None:
        exchange = await peer.read_request()
        if exchange is not None and peer.number == 1:
            peer.reset()
            return
        await peer.send(ok(SESSION))

    server = serve(handler)
    async with AsyncAlbert(base_url=server.url, token="t", max_retries=2) as albert:
        send = albert.session.get if method == "GET" else albert.session.post
        if attempts == 2:
            assert (await send("/api/v3/chats/sessions/s1")).status_code == 200
        else:
            with pytest.raises(AlbertConnectionError):
                await send("/api/v3/chats/sessions/s1")
    assert len(server.exchanges) == attempts


async def test_the_retry_table_retries_a_refused_post(no_backoff: list[float]) -> None:
    # Nothing was sent: even a POST is tried again.
    async with AsyncAlbert(
        base_url=f"http://127.0.0.1:{_free_port()}", token="t", max_retries=2
    ) as albert:
        with pytest.raises(AlbertConnectionError) as caught:
            await albert.session.post("/api/v3/chats/sessions", json={})
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(no_backoff) == 2


async def test_a_delete_dropped_after_it_was_sent_is_retried_by_the_sdk_not_by_aiohttp(
    serve: Serve, no_backoff: list[float]
) -> None:
    # The server deletes, then drops the connection before answering; the
    # retry finds nothing to delete. The SDK knows the first attempt may have
    # applied and takes that 404 as done; a retry made below it (aiohttp
    # resends idempotent requests by itself) would surface as NotFoundError.
    async def handler(peer: Peer) -> None:
        exchange = await peer.read_request()
        if exchange is None:
            return
        if peer.number == 1:
            peer.reset()
            return
        await peer.send(ok(b'{"detail": "not found"}', status="404 Not Found"))

    server = serve(handler)
    async with AsyncAlbert(base_url=server.url, token="t", max_retries=2) as albert:
        response = await albert.session.delete("/api/v3/chats/sessions/s1")
    assert response.status_code == 404
    assert len(server.exchanges) == 2
    assert len(no_backoff) == 1  # the SDK waited once before its retry


async def test_a_scheme_other_than_http_is_an_unsupported_protocol() -> None:
    async with sdk_client() as http:
        with pytest.raises(httpx.UnsupportedProtocol) as caught:
            await http.get("ftp://127.0.0.1/file")
    _not_aiohttp(caught.value)
