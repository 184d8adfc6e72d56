"""The thread client against the emulator's assistant-ui backend over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from albert import AsyncAlbert
from albert._backends import async_primitives as primitives
from albert.exceptions import BadRequestError, UnauthorizedError
from albert.integrations.assistant_ui import AsyncAssistantClient, aload_thread
from albert.resources.chats import ChatMessage, ChatSession
from albert.testing import LocalAlbert

WORDS = "one two three four five six"


def said(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "add-message",
            "message": {"role": "user", "parts": [{"type": "text", "text": text}]},
        }
    ]


@pytest.fixture
def server() -> Iterator[LocalAlbert]:
    with LocalAlbert() as local:
        local.app.assistant.word_delay = 0.03
        local.app.assistant.reply = lambda text: WORDS
        yield local


@pytest.fixture
async def assistant(server: LocalAlbert) -> AsyncIterator[AsyncAssistantClient]:
    headers = {"Authorization": f"Bearer {server.token}"}
    async with AsyncAssistantClient(server.base_url, headers=headers) as client:
        yield client


@pytest.fixture
async def albert(server: LocalAlbert) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert(base_url=server.base_url, token=server.token) as client:
        yield client


async def wait_until_idle(server: LocalAlbert, thread_id: str) -> None:
    for _ in range(500):  # at most 5 s: the backend saves the thread, then forgets the run
        if not server.app.assistant.running(thread_id):
            return
        await primitives.sleep(0.01)
    raise AssertionError(f"the backend still answers {thread_id!r}")


async def test_the_answer_streams_word_by_word(
    server: LocalAlbert, assistant: AsyncAssistantClient
) -> None:
    server.app.assistant.word_delay = 0.1  # the answer takes half a second after its first word
    response = await assistant.threads("t-1").chat(commands=said("Count to six."))
    assert response.format == "assistant-transport"
    pieces = []
    async for text in response.iter_text():
        if not pieces:
            # The first words arrive while the backend is still answering.
            assert server.app.assistant.running("t-1")
        pieces.append(text)
    assert pieces == ["one", " two", " three", " four", " five", " six"]
    assert response.messages == [
        {"role": "assistant", "content": [{"type": "text", "text": WORDS}], "unstable_id": None}
    ]


async def test_a_chat_cancelled_mid_stream_stops_and_its_partial_answer_is_saved(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    server.app.assistant.reply = lambda text: " ".join(f"w{i}" for i in range(300))
    thread = assistant.threads("t-2")
    response = await thread.chat(commands=said("Talk for a long time."))
    pieces = []
    async for piece in response.iter_text():
        pieces.append(piece)
        if len(pieces) == 3:
            cancelled = await thread.cancel()
            assert cancelled.json() == {"threadId": "t-2", "cancelled": True}
    words = response.text.split()
    assert 3 <= len(words) < 300
    await wait_until_idle(server, "t-2")

    loaded = await aload_thread(albert, "t-2")
    assert [m["role"] for m in loaded] == ["user", "assistant"]
    assert loaded[1]["content"] == [{"type": "text", "text": response.text}]


async def test_a_tool_call_and_its_result_stream_before_the_answer(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    response = await assistant.threads("t-3").chat(commands=said("Please count_words here"))
    messages = await response.final_messages()
    call = messages[0]["content"][0]
    assert (call["type"], call["toolName"], call["args"]) == (
        "tool-call",
        "count_words",
        {"text": "Please count_words here"},
    )
    assert messages[0]["content"][1]["text"].startswith(
        'The count_words tool returned {"words": 3}.'
    )
    assert messages[1] == {
        "role": "tool",
        "content": [
            {
                "type": "tool-result",
                "toolCallId": call["toolCallId"],
                "toolName": "count_words",
                "result": {"words": 3},
                "isError": False,
            }
        ],
    }
    await wait_until_idle(server, "t-3")
    loaded = await aload_thread(albert, "t-3")
    assert [m["role"] for m in loaded] == ["user", "assistant", "tool"]
    assert loaded[1]["content"] == messages[0]["content"]
    assert loaded[2] == messages[1]


async def test_the_data_stream_when_asked_for_adds_up_to_the_same_answer(
    server: LocalAlbert,
) -> None:
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "text/plain"}
    async with AsyncAssistantClient(server.base_url, headers=headers) as client:
        response = await client.threads("t-4").chat(commands=said("Count."))
        assert response.format == "data-stream"
        assert [e.code async for e in response] == ["0"] * 6
    assert response.text == WORDS


async def test_an_answer_closed_early_stops_the_run_and_is_saved(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    server.app.assistant.reply = lambda text: " ".join(f"w{i}" for i in range(300))
    async with await assistant.threads("t-5").chat(commands=said("Go on.")) as response:
        async for _ in response.iter_text():
            break
    await wait_until_idle(server, "t-5")
    loaded = await aload_thread(albert, "t-5")
    assert loaded[0]["content"] == [{"type": "text", "text": "Go on."}]
    assert 1 <= len(loaded[1]["content"][0]["text"].split()) < 300


async def test_the_backends_errors_are_typed(
    server: LocalAlbert, assistant: AsyncAssistantClient
) -> None:
    with pytest.raises(BadRequestError, match="commands") as caught:
        await assistant.threads("t-6").chat(commands=[{"type": "launch-rocket"}])
    assert caught.value.request_id is not None
    anonymous = AsyncAssistantClient(server.base_url)
    with pytest.raises(UnauthorizedError):
        await anonymous.threads("t-6").chat(commands=said("hi"))
    await anonymous.aclose()


# ---- a thread saved again: what the emulator keeps ---------------------------------------


@pytest.fixture
async def client_sequences(albert: AsyncAlbert) -> None:
    """Skip unless the emulator keeps the sequences the client sends (as the API contract says)."""
    session = await albert.chat_sessions.create(
        session=ChatSession(name="probe", source_session_id="probe")
    )
    created = await albert.chat_messages.create(
        message=ChatMessage.model_validate(
            {
                "parentId": session.id,
                "sourceRequestId": "probe",
                "sequence": "007",
                "componentType": "text",
                "userType": "user",
                "role": "user",
                "Content": "probe",
            }
        )
    )
    await albert.chat_sessions.delete(id=session.id or "")
    if created.sequence != "007":
        pytest.skip(
            "this emulator assigns sequences itself; the API contract lets the client choose"
        )


@pytest.mark.usefixtures("client_sequences")
async def test_chatting_twice_in_a_thread_saves_each_message_once(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    thread = assistant.threads("t-7")
    for text in ("First question.", "Second question."):
        await (await thread.chat(commands=said(text))).final_messages()
        await wait_until_idle(server, "t-7")
    loaded = await aload_thread(albert, "t-7")
    assert [(m["role"], m["content"][0]["text"]) for m in loaded] == [
        ("user", "First question."),
        ("assistant", WORDS),
        ("user", "Second question."),
        ("assistant", WORDS),
    ]


@pytest.mark.usefixtures("client_sequences")
async def test_a_save_that_failed_is_completed_by_the_next_chat(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    thread = assistant.threads("t-8")
    await (await thread.chat(commands=said("First."))).final_messages()
    await wait_until_idle(server, "t-8")
    server.faults.fail_next("POST", r"/chats/sessions/[^/]+/messages$", status=503)

    response = await thread.chat(commands=said("Second."))
    await response.final_messages()
    (error,) = response.errors
    assert error.startswith("the thread was not saved in Albert: 503 POST ")
    assert "injected fault: 503" in error
    await wait_until_idle(server, "t-8")
    assert len(await aload_thread(albert, "t-8")) == 2  # the second exchange is missing

    await (await thread.chat(commands=said("Third."))).final_messages()
    await wait_until_idle(server, "t-8")

    loaded = await aload_thread(albert, "t-8")
    assert [(m["role"], m["content"][0]["text"]) for m in loaded] == [
        ("user", "First."),
        ("assistant", WORDS),
        ("user", "Second."),
        ("assistant", WORDS),
        ("user", "Third."),
        ("assistant", WORDS),
    ]


@pytest.mark.usefixtures("client_sequences")
async def test_a_thread_sent_whole_again_is_saved_without_duplicates(
    server: LocalAlbert, assistant: AsyncAssistantClient, albert: AsyncAlbert
) -> None:
    # The older runtimes send the whole thread each time, without ids.
    thread = assistant.threads("t-9")
    sent: list[dict[str, Any]] = []
    for text in ("First.", "Second."):
        sent.append({"role": "user", "content": [{"type": "text", "text": text}]})
        response = await thread.chat(messages=sent)
        sent.extend(await response.final_messages())
        await wait_until_idle(server, "t-9")
    loaded = await aload_thread(albert, "t-9")
    assert [(m["role"], m["content"][0]["text"]) for m in loaded] == [
        ("user", "First."),
        ("assistant", WORDS),
        ("user", "Second."),
        ("assistant", WORDS),
    ]
