"""Headers functions: the async client awaits them, the sync one refuses an async one cleanly."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import pytest
import respx

from albert.integrations.assistant_ui import AssistantClient, AsyncAssistantClient
from tests.integrations.assistant_ui.helpers import BACKEND_URL


@pytest.fixture
def backend() -> Iterator[respx.Route]:
    with respx.mock(base_url=BACKEND_URL, assert_all_called=False) as router:
        yield router.post("/api/cancel").respond(200, json={})


async def token_headers() -> dict[str, str]:
    return {"Authorization": "Bearer from-a-coroutine"}


@pytest.mark.anyio
async def test_the_async_client_awaits_an_async_headers_function(backend: respx.Route) -> None:
    async with AsyncAssistantClient(BACKEND_URL, headers=token_headers) as client:
        await client.threads("t").cancel()
    async with AsyncAssistantClient(BACKEND_URL, headers=lambda: token_headers()) as client:
        await client.threads("t").cancel()
    assert [c.request.headers["authorization"] for c in backend.calls] == [
        "Bearer from-a-coroutine"
    ] * 2


def test_the_sync_client_refuses_an_async_headers_function_when_built() -> None:
    with pytest.raises(TypeError, match="the sync client cannot await an async headers function"):
        AssistantClient(BACKEND_URL, headers=token_headers)

    class Provider:
        async def __call__(self) -> dict[str, str]:
            return {}

    with pytest.raises(TypeError, match="cannot await"):
        AssistantClient(BACKEND_URL, headers=Provider())


def test_an_awaitable_returned_to_the_sync_client_is_closed_and_refused(
    backend: respx.Route,
) -> None:
    client = AssistantClient(BACKEND_URL, headers=lambda: token_headers())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="cannot await"):
            client.threads("t").cancel()
        gc.collect()
    assert caught == []  # no "coroutine ... was never awaited"
    assert not backend.called
    client.close()


def test_a_headers_function_must_return_a_dict(backend: respx.Route) -> None:
    with AssistantClient(BACKEND_URL, headers=lambda: ["Authorization", "x"]) as client:
        with pytest.raises(TypeError, match="must return a dict"):
            client.threads("t").cancel()
        with pytest.raises(ValueError, match="header"):
            AssistantClient(BACKEND_URL, headers={"X": "line\nbreak"}).threads("t").cancel()
    assert not backend.called


def test_headers_are_checked_without_showing_their_values(backend: respx.Route) -> None:
    client = AssistantClient(BACKEND_URL, headers={"Authorization": "Bearer se cret\n"})
    with pytest.raises(ValueError, match="header 'Authorization'") as caught:
        client.threads("t").cancel()
    assert "se cret" not in str(caught.value)
    assert not backend.called
