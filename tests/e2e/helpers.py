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
    kind, user, role, content = turn
    return ChatMessage.model_validate(
        {
            "parentId": session_id,
            "componentType": kind,
            "userType": user,
            "role": role,
            "Content": content,
            **fields,
        }
    )
