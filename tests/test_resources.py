"""The shared resource models: names, aliases, defaults, extra fields and request bodies."""

from __future__ import annotations

import pydantic
import pytest

from albert.resources.base import Page
from albert.resources.chats import (
    ChatComponentType,
    ChatFlag,
    ChatFlagsInMessage,
    ChatFlagType,
    ChatFolder,
    ChatFolderType,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatUserType,
)


def test_enums_have_the_documented_values() -> None:
    assert [m.value for m in ChatComponentType] == [
        "text",
        "image",
        "reasoning_block",
        "notebook_citation",
        "document_citation",
        "product_card",
        "ingredient_card",
        "tool_call",
        "error",
        "plan",
        "permission_request",
    ]
    assert [m.value for m in ChatUserType] == ["user", "system"]
    assert [m.value for m in ChatRole] == ["user", "assistant"]
    assert [m.value for m in ChatFolderType] == ["root", "child"]
    assert [m.value for m in ChatFlagType] == ["starred", "downloaded", "requested", "hallucinated"]


def test_populate_by_name_or_alias_and_dump_by_alias() -> None:
    by_name = ChatSession(name="n", source_session_id="s", parent_id="f")
    by_alias = ChatSession.model_validate({"name": "n", "sourceSessionId": "s", "parentId": "f"})
    assert by_name == by_alias
    assert by_name.to_request_body() == {"name": "n", "sourceSessionId": "s", "parentId": "f"}


def test_unset_fields_are_left_out_but_explicit_none_is_sent() -> None:
    assert ChatSession(name="n", source_session_id="s").to_request_body() == {
        "name": "n",
        "sourceSessionId": "s",
    }
    assert ChatSession(name="n", source_session_id="s", parent_id=None).to_request_body() == {
        "name": "n",
        "sourceSessionId": "s",
        "parentId": None,
    }


def test_server_fields_are_kept() -> None:
    folder = ChatFolder.model_validate({"name": "f", "type": "root", "createdAt": "2026"})
    assert folder.folder_type is ChatFolderType.ROOT
    assert folder.model_extra == {"createdAt": "2026"}


def test_message_fields_and_aliases() -> None:
    message = ChatMessage.model_validate(
        {
            "componentType": "tool_call",
            "userType": "system",
            "role": "assistant",
            "Content": {"tool": "search"},
            "parentId": "ses",
            "branchIndex": 2,
            "isVisible": True,
            "displayFeedbackComponent": False,
            "value": [{"a": 1}],
            "sourceRequestId": "req",
            "sequence": "001",
            "spanId": "sp",
            "componentId": "c",
            "parentRequestId": "p",
        }
    )
    assert message.component_type is ChatComponentType.TOOL_CALL
    assert message.content == {"tool": "search"}
    assert message.to_request_body()["Content"] == {"tool": "search"}
    assert message.to_request_body()["componentType"] == "tool_call"


def test_message_requires_its_documented_fields() -> None:
    with pytest.raises(pydantic.ValidationError):
        ChatMessage.model_validate({"Content": "hi"})


def test_flags() -> None:
    flag = ChatFlag.model_validate({"type": "starred", "componentType": "text", "starred": True})
    assert flag.type is ChatFlagType.STARRED
    in_message = ChatFlagsInMessage.model_validate(
        {"sourceRequestId": "r", "total": 1, "flags": ["starred"]}
    )
    assert in_message.flags == [ChatFlagType.STARRED]


def test_page_validates_from_bytes() -> None:
    page = Page[ChatSession].model_validate_json(
        b'{"Items": [{"name": "n", "sourceSessionId": "s"}], "lastKey": "k"}'
    )
    assert page.last_key == "k"
    assert page.items[0].name == "n"
    assert Page[ChatSession].model_validate_json(b"{}").items == []


def test_server_answers_keep_enum_values_this_sdk_does_not_know_yet() -> None:
    from albert.resources.base import validate_server_json

    body = b'{"sourceRequestId": "r", "total": 2, "flags": ["starred", "pinned"]}'

    flags = validate_server_json(ChatFlagsInMessage, body).flags
    assert flags == [ChatFlagType.STARRED, "pinned"]
    assert flags is not None
    assert flags[0] is ChatFlagType.STARRED
    assert isinstance(flags[1], ChatFlagType)
    dumped = validate_server_json(ChatFlagsInMessage, body).model_dump(mode="json")
    assert dumped["flags"] == ["starred", "pinned"]  # sent back as it came
    with pytest.raises(pydantic.ValidationError):  # outside a server answer: strict
        ChatFlagsInMessage.model_validate_json(body)
    with pytest.raises(ValueError, match="pinned"):
        ChatFlagType("pinned")


def test_a_member_made_for_a_new_value_is_named_unknown_and_pickles() -> None:
    import pickle

    from albert.resources.base import validate_server_json, validate_server_python

    body = b'{"flags": ["starred", "Starred", "pinned"]}'
    kept = validate_server_json(ChatFlagsInMessage, body)
    assert kept.flags is not None
    assert [(f.name, f.value) for f in kept.flags] == [
        ("STARRED", "starred"),
        ("UNKNOWN", "Starred"),  # not shown as STARRED
        ("UNKNOWN", "pinned"),
    ]
    assert pickle.loads(pickle.dumps(kept)) == kept
    assert pickle.loads(pickle.dumps(ChatFlagType.STARRED)) is ChatFlagType.STARRED
    parsed = validate_server_python(ChatFlagsInMessage, {"flags": ["pinned"]})
    assert parsed.flags == ["pinned"]
