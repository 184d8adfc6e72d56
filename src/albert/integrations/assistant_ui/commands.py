"""The body of a chat request, and assistant-transport commands to and from messages (no I/O).

assistant-ui's assistant-transport runtime sends *commands* (``add-message``,
``add-tool-result``) for what the user did since the last run; the older
runtimes send the whole thread as *messages*. `chat_body` builds the body the
peer package (``assistant-ui-sync-server-api``) sends, key for key, so a
backend sees the same request from either client; `apply_commands` is the
backend's side: the thread after the commands of a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["apply_commands", "chat_body", "messages_to_commands"]


def messages_to_commands(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the commands that stand for ``messages``, as the peer package computes them.

    A user message becomes an ``add-message`` command with its text and image
    parts; an assistant message, one with its text parts; each result of a
    tool message, an ``add-tool-result`` command. System messages, file parts
    and tool-call parts have no command and are left out (the messages are
    sent beside the commands, whole).

    Parameters
    ----------
    messages : Sequence[Mapping[str, Any]]
        assistant-ui messages.

    Returns
    -------
    list[dict[str, Any]]
        ``assistant_ui.types.AssistantTransportCommand`` dicts.
    """
    commands: list[dict[str, Any]] = []
    for message in messages:
        role, content = message.get("role"), message.get("content") or []
        if role == "user":
            kept = {"text": "text", "image": "image"}
        elif role == "assistant":
            kept = {"text": "text"}
        elif role == "tool":
            commands.extend(
                {
                    "type": "add-tool-result",
                    "toolCallId": part.get("toolCallId", ""),
                    "toolName": part.get("toolName", ""),
                    "result": part.get("result"),
                    "isError": part.get("isError", False),
                    "artifact": None,
                }
                for part in content
                if part.get("type") == "tool-result"
            )
            continue
        else:  # system: passed as `system=`
            continue
        parts = [
            {"type": part["type"], kept[part["type"]]: part.get(kept[part["type"]], "")}
            for part in content
            if isinstance(part, Mapping) and part.get("type") in kept
        ]
        if parts:
            commands.append({"type": "add-message", "message": {"role": role, "parts": parts}})
    return commands


def chat_body(
    thread_id: str,
    *,
    messages: Sequence[Mapping[str, Any]] | None = None,
    commands: Sequence[Mapping[str, Any]] | None = None,
    system: str | None = None,
    tools: Mapping[str, Any] | None = None,
    unstable_assistant_message_id: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    state: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the JSON body of ``POST /api/chat``, as the peer package builds it.

    ``messages`` are sent as they are *and* converted to commands (after the
    given ``commands``): a backend that reads either finds the thread.

    Parameters
    ----------
    thread_id : str
        The thread (``threadId``).
    messages : Sequence[Mapping[str, Any]] | None, optional
        The whole thread, for backends that read messages.
    commands : Sequence[Mapping[str, Any]] | None, optional
        What happened since the last run.
    system : str | None, optional
        The system prompt.
    tools : Mapping[str, Any] | None, optional
        The tools the front end offers, by name.
    unstable_assistant_message_id : str | None, optional
        The id the answer should get (``unstable_assistantMessageId``).
    run_config : Mapping[str, Any] | None, optional
        ``runConfig``.
    state : Any, optional
        The assistant-transport state.
    extra : Mapping[str, Any] | None, optional
        More keys, added last (they win).

    Returns
    -------
    dict[str, Any]
        The body.

    Raises
    ------
    ValueError
        If ``thread_id`` is empty, or ``messages`` or ``commands`` is not a list.
    """
    if not isinstance(thread_id, str) or not thread_id:
        raise ValueError("thread_id must be a non-empty string")
    body: dict[str, Any] = {"threadId": thread_id}
    all_commands = None if commands is None else list(_listed(commands, "commands"))
    if messages is not None:
        listed = list(_listed(messages, "messages"))
        all_commands = (all_commands or []) + messages_to_commands(listed)
        body["messages"] = listed
    if all_commands is not None:
        body["commands"] = all_commands
    optional = {
        "system": system,
        "tools": tools,
        "unstable_assistantMessageId": unstable_assistant_message_id,
        "runConfig": run_config,
        "state": state,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    body.update(extra or {})
    return body


def _listed(items: Any, name: str) -> Sequence[Mapping[str, Any]]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise ValueError(f"{name} must be a list of dicts, got {type(items).__name__}")
    return items


def apply_commands(
    messages: Sequence[Mapping[str, Any]], commands: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Return the thread after a request's commands: what a backend answers from.

    An ``add-message`` command appends a message with the command's parts
    (``unstable_id`` ``None``: `from_assistant_ui` derives one that stays the
    same when the thread is saved again). An ``add-tool-result`` appends a
    ``tool`` message (results that follow one another share one); a missing
    ``toolName`` is taken from the call it answers.

    Parameters
    ----------
    messages : Sequence[Mapping[str, Any]]
        The thread so far (`load_thread` gives it).
    commands : Sequence[Mapping[str, Any]]
        The request's ``commands``.

    Returns
    -------
    list[dict[str, Any]]
        A new list: ``messages`` (the same dicts) and the new messages.

    Raises
    ------
    ValueError
        If a command is malformed or of an unknown type.
    """
    thread: list[dict[str, Any]] = [dict(message) for message in messages]
    names = {
        part.get("toolCallId"): part.get("toolName")
        for message in thread
        if message.get("role") == "assistant" and isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, Mapping) and part.get("type") == "tool-call"
    }
    for index, command in enumerate(_listed(commands, "commands")):
        where = f"commands[{index}]"
        kind = command.get("type") if isinstance(command, Mapping) else None
        if kind == "add-message":
            message = command.get("message")
            parts = message.get("parts") if isinstance(message, Mapping) else None
            role = message.get("role") if isinstance(message, Mapping) else None
            if role not in ("user", "assistant") or not isinstance(parts, list):
                raise ValueError(f"{where}.message must have a role (user, assistant) and parts")
            thread.append({"role": role, "content": list(parts), "unstable_id": None})
        elif kind == "add-tool-result":
            call_id = command.get("toolCallId")
            if not isinstance(call_id, str) or not call_id:
                raise ValueError(f"{where}.toolCallId must be a non-empty string")
            is_error = command.get("isError")
            result = {
                "type": "tool-result",
                "toolCallId": call_id,
                "toolName": command.get("toolName") or names.get(call_id) or "",
                "result": command.get("result"),
                "isError": is_error if isinstance(is_error, bool) else None,
            }
            if thread and thread[-1].get("role") == "tool":
                thread[-1] = {**thread[-1], "content": [*thread[-1]["content"], result]}
            else:
                thread.append({"role": "tool", "content": [result]})
        else:
            raise ValueError(f"{where}.type must be add-message or add-tool-result, got {kind!r}")
    return thread
