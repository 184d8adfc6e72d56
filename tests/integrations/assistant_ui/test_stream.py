"""Decoding what assistant-stream sends, in both wire formats, and the messages it adds up to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from assistant_stream import create_run
from assistant_stream.serialization import AssistantTransportEncoder, DataStreamEncoder

from albert.integrations.assistant_ui import MessageAccumulator, from_assistant_ui, to_assistant_ui
from albert.integrations.assistant_ui.events import (
    AssistantEvent,
    decode_data_stream_line,
    decode_sse_data,
    stream_format,
)
from tests.integrations.assistant_ui.peer_types import assert_messages_conform

Script = Callable[[Any], Awaitable[None]]


async def _answer(controller: Any) -> None:
    controller.append_reasoning("Compare gel times.")
    call = await controller.add_tool_call("search_formulations", "call-1")
    call.append_args_text('{"cure": ')
    call.append_args_text('"room temperature"}')
    call.set_response({"hits": 3})
    await asyncio.sleep(0.01)
    controller.append_text("Resin B ")
    controller.append_text("gels fastest.")
    controller.add_source("s1", "https://x.test/gel.pdf", "Gel times")
    controller.add_file("data:image/png;base64,AAAA", "image/png")
    controller.add_file("data:application/pdf;base64,AAAA", "application/pdf")
    controller.add_error("the lab database timed out")
    controller.add_data({"progress": 1})
    controller.state = {"step": "done", "note": "ok"}
    controller.state["note"] += "!"  # append-text


def _encoded(script: Script, encoder: Any) -> list[str]:
    async def collect() -> list[str]:
        return [chunk async for chunk in encoder.encode_stream(create_run(script, state={}))]

    return asyncio.run(collect())


def _sse_events(chunks: list[str]) -> list[AssistantEvent]:
    events = []
    for frame in "".join(chunks).split("\n\n"):
        data = "\n".join(line[6:] for line in frame.splitlines() if line.startswith("data: "))
        event = decode_sse_data(data)
        if event is not None:
            events.append(event)
    return events


def _line_events(chunks: list[str]) -> list[AssistantEvent]:
    events = []
    for line in "".join(chunks).splitlines():
        event = decode_data_stream_line(line)
        if event is not None:
            events.append(event)
    return events


def _accumulated(events: list[AssistantEvent], **options: Any) -> MessageAccumulator:
    accumulator = MessageAccumulator(**options)
    for event in events:
        accumulator.add(event)
    return accumulator


EXPECTED = [
    {
        "role": "assistant",
        "content": [
            {
                "type": "tool-call",
                "toolCallId": "m1:000",
                "toolName": "reasoning_block",
                "args": {"text": "Compare gel times."},
            },
            {
                "type": "tool-call",
                "toolCallId": "call-1",
                "toolName": "search_formulations",
                "args": {"cure": "room temperature"},
            },
            {"type": "text", "text": "Resin B gels fastest."},
            {
                "type": "tool-call",
                "toolCallId": "m1:003",
                "toolName": "document_citation",
                "args": {
                    "sourceType": "url",
                    "id": "s1",
                    "url": "https://x.test/gel.pdf",
                    "title": "Gel times",
                },
            },
            {
                "type": "tool-call",
                "toolCallId": "m1:004",
                "toolName": "image",
                "args": {"image": "data:image/png;base64,AAAA"},
            },
            {
                "type": "tool-call",
                "toolCallId": "m1:006",
                "toolName": "error",
                "args": {"text": "the lab database timed out"},
            },
        ],
        "unstable_id": "m1",
    },
    {
        "role": "tool",
        "content": [
            {
                "type": "tool-result",
                "toolCallId": "call-1",
                "toolName": "search_formulations",
                "result": {"hits": 3},
                "isError": False,
            }
        ],
    },
]


@pytest.mark.parametrize(
    ("encoder", "decode"),
    [(AssistantTransportEncoder(), _sse_events), (DataStreamEncoder(), _line_events)],
    ids=["assistant-transport", "data-stream"],
)
def test_both_formats_add_up_to_the_same_messages(encoder: Any, decode: Any) -> None:
    accumulator = _accumulated(decode(_encoded(_answer, encoder)), message_id="m1", state={})
    assert accumulator.messages == EXPECTED
    assert_messages_conform(accumulator.messages)
    assert accumulator.text == "Resin B gels fastest."
    assert accumulator.errors == ["the lab database timed out"]
    assert accumulator.data == [{"progress": 1}]
    assert accumulator.state == {"step": "done", "note": "ok!"}


def test_the_messages_save_and_load_back_unchanged() -> None:
    # What a response accumulates is what `to_assistant_ui` gives for the components it saves as.
    messages = _accumulated(
        _sse_events(_encoded(_answer, AssistantTransportEncoder())), message_id="m1"
    ).messages
    assert to_assistant_ui(from_assistant_ui(messages, session_id="ses-1")) == EXPECTED


def test_assistant_transport_events_are_the_frames() -> None:
    events = _sse_events(_encoded(_answer, AssistantTransportEncoder()))
    assert events[0] == AssistantEvent(
        "part-start",
        {"type": "part-start", "part": {"type": "reasoning"}, "path": []},
        "assistant-transport",
    )
    assert events[-1].type == "done"
    assert {"part-start", "text-delta", "result", "part-finish", "error", "update-state"} <= {
        e.type for e in events
    }


def test_data_stream_lines_are_named_by_their_code() -> None:
    events = _line_events(_encoded(_answer, DataStreamEncoder()))
    assert [(e.code, e.type) for e in events[:3]] == [
        ("g", "reasoning-delta"),
        ("b", "tool-call-begin"),
        ("c", "tool-call-delta"),
    ]
    assert events[0].data == "Compare gel times."


def test_text_deltas_are_told_apart_from_arguments_and_reasoning() -> None:
    accumulator = MessageAccumulator()
    added = [
        accumulator.add(e) for e in _sse_events(_encoded(_answer, AssistantTransportEncoder()))
    ]
    assert [text for text in added if text] == ["Resin B ", "gels fastest."]


def test_ai_sdk_lines_a_full_tool_call_a_step_and_the_finish() -> None:
    lines = [
        'f:{"messageId":"msg-7"}',
        '9:{"toolCallId":"c1","toolName":"lookup","args":{"q":"TiO2"}}',
        'a:{"toolCallId":"c1","result":["P1"],"isError":true}',
        '0:"Found one."',
        'e:{"finishReason":"tool-calls","usage":{"promptTokens":1,"completionTokens":2},"isContinued":false}',
        'd:{"finishReason":"stop","usage":{"promptTokens":1,"completionTokens":2}}',
        "",
    ]
    accumulator = _accumulated([e for e in map(decode_data_stream_line, lines) if e is not None])
    assert accumulator.messages == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool-call",
                    "toolCallId": "c1",
                    "toolName": "lookup",
                    "args": {"q": "TiO2"},
                },
                {"type": "text", "text": "Found one."},
            ],
            "unstable_id": "msg-7",
        },
        {
            "role": "tool",
            "content": [
                {
                    "type": "tool-result",
                    "toolCallId": "c1",
                    "toolName": "lookup",
                    "result": ["P1"],
                    "isError": True,
                }
            ],
        },
    ]
    assert (accumulator.finish_reason, accumulator.done) == ("stop", True)


def test_an_unfinished_tool_call_has_the_arguments_known_so_far_or_none() -> None:
    accumulator = MessageAccumulator()
    accumulator.add(
        AssistantEvent("tool-call-begin", {"toolCallId": "c", "toolName": "t"}, "data-stream")
    )
    accumulator.add(
        AssistantEvent(
            "tool-call-delta", {"toolCallId": "c", "argsTextDelta": '{"a": '}, "data-stream"
        )
    )
    assert accumulator.messages[0]["content"][0]["args"] == {}
    accumulator.add(
        AssistantEvent("tool-call-delta", {"toolCallId": "c", "argsTextDelta": "1}"}, "data-stream")
    )
    assert accumulator.messages[0]["content"][0]["args"] == {"a": 1}


def test_state_operations_set_and_append_text_at_paths() -> None:
    accumulator = MessageAccumulator(state={"messages": []})
    operations = [
        {"type": "set", "path": ["messages", 0], "value": {"text": "Hel"}},
        {"type": "append-text", "path": ["messages", 0, "text"], "value": "lo"},
        {"type": "set", "path": ["user", "name"], "value": "Ada"},
        {"type": "unknown", "path": [], "value": 1},
    ]
    accumulator.add(
        AssistantEvent(
            "update-state",
            {"type": "update-state", "operations": operations},
            "assistant-transport",
        )
    )
    assert accumulator.state == {"messages": [{"text": "Hello"}], "user": {"name": "Ada"}}


def test_nothing_streamed_is_no_message() -> None:
    assert MessageAccumulator().messages == []


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/event-stream; charset=utf-8", "assistant-transport"),
        ("text/plain; charset=utf-8", "data-stream"),
        ("TEXT/PLAIN", "data-stream"),
        ("application/json", None),
        (None, None),
    ],
)
def test_the_format_follows_the_content_type(
    content_type: str | None, expected: str | None
) -> None:
    assert stream_format(content_type) == expected


@pytest.mark.parametrize(
    ("decode", "text", "error"),
    [
        (decode_sse_data, "{not json", "not JSON"),
        (decode_data_stream_line, "no code here", "is not JSON after its code|has no code"),
        (decode_data_stream_line, ":1", "has no code"),
        (decode_data_stream_line, "0:{oops", "not JSON after its code"),
    ],
)
def test_undecodable_events_raise_value_error(decode: Any, text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        decode(text)


def test_sse_data_and_done() -> None:
    assert decode_sse_data("") is None
    assert decode_sse_data("[DONE]") == AssistantEvent("done", None, "assistant-transport")
    assert decode_sse_data(json.dumps([1])) == AssistantEvent("unknown", [1], "assistant-transport")
