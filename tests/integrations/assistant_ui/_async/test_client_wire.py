"""The thread client on the wire: the request, the streamed answer, errors, retries, timeouts."""

from __future__ import annotations

import httpx
import pytest
import respx

from albert.core.config import DEFAULT_TIMEOUT
from albert.exceptions import (
    AlbertClientClosedError,
    AlbertConnectionError,
    AlbertDecodeError,
    AlbertTimeoutError,
    BadRequestError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from albert.integrations.assistant_ui import AsyncAssistantClient
from albert.integrations.assistant_ui.commands import chat_body
from tests.integrations.assistant_ui.helpers import (
    BACKEND_URL,
    DATA_STREAM,
    HELLO,
    SSE,
    TOKEN,
    BrokenStream,
    body,
    sse,
)

USER = [{"role": "user", "content": [{"type": "text", "text": "Which resin?"}]}]
COMMANDS = [
    {"type": "add-message", "message": {"role": "user", "parts": [{"type": "text", "text": "Hi"}]}}
]


def ok(text: str = HELLO, headers: dict[str, str] = SSE) -> httpx.Response:
    return httpx.Response(200, text=text, headers={**headers, "x-request-id": "req-ok"})


# ---- the request ---------------------------------------------------------------------------------


async def test_chat_posts_the_peer_packages_body(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    tools = {"lookup": {"description": "find", "parameters": {"type": "object"}}}

    response = await client.threads("thread-1").chat(
        messages=USER,
        commands=COMMANDS,
        system="Be brief.",
        tools=tools,
        unstable_assistantMessageId="m-1",
        runConfig={"custom": 1},
        state={"a": 1},
        temperature=0.2,
    )
    await response.aclose()

    request = route.calls.last.request
    assert body(request) == chat_body(
        "thread-1",
        messages=USER,
        commands=COMMANDS,
        system="Be brief.",
        tools=tools,
        unstable_assistant_message_id="m-1",
        run_config={"custom": 1},
        state={"a": 1},
        extra={"temperature": 0.2},
    )
    assert body(request)["commands"][0] == COMMANDS[0]  # then the messages, as commands
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"].startswith("text/event-stream")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("albert-chat-python/")


async def test_only_the_arguments_given_are_sent(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    await (await client.threads("t").chat(commands=COMMANDS)).aclose()
    assert body(route.calls.last.request) == {"threadId": "t", "commands": COMMANDS}


async def test_a_base_url_with_a_path_keeps_it(backend: respx.MockRouter) -> None:
    route = backend.post("/assistant/api/chat").mock(return_value=ok())
    async with AsyncAssistantClient(BACKEND_URL + "/assistant/") as client:
        await (await client.threads("t").chat()).aclose()
    assert route.called


async def test_a_headers_function_is_called_for_each_request(
    backend: respx.MockRouter,
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    tokens = iter(["one", "two"])
    async with AsyncAssistantClient(
        BACKEND_URL,
        headers=lambda: {"Authorization": f"Bearer {next(tokens)}", "Accept": "text/plain"},
    ) as client:
        for _ in range(2):
            await (await client.threads("t").chat()).aclose()
    sent = [call.request.headers for call in route.calls]
    assert [h["authorization"] for h in sent] == ["Bearer one", "Bearer two"]
    assert sent[0]["accept"] == "text/plain"  # the caller's header wins, whatever its case


async def test_cancel_posts_the_thread_id(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    route = backend.post("/api/cancel").mock(return_value=httpx.Response(200, json={"ok": True}))
    response = await client.threads("thread-1").cancel()
    assert body(route.calls.last.request) == {"threadId": "thread-1"}
    assert response.json() == {"ok": True}


async def test_bad_arguments_are_refused_before_sending(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    with pytest.raises(ValueError, match="thread_id"):
        client.threads("")
    with pytest.raises(ValueError, match="messages must be a list"):
        await client.threads("t").chat(messages="hello")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="header name"):
        await AsyncAssistantClient(BACKEND_URL, headers={"bad header": "x"}).threads("t").chat()
    with pytest.raises(ValueError, match="http"):
        AsyncAssistantClient("ftp://example.test")
    with pytest.raises(ValueError, match="user name or password"):
        AsyncAssistantClient("https://user:secret@example.test")
    with pytest.raises(TypeError, match="headers must be"):
        AsyncAssistantClient(BACKEND_URL, headers=42)  # type: ignore[arg-type]
    assert not route.called


# ---- the answer ----------------------------------------------------------------------------------


async def test_the_answer_is_iterated_event_by_event(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(return_value=ok())
    response = await client.threads("t").chat(commands=COMMANDS)
    assert (response.status_code, response.format, response.request_id) == (
        200,
        "assistant-transport",
        "req-ok",
    )
    kinds = [event.type async for event in response]
    assert kinds == ["part-start", "text-delta", "text-delta", "part-finish", "done"]
    assert response.finished
    assert response.text == "Hello world"
    assert response.messages == [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Hello world"}],
            "unstable_id": None,
        }
    ]


async def test_iter_text_gives_the_text_as_it_grows(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(return_value=ok())
    response = await client.threads("t").chat()
    assert [text async for text in response.iter_text()] == ["Hello", " world"]


async def test_final_messages_reads_the_whole_answer(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(
        return_value=ok('0:"Hi"\n0:" there"\nd:{"finishReason":"stop"}\n', DATA_STREAM)
    )
    response = await client.threads("t").chat(unstable_assistantMessageId="m-9")
    assert response.format == "data-stream"
    assert await response.final_messages() == [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Hi there"}],
            "unstable_id": "m-9",
        }
    ]
    assert response.finish_reason == "stop"
    assert await response.final_messages() == response.messages  # read once, kept


async def test_an_answer_closed_early_releases_the_connection(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(return_value=ok())
    async with await client.threads("t").chat() as response:
        async for event in response:
            assert event.type == "part-start"
            break
    assert response.finished
    assert response.http_response.is_closed
    assert [event async for event in response] == []


async def test_a_body_in_neither_format_is_a_decode_error(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(return_value=httpx.Response(200, json={"answer": "hi"}))
    response = await client.threads("t").chat()
    assert response.format is None
    with pytest.raises(AlbertDecodeError, match=r"text/event-stream .* got application/json"):
        await response.final_messages()
    assert response.http_response.is_closed


async def test_an_event_that_is_not_json_is_a_decode_error(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(return_value=ok("data: {oops\n\n"))
    response = await client.threads("t").chat()
    with pytest.raises(AlbertDecodeError, match="not JSON") as caught:
        await response.final_messages()
    assert (caught.value.status_code, caught.value.request_id) == (200, "req-ok")


async def test_a_connection_lost_mid_stream_raises_a_connection_error(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    first = sse({"type": "part-start", "part": {"type": "text"}, "path": []}, done=False).encode()
    backend.post("/api/chat").mock(
        return_value=httpx.Response(200, headers=SSE, stream=BrokenStream(first))
    )
    response = await client.threads("t").chat()
    events = []
    with pytest.raises(AlbertConnectionError, match="ReadError") as caught:
        async for event in response:
            events.append(event.type)
    assert events == ["part-start"]
    assert caught.value.url == f"{BACKEND_URL}/api/chat"
    assert response.finished


async def test_errors_the_backend_streams_are_kept(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(
        return_value=ok(sse({"type": "error", "error": "model overloaded"}))
    )
    response = await client.threads("t").chat()
    messages = await response.final_messages()
    assert response.errors == ["model overloaded"]
    assert messages[0]["content"][0]["toolName"] == "error"


# ---- errors ------------------------------------------------------------------------------


async def test_an_error_status_is_a_typed_exception_with_status_and_request_id(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    backend.post("/api/chat").mock(
        return_value=httpx.Response(
            400,
            json={"message": f"bad threadId (Bearer {TOKEN})"},
            headers={"x-request-id": "req-400"},
        )
    )
    with pytest.raises(BadRequestError) as caught:
        await client.threads("t").chat()
    error = caught.value
    assert (error.status_code, error.request_id, error.method) == (400, "req-400", "POST")
    assert error.url == f"{BACKEND_URL}/api/chat"
    assert "bad threadId" in str(error)
    assert TOKEN not in str(error)  # the credentials are blanked from the quoted body


@pytest.mark.parametrize(
    ("text", "headers"),
    [
        (sse({"type": "error", "error": "the model is overloaded"}), SSE),
        ('3:"the model is overloaded"\n', DATA_STREAM),
    ],
    ids=["assistant-transport", "data-stream"],
)
async def test_an_error_status_whose_body_is_a_stream_is_a_typed_exception(
    client: AsyncAssistantClient, backend: respx.MockRouter, text: str, headers: dict[str, str]
) -> None:
    route = backend.post("/api/chat").mock(
        return_value=httpx.Response(503, text=text, headers={**headers, "x-request-id": "req-503"})
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        await client.threads("t").chat()
    error = caught.value
    assert (error.status_code, error.request_id) == (503, "req-503")
    assert "the model is overloaded" in str(error)
    assert route.call_count == 1  # a chat that reached the backend is not sent again
    assert error.response is not None
    assert error.response.is_closed


async def test_a_closed_client_says_so(backend: respx.MockRouter) -> None:
    client = AsyncAssistantClient(BACKEND_URL)
    await client.aclose()
    with pytest.raises(AlbertClientClosedError):
        await client.threads("t").chat()


# ---- retries and timeouts ------------------------------------------------------------------------


async def test_a_chat_that_could_not_connect_is_retried(
    client: AsyncAssistantClient, backend: respx.MockRouter, sleeps: list[float]
) -> None:
    route = backend.post("/api/chat").mock(side_effect=[httpx.ConnectError("refused"), ok()])
    response = await client.threads("t").chat()
    assert await response.final_messages()
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, json={"message": "busy"}),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["503", "429", "read timeout", "dropped"],
)
async def test_a_chat_that_may_have_reached_the_backend_is_not_retried(
    client: AsyncAssistantClient,
    backend: respx.MockRouter,
    sleeps: list[float],
    failure: httpx.Response | Exception,
) -> None:
    route = backend.post("/api/chat").mock(side_effect=[failure, ok()])
    expected = (
        (ServiceUnavailableError, TooManyRequestsError)
        if isinstance(failure, httpx.Response)
        else (AlbertTimeoutError, AlbertConnectionError)
    )
    with pytest.raises(expected):
        await client.threads("t").chat()
    assert route.call_count == 1
    assert sleeps == []


async def test_a_cancel_is_retried_like_an_idempotent_call(
    client: AsyncAssistantClient, backend: respx.MockRouter, sleeps: list[float]
) -> None:
    route = backend.post("/api/cancel").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("slow"),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={}),
        ]
    )
    await client.threads("t").cancel()
    assert route.call_count == 4
    assert len(sleeps) == 3
    assert sleeps[2] == 2.0  # Retry-After wins


async def test_retries_stop_after_max_retries(
    backend: respx.MockRouter, sleeps: list[float]
) -> None:
    route = backend.post("/api/cancel").mock(return_value=httpx.Response(503))
    for max_retries, calls in [(1, 2), (0, 3)]:
        client = AsyncAssistantClient(BACKEND_URL, max_retries=max_retries)
        with pytest.raises(ServiceUnavailableError):
            await client.threads("t").cancel()
        await client.aclose()
        assert route.call_count == calls


async def test_the_default_timeout_is_the_sdks(
    client: AsyncAssistantClient, backend: respx.MockRouter
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    await (await client.threads("t").chat()).aclose()
    assert client.timeout == DEFAULT_TIMEOUT
    assert route.calls.last.request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


async def test_a_given_http_client_is_used_with_the_clients_timeout(
    backend: respx.MockRouter,
) -> None:
    route = backend.post("/api/chat").mock(return_value=ok())
    async with httpx.AsyncClient(timeout=1.0) as http:
        client = AsyncAssistantClient(BACKEND_URL, timeout=7.0, http_client=http)
        await (await client.threads("t").chat()).aclose()
        await client.aclose()
        assert not http.is_closed  # not ours to close
    assert route.calls.last.request.extensions["timeout"] == httpx.Timeout(7.0).as_dict()
    with pytest.raises(ValueError, match="http_client"):
        AsyncAssistantClient(BACKEND_URL, http_client=http, limits=httpx.Limits())
    with pytest.raises(TypeError, match="http_client"):
        AsyncAssistantClient(BACKEND_URL, http_client=object())  # type: ignore[arg-type]
