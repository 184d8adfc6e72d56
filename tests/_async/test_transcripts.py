"""Whole conversations: transcript() and export() on the wire, pages as tables, progress bars."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert.resources.base import ResourceList
from albert.resources.transcripts import Transcript
from tests._async.helpers import FLAGS, SESSIONS, query

MESSAGES = f"{SESSIONS}/ses-1/messages"
SESSION = {"id": "ses-1", "name": "Cure speed", "sourceSessionId": "src-1"}


def message(srid: str, sequence: str, kind: str, role: str, content: Any) -> dict[str, Any]:
    return {
        "parentId": "ses-1",
        "sourceRequestId": srid,
        "sequence": sequence,
        "componentType": kind,
        "userType": "user" if role == "user" else "system",
        "role": role,
        "Content": content,
    }


CONVERSATION = [
    message("r1", "000", "text", "user", "Which resin cures fastest?"),
    message("r2", "000", "reasoning_block", "assistant", {"steps": ["compare gel times"]}),
    message("r2", "001", "tool_call", "assistant", {"tool": "search", "arguments": {"q": "gel"}}),
    message("r2", "002", "text", "assistant", "Resin B."),
    message("r3", "000", "text", "user", "Thanks"),
]


def pages_of(items: list[dict[str, Any]], size: int) -> list[httpx.Response]:
    chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    return [
        httpx.Response(
            200,
            json={"Items": chunk, **({"lastKey": f"k{n}"} if n < len(chunks) - 1 else {})},
        )
        for n, chunk in enumerate(chunks)
    ]


def flags(*keys: tuple[str, str, str]) -> httpx.Response:
    items = [
        {"parentId": sid, "sourceRequestId": srid, "sequence": seq, "type": "starred"}
        for sid, srid, seq in keys
    ]
    return httpx.Response(200, json={"Items": items})


def mock_conversation(api: respx.MockRouter, size: int = 2) -> dict[str, respx.Route]:
    return {
        "session": api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION),
        "flags": api.get(FLAGS).mock(
            return_value=flags(("ses-1", "r2", "002"), ("ses-other", "r1", "000"))
        ),
        "messages": api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, size)),
    }


async def test_transcript_groups_the_messages_by_request_and_knows_the_stars(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    routes = mock_conversation(api)

    transcript = await client.chat_sessions.transcript(id="ses-1")

    assert isinstance(transcript, Transcript)
    assert transcript.session.name == "Cure speed"
    assert [
        (r.source_request_id, [m.sequence for m in r.messages]) for r in transcript.requests
    ] == [
        ("r1", ["000"]),
        ("r2", ["000", "001", "002"]),
        ("r3", ["000"]),
    ]
    assert [r.value for r in transcript.requests[1].roles] == ["assistant"]
    assert transcript.starred == frozenset({("r2", "002")})  # another session's star is not
    assert [transcript.is_starred(m) for m in transcript] == [False, False, False, True, False]
    assert query(routes["flags"].calls[0].request) == [("type", "starred")]
    assert routes["messages"].call_count == 3
    assert repr(transcript) == (
        "<Transcript of 'Cure speed' (ses-1): 5 messages in 3 requests, 1 starred>"
    )


async def test_export_streams_a_piece_per_page_before_the_next_page_is_asked_for(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    routes = mock_conversation(api, size=2)

    pieces: list[tuple[int, str]] = []
    async for piece in client.chat_sessions.export(id="ses-1", format="json"):
        pieces.append((routes["messages"].call_count, piece))

    text = "".join(piece for _, piece in pieces)
    data = json.loads(text)
    assert [m["sequence"] for m in data["messages"]] == ["000", "000", "001", "002", "000"]
    assert [m["starred"] for m in data["messages"]] == [False, False, False, True, False]
    assert data["session"]["name"] == "Cure speed"
    # A piece per page, each rendered while at most one page more was asked for
    # (the non-blocking client reads one page ahead).
    per_page = [calls for calls, piece in pieces if '"sequence"' in piece]
    assert len(per_page) == 3
    assert all(calls <= page + 2 for page, calls in enumerate(per_page))


async def test_export_json_is_what_json_dumps_writes_and_markdown_marks_the_stars(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    mock_conversation(api, size=2)
    text = "".join(
        [piece async for piece in client.chat_sessions.export(id="ses-1", format="json")]
    )
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"

    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 2))
    markdown = "".join([piece async for piece in client.chat_sessions.export(id="ses-1")])
    assert markdown.startswith("# Cure speed\n")
    assert "## #002 assistant · text ★\n\n```text\nResin B.\n```\n" in markdown
    assert markdown.endswith("5 messages, 1 starred.\n")


async def test_an_empty_session_exports(client: AsyncAlbert, api: respx.MockRouter) -> None:
    api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION)
    api.get(FLAGS).mock(return_value=flags())
    api.get(MESSAGES).mock(return_value=httpx.Response(200, json={"Items": []}))

    text = "".join(
        [piece async for piece in client.chat_sessions.export(id="ses-1", format="json")]
    )

    assert json.loads(text)["messages"] == []
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


async def test_export_refuses_an_empty_id_and_an_unknown_format_before_sending(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    import pydantic

    with pytest.raises(ValueError, match="empty"):
        client.chat_sessions.export(id="")
    with pytest.raises(pydantic.ValidationError):
        client.chat_sessions.export(id="ses-1", format="html")  # type: ignore[arg-type]
    assert not api.calls


async def test_pages_are_resource_lists_that_jupyter_shows_as_tables(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 3))

    pages = [page async for page in client.chat_messages.get_all(session_id="ses-1").pages()]

    assert [type(page) for page in pages] == [ResourceList, ResourceList]
    assert [len(page) for page in pages] == [3, 2]
    table = pages[0]._repr_html_()
    assert table.count("<tr>") == 4  # a header and a row per message
    assert "Which resin cures fastest?" in table


async def test_progress_shows_tqdms_bar_on_standard_error(
    client: AsyncAlbert, api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    mock_conversation(api, size=2)

    listed = [m async for m in client.chat_messages.get_all(session_id="ses-1", progress=True)]
    listing = capsys.readouterr().err
    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 2))
    await client.chat_sessions.transcript(id="ses-1", progress=True)
    reading = capsys.readouterr().err
    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 2))
    _ = [m async for m in client.chat_messages.get_all(session_id="ses-1")]  # silent by default

    assert len(listed) == 5
    assert "chat messages: " in listing
    assert "5 items" in listing.rsplit("\r", 1)[-1]
    assert "reading Cure speed: " in reading
    assert "5 messages" in reading.rsplit("\r", 1)[-1]
    assert capsys.readouterr().err == ""


async def test_progress_with_max_items_counts_to_it(
    client: AsyncAlbert, api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 2))

    _ = [
        m
        async for m in client.chat_messages.get_all(session_id="ses-1", max_items=3, progress=True)
    ]

    assert "3/3" in capsys.readouterr().err


async def test_progress_of_a_listing_shorter_than_max_items_ends_full(
    client: AsyncAlbert, api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    # max_items is a bound, not a count: a listing that ends before it is done,
    # and its bar says so (tqdm's notebook widget turns red when closed short).
    api.get(MESSAGES).mock(side_effect=pages_of(CONVERSATION, 2))

    listed = [
        m
        async for m in client.chat_messages.get_all(session_id="ses-1", max_items=20, progress=True)
    ]

    last_frame = capsys.readouterr().err.rstrip().rsplit("\r", 1)[-1]
    assert len(listed) == 5
    assert "5/5" in last_frame
    assert "100%" in last_frame


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.chat_sessions.get_all(progress=True),
        lambda c: c.chat_messages.get_all(session_id="ses-1", progress=True),
        lambda c: c.chat_folders.get_all(progress=True),
        lambda c: c.chat_flags.get_all(type="starred", progress=True),
        lambda c: c.chat_sessions.export(id="ses-1", progress=True),
    ],
)
async def test_progress_without_tqdm_says_what_to_install_before_sending(
    client: AsyncAlbert, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, call: Any
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)

    with pytest.raises(ImportError, match=r"pip install 'albert-chat\[notebook\]'"):
        call(client)
    with pytest.raises(ImportError, match=r"pip install 'albert-chat\[notebook\]'"):
        await client.chat_sessions.transcript(id="ses-1", progress=True)
    assert not api.calls


async def test_export_keeps_no_page_of_messages_it_has_written(
    client: AsyncAlbert, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from albert.display import ExportRenderer
    from albert.resources.chats import ChatMessage

    many = [message(f"r{i:03d}", "000", "text", "user", f"line {i}") for i in range(40)]
    api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION)
    api.get(FLAGS).mock(return_value=flags())
    api.get(MESSAGES).mock(side_effect=pages_of(many, 2))
    alive: list[int] = []
    render_page = ExportRenderer.messages

    def counting(self: ExportRenderer, page: Any) -> str:
        gc.collect()
        alive.append(sum(isinstance(o, ChatMessage) for o in gc.get_objects()))
        return render_page(self, page)

    monkeypatch.setattr(ExportRenderer, "messages", counting)
    gc.collect()
    before = sum(isinstance(o, ChatMessage) for o in gc.get_objects())

    pieces = [piece async for piece in client.chat_sessions.export(id="ses-1")]

    assert len(alive) == 20
    assert max(alive) - before <= 6  # this page, the one read ahead, and no more
    assert "line 39" in pieces[-2]
