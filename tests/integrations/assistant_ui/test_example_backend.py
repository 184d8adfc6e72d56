"""The example backend (examples/assistant_ui_backend): started in-process and over a socket."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

from albert.integrations.assistant_ui import AssistantClient, AsyncAssistantClient, load_thread
from albert.testing import LocalAlbert
from albert.testing.server import bind_socket

APP = Path(__file__).resolve().parents[3] / "examples" / "assistant_ui_backend" / "app.py"


def said(text: str) -> list[dict[str, Any]]:
    message = {"role": "user", "parts": [{"type": "text", "text": text}]}
    return [{"type": "add-message", "message": message}]


@pytest.fixture
def albert_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAlbert]:
    with LocalAlbert() as server:
        for name, value in server.env.items():  # what the example's AsyncAlbert() reads
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def example(albert_server: LocalAlbert, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("assistant_ui_backend_example", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # FastAPI resolves its annotations there
    spec.loader.exec_module(module)
    module.WORD_DELAY = 0.02
    return module


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # assistant-stream runs on asyncio


@pytest.fixture
async def in_process(example: ModuleType) -> AsyncIterator[AsyncAssistantClient]:
    app = example.app
    async with app.router.lifespan_context(app):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        async with AsyncAssistantClient("http://example.test", http_client=http) as client:
            yield client
        await http.aclose()


@pytest.mark.anyio
async def test_in_process_a_chat_is_answered_and_the_thread_saved_in_albert(
    in_process: AsyncAssistantClient, albert_server: LocalAlbert
) -> None:
    thread = in_process.threads("example-1")
    response = await thread.chat(commands=said("Which resin?"))
    answer = (await response.final_messages())[0]["content"][0]["text"]
    assert answer == "You asked: Which resin? Here is a slow answer, word by word."

    second = await thread.chat(commands=said("And then?"))
    await second.final_messages()

    with albert_server.client() as albert:
        loaded = load_thread(albert, "example-1")
    assert [(m["role"], m["content"][0]["text"]) for m in loaded] == [
        ("user", "Which resin?"),
        ("assistant", answer),
        ("user", "And then?"),
        ("assistant", second.text),
    ]


@pytest.mark.anyio
async def test_in_process_bad_commands_are_a_400(in_process: AsyncAssistantClient) -> None:
    from albert.exceptions import AlbertClientError, BadRequestError

    with pytest.raises(BadRequestError, match="add-message or add-tool-result"):
        await in_process.threads("example-2").chat(commands=[{"type": "launch"}])
    with pytest.raises(AlbertClientError) as caught:  # FastAPI's own validation
        await in_process.threads("example-2").chat(commands=[], threadId="")
    assert caught.value.status_code == 422


@pytest.fixture
def over_a_socket(example: ModuleType) -> Iterator[str]:
    sock = bind_socket()
    server = uvicorn.Server(uvicorn.Config(example.app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the example did not start"
        assert time.monotonic() < deadline, "the example did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_over_a_socket_the_answer_streams_and_a_cancelled_one_is_saved(
    over_a_socket: str, example: ModuleType, albert_server: LocalAlbert
) -> None:
    example.WORD_DELAY = 0.1  # the answer takes over a second: time to cancel it half-way
    with AssistantClient(over_a_socket) as client:
        thread = client.threads("example-3")
        response = thread.chat(commands=said("Tell me everything."))
        pieces = []
        for piece in response.iter_text():
            pieces.append(piece)
            if len(pieces) == 2:
                assert thread.cancel().json() == {"threadId": "example-3", "cancelled": True}
        full = "You asked: Tell me everything. Here is a slow answer, word by word."
        assert 2 <= len(pieces) < len(full.split())
    deadline = time.monotonic() + 5
    with albert_server.client() as albert:
        while len(loaded := load_thread(albert, "example-3")) < 2:
            assert time.monotonic() < deadline, "the cancelled answer was not saved"
            time.sleep(0.02)
    assert loaded[1]["content"] == [{"type": "text", "text": response.text}]
