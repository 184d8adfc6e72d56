"""The shared resource models: names, aliases, defaults, extra fields and request bodies."""

from __future__ import annotations

from typing import Any

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
    ChatMessageAttachment,
    ChatRole,
    ChatSession,
    ChatSessionKind,
    ChatSessionRef,
    ChatUserType,
    Status,
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
    assert [m.value for m in ChatSessionKind] == ["chat", "automation"]
    assert [m.value for m in Status] == ["active", "inactive"]
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
    from albert.resources.base import validate_server_json, validate_server_python

    folder = validate_server_python(ChatFolder, {"name": "f", "type": "root", "createdAt": "2026"})
    assert folder.folder_type is ChatFolderType.ROOT
    assert folder.model_extra == {"createdAt": "2026"}
    nested = validate_server_json(
        Page[ChatMessage],
        b'{"Items": [{"componentType": "text", "userType": "user", "role": "user",'
        b' "Content": "c", "attachments": [{"fileId": "ATT1", "title": "t", "kind": "pdf",'
        b' "pages": 3}], "Created": {"by": "u", "via": "api"}, "mood": "ok"}]}',
    ).items[0]
    assert nested.model_extra == {"mood": "ok"}
    assert nested.attachments is not None
    assert nested.attachments[0].model_extra == {"pages": 3}
    assert nested.created is not None
    assert nested.created.model_extra == {"via": "api"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: ChatSession(name="n", source_session_id="s", nmae="typo"),  # type: ignore[call-arg]
        lambda: ChatSession.model_validate({"name": "n", "sourceSessionId": "s", "nmae": "x"}),
        lambda: ChatFolder.model_validate_json(b'{"name": "f", "nmae": "x"}'),
        lambda: ChatMessage.model_validate(
            {
                "componentType": "text",
                "userType": "user",
                "role": "user",
                "Content": "c",
                "attachments": [{"fileId": "A", "title": "t", "kind": "pdf", "nmae": "x"}],
            }
        ),
    ],
)
def test_a_model_built_by_user_code_refuses_an_unknown_field_and_names_it(build: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        build()
    (error,) = caught.value.errors()
    assert error["type"] == "extra_forbidden"
    assert error["loc"][-1] == "nmae"


def test_new_session_fields_and_audit_fields() -> None:
    from albert.resources.base import validate_server_json

    session = validate_server_json(
        ChatSession,
        b'{"id": "SES1", "name": "n", "sourceSessionId": "s", "kind": "automation",'
        b' "automationId": "AUT1", "automationRunId": "RUN1", "status": "active",'
        b' "Created": {"by": "USR1", "byName": "Ada", "at": "2026-01-02T03:04:05Z"},'
        b' "Updated": {"by": "USR2", "at": "2026-01-03T00:00:00+00:00"}}',
    )
    assert session.kind is ChatSessionKind.AUTOMATION
    assert (session.automation_id, session.automation_run_id) == ("AUT1", "RUN1")
    assert session.status is Status.ACTIVE
    assert session.created is not None
    assert session.updated is not None
    assert (session.created.by, session.created.by_name) == ("USR1", "Ada")
    assert session.created.at is not None
    assert session.created.at.year == 2026
    assert session.updated.by == "USR2"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        session.created = None
    built = ChatSession(name="n", source_session_id="s", kind=ChatSessionKind.CHAT)
    assert built.to_request_body() == {"name": "n", "sourceSessionId": "s", "kind": "chat"}


def test_new_message_fields() -> None:
    message = ChatMessage(
        component_type=ChatComponentType.PERMISSION_REQUEST,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content="ok",
        page_context={"url": "/inventory/INV1", "canvas_id": "C1", "custom": [1]},
        attachments=[ChatMessageAttachment(file_id="ATT1", title="spec.pdf", kind="pdf")],
        plan_action={"decision": "approve"},
        permission_action={"decision": "allow"},
        permission_actions=[{"decision": "allow_session", "permissionKey": "inventory.write"}],
    )
    assert message.to_request_body() == {
        "componentType": "permission_request",
        "userType": "user",
        "role": "user",
        "Content": "ok",
        "pageContext": {"url": "/inventory/INV1", "canvas_id": "C1", "custom": [1]},
        "attachments": [{"fileId": "ATT1", "title": "spec.pdf", "kind": "pdf"}],
        "planAction": {"decision": "approve"},
        "permissionAction": {"decision": "allow"},
        "permissionActions": [{"decision": "allow_session", "permissionKey": "inventory.write"}],
    }
    ref = ChatSessionRef.model_validate(
        {"sourceSessionId": "8c5f8f8e-7c53-4d5e-9a53-0c3c2f7b9a10", "chatSessionId": "SES1"}
    )
    assert ref.source_session_id.version == 4
    assert ref.to_request_body()["chatSessionId"] == "SES1"


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


def test_assignment_is_validated_as_in_the_published_package() -> None:
    session = ChatSession(name="n", source_session_id="s")
    session.kind = "automation"  # type: ignore[assignment]
    assert session.kind is ChatSessionKind.AUTOMATION
    with pytest.raises(pydantic.ValidationError, match="name"):
        session.name = 5  # type: ignore[assignment]
    with pytest.raises(pydantic.ValidationError, match="nmae"):
        session.nmae = "typo"  # type: ignore[attr-defined]
