"""Folding a chat's events into the assistant-ui messages they stand for (no I/O).

The messages come out as `to_assistant_ui` would give the same content read
back from Albert, so they can be saved as they are (`save_thread`): text parts;
tool-call parts, with their results in a ``tool`` message after the
assistant message; reasoning, sources, images and errors as the tool-call
parts that show the matching Albert component (``reasoning_block``,
``document_citation``, ``image``, ``error``). A file that is not an image has
no Albert component: it stays an event and is left out of the messages.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from albert.integrations.assistant_ui.converters import AssistantUIMessage, component_args
from albert.integrations.assistant_ui.events import AssistantEvent
from albert.resources.chats import ChatComponentType

__all__ = ["MessageAccumulator"]


@dataclass
class _Part:
    """A part being streamed."""

    type: str  # text, reasoning, tool-call, source, file, error, or another frame's part type
    text: str = ""  # the text; the arguments' JSON text for a tool call
    tool_call_id: str = ""
    tool_name: str = ""
    args: dict[str, Any] | None = None  # set once known whole
    has_result: bool = False
    result: Any = None
    is_error: bool | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # a source's or a file's fields


class MessageAccumulator:
    """The assistant message (and tool results) that a chat's events add up to so far.

    Parameters
    ----------
    message_id : str | None, optional
        The answer's id (``unstable_id``) until the stream names one (an
        AI SDK ``step-start`` does).
    state : Any, optional
        The assistant-transport state the run starts from; ``update-state``
        events change a copy of it.

    Attributes
    ----------
    message_id : str | None
        The answer's id.
    state : Any
        The assistant-transport state after the events so far.
    errors : list[str]
        The errors the backend reported, in order.
    data : list[Any]
        The payloads of ``data`` events.
    finish_reason : str | None
        Why the run ended, once the stream said so (``stop``, ``tool-calls``, ...).
    done : bool
        Whether the stream said it is complete (``[DONE]``, or a data-stream
        ``finish`` line).
    """

    def __init__(self, *, message_id: str | None = None, state: Any = None) -> None:
        self.message_id = message_id
        self.state = copy.deepcopy(state)
        self.errors: list[str] = []
        self.data: list[Any] = []
        self.finish_reason: str | None = None
        self.done = False
        self._parts: list[_Part] = []
        self._calls: dict[str, _Part] = {}

    @property
    def text(self) -> str:
        """The text of the answer so far (its text parts, joined)."""
        return "".join(part.text for part in self._parts if part.type == "text")

    @property
    def messages(self) -> list[AssistantUIMessage]:
        """The messages so far: the assistant message, then a ``tool`` message if results came.

        Empty until the first part arrives. Each read builds new dicts.
        """
        if not self._parts:
            return []
        parts: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        for index, part in enumerate(self._parts):
            built = self._built(part, index)
            if built is None:
                continue
            parts.append(built)
            if part.type == "tool-call" and part.has_result:
                results.append(
                    {
                        "type": "tool-result",
                        "toolCallId": part.tool_call_id,
                        "toolName": part.tool_name,
                        "result": part.result,
                        "isError": part.is_error,
                    }
                )
        out: list[AssistantUIMessage] = [
            {"role": "assistant", "content": parts, "unstable_id": self.message_id}
        ]
        if results:
            out.append({"role": "tool", "content": results})
        return out

    def _built(self, part: _Part, index: int) -> dict[str, Any] | None:
        if part.type == "text":
            return {"type": "text", "text": part.text}
        if part.type == "tool-call":
            return {
                "type": "tool-call",
                "toolCallId": part.tool_call_id,
                "toolName": part.tool_name,
                "args": part.args if part.args is not None else _parsed_args(part.text),
            }
        kind: str
        content: str | dict[str, Any]
        if part.type == "reasoning":
            kind, content = ChatComponentType.REASONING_BLOCK.value, part.text
        elif part.type == "error":
            kind, content = ChatComponentType.ERROR.value, part.text
        elif part.type == "source":
            kind, content = ChatComponentType.DOCUMENT_CITATION.value, dict(part.payload)
        elif part.type == "file" and str(part.payload.get("mimeType", "")).startswith("image/"):
            kind, content = ChatComponentType.IMAGE.value, str(part.payload.get("data", ""))
        else:
            return None
        return {
            "type": "tool-call",
            "toolCallId": f"{self.message_id or 'message'}:{index:03d}",
            "toolName": kind,
            "args": component_args(kind, content),
        }

    def add(self, event: AssistantEvent) -> str | None:
        """Fold one event into the messages.

        Parameters
        ----------
        event : AssistantEvent
            The next event of the stream.

        Returns
        -------
        str | None
            The text the event added to a text part (what to print as it
            streams), else ``None``.
        """
        if event.format == "assistant-transport":
            return self._add_frame(event.type, event.data)
        return self._add_line(event.type, event.data)

    # ---- assistant transport ----------------------------------------------------------------

    def _add_frame(self, kind: str, frame: Any) -> str | None:
        if kind == "done":
            self.done = True
            return None
        if not isinstance(frame, Mapping):
            return None
        if kind == "part-start":
            started = frame.get("part")
            if isinstance(started, Mapping):
                self._start(started)
        elif kind == "text-delta":
            part = self._at(frame.get("path"))
            delta = frame.get("textDelta")
            if part is not None and isinstance(delta, str):
                part.text += delta
                return delta if part.type == "text" else None
        elif kind == "tool-call-args-text-finish":
            part = self._at(frame.get("path"))
            if part is not None and part.type == "tool-call":
                part.args = _parsed_args(part.text)
        elif kind == "result":
            part = self._at(frame.get("path"))
            if part is not None and part.type == "tool-call":
                _set_result(part, frame.get("result"), frame.get("isError"))
        else:
            self._add_common(kind, frame)
        return None

    def _start(self, started: Mapping[str, Any]) -> None:
        kind = str(started.get("type", ""))
        if kind == "tool-call":
            self._call(str(started.get("toolCallId", "")), str(started.get("toolName", "")))
            return
        payload = {k: v for k, v in started.items() if k not in ("type", "parentId")}
        self._parts.append(_Part(kind, text=str(payload.pop("text", "")), payload=payload))

    def _at(self, path: Any) -> _Part | None:
        if (
            isinstance(path, list)
            and len(path) == 1
            and isinstance(path[0], int)
            and 0 <= path[0] < len(self._parts)
        ):
            return self._parts[path[0]]
        return None

    def _add_common(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Fold the frames and lines both formats share: errors, state, steps, data."""
        if kind == "error":
            self._error(str(payload.get("error", "")))
        elif kind == "update-state":
            self._apply(payload.get("operations"))
        elif kind == "step-start":
            message_id = payload.get("messageId")
            if self.message_id is None and isinstance(message_id, str) and message_id:
                self.message_id = message_id
        elif kind in ("step-finish", "finish"):
            reason = payload.get("finishReason")
            if isinstance(reason, str):
                self.finish_reason = reason
            if kind == "finish":
                self.done = True
        elif kind == "data":
            data = payload.get("data")
            self.data.extend(data if isinstance(data, list) else [data])

    def _error(self, message: str) -> None:
        self.errors.append(message)
        self._parts.append(_Part("error", text=message))

    def _apply(self, operations: Any) -> None:
        if not isinstance(operations, list):
            return
        for operation in operations:
            if isinstance(operation, Mapping):
                self.state = _applied(self.state, operation)

    # ---- AI SDK data stream ------------------------------------------------------------

    def _add_line(self, kind: str, data: Any) -> str | None:
        if kind in ("text-delta", "reasoning-delta"):
            key = "textDelta" if kind == "text-delta" else "reasoningDelta"
            delta = data.get(key) if isinstance(data, Mapping) else data
            if not isinstance(delta, str):
                return None
            part_type = "text" if kind == "text-delta" else "reasoning"
            if not self._parts or self._parts[-1].type != part_type:
                self._parts.append(_Part(part_type))
            self._parts[-1].text += delta
            return delta if part_type == "text" else None
        if kind == "error":
            self._error(data if isinstance(data, str) else json.dumps(data))
            return None
        if kind == "update-state":
            self._apply(data)
            return None
        if kind == "data":
            self.data.extend(data if isinstance(data, list) else [data])
            return None
        if not isinstance(data, Mapping):
            return None
        if kind == "tool-call-begin":
            self._call(str(data.get("toolCallId", "")), str(data.get("toolName", "")))
        elif kind == "tool-call-delta":
            part = self._calls.get(str(data.get("toolCallId", "")))
            delta = data.get("argsTextDelta")
            if part is not None and isinstance(delta, str):
                part.text += delta
        elif kind == "tool-call":
            part = self._call(str(data.get("toolCallId", "")), str(data.get("toolName", "")))
            args = data.get("args")
            part.args = dict(args) if isinstance(args, Mapping) else _parsed_args(part.text)
        elif kind == "tool-result":
            part = self._calls.get(str(data.get("toolCallId", "")))
            if part is not None:  # the data stream sends isError only when it is true
                _set_result(part, data.get("result"), data.get("isError", False))
        elif kind in ("source", "file"):
            self._parts.append(_Part(kind, payload=dict(data)))
        else:
            self._add_common(kind, data)
        return None

    def _call(self, tool_call_id: str, tool_name: str) -> _Part:
        part = self._calls.get(tool_call_id)
        if part is None:
            part = _Part("tool-call", tool_call_id=tool_call_id, tool_name=tool_name)
            self._calls[tool_call_id] = part
            self._parts.append(part)
        elif tool_name:
            part.tool_name = tool_name
        return part


def _parsed_args(text: str) -> dict[str, Any]:
    """Return the arguments a tool call's JSON text holds; ``{}`` while it is incomplete."""
    try:
        args = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return args if isinstance(args, dict) else {}


def _set_result(part: _Part, result: Any, is_error: Any) -> None:
    part.has_result, part.result = True, result
    part.is_error = is_error if isinstance(is_error, bool) else None


def _applied(state: Any, operation: Mapping[str, Any]) -> Any:
    """Return the state after one ``set`` or ``append-text`` operation (others are ignored)."""
    kind, path, value = operation.get("type"), operation.get("path"), operation.get("value")
    if kind not in ("set", "append-text") or not isinstance(path, Sequence):
        return state
    if not path:
        if kind == "set":
            return copy.deepcopy(value)
        return (state if isinstance(state, str) else "") + str(value)
    root = state if isinstance(state, (dict, list)) else {}
    container: Any = root
    for key in path[:-1]:
        child = _child(container, key)
        if not isinstance(child, (dict, list)):
            child = {}
            if not _put(container, key, child):
                return state
        container = child
    last = path[-1]
    if kind == "set":
        new: Any = copy.deepcopy(value)
    else:
        current = _child(container, last)
        new = (current if isinstance(current, str) else "") + str(value)
    return root if _put(container, last, new) else state


def _child(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
        return container[key]
    return None


def _put(container: Any, key: Any, value: Any) -> bool:
    if isinstance(container, dict):
        container[key] = value
        return True
    if isinstance(container, list) and isinstance(key, int):
        if 0 <= key < len(container):
            container[key] = value
            return True
        if key == len(container):
            container.append(value)
            return True
    return False
