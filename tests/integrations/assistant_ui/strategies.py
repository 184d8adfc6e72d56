"""Hypothesis strategies: threads both sides can express (assistant-ui messages, components)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from albert.integrations.assistant_ui.converters import COMPONENT_TOOL_NAMES, component_args
from albert.resources.chats import ChatComponentType, ChatMessage, ChatRole, ChatUserType

KINDS = [kind.value for kind in ChatComponentType]

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=4)
tool_names = st.text(min_size=1, max_size=12).filter(lambda name: name not in COMPONENT_TOOL_NAMES)


def _not_a_tool_call(content: dict[str, Any]) -> bool:
    return "toolName" not in content


@st.composite
def custom_content(draw: st.DrawFn, kind: str, *, natural_string: bool) -> str | dict[str, Any]:
    """Content of a component shown as custom UI (or as a vendor file part)."""
    objects = json_objects.filter(_not_a_tool_call) if kind == "tool_call" else json_objects
    if natural_string:  # a string would map to the natural part: objects only
        return draw(objects)
    return draw(st.text(max_size=10) | objects)


@st.composite
def user_parts(draw: st.DrawFn) -> dict[str, Any]:
    choice = draw(st.sampled_from(["text", "image", "file"]))
    if choice == "text":
        return {"type": "text", "text": draw(st.text(max_size=12))}
    if choice == "image":
        return {"type": "image", "image": draw(st.text(max_size=12))}
    kind = draw(st.sampled_from(KINDS))
    content = draw(custom_content(kind, natural_string=kind in ("text", "image")))
    return {
        "type": "file",
        "data": json.dumps(content, ensure_ascii=False),
        "mimeType": f"application/vnd.albert.{kind}+json",
    }


@st.composite
def assistant_parts(draw: st.DrawFn, ids: st.SearchStrategy[str]) -> dict[str, Any]:
    choice = draw(st.sampled_from(["text", "tool", "custom"]))
    if choice == "text":
        return {"type": "text", "text": draw(st.text(max_size=12))}
    if choice == "tool":
        return {
            "type": "tool-call",
            "toolCallId": draw(ids),
            "toolName": draw(tool_names),
            "args": draw(json_objects),
        }
    kind = draw(st.sampled_from(KINDS))
    content = draw(custom_content(kind, natural_string=kind == "text"))
    return {
        "type": "tool-call",
        "toolCallId": draw(ids),
        "toolName": kind,
        "args": component_args(kind, content),
    }


@st.composite
def threads(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A thread of assistant-ui messages that Albert can store whole (no system message)."""
    counter = iter(range(10**6))
    ids = st.builds(lambda: f"call-{next(counter)}")
    thread: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            parts = draw(st.lists(user_parts(), min_size=1, max_size=3))
            thread.append({"role": "user", "content": parts, "unstable_id": f"req-{index}"})
            continue
        parts = draw(st.lists(assistant_parts(ids), min_size=1, max_size=4))
        thread.append({"role": "assistant", "content": parts, "unstable_id": f"req-{index}"})
        # Results answer tool calls, and custom-UI parts too (a plan approved, ...).
        calls = [p for p in parts if p["type"] == "tool-call"]
        answered = [call for call in calls if draw(st.booleans())]
        if answered:
            results = [
                {
                    "type": "tool-result",
                    "toolCallId": call["toolCallId"],
                    "toolName": call["toolName"],
                    "result": draw(json_values),
                    "isError": draw(st.sampled_from([True, False, None])),
                }
                for call in answered
            ]
            thread.append({"role": "tool", "content": results})
    return thread


@st.composite
def components(draw: st.DrawFn) -> list[ChatMessage]:
    """Albert components in the canonical form a round trip keeps (sequences from 000, ...).

    Most requests hold one role; some change role on the way, as another
    client may store both turns in one request.
    """
    counter = iter(range(10**6))
    out: list[ChatMessage] = []
    for request in range(draw(st.integers(0, 4))):
        role = draw(st.sampled_from([ChatRole.USER, ChatRole.ASSISTANT]))
        mixed = draw(st.integers(0, 3)) == 0
        for number in range(draw(st.integers(1, 4))):
            if mixed:
                role = draw(st.sampled_from([ChatRole.USER, ChatRole.ASSISTANT]))
            kind = draw(st.sampled_from(KINDS))
            component_id = None
            if role == ChatRole.ASSISTANT and kind == "tool_call" and draw(st.booleans()):
                content: str | dict[str, Any] = {
                    "toolCallId": f"call-{next(counter)}",
                    "toolName": draw(tool_names),
                    "args": draw(json_objects),
                }
                if draw(st.booleans()):
                    content["result"] = draw(json_values)
                    if draw(st.booleans()):
                        content["isError"] = draw(st.booleans())
            elif (kind == "text" or (kind == "image" and role == ChatRole.USER)) and draw(
                st.booleans()
            ):
                content = draw(st.text(max_size=10))
            else:
                natural = kind == "text" or (kind == "image" and role == ChatRole.USER)
                content = draw(custom_content(kind, natural_string=natural))
                if role == ChatRole.ASSISTANT and draw(st.booleans()):
                    component_id = f"part-{next(counter)}"
            out.append(
                ChatMessage(
                    parent_id="ses-1",
                    source_request_id=f"req-{request}",
                    sequence=f"{number:03d}",
                    component_type=ChatComponentType(kind),
                    user_type=ChatUserType.USER if role == ChatRole.USER else ChatUserType.SYSTEM,
                    role=role,
                    content=content,
                    component_id=component_id,
                )
            )
    return out
