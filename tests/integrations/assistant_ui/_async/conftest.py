"""Fixtures of the variant tests: a client of a mocked backend, a mocked Albert, sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from albert import AsyncAlbert
from albert._backends import async_primitives as primitives
from albert.integrations.assistant_ui import AsyncAssistantClient
from tests.integrations.assistant_ui.helpers import ALBERT_URL, BACKEND_URL, TOKEN, FakeAlbert


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BACKEND_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def client(backend: respx.MockRouter) -> AsyncIterator[AsyncAssistantClient]:
    async with AsyncAssistantClient(BACKEND_URL, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits asked for instead of sleeping."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(primitives, "sleep", record)
    return waits


@pytest.fixture
def fake_albert() -> Iterator[FakeAlbert]:
    with respx.mock(base_url=ALBERT_URL, assert_all_called=False) as router:
        yield FakeAlbert(router)


@pytest.fixture
async def albert(fake_albert: FakeAlbert) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert(base_url=ALBERT_URL, token=TOKEN, max_retries=0) as c:
        yield c
