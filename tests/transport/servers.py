"""Loopback servers for the transport tests: asyncio servers in a thread, scripted by each test.

Each server runs its own event loop in a thread, so a test client may run on
asyncio, uvloop or trio. A handler serves one accepted connection through a
`Peer`, which reads requests and writes raw bytes, so a test decides every
byte the client sees: well-formed answers, cut bodies, resets, silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Exchange", "LoopbackServer", "Peer", "Script", "answering", "ok"]


@dataclass
class Exchange:
    """One request as the server read it."""

    connection: int
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode()
        return None


def ok(body: bytes = b"{}", *extra: str, status: str = "200 OK") -> bytes:
    """Return a complete HTTP/1.1 answer with a Content-Length."""
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Peer:
    """The server's side of one accepted connection."""

    def __init__(
        self,
        server: LoopbackServer,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.number = number
        self.reader = reader
        self.writer = writer

    async def read_request(self, *, body: bool = True) -> Exchange | None:
        """Read one request (its body too, unless ``body`` is false); None at the end of input."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        exchange = Exchange(self.number, head[:-4], b"")
        length = exchange.header("Content-Length")
        if body and length:
            exchange.body = await self.reader.readexactly(int(length))
        elif body and (exchange.header("Transfer-Encoding") or "").lower() == "chunked":
            exchange.body = await self._read_chunked()
        self.server.record(exchange)
        return exchange

    async def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if not size:
                return body
            body += chunk[:-2]

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def reset(self) -> None:
        """Close with a TCP reset (RST), not a clean end of stream."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Handler = Callable[[Peer], Awaitable[None]]
#: What a scripted server answers to a request: bytes, or None to close at once.
Script = Callable[[Exchange], "bytes | None"]


def answering(script: Script) -> Handler:
    """Return a handler answering each request of a connection with ``script(request)``."""

    async def handler(peer: Peer) -> None:
        while (exchange := await peer.read_request()) is not None:
            answer = script(exchange)
            if answer is None:
                return
            await peer.send(answer)
            if b"connection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                return

    return handler


@dataclass
class LoopbackServer:
    """An asyncio server on 127.0.0.1 in a thread of its own, serving with ``handler``."""

    handler: Handler
    tls: ssl.SSLContext | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def start(self) -> LoopbackServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, context: None)  # failed handshakes
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait()
        return self

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://localhost:{self.port}"

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        )
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(server.wait_closed())
        loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
            number = self.connections
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        self._writers.add(writer)
        try:
            await self.handler(Peer(self, number, reader, writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            with self._lock:
                self.open_now -= 1
            writer.transport.abort()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
