"""`LocalAlbert`: the emulator served on 127.0.0.1 in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from albert.testing.app import EmulatorApp
from albert.testing.faults import FaultInjector
from albert.testing.store import Store

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert

__all__ = ["LocalAlbert"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalAlbert:
    """Serve an Albert emulator on ``127.0.0.1`` for the time of a ``with`` block.

    Parameters
    ----------
    port : int | None, optional
        The port to listen on (default: a free one).
    db : str | None, optional
        A SQLite file to keep data in across restarts (default: in memory).
    token : str | None, optional
        The bearer token the emulator accepts (default: a random one).
    page_size : int, optional
        Items per page of every listing (default 50).
    client_credentials : dict[str, str] | None, optional
        Client id to secret, for the token endpoint.

    Attributes
    ----------
    base_url : str
        Where the emulator listens, e.g. ``http://127.0.0.1:53211``.
    token : str
        The bearer token to use.
    emulator : EmulatorApp
        The app, for its store.
    faults : FaultInjector
        Plan failures and delays.

    Examples
    --------
    >>> with LocalAlbert() as server:                       # doctest: +SKIP
    ...     with server.client() as client:
    ...         client.chat_sessions.create(...)
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        port: int | None = None,
        db: str | None = None,
        token: str | None = None,
        page_size: int = 50,
        client_credentials: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port(self.host)
        self.emulator = EmulatorApp(
            store=Store(db or ":memory:"),
            token=token,
            page_size=page_size,
            client_credentials=client_credentials,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the emulator listens."""
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        """The bearer token the emulator accepts."""
        return self.emulator.token

    @property
    def faults(self) -> FaultInjector:
        """The emulator's fault injector."""
        return self.emulator.faults

    def __repr__(self) -> str:
        return f"LocalAlbert(base_url={self.base_url!r})"

    def start(self, timeout: float = 10.0) -> LocalAlbert:
        """Start serving and wait until the port accepts connections."""
        config = uvicorn.Config(
            self.emulator,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="albert-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Albert emulator did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.emulator.store.close()

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
        """Return an `Albert` client pointed at the emulator (options as for `Albert`)."""
        from albert import Albert

        return Albert(base_url=self.base_url, token=self.token, **options)

    def async_client(self, **options: Any) -> AsyncAlbert:
        """Return an `AsyncAlbert` client pointed at the emulator."""
        from albert import AsyncAlbert

        return AsyncAlbert(base_url=self.base_url, token=self.token, **options)
