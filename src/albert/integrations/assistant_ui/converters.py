"""Albert chat messages to assistant-ui messages and back (pure functions, no I/O).

An Albert conversation is a list of *components* (`ChatMessage`): the
components of one turn share a ``source_request_id`` and are ordered by
``sequence``. An assistant-ui thread is a list of *messages* made of *parts*.
One request makes one message; each component makes one part.

The mapping (see the guide, "Backing assistant-ui with Albert"):

=====================  ==========================================  ==========================
component              in an assistant message                     in a user message
=====================  ==========================================  ==========================
text                   text part                                   text part
image                  tool-call part ``image``, args ``{image}``  image part
tool_call              tool-call part (the tool's own name); its   (generic, below)
                       result in a ``tool`` message right after
reasoning_block,       tool-call part named after the component    (generic, below)
notebook_citation,     type, args = the content (custom UI:
document_citation,     ``makeAssistantToolUI({toolName})``)
product_card,
ingredient_card,
error, plan,
permission_request
=====================  ==========================================  ==========================

assistant-ui's own front end has reasoning, source and image parts for
assistant messages, but the sync-server API (``assistant_ui.types``) types an
assistant message as text and tool-call parts only, and the output of this
module conforms to those types: what assistant-ui cannot type natively is a
tool-call part named after the component type, which is how assistant-ui
renders custom UI. A component whose content does not fit its natural part
(a text whose content is an object, a tool call without a tool name, ...)
takes that route too: tool names equal to a component type are reserved.
The front end's answer to such a part (a plan approved: a tool result) is a
``tool_call`` of ``{toolCallId, toolName, result[, isError]}`` after it in
its request, read back as the part's result. A user message admits text,
image and file parts only: a user component with no natural part (rare)
travels as a file part of type ``application/vnd.albert.<component type>+json``
holding its content as JSON.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from albert.resources.chats import ChatComponentType, ChatMessage, ChatRole, ChatUserType

__all__ = [
    "COMPONENT_TOOL_NAMES",
    "AssistantUIMessage",
    "component_args",
    "component_content",
    "derived_request_id",
    "from_assistant_ui",
    "to_assistant_ui",
]

#: An assistant-ui message (``assistant_ui.types.Message``): a plain dict.
AssistantUIMessage = dict[str, Any]

#: Tool names that stand for an Albert component in an assistant message (custom
#: UI), not for a tool: every component type. A ``text`` or ``tool_call``
#: component travels this way only when its content does not fit its natural part
#: (a text whose content is an object, a tool call without a tool name, ...).
COMPONENT_TOOL_NAMES: frozenset[str] = frozenset(kind.value for kind in ChatComponentType)

#: The key a custom-UI part's args give to a string content (``{"text": ...}``).
_STRING_KEYS = {ChatComponentType.IMAGE.value: "image"}
#: The media type of a user component carried as a file part.
_VENDOR_MEDIA_TYPE = "application/vnd.albert.{kind}+json"
_VENDOR_PREFIX, _VENDOR_SUFFIX = "application/vnd.albert.", "+json"
#: The keys of a ``tool_call`` content that maps onto a tool-call part.
_TOOL_CALL_KEYS = frozenset({"toolCallId", "toolName", "args", "result", "isError"})
#: The keys of a ``tool_call`` content that answers a custom-UI part (`_answered_card`).
_RESULT_KEYS = frozenset({"toolCallId", "toolName", "result", "isError"})
#: Seeds the request ids given to messages that have no ``unstable_id``.
_REQUEST_ID_NAMESPACE = uuid.UUID("5b0f6f1e-6c53-4e43-9c5e-6a4c1b0d2a17")


# ---- Albert -> assistant-ui -------------------------------------------------------------


def to_assistant_ui(messages: Iterable[ChatMessage]) -> list[AssistantUIMessage]:
    """Turn Albert chat components into assistant-ui messages.

    Components that share a ``source_request_id`` make one message, their
    parts in ``sequence`` order; the message's ``unstable_id`` is that request
    id. Requests keep the order in which they first appear (a listing gives
    them in creation order). Components with ``is_visible=False`` are left
    out. Components that share a ``component_id`` within a request are
    updates of one part, as Albert stores a streamed answer: text is appended,
    any other type keeps its latest content.

    Parameters
    ----------
    messages : Iterable[ChatMessage]
        The components, as ``client.chat_messages.get_all(...)`` lists them.

    Returns
    -------
    list[dict]
        assistant-ui messages (``assistant_ui.types.Message``): ``user`` and
        ``assistant`` messages, and a ``tool`` message after an assistant
        message whose tool calls carry results.
    """
    groups: dict[str | None, list[ChatMessage]] = {}
    order: list[tuple[str | None, int]] = []
    for index, message in enumerate(messages):
        if message.is_visible is False:
            continue
        key = message.source_request_id
        if key is None:  # no request id: a message of its own
            order.append((None, index))
            groups[f"\0{index}"] = [message]
            continue
        if key not in groups:
            order.append((key, index))
            groups[key] = []
        groups[key].append(message)
    result: list[AssistantUIMessage] = []
    for key, index in order:
        group = groups[f"\0{index}"] if key is None else groups[key]
        for run, run_id in _role_runs(_merged_updates(sorted(group, key=_sequence_key)), key):
            result.extend(_message_of(run, run_id, key))
    return result


def _sequence_key(message: ChatMessage) -> tuple[int, str]:
    sequence = message.sequence or ""
    return len(sequence), sequence


def _merged_updates(components: list[ChatMessage]) -> list[ChatMessage]:
    """Fold components that share a ``component_id`` into the first of them."""
    merged: list[ChatMessage] = []
    by_id: dict[str, int] = {}
    for component in components:
        cid = component.component_id
        if cid is None or cid not in by_id:
            if cid is not None:
                by_id[cid] = len(merged)
            merged.append(component)
            continue
        place = by_id[cid]
        first = merged[place]
        if (
            first.component_type == ChatComponentType.TEXT
            and isinstance(first.content, str)
            and isinstance(component.content, str)
        ):
            content: str | dict[str, Any] = first.content + component.content
        else:
            content = component.content
        merged[place] = first.model_copy(update={"content": content})
    return merged


def _role_runs(
    components: list[ChatMessage], request_id: str | None
) -> Iterable[tuple[list[ChatMessage], str | None]]:
    """Split a request at each change of role (one message per role), rarely more than one run."""
    runs: list[list[ChatMessage]] = []
    for component in components:
        if runs and runs[-1][0].role == component.role:
            runs[-1].append(component)
        else:
            runs.append([component])
    for number, run in enumerate(runs):
        if request_id is None or number == 0:
            yield run, request_id
        else:
            yield run, f"{request_id}#{number}"


def _message_of(
    components: list[ChatMessage], message_id: str | None, request_id: str | None
) -> list[AssistantUIMessage]:
    if components[0].role == ChatRole.USER:
        user_parts = [_user_part(c) for c in components]
        return [{"role": "user", "content": user_parts, "unstable_id": message_id}]
    parts: list[dict[str, Any]] = []
    results: list[tuple[int, dict[str, Any]]] = []  # (the place of the part answered, the result)
    cards: dict[str, int] = {}  # the toolCallId of each custom-UI part so far, to its place
    for index, component in enumerate(components):
        content = component.content
        answered = _answered_card(component, cards)
        if answered is not None:
            assert isinstance(content, dict)
            results.append((answered, _tool_result(content, content["toolName"])))
            continue
        part = _assistant_part(component, request_id, index)
        parts.append(part)
        if _is_tool_call(component):
            assert isinstance(content, dict)
            if "result" in content:
                results.append((len(parts) - 1, _tool_result(content, part["toolName"])))
        elif part["type"] == "tool-call":
            cards[part["toolCallId"]] = len(parts) - 1
    out: list[AssistantUIMessage] = [
        {"role": "assistant", "content": parts, "unstable_id": message_id}
    ]
    if results:
        results.sort(key=lambda placed: placed[0])
        out.append({"role": "tool", "content": [result for _, result in results]})
    return out


def _tool_result(content: Mapping[str, Any], tool_name: str) -> dict[str, Any]:
    return {
        "type": "tool-result",
        "toolCallId": content["toolCallId"],
        "toolName": tool_name,
        "result": content["result"],
        "isError": content.get("isError"),
    }


def _answered_card(component: ChatMessage, cards: Mapping[str, int]) -> int | None:
    """Return the place of the custom-UI part a ``tool_call`` component answers, if it is one.

    The front end answers a custom-UI part (a ``plan``, a
    ``permission_request``: assistant-ui's human-in-the-loop ``addResult``)
    with a tool result; `from_assistant_ui` stores it as a ``tool_call`` of
    ``{toolCallId, toolName, result[, isError]}`` after the card, in the
    card's request, and it reads back as that part's result.
    """
    content = component.content
    if (
        component.component_type != ChatComponentType.TOOL_CALL
        or not isinstance(content, dict)
        or not _RESULT_KEYS.issuperset(content)
        or "result" not in content
        or not isinstance(content.get("toolName"), str)
        or not isinstance(content.get("isError", False), bool)
    ):
        return None
    call_id = content.get("toolCallId")
    return cards.get(call_id) if isinstance(call_id, str) else None


def _split_of(message_id: str) -> tuple[str, int]:
    """Return the request and run number of a message id `_role_runs` may have made.

    ``"<request id>#<n>"`` gives ``("<request id>", n)``; any other id is run 0
    of a request of its own.
    """
    request_id, sep, number = message_id.rpartition("#")
    if sep and request_id and number.isdigit() and number[0] != "0":
        return request_id, int(number)
    return message_id, 0


def _kind(component: ChatMessage) -> str:
    return str(component.component_type.value)


def _user_part(component: ChatMessage) -> dict[str, Any]:
    kind, content = _kind(component), component.content
    if isinstance(content, str):
        if kind == ChatComponentType.TEXT.value:
            return {"type": "text", "text": content}
        if kind == ChatComponentType.IMAGE.value:
            return {"type": "image", "image": content}
    return {
        "type": "file",
        "data": json.dumps(content, ensure_ascii=False),
        "mimeType": _VENDOR_MEDIA_TYPE.format(kind=kind),
    }


def _is_tool_call(component: ChatMessage) -> bool:
    """Whether a component is a ``tool_call`` whose content maps onto a tool-call part."""
    content = component.content
    return (
        component.component_type == ChatComponentType.TOOL_CALL
        and isinstance(content, dict)
        and _TOOL_CALL_KEYS.issuperset(content)
        and isinstance(content.get("toolCallId"), str)
        and bool(content["toolCallId"])
        and isinstance(content.get("toolName"), str)
        and content["toolName"] not in COMPONENT_TOOL_NAMES
        and isinstance(content.get("args"), dict)
        and isinstance(content.get("isError", False), bool)
        and ("isError" not in content or "result" in content)  # else isError would be lost
    )


def _derived_part_id(request_id: str | None, sequence: str | None, index: int) -> str:
    """Return the toolCallId of a custom-UI part whose component has no ``component_id``."""
    return f"{request_id or 'component'}:{sequence if sequence is not None else index}"


def _assistant_part(component: ChatMessage, request_id: str | None, index: int) -> dict[str, Any]:
    kind, content = _kind(component), component.content
    if kind == ChatComponentType.TEXT.value and isinstance(content, str):
        return {"type": "text", "text": content}
    if _is_tool_call(component):
        assert isinstance(content, dict)
        return {
            "type": "tool-call",
            "toolCallId": content["toolCallId"],
            "toolName": content["toolName"],
            "args": content["args"],
        }
    return {
        "type": "tool-call",
        "toolCallId": component.component_id
        or _derived_part_id(request_id, component.sequence, index),
        "toolName": kind,
        "args": component_args(kind, content),
    }


def _string_key(kind: str) -> str:
    return _STRING_KEYS.get(kind, "text")


def _is_wrapper(kind: str, args: Mapping[str, Any]) -> bool:
    """Whether args have the shape `component_args` gives a string (or a wrapped) content."""
    if len(args) != 1:
        return False
    ((key, value),) = args.items()
    return (key == _string_key(kind) and isinstance(value, str)) or (
        key == "content" and isinstance(value, dict)
    )


def component_args(kind: str, content: str | dict[str, Any]) -> dict[str, Any]:
    """Return the args of the tool-call part that shows a component as custom UI.

    A string content becomes ``{"text": content}`` (``{"image": url}`` for an
    image); an object is given as it is, unless it has one of those two shapes
    itself, in which case it is wrapped as ``{"content": object}``, so that
    `component_content` can always tell them apart.

    Parameters
    ----------
    kind : str
        The component type (the part's ``toolName``).
    content : str | dict[str, Any]
        The component's content.

    Returns
    -------
    dict[str, Any]
        The part's ``args``.
    """
    if isinstance(content, str):
        return {_string_key(kind): content}
    if _is_wrapper(kind, content):
        return {"content": content}
    return dict(content)


def component_content(kind: str, args: Mapping[str, Any]) -> str | dict[str, Any]:
    """Return the content a custom-UI part's args stand for (the inverse of `component_args`).

    Parameters
    ----------
    kind : str
        The component type (the part's ``toolName``).
    args : Mapping[str, Any]
        The part's ``args``.

    Returns
    -------
    str | dict[str, Any]
        The component's content.
    """
    if _is_wrapper(kind, args):
        ((_, value),) = args.items()
        return value if isinstance(value, str) else dict(value)
    return dict(args)


# ---- assistant-ui -> Albert -------------------------------------------------------------


@dataclass
class _Component:
    """A component planned from an assistant-ui part, before it has a session."""

    kind: ChatComponentType
    role: ChatRole
    content: str | dict[str, Any]
    component_id: str | None = None
    call_id: str | None = None  # a tool call's id: its results are put into its content


@dataclass
class _Request:
    """The components one assistant-ui message becomes."""

    request_id: str | None  # None: derived from the session id and `index`
    index: int
    components: list[_Component]


def from_assistant_ui(
    messages: Sequence[Mapping[str, Any]], *, session_id: str
) -> list[ChatMessage]:
    """Turn assistant-ui messages into Albert chat components, ready to create.

    Each message becomes the components of one request: its
    ``source_request_id`` is the message's ``unstable_id``, or, when it has
    none, an id derived from ``session_id`` and the message's place in the
    list (the same every time, so a thread saved again matches what is
    stored). Sequences run from ``"000"`` in each request. The messages
    `to_assistant_ui` made of one request that changes role (``<id>``,
    ``<id>#1``, ...) are that one request again. The results of a
    ``tool`` message are put into the ``tool_call`` components of the calls
    they answer; a result that answers no call of the list becomes a
    ``tool_call`` component of its own. ``system`` messages are left out:
    Albert chat history has no system role (pass the prompt as ``system=``).

    Parameters
    ----------
    messages : Sequence[Mapping[str, Any]]
        assistant-ui messages (``assistant_ui.types.Message``; the parts of
        assistant-ui's own front end, such as ``reasoning``, ``source`` and
        ``image`` parts in assistant messages, or tool-call parts carrying
        their ``result``, are read too).
    session_id : str
        The chat session the components belong to (their ``parent_id``).

    Returns
    -------
    list[ChatMessage]
        The components, in order.

    Raises
    ------
    ValueError
        If a message or a part is malformed, two messages share an
        ``unstable_id``, or a part has no Albert component (a file that is
        neither an image nor one of ours).
    """
    if not isinstance(session_id, str) or not session_id:
        raise ValueError("session_id must be a non-empty string")
    return materialise(plan_components(messages), session_id=session_id)


def plan_components(messages: Sequence[Mapping[str, Any]]) -> list[_Request]:
    """Check and convert messages into components not yet tied to a session.

    Parameters
    ----------
    messages : Sequence[Mapping[str, Any]]
        assistant-ui messages.

    Returns
    -------
    list[_Request]
        One entry per request to store.

    Raises
    ------
    ValueError
        See `from_assistant_ui`.
    """
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise ValueError("messages must be a list of assistant-ui messages")
    requests: list[_Request] = []
    calls: dict[str, _Component] = {}
    cards: dict[str, _Request] = {}  # the id of each custom-UI part, to its request
    seen_ids: set[str] = set()
    # The last user or assistant message kept: its id, role and request, so that
    # the runs `to_assistant_ui` split a request into make one request again.
    last: tuple[str | None, str, _Request] | None = None
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise ValueError(f"{where} is not a message (a dict), got {type(message).__name__}")
        role = message.get("role")
        if role == "system":
            continue
        if role == "tool":
            requests.extend(_tool_results(message, where, index, calls, cards))
            continue
        if role not in ("user", "assistant"):
            raise ValueError(f"{where}.role must be system, user, assistant or tool, got {role!r}")
        request_id = message.get("unstable_id")
        if request_id is not None:
            if not isinstance(request_id, str) or not request_id:
                raise ValueError(f"{where}.unstable_id must be a non-empty string or None")
            if request_id in seen_ids:
                raise ValueError(f"{where}.unstable_id {request_id!r} is used by two messages")
            seen_ids.add(request_id)
        parts = _parts_of(message, where)
        if role == "user":
            components = [
                _user_component(part, f"{where}.content[{i}]") for i, part in enumerate(parts)
            ]
        else:
            components = []
            for i, part in enumerate(parts):
                component = _assistant_component(part, f"{where}.content[{i}]")
                if component is None:
                    continue
                components.append(component)
                if component.call_id is not None:
                    calls[component.call_id] = component
        if not components:
            continue
        earlier = _split_request(request_id, role, last)
        if earlier is not None:
            earlier.components.extend(components)
        else:
            earlier = _Request(request_id, index, components)
            requests.append(earlier)
        last = (request_id, role, earlier)
        cards.update(
            (c.component_id, earlier)
            for c in components
            if c.role == ChatRole.ASSISTANT and c.component_id is not None
        )
    return requests


def _split_request(
    message_id: str | None, role: str, last: tuple[str | None, str, _Request] | None
) -> _Request | None:
    """Return the request a message continues, if it is a later run of the last one's request.

    `to_assistant_ui` splits a request whose components change role into
    messages ``<id>``, ``<id>#1``, ``<id>#2``, ... of alternating roles; read
    back, they are one request again, its sequences running on.
    """
    if message_id is None or last is None:
        return None
    request_id, number = _split_of(message_id)
    last_id, last_role, request = last
    if number == 0 or last_id is None or last_role == role:
        return None
    expected = request_id if number == 1 else f"{request_id}#{number - 1}"
    return request if last_id == expected and request.request_id == request_id else None


def materialise(requests: Sequence[_Request], *, session_id: str) -> list[ChatMessage]:
    """Give planned requests their session, request ids and sequences.

    Parameters
    ----------
    requests : Sequence[_Request]
        What `plan_components` returned.
    session_id : str
        The chat session's id.

    Returns
    -------
    list[ChatMessage]
        The components, in order.
    """
    out: list[ChatMessage] = []
    for request in requests:
        request_id = request.request_id or derived_request_id(session_id, request.index)
        for number, component in enumerate(request.components):
            sequence = f"{number:03d}"
            component_id = component.component_id
            if component_id == _derived_part_id(request_id, sequence, number):
                component_id = None  # what to_assistant_ui derives anyway
            fields: dict[str, Any] = {
                "parent_id": session_id,
                "source_request_id": request_id,
                "sequence": sequence,
                "component_type": component.kind,
                "user_type": ChatUserType.USER
                if component.role == ChatRole.USER
                else ChatUserType.SYSTEM,
                "role": component.role,
                "content": component.content,
            }
            if component_id is not None:
                fields["component_id"] = component_id
            out.append(ChatMessage(**fields))
    return out


def derived_request_id(session_id: str, index: int) -> str:
    """Return the request id of the message at ``index`` that has no ``unstable_id``.

    Parameters
    ----------
    session_id : str
        The chat session's id.
    index : int
        The message's place in the thread.

    Returns
    -------
    str
        A UUID (version 5), the same for the same session and place.
    """
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, f"{session_id}\n{index}"))


def _parts_of(message: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):  # assistant-ui accepts a bare string for text
        return [{"type": "text", "text": content}]
    if not isinstance(content, Sequence):
        raise ValueError(f"{where}.content must be a list of parts")
    for i, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise ValueError(f"{where}.content[{i}] is not a part (a dict)")
    return list(content)


def _text(part: Mapping[str, Any], key: str, where: str) -> str:
    value = part.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key} must be a string")
    return value


def _file_component(part: Mapping[str, Any], role: ChatRole, where: str) -> _Component:
    data, media_type = _text(part, "data", where), _text(part, "mimeType", where)
    if media_type.startswith(_VENDOR_PREFIX) and media_type.endswith(_VENDOR_SUFFIX):
        name = media_type[len(_VENDOR_PREFIX) : -len(_VENDOR_SUFFIX)]
        kind = _component_type(name, where)
        try:
            content = json.loads(data)
        except ValueError:
            raise ValueError(f"{where}.data is not JSON (its type is {media_type})") from None
        if not isinstance(content, (str, dict)):
            raise ValueError(f"{where}.data must hold a JSON string or object")
        return _Component(kind, role, content)
    if media_type.startswith("image/"):
        return _Component(ChatComponentType.IMAGE, role, data)
    raise ValueError(
        f"{where} is a {media_type} file: Albert chat history stores no such component "
        "(store the file elsewhere and link it in a text part, or leave the part out)"
    )


def _component_type(name: str, where: str) -> ChatComponentType:
    try:
        return ChatComponentType(name)
    except ValueError:
        raise ValueError(f"{where}: {name!r} is not an Albert component type") from None


def _user_component(part: Mapping[str, Any], where: str) -> _Component:
    kind = part.get("type")
    if kind == "text":
        return _Component(ChatComponentType.TEXT, ChatRole.USER, _text(part, "text", where))
    if kind == "image":
        return _Component(ChatComponentType.IMAGE, ChatRole.USER, _text(part, "image", where))
    if kind == "file":
        return _file_component(part, ChatRole.USER, where)
    raise ValueError(f"{where}.type {kind!r} is not a part of a user message (text, image, file)")


def _assistant_component(part: Mapping[str, Any], where: str) -> _Component | None:
    kind = part.get("type")
    role = ChatRole.ASSISTANT
    if kind == "text":
        return _Component(ChatComponentType.TEXT, role, _text(part, "text", where))
    if kind == "tool-call":
        return _tool_call_component(part, where)
    if kind == "reasoning":
        return _Component(ChatComponentType.REASONING_BLOCK, role, _text(part, "text", where))
    if kind == "image":
        return _Component(ChatComponentType.IMAGE, role, _text(part, "image", where))
    if kind == "file":
        return _file_component(part, role, where)
    if kind == "source":
        source = {key: part[key] for key in ("sourceType", "id", "url", "title") if key in part}
        return _Component(ChatComponentType.DOCUMENT_CITATION, role, source)
    raise ValueError(
        f"{where}.type {kind!r} is not a part Albert stores "
        "(text, tool-call, reasoning, image, file, source)"
    )


def _tool_call_component(part: Mapping[str, Any], where: str) -> _Component:
    call_id, name = _text(part, "toolCallId", where), _text(part, "toolName", where)
    if not call_id or not name:
        raise ValueError(f"{where}: toolCallId and toolName must not be empty")
    args = part.get("args", {})
    if not isinstance(args, Mapping):
        raise ValueError(f"{where}.args must be an object")
    if name in COMPONENT_TOOL_NAMES:
        kind = ChatComponentType(name)
        return _Component(
            kind, ChatRole.ASSISTANT, component_content(name, args), component_id=call_id
        )
    content: dict[str, Any] = {"toolCallId": call_id, "toolName": name, "args": dict(args)}
    if "result" in part:  # assistant-ui's own messages keep the result on the call
        _set_result(content, part.get("result"), part.get("isError"), where)
    return _Component(ChatComponentType.TOOL_CALL, ChatRole.ASSISTANT, content, call_id=call_id)


def _set_result(content: dict[str, Any], result: Any, is_error: Any, where: str) -> None:
    if is_error is not None and not isinstance(is_error, bool):
        raise ValueError(f"{where}.isError must be true, false or null")
    content["result"] = result
    if is_error is not None:
        content["isError"] = is_error


def _tool_results(
    message: Mapping[str, Any],
    where: str,
    index: int,
    calls: dict[str, _Component],
    cards: Mapping[str, _Request],
) -> list[_Request]:
    """Put a tool message's results into the calls they answer; the others become requests.

    A result answering a custom-UI part (a card) becomes a ``tool_call`` after
    it in its request (`_answered_card`): the card keeps its content.
    """
    orphans: list[_Request] = []
    for i, part in enumerate(_parts_of(message, where)):
        at = f"{where}.content[{i}]"
        if part.get("type") != "tool-result":
            raise ValueError(f"{at}.type must be 'tool-result' in a tool message")
        call_id, name = _text(part, "toolCallId", at), _text(part, "toolName", at)
        call = calls.get(call_id)
        if call is not None:
            assert isinstance(call.content, dict)
            _set_result(call.content, part.get("result"), part.get("isError"), at)
            continue
        content: dict[str, Any] = {"toolCallId": call_id, "toolName": name}
        _set_result(content, part.get("result"), part.get("isError"), at)
        component = _Component(ChatComponentType.TOOL_CALL, ChatRole.ASSISTANT, content)
        calls[call_id] = component  # a later result of the same call replaces this one
        card = cards.get(call_id)
        if card is not None:
            card.components.append(component)
        else:
            orphans.append(_Request(None, index, [component]))
    if len(orphans) > 1:  # one request per message: the orphans of one message share it
        return [_Request(None, index, [r.components[0] for r in orphans])]
    return orphans
