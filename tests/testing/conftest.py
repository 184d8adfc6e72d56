"""Fixtures for the emulator's own tests: an emulator on either store, and httpx over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from albert.testing import EmulatorApp, MemoryStore, SQLiteStore, Store
from tests.testing.helpers import API, TOKEN


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "a.db")
    yield made
    made.close()


@pytest.fixture
def emulator(store: Store) -> EmulatorApp:
    return EmulatorApp(
        store=store,
        token=TOKEN,
        page_size=2,
        client_credentials={"svc": "s3cret"},
        sso_emails=["ada@example.com"],
    )


@pytest.fixture
async def http(emulator: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator),
        base_url=API,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client
