"""The one-shot HTTP server on ``127.0.0.1`` that receives the refresh token of an SSO login.

The login page sends the browser to ``http://localhost:<port>/?token=...&state=...``.
Only a callback that returns the random ``state`` the login URL carried is
taken; any other request is answered ``400`` (or ``404``) and the wait goes
on, so another local user, a stale browser tab or a bare request can neither
plant a token nor end the login. Nothing here logs a request line: it holds
the token.
"""

from __future__ import annotations

import hmac
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from albert.core.logs import logger
from albert.exceptions import AlbertAuthError

__all__ = ["PORTS_TRIED", "LoginCallback"]

#: The only address the server binds to.
HOST = "127.0.0.1"
#: Ports tried from ``minimum_port`` when no ``maximum_port`` is given.
PORTS_TRIED = 100

_PAGE = '<!doctype html><meta charset="utf-8"><title>Albert login</title><h1>{}</h1><p>{}</p>\n'
SUCCESS_PAGE = _PAGE.format("Login successful", "You are logged in. You can close this window.")
FAILURE_PAGE = _PAGE.format("Login failed", "The login returned no token. Please try again.")
FOREIGN_PAGE = _PAGE.format("Not this login", "The Albert SDK waits for another login: ignored.")


class _Server(socketserver.ThreadingTCPServer):
    # A thread per connection: a browser's idle pre-connection cannot hold up the callback.
    daemon_threads = True
    block_on_close = False
    # On POSIX this only lets a new login reuse a port left in TIME_WAIT; on
    # Windows it would let two listeners share one.
    allow_reuse_address = sys.platform != "win32"
    callback: LoginCallback

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("SSO callback: a connection failed", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # seconds a connection may stay silent

    def do_GET(self) -> None:
        parsed = urlsplit(self.path)
        if parsed.path != "/":
            self._reply(404, FOREIGN_PAGE)
            return
        query = parse_qs(parsed.query)
        callback = self.server.callback
        if not hmac.compare_digest(query.get("state", [""])[0].encode(), callback.state.encode()):
            logger.warning(
                "SSO login: ignored a callback to 127.0.0.1:%d without this login's state "
                "(another tab or program, or a login page that drops it); still waiting",
                callback.port,
            )
            self._reply(400, FOREIGN_PAGE)
            return
        token = query.get("token", [""])[0]
        self._reply(200 if token else 400, SUCCESS_PAGE if token else FAILURE_PAGE)
        callback._settle(token or None)

    def _reply(self, status: int, page: str) -> None:
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request line holds the refresh token


def _port_range(minimum_port: int, maximum_port: int | None) -> range:
    last = min(65535, minimum_port + PORTS_TRIED - 1 if maximum_port is None else maximum_port)
    if not 1 <= minimum_port <= 65535:
        raise ValueError(f"minimum_port must be between 1 and 65535, got {minimum_port}")
    if last < minimum_port:
        raise ValueError(
            f"maximum_port ({maximum_port}) must not be below minimum_port ({minimum_port})"
        )
    return range(minimum_port, last + 1)


class LoginCallback:
    """Serve ``GET /?token=<refresh token>&state=<state>`` on ``127.0.0.1`` until one arrives.

    The server binds at construction, to the first free port of the range (so
    the login URL can name it), and serves in a thread of its own until
    closed. Use it as a context manager.

    Parameters
    ----------
    state : str
        The random value the login URL carries; only a callback returning it counts.
    minimum_port : int
        The first port to try.
    maximum_port : int | None
        The last port to try; ``None`` tries `PORTS_TRIED` ports.
    wake : threading.Event
        Set when the wait is over: by the callback, or by a caller giving up.

    Raises
    ------
    ValueError
        If the range is not a range of ports.
    AlbertAuthError
        If every port of the range is taken.
    """

    def __init__(
        self, *, state: str, minimum_port: int, maximum_port: int | None, wake: threading.Event
    ) -> None:
        ports = _port_range(minimum_port, maximum_port)
        self.state = state
        self._wake = wake
        self._lock = threading.Lock()
        self._arrived = False
        self._token: str | None = None
        for port in ports:
            try:
                self._server = _Server((HOST, port), _Handler)
            except OSError:
                continue
            break
        else:
            raise AlbertAuthError(
                f"SSO login: no free port on {HOST} between {ports.start} and {ports.stop - 1} "
                "for the login callback; pass another minimum_port/maximum_port"
            )
        self._server.callback = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="albert-sso-callback", daemon=True
        )
        self._thread.start()

    def _settle(self, token: str | None) -> None:
        with self._lock:
            if not self._arrived:  # the first valid callback wins
                self._arrived, self._token = True, token
        self._wake.set()

    def wait(self, timeout: float) -> str:
        """Wait for the callback and return the refresh token it carried.

        Raises
        ------
        AlbertAuthError
            If the wait timed out or was given up, or the callback carried no token.
        """
        if not self._wake.wait(timeout):
            raise AlbertAuthError(
                f"SSO login timed out: the browser did not come back to "
                f"http://localhost:{self.port}/ within {timeout:g} s"
            )
        if not self._arrived:
            raise AlbertAuthError("SSO login: given up before the browser came back")
        if self._token is None:
            raise AlbertAuthError("SSO login failed: the login page called back without a token")
        return self._token

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoginCallback:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
