"""The fixtures, as a user's project sees them (through the pytest11 entry point)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def readme_tests() -> str:
    """Return the README's code block with the fixtures, as a user would paste it."""
    section = README.read_text(encoding="utf-8").split("## Test your own code", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert "def test_" in block.group(1)
    return block.group(1)


SYNC = """
from albert import Albert
from albert.resources.chats import ChatSession

def test_user_code(albert_client, albert_server):
    assert isinstance(albert_client, Albert)
    created = albert_client.chat_sessions.create(
        session=ChatSession(name="mine", source_session_id="u1"))
    assert albert_client.chat_sessions.get_by_id(id=created.id).name == "mine"
    assert albert_server.base_url.startswith("http://127.0.0.1:")

def test_each_test_gets_a_fresh_emulator(albert_client):
    assert list(albert_client.chat_sessions.get_all()) == []
"""

ASYNC = """
import pytest
from albert import AsyncAlbert

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_user_code(async_albert_client, albert_server):
    assert isinstance(async_albert_client, AsyncAlbert)
    albert_server.faults.fail_next("GET", r"/chats/sessions$", status=503)
    assert [s async for s in async_albert_client.chat_sessions.get_all()] == []
"""

OPTIONS = """
import pytest

@pytest.fixture
def albert_server_options():
    return {"page_size": 1, "token": "fixed"}

def test_configured(albert_server):
    assert albert_server.app.page_size == 1
    assert albert_server.token == "fixed"
"""


def test_the_fixtures_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sync=SYNC, test_async=ASYNC, test_options=OPTIONS, test_readme=readme_tests()
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)
