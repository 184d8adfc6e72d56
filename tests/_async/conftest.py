"""Fixtures of the variant tests: a client over a mocked API and a sleep recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from albert import AsyncAlbert
from albert._backends import async_primitives as primitives
from tests._async.helpers import BASE_URL, TOKEN


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def client(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert(base_url=BASE_URL, token=TOKEN) as albert:
        yield albert


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits the SDK asks for instead of sleeping."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(primitives, "sleep", record)
    return waits
