"""``albert-chat demo``: the main job with both clients, as the server answers it."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from starlette.responses import JSONResponse, Response

from albert import cli
from albert.cli import demo_script
from albert.cli.demo_script import DemoFailed, Transcript
from albert.resources.chats import ChatMessage
from albert.testing.app import EmulatorApp
from albert.testing.store import Entry

HEADERS = {
    "sync": "== Albert (sync client): the code is albert/cli/_sync/demo_walk.py",
    "async": "== AsyncAlbert (async client): the code is albert/cli/_async/demo_walk.py",
}


def _demo(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    """Run the demo; return its lines: the whole output, and each walk's."""
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    sync_at, async_at = lines.index(HEADERS["sync"]), lines.index(HEADERS["async"])
    return {"all": lines, "sync": lines[sync_at:async_at], "async": lines[async_at:]}


def test_demo_walks_the_main_job_with_both_clients(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _demo(capsys)
    request_ids = set()
    for variant in ("sync", "async"):
        walk = lines[variant]
        text = "\n".join(walk)
        # the user's turn: one request whose id the SDK chose, its text at "000"
        user = re.search(r"^  request   req 1 (\S+): the user's turn$", text, re.M)
        assistant = re.search(r"^  request   req 2 (\S+): the assistant's turn$", text, re.M)
        assert user, text
        assert assistant, text
        for found in (user, assistant):
            assert uuid.UUID(found[1]).version == 4
            request_ids.add(found[1])
        assert "  message   req 1 #000 user      text            Which epoxy" in text
        # the assistant's turn: one request, its components at "000", "001", ...
        for position, (kind, _) in enumerate(demo_script.ANSWER):
            assert f"  message   req 2 #{position:03d} assistant {kind.value:<15} " in text
        # the listing, one line per page: requests in creation order, components by sequence
        for line in (
            "  listed    page 1: req 1 #000 · req 2 #000 #001 #002",
            "  listed    page 2: req 2 #003 #004",
            "  listed    6 messages in 2 pages: requests in order, components by sequence",
            "  starred   req 2 #002; its flags: starred",
            f"  edited    req 2 #002 {demo_script.EDITED}",
            "            | ## #002 assistant · text ★",
            f"            | {demo_script.EDITED}",
            "  cleaned   removed the star, deleted the session and the folder",
        ):
            assert line in walk, (line, text)
        assert not any(line.startswith("  listed    [") or "[[" in line for line in walk)
    assert len(request_ids) == 4  # every request its own id
    assert re.search(
        r"^Done: both clients walked the main job in \d+ ms\.$", "\n".join(lines["all"]), re.M
    )
    too_wide = [line for line in lines["all"] if len(line) > 79 and not line.startswith("   /")]
    assert too_wide == []


@pytest.mark.parametrize("variant", ["sync", "async"])
def test_the_demo_prints_the_file_that_holds_each_walk(
    variant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _demo(capsys)
    printed = Path(lines[variant][1].strip())
    module = importlib.import_module(f"albert.cli._{variant}.demo_walk")
    assert printed.is_absolute()
    assert printed.is_file()
    assert printed.samefile(module.__file__ or "")
    assert printed.as_posix().endswith(f"albert/cli/_{variant}/demo_walk.py")
    source = printed.read_text(encoding="utf-8")
    opening = {
        "sync": "    with Albert(base_url=base_url, token=token) as client:",
        "async": "    async with AsyncAlbert(base_url=base_url, token=token) as client:",
    }[variant]
    assert opening in source
    assert ("async def walk(" in source) == (variant == "async")
    assert "source_request_id=request_id," in source
    assert 'sequence=f"{position:03d}",' in source
    # the way to print it that the demo names prints that file
    command = f"  python -m inspect albert.cli._{variant}.demo_walk"
    assert command in lines["all"]
    shown = subprocess.run(
        [sys.executable, *command.split()[1:]],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert shown.stdout.rstrip("\n") == source.rstrip("\n")


def test_a_demo_failure_is_one_line_naming_what_the_server_answered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = EmulatorApp._page

    def newest_first(self: EmulatorApp, entries: Iterable[Entry]) -> Response:
        body = json.loads(bytes(page(self, entries).body))
        body["Items"].reverse()
        return JSONResponse(body)

    monkeypatch.setattr(EmulatorApp, "_page", newest_first)  # a server listing pages backwards
    assert cli.main(["demo"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "albert-chat: error: the demo expected the listing "
        "req 1 #000 · req 2 #000 #001 #002 #003 #004, "
        "the server answered req 2 #002 #001 #000 · req 1 #000 · req 2 #004 #003\n"
    )
    assert "  listed    page 1: " in captured.out


def _message(srid: str, sequence: str) -> ChatMessage:
    return ChatMessage.model_validate(
        {
            "id": f"msg-{srid}-{sequence}",
            "sourceRequestId": srid,
            "sequence": sequence,
            "componentType": "text",
            "userType": "system",
            "role": "assistant",
            "Content": "x",
        }
    )


def test_the_answer_check_refuses_sequences_the_server_chose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    transcript = Transcript(sys.stdout)
    numbered = [_message("r", f"{i:03d}") for i in range(1, len(demo_script.ANSWER) + 1)]
    with pytest.raises(DemoFailed, match=r"the components at \['000'.*answered \['001'"):
        transcript.answer(numbered, "r")
    with pytest.raises(DemoFailed, match="every component in request r"):
        transcript.answer([_message("other", f"{i:03d}") for i in range(5)], "r")
    assert capsys.readouterr().out == ""
