"""A session as Markdown or JSON text, written piece by piece as its messages arrive.

`ExportRenderer` never holds the messages: the reader hands it the session
first, then each page of messages, and it returns the text of each piece, so
an export of any size costs the memory of one page.

What comes from the server is never Markdown or HTML of the export: a message
could forge a heading, or bring ``<script>``, ``onerror=`` and ``javascript:``
links into whatever renders the file. Message content goes in fenced blocks
that no line of it can close (nothing inside a fence is interpreted); names,
sequences and enum values the server made up are escaped inline, HTML
included; ids are code spans that no backtick in them can end.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from albert.resources.base import ServerEnum
    from albert.resources.chats import ChatMessage, ChatSession

__all__ = ["FORMATS", "ExportRenderer", "inline_markdown", "markdown_code"]

#: The formats an export is written in: Markdown and JSON.
FORMATS = ("md", "json")

#: The ASCII punctuation CommonMark lets a backslash escape, and that means something.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICKS = re.compile(r"`+")


def inline_markdown(text: str) -> str:
    """Return server text as literal inline Markdown: one line, no markup, no HTML.

    Parameters
    ----------
    text : str
        Text from the server (a name, a sequence).

    Returns
    -------
    str
        The text on one line, HTML escaped and Markdown punctuation
        backslash-escaped.
    """
    flat = " ".join(text.split())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(flat, quote=False))


def _label(member: ServerEnum) -> str:
    """Return an enum's value for a heading; one the server made up is escaped."""
    return member.value if member.name != "UNKNOWN" else inline_markdown(member.value)


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def markdown_code(text: str) -> str:
    """Return server text as an inline code span that no backtick in it can end.

    Parameters
    ----------
    text : str
        Text from the server (an id).

    Returns
    -------
    str
        The text on one line between enough backticks.
    """
    flat = " ".join(text.split())
    fence = "`" * (_longest_backticks(flat) + 1)
    if flat.startswith("`") or flat.endswith("`"):
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"


def _fenced(text: str, info: str) -> list[str]:
    """Return server text as a fenced code block that no line of it can close."""
    fence = "`" * max(3, _longest_backticks(text) + 1)
    return [f"{fence}{info}", text, fence]


def _block(content: str | dict[str, Any]) -> list[str]:
    if isinstance(content, str):
        return _fenced(content, "text")
    return _fenced(json.dumps(content, indent=2, ensure_ascii=False), "json")


def _indented_json(value: Any, indent: int) -> str:
    """Return ``value`` as ``json.dumps(indent=2)`` writes it nested ``indent`` spaces deep."""
    # JSON text holds no raw newline but the ones indent= adds.
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)


class ExportRenderer:
    """Write a session and its messages as Markdown or JSON, one piece at a time.

    Call `start` with the session, `messages` with each page of messages in
    order, and `end`; join what they return (or write each piece as it
    comes). The JSON is what ``json.dumps(..., indent=2)`` writes for
    ``{"session": ..., "messages": [...]}``, each message with a
    ``"starred"`` field; the Markdown has a heading per message, its content
    in a fenced block, and ★ on the starred ones.

    Parameters
    ----------
    fmt : str, optional
        ``"md"`` (the default) or ``"json"``.
    starred : Iterable[tuple[str, str]], optional
        ``(source_request_id, sequence)`` of the session's starred messages.

    Attributes
    ----------
    count : int
        The messages written so far.

    Raises
    ------
    ValueError
        For a format that is not one of `FORMATS`.
    """

    def __init__(self, fmt: str = "md", *, starred: Iterable[tuple[str, str]] = ()) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.fmt = fmt
        self.starred = frozenset(starred)
        self.count = 0

    def is_starred(self, message: ChatMessage) -> bool:
        """Tell whether a message is one of the starred ones.

        Parameters
        ----------
        message : ChatMessage
            A message of the session.

        Returns
        -------
        bool
            Whether ``(source_request_id, sequence)`` is starred.
        """
        return (message.source_request_id or "", message.sequence or "") in self.starred

    def start(self, session: ChatSession) -> str:
        """Return the text before the messages: the session's name and ids.

        Parameters
        ----------
        session : ChatSession
            The session.

        Returns
        -------
        str
            The beginning of the export.
        """
        if self.fmt == "json":
            data = session.model_dump(by_alias=True, mode="json", exclude_none=True)
            return '{\n  "session": ' + _indented_json(data, 2) + ',\n  "messages": ['
        lines = [f"# {inline_markdown(session.name)}", ""]
        source = markdown_code(session.source_session_id)
        lines.append(f"- Session: {markdown_code(session.id or '')} (source {source})")
        if session.parent_id:
            lines.append(f"- Folder: {markdown_code(session.parent_id)}")
        lines.append(f"- Starred: {len(self.starred)}")
        return "\n".join(lines) + "\n"

    def messages(self, page: Iterable[ChatMessage]) -> str:
        """Return the text of the next messages, in order.

        Parameters
        ----------
        page : Iterable[ChatMessage]
            The next messages of the session (one page, say).

        Returns
        -------
        str
            Their text.
        """
        pieces: list[str] = []
        for message in page:
            if self.fmt == "json":
                data = message.model_dump(by_alias=True, mode="json", exclude_none=True)
                data["starred"] = self.is_starred(message)
                pieces.append(("\n    " if not self.count else ",\n    ") + _indented_json(data, 4))
            else:
                star = " ★" if self.is_starred(message) else ""
                heading = f"{_label(message.role)} · {_label(message.component_type)}"
                sequence = inline_markdown(message.sequence or "")
                lines = ["", f"## #{sequence} {heading}{star}", "", *_block(message.content)]
                pieces.append("\n".join(lines) + "\n")
            self.count += 1
        return "".join(pieces)

    def end(self) -> str:
        """Return the text after the messages.

        Returns
        -------
        str
            The end of the export, with a final newline.
        """
        if self.fmt == "json":
            return ("]" if not self.count else "\n  ]") + "\n}\n"
        return f"\n---\n\n{self.count} messages, {len(self.starred)} starred.\n"

    def render(self, session: ChatSession, messages: Iterable[ChatMessage]) -> str:
        """Return a whole export at once (for a session already read).

        Parameters
        ----------
        session : ChatSession
            The session.
        messages : Iterable[ChatMessage]
            All its messages, in order.

        Returns
        -------
        str
            The export's text.
        """
        return self.start(session) + self.messages(messages) + self.end()
