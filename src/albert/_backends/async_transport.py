"""The HTTP transport `AsyncAlbert` sends its requests with: HTTP/1.1 on asyncio's protocols.

httpx's default transport (httpcore over anyio) spends most of an API call's
client time in its own layers: a cancel scope per read and write, anyio's
stream wrappers, pool bookkeeping. `AsyncioTransport` keeps httpx's client
(URLs, headers, auth, hooks, response decoding) and h11's HTTP/1.1 state
machine, and replaces the layers between them with an `asyncio.Protocol` per
connection and a small pool. On the benchmark host a call then takes 0.7x the
time of raw httpx (``benchmarks/README.md``).

It is a subclass of `httpx.AsyncHTTPTransport` and hands a request to that
transport, unchanged, whenever it cannot or must not serve it itself: under an
event loop other than asyncio's (trio), and while a test library has replaced
httpx's or httpcore's request handler (respx, pytest-httpx), so that mocks
keep working as they do with plain httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any
from urllib.request import getproxies

import h11
import httpcore
import httpx

__all__ = ["AsyncioTransport", "pool_options"]

#: The longest response head h11 may wait for (as httpcore allows).
_MAX_HEAD_SIZE = 100 * 1024
_ORIGINAL_POOL_HANDLER = httpcore.AsyncConnectionPool.handle_async_request
_ORIGINAL_TRANSPORT_HANDLER = httpx.AsyncHTTPTransport.handle_async_request

#: The longest `aclose` waits for asyncio to let go of the sockets it closes.
_CLOSE_WAIT = 1.0
#: Bytes read ahead of the consumer before reading pauses (back-pressure).
_READ_AHEAD = 256 * 1024
#: How long an address may take to connect before the next one is tried too
#: (RFC 8305's recommended "Connection Attempt Delay", anyio's default).
_HAPPY_EYEBALLS_DELAY = 0.25

Origin = tuple[bytes, bytes, int]


def pool_options(limits: httpx.Limits) -> dict[str, Any]:
    """Return the arguments that give a client made by the SDK its connection pool.

    Parameters
    ----------
    limits : httpx.Limits
        The connection pool's limits.

    Returns
    -------
    dict[str, Any]
        ``transport=`` an `AsyncioTransport`; or, when the environment names a
        proxy (``HTTPS_PROXY`` and the like), ``limits=`` alone: httpx then
        builds its own transports, proxies included, and a client given a
        transport would ignore the environment's proxies.
    """
    if _environment_names_a_proxy():
        return {"limits": limits}
    return {"transport": AsyncioTransport(limits=limits)}


def _environment_names_a_proxy() -> bool:
    # What httpx reads with trust_env (the default); "no" alone (NO_PROXY) names none.
    return any(scheme != "no" for scheme in getproxies())


def _mocked() -> bool:
    """Whether a test library replaced httpcore's or httpx's request handler."""
    return (
        httpcore.AsyncConnectionPool.handle_async_request is not _ORIGINAL_POOL_HANDLER
        or httpx.AsyncHTTPTransport.handle_async_request is not _ORIGINAL_TRANSPORT_HANDLER
    )


async def _connected_socket(loop: asyncio.AbstractEventLoop, host: str, port: int) -> socket.socket:
    """Return a socket connected to one of ``host``'s addresses, trying them Happy Eyeballs' way.

    The addresses are tried in turn, families alternating (RFC 8305); one that
    has not answered within `_HAPPY_EYEBALLS_DELAY` gets company from the next,
    and the first to connect wins, as anyio (httpcore) connects: an address
    that drops packets (a broken IPv6 route) costs a quarter of a second, not
    the whole connect timeout.
    """
    addresses = _interleaved(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    errors: dict[int, OSError] = {}  # by the address's place in the order tried
    attempts: dict[asyncio.Task[socket.socket], int] = {}
    winner: socket.socket | None = None
    try:
        for place, address in enumerate(addresses):
            attempts[loop.create_task(_connect_to(loop, address))] = place
            winner = await _first_connected(attempts, errors, _HAPPY_EYEBALLS_DELAY)
            if winner is not None:
                return winner
        while winner is None and attempts:
            winner = await _first_connected(attempts, errors, None)
    finally:
        for attempt in attempts:  # still running: cancelled, closed if they connect all the same
            _abandon(attempt)
    if winner is not None:
        return winner
    if not errors:
        raise OSError(f"{host} has no address")
    failures = [errors[place] for place in sorted(errors)]
    if len(failures) == 1:
        raise failures[0]
    numbers = {failure.errno for failure in failures}
    message = f"no address of {host} accepted a connection: {failures}"
    if len(numbers) == 1 and None not in numbers:
        raise OSError(numbers.pop(), message) from failures[-1]
    raise OSError(message) from failures[-1]


def _interleaved(addresses: list[Any]) -> list[Any]:
    """Alternate address families, the first one first (RFC 8305, section 4)."""
    by_family: dict[int, list[Any]] = {}
    for address in addresses:
        by_family.setdefault(address[0], []).append(address)
    queues = list(by_family.values())
    ordered: list[Any] = []
    while queues:
        ordered += [queue.pop(0) for queue in queues]
        queues = [queue for queue in queues if queue]
    return ordered


async def _connect_to(loop: asyncio.AbstractEventLoop, address: Any) -> socket.socket:
    family, kind, protocol, _, target = address
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, target)
    except BaseException:
        sock.close()
        raise
    return sock


async def _first_connected(
    attempts: dict[asyncio.Task[socket.socket], int],
    errors: dict[int, OSError],
    delay: float | None,
) -> socket.socket | None:
    """Wait up to ``delay`` for one of ``attempts`` to end; return its socket, or None."""
    done, _ = await asyncio.wait(attempts, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    winner = None
    unexpected: BaseException | None = None
    for attempt in done:
        place = attempts.pop(attempt)
        if attempt.cancelled():
            continue
        error = attempt.exception()
        if isinstance(error, OSError):
            errors[place] = error  # this address failed: the next one is tried
        elif error is not None:
            unexpected = unexpected or error  # a bug, not a network failure: raised
        elif winner is None:
            winner = attempt.result()
        else:
            attempt.result().close()  # two connected at once: one is enough
    if unexpected is not None:
        if winner is not None:
            winner.close()
        raise unexpected
    return winner


async def _closed(connections: list[_Connection], loop: asyncio.AbstractEventLoop) -> None:
    """Wait until asyncio let go of these connections' sockets (one loop iteration after abort)."""
    pending = [c.closed for c in connections if c.loop is loop and not c.closed.done()]
    if pending:
        await asyncio.wait(pending, timeout=_CLOSE_WAIT)


async def _close_on_loop_shutdown(
    pool: _Pool, loop: asyncio.AbstractEventLoop
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        pool.forget_loop(loop)
        await pool.close_loop_connections(loop)


async def _connect_within(
    loop: asyncio.AbstractEventLoop, connecting: Awaitable[_Connection], timeout: float | None
) -> _Connection:
    """Await ``connecting``, cancelling it and raising `_Expired` after ``timeout`` seconds."""
    if timeout is None:
        return await connecting
    task = asyncio.ensure_future(connecting)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:  # the caller's cancellation, never the timer's
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise _Expired()
    return task.result()


def _abandon(task: asyncio.Future[_Connection] | asyncio.Future[socket.socket]) -> None:
    """Cancel a connect; if it connected all the same, close what it opened."""
    task.cancel()
    task.add_done_callback(_close_if_connected)


def _close_if_connected(
    task: asyncio.Future[_Connection] | asyncio.Future[socket.socket],
) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


def _has_data(sock: socket.socket) -> bool:
    """Whether ``sock`` has something to read (or its end), without reading it."""
    if hasattr(select, "poll"):  # select() fails on descriptors above 1023
        poll = select.poll()
        poll.register(sock, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


class _Expired(Exception):
    """A wait ran out of time (turned into the httpx timeout of its phase)."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


async def _wait(
    loop: asyncio.AbstractEventLoop,
    waiter: asyncio.Future[None],
    timeout: float | None,
    error: type[httpx.TimeoutException],
) -> None:
    """Wait for ``waiter``, raising ``error`` after ``timeout`` seconds."""
    if timeout is None:
        await waiter
        return
    expiry = loop.call_later(timeout, _expire, waiter)
    try:
        await waiter
    except _Expired:
        raise error(f"timed out after {timeout:g} s") from None
    finally:
        expiry.cancel()


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: bytes in and out through h11, one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: Origin) -> None:
        self.loop = loop
        self.origin = origin
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_SIZE)
        self.transport: asyncio.Transport | None = None
        self.sock: socket.socket | None = None
        self.idle_since = 0.0
        #: Whether the pool counts it among its open connections.
        self.counted = True
        #: Done once asyncio let go of the socket (`connection_lost`).
        self.closed: asyncio.Future[None] = loop.create_future()
        self._received = 0
        self._unread = 0
        self._reading_paused = False
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._lost = False
        self._eof = False
        self._error: BaseException | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        self._unread += len(data)
        self.h11.receive_data(data)
        if self._unread > _READ_AHEAD and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self._end_of_data()
        return False  # close our side as well

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._error = exc
        if not self.closed.done():
            self.closed.set_result(None)
        self._end_of_data()
        writable = self._writable
        if writable is not None and not writable.done():
            writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    @property
    def lost(self) -> bool:
        """Whether the connection was closed, by either side."""
        return self._lost

    def resume_reading(self) -> None:
        """Read again after back-pressure paused reading: the bytes read were consumed."""
        self._unread = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    def _end_of_data(self) -> None:
        if not self._eof:
            self._eof = True
            self.h11.receive_data(b"")
        self._wake_reader()

    def _wake_reader(self) -> None:
        readable = self._readable
        if readable is not None and not readable.done():
            readable.set_result(None)

    # the pool's questions

    def is_reusable(self, now: float, expiry: float | None) -> bool:
        """Whether this idle connection may carry another request."""
        if self._lost or self._eof or self.transport is None or self.transport.is_closing():
            return False
        if self.h11.their_state is not h11.IDLE or self.h11.our_state is not h11.IDLE:
            return False
        if self.h11.trailing_data[0] or (expiry is not None and now - self.idle_since >= expiry):
            return False
        # The loop may not have run since the server closed it (or sent a late
        # answer): an idle connection has nothing to read, so anything is a no.
        return self.sock is None or not _has_data(self.sock)

    def close(self) -> None:
        """Close the socket; anything still to be read from it is dropped."""
        self._lost = True
        if self.closed.done():  # asyncio already let go of the socket
            return
        if self.loop.is_closed():
            # Its loop closed without running our sentinel (see `_Pool._watch`).
            if self.sock is not None:
                self.sock.close()
        elif self.transport is not None:
            self.transport.abort()

    # one exchange

    async def send(self, request: httpx.Request, timeout: float | None) -> None:
        """Send ``request``'s head and body."""
        self._received = 0
        try:
            head = h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
            self._write(self.h11.send(head))
            async for chunk in request.stream:  # type: ignore[union-attr]
                if chunk:
                    self._write(self.h11.send(h11.Data(data=chunk)))
                    await self._drain(timeout)
            self._write(self.h11.send(h11.EndOfMessage()))
            await self._drain(timeout)
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        except httpx.WriteError:
            # The server may have answered before reading the whole request (a
            # 413, say) and closed: its answer is what the caller needs. As in
            # httpcore, reading the head then returns it, or says why there is none.
            pass

    def _write(self, data: bytes | None) -> None:
        if self._lost:
            raise httpx.WriteError(self._describe_loss("while the request was sent"))
        if data:
            assert self.transport is not None
            self.transport.write(data)

    async def _drain(self, timeout: float | None) -> None:
        writable = self._writable
        if writable is not None:
            await _wait(self.loop, writable, timeout, httpx.WriteTimeout)
        if self._lost:
            raise httpx.WriteError(self._describe_loss("while the request was sent"))

    async def next_event(self, timeout: float | None) -> Any:
        """Return h11's next event from the server, reading as much as it needs."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self._error is not None:
                    raise httpx.ReadError(self._describe_loss("while reading")) from exc
                if self._eof:
                    raise httpx.RemoteProtocolError(self.disconnect_message()) from exc
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is h11.PAUSED:  # a protocol switch (101, CONNECT): not HTTP any more
                raise httpx.RemoteProtocolError(
                    "the server switched protocols, which is not supported"
                )
            if event is not h11.NEED_DATA:
                return event
            self.resume_reading()
            self._readable = self.loop.create_future()
            try:
                await _wait(self.loop, self._readable, timeout, httpx.ReadTimeout)
            finally:
                self._readable = None

    async def receive_head(self, timeout: float | None) -> h11.Response:
        """Return the response's head, skipping informational (1xx) answers."""
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, h11.Response):
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(self.disconnect_message())

    def disconnect_message(self) -> str:
        """Describe a server that closed the connection before its answer ended."""
        if self._received == 0:
            return "Server disconnected without sending a response."
        return "Server disconnected before the end of the response."

    def _describe_loss(self, when: str) -> str:
        reason = f": {self._error}" if self._error is not None else ""
        return f"connection lost {when}{reason}"


class _Pool:
    """Open connections by origin, within `httpx.Limits`; idle ones are reused newest first."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        self._max_connections = limits.max_connections
        max_idle = limits.max_keepalive_connections
        self._max_idle: float = float("inf") if max_idle is None else max_idle
        self._expiry = limits.keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._in_use: set[_Connection] = set()
        self._last_loop: asyncio.AbstractEventLoop | None = None
        self._sentinels: dict[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = {}
        self._closed = False

    async def acquire(
        self, loop: asyncio.AbstractEventLoop, url: httpx.URL, timeouts: dict[str, Any]
    ) -> _Connection:
        """Return an idle connection to ``url``'s origin, or a new one."""
        origin: Origin = (url.raw_scheme, url.raw_host, url.port or 0)
        if loop is not self._last_loop:
            await self._watch(loop)
        deadline = None
        while True:
            if self._closed:
                raise httpx.PoolTimeout("the transport was closed while this request waited")
            connection = self._take_idle(origin, loop)
            if connection is not None:
                self._in_use.add(connection)
                return connection
            if self._max_connections is None or self._open < self._max_connections:
                break
            if self._close_one_idle() or self._reclaim_from_closed_loops():
                continue
            pool_timeout = timeouts.get("pool")
            if pool_timeout is not None and deadline is None:
                deadline = loop.time() + pool_timeout
            await self._wait_for_room(loop, None if deadline is None else deadline - loop.time())
        self._open += 1
        try:
            connection = await self._connect(loop, url, origin, timeouts.get("connect"))
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise
        if self._closed:
            self._drop(connection)
            raise httpx.ConnectError("the transport was closed while connecting")
        self._in_use.add(connection)
        return connection

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        # A suspended async generator is closed by the loop's shutdown_asyncgens
        # (asyncio.run does it) while the loop still runs: the connections opened
        # on it are closed then, not left for the garbage collector to warn of.
        # One per loop, kept while the loop lives: the loop holds it weakly, and a
        # sentinel collected early would close that loop's connections at once.
        self._last_loop = loop
        for closed in [other for other in self._sentinels if other.is_closed()]:
            del self._sentinels[closed]
        if loop not in self._sentinels:
            sentinel = _close_on_loop_shutdown(self, loop)
            await sentinel.__anext__()
            self._sentinels[loop] = sentinel

    def forget_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop watching ``loop``, whose sentinel is being closed."""
        self._sentinels.pop(loop, None)
        if self._last_loop is loop:
            self._last_loop = None

    async def close_loop_connections(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the connections opened on ``loop``, which is shutting down."""
        closing = [c for c in self._in_use if c.loop is loop]
        for idle in self._idle.values():
            closing += [c for c in idle if c.loop is loop]
            idle[:] = [c for c in idle if c.loop is not loop]
        self._idle_count = sum(len(idle) for idle in self._idle.values())
        for connection in closing:
            self._drop(connection)
        await _closed(closing, loop)

    def _take_idle(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        for index in range(len(idle) - 1, -1, -1):  # newest first
            connection = idle[index]
            if connection.loop is not loop and not connection.loop.is_closed():
                continue  # another live loop's (loops taking turns on one thread)
            del idle[index]
            self._idle_count -= 1
            if connection.loop is loop and connection.is_reusable(now, self._expiry):
                return connection
            self._drop(connection)
        return None

    def _close_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self._idle_count -= 1
                self._drop(idle.pop(0))
                return True
        return False

    def _reclaim_from_closed_loops(self) -> bool:
        # In use on a loop closed without shutting down its async generators
        # (our sentinel's cue): nobody will give these back.
        dead = [connection for connection in self._in_use if connection.loop.is_closed()]
        for connection in dead:
            self._drop(connection)
        return bool(dead)

    async def _wait_for_room(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            if timeout is not None and timeout <= 0:
                raise httpx.PoolTimeout("timed out waiting for a connection from the pool")
            await _wait(loop, waiter, timeout, httpx.PoolTimeout)
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._wake_one()  # this waiter was given the room: pass it on
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)
                return

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, url: httpx.URL, origin: Origin, timeout: float | None
    ) -> _Connection:
        scheme = origin[0]
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme}://'."
            )
        tls = scheme == b"https"
        host = url.raw_host.decode("ascii")  # IDNA-encoded by httpx, as httpcore connects
        port = url.port or (443 if tls else 80)
        try:
            connecting = self._open_connection(loop, origin, host, port, tls)
            return await _connect_within(loop, connecting, timeout)
        except _Expired:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"could not connect to {host}:{port}: {exc}") from exc

    async def _open_connection(
        self, loop: asyncio.AbstractEventLoop, origin: Origin, host: str, port: int, tls: bool
    ) -> _Connection:
        # The socket is opened here, not by create_connection, so that the
        # connection keeps it and can close it even after its loop closed.
        sock = await _connected_socket(loop, host, port)
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(loop, origin),
                sock=sock,
                ssl=self._ssl_context if tls else None,
                server_hostname=host if tls else None,
            )
        except BaseException:
            sock.close()
            raise
        connection.sock = sock
        return connection  # asyncio turned Nagle's algorithm off (TCP_NODELAY)

    def release(self, connection: _Connection) -> None:
        """Give back a connection whose exchange ended: kept idle if it can be reused."""
        state = connection.h11
        if (
            not self._closed
            and not connection.lost
            and state.our_state is h11.DONE
            and state.their_state is h11.DONE
            and self._idle_count < self._max_idle
        ):
            self._in_use.discard(connection)
            connection.resume_reading()
            state.start_next_cycle()
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, []).append(connection)
            self._idle_count += 1
            self._wake_one()
            return
        self.discard(connection)

    def discard(self, connection: _Connection) -> None:
        """Close a connection that will not be reused, making room for another."""
        self._drop(connection)
        self._wake_one()

    def _drop(self, connection: _Connection) -> None:
        self._in_use.discard(connection)
        connection.close()
        if connection.counted:  # closing the pool drops connections still in use once
            connection.counted = False
            self._open -= 1

    def close(self) -> list[_Connection]:
        """Close every connection, idle or in use, and return them."""
        self._closed = True
        closing = [connection for idle in self._idle.values() for connection in idle]
        closing += self._in_use
        for connection in closing:
            self._drop(connection)
        self._idle.clear()
        self._idle_count = 0
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)  # it finds the pool closed
        self._sentinels.clear()  # (their loops are not kept alive by a closed pool)
        self._last_loop = None
        return closing


class _ResponseStream(httpx.AsyncByteStream):
    """A response body read from its connection as it is iterated."""

    def __init__(self, pool: _Pool, connection: _Connection, timeout: float | None) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        try:
            while True:
                event = await connection.next_event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError(connection.disconnect_message())
        except BaseException:
            self._end(reuse=False)
            raise
        self._end(reuse=True)

    def _end(self, *, reuse: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if reuse:
            self._pool.release(connection)
        else:
            self._pool.discard(connection)

    async def aclose(self) -> None:
        self._end(reuse=False)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """HTTP/1.1 over asyncio protocols, with httpx's default transport as fallback.

    Parameters
    ----------
    limits : httpx.Limits, optional
        The connection pool's limits: connections open at once, idle ones kept,
        and how long an idle one is kept.
    verify : ssl.SSLContext | str | bool, optional
        How to verify servers' certificates, as httpx takes it.
    cert : str | tuple | None, optional
        A client certificate, as httpx takes it.
    trust_env : bool, optional
        Whether ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` apply.

    Notes
    -----
    HTTP/1.1 only, and no proxy: `pool_options` leaves a client to httpx's
    own transports when the environment names a proxy. The fallback (httpx's
    own transport) shares the same TLS settings. Like httpx's, a transport
    serves one event loop at a time: loops taking turns on one thread keep
    their own connections, but a client shared by loops running at once in
    several threads is not supported.
    """

    def __init__(
        self,
        limits: httpx.Limits | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        trust_env: bool = True,
    ) -> None:
        limits = httpx.Limits() if limits is None else limits
        ssl_context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        ssl_context.set_alpn_protocols(["http/1.1"])
        super().__init__(limits=limits, verify=ssl_context, trust_env=trust_env)
        self._asyncio_pool = _Pool(limits, ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response, its body still to be read.

        Parameters
        ----------
        request : httpx.Request
            The request.

        Returns
        -------
        httpx.Response
            The response; its stream reads the body from the connection.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio
            return await super().handle_async_request(request)
        if _mocked():
            return await httpx.AsyncHTTPTransport.handle_async_request(self, request)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        pool = self._asyncio_pool
        connection = await pool.acquire(loop, request.url, timeouts)
        try:
            await connection.send(request, timeouts.get("write"))
            head = await connection.receive_head(timeouts.get("read"))
        except BaseException:
            pool.discard(connection)
            raise
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=_ResponseStream(pool, connection, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        """Close every connection of both pools."""
        closing = self._asyncio_pool.close()
        try:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # trio: the connections asyncio opened had their loop
                return
            await _closed(closing, loop)
        finally:
            await super().aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        # httpx's transport closes only its own pool on exit.
        await self.aclose()
