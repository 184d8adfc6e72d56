"""Fakes for the authentication tests: a clock, the token endpoints, a browser."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import httpx

CLIENT_ID = "client-1"
CLIENT_SECRET = "csecret-s3cr3t-9876"
EMAIL = "ada@example.com"
BROWSER_REFRESH = "refresh-s3cr3t-browser"
#: Every secret the fakes hand out contains this marker.
SECRET_MARKER = "s3cr3t"


def access(n: int) -> str:
    """Return the n-th access token the fake token endpoint issues."""
    return f"access-s3cr3t-{n}"


def jwt(tenant: str, n: int) -> str:
    """Return the JWT of ``tenant`` from the n-th SSO refresh."""
    return f"jwt-s3cr3t-{tenant}-{n}"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TokenEndpoint:
    """The client-credentials token endpoint: each request gets the next access token."""

    def __init__(self, expires_in: float = 3600) -> None:
        self.expires_in = expires_in
        self.issued = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.issued += 1
            n = self.issued
        return httpx.Response(200, json={"access_token": access(n), "expires_in": self.expires_in})


class SSORefreshEndpoint:
    """The SSO refresh endpoint: refresh n returns ``jwt(tenant, n)`` and ``refresh-s3cr3t-n``.

    Like the real server, it accepts each refresh token it hands out once,
    answering ``401`` otherwise (the browser's, `BROWSER_REFRESH`, stands for
    a new one at each login); ``delay`` slows its answer after it spent the token.
    """

    def __init__(self, tenants: Sequence[str] = ("TEN1",), *, delay: float = 0.0) -> None:
        self.tenants = tenants
        self.delay = delay
        self.received: list[str] = []
        self._valid: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content)["refreshtoken"]
        with self._lock:
            self.received.append(token)
            if token != BROWSER_REFRESH and token not in self._valid:
                return httpx.Response(401, json={"message": "invalid refresh token"})
            self._valid.discard(token)
            n = len(self.received)
            self._valid.add(f"refresh-s3cr3t-{n}")
        time.sleep(self.delay)
        entries = [
            {"tenantId": t, "jwt": jwt(t, n), "exp": 3600, "refreshToken": f"refresh-s3cr3t-{n}"}
            for t in self.tenants
        ]
        return httpx.Response(200, json=entries)


def sso_api(refresh: SSORefreshEndpoint) -> httpx.MockTransport:
    """Return a transport for ``AlbertSSOClient(http_client=...)``: e-mail check and refresh."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(302, headers={"Location": "https://idp.test/authorize"})
        return refresh(request)

    return httpx.MockTransport(handler)


class FakeBrowser:
    """Plays the person at the browser: ``open(url)`` logs in, then the page calls back.

    Like a real browser, ``open`` returns at once; ``delay`` seconds later
    another thread calls ``127.0.0.1:<port><path>`` (with urllib, which respx
    does not intercept) with ``query``, where ``{state}`` stands for the login
    URL's ``state``.
    """

    def __init__(
        self,
        *,
        query: str = f"token={BROWSER_REFRESH}&state={{state}}",
        delay: float = 0.0,
        visit: bool = True,
        path: str = "/",
    ) -> None:
        self.query, self.delay, self.visit, self.path = query, delay, visit, path
        self.opened: list[str] = []
        self.pages: list[tuple[int, str]] = []
        self._threads: list[threading.Thread] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        if self.visit:
            query = parse_qs(urlsplit(url).query)
            port, state = query["port"][0], query["state"][0]
            target = f"http://127.0.0.1:{port}{self.path}?{self.query.format(state=state)}"
            thread = threading.Thread(target=self._call_back, args=(target,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return True

    def _call_back(self, url: str) -> None:
        time.sleep(self.delay)
        self.pages.append(call(url))

    def join(self) -> None:
        """Wait until every callback the browser made has its answer."""
        for thread in self._threads:
            thread.join(10)

    def opened_query(self, index: int = 0) -> dict[str, list[str]]:
        """Return the query of a login URL the browser opened."""
        return parse_qs(urlsplit(self.opened[index]).query)


def call(url: str) -> tuple[int, str]:
    """GET ``url`` with urllib (no proxy, not mocked); return the status and the page."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()
    except OSError as error:
        return 0, repr(error)


def free_port() -> int:
    """Return a port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
