"""Markdown export: what the server sends is fenced or escaped; --out does not clobber a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from albert import cli
from albert.cli.export import render
from albert.resources.base import validate_server_python
from albert.resources.chats import ChatMessage, ChatSession
from albert.resources.transcripts import Transcript

HOSTILE = (
    "hi\n# Forged heading\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"
    "[click](javascript:alert(1))\n<javascript:alert(1)>\n```\nbroke out of the fence?\n````"
)


def hostile_export() -> Transcript:
    session = validate_server_python(
        ChatSession,
        {
            "id": "ses`1",
            "name": "Evil\n# Forged <script>alert(1)</script> [x](javascript:alert(1))",
            "sourceSessionId": "src <b>",
        },
    )
    message = validate_server_python(
        ChatMessage,
        {
            "id": "m1",
            "sequence": "000\n# h",
            "componentType": "text",
            "userType": "system",
            "role": "assistant",
            "Content": HOSTILE,
        },
    )
    tool = validate_server_python(
        ChatMessage,
        {
            "id": "m2",
            "sequence": "001",
            "componentType": "<b>tool_call</b>",  # a type this SDK does not know
            "userType": "system",
            "role": "assistant",
            "Content": {"html": "<script>x</script>", "ticks": "````"},
        },
    )
    return Transcript(session=session, messages=(message, tool))


def outside_fences(markdown: str) -> tuple[list[str], list[list[str]]]:
    """Split CommonMark-style: the lines outside fenced blocks, and each block's lines."""
    outside: list[str] = []
    blocks: list[list[str]] = []
    fence: str | None = None
    for line in markdown.splitlines():
        if fence is None:
            opened = re.match(r"(`{3,})", line)
            if opened:
                fence = opened.group(1)
                blocks.append([])
            else:
                outside.append(line)
        elif re.fullmatch(rf"`{{{len(fence)},}}\s*", line):
            fence = None
        else:
            blocks[-1].append(line)
    assert fence is None, "a block was left open"
    return outside, blocks


def test_server_text_cannot_forge_markdown_or_bring_html_into_the_file() -> None:
    markdown = render(hostile_export(), "md")
    outside, blocks = outside_fences(markdown)

    headings = [line for line in outside if line.startswith("#")]
    assert headings == [
        r"# Evil \# Forged &lt;script&gt;alert\(1\)&lt;/script&gt; \[x\]\(javascript:alert\(1\)\)",
        r"## #000 \# h assistant · text",
        r"## #001 assistant · &lt;b&gt;tool\_call&lt;/b&gt;",  # a value the server made up
    ]
    for line in outside:
        prose = re.sub(r"(`+).*?\1", "", line)  # code spans show HTML as text
        assert "<" not in prose, line
        assert "](" not in prose, line
    assert "\n".join(blocks[0]) == HOSTILE  # the message itself, whole and unchanged
    assert '"html": "<script>x</script>"' in "\n".join(blocks[1])
    assert "- Session: ``ses`1`` (source `src <b>`)" in outside  # code spans: not HTML


def test_plain_text_and_json_content_are_fenced() -> None:
    session = validate_server_python(
        ChatSession, {"id": "s", "name": "Cure", "sourceSessionId": "x"}
    )
    text = validate_server_python(
        ChatMessage,
        {
            "sequence": "000",
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": "What is the Tg of PMMA?",
        },
    )
    markdown = render(Transcript(session=session, messages=(text,)), "md")
    assert markdown.startswith("# Cure\n")
    assert "## #000 user · text\n\n```text\nWhat is the Tg of PMMA?\n```\n" in markdown


def test_out_over_an_existing_file_asks_for_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "notes.md"
    existing.write_text("my notes", encoding="utf-8")

    assert cli.main(["export", "ses-1", "--out", str(existing)]) == 1

    assert "exists: pass --force to overwrite it" in capsys.readouterr().err
    assert existing.read_text(encoding="utf-8") == "my notes"


def test_out_with_force_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from albert.testing import LocalAlbert

    existing = tmp_path / "export.md"
    existing.write_text("old", encoding="utf-8")
    with LocalAlbert() as server:
        with server.client() as client:
            sid = client.chat_sessions.create(
                session=ChatSession(name="Fresh", source_session_id="f")
            ).id
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        assert cli.main(["export", sid or "", "--out", str(existing), "--force"]) == 0
    assert existing.read_text(encoding="utf-8").startswith("# Fresh\n")
