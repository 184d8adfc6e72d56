"""pytest fixtures for testing code that uses the SDK: ``albert_server``, ``albert_client``, ...

Registered through the ``pytest11`` entry point, so installing
``albert-chat[testing]`` makes them available::

    def test_my_report(albert_client):
        session = albert_client.chat_sessions.create(session=...)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert
    from albert.testing.server import LocalAlbert


@pytest.fixture
def albert_server() -> Iterator[LocalAlbert]:
    """Serve a fresh emulator on 127.0.0.1 for one test (`albert.testing.LocalAlbert`)."""
    from albert.testing import LocalAlbert

    with LocalAlbert() as server:
        yield server


@pytest.fixture
def albert_client(albert_server: LocalAlbert) -> Iterator[Albert]:
    """Yield an `Albert` client connected to the test's emulator."""
    with albert_server.client() as client:
        yield client


@pytest.fixture
async def async_albert_client(albert_server: LocalAlbert) -> AsyncIterator[AsyncAlbert]:
    """Yield an `AsyncAlbert` client for the test's emulator (needs an async test runner)."""
    async with albert_server.async_client() as client:
        yield client
