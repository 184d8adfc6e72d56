"""``albert-chat export``: a chat session and its messages as Markdown or JSON.

`export_session` (sync) and `export_session_async` read a session, all its
messages page by page and its starred messages; `render` turns them into
text. The command runs the sync one against the configured service, or the
local emulator with ``--local``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert
    from albert.resources.base import ServerEnum
    from albert.resources.chats import ChatFlag, ChatMessage, ChatSession

__all__ = [
    "FORMATS",
    "Export",
    "Progress",
    "add_parser",
    "export_session",
    "export_session_async",
    "render",
    "run",
]

#: The formats ``--format`` accepts.
FORMATS = ("md", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subparsers of the ``albert-chat`` parser.
    """
    from albert.cli.serve import DEFAULT_PORT

    parser = commands.add_parser(
        "export",
        help="export a chat session and its messages",
        description=(
            "Export a chat session and its messages from the service that ALBERT_BASE_URL "
            "names, with ALBERT_TOKEN (or ALBERT_CLIENT_ID and ALBERT_CLIENT_SECRET); "
            "or, with --local, from the local emulator."
        ),
    )
    parser.add_argument("session_id", metavar="SESSION_ID", help="the id of the session")
    parser.add_argument(
        "--format", choices=FORMATS, default="md", help="md (Markdown, the default) or json"
    )
    parser.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument(
        "--force", action="store_true", help="with --out: overwrite FILE if it exists"
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help=(
            "export from the local emulator: the one 'albert-chat serve' runs "
            f"(ALBERT_BASE_URL, default http://127.0.0.1:{DEFAULT_PORT}, and the "
            "ALBERT_TOKEN it printed), or with --db straight from its SQLite file"
        ),
    )
    parser.add_argument(
        "--db", metavar="PATH", help="with --local: the emulator's SQLite file (nothing to run)"
    )
    parser.set_defaults(run=run)


@dataclass
class Export:
    """What an export holds: the session, its messages in order, and which are starred.

    Attributes
    ----------
    session : ChatSession
        The session.
    messages : list[ChatMessage]
        Its messages, oldest first.
    starred : set[tuple[str, str]]
        ``(source_request_id, sequence)`` of its starred messages.
    """

    session: ChatSession
    messages: list[ChatMessage] = field(default_factory=list)
    starred: set[tuple[str, str]] = field(default_factory=set)

    def star(self, flags: Iterable[ChatFlag]) -> None:
        """Record the starred messages of this session among ``flags``.

        Parameters
        ----------
        flags : Iterable[ChatFlag]
            Starred flags, of any session.
        """
        for flag in flags:
            if flag.parent_id == self.session.id and flag.source_request_id and flag.sequence:
                self.starred.add((flag.source_request_id, flag.sequence))

    def is_starred(self, message: ChatMessage) -> bool:
        """Tell whether a message of the export is starred.

        Parameters
        ----------
        message : ChatMessage
            One of `messages`.

        Returns
        -------
        bool
            Whether it carries a starred flag.
        """
        return (message.source_request_id or "", message.sequence or "") in self.starred


class Progress:
    """A one-line progress indicator for long exports (shown from the second page on).

    Parameters
    ----------
    stream : TextIO
        Where to draw it (standard error).
    enabled : bool | None, optional
        Draw it at all; default: only when ``stream`` is a terminal.
    """

    def __init__(self, stream: TextIO, *, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._shown = False

    def page(self, pages: int, messages: int) -> None:
        """Report that another page arrived.

        Parameters
        ----------
        pages : int
            Pages read so far.
        messages : int
            Messages read so far.
        """
        if self.enabled and pages >= 2:
            self.stream.write(f"\rexporting: {messages} messages ({pages} pages)…")
            self.stream.flush()
            self._shown = True

    def done(self) -> None:
        """End the line, if one was drawn."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def export_session(client: Albert, session_id: str, *, progress: Progress | None = None) -> Export:
    """Read a session, all its messages and its starred flags with a sync client.

    Parameters
    ----------
    client : Albert
        The client.
    session_id : str
        The session.
    progress : Progress | None, optional
        Told about every page of messages.

    Returns
    -------
    Export
        Ready for `render`.
    """
    from albert.resources.chats import ChatFlagType

    export = Export(session=client.chat_sessions.get_by_id(id=session_id))
    pages = 0
    try:
        for page in client.chat_messages.get_all(session_id=session_id).pages():
            export.messages.extend(page)
            pages += 1
            if progress is not None:
                progress.page(pages, len(export.messages))
    finally:
        if progress is not None:
            progress.done()
    export.star(client.chat_flags.get_all(type=ChatFlagType.STARRED))
    return export


async def export_session_async(
    client: AsyncAlbert, session_id: str, *, progress: Progress | None = None
) -> Export:
    """Read a session, all its messages and its starred flags with an async client.

    Parameters
    ----------
    client : AsyncAlbert
        The client.
    session_id : str
        The session.
    progress : Progress | None, optional
        Told about every page of messages.

    Returns
    -------
    Export
        Ready for `render`.
    """
    from albert.resources.chats import ChatFlagType

    export = Export(session=await client.chat_sessions.get_by_id(id=session_id))
    pages = 0
    try:
        async for page in client.chat_messages.get_all(session_id=session_id).pages():
            export.messages.extend(page)
            pages += 1
            if progress is not None:
                progress.page(pages, len(export.messages))
    finally:
        if progress is not None:
            progress.done()
    export.star([flag async for flag in client.chat_flags.get_all(type=ChatFlagType.STARRED)])
    return export


def render(export: Export, fmt: str = "md") -> str:
    """Return an export as Markdown (``"md"``) or JSON (``"json"``).

    Parameters
    ----------
    export : Export
        What `export_session` read.
    fmt : str, optional
        ``"md"`` (the default) or ``"json"``.

    Returns
    -------
    str
        The text, ending with a newline.

    Raises
    ------
    ValueError
        For another format.
    """
    if fmt == "json":
        return _json(export)
    if fmt == "md":
        return _markdown(export)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def _json(export: Export) -> str:
    data = {
        "session": export.session.model_dump(by_alias=True, mode="json", exclude_none=True),
        "messages": [
            {
                **m.model_dump(by_alias=True, mode="json", exclude_none=True),
                "starred": export.is_starred(m),
            }
            for m in export.messages
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# What comes from the server is never Markdown or HTML of the export: a message
# could forge a heading, or bring <script>, onerror= and javascript: links into
# whatever renders the file. Text goes in fenced blocks (nothing inside one is
# interpreted), names and ids are escaped inline.

#: The ASCII punctuation CommonMark lets a backslash escape, and that means something.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICKS = re.compile(r"`+")


def _inline(text: str) -> str:
    """Return server text as literal inline Markdown: one line, no markup, no HTML."""
    flat = " ".join(text.split())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(flat, quote=False))


def _label(member: ServerEnum) -> str:
    """Return an enum's value for a heading; one the server made up is escaped."""
    return member.value if member.name != "UNKNOWN" else _inline(member.value)


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def _code(text: str) -> str:
    """Return server text as an inline code span that no backtick in it can end."""
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


def _markdown(export: Export) -> str:
    session = export.session
    lines = [f"# {_inline(session.name)}", ""]
    lines.append(
        f"- Session: {_code(session.id or '')} (source {_code(session.source_session_id)})"
    )
    if session.parent_id:
        lines.append(f"- Folder: {_code(session.parent_id)}")
    lines.append(f"- Messages: {len(export.messages)}, starred: {len(export.starred)}")
    for message in export.messages:
        star = " ★" if export.is_starred(message) else ""
        heading = f"{_label(message.role)} · {_label(message.component_type)}"
        lines.extend(["", f"## #{_inline(message.sequence or '')} {heading}{star}", ""])
        lines.extend(_block(message.content))
    return "\n".join(lines) + "\n"


def _client(local: bool) -> Albert:
    """Return a client for the service the environment names (the emulator's URL with local)."""
    from albert import Albert
    from albert.auth.managers import AlbertClientCredentials, auth_from_env
    from albert.cli.serve import DEFAULT_PORT
    from albert.exceptions import AlbertAuthError

    base_url = None
    if local and not os.environ.get("ALBERT_BASE_URL"):
        base_url = f"http://127.0.0.1:{DEFAULT_PORT}"
    try:
        credentials = auth_from_env()
    except AlbertAuthError as exc:
        if not local:
            raise
        raise AlbertAuthError(
            f"{exc} For --local: export the ALBERT_TOKEN that 'albert-chat serve' printed, "
            "or read its file with --db PATH."
        ) from None
    if isinstance(credentials, str):
        return Albert(base_url=base_url, token=credentials)
    if base_url is not None:
        credentials = AlbertClientCredentials(
            id=credentials.id, secret=credentials.secret, base_url=base_url
        )
    return Albert(auth_manager=credentials)


#: Items per page when exporting from an emulator's file (fewer round trips than 50).
_FILE_PAGE_SIZE = 500


def _export_from_file(path: str, session_id: str, progress: Progress) -> Export:
    """Export a session from an emulator's SQLite file, opened read-only.

    The file is served by an emulator of its own, on a random port with a
    random token, that never writes to it: no table, no journal mode, no
    token is added to a file that is not the emulator's (it is refused).
    """
    import secrets

    from albert.testing.app import EmulatorApp
    from albert.testing.server import LocalAlbert
    from albert.testing.store import SQLiteStore

    store = SQLiteStore(path, read_only=True)
    try:
        app = EmulatorApp(
            store=store,
            token=f"export-{secrets.token_urlsafe(16)}",
            page_size=_FILE_PAGE_SIZE,
        )
        with LocalAlbert(app=app) as server, server.client() as client:
            return export_session(client, session_id, progress=progress)
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    """Export a session to standard output or a file.

    Parameters
    ----------
    args : argparse.Namespace
        ``session_id``, ``format``, ``out``, ``force``, ``local`` and ``db``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ValueError
        If ``--db`` is given without ``--local``, or names no file; or if
        ``--out`` names a file that exists and ``--force`` is not given.
    """
    if args.out and not args.force and os.path.exists(args.out):
        raise ValueError(f"{args.out} exists: pass --force to overwrite it")
    progress = Progress(sys.stderr)
    if args.db is not None:
        if not args.local:
            raise ValueError("--db reads the local emulator's file: add --local")
        if not os.path.isfile(args.db):
            raise ValueError(f"no emulator database at {args.db}")
        export = _export_from_file(args.db, args.session_id, progress)
    else:
        with _client(args.local) as client:
            export = export_session(client, args.session_id, progress=progress)
    text = render(export, args.format)
    if args.out:
        try:
            with open(args.out, "w" if args.force else "x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:  # made while the export ran
            raise ValueError(f"{args.out} exists: pass --force to overwrite it") from None
        print(
            f"exported {len(export.messages)} messages of {export.session.id} to {args.out}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0
