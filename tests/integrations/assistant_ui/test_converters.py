"""Albert components to assistant-ui messages and back: mapping, round trips, conformance."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings

from albert.integrations.assistant_ui import (
    COMPONENT_TOOL_NAMES,
    from_assistant_ui,
    to_assistant_ui,
)
from albert.integrations.assistant_ui.converters import derived_request_id
from albert.resources.chats import ChatComponentType, ChatMessage, ChatRole, ChatUserType
from tests.integrations.assistant_ui.peer_types import assert_messages_conform
from tests.integrations.assistant_ui.strategies import components, threads

FIELDS = (
    "parent_id",
    "source_request_id",
    "sequence",
    "component_type",
    "user_type",
    "role",
    "content",
    "component_id",
)


def component(
    kind: str,
    content: Any,
    *,
    role: str = "assistant",
    request: str = "req-1",
    sequence: str = "000",
    **fields: Any,
) -> ChatMessage:
    return ChatMessage(
        parent_id="ses-1",
        source_request_id=request,
        sequence=sequence,
        component_type=ChatComponentType(kind),
        user_type=ChatUserType.USER if role == "user" else ChatUserType.SYSTEM,
        role=ChatRole(role),
        content=content,
        **fields,
    )


def fields_of(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    return [{name: getattr(m, name) for name in FIELDS} for m in messages]


# ---- the round trips -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(threads())
def test_a_thread_survives_albert_and_comes_back_identical(thread: list[dict[str, Any]]) -> None:
    stored = from_assistant_ui(thread, session_id="ses-1")
    back = to_assistant_ui(stored)
    assert back == thread
    assert_messages_conform(back)


@settings(max_examples=300, deadline=None)
@given(components())
def test_components_survive_assistant_ui_and_come_back_identical(
    stored: list[ChatMessage],
) -> None:
    thread = to_assistant_ui(stored)
    assert_messages_conform(thread)
    assert fields_of(from_assistant_ui(thread, session_id="ses-1")) == fields_of(stored)


# ---- Albert -> assistant-ui: the mapping, type by type -------------------------------------------


def test_the_components_of_a_request_make_one_message_in_sequence_order() -> None:
    stored = [
        component("text", "Which resin?", role="user", request="q"),
        component("text", "Resin B.", request="a", sequence="001"),
        component("reasoning_block", "compare gel times", request="a", sequence="000"),
    ]
    assert to_assistant_ui(stored) == [
        {"role": "user", "content": [{"type": "text", "text": "Which resin?"}], "unstable_id": "q"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool-call",
                    "toolCallId": "a:000",
                    "toolName": "reasoning_block",
                    "args": {"text": "compare gel times"},
                },
                {"type": "text", "text": "Resin B."},
            ],
            "unstable_id": "a",
        },
    ]


def test_a_tool_call_with_a_result_is_followed_by_a_tool_message() -> None:
    call = {
        "toolCallId": "call-1",
        "toolName": "search_formulations",
        "args": {"cure": "room temperature"},
        "result": {"hits": 3},
        "isError": False,
    }
    thread = to_assistant_ui(
        [component("tool_call", call), component("text", "3 hits", sequence="001")]
    )
    assert thread == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool-call",
                    "toolCallId": "call-1",
                    "toolName": "search_formulations",
                    "args": {"cure": "room temperature"},
                },
                {"type": "text", "text": "3 hits"},
            ],
            "unstable_id": "req-1",
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
    assert_messages_conform(thread)


@pytest.mark.parametrize(
    ("kind", "content", "args"),
    [
        ("reasoning_block", "gel times first", {"text": "gel times first"}),
        ("reasoning_block", {"steps": ["a", "b"]}, {"steps": ["a", "b"]}),
        ("notebook_citation", {"notebookId": "nb-1"}, {"notebookId": "nb-1"}),
        ("document_citation", {"url": "https://x.test/a.pdf"}, {"url": "https://x.test/a.pdf"}),
        ("product_card", {"id": "P1", "name": "Resin B"}, {"id": "P1", "name": "Resin B"}),
        ("ingredient_card", {"id": "I1"}, {"id": "I1"}),
        ("error", "the lab database timed out", {"text": "the lab database timed out"}),
        ("plan", {"steps": ["search"]}, {"steps": ["search"]}),
        ("permission_request", {"action": "write"}, {"action": "write"}),
        ("image", "https://x.test/chart.png", {"image": "https://x.test/chart.png"}),
        # an object shaped like a wrapped string is wrapped itself: it reads back as an object
        ("error", {"text": "looks wrapped"}, {"content": {"text": "looks wrapped"}}),
        (
            "image",
            {"url": "https://x.test/c.png", "alt": "chart"},
            {"url": "https://x.test/c.png", "alt": "chart"},
        ),
        # a text or a tool call whose content fits no natural part
        ("text", {"markdown": "**bold**"}, {"markdown": "**bold**"}),
        ("tool_call", {"tool": "search", "arguments": {}}, {"tool": "search", "arguments": {}}),
    ],
)
def test_assistant_components_without_a_native_part_are_custom_ui_tool_calls(
    kind: str, content: Any, args: dict[str, Any]
) -> None:
    thread = to_assistant_ui([component(kind, content, sequence="004")])
    assert thread == [
        {
            "role": "assistant",
            "content": [
                {"type": "tool-call", "toolCallId": "req-1:004", "toolName": kind, "args": args}
            ],
            "unstable_id": "req-1",
        }
    ]
    assert_messages_conform(thread)
    assert kind in COMPONENT_TOOL_NAMES
    (back,) = from_assistant_ui(thread, session_id="ses-1")
    assert (back.component_type, back.content) == (kind, content)


def test_a_custom_ui_part_keeps_its_component_id_as_tool_call_id() -> None:
    thread = to_assistant_ui([component("product_card", {"id": "P1"}, component_id="card-7")])
    assert thread[0]["content"][0]["toolCallId"] == "card-7"
    (back,) = from_assistant_ui(thread, session_id="ses-1")
    assert back.component_id == "card-7"


def test_user_images_are_image_parts_and_other_user_components_vendor_files() -> None:
    thread = to_assistant_ui(
        [
            component("image", "https://x.test/sample.jpg", role="user"),
            component("product_card", {"id": "P1"}, role="user", sequence="001"),
        ]
    )
    assert thread[0]["content"] == [
        {"type": "image", "image": "https://x.test/sample.jpg"},
        {
            "type": "file",
            "data": json.dumps({"id": "P1"}),
            "mimeType": "application/vnd.albert.product_card+json",
        },
    ]
    assert_messages_conform(thread)


def test_invisible_components_are_left_out() -> None:
    thread = to_assistant_ui(
        [
            component("text", "shown"),
            component("reasoning_block", "hidden", sequence="001", is_visible=False),
            component("text", "hidden too", request="req-2", is_visible=False),
        ]
    )
    assert thread == [
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "shown"}],
            "unstable_id": "req-1",
        }
    ]


def test_updates_of_one_component_id_append_text_and_replace_the_rest() -> None:
    thread = to_assistant_ui(
        [
            component("text", "Resin ", component_id="t1"),
            component("tool_call", {"status": "running"}, sequence="001", component_id="c1"),
            component("text", "B.", sequence="002", component_id="t1"),
            component("tool_call", {"status": "done"}, sequence="003", component_id="c1"),
        ]
    )
    assert thread[0]["content"] == [
        {"type": "text", "text": "Resin B."},
        {
            "type": "tool-call",
            "toolCallId": "c1",
            "toolName": "tool_call",
            "args": {"status": "done"},
        },
    ]


def test_requests_keep_their_listing_order_and_a_mixed_request_is_split() -> None:
    thread = to_assistant_ui(
        [
            component("text", "second?", role="user", request="b"),
            component("text", "first", request="a"),
            component("text", "and a user part", role="user", request="a", sequence="001"),
        ]
    )
    assert [(m["role"], m["unstable_id"]) for m in thread] == [
        ("user", "b"),
        ("assistant", "a"),
        ("user", "a#1"),
    ]


def test_a_mixed_request_split_in_messages_comes_back_as_one_request() -> None:
    # Another client may store both turns in one request; the thread, saved
    # again, must address the same components (or it stores them twice).
    stored = [
        component("text", "Which resin?", role="user", request="a"),
        component("reasoning_block", "gel times", request="a", sequence="001"),
        component("text", "Resin B.", request="a", sequence="002"),
        component("text", "Thanks", role="user", request="a", sequence="003"),
    ]
    thread = to_assistant_ui(stored)
    assert [(m["role"], m["unstable_id"]) for m in thread] == [
        ("user", "a"),
        ("assistant", "a#1"),
        ("user", "a#2"),
    ]
    assert thread[1]["content"][0]["toolCallId"] == "a:001"
    assert fields_of(from_assistant_ui(thread, session_id="ses-1")) == fields_of(stored)
    # An id that only looks like a split is an id of its own.
    lookalike = [{"role": "user", "content": [{"type": "text", "text": "x"}], "unstable_id": "b#1"}]
    assert [m.source_request_id for m in from_assistant_ui(lookalike, session_id="s")] == ["b#1"]


def test_a_component_without_request_id_is_a_message_of_its_own() -> None:
    loose = [component("text", "one", request=None), component("text", "two", request=None)]  # type: ignore[arg-type]
    assert [m["unstable_id"] for m in to_assistant_ui(loose)] == [None, None]
    assert len(to_assistant_ui(loose)) == 2


def test_a_server_component_type_this_sdk_does_not_know_is_custom_ui() -> None:
    from albert.resources.base import validate_server_python

    novel = validate_server_python(
        ChatMessage,
        {
            "sourceRequestId": "r",
            "sequence": "000",
            "componentType": "chart_v2",
            "userType": "system",
            "role": "assistant",
            "Content": {"series": [1, 2]},
        },
    )
    (message,) = to_assistant_ui([novel])
    assert message["content"][0]["toolName"] == "chart_v2"
    assert message["content"][0]["args"] == {"series": [1, 2]}


# ---- assistant-ui -> Albert ---------------------------------------------------------------


def test_each_message_is_a_request_with_sequences_from_000() -> None:
    stored = from_assistant_ui(
        [
            {"role": "user", "content": [{"type": "text", "text": "hi"}], "unstable_id": "u1"},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                "unstable_id": "a1",
            },
        ],
        session_id="ses-9",
    )
    assert [
        (m.source_request_id, m.sequence, m.role, m.user_type, m.parent_id) for m in stored
    ] == [
        ("u1", "000", ChatRole.USER, ChatUserType.USER, "ses-9"),
        ("a1", "000", ChatRole.ASSISTANT, ChatUserType.SYSTEM, "ses-9"),
        ("a1", "001", ChatRole.ASSISTANT, ChatUserType.SYSTEM, "ses-9"),
    ]


def test_a_message_without_id_gets_one_derived_from_the_session_and_its_place() -> None:
    thread = [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "hello"}], "unstable_id": None},
    ]
    first = from_assistant_ui(thread, session_id="ses-1")
    again = from_assistant_ui(thread, session_id="ses-1")
    elsewhere = from_assistant_ui(thread, session_id="ses-2")
    assert [m.source_request_id for m in first] == [m.source_request_id for m in again]
    assert first[0].source_request_id == derived_request_id("ses-1", 0)
    assert first[1].source_request_id == derived_request_id("ses-1", 1)
    assert uuid.UUID(first[0].source_request_id or "").version == 5
    assert {m.source_request_id for m in first}.isdisjoint(m.source_request_id for m in elsewhere)


def test_tool_results_go_into_the_calls_they_answer() -> None:
    stored = from_assistant_ui(
        [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool-call",
                        "toolCallId": "c1",
                        "toolName": "lookup",
                        "args": {"q": 1},
                    }
                ],
                "unstable_id": "a1",
            },
            {
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
            },
        ],
        session_id="ses-1",
    )
    assert fields_of(stored) == fields_of(
        [
            component(
                "tool_call",
                {"toolCallId": "c1", "toolName": "lookup", "args": {"q": 1}, "result": [1]},
                request="a1",
            )
        ]
    )


@pytest.mark.parametrize("kind", ["plan", "permission_request"])
def test_the_answer_to_a_human_in_the_loop_card_stays_its_tool_result(kind: str) -> None:
    # assistant-ui's front end answers a custom-UI tool part (addResult): the
    # result comes as a tool message, and must read back as that part's result.
    card = {"type": "tool-call", "toolCallId": "p1", "toolName": kind, "args": {"steps": [1]}}
    answer = {
        "type": "tool-result",
        "toolCallId": "p1",
        "toolName": kind,
        "result": {"approved": True},
        "isError": None,
    }
    thread = [
        {
            "role": "assistant",
            "content": [card, {"type": "text", "text": "OK?"}],
            "unstable_id": "a",
        },
        {"role": "tool", "content": [answer]},
    ]
    stored = from_assistant_ui(thread, session_id="ses-1")
    assert [(m.source_request_id, m.sequence, m.component_type.value) for m in stored] == [
        ("a", "000", kind),
        ("a", "001", "text"),
        ("a", "002", "tool_call"),  # the answer, in the card's request
    ]
    assert stored[0].content == {"steps": [1]}  # the card itself is left as it was
    assert to_assistant_ui(stored) == thread


def test_a_result_that_answers_no_call_is_stored_on_its_own_and_reads_back_as_custom_ui() -> None:
    orphan = {
        "type": "tool-result",
        "toolCallId": "c9",
        "toolName": "lookup",
        "result": 1,
        "isError": True,
    }
    stored = from_assistant_ui([{"role": "tool", "content": [orphan]}], session_id="ses-1")
    assert len(stored) == 1
    assert stored[0].component_type == ChatComponentType.TOOL_CALL
    assert stored[0].content == {
        "toolCallId": "c9",
        "toolName": "lookup",
        "result": 1,
        "isError": True,
    }
    (message,) = to_assistant_ui(stored)
    assert message["content"][0]["toolName"] == "tool_call"
    assert fields_of(from_assistant_ui([message], session_id="ses-1")) == fields_of(stored)


def test_system_messages_are_not_stored() -> None:
    thread = [
        {"role": "system", "content": "be brief", "unstable_id": None},
        {"role": "user", "content": [{"type": "text", "text": "hi"}], "unstable_id": "u"},
    ]
    assert [m.source_request_id for m in from_assistant_ui(thread, session_id="s")] == ["u"]


def test_the_parts_of_assistant_uis_own_front_end_are_read() -> None:
    stored = from_assistant_ui(
        [
            {
                "role": "assistant",
                "content": [
                    {"type": "reasoning", "text": "think"},
                    {
                        "type": "source",
                        "sourceType": "url",
                        "id": "s1",
                        "url": "https://x.test",
                        "title": "X",
                    },
                    {"type": "image", "image": "data:image/png;base64,AAAA"},
                    {"type": "file", "data": "data:image/png;base64,BBBB", "mimeType": "image/png"},
                    {
                        "type": "tool-call",
                        "toolCallId": "c1",
                        "toolName": "t",
                        "args": {},
                        "result": 5,
                    },
                    {"type": "text", "text": "done"},
                ],
                "unstable_id": "a",
            }
        ],
        session_id="s",
    )
    assert [(m.component_type.value, m.content) for m in stored] == [
        ("reasoning_block", "think"),
        (
            "document_citation",
            {"sourceType": "url", "id": "s1", "url": "https://x.test", "title": "X"},
        ),
        ("image", "data:image/png;base64,AAAA"),
        ("image", "data:image/png;base64,BBBB"),
        ("tool_call", {"toolCallId": "c1", "toolName": "t", "args": {}, "result": 5}),
        ("text", "done"),
    ]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ("not a list", "must be a list"),
        ([{"role": "robot", "content": []}], r"messages\[0\].role"),
        ([{"role": "user", "content": 3}], r"messages\[0\].content must be a list"),
        ([{"role": "user", "content": [{"type": "video"}]}], "not a part of a user message"),
        (
            [{"role": "user", "content": [{"type": "text", "text": 1}]}],
            r"content\[0\].text must be a string",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [{"type": "file", "data": "x", "mimeType": "application/pdf"}],
                }
            ],
            "application/pdf file: Albert chat history stores no such component",
        ),
        (
            [
                {"role": "user", "content": [], "unstable_id": "same"},
                {"role": "assistant", "content": [], "unstable_id": "same"},
            ],
            "used by two messages",
        ),
        ([{"role": "tool", "content": [{"type": "text", "text": "x"}]}], "must be 'tool-result'"),
        (
            [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool-call", "toolCallId": "", "toolName": "t", "args": {}}
                    ],
                }
            ],
            "must not be empty",
        ),
    ],
)
def test_bad_messages_are_refused_with_a_message_naming_the_place(
    messages: Any, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        from_assistant_ui(messages, session_id="ses-1")


def test_a_session_id_is_required() -> None:
    with pytest.raises(ValueError, match="session_id"):
        from_assistant_ui([], session_id="")
