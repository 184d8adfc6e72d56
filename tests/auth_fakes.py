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

from albert import AlbertClientCredentials

CLIENT_ID = "client-1"
CLIENT_SECRET = "csecret-s3cr3t-9876"
EMAIL = "ada@example.com"
BROWSER_REFRESH = "refresh-s3cr3t-browser"
SECRET_MARKER = "s3cr3t"  # in every secret the fakes hand out
CREDENTIALS = AlbertClientCredentials(
    id=CLIENT_ID, secret=CLIENT_SECRET, base_url="https://albert.test"
)


def access(n: int) -> str:  # the n-th access token of the fake endpoint: every b64token kind
    return f"access-s3cr3t_{n}.~+/="


def jwt(tenant: str, n: int) -> str:  # the JWT of ``tenant`` from the n-th SSO refresh
    return f"jwt-s3cr3t-{tenant}-{n}"


class FakeClock:
    """A clock that only moves when told to."""

    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TokenEndpoint:
    """The client-credentials token endpoint: each request gets the next access token."""

    issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.issued += 1  # never two at once: the tests send token requests in single flight
        return httpx.Response(200, json={"access_token": access(self.issued), "expires_in": 3600})


class SSORefreshEndpoint:
    """The SSO refresh endpoint: refresh n returns ``jwt(tenant, n)`` and ``refresh-s3cr3t-n``.

    Each refresh token is accepted once (`BROWSER_REFRESH` is a new one at each login), else
    401; ``delay`` slows the answer, after the token is spent."""

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
    """Plays the person at the browser: ``open(url)`` returns at once, and ``delay`` s later the
    login page calls back with the login's state (from a thread, with urllib: respx misses it).
    """

    def __init__(self, *, delay: float = 0.0, visit: bool = True) -> None:
        self.delay, self.visit = delay, visit
        self.opened: list[str] = []
        self.pages: list[tuple[int, str]] = []
        self._threads: list[threading.Thread] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        query = self.opened_query(-1)
        back = f"http://127.0.0.1:{query['port'][0]}/?token={BROWSER_REFRESH}&state={query['state'][0]}"
        if self.visit:
            self._threads.append(
                timer := threading.Timer(self.delay, lambda: self.pages.append(call(back)))
            )
            timer.start()
        return True

    def join(self) -> None:  # until every callback made has its answer
        for thread in self._threads:
            thread.join(10)

    def opened_query(self, index: int = 0) -> dict[str, list[str]]:
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
