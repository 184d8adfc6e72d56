"""The SDK's default async transport against loopback servers: what is sent, what comes back.

On asyncio and uvloop requests go through aiohttp (`AiohttpTransport`); under
trio through httpx's own transport. The same assertions hold for both: the
adapter must behave as httpx's transport does.
"""

from __future__ import annotations

import gzip
import json
import ssl
import threading

import anyio
import httpx
import pytest

from albert import AsyncAlbert
from albert._transports.aiohttp_transport import AiohttpTransport
from tests.transport.conftest import Serve, sdk_client
from tests.transport.servers import Exchange, Peer, answering, ok


async def test_keeps_a_connection_alive_across_requests(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok(b'{"n": 1}')))
    async with sdk_client(base_url=server.url) as http:
        for _ in range(3):
            assert (await http.get("/a?x=1&y=%2F")).json() == {"n": 1}
    assert server.connections == 1
    assert [e.request_line for e in server.exchanges] == ["GET /a?x=1&y=%2F HTTP/1.1"] * 3


async def test_sends_the_path_headers_and_body_as_httpx_built_them(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok()))
    async with sdk_client(base_url=server.url) as http:
        await http.post("/p/a%20b/%7E", json={"a": "é"}, headers={"X-Tag": "t", "X-Many": "1"})
    [exchange] = server.exchanges
    assert exchange.request_line == "POST /p/a%20b/%7E HTTP/1.1"
    assert exchange.body == '{"a":"é"}'.encode()
    lines = exchange.head.split(b"\r\n")[1:]
    assert lines[0] == f"Host: localhost:{server.port}".encode()
    assert b"X-Tag: t" in lines
    assert b"Content-Type: application/json" in lines
    assert b"Content-Length: 10" in lines
    names = [line.split(b":")[0].lower() for line in lines]
    assert len(names) == len(set(names))  # aiohttp added nothing of its own


async def test_adds_no_header_httpx_left_out(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok()))
    async with sdk_client(base_url=server.url) as http:
        request = http.build_request("POST", "/", content=b"raw")
        for name in ("User-Agent", "Accept", "Accept-Encoding"):
            del request.headers[name]
        await http.send(request)
    [exchange] = server.exchanges
    for name in ("User-Agent", "Accept", "Accept-Encoding", "Content-Type"):
        assert exchange.header(name) is None


async def test_streams_a_request_body_of_unknown_length(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok()))

    async def pieces():  # type: ignore[no-untyped-def]
        for piece in (b"one ", b"", b"two ", b"three"):
            yield piece

    async with sdk_client(base_url=server.url) as http:
        await http.post("/", content=pieces())
        await http.put("/big", content=b"x" * 3_000_000)  # more than the socket buffers hold
    streamed, big = server.exchanges
    assert streamed.header("Transfer-Encoding") == "chunked"
    assert streamed.body == b"one two three"
    assert big.header("Content-Length") == "3000000"
    assert big.body == b"x" * 3_000_000


async def test_reads_chunked_and_close_delimited_bodies(serve: Serve) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"

    def script(exchange: Exchange) -> bytes:
        return chunked if exchange.request_line.startswith("GET /chunked") else until_close

    server = serve(answering(script))
    async with sdk_client(base_url=server.url) as http:
        assert (await http.get("/chunked")).content == b"abcde"
        assert (await http.get("/chunked")).content == b"abcde"
        assert (await http.get("/close")).text == "until the end"
        assert (await http.get("/close")).text == "until the end"
    assert server.connections == 2  # kept alive until the first close-delimited answer


async def test_head_and_no_content_have_no_body(serve: Serve) -> None:
    def script(exchange: Exchange) -> bytes:
        if exchange.request_line.startswith("HEAD"):
            return b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    server = serve(answering(script))
    async with sdk_client(base_url=server.url) as http:
        head = await http.head("/")
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "99")
        gone = await http.delete("/")
        assert (gone.status_code, gone.content) == (204, b"")
    assert server.connections == 1


async def test_reports_status_reason_version_and_repeated_headers(serve: Serve) -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 418 I'm a teapot\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"X-Case: Kept\r\nContent-Length: 3\r\n\r\ntea"
    )
    server = serve(answering(lambda exchange: answer))
    async with sdk_client(base_url=server.url) as http:
        response = await http.post("/", content=b"x")
        again = await http.get("/")  # httpx, not aiohttp, keeps the cookies
    assert (response.status_code, response.content) == (418, b"tea")
    assert response.reason_phrase == "I'm a teapot"
    assert response.http_version == "HTTP/1.1"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers.raw[2] == (b"X-Case", b"Kept")
    assert again.request.headers["cookie"] == "a=1; b=2"


async def test_leaves_content_decoding_to_httpx(serve: Serve) -> None:
    packed = gzip.compress(b'{"big": true}')
    server = serve(answering(lambda exchange: ok(packed, "Content-Encoding: gzip")))
    async with sdk_client(base_url=server.url) as http:
        assert (await http.get("/")).json() == {"big": True}
        async with http.stream("GET", "/") as response:
            assert b"".join([chunk async for chunk in response.aiter_raw()]) == packed


async def test_follows_no_redirect_of_its_own(serve: Serve) -> None:
    server = serve(answering(lambda exchange: ok(b"", "Location: /elsewhere", status="302 Found")))
    async with sdk_client(base_url=server.url) as http:
        response = await http.get("/")
    assert response.status_code == 302
    assert len(server.exchanges) == 1


async def test_streams_a_response_and_pauses_reading_while_it_is_not_consumed(
    serve: Serve,
) -> None:
    size = 64_000_000
    done = threading.Event()  # set in the server's thread

    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok(b"b" * size))
        done.set()

    server = serve(handler)
    async with sdk_client(base_url=server.url) as http, http.stream("GET", "/") as response:
        chunks = response.aiter_raw()
        received = len(await chunks.__anext__())
        await anyio.sleep(0.5)
        assert not done.is_set()  # the socket buffers filled up: the server waits
        async for chunk in chunks:
            received += len(chunk)
    assert received == size
    # The server's drain returns a loop turn after the client has read the end.
    assert await anyio.to_thread.run_sync(done.wait, 2)


async def test_an_idle_connection_the_server_closed_is_replaced(serve: Serve) -> None:
    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok(b"fine"))
        peer.writer.close()  # the server's idle timeout, at once

    server = serve(handler)
    async with sdk_client(base_url=server.url) as http:
        for _ in range(3):
            assert (await http.get("/")).content == b"fine"
            await anyio.sleep(0.05)
    assert server.connections == 3


async def test_the_sdk_sends_through_it(serve: Serve, anyio_backend: object) -> None:
    session = {"id": "s1", "name": "n", "sourceSessionId": "x"}
    server = serve(
        answering(
            lambda exchange: ok(json.dumps(session).encode(), "Content-Type: application/json")
        )
    )
    async with AsyncAlbert(base_url=server.url, token="secret-token", max_retries=0) as albert:
        assert isinstance(albert.session.http_client._transport, AiohttpTransport)
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"
        # On asyncio and uvloop through aiohttp (a session opened for the loop),
        # under trio through httpx's own transport.
        opened = albert.session.http_client._transport._pools  # type: ignore[attr-defined]
        assert bool(opened) is (anyio_backend != "trio")
    assert server.connections == 1
    assert server.exchanges[0].header("Authorization") == "Bearer secret-token"


async def test_httpx_transport_opts_out(serve: Serve) -> None:
    session = {"id": "s1", "name": "n", "sourceSessionId": "x"}
    server = serve(answering(lambda exchange: ok(json.dumps(session).encode())))
    async with AsyncAlbert(base_url=server.url, token="t", httpx_transport=True) as albert:
        assert type(albert.session.http_client._transport) is httpx.AsyncHTTPTransport
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"


async def test_https_with_sni_and_a_verified_certificate(
    serve: Serve, server_tls: ssl.SSLContext, trusted_ca: object
) -> None:
    server = serve(answering(lambda exchange: ok(b"secret")), tls=server_tls)
    async with sdk_client(base_url=server.url) as http:  # trusts SSL_CERT_FILE, as httpx does
        assert (await http.get("/")).content == b"secret"
        assert (await http.get("/")).content == b"secret"
        # By address, naming the certificate's host for SNI and verification:
        by_address = f"https://127.0.0.1:{server.port}/"
        response = await http.get(by_address, extensions={"sni_hostname": "localhost"})
        assert response.content == b"secret"
    assert server.connections == 2


async def test_https_needs_a_trusted_certificate(serve: Serve, server_tls: ssl.SSLContext) -> None:
    server = serve(answering(lambda exchange: ok(b"secret")), tls=server_tls)
    async with sdk_client(base_url=server.url) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")
    assert server.exchanges == []


async def test_a_sni_hostname_the_certificate_does_not_name_fails(
    serve: Serve, server_tls: ssl.SSLContext, trusted_ca: object
) -> None:
    server = serve(answering(lambda exchange: ok(b"secret")), tls=server_tls)
    async with sdk_client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(server.url, extensions={"sni_hostname": "elsewhere.test"})
