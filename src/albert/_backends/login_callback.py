"""The one-shot local HTTP server that receives the refresh token at the end of an SSO login.

This is blocking code shared by both variants: the sync client calls
`LoginCallbackServer.wait_for_token` directly, the async client runs it in a
worker thread (``run_in_thread``) so its event loop keeps running while the
person at the browser logs in. It only ever listens on ``127.0.0.1``.
"""

from __future__ import annotations

import socketserver
import sys
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from albert.core.logs import logger
from albert.exceptions import AlbertAuthError

__all__ = ["LoginCallbackServer", "PORTS_TRIED"]

#: The only address the callback server binds to.
HOST = "127.0.0.1"
#: Ports tried from ``minimum_port`` when no ``maximum_port`` is given.
PORTS_TRIED = 100
#: How often the wait checks its deadline and whether it was stopped, in seconds.
_POLL = 0.05

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Albert login</title></head>
<body style="font-family: sans-serif; margin: 4em auto; max-width: 32em">
<h1>{title}</h1><p>{text}</p>
<script>window.close()</script>
</body></html>
"""
SUCCESS_PAGE = _PAGE.format(
    title="Login successful", text="You are logged in to Albert. You can close this window."
)
FAILURE_PAGE = _PAGE.format(
    title="Login failed",
    text="The login did not return a token. Close this window and try again.",
)


class _Outcome:
    """What the browser sent: a token or a failure, first come first served."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: str | None = None
        self.failure: str | None = None
        self._lock = threading.Lock()

    def settle(self, *, token: str | None = None, failure: str | None = None) -> None:
        with self._lock:
            if self.done.is_set():
                return
            self.token, self.failure = token, failure
            self.done.set()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    # One thread per connection: a browser's speculative pre-connection that
    # never sends a request cannot hold up the real callback.
    daemon_threads = True
    block_on_close = False
    # On POSIX, SO_REUSEADDR only lets a new server reuse a port whose old
    # connections linger in TIME_WAIT (a second login right after the first);
    # it never shares a port with another listener. On Windows it would.
    allow_reuse_address = sys.platform != "win32"

    def __init__(self, port: int, outcome: _Outcome) -> None:
        self.outcome = outcome
        super().__init__((HOST, port), _CallbackHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a dropped browser
        # connection is not worth one.
        logger.debug("SSO callback: a connection failed", exc_info=True)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # seconds a connection may stay silent

    def do_GET(self) -> None:
        parsed = urlsplit(self.path)
        if parsed.path != "/":
            self._reply(404, "Not found")
            return
        token = parse_qs(parsed.query).get("token", [""])[0]
        if token:
            self._reply(200, SUCCESS_PAGE)
            self.server.outcome.settle(token=token)
        else:
            self._reply(400, FAILURE_PAGE)
            self.server.outcome.settle(failure="the login page called back without a token")

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
        # The request line holds the refresh token: never log it.
        return


def _port_range(minimum_port: int, maximum_port: int | None) -> range:
    last = maximum_port if maximum_port is not None else minimum_port + PORTS_TRIED - 1
    last = min(last, 65535)
    if not 1 <= minimum_port <= 65535:
        raise ValueError(f"minimum_port must be between 1 and 65535, got {minimum_port}")
    if last < minimum_port:
        raise ValueError(
            f"maximum_port ({maximum_port}) must not be below minimum_port ({minimum_port})"
        )
    return range(minimum_port, last + 1)


class LoginCallbackServer:
    """A one-shot HTTP server on ``127.0.0.1`` that waits for ``GET /?token=<refresh token>``.

    The server binds at construction, to the first free port of the range, so
    the login URL can name the port before the browser is opened.

    Parameters
    ----------
    minimum_port : int
        The first port to try.
    maximum_port : int | None
        The last port to try; ``None`` tries `PORTS_TRIED` ports.

    Attributes
    ----------
    port : int
        The port the server listens on.

    Raises
    ------
    ValueError
        If the range is not a range of ports.
    AlbertAuthError
        If every port of the range is taken.
    """

    def __init__(self, *, minimum_port: int, maximum_port: int | None) -> None:
        ports = _port_range(minimum_port, maximum_port)
        self._outcome = _Outcome()
        self._stopped = threading.Event()
        for port in ports:
            try:
                self._server = _Server(port, self._outcome)
            except OSError:
                continue
            break
        else:
            raise AlbertAuthError(
                f"SSO login: no free port on {HOST} between {ports.start} and {ports.stop - 1} "
                "for the login callback; pass another minimum_port/maximum_port"
            )
        self.port: int = self._server.server_address[1]

    def wait_for_token(self, login_url: str, *, timeout: float) -> str:
        """Open the login page in the browser and wait for it to call back.

        Answers the browser with a short success or failure page, then closes
        the server (whatever happens).

        Parameters
        ----------
        login_url : str
            The page to open.
        timeout : float
            Seconds to wait for the callback.

        Returns
        -------
        str
            The refresh token the callback carried.

        Raises
        ------
        AlbertAuthError
            If the wait timed out, was stopped, or the callback carried no token.
        """
        try:
            if not webbrowser.open(login_url):
                logger.warning("could not open a web browser: open %s to log in", login_url)
            deadline = time.monotonic() + timeout
            while not self._outcome.done.is_set():
                if self._stopped.is_set():
                    raise AlbertAuthError("SSO login: stopped before the browser came back")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AlbertAuthError(
                        f"SSO login timed out: the browser did not come back to "
                        f"http://localhost:{self.port}/ within {timeout:g} s"
                    )
                self._server.timeout = min(remaining, _POLL)
                self._server.handle_request()
        finally:
            self._server.server_close()
        if self._outcome.token is None:
            raise AlbertAuthError(f"SSO login failed: {self._outcome.failure}")
        return self._outcome.token

    def stop(self) -> None:
        """Make a running `wait_for_token` give up soon (safe from any thread, at any time)."""
        self._stopped.set()

    def close(self) -> None:
        """Release the port without waiting (for a server whose wait never started)."""
        self._server.server_close()
