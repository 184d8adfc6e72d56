"""The albert-chat command: serve, demo, export; errors are one line, no traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import httpx
import pytest

from albert import cli
from albert.resources.chats import ChatMessage, ChatSession
from albert.testing import LocalAlbert


def test_demo_walks_both_variants() -> None:
    out = io.StringIO()
    assert cli._demo(out) == 0
    text = out.getvalue()
    assert "== Albert (sync)" in text
    assert "== AsyncAlbert (async)" in text
    assert "listed   6 messages in pages of [4, 2]" in text
    assert "Done: both clients walked the main job." in text


def test_export_markdown_and_json(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalAlbert(page_size=2) as server, server.client() as client:
        session = client.chat_sessions.create(
            session=ChatSession(name="Export me", source_session_id="x")
        )
        for i in range(3):
            client.chat_messages.create(
                message=ChatMessage.model_validate(
                    {
                        "parentId": session.id,
                        "componentType": "text",
                        "userType": "user",
                        "role": "user",
                        "Content": f"line {i}",
                    }
                )
            )
        monkeypatch.setenv("ALBERT_BASE_URL", server.base_url)
        monkeypatch.setenv("ALBERT_TOKEN", server.token)
        out = f"{tmp_path}/export.json"
        assert cli.main(["export", session.id or "", "--format", "json", "--out", out]) == 0
        with open(out, encoding="utf-8") as handle:
            data = json.load(handle)
        assert [m["Content"] for m in data["messages"]] == ["line 0", "line 1", "line 2"]
        markdown = cli.export_session(client, session.id or "", fmt="md")
        assert markdown.startswith("# Export me")
        assert "line 2" in markdown


def test_export_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalAlbert() as server:
        env = {"ALBERT_BASE_URL": server.base_url, "ALBERT_TOKEN": server.token, "PATH": ""}
        result = subprocess.run(
            [sys.executable, "-m", "albert.cli", "export", "no-such-session"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.startswith("albert-chat: error: 404 GET")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_prints_where_and_how_to_connect() -> None:
    from albert.testing.server import free_port

    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "albert.cli", "serve", "--port", str(port), "--token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        _check_serving(process, port)


def _check_serving(process: subprocess.Popen[str], port: int) -> None:
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == f"Albert emulator on http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/v3/chats/sessions",
                    headers={"Authorization": "Bearer t0k"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.json() == {"Items": []}
    finally:
        process.terminate()
        process.wait(timeout=10)
