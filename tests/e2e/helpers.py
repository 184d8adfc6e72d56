"""The conversation the end-to-end tests write, and how to build its messages."""

from __future__ import annotations

from typing import Any

from albert.resources.chats import ChatMessage

#: (component type, user type, role, content): a user question and an assistant's answer.
TURNS: list[tuple[str, str, str, Any]] = [
    ("text", "user", "user", "Which resin cures fastest?"),
    ("reasoning_block", "system", "assistant", {"steps": ["compare gel times"]}),
    ("tool_call", "system", "assistant", {"tool": "search", "args": {"q": "gel"}}),
    ("text", "system", "assistant", "Resin B."),
    ("image", "system", "assistant", {"url": "https://example.com/p.png"}),
    ("error", "system", "assistant", {"code": "TIMEOUT"}),
]


def message(session_id: str, turn: tuple[str, str, str, Any], **fields: Any) -> ChatMessage:
    """Return a message of ``turn``: the first component of a new request unless told otherwise.

    The sequence is given explicitly (the server requires it) until the SDK
    sends ``"000"`` by itself.
    """
    kind, user, role, content = turn
    return ChatMessage.model_validate(
        {
            "parentId": session_id,
            "sequence": "000",
            "componentType": kind,
            "userType": user,
            "role": role,
            "Content": content,
            **fields,
        }
    )


def conversation(
    session_id: str, turns: list[tuple[str, str, str, Any]] = TURNS
) -> list[ChatMessage]:
    """Return ``turns`` as the components of one request, at sequences 000, 001, ..."""
    return [
        message(session_id, turn, sourceRequestId="turn-1", sequence=f"{i:03d}")
        for i, turn in enumerate(turns)
    ]
