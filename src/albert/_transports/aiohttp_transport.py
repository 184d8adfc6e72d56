"""`AiohttpTransport`: httpx's client over aiohttp's HTTP stack, as `AsyncAlbert` sends on asyncio.

Why aiohttp. On asyncio, httpx's own transport (httpcore over anyio) spends more
client time per request than the rest of an API call (a cancel scope per read
and write, stream wrappers, a pool whose bookkeeping is quadratic under
concurrency), and after storms of cancelled requests its pool was seen stuck
with connections that never finish connecting (encode/httpcore#1093). aiohttp
is a mature HTTP/1.1 stack written for asyncio (parser in C, connection pool,
TLS, Happy Eyeballs, proxies) that held up in every failure scenario we tried.
The SDK keeps httpx's client above it (URLs, headers, auth, cookies, hooks,
redirect policy, response decoding: the public API users see) and this module
is the thin adapter between the two: no HTTP code of its own.

What it maps, so that users and the SDK's retry table see exactly what httpx's
own transport would raise:

- errors: connect failures (refused, DNS, TLS, certificate) to
  `httpx.ConnectError`, each timeout phase to its `httpx` timeout class, a
  server that disconnects or sends a malformed answer to
  `httpx.RemoteProtocolError`, a reset while reading to `httpx.ReadError`, a
  request aiohttp refuses to write to `httpx.LocalProtocolError`. Nothing
  aiohttp-typed leaves the adapter (aiohttp's exception is chained as the
  cause). A body delimited by the connection's close that ends with a reset
  is a `httpx.ReadError`, not a complete body (aiohttp alone returns it).
- `httpx.Timeout`: ``connect`` bounds aiohttp's whole connect (DNS, TCP, TLS,
  proxy); ``read`` is aiohttp's ``sock_read`` (between reads, from the end of
  the request); ``write`` watches each piece of the request body aiohttp is
  given, and a piece left unsent that long aborts the connection (aiohttp has
  no write timeout); ``pool`` bounds the wait for a connection slot. A
  connection closed with bytes still queued is aborted, not left to wait for
  a server that stopped reading. aiohttp's own resending of idempotent
  requests is off: retries are the SDK's, by its table.
- `httpx.Limits`: ``max_connections`` is an `asyncio.Semaphore` in front of
  aiohttp's connector, so waiters are served in order (aiohttp's own limit
  wakes them in no fair order: a pool of 2 shared by 5 workers served
  [142, 142, 1, 1, 1] requests in 3 s); ``max_keepalive_connections`` caps
  the connector's idle connections; ``keepalive_expiry`` is its
  ``keepalive_timeout``.
- TLS as httpx builds it (`httpx.create_ssl_context`: certifi, or
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), the ``sni_hostname`` extension, an
  HTTP(S) proxy (`albert._transports.async_default_transport` reads the
  environment as httpx does). Bodies stream both ways; Content-Encoding is
  left to httpx to decode; aiohttp follows no redirects and keeps no cookies.

Where it steps aside: outside asyncio's tasks (under trio, also in a trio
guest run on an asyncio loop), and whenever something replaced or wrapped the
request handler of httpx's transport or of httpcore (respx, pytest-httpx,
OpenTelemetry's httpx instrumentation), it hands the request to a real `httpx.AsyncHTTPTransport`
with the same TLS, limits and proxy, so that mocks and instrumentation see
every request. That is decided per request from what is installed then.

Limits: HTTP/1.1 only; no SOCKS proxies (the SDK mounts httpx's transport for
those); httpcore's request extensions other than ``timeout`` and
``sni_hostname`` (``trace``, ``network_stream``) are not supported; with
several hosts, ``max_connections`` bounds the connections in use, not the idle
ones kept for other hosts. aiohttp is imported on the first request on asyncio,
never by ``import albert``. One aiohttp session serves each event loop; it is
closed by `aclose` (on the loop that calls it), or when its loop shuts down
(``asyncio.run`` and ``asyncio.Runner`` do that). Under uvloop, TLS connections
closed while data arrives can make uvloop log "the handler is closed"
(MagicStack/uvloop#506, uvloop's own bug; no request fails).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import functools
import os
import sys
import types
import weakref
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import ssl

    import aiohttp

__all__ = ["AiohttpTransport"]

#: Request bodies are handed to aiohttp in pieces of this size (it drains every
#: 64 KiB), so that the write timeout can watch each one.
_PIECE = 64 * 1024
#: The longest status line and header line read (httpcore allows a 100 KiB head).
_MAX_HEAD = 100 * 1024
#: Headers aiohttp would add when httpx's request has none: httpx sends what it means to.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
#: Where a request goes next in httpx's transport and in httpcore: respx, pytest-httpx
#: and instrumentations replace or wrap one of these methods to see requests.
_HANDLERS = (
    ("httpx", "AsyncHTTPTransport"),
    ("httpcore", "AsyncConnectionPool"),
    ("httpcore", "AsyncHTTPConnection"),
    ("httpcore", "AsyncHTTPProxy"),
)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through aiohttp, or through httpx's own where it must.

    Parameters
    ----------
    ssl_context : ssl.SSLContext
        How servers' certificates are verified (``httpx.create_ssl_context()``).
    limits : httpx.Limits
        The connection pool's limits.
    proxy : httpx.Proxy | None, optional
        An ``http://`` or ``https://`` proxy every request goes through.
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits, proxy: httpx.Proxy | None = None
    ) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._proxy = proxy
        self._httpx: httpx.AsyncHTTPTransport | None = None
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}

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
            # An asyncio task: trio's, also those of a trio guest run on an
            # asyncio loop (which see that loop running), are not.
            in_asyncio_task = asyncio.current_task() is not None
        except RuntimeError:  # no asyncio loop running: trio
            in_asyncio_task = False
        if not in_asyncio_task or _httpx_transport_is_patched():
            return await self._httpx_transport().handle_async_request(request)
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = await self._open_pool(loop)
        return await pool.send(request)

    def _httpx_transport(self) -> httpx.AsyncHTTPTransport:
        if self._httpx is None:
            self._httpx = httpx.AsyncHTTPTransport(
                verify=self._ssl_context, limits=self._limits, proxy=self._proxy
            )
        return self._httpx

    async def _open_pool(self, loop: asyncio.AbstractEventLoop) -> _LoopPool:
        for closed in [other for other in self._pools if other.is_closed()]:
            del self._pools[closed]  # closed without shutting down its async generators
        pool = self._pools[loop] = _LoopPool(self._ssl_context, self._limits, self._proxy)
        # An async generator left suspended is closed by the loop's
        # shutdown_asyncgens (asyncio.run does it) while the loop still runs:
        # the session is closed then, not left for the garbage collector.
        pool.watch = _close_at_loop_shutdown(self._pools, loop, pool)
        await pool.watch.__anext__()
        return pool

    async def aclose(self) -> None:
        """Close the connections of the running event loop, and httpx's transport's."""
        try:
            pool = self._pools.get(asyncio.get_running_loop())
        except RuntimeError:  # trio: no aiohttp session is open here
            pool = None
        try:
            if pool is not None and pool.watch is not None:
                await pool.watch.aclose()  # closes the session
        finally:
            if self._httpx is not None:
                await self._httpx.aclose()


async def _close_at_loop_shutdown(
    pools: dict[asyncio.AbstractEventLoop, _LoopPool],
    loop: asyncio.AbstractEventLoop,
    pool: _LoopPool,
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if pools.get(loop) is pool:
            del pools[loop]
        await pool.close()


class _LoopPool:
    """aiohttp's session on one event loop, behind a first-come first-served gate."""

    def __init__(
        self, ssl_context: ssl.SSLContext, limits: httpx.Limits, proxy: httpx.Proxy | None
    ) -> None:
        import aiohttp
        import yarl

        self._url = functools.partial(yarl.URL, encoded=True)  # httpx has encoded it
        self._timeout_class = aiohttp.ClientTimeout
        self.session = aiohttp.ClientSession(
            connector=_connector(ssl_context, limits),
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes Content-Encoding
            trust_env=False,  # proxies and certificates come from httpx's settings
            skip_auto_headers=_NO_AUTO_HEADERS,
            request_class=_request_class(),
            max_line_size=_MAX_HEAD,
            max_field_size=_MAX_HEAD,
        )
        # aiohttp sends an idempotent request once more by itself when its
        # connection drops. The SDK's retries decide that, by method, and know
        # that a DELETE which may have applied and then finds nothing is done:
        # every failure must reach them, as from httpx's own transport.
        self.session._retry_connection = False
        size = limits.max_connections
        self._slots = None if size is None else asyncio.Semaphore(size)
        self._proxy = None if proxy is None else str(proxy.url)
        # A proxy's own headers (Proxy-Authorization) go with each request to a
        # plain-HTTP origin, as httpcore sends them, and with the CONNECT that
        # opens a tunnel to an HTTPS one (aiohttp sends them there only).
        self._proxy_headers = [] if proxy is None else _proxy_headers(proxy)
        self._watched: weakref.WeakSet[asyncio.Future[None]] = weakref.WeakSet()
        self.streams: weakref.WeakSet[_ResponseStream] = weakref.WeakSet()  # bodies being read
        self.watch: AsyncGenerator[None, None] | None = None

    async def close(self) -> None:
        """Close the session; a body still being read fails as a `httpx.ReadError`.

        aiohttp's close drops the connections under such a body without a
        word: a read waiting would wait for ever, the next one raise a bare
        `RuntimeError`.
        """
        import aiohttp

        for stream in list(self.streams):
            stream.cut(aiohttp.ClientConnectionError("the client was closed"))
        await self.session.close()

    async def send(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        await self._take_slot(timeouts.get("pool"))
        upload: _Upload | None = None
        try:
            body, upload = _body_of(request, timeouts.get("write"))
            url = request.url
            if url.userinfo:  # httpx sent it as the Authorization header already
                url = url.copy_with(username=None, password=None)
            watching = _UPLOAD.set(upload)
            try:
                response = await self.session.request(
                    request.method,
                    self._url(str(url)),
                    headers=(
                        self._proxy_headers + _decoded(request.headers)
                        if self._proxy_headers and url.scheme == "http"
                        else _decoded(request.headers)
                    ),
                    data=body,
                    allow_redirects=False,
                    timeout=self._timeout(timeouts.get("connect"), timeouts.get("read")),
                    server_hostname=request.extensions.get("sni_hostname"),
                    proxy=self._proxy,
                    proxy_headers=self._proxy_headers or None,
                )
            finally:
                _UPLOAD.reset(watching)
                if upload is not None:
                    upload.disarm()
        except BaseException as exc:
            self.give_slot()
            if upload is not None and upload.expired and isinstance(exc, Exception):
                raise httpx.WriteTimeout(
                    "timed out writing the request body: the server does not read it"
                ) from exc
            error = _httpx_error(exc)
            if error is None:
                raise
            raise error from exc
        version = response.version or (1, 1)
        stream = _ResponseStream(self, response, self._watch_close(response))
        self.streams.add(stream)
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=stream,
            extensions={
                "http_version": b"HTTP/%d.%d" % tuple(version),
                "reason_phrase": (response.reason or "").encode("ascii", "replace"),
            },
        )

    async def _take_slot(self, timeout: float | None) -> None:
        slots = self._slots
        if slots is None:
            return
        if timeout is None or not slots.locked():  # free: acquire() returns at once
            await slots.acquire()
            return
        try:
            if sys.version_info >= (3, 11):
                async with asyncio.timeout(timeout):
                    await slots.acquire()
            else:  # pragma: no cover - Python 3.10
                await asyncio.wait_for(slots.acquire(), timeout)
        except asyncio.TimeoutError:
            raise httpx.PoolTimeout(
                f"no connection of the pool came free within {timeout:g} s"
            ) from None

    def give_slot(self) -> None:
        """Free the connection slot one request held."""
        if self._slots is not None:
            self._slots.release()

    def _timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        # ``connect`` covers aiohttp's whole connect (DNS, every address, TLS, a
        # proxy's CONNECT); an infinite ceil_threshold keeps the delays exact
        # (aiohttp rounds those over 5 s up to a whole second otherwise).
        return self._timeout_class(connect=connect, sock_read=read, ceil_threshold=float("inf"))

    def _watch_close(self, response: aiohttp.ClientResponse) -> asyncio.Future[None] | None:
        """Return the future aiohttp sets when the response's connection closes (with the error)."""
        connection = response.connection
        protocol = None if connection is None else connection.protocol
        closed = None if protocol is None else protocol.closed
        if closed is not None and closed not in self._watched:
            self._watched.add(closed)  # one callback per connection, not per request
            closed.add_done_callback(_retrieve)
        return closed


def _retrieve(future: asyncio.Future[None]) -> None:
    # Marks an error as seen: asyncio would log the ones nobody looked at.
    if not future.cancelled():
        future.exception()


def _was_reset(closed: asyncio.Future[None] | None) -> bool:
    return (
        closed is not None
        and closed.done()
        and not closed.cancelled()
        and closed.exception() is not None
    )


@functools.cache
def _connector_class() -> Callable[..., aiohttp.TCPConnector]:
    import aiohttp

    class Connector(aiohttp.TCPConnector):
        """aiohttp's connector, with httpx's cap on idle connections and aborts for stuck ones."""

        def __init__(self, *, max_idle: int | None, **options: Any) -> None:
            super().__init__(**options)
            self._max_idle = max_idle

        def _release(self, key: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
            # aiohttp's hook for a connection given back: it joins the idle ones,
            # or is closed. A close waits until the bytes still queued are sent,
            # forever if the server stopped reading (a write timeout): abort those.
            transport = protocol.transport
            if transport is not None and transport.get_write_buffer_size():
                transport.abort()
            super()._release(key, protocol, *args, **kwargs)
            if self._max_idle is None:
                return
            idle = self._conns
            excess = sum(map(len, idle.values())) - self._max_idle
            for queue in list(idle.values()):
                while excess > 0 and queue:  # the longest idle first
                    queue.popleft()[0].close()
                    excess -= 1
            for empty in [key for key, queue in idle.items() if not queue]:
                del idle[empty]

    return Connector


def _connector(ssl_context: ssl.SSLContext, limits: httpx.Limits) -> aiohttp.TCPConnector:
    # No limit of aiohttp's own: the semaphore in front of it is the one gate.
    return _connector_class()(
        ssl=ssl_context,
        limit=0,
        limit_per_host=0,
        keepalive_timeout=limits.keepalive_expiry,
        max_idle=limits.max_keepalive_connections,
    )


def _proxy_headers(proxy: httpx.Proxy) -> list[tuple[str, str]]:
    """Return a proxy's headers, with its credentials as ``Proxy-Authorization`` (as httpcore)."""
    headers = _decoded(proxy.headers)
    if proxy.raw_auth is not None and "proxy-authorization" not in proxy.headers:
        credentials = base64.b64encode(b":".join(proxy.raw_auth)).decode("ascii")
        headers.append(("Proxy-Authorization", f"Basic {credentials}"))
    return headers


def _decoded(headers: httpx.Headers) -> list[tuple[str, str]]:
    """Return headers as aiohttp takes them: in order, names as written.

    ``Transfer-Encoding: chunked`` is left out: aiohttp chunks a body of
    unknown length itself, and refuses the header beside its own chunking.
    """
    encoding = headers.encoding  # how httpx decodes them (ASCII, else UTF-8)
    return [
        (name.decode(encoding), value.decode(encoding))
        for name, value in headers.raw
        if name.lower() != b"transfer-encoding" or value.lower() != b"chunked"
    ]


def _body_of(request: httpx.Request, write_timeout: float | None) -> tuple[Any, _Upload | None]:
    """Return what aiohttp sends as the body, and the watch of its writes when it has one."""
    try:
        content = request.content
    except httpx.RequestNotRead:  # a stream: read as aiohttp sends it
        upload = _Upload(request.stream, write_timeout)  # type: ignore[arg-type]
        return upload, upload
    if not content:
        return None, None
    if write_timeout is None or len(content) <= _PIECE:
        return content, None
    upload = _Upload(_pieces(content), write_timeout)
    return upload, upload


async def _pieces(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), _PIECE):
        yield content[start : start + _PIECE]


class _Upload:
    """A request body handed to aiohttp piece by piece, each write watched by the write timeout.

    aiohttp asks for the next piece once it has written the previous one: a
    piece it holds longer than the timeout means the server stopped reading.
    The connection is then aborted (aiohttp has no write timeout of its own),
    and the failure that follows reported as `httpx.WriteTimeout`. The watch
    ends with the response head (a server may answer before reading it all).
    """

    def __init__(self, pieces: AsyncIterable[bytes], timeout: float | None) -> None:
        self._pieces = pieces
        self._timeout = timeout
        self._armed = True
        self.expired = False
        #: The connection the body goes out on (set by `_request_class`'s ``send``).
        self.connection: aiohttp.connector.Connection | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        async for piece in self._pieces:
            if not piece:
                continue  # an empty chunk would end a chunked body
            timer = None if self._timeout is None else loop.call_later(self._timeout, self._expire)
            try:
                yield piece
            finally:
                if timer is not None:
                    timer.cancel()

    def _expire(self) -> None:
        transport = None if self.connection is None else self.connection.transport
        if self._armed and transport is not None:
            self.expired = True
            transport.abort()

    def disarm(self) -> None:
        """Stop watching: the response head arrived (or the request failed)."""
        self._armed = False


#: The body being sent by the task's current request, for `_request_class` to find.
_UPLOAD: contextvars.ContextVar[_Upload | None] = contextvars.ContextVar(
    "albert_upload", default=None
)


@functools.cache
def _request_class() -> type[aiohttp.ClientRequest]:
    import aiohttp

    class Request(aiohttp.ClientRequest):
        """aiohttp's request, telling the body it sends which connection it goes out on."""

        async def send(self, conn: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
            upload = _UPLOAD.get()
            if upload is not None:
                upload.connection = conn
            return await super().send(conn)

    return Request


class _ResponseStream(httpx.AsyncByteStream):
    """A response body read from aiohttp as httpx iterates it; closing frees its connection slot."""

    def __init__(
        self,
        pool: _LoopPool,
        response: aiohttp.ClientResponse,
        closed: asyncio.Future[None] | None,
    ) -> None:
        self._pool = pool
        self._response = response
        self._closed = closed
        headers = response.headers
        self._close_delimited = (
            closed is not None
            and "Content-Length" not in headers
            and "chunked" not in headers.get("Transfer-Encoding", "").lower()
        )
        self._done = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._response.content.readany()
        except Exception as exc:
            self._finish(reuse=False)
            error = _httpx_error(exc, reset=_was_reset(self._closed))
            if error is None:
                raise
            raise error from exc
        if chunk:
            return chunk
        # aiohttp ends a body delimited by the connection's close at that close,
        # even a reset one: a reset there cut the body short.
        reset = self._close_delimited and _was_reset(self._closed)
        self._finish(reuse=not reset)
        if reset:
            raise httpx.ReadError("the connection was reset before the end of the response body")
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop reading: a connection with a body left unread is closed, not reused."""
        self._finish(reuse=False)

    def cut(self, error: Exception) -> None:
        """Fail the reads of the body from now on with ``error`` (its connection is going)."""
        self._response.content.set_exception(error)

    def _finish(self, *, reuse: bool) -> None:
        if self._done:
            return
        self._done = True
        self._pool.streams.discard(self)
        if reuse:
            self._response.release()
        else:
            self._response.close()
        self._pool.give_slot()


#: aiohttp's failures, most specific first, and what httpx's own transport raises for each.
_ERRORS: tuple[tuple[str, type[httpx.TransportError]], ...] = (
    ("ConnectionTimeoutError", httpx.ConnectTimeout),
    ("ServerTimeoutError", httpx.ReadTimeout),  # sock_read
    ("ClientConnectorError", httpx.ConnectError),  # refused, DNS, TLS, certificate, proxy
    ("ClientHttpProxyError", httpx.ProxyError),  # the proxy refused the tunnel
    ("ServerDisconnectedError", httpx.RemoteProtocolError),
    ("ClientPayloadError", httpx.RemoteProtocolError),  # a body cut short
    ("InvalidURL", httpx.UnsupportedProtocol),
    ("NonHttpUrlClientError", httpx.UnsupportedProtocol),
    ("ClientResponseError", httpx.RemoteProtocolError),  # a malformed response head
    ("ClientError", httpx.ReadError),  # the connection lost or reset mid-exchange
)


def _httpx_error(exc: BaseException, *, reset: bool = False) -> httpx.TransportError | None:
    """Return what httpx's own transport raises where aiohttp raised ``exc`` (None: not ours)."""
    import aiohttp
    import aiohttp.http_exceptions

    message = str(exc) or type(exc).__name__
    if reset and isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(message)
    for name, error in _ERRORS:
        if isinstance(exc, getattr(aiohttp, name)):
            return error(message)
    if isinstance(exc, aiohttp.http_exceptions.HttpProcessingError):  # unwrapped parser error
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, asyncio.TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, OSError):
        return httpx.ReadError(message)
    if isinstance(exc, ValueError):  # a request aiohttp will not write (a bad header)
        return httpx.LocalProtocolError(message)
    return None


@functools.cache
def _package_directory(package: str) -> str:
    module = sys.modules[package]
    return os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep


def _httpx_transport_is_patched() -> bool:
    """Whether something replaced or wrapped the request handler of httpx's transport or httpcore.

    Judged by what is installed now, not by comparison with something
    captured at import: the handler must still be a plain function whose code
    lives in its own package. respx's and pytest-httpx's replacements, and
    wrapt's wrappers (OpenTelemetry's), are not.
    """
    for package, owner in _HANDLERS:
        module = sys.modules.get(package)
        cls = getattr(module, owner, None)
        if cls is None:
            continue  # not imported: nobody patched it
        handler = getattr(cls, "handle_async_request", None)
        if (
            type(handler) is not types.FunctionType
            or hasattr(handler, "__wrapped__")
            or not handler.__code__.co_filename.startswith(_package_directory(package))
        ):
            return True
    return False
