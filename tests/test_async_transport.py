"""`AsyncioTransport`, the async client's HTTP/1.1 transport, against a scripted socket server.

The server runs in a thread on a real loopback socket, so the same tests run
the transport under asyncio and its fallback (httpx's own transport) under
trio. Each test scripts what the server answers, byte for byte, and asserts
what the client sees and what reached the server.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio
import httpx
import pytest
import respx

from albert import Albert, AsyncAlbert
from albert._backends.async_transport import AsyncioTransport

pytestmark = pytest.mark.filterwarnings("error")


@dataclass
class Exchange:
    """One request as the server read it."""

    connection: int
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()


#: What the server does with a request: the bytes to answer, or None to close at once.
Script = Callable[[Exchange], "bytes | None"]


def ok(body: bytes = b"{}", *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class ScriptedServer:
    """A blocking HTTP/1.1 server in a thread; `script` answers each request."""

    script: Script
    tls: ssl.SSLContext | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sockets: list[socket.socket] = field(default_factory=list)
    read_bodies: bool = True
    sent_everything: threading.Event = field(default_factory=threading.Event)

    def close_client_sockets(self) -> None:
        with self._lock:
            for sock in self._sockets:
                sock.shutdown(socket.SHUT_RDWR)

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://localhost:{self.port}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                number = self.connections
                self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        with self._lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._sockets.append(sock)
            self._exchanges(sock, number)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open_now -= 1
            sock.close()

    def _exchanges(self, sock: socket.socket, number: int) -> None:
        buffer = b""
        while not self._stop.is_set():
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while self.read_bodies and len(buffer) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            exchange = Exchange(number, head, buffer[:length])
            buffer = buffer[length:]
            with self._lock:
                self.exchanges.append(exchange)
            answer = self.script(exchange)
            if answer is None:
                return
            sock.sendall(answer)
            self.sent_everything.set()
            if b"connection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                return


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        server = ScriptedServer(script, tls)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client(
    server: ScriptedServer, limits: httpx.Limits | None = None, **kwargs: object
) -> httpx.AsyncClient:
    transport = AsyncioTransport(limits=limits, **kwargs)  # type: ignore[arg-type]
    return httpx.AsyncClient(base_url=server.url, transport=transport)


async def test_keeps_a_connection_alive_across_requests(serve) -> None:
    server = serve(lambda exchange: ok(b'{"n": 1}'))
    async with client(server) as http:
        for _ in range(3):
            response = await http.get("/a?x=1")
            assert response.json() == {"n": 1}
    assert server.connections == 1
    assert [e.request_line for e in server.exchanges] == ["GET /a?x=1 HTTP/1.1"] * 3


async def test_sends_the_body_and_headers(serve) -> None:
    server = serve(lambda exchange: ok())
    big = b"x" * 3_000_000  # more than a socket buffer: the transport waits to write
    async with client(server) as http:
        await http.post("/p", json={"a": "é"}, headers={"X-Tag": "t"})
        await http.put("/big", content=big)
    first, second = server.exchanges
    assert first.request_line == "POST /p HTTP/1.1"
    assert first.body == '{"a":"é"}'.encode()
    assert b"\r\nX-Tag: t" in first.head
    assert b"\r\nHost: localhost:" in first.head
    assert second.body == big


async def test_reads_a_chunked_body(serve) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    server = serve(lambda exchange: chunked)
    async with client(server) as http:
        assert (await http.get("/")).content == b"abcde"
        assert (await http.get("/")).content == b"abcde"
    assert server.connections == 1


async def test_reads_a_body_ended_by_closing_and_does_not_reuse_the_connection(serve) -> None:
    server = serve(lambda exchange: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
    async with client(server) as http:
        assert (await http.get("/")).text == "until the end"
        assert (await http.get("/")).text == "until the end"
    assert server.connections == 2


async def test_head_and_no_content_have_no_body(serve) -> None:
    def script(exchange: Exchange) -> bytes:
        if exchange.request_line.startswith("HEAD"):
            return b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    server = serve(script)
    async with client(server) as http:
        head = await http.head("/")
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "99")
        gone = await http.delete("/")
        assert (gone.status_code, gone.content) == (204, b"")
    assert server.connections == 1


async def test_skips_an_informational_answer(serve) -> None:
    server = serve(lambda exchange: b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"done"))
    async with client(server) as http:
        response = await http.post("/", content=b"x")
    assert (response.status_code, response.content) == (200, b"done")
    assert response.reason_phrase == "OK"
    assert response.http_version == "HTTP/1.1"


async def test_decodes_gzip_as_httpx_does(serve) -> None:
    import gzip

    packed = gzip.compress(b'{"big": true}')
    server = serve(lambda exchange: ok(packed, "Content-Encoding: gzip"))
    async with client(server) as http:
        assert (await http.get("/")).json() == {"big": True}


async def test_an_idle_connection_the_server_closed_is_replaced(serve) -> None:
    server = serve(lambda exchange: ok(b"fine"))
    async with client(server) as http:
        assert (await http.get("/")).content == b"fine"
        server.close_client_sockets()  # the server's idle timeout, say
        await anyio.sleep(0.05)  # the loop runs: the close is seen before the next request
        assert (await http.get("/")).content == b"fine"
    assert server.connections == 2


async def test_a_server_that_closes_without_answering(serve) -> None:
    server = serve(lambda exchange: None)
    async with client(server) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await http.get("/")


async def test_an_answer_cut_short(serve) -> None:
    server = serve(
        lambda exchange: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort"
    )
    async with client(server) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_a_malformed_answer(serve) -> None:
    server = serve(lambda exchange: b"NOT HTTP AT ALL\r\n\r\n")
    async with client(server) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_nothing_listening_is_a_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_slow_answer_is_a_read_timeout_and_the_connection_is_not_reused(serve) -> None:
    release = threading.Event()

    def script(exchange: Exchange) -> bytes:
        if exchange.request_line.startswith("GET /slow"):
            release.wait(5)
        return ok(b"late" if exchange.request_line.startswith("GET /slow") else b"now")

    server = serve(script)
    async with client(server) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/slow", timeout=httpx.Timeout(5, read=0.2))
        release.set()
        # The late answer is still on the first connection: it must not be read as this one's.
        assert (await http.get("/fast")).content == b"now"
    assert server.connections == 2


async def test_the_pool_never_opens_more_than_max_connections(serve) -> None:
    server = serve(lambda exchange: ok(b"x"))
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with client(server, limits) as http, anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(http.get, "/")
    assert len(server.exchanges) == 20
    assert server.most_open <= 2
    assert server.connections <= 2


async def test_a_full_pool_times_out_after_its_pool_timeout(serve) -> None:
    release = threading.Event()
    server = serve(lambda exchange: (release.wait(5), ok())[1])
    limits = httpx.Limits(max_connections=1)
    async with client(server, limits) as http:
        async with anyio.create_task_group() as group:
            group.start_soon(http.get, "/held")
            await anyio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout):
                await http.get("/waits", timeout=httpx.Timeout(5, pool=0.1))
            release.set()
        assert (await http.get("/after")).status_code == 200
    assert [e.request_line for e in server.exchanges] == [
        "GET /held HTTP/1.1",
        "GET /after HTTP/1.1",
    ]


async def test_a_cancelled_request_frees_its_place_in_the_pool(serve) -> None:
    release = threading.Event()

    def script(exchange: Exchange) -> bytes:
        if exchange.request_line.startswith("GET /hang"):
            release.wait(5)
        return ok(b"served")

    server = serve(script)
    async with client(server, httpx.Limits(max_connections=1)) as http:
        with anyio.move_on_after(0.2):
            await http.get("/hang")
        release.set()
        assert (await http.get("/next", timeout=2)).content == b"served"
    assert server.connections == 2  # the cancelled exchange's connection was closed


async def test_a_body_left_unread_closes_its_connection(serve) -> None:
    server = serve(lambda exchange: ok(b"y" * 100_000))
    async with client(server, httpx.Limits(max_connections=1)) as http:
        async with http.stream("GET", "/") as response:
            assert response.status_code == 200
        assert len((await http.get("/")).content) == 100_000
    assert server.connections == 2


async def test_idle_connections_beyond_max_keepalive_are_closed(serve) -> None:
    release = threading.Barrier(3, timeout=5)
    server = serve(lambda exchange: (release.wait(), ok())[1])
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=1)
    async with client(server, limits) as http:
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(http.get, "/")
        await anyio.sleep(0.1)
        assert server.open_now == 1


async def test_an_idle_connection_older_than_keepalive_expiry_is_not_reused(serve) -> None:
    server = serve(lambda exchange: ok())
    async with client(server, httpx.Limits(keepalive_expiry=0.05)) as http:
        await http.get("/")
        await anyio.sleep(0.1)
        await http.get("/")
    assert server.connections == 2


def test_one_client_under_two_event_loops(serve) -> None:
    # A notebook running asyncio.run twice with one client: the second run must
    # not touch the connection the first loop left behind.
    server = serve(lambda exchange: ok(b"again"))
    http = client(server)

    async def get() -> bytes:
        return (await http.get("/")).content

    assert asyncio.run(get()) == b"again"
    assert asyncio.run(get()) == b"again"
    assert server.connections == 2
    time.sleep(0.1)
    assert server.open_now == 0  # each asyncio.run closed its loop's connection on the way out
    asyncio.run(http.aclose())


async def test_https_with_sni_and_a_verified_certificate(serve) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    server = serve(lambda exchange: ok(b"secret"), tls=server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    async with client(server, verify=trusting) as http:
        assert (await http.get("/")).content == b"secret"
        assert (await http.get("/")).content == b"secret"
    assert server.connections == 1
    async with client(server) as untrusting:
        with pytest.raises(httpx.ConnectError):
            await untrusting.get("/")


@respx.mock
async def test_respx_mocks_still_apply(serve) -> None:
    server = serve(lambda exchange: ok(b"real"))
    respx.get(f"{server.url}/mocked").mock(return_value=httpx.Response(200, content=b"mock"))
    async with client(server) as http:
        assert (await http.get("/mocked")).content == b"mock"
    assert server.exchanges == []


async def test_a_patched_httpx_transport_still_applies(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What pytest-httpx does: replace httpx's transport handler.
    async def canned(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"canned")

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", canned)
    server = serve(lambda exchange: ok(b"real"))
    async with client(server) as http:
        assert (await http.get("/")).content == b"canned"
    assert server.exchanges == []


async def test_the_sdk_sends_with_it(serve) -> None:
    session = {"id": "s1", "name": "n", "sourceSessionId": "x"}
    import json

    server = serve(
        lambda exchange: ok(json.dumps(session).encode(), "Content-Type: application/json")
    )
    async with AsyncAlbert(base_url=server.url, token="secret-token", max_retries=0) as albert:
        assert isinstance(albert.session.http_client._transport, AsyncioTransport)
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"
    assert server.connections == 1
    assert b"Authorization: Bearer secret-token" in server.exchanges[0].head


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # httpcore differs here
async def test_an_answer_sent_before_the_whole_body_is_still_returned(serve) -> None:
    # A proxy refusing a large body answers at once and stops reading.
    def script(exchange: Exchange) -> bytes:
        return b"HTTP/1.1 413 Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large"

    server = serve(script)
    server.read_bodies = False
    async with client(server) as http:
        response = await http.put("/", content=b"z" * 20_000_000)
    assert (response.status_code, response.content) == (413, b"too large")


async def test_an_idle_connection_closed_while_the_loop_was_busy_is_not_reused(serve) -> None:
    server = serve(lambda exchange: ok(b"fresh"))
    async with client(server) as http:
        assert (await http.get("/")).content == b"fresh"
        server.close_client_sockets()
        time.sleep(0.1)  # noqa: ASYNC251 - the close must arrive while this task holds the loop
        assert (await http.get("/")).content == b"fresh"
    assert server.connections == 2


async def test_a_header_h11_refuses_is_an_httpx_error(serve) -> None:
    server = serve(lambda exchange: ok())
    async with client(server) as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get("/", headers={"X-Bad": " padded "})
        assert (await http.get("/")).status_code == 200


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # httpcore differs here
async def test_a_protocol_switch_is_an_error_not_a_hang(serve) -> None:
    server = serve(lambda exchange: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")
    async with client(server) as http:
        with anyio.fail_after(5), pytest.raises(httpx.RemoteProtocolError):
            await http.get("/", headers={"Connection": "upgrade", "Upgrade": "x"})


async def test_reading_pauses_while_the_consumer_does_not_read(serve) -> None:
    size = 64_000_000
    server = serve(lambda exchange: ok(b"b" * size))
    async with client(server) as http, http.stream("GET", "/") as response:
        chunks = response.aiter_raw()
        await chunks.__anext__()
        await anyio.sleep(0.5)
        assert not server.sent_everything.is_set()  # the socket buffers filled up
        received = 0
        async for chunk in chunks:
            received += len(chunk)
    assert server.sent_everything.is_set()


async def test_closing_the_client_closes_a_response_still_open(serve) -> None:
    server = serve(lambda exchange: ok(b"c" * 1_000_000))
    http = client(server)
    response = await http.send(http.build_request("GET", "/"), stream=True)
    await http.aclose()
    with pytest.raises(httpx.HTTPError):
        await response.aread()
    await response.aclose()
    await anyio.sleep(0.1)
    assert server.open_now == 0


def test_two_live_event_loops_taking_turns(serve) -> None:
    server = serve(lambda exchange: ok(b"turn"))
    http = client(server)
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        for turn in range(6):
            loop = loops[turn % 2]
            assert loop.run_until_complete(http.get("/")).content == b"turn"
        assert server.connections == 2  # one per loop, each kept across the turns
    finally:
        for loop in loops:
            loop.run_until_complete(loop.shutdown_asyncgens())  # as asyncio.run ends
            loop.close()
    time.sleep(0.1)
    assert server.open_now == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_handshake_that_never_ends_is_a_connect_timeout(serve) -> None:
    server = serve(lambda exchange: ok())  # plain TCP: it never answers the TLS hello
    https = f"https://localhost:{server.port}/"
    async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get(https, timeout=httpx.Timeout(5, connect=0.2))
        assert http._transport._asyncio_pool._open == 0  # type: ignore[attr-defined]


@pytest.fixture
def proxy_env(serve, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    session = b'{"id": "s1", "name": "via proxy", "sourceSessionId": "x"}'
    proxy = serve(lambda exchange: ok(session, "Content-Type: application/json"))
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    return proxy


async def test_a_proxy_named_by_the_environment_is_used(proxy_env: ScriptedServer) -> None:
    async with AsyncAlbert(base_url="http://albert.invalid", token="t", max_retries=0) as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "via proxy"
    [exchange] = proxy_env.exchanges
    assert exchange.request_line == "GET http://albert.invalid/api/v3/chats/sessions/s1 HTTP/1.1"


def test_a_proxy_named_by_the_environment_is_used_sync(proxy_env: ScriptedServer) -> None:
    with Albert(base_url="http://albert.invalid", token="t", max_retries=0) as albert:
        assert albert.chat_sessions.get_by_id(id="s1").name == "via proxy"
    [exchange] = proxy_env.exchanges
    assert exchange.request_line == "GET http://albert.invalid/api/v3/chats/sessions/s1 HTTP/1.1"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_address_that_never_answers_does_not_use_up_the_connect_timeout(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A host with two addresses whose first drops packets (a broken IPv6 route):
    # the second is tried a quarter of a second later, not after the timeout.
    server = serve(lambda exchange: ok(b"second"))
    loop = asyncio.get_running_loop()
    tried: list[object] = []

    async def addresses(host: str, port: int, **kwargs: object) -> list[tuple]:
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 1, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port)),
        ]

    real_connect = loop.sock_connect

    async def sock_connect(sock: socket.socket, address: tuple) -> None:
        tried.append(address[0])
        if address[0] == "::1":
            await asyncio.sleep(30)  # dropped: never answers
        await real_connect(sock, address)

    monkeypatch.setattr(loop, "getaddrinfo", addresses)
    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with anyio.fail_after(3):
            response = await http.get(
                f"http://albert.test:{server.port}/", timeout=httpx.Timeout(10)
            )
    assert response.content == b"second"
    assert tried == ["::1", "127.0.0.1"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_every_address_refusing_is_one_connect_error_naming_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = []
    for _ in range(2):
        with socket.create_server(("127.0.0.1", 0)) as probe:
            ports.append(probe.getsockname()[1])
    loop = asyncio.get_running_loop()

    async def addresses(host: str, port: int, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p)) for p in ports]

    monkeypatch.setattr(loop, "getaddrinfo", addresses)
    async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get("http://albert.test/")
    message = str(caught.value)
    assert str(ports[0]) in message
    assert str(ports[1]) in message
    assert message.index(str(ports[0])) < message.index(str(ports[1]))  # in the order tried
    cause = caught.value.__cause__
    assert isinstance(cause, OSError)
    assert cause.errno == errno.ECONNREFUSED
