"""Which transport a client gets: the adapter by default, httpx's own when asked or needed."""

from __future__ import annotations

import httpx
import pytest

from albert import Albert, AsyncAlbert, AsyncAlbertSession
from albert._transports.aiohttp_transport import AiohttpTransport


def test_the_async_client_gets_the_adapter_and_the_sync_one_httpx_transport() -> None:
    albert = AsyncAlbert(base_url="http://albert.invalid", token="t")
    assert isinstance(albert.session.http_client._transport, AiohttpTransport)
    for value in (False, True):  # the blocking client keeps httpx's, whatever it is told
        with Albert(base_url="http://albert.invalid", token="t", httpx_transport=value) as sync:
            assert type(sync.session.http_client._transport) is httpx.HTTPTransport


def test_httpx_transport_gives_the_async_client_httpx_own() -> None:
    albert = AsyncAlbert(base_url="http://albert.invalid", token="t", httpx_transport=True)
    assert type(albert.session.http_client._transport) is httpx.AsyncHTTPTransport


def test_limits_reach_the_adapter() -> None:
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=1, keepalive_expiry=2)
    albert = AsyncAlbert(base_url="http://albert.invalid", token="t", limits=limits)
    assert albert.session.http_client._transport._limits == limits  # type: ignore[attr-defined]


@pytest.mark.parametrize("client", [Albert, AsyncAlbert])
def test_httpx_transport_beside_a_client_of_your_own_is_refused(client: type) -> None:
    http_client = httpx.Client() if client is Albert else httpx.AsyncClient()
    with pytest.raises(ValueError, match="used as given"):
        client(
            base_url="http://albert.invalid",
            token="t",
            http_client=http_client,
            httpx_transport=True,
        )


def test_httpx_transport_beside_a_session_is_refused() -> None:
    session = AsyncAlbertSession(base_url="http://albert.invalid", token="t")
    with pytest.raises(ValueError, match="httpx_transport"):
        AsyncAlbert(session=session, httpx_transport=True)


async def test_a_client_of_your_own_is_used_as_given() -> None:
    mock = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"id": "s1", "name": "n", "sourceSessionId": "x"})
    )
    async with AsyncAlbert(
        base_url="http://albert.invalid", token="t", http_client=httpx.AsyncClient(transport=mock)
    ) as albert:
        assert albert.session.http_client._transport is mock
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "n"
