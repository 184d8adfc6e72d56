"""`compat.AssistantClient` is a drop-in for the peer's: its README's examples, run on both.

Each example of the peer package's README (seed 004) is run as written twice,
once with ``assistant_ui.AssistantClient`` and once with
``albert.integrations.assistant_ui.compat.AssistantClient``, against the
README's own ``https://api.example.com`` (mocked): the requests on the wire,
the results and the warnings must be the same.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import assistant_ui
import httpx
import pytest
import respx

from albert.exceptions import AlbertConnectionError, InternalServerError
from albert.integrations.assistant_ui import compat
from albert.testing import LocalAlbert
from tests.integrations.assistant_ui.peer_types import assert_commands_conform

CLIENTS = {"peer": assistant_ui.AssistantClient, "compat": compat.AssistantClient}

messages = [{"role": "user", "content": [{"type": "text", "text": "Hello, how are you?"}]}]


async def fetch_token() -> str:
    await asyncio.sleep(0)
    return "your-token"


# ---- the README's examples, each a function of the AssistantClient class ----------------


def basic_example(AssistantClient: Any) -> Any:
    client = AssistantClient(base_url="https://api.example.com")

    async def main() -> Any:
        thread = client.threads("thread-123")
        response = await thread.chat(messages=messages, system="You are a helpful assistant.")
        printed = response.json()
        await client.close()
        return printed

    return asyncio.run(main())


def context_manager_example(AssistantClient: Any) -> Any:
    async def main() -> Any:
        async with AssistantClient(base_url="https://api.example.com") as client:
            thread = client.threads("thread-123")
            response = await thread.chat(messages=messages)
        return response.json()

    first = asyncio.run(main())
    with AssistantClient(base_url="https://api.example.com") as client:
        thread = client.threads("thread-123")
        response = thread.chat_sync(messages=messages)
    return [first, response.json()]


def authentication_example(AssistantClient: Any) -> Any:
    client = AssistantClient(
        base_url="https://api.example.com", headers={"Authorization": "Bearer your-token"}
    )
    static = client.threads("thread-123").chat_sync(messages=messages).json()
    client.close_sync()

    async def get_auth_headers() -> dict[str, str]:
        token = await fetch_token()
        return {"Authorization": f"Bearer {token}"}

    client = AssistantClient(base_url="https://api.example.com", headers=get_auth_headers)

    async def main() -> Any:
        response = await client.threads("thread-123").chat(messages=messages)
        await client.close()
        return response.json()

    return [static, asyncio.run(main())]


def tools_example(AssistantClient: Any) -> Any:
    tools = {
        "get_weather": {
            "description": "Get the current weather for a location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["location"],
            },
        }
    }
    client = AssistantClient(base_url="https://api.example.com")

    async def main() -> Any:
        thread = client.threads("thread-123")
        response = await thread.chat(messages=messages, tools=tools)
        await client.close()
        return response.json()

    return asyncio.run(main())


def cancel_example(AssistantClient: Any) -> Any:
    client = AssistantClient(base_url="https://api.example.com")

    async def main() -> Any:
        thread = client.threads("thread-123")
        # Start a long-running chat
        chat_task = asyncio.create_task(thread.chat(messages=messages))
        # Cancel it
        cancelled = await thread.cancel()
        chat_task.cancel()
        await asyncio.gather(chat_task, return_exceptions=True)
        await client.close()
        return cancelled.json()

    return asyncio.run(main())


def message_types_example(AssistantClient: Any) -> Any:
    text_message = {"role": "user", "content": [{"type": "text", "text": "Hello!"}]}
    image_message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What's in this image?"},
            {"type": "image", "image": "https://example.com/image.jpg"},
        ],
    }
    file_message = {
        "role": "user",
        "content": [
            {"type": "file", "data": "https://example.com/file.pdf", "mimeType": "application/pdf"}
        ],
    }
    assistant_message = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll help you with that."},
            {
                "type": "tool-call",
                "toolCallId": "call-123",
                "toolName": "get_weather",
                "args": {"location": "San Francisco"},
            },
        ],
    }
    tool_message = {
        "role": "tool",
        "content": [
            {
                "type": "tool-result",
                "toolCallId": "call-123",
                "toolName": "get_weather",
                "result": {"temperature": 72, "condition": "sunny"},
                "isError": False,
            }
        ],
    }
    thread_messages = [text_message, image_message, file_message, assistant_message, tool_message]
    with AssistantClient(base_url="https://api.example.com") as client:
        return client.threads("thread-123").chat_sync(messages=thread_messages).json()


EXAMPLES = [
    basic_example,
    context_manager_example,
    authentication_example,
    tools_example,
    cancel_example,
    message_types_example,
]


@pytest.fixture
def api_example() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="https://api.example.com", assert_all_called=False) as router:
        router.post("/api/chat").respond(200, json={"answer": "I'm fine."})
        router.post("/api/cancel").respond(200, json={"cancelled": True})
        yield router


def _run(example: Callable[[Any], Any], client: Any, router: respx.MockRouter) -> dict[str, Any]:
    router.calls.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = example(client)
    sent = [
        {
            "method": call.request.method,
            "url": str(call.request.url),
            "body": json.loads(call.request.content),
            "authorization": call.request.headers.get("authorization"),
            "content-type": call.request.headers.get("content-type"),
        }
        for call in router.calls
    ]
    return {
        "result": result,
        "sent": sorted(sent, key=lambda s: s["url"]),
        "warnings": [(w.category, str(w.message)) for w in caught],
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.__name__)
def test_each_readme_example_does_the_same_with_either_client(
    example: Callable[[Any], Any], api_example: respx.MockRouter
) -> None:
    peer = _run(example, CLIENTS["peer"], api_example)
    ours = _run(example, CLIENTS["compat"], api_example)
    assert ours == peer
    assert peer["sent"]  # the example did send something
    for request in peer["sent"]:
        if "commands" in request["body"]:
            assert_commands_conform(request["body"]["commands"])


def test_the_readme_flows_run_against_a_real_backend() -> None:
    hello = {"role": "user", "parts": [{"type": "text", "text": "Hi"}]}
    commands = [{"type": "add-message", "message": hello}]
    with LocalAlbert() as server:
        server.app.assistant.word_delay = 0
        headers = {"Authorization": f"Bearer {server.token}"}
        with compat.AssistantClient(server.base_url, headers=headers) as client:
            response = client.threads("thread-123").chat_sync(commands=commands)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert '"textDelta": "You"' in response.text
            assert client.threads("thread-123").cancel_sync().json() == {
                "threadId": "thread-123",
                "cancelled": False,
            }

        async def main() -> httpx.Response:
            async with compat.AssistantClient(server.base_url, headers=headers) as client:
                return await client.threads("thread-123").chat(commands=commands)

        assert asyncio.run(main()).text.endswith("data: [DONE]\n\n")


# ---- the differences, on purpose -----------------------------------------------------------------


def test_errors_are_the_sdks_exceptions(api_example: respx.MockRouter) -> None:
    api_example.post("/api/chat").respond(
        500, json={"message": "boom"}, headers={"x-request-id": "r-1"}
    )
    client = compat.AssistantClient(base_url="https://api.example.com")
    with pytest.raises(InternalServerError) as caught:
        client.threads("t").chat_sync(commands=[])
    assert isinstance(caught.value, Exception)  # what code written for the peer catches
    assert (caught.value.status_code, caught.value.request_id) == (500, "r-1")
    peer = assistant_ui.AssistantClient(base_url="https://api.example.com")
    with pytest.raises(Exception, match="Request failed with status 500"):
        peer.threads("t").chat_sync(commands=[])


def test_there_is_a_default_timeout_and_none_disables_it(api_example: respx.MockRouter) -> None:
    route = api_example.post("/api/chat")
    compat.AssistantClient("https://api.example.com").threads("t").chat_sync()
    assert route.calls.last.request.extensions["timeout"]["read"] == 60.0
    compat.AssistantClient("https://api.example.com", timeout=None).threads("t").chat_sync()
    assert route.calls.last.request.extensions["timeout"]["read"] is None


def test_a_chat_that_could_not_connect_is_retried(
    api_example: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albert._backends import sync_primitives

    monkeypatch.setattr(sync_primitives, "sleep", lambda seconds: None)
    route = api_example.post("/api/chat").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})]
    )
    client = compat.AssistantClient("https://api.example.com")
    assert client.threads("t").chat_sync().json() == {}
    assert route.call_count == 2
    route.mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(AlbertConnectionError):
        compat.AssistantClient("https://api.example.com", max_retries=0).threads("t").chat_sync()


def test_the_sync_methods_refuse_an_async_headers_function(api_example: respx.MockRouter) -> None:
    async def get_auth_headers() -> dict[str, str]:
        return {}

    client = compat.AssistantClient("https://api.example.com", headers=get_auth_headers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="cannot await an async headers function"):
            client.threads("t").chat_sync()
        gc.collect()
    assert caught == []  # nothing was left un-awaited
    # The peer raises ValueError, and leaves the coroutine it made un-awaited.
    peer = assistant_ui.AssistantClient("https://api.example.com", headers=get_auth_headers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            peer.threads("t").chat_sync()
        except ValueError as exc:
            message = str(exc)
        gc.collect()
    assert message == "Synchronous methods do not support async header functions"
    assert [w.category for w in caught] == [RuntimeWarning]
    assert "never awaited" in str(caught[0].message)
