"""End-to-end fixtures: an emulator on a real loopback socket, and sleep recorders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from albert._backends import async_primitives, sync_primitives
from albert.testing import LocalAlbert


@pytest.fixture
def server() -> Iterator[LocalAlbert]:
    with LocalAlbert(page_size=4, sso_emails=["ada@example.com"]) as local:
        yield local


@pytest.fixture
def sync_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the sync client asks for (it looks ``sleep`` up at call time)."""
    waits: list[float] = []
    monkeypatch.setattr(sync_primitives, "sleep", waits.append)
    return waits


@pytest.fixture
def async_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the async client asks for."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(async_primitives, "sleep", record)
    return waits
