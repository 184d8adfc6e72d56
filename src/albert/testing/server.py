"""`LocalAlbert`: the emulator served by uvicorn on 127.0.0.1, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from albert.testing._extra import missing_extra
from albert.testing.app import DEFAULT_MAX_BODY_SIZE, DEFAULT_PAGE_SIZE, EmulatorApp
from albert.testing.faults import FaultInjector

try:
    import uvicorn
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    error = missing_extra(exc)
    if error is None:
        raise
    raise error from exc

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert

__all__ = ["LocalAlbert", "bind_socket"]

#: The only address `LocalAlbert` listens on.
LOOPBACK = "127.0.0.1"


def bind_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """Return a TCP socket bound to ``host:port`` (port 0: a free one), not yet listening.

    Binding before the server starts reserves the port, so its number can be
    printed or handed out with no race against other processes.

    Parameters
    ----------
    host : str, optional
        The address (default ``127.0.0.1``).
    port : int, optional
        The port; 0 (the default) lets the system pick a free one.

    Returns
    -------
    socket.socket
        The bound socket.

    Raises
    ------
    OSError
        If the address is taken or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on accepted
    # connections of a TCP-protocol socket; with it on, a response sent in two
    # writes waits for the client's delayed ACK, about 40 ms a request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name != "nt":  # let a restarted server take its port back from TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that stops as soon as it is asked, not at its next 0.1 s tick."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        """Ask the server to shut down (safe from any thread)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(wake.set)


class LocalAlbert:
    """Serve an Albert emulator on ``127.0.0.1`` for the time of a ``with`` block.

    The server runs uvicorn in a background thread; entering the block waits
    until it accepts connections, leaving it shuts it down and closes the store.

    Parameters
    ----------
    port : int, optional
        The port to listen on; 0 (the default) picks a free one.
    db_path : str | os.PathLike[str] | None, optional
        A SQLite file that keeps the data across restarts (default: in memory).
    token : str | None, optional
        The bearer token the emulator accepts (default: the one the SQLite
        file remembers, else a random one).
    page_size : int | None, optional
        Items per page of every listing (default 50).
    client_credentials : Mapping[str, str] | None, optional
        Client id to secret for the token endpoint. Default: the ones the
        SQLite file remembers; else none when ``token`` or ``sso_emails`` is
        given; else ``albert-local`` with a random secret
        (`client_credentials` tells it).
    sso_emails : Collection[str] | None, optional
        The e-mails that may log in with SSO, at once and with no password
        (default: none, SSO is off).
    max_body_size : int | None, optional
        The largest request body accepted, in bytes (default 10 MiB).
    app : EmulatorApp | None, optional
        An emulator to serve instead of a new one (then give none of the
        options above except ``port``); it is not closed on exit.

    Attributes
    ----------
    app : EmulatorApp
        The emulator: its ``faults``, ``store``, ``page_size``, ...

    Examples
    --------
    >>> with LocalAlbert() as server, server.client() as client:  # doctest: +SKIP
    ...     server.faults.fail_next("GET", r"/chats/sessions$", status=503, retry_after=0)
    ...     sessions = list(client.chat_sessions.get_all())  # retried once, then served
    """

    host = LOOPBACK

    def __init__(
        self,
        *,
        port: int = 0,
        db_path: str | os.PathLike[str] | None = None,
        token: str | None = None,
        page_size: int | None = None,
        client_credentials: Mapping[str, str] | None = None,
        sso_emails: Collection[str] | None = None,
        max_body_size: int | None = None,
        app: EmulatorApp | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        options = (db_path, token, page_size, client_credentials, sso_emails, max_body_size)
        if app is None:
            app = EmulatorApp(
                db_path=db_path,
                token=token,
                page_size=DEFAULT_PAGE_SIZE if page_size is None else page_size,
                client_credentials=client_credentials,
                sso_emails=sso_emails,
                max_body_size=DEFAULT_MAX_BODY_SIZE if max_body_size is None else max_body_size,
            )
            self._owns_app = True
        elif any(option is not None for option in options):
            raise ValueError("give either app or the options of a new emulator, not both")
        else:
            self._owns_app = False
        self.app = app
        self._port = port
        self._socket: socket.socket | None = None
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped" if self._stopped else "not started"
        where = f"http://{self.host}:{self._port or '?'}"
        return f"LocalAlbert({where!r}, {state})"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None and self._server.started and not self._stopped

    @property
    def port(self) -> int:
        """The port the emulator listens on.

        Raises
        ------
        RuntimeError
            If the port is picked at start and the server has not started.
        """
        if not self._port:
            raise RuntimeError("LocalAlbert picks its port when it starts: start it first")
        return self._port

    @property
    def base_url(self) -> str:
        """Where the emulator listens, e.g. ``http://127.0.0.1:53211``."""
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        """The bearer token the emulator accepts."""
        return self.app.token

    @property
    def client_credentials(self) -> dict[str, str]:
        """Client id to secret that the token endpoint accepts (a copy; may be empty)."""
        return self.app.client_credentials

    @property
    def faults(self) -> FaultInjector:
        """The emulator's fault injector (``app.faults``)."""
        return self.app.faults

    @property
    def env(self) -> dict[str, str]:
        """``ALBERT_BASE_URL`` and ``ALBERT_TOKEN`` for a process that should use the emulator."""
        return {"ALBERT_BASE_URL": self.base_url, "ALBERT_TOKEN": self.token}

    def start(self, timeout: float = 10.0) -> LocalAlbert:
        """Start serving, and wait until the emulator accepts connections.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the server (default 10).

        Returns
        -------
        LocalAlbert
            ``self``.

        Raises
        ------
        OSError
            If the port cannot be bound (it is taken).
        RuntimeError
            If it was started before, or the server did not come up in time.
        """
        if self._thread is not None or self._stopped:
            raise RuntimeError("a LocalAlbert starts once; make a new one to serve again")
        self._socket = bind_socket(self.host, self._port)
        self._port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        server = self._server = _ThreadServer(config)
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [self._socket]},
            name=f"albert-emulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Albert emulator did not start on {self.base_url}")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and close the store; safe to call more than once.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for a graceful shutdown before forcing it.
        """
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.request_exit()
            thread.join(timeout)
            if thread.is_alive():  # pragma: no cover - a request that never ends
                server.force_exit = True
                thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if not self._stopped and self._owns_app:
            self.app.close()
        self._stopped = True

    def __enter__(self) -> LocalAlbert:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def client(self, **options: Any) -> Albert:
        """Return an `Albert` client pointed at the emulator, with its token.

        Parameters
        ----------
        **options : Any
            More options of `albert.Albert` (``max_retries``, ``timeout``, ...).

        Returns
        -------
        Albert
            A sync client; close it (or use it in a ``with`` block).
        """
        from albert import Albert

        return Albert(base_url=self.base_url, token=self.token, **options)

    def async_client(self, **options: Any) -> AsyncAlbert:
        """Return an `AsyncAlbert` client pointed at the emulator, with its token.

        Parameters
        ----------
        **options : Any
            More options of `albert.AsyncAlbert`.

        Returns
        -------
        AsyncAlbert
            An async client; close it (or use it in an ``async with`` block).
        """
        from albert import AsyncAlbert

        return AsyncAlbert(base_url=self.base_url, token=self.token, **options)
