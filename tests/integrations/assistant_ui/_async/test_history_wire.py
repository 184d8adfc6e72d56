"""Saving and loading threads on the wire: only what is missing is stored, also after a failure."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from albert import AsyncAlbert
from albert.exceptions import ServiceUnavailableError
from albert.integrations.assistant_ui import aload_thread, asave_thread
from albert.integrations.assistant_ui.converters import derived_request_id
from tests.integrations.assistant_ui.helpers import SESSIONS, FakeAlbert

QUESTION = {"role": "user", "content": [{"type": "text", "text": "Which  resin cures fastest?"}]}
ANSWER = {
    "role": "assistant",
    "content": [
        {"type": "tool-call", "toolCallId": "c1", "toolName": "lookup", "args": {"q": "cure"}},
        {"type": "text", "text": "Resin B."},
    ],
    "unstable_id": "answer-1",
}
RESULT = {
    "role": "tool",
    "content": [
        {
            "type": "tool-result",
            "toolCallId": "c1",
            "toolName": "lookup",
            "result": [1],
            "isError": None,
        }
    ],
}
FOLLOW_UP = {"role": "user", "content": [{"type": "text", "text": "And the slowest?"}]}
THREAD: list[dict[str, Any]] = [QUESTION, ANSWER, RESULT]


def with_ids(thread: list[dict[str, Any]], session_id: str = "ses-1") -> list[dict[str, Any]]:
    """The thread as it loads back: every message with its request id."""
    return [
        {**m, "unstable_id": m.get("unstable_id") or derived_request_id(session_id, i)}
        if m["role"] != "tool"
        else m
        for i, m in enumerate(thread)
    ]


async def test_a_new_thread_becomes_a_session_with_every_component(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    saved = await asave_thread(albert, "thread-1", THREAD)

    assert saved.session.source_session_id == "thread-1"
    assert saved.session.name == "Which resin cures fastest?"
    question_id = derived_request_id("ses-1", 0)
    assert fake_albert.keys() == [
        (question_id, "000", "text"),
        ("answer-1", "000", "tool_call"),
        ("answer-1", "001", "text"),
    ]
    assert [m.sequence for m in saved.created] == ["000", "000", "001"]
    assert fake_albert.calls("GET", "/messages$") == 0  # a new session holds nothing to list
    assert await aload_thread(albert, "thread-1") == with_ids(THREAD)


async def test_saving_the_same_thread_twice_creates_nothing_the_second_time(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    await asave_thread(albert, "thread-1", THREAD)
    creates = fake_albert.calls("POST", "/messages$")

    again = await asave_thread(albert, "thread-1", THREAD)
    loaded = await aload_thread(albert, "thread-1")
    assert await asave_thread(albert, "thread-1", loaded) == again  # what load gives is stored

    assert again.created == []
    assert fake_albert.calls("POST", "/messages$") == creates
    assert fake_albert.calls("POST", f"{SESSIONS}$") == 1
    assert len(fake_albert.keys()) == 3


async def test_a_grown_thread_stores_only_its_new_messages(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    await asave_thread(albert, "thread-1", THREAD)
    grown = [*await aload_thread(albert, "thread-1"), FOLLOW_UP]

    saved = await asave_thread(albert, "thread-1", grown)

    assert [(m.source_request_id, m.content) for m in saved.created] == [
        (derived_request_id("ses-1", 3), "And the slowest?")
    ]
    assert await aload_thread(albert, "thread-1") == with_ids(grown)


async def test_saving_again_after_a_failure_part_way_completes_it_without_duplicates(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    fake_albert.fail_creates_after = 2  # the third create answers 503

    with pytest.raises(ServiceUnavailableError) as caught:
        await asave_thread(albert, "thread-1", THREAD)
    assert caught.value.request_id == "req-503"
    assert len(fake_albert.keys()) == 2

    saved = await asave_thread(albert, "thread-1", THREAD)

    assert [(m.source_request_id, m.sequence) for m in saved.created] == [("answer-1", "001")]
    assert len(fake_albert.keys()) == 3
    assert await aload_thread(albert, "thread-1") == with_ids(THREAD)


async def test_a_component_stored_meanwhile_is_not_an_error(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    await asave_thread(albert, "thread-1", THREAD[:1])
    fake_albert.stale_listing = True  # a create of what is stored answers 409

    saved = await asave_thread(albert, "thread-1", THREAD)

    assert [m.source_request_id for m in saved.created] == ["answer-1", "answer-1"]
    assert len(fake_albert.keys()) == 3


async def test_a_tool_result_that_comes_in_a_later_request_is_stored_on_its_call(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    # A front-end tool: the call is saved with the run that made it, its result
    # comes with the next request (an add-tool-result command).
    await asave_thread(albert, "thread-1", [QUESTION, ANSWER])
    later = [*await aload_thread(albert, "thread-1"), RESULT]

    saved = await asave_thread(albert, "thread-1", later)

    assert saved.created == []
    assert [(m.source_request_id, m.sequence) for m in saved.updated] == [("answer-1", "000")]
    call = {"toolCallId": "c1", "toolName": "lookup", "args": {"q": "cure"}, "result": [1]}
    assert saved.updated[0].content == call
    assert len(fake_albert.keys()) == 3
    assert await aload_thread(albert, "thread-1") == with_ids(THREAD)
    again = await asave_thread(albert, "thread-1", later)
    assert (again.created, again.updated, fake_albert.updates) == ([], [], 1)


@pytest.mark.parametrize("unique_sources", [False, True], ids=["duplicates", "409"])
async def test_two_saves_of_a_new_thread_at_once_end_in_one_session(
    albert: AsyncAlbert, fake_albert: FakeAlbert, unique_sources: bool
) -> None:
    # Between this save's lookup (404) and its create, a concurrent save of the
    # thread creates the session (and the server keeps both, or refuses ours).
    fake_albert.racing_save = True
    fake_albert.unique_sources = unique_sources

    saved = await asave_thread(albert, "thread-1", THREAD)

    assert list(fake_albert.sessions) == ["ses-1"]  # ours, if made, was deleted
    assert saved.session.id == "ses-1"
    assert len(fake_albert.keys("ses-1")) == 3
    assert await aload_thread(albert, "thread-1") == with_ids(THREAD)


async def test_bad_messages_are_refused_before_anything_is_sent(
    albert: AsyncAlbert, fake_albert: FakeAlbert
) -> None:
    pdf_part = {"type": "file", "data": "x", "mimeType": "application/pdf"}
    pdf = {"role": "user", "content": [pdf_part]}
    with pytest.raises(ValueError, match="application/pdf"):
        await asave_thread(albert, "thread-1", [QUESTION, pdf])
    with pytest.raises(ValueError, match="thread_id"):
        await asave_thread(albert, "", THREAD)
    with pytest.raises(ValueError, match="thread_id"):
        await aload_thread(albert, "")
    assert fake_albert.router.calls.call_count == 0


async def test_the_session_name_can_be_chosen(albert: AsyncAlbert, fake_albert: FakeAlbert) -> None:
    saved = await asave_thread(albert, "thread-1", THREAD, name="Cure speed")
    assert saved.session.name == "Cure speed"
    saved = await asave_thread(albert, "thread-2", [ANSWER])
    assert saved.session.name == "assistant-ui thread thread-2"


async def test_loading_a_thread_never_saved_gives_no_messages(albert: AsyncAlbert) -> None:
    assert await aload_thread(albert, "nobody") == []


async def test_saving_can_show_a_progress_bar_of_what_it_writes(
    albert: AsyncAlbert, fake_albert: FakeAlbert, capsys: pytest.CaptureFixture[str]
) -> None:
    await asave_thread(albert, "thread-1", THREAD, progress=True)
    shown = capsys.readouterr().err
    await asave_thread(albert, "thread-1", [*THREAD, FOLLOW_UP])  # silent by default

    assert "saving thread-1: " in shown
    assert "3/3" in shown.rsplit("\r", 1)[-1]  # the three components it created
    assert capsys.readouterr().err == ""


async def test_saving_with_progress_without_tqdm_says_what_to_install_before_sending(
    albert: AsyncAlbert, fake_albert: FakeAlbert, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)

    with pytest.raises(ImportError, match=r"pip install 'albert-chat\[notebook\]'"):
        await asave_thread(albert, "thread-1", THREAD, progress=True)
    assert not fake_albert.router.calls
