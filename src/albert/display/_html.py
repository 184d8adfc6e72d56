"""HTML for Jupyter: resources, lists of them, messages and whole transcripts.

Everything the server sent is text here, never markup: every string goes
through `html.escape` (quotes included, so that no value can end an
attribute), no server text is ever put in a ``style`` or an event attribute,
and a URL becomes an ``src`` or an ``href`` only when `image_url` or
`link_url` accepts it (http and https; for images also PNG, JPEG, GIF and WebP
``data:`` URLs, never SVG, which can hold a script). Server text that shares a
line with the SDK's own words is in a ``<bdi>``, so that a right-to-left
override in it cannot reorder them (a role, a count). A string longer than
`MAX_TEXT` is cut. Styles are inline and neutral, so that the output reads in
light and dark themes alike, and long words wrap.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from albert.display._plain import readable_time, short_text

if TYPE_CHECKING:
    from albert.resources.chats import ChatMessage
    from albert.resources.transcripts import Transcript, TranscriptRequest

__all__ = [
    "image_url",
    "link_url",
    "message_html",
    "resource_html",
    "resources_html",
    "transcript_html",
]

#: Rows of a table of resources shown before "… and N more".
MAX_ROWS = 200
#: Messages of a transcript shown before "… and N more" (a notebook cell stays light).
MAX_MESSAGES = 500
#: How deep nested objects become nested tables; deeper, they are JSON text.
MAX_DEPTH = 3
#: Characters of a cell in a table of resources.
CELL_WIDTH = 80
#: Characters of one string shown (a message's text, a value of a card); the rest is cut.
MAX_TEXT = 20_000

_HTTP = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
_IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}", re.I)
#: Keys of an object whose value is a link, when it is one `link_url` accepts.
_LINK_KEYS = {"url", "href", "link", "source_url", "sourceurl", "uri"}
#: Keys that may hold an image's URL, and its description, in an image component.
_IMAGE_KEYS = ("url", "src", "image", "image_url", "imageUrl", "href", "data")
_ALT_KEYS = ("alt", "caption", "title", "description", "name")

_BOX = "border:1px solid rgba(127,127,127,.35);border-radius:6px;padding:6px 10px;margin:4px 0"
_MUTED = "opacity:.7;font-size:.85em"
_TABLE = "border-collapse:collapse;font-size:.9em;margin:2px 0"
_HEAD = (
    "border:1px solid rgba(127,127,127,.3);padding:2px 6px;text-align:left;"
    "vertical-align:top;overflow-wrap:break-word"
)
#: A value's cell: a long word in it wraps anywhere rather than widen the table.
_CELL = _HEAD.replace("break-word", "anywhere")
#: Server text as it was written: line breaks kept, long words wrapped.
_PRE = "white-space:pre-wrap;overflow-wrap:anywhere"
_ERROR = (
    "border:1px solid #c33;border-left:4px solid #c33;border-radius:6px;"
    "padding:6px 10px;margin:4px 0;background:rgba(204,51,51,.08)"
)
_ROLE_COLOURS = {"user": "#3b82f6", "assistant": "#10b981"}


def _esc(value: object) -> str:
    """Return any value as HTML text: nothing in it is markup or ends an attribute."""
    return html.escape(str(value), quote=True)


def _inline(value: object) -> str:
    """Return server text for a line of the SDK's own words: escaped, and isolated."""
    return f"<bdi>{_esc(value)}</bdi>"


def _long(text: str) -> str:
    """Return server text escaped, cut at `MAX_TEXT` characters with a note of the rest."""
    if len(text) <= MAX_TEXT:
        return _esc(text)
    rest = len(text) - MAX_TEXT
    return (
        f'{_esc(text[:MAX_TEXT])}<span style="{_MUTED}">… {rest:,} more characters: '
        "message.content holds them all</span>"
    )


def image_url(url: object) -> str | None:
    """Return ``url`` if an ``<img src>`` may load it, else ``None``.

    Parameters
    ----------
    url : object
        What the server sent as an image's address.

    Returns
    -------
    str | None
        The URL, for an http(s) URL with a host, or a base64 ``data:`` URL of a
        PNG, JPEG, GIF or WebP image; ``None`` for anything else
        (``javascript:``, SVG, other schemes, spaces or control characters).
    """
    if not isinstance(url, str):
        return None
    if _IMAGE_DATA.fullmatch(url):
        return url
    return link_url(url)


def link_url(url: object) -> str | None:
    """Return ``url`` if an ``<a href>`` may point to it (http or https, with a host).

    Parameters
    ----------
    url : object
        What the server sent as an address.

    Returns
    -------
    str | None
        The URL, or ``None`` for another scheme or a malformed one.
    """
    if not isinstance(url, str) or not _HTTP.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _link(url: str, text: str | None = None) -> str:
    return (
        f'<a href="{_esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
        f"{_esc(text if text is not None else url)}</a>"
    )


def _code(value: object) -> str:
    return f"<code>{_inline(value)}</code>"


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _json_code(value: object) -> str:
    return f'<code style="{_PRE}"><bdi>{_long(_json_text(value))}</bdi></code>'


# ---- values: scalars, objects and lists of what the server sent -------------------------


def _scalar(value: object, *, key: str | None = None) -> str:
    if value is None:
        return '<span style="opacity:.5">null</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if key is not None and key.lower() in _LINK_KEYS:
            url = link_url(value)
            if url is not None:
                return _link(url)
        return f'<span style="{_PRE}">{_long(value)}</span>'
    return _esc(value)


def _value(value: object, *, key: str | None = None, depth: int = 0) -> str:
    """Return a value of the server's JSON as HTML: objects as tables, lists as lists."""
    if isinstance(value, Mapping):
        if not value:
            return _code("{}")
        if depth >= MAX_DEPTH:
            return _json_code(value)
        return _object_table(value, depth=depth)
    if isinstance(value, list):
        return _list(value, key=key, depth=depth)
    return _scalar(value, key=key)


def _object_table(value: Mapping[str, Any], *, depth: int = 0, caption: str | None = None) -> str:
    rows = [
        f'<tr><th style="{_HEAD}">{_esc(name)}</th>'
        f'<td style="{_CELL}">{_value(item, key=str(name), depth=depth + 1)}</td></tr>'
        for name, item in value.items()
    ]
    head = f'<caption style="text-align:left;{_MUTED}">{_esc(caption)}</caption>' if caption else ""
    return f'<table style="{_TABLE}">{head}{"".join(rows)}</table>'


def _list(value: list[Any], *, key: str | None, depth: int) -> str:
    if not value:
        return _code("[]")
    if depth >= MAX_DEPTH:
        return _json_code(value)
    if all(isinstance(item, Mapping) for item in value):
        columns: list[str] = []
        for item in value:
            columns.extend(str(name) for name in item if str(name) not in columns)
        header = "".join(f'<th style="{_HEAD}">{_esc(name)}</th>' for name in columns)
        rows = "".join(
            "<tr>"
            + "".join(
                f'<td style="{_CELL}">'
                f"{_value(item[name], key=name, depth=depth + 1) if name in item else ''}</td>"
                for name in columns
            )
            + "</tr>"
            for item in value
        )
        return f'<table style="{_TABLE}"><tr>{header}</tr>{rows}</table>'
    items = "".join(f"<li>{_value(item, key=key, depth=depth + 1)}</li>" for item in value)
    return f'<ol style="margin:2px 0;padding-left:1.6em">{items}</ol>'


# ---- one message's content, by component type ------------------------------------------


def _first(content: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((content[k] for k in keys if k in content and content[k] not in (None, "")), None)


def _text(content: str | dict[str, Any]) -> str:
    if isinstance(content, str):
        return f'<div style="{_PRE}">{_long(content)}</div>'
    text = content.get("text")
    if isinstance(text, str) and len(content) == 1:
        return _text(text)
    return _value(content)


def _image(content: str | dict[str, Any]) -> str:
    source = content if isinstance(content, str) else _first(content, _IMAGE_KEYS)
    alt = None if isinstance(content, str) else _first(content, _ALT_KEYS)
    url = image_url(source)
    if url is None:
        shown = short_text(str(source), 120) if source is not None else "no URL"
        return (
            f'<div style="{_BOX}"><span style="{_MUTED}">image not shown: its address is not '
            "an http(s) URL or a PNG, JPEG, GIF or WebP data URL</span><br>"
            f"{_code(shown)}</div>"
        )
    caption = f'<div style="{_MUTED}">{_esc(alt)}</div>' if alt is not None else ""
    return (
        f'<figure style="margin:4px 0"><img src="{_esc(url)}" alt="{_esc(alt or "")}" '
        f'loading="lazy" referrerpolicy="no-referrer" '
        f'style="max-width:100%;max-height:360px">{caption}</figure>'
    )


def _reasoning(content: str | dict[str, Any]) -> str:
    if isinstance(content, str):
        body = f'<div style="{_PRE}">{_long(content)}</div>'
    else:
        body = _value(content)
    return (
        f'<details style="{_BOX}"><summary style="cursor:pointer;{_MUTED}">reasoning</summary>'
        f"{body}</details>"
    )


def _card(title: str, content: str | dict[str, Any]) -> str:
    if isinstance(content, str):
        head = f'<div style="{_MUTED}">{_esc(title)}</div>'
        return f'<div style="{_BOX}">{head}{_text(content)}</div>'
    return _object_table(content, caption=title)


def _tool_call(content: str | dict[str, Any]) -> str:
    if isinstance(content, str):
        return _card("tool call", content)
    name = _first(content, ("tool", "name", "tool_name", "toolName", "function"))
    title = f"tool call: {name}" if isinstance(name, str) else "tool call"
    return _object_table(content, caption=title)


def _error(content: str | dict[str, Any]) -> str:
    body = _text(content) if isinstance(content, str) else _object_table(content)
    return f'<div style="{_ERROR}"><strong style="color:#c33">⚠ error</strong>{body}</div>'


def content_html(component_type: str, content: str | dict[str, Any]) -> str:
    """Return a message's content as HTML, shaped by its component type.

    Parameters
    ----------
    component_type : str
        The message's component type (a value the SDK does not know is shown
        as data).
    content : str | dict[str, Any]
        The message's content.

    Returns
    -------
    str
        Text as text, images as images (safe URLs only), reasoning collapsed,
        tool calls and cards as compact tables, errors marked.
    """
    if component_type == "text":
        return _text(content)
    if component_type == "image":
        return _image(content)
    if component_type == "reasoning_block":
        return _reasoning(content)
    if component_type == "tool_call":
        return _tool_call(content)
    if component_type == "error":
        return _error(content)
    known = {
        "product_card": "product",
        "ingredient_card": "ingredient",
        "notebook_citation": "notebook citation",
        "document_citation": "document citation",
        "plan": "plan",
        "permission_request": "permission request",
    }
    return _card(known.get(component_type, component_type), content)


# ---- resources --------------------------------------------------------------------------


def _fields(model: BaseModel) -> dict[str, Any]:
    """Return a model's fields that hold something, by Python name; timestamps readable.

    The main fields (those a repr shows) come first, who made and changed it last.
    """
    names = list(getattr(model, "_repr_fields", ()))
    names += [n for n in type(model).model_fields if n not in names]
    audit = [n for n in ("status", "created", "updated") if n in names]
    shown: dict[str, Any] = {}
    for name in [n for n in names if n not in audit] + audit:
        value = getattr(model, name)
        if isinstance(value, list) and value and all(isinstance(v, Enum) for v in value):
            value = ", ".join(v.value for v in value)
        elif name.endswith("_at") and isinstance(value, str):
            value = readable_time(value) or value
        value = _plain_value(value)
        if value is not None:
            shown[name] = value
    return shown


def _plain_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return readable_time(value)
    if isinstance(value, BaseModel):
        return _fields(value)
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def _message_meta(message: ChatMessage, *, starred: bool) -> str:
    role = message.role.value
    colour = _ROLE_COLOURS.get(role, "#888")
    parts = [
        f'<strong style="color:{colour}">{_inline(role)}</strong>',
        _inline(message.component_type.value),
    ]
    if message.sequence:
        parts.append(f"#{_inline(message.sequence)}")
    if starred:
        parts.append('<span title="starred">★</span>')
    if message.created is not None and message.created.at is not None:
        parts.append(_esc(readable_time(message.created.at)))
    return f'<div style="{_MUTED}">{" · ".join(parts)}</div>'


def _attachments(message: ChatMessage) -> str:
    if not message.attachments:
        return ""
    files = ", ".join(
        f"{_inline(a.title)} ({_inline(a.kind)}"
        f"{', ' + _inline(a.parts_summary) if a.parts_summary else ''})"
        for a in message.attachments
    )
    return f'<div style="{_MUTED}">📎 {files}</div>'


def message_html(message: ChatMessage, *, starred: bool = False) -> str:
    """Return one message as HTML: who, what kind, and its content rendered.

    Parameters
    ----------
    message : ChatMessage
        The message.
    starred : bool, optional
        Mark it as starred.

    Returns
    -------
    str
        A ``<div>`` with the role, component type, sequence and content.
    """
    colour = _ROLE_COLOURS.get(message.role.value, "#888")
    return (
        f'<div class="albert-message" style="border-left:3px solid {colour};'
        f'padding:2px 0 2px 8px;margin:6px 0">'
        f"{_message_meta(message, starred=starred)}"
        f"{content_html(message.component_type.value, message.content)}"
        f"{_attachments(message)}</div>"
    )


def resource_html(model: BaseModel) -> str:
    """Return a resource as HTML: a small table of the fields it holds, by Python name.

    Parameters
    ----------
    model : BaseModel
        A session, a folder, a flag, a flag set (any model of the SDK); a
        `ChatMessage` shows its content rendered below its fields.

    Returns
    -------
    str
        A captioned ``<table>``.
    """
    from albert.resources.chats import ChatMessage

    fields = _fields(model)
    if isinstance(model, ChatMessage):
        fields.pop("content", None)
        table = _object_table(fields, caption=type(model).__name__)
        return f'<div class="albert-resource">{table}{message_html(model)}</div>'
    table = _object_table(fields, caption=type(model).__name__)
    return f'<div class="albert-resource">{table}</div>'


def _columns(item_type: type[BaseModel]) -> list[str]:
    chosen: Sequence[str] | None = getattr(item_type, "_repr_fields", None)
    return list(chosen) if chosen else list(item_type.model_fields)


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    elif isinstance(value, datetime):
        value = readable_time(value)
    elif name.endswith("_at") and isinstance(value, str):
        value = readable_time(value) or value
    elif isinstance(value, list):
        value = ", ".join(str(v.value if isinstance(v, Enum) else v) for v in value)
    elif isinstance(value, BaseModel):
        value = _json_text(value.model_dump(mode="json", exclude_none=True))
    elif isinstance(value, dict):
        value = _json_text(value)
    return _esc(short_text(str(value), CELL_WIDTH))


def resources_html(items: Sequence[BaseModel]) -> str:
    """Return a list of resources as one table, a row per item (at most `MAX_ROWS`).

    Parameters
    ----------
    items : Sequence[BaseModel]
        Resources, usually of one type (a page of a listing).

    Returns
    -------
    str
        A ``<table>`` whose columns are the main fields of the first item's
        type, with a caption that counts the items.
    """
    if not items:
        return f'<div style="{_MUTED}">no items</div>'
    item_type = type(items[0])
    columns = _columns(item_type)
    header = "".join(f'<th style="{_HEAD}">{_esc(name)}</th>' for name in columns)
    rows = "".join(
        "<tr>"
        + "".join(f'<td style="{_CELL}">{_cell(n, getattr(i, n, None))}</td>' for n in columns)
        + "</tr>"
        for i in items[:MAX_ROWS]
    )
    count = len(items)
    names = {type(i).__name__ for i in items}
    what = item_type.__name__ if len(names) == 1 else "items"
    more = f'<div style="{_MUTED}">… and {count - MAX_ROWS} more</div>' if count > MAX_ROWS else ""
    caption = (
        f'<caption style="text-align:left;{_MUTED}">{_esc(what)}: {count} '
        f"item{'' if count == 1 else 's'}</caption>"
    )
    return f'<table style="{_TABLE}">{caption}<tr>{header}</tr>{rows}</table>{more}'


# ---- transcripts ------------------------------------------------------------------------


def _request_html(request: TranscriptRequest, transcript: Transcript) -> str:
    roles = ", ".join(dict.fromkeys(m.role.value for m in request.messages))
    head = (
        f'<div style="{_MUTED}">request {_code(request.source_request_id or "(none)")} · '
        f"{_inline(roles)} · {len(request.messages)} component"
        f"{'' if len(request.messages) == 1 else 's'}</div>"
    )
    body = "".join(message_html(m, starred=transcript.is_starred(m)) for m in request.messages)
    return f'<section class="albert-request" style="{_BOX}">{head}{body}</section>'


def transcript_html(transcript: Transcript) -> str:
    """Return a whole conversation as HTML: its requests in order, each with its messages.

    Parameters
    ----------
    transcript : Transcript
        The session and its messages.

    Returns
    -------
    str
        A ``<div>`` with the session's name and ids, then one section per
        request.
    """
    session = transcript.session
    facts = [f"session {_code(session.id or '')}"]
    if session.parent_id:
        facts.append(f"folder {_code(session.parent_id)}")
    requests = transcript.requests
    facts.append(
        f"{len(transcript.messages)} messages in {len(requests)} request"
        f"{'' if len(requests) == 1 else 's'}"
    )
    if transcript.starred:
        facts.append(f"{len(transcript.starred)} ★")
    if session.last_message_at:
        last = readable_time(session.last_message_at) or session.last_message_at
        facts.append(f"last message {_inline(last)}")
    head = (
        f'<div style="font-weight:600;font-size:1.1em">{_esc(session.name)}</div>'
        f'<div style="{_MUTED}">{" · ".join(facts)}</div>'
    )
    shown, sections = 0, []
    for request in requests:
        if shown >= MAX_MESSAGES:
            break
        sections.append(_request_html(request, transcript))
        shown += len(request.messages)
    more = ""
    if shown < len(transcript.messages):
        more = (
            f'<div style="{_MUTED}">… and {len(transcript.messages) - shown} more messages: '
            "iterate the transcript, or export it (to_markdown, chat_sessions.export)</div>"
        )
    return f'<div class="albert-transcript">{head}{"".join(sections)}{more}</div>'
