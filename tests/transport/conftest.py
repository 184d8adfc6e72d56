"""Fixtures of the transport tests: loopback servers, certificates, the SDK's default client."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from albert._transports.async_default_transport import default_transport_options
from tests.transport.servers import Handler, LoopbackServer

Serve = Callable[..., LoopbackServer]

#: The event loops the adapter serves (trio goes through httpx's own transport).
ASYNCIO_LOOPS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
]

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start loopback servers (``serve(handler, tls=None)``); all stop after the test."""
    servers: list[LoopbackServer] = []

    def start(handler: Handler, tls: ssl.SSLContext | None = None) -> LoopbackServer:
        server = LoopbackServer(handler, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def authority() -> object:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(authority: object) -> ssl.SSLContext:
    """A server context with a certificate for localhost and 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)  # type: ignore[attr-defined]
    return context


@pytest.fixture
def trusted_ca(authority: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Trust the test authority the way httpx users do: ``SSL_CERT_FILE``."""
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))  # type: ignore[attr-defined]
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    return path


def sdk_client(limits: httpx.Limits | None = None, **kwargs: object) -> httpx.AsyncClient:
    """Return an httpx client with the transports the SDK gives the clients it builds."""
    options = default_transport_options(
        limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
        httpx_transport=False,
    )
    return httpx.AsyncClient(**options, **kwargs)  # type: ignore[arg-type]
