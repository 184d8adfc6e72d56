"""Fakes for the authentication tests of both variants: a clock, token endpoints, a browser."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import parse_qs, urlencode, urlsplit

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
        return httpx.Response(
            200,
            json={"access_token": access(n), "expires_in": self.expires_in, "token_type": "Bearer"},
        )


class SSORefreshEndpoint:
    """The SSO refresh endpoint: refresh n returns ``jwt(tenant, n)`` and ``refresh-s3cr3t-n``.

    With ``single_use=True`` it behaves like the real server: it accepts the
    browser's refresh token and each one it hands out once, and answers
    ``401 invalid refresh token`` otherwise.
    """

    def __init__(
        self, tenants: Sequence[str] = ("TEN1",), exp: float = 3600, *, single_use: bool = False
    ) -> None:
        self.tenants = tenants
        self.exp = exp
        self.received: list[str] = []
        self.single_use = single_use
        self._valid = {BROWSER_REFRESH}
        self._issued = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content)["refreshtoken"]
        with self._lock:
            self.received.append(token)
            if self.single_use and token not in self._valid:
                return httpx.Response(401, json={"message": "invalid refresh token"})
            self._valid.discard(token)
            self._issued += 1
            n = self._issued
            self._valid.add(f"refresh-s3cr3t-{n}")
        return httpx.Response(
            200,
            json=[
                {
                    "tenantId": t,
                    "jwt": jwt(t, n),
                    "exp": self.exp,
                    "refreshToken": f"refresh-s3cr3t-{n}",
                }
                for t in self.tenants
            ],
        )


class FakeBrowser:
    """Plays the person at the browser: ``open(url)`` logs in, then the page calls back.

    Like a real browser, ``open`` returns at once; the callback request is made
    from another thread (with urllib, which respx does not intercept), after
    ``delay`` seconds, to ``127.0.0.1:<port from the login URL><path>``.
    """

    def __init__(
        self,
        *,
        token: str = BROWSER_REFRESH,
        query: str | None = None,
        delay: float = 0.0,
        visit: bool = True,
        path: str = "/",
    ) -> None:
        self.query = query if query is not None else urlencode({"token": token})
        self.delay = delay
        self.visit = visit
        self.path = path
        self.opened: list[str] = []
        self.pages: list[tuple[int, str]] = []
        self._threads: list[threading.Thread] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        if self.visit:
            port = int(parse_qs(urlsplit(url).query)["port"][0])
            callback = f"http://127.0.0.1:{port}{self.path}?{self.query}"
            thread = threading.Thread(target=self._call_back, args=(callback,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return True

    def _call_back(self, url: str) -> None:
        if self.delay:
            time.sleep(self.delay)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=10) as response:
                self.pages.append((response.status, response.read().decode()))
        except urllib.error.HTTPError as error:
            try:
                self.pages.append((error.code, error.read().decode()))
            finally:
                error.close()
        except Exception as error:  # recorded, so that a test can show it
            self.pages.append((0, repr(error)))

    def join(self) -> None:
        """Wait until every callback the browser made has its answer."""
        for thread in self._threads:
            thread.join(10)

    def opened_query(self, index: int = 0) -> dict[str, list[str]]:
        """Return the query of a login URL the browser opened."""
        return parse_qs(urlsplit(self.opened[index]).query)


def free_port() -> int:
    """Return a port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
