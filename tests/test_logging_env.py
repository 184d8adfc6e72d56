"""ALBERT_LOG installs a stderr handler on the albert logger."""

from __future__ import annotations

import logging
import subprocess
import sys

SCRIPT = """
import httpx
from albert import Albert

def handler(request):
    return httpx.Response(200, json={"name": "n", "sourceSessionId": "s"})

client = Albert(base_url="https://albert.test", token="tok-SECRET-42",
                http_client=httpx.Client(transport=httpx.MockTransport(handler)))
client.chat_sessions.get_by_id(id="abc")
"""


def _run(level: str) -> str:
    env = {"ALBERT_LOG": level, "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    return result.stderr


def test_albert_log_debug_prints_attempts_without_the_token() -> None:
    err = _run("debug")
    assert "GET https://albert.test/api/v3/chats/sessions/abc -> 200" in err
    assert "(attempt 1)" in err
    assert "tok-SECRET-42" not in err


def test_albert_log_info_hides_attempts() -> None:
    assert _run("info") == ""


def test_silent_without_the_variable() -> None:
    import albert.core.logs  # noqa: F401  (what every client imports)

    handlers = logging.getLogger("albert").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)
    assert handlers  # a NullHandler: no "last resort" printing of retry warnings
