"""Saving a thread as an Albert chat session: what to create, and the session's name (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from albert.resources.chats import ChatComponentType, ChatMessage, ChatSession

__all__ = ["SavedThread", "missing_components", "new_tool_results", "thread_name"]

#: The longest session name `thread_name` makes.
NAME_CHARS = 80


@dataclass(frozen=True)
class SavedThread:
    """What `save_thread` did.

    Attributes
    ----------
    session : ChatSession
        The thread's chat session (its ``source_session_id`` is the thread id).
    created : list[ChatMessage]
        The components this call stored (those already stored are not).
    updated : list[ChatMessage]
        The tool calls, stored before their result came, that this call gave
        their result (`new_tool_results`), as the server has them now.
    """

    session: ChatSession
    created: list[ChatMessage] = field(default_factory=list)
    updated: list[ChatMessage] = field(default_factory=list)


def missing_components(
    components: Iterable[ChatMessage], stored: Iterable[ChatMessage]
) -> list[ChatMessage]:
    """Return the components not stored yet, in order.

    A component is known by its request id and sequence, as the API addresses
    it; one stored is never stored again, even if its content changed (but
    see `new_tool_results`).

    Parameters
    ----------
    components : Iterable[ChatMessage]
        The thread's components (`from_assistant_ui`).
    stored : Iterable[ChatMessage]
        What the session holds.

    Returns
    -------
    list[ChatMessage]
        The components to create.
    """
    known = {(m.source_request_id, m.sequence) for m in stored}
    return [m for m in components if (m.source_request_id, m.sequence) not in known]


def new_tool_results(
    components: Iterable[ChatMessage], stored: Iterable[ChatMessage]
) -> list[ChatMessage]:
    """Return the tool calls stored without a result that the thread now has a result for.

    A front end runs some tools itself: the call is saved with the run that
    made it, and its result comes with a later request (an
    ``add-tool-result`` command). The stored ``tool_call`` then needs the
    result; Albert keeps a tool call's latest content (REPLACE semantics).
    Nothing else stored is ever changed.

    Parameters
    ----------
    components : Iterable[ChatMessage]
        The thread's components (`from_assistant_ui`).
    stored : Iterable[ChatMessage]
        What the session holds.

    Returns
    -------
    list[ChatMessage]
        The thread's version of each such call (its content holds the
        result), in order: what to update the stored one with.
    """
    waiting = {
        (m.source_request_id, m.sequence): m.content
        for m in stored
        if m.component_type == ChatComponentType.TOOL_CALL
        and isinstance(m.content, dict)
        and "result" not in m.content
    }
    out = []
    for m in components:
        before = waiting.get((m.source_request_id, m.sequence))
        if (
            before is not None
            and m.component_type == ChatComponentType.TOOL_CALL
            and isinstance(m.content, dict)
            and "result" in m.content
            and m.content.get("toolCallId") == before.get("toolCallId")
        ):
            out.append(m)
    return out


def thread_name(messages: Sequence[Mapping[str, Any]], thread_id: str) -> str:
    """Return the name of a new thread's session: its first user text, shortened.

    Parameters
    ----------
    messages : Sequence[Mapping[str, Any]]
        The thread.
    thread_id : str
        The thread's id, named when there is no user text.

    Returns
    -------
    str
        At most `NAME_CHARS` characters.
    """
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for part in parts or []:
            if isinstance(part, Mapping) and part.get("type") == "text":
                text = " ".join(str(part.get("text", "")).split())
                if text:
                    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"
    return f"assistant-ui thread {thread_id}"[:NAME_CHARS]
