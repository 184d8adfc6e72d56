"""pytest fixtures for code that uses the SDK: ``albert_server``, ``albert_client``, ...

Installing ``albert-chat[testing]`` registers this module through the
``pytest11`` entry point, so the fixtures need no import::

    def test_my_report(albert_client):
        session = albert_client.chat_sessions.create(session=...)

Each test gets a fresh emulator. Override ``albert_server_options`` (in a
``conftest.py`` or a test module) to configure it::

    @pytest.fixture
    def albert_server_options():
        return {"page_size": 2}

Importing this module imports neither Starlette nor uvicorn: without the
``testing`` extra, only a test that uses a fixture fails (with an
``ImportError`` that names the extra).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert
    from albert.testing.server import LocalAlbert

__all__ = ["albert_client", "albert_server", "albert_server_options", "async_albert_client"]


@pytest.fixture
def albert_server_options() -> dict[str, Any]:
    """Return the keyword arguments of the test's `LocalAlbert` (override to configure it).

    Returns
    -------
    dict[str, Any]
        Empty by default: in memory, a random token, pages of 50.
    """
    return {}


@pytest.fixture
def albert_server(albert_server_options: dict[str, Any]) -> Iterator[LocalAlbert]:
    """Serve a fresh emulator on 127.0.0.1 for one test.

    Use its ``base_url`` and ``token``, plan faults with
    ``albert_server.faults``, or look at ``albert_server.app.store``.

    Parameters
    ----------
    albert_server_options : dict[str, Any]
        The options of `albert.testing.LocalAlbert`.

    Yields
    ------
    LocalAlbert
        The running emulator; it stops after the test.
    """
    from albert.testing import LocalAlbert

    with LocalAlbert(**albert_server_options) as server:
        yield server


@pytest.fixture
def albert_client(albert_server: LocalAlbert) -> Iterator[Albert]:
    """Yield an `albert.Albert` client connected to the test's emulator.

    Parameters
    ----------
    albert_server : LocalAlbert
        The test's emulator.

    Yields
    ------
    Albert
        The client; it is closed after the test.
    """
    with albert_server.client() as client:
        yield client


@pytest.fixture
async def async_albert_client(albert_server: LocalAlbert) -> AsyncIterator[AsyncAlbert]:
    """Yield an `albert.AsyncAlbert` client connected to the test's emulator.

    An async fixture: use it from async tests run by anyio
    (``@pytest.mark.anyio``) or pytest-asyncio (``asyncio_mode = "auto"``).

    Parameters
    ----------
    albert_server : LocalAlbert
        The test's emulator.

    Yields
    ------
    AsyncAlbert
        The client; it is closed after the test.
    """
    async with albert_server.async_client() as client:
        yield client
