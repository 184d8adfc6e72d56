"""Each client takes the HTTP client and the session of its own kind, and says so otherwise."""

from __future__ import annotations

import httpx
import pytest

from albert import Albert, AsyncAlbert
from albert._async.session import AsyncAlbertSession
from albert._sync.session import AlbertSession

BASE = "https://albert.test"


def test_an_http_client_of_the_other_kind_is_refused_when_built() -> None:
    with httpx.Client() as sync_http, pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncAlbert(base_url=BASE, token="t", http_client=sync_http)  # type: ignore[arg-type]
    async_http = httpx.AsyncClient()
    with pytest.raises(TypeError, match=r"httpx\.Client, got AsyncClient"):
        Albert(base_url=BASE, token="t", http_client=async_http)  # type: ignore[arg-type]


def test_a_session_of_the_other_kind_is_refused_when_built() -> None:
    with AlbertSession(base_url=BASE, token="t") as sync_session:
        with pytest.raises(TypeError, match="AsyncAlbertSession, got AlbertSession"):
            AsyncAlbert(session=sync_session)  # type: ignore[arg-type]
        assert Albert(session=sync_session).session is sync_session
    async_session = AsyncAlbertSession(base_url=BASE, token="t")
    with pytest.raises(TypeError, match="AlbertSession, got AsyncAlbertSession"):
        Albert(session=async_session)  # type: ignore[arg-type]
