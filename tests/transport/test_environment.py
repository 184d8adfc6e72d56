"""What the environment says, honoured as httpx honours it: proxies and certificates.

A client given a transport no longer reads the environment's proxies in
httpx, so the SDK mounts them itself; these tests run a tiny proxy on
loopback and check that both clients go through it, or around it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from pathlib import Path

import pytest

from albert import Albert, AsyncAlbert
from albert.exceptions import AlbertConnectionError
from tests.transport.conftest import Serve
from tests.transport.servers import LoopbackServer, Peer, answering, ok

SESSION = {"id": "s1", "name": "via proxy", "sourceSessionId": "x"}
DIRECT = {"id": "s1", "name": "direct", "sourceSessionId": "x"}
PATH = "/api/v3/chats/sessions/s1"


def _answer(session: dict[str, str]) -> bytes:
    return ok(json.dumps(session).encode(), "Content-Type: application/json")


@pytest.fixture
def proxy(serve: Serve) -> LoopbackServer:
    """A forwarding proxy that answers every absolute-form request itself."""
    return serve(answering(lambda exchange: _answer(SESSION)))


@pytest.fixture
def tunnel(serve: Serve) -> LoopbackServer:
    """A CONNECT proxy: it opens a tunnel to the host asked for and relays bytes both ways."""

    async def relay(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            target.write(data)
            await target.drain()
        target.close()

    async def handler(peer: Peer) -> None:
        exchange = await peer.read_request()
        assert exchange is not None
        method, authority, _ = exchange.request_line.split(" ")
        assert method == "CONNECT"
        port = authority.rsplit(":", 1)[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
        await peer.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await asyncio.gather(relay(peer.reader, writer), relay(reader, peer.writer))
        finally:
            writer.transport.abort()

    return serve(handler)


async def test_the_async_client_goes_through_http_proxy(
    proxy: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    async with AsyncAlbert(base_url="http://albert.invalid", token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "via proxy"
    [exchange] = proxy.exchanges
    assert exchange.request_line == f"GET http://albert.invalid{PATH} HTTP/1.1"
    assert exchange.header("Authorization") == "Bearer t"


def test_the_sync_client_goes_through_http_proxy(
    proxy: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    with Albert(base_url="http://albert.invalid", token="t", max_retries=0) as albert:
        assert albert.chat_sessions.get_by_id(id="s1").name == "via proxy"
    [exchange] = proxy.exchanges
    assert exchange.request_line == f"GET http://albert.invalid{PATH} HTTP/1.1"


async def test_all_proxy_and_proxy_credentials(
    proxy: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", f"http://user:pass@127.0.0.1:{proxy.port}")
    async with AsyncAlbert(base_url="http://albert.invalid", token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "via proxy"
    [exchange] = proxy.exchanges
    assert exchange.header("Proxy-Authorization") == "Basic " + base64.b64encode(
        b"user:pass"
    ).decode("ascii")


async def test_no_proxy_goes_around_the_proxy(
    proxy: LoopbackServer, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = serve(answering(lambda exchange: _answer(DIRECT)))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "localhost")
    async with AsyncAlbert(base_url=direct.url, token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "direct"
    assert proxy.exchanges == []
    assert [e.request_line for e in direct.exchanges] == [f"GET {PATH} HTTP/1.1"]


async def test_https_goes_through_the_proxy_tunnel(
    tunnel: LoopbackServer,
    serve: Serve,
    server_tls: ssl.SSLContext,
    trusted_ca: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = serve(answering(lambda exchange: _answer(DIRECT)), tls=server_tls)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{tunnel.port}")
    async with AsyncAlbert(base_url=target.url, token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "direct"
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "direct"
    assert [e.request_line for e in tunnel.exchanges] == [
        f"CONNECT localhost:{target.port} HTTP/1.1"
    ]  # one tunnel, kept alive
    assert [e.request_line for e in target.exchanges] == [f"GET {PATH} HTTP/1.1"] * 2


async def test_ssl_cert_file_decides_which_servers_are_trusted(
    serve: Serve,
    server_tls: ssl.SSLContext,
    authority: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(answering(lambda exchange: _answer(DIRECT)), tls=server_tls)
    async with AsyncAlbert(base_url=server.url, token="t", max_retries=0) as albert:
        with pytest.raises(AlbertConnectionError):  # certifi's authorities do not know it
            await albert.chat_sessions.get_by_id(id="s1")
    bundle = tmp_path / "bundle.pem"
    authority.cert_pem.write_to_path(str(bundle))  # type: ignore[attr-defined]
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    async with AsyncAlbert(base_url=server.url, token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "direct"
