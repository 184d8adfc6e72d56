"""The peer package's own client against the emulator's assistant-ui backend, over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import assistant_ui
import pytest

from albert.integrations.assistant_ui import MessageAccumulator, load_thread
from albert.integrations.assistant_ui.events import decode_sse_data
from albert.testing import LocalAlbert

WORDS = "alpha beta gamma delta"


@pytest.fixture
def server() -> Iterator[LocalAlbert]:
    with LocalAlbert() as local:
        local.app.assistant.word_delay = 0.05
        local.app.assistant.reply = lambda text: WORDS
        yield local


def _answer(body: str) -> MessageAccumulator:
    accumulator = MessageAccumulator()
    for frame in body.split("\n\n"):
        if frame.startswith("data: "):
            event = decode_sse_data(frame[len("data: ") :])
            if event is not None:
                accumulator.add(event)
    return accumulator


def test_the_peer_client_chats_with_the_emulator_and_the_thread_is_in_albert(
    server: LocalAlbert,
) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]

    async def chat() -> tuple[str, float]:
        async with assistant_ui.AssistantClient(server.base_url, headers=headers) as client:
            started = time.perf_counter()
            with pytest.warns(DeprecationWarning, match="'messages' parameter is deprecated"):
                response = await client.threads("peer-1").chat(messages=messages)
            return response.text, time.perf_counter() - started

    body, waited = asyncio.run(chat())
    answer = _answer(body)
    assert answer.text == WORDS
    assert answer.done
    # The peer buffers: it returns only once the whole answer (4 words, 50 ms apart) streamed.
    assert waited >= 3 * 0.05
    with server.client() as albert:
        thread = load_thread(albert, "peer-1")
    assert [(m["role"], m["content"][0]["text"]) for m in thread] == [
        ("user", "Hello there"),
        ("assistant", WORDS),
    ]


def test_the_peer_clients_sync_methods_work_too(server: LocalAlbert) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    hello = {"role": "user", "parts": [{"type": "text", "text": "Hi"}]}
    commands = [{"type": "add-message", "message": hello}]
    with assistant_ui.AssistantClient(server.base_url, headers=headers) as client:
        thread = client.threads("peer-2")
        response = thread.chat_sync(commands=commands)
        assert _answer(response.text).text == WORDS
        assert thread.cancel_sync().json() == {"threadId": "peer-2", "cancelled": False}
