"""``albert-chat demo``: the SDK's main job, with both clients, against an in-process emulator.

The walk, done once with `albert.Albert` and once with `albert.AsyncAlbert`:
create a folder and a session in it, write a conversation with several
component types, list it back page by page, star a message, edit it,
export the session, and clean up. Every step prints a line of transcript
and checks what the server answered.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from albert.cli.demo_assistant import walk_assistant_ui

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert
    from albert.resources.chats import ChatMessage
    from albert.testing.server import LocalAlbert

__all__ = ["CONVERSATION", "DemoFailed", "add_parser", "run", "run_demo"]

#: The conversation the demo writes: (component type, user type, role, content).
CONVERSATION: list[tuple[str, str, str, str | dict[str, Any]]] = [
    ("text", "user", "user", "Which epoxy resin cures fastest at room temperature?"),
    (
        "reasoning_block",
        "system",
        "assistant",
        {"steps": ["compare gel times at 25 °C", "keep resins with Tg above 60 °C"]},
    ),
    (
        "tool_call",
        "system",
        "assistant",
        {"tool": "search_formulations", "arguments": {"cure": "room temperature"}},
    ),
    ("text", "system", "assistant", "Resin B gels in 4 minutes at 25 °C."),
    (
        "image",
        "system",
        "assistant",
        {"url": "https://example.com/gel-times.png", "alt": "gel time per resin"},
    ),
    (
        "error",
        "system",
        "assistant",
        {"code": "TOOL_TIMEOUT", "message": "the lab database timed out"},
    ),
]
#: Which message of `CONVERSATION` the demo stars and edits (the assistant's answer).
ANSWER = 3
#: The answer after the edit.
EDITED = "Resin B gels in 4 minutes at 25 °C (2 mm film, 100 g mass)."
#: Items per page of the demo's emulator: small, so the listing takes several pages.
PAGE_SIZE = 4

Say = Callable[[str, str], None]


class DemoFailed(RuntimeError):
    """The server's answer was not what the demo expected."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subparsers of the ``albert-chat`` parser.
    """
    parser = commands.add_parser(
        "demo",
        help="walk the SDK's main job with both clients against a local emulator",
        description=(
            "Start the Albert emulator in-process and walk the main job with Albert (sync) and "
            "AsyncAlbert (async): folder, session, conversation, paginated listing, star, edit, "
            "export, clean-up."
        ),
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo, printing its transcript on standard output.

    Parameters
    ----------
    args : argparse.Namespace
        No options.

    Returns
    -------
    int
        0 when both walks succeeded.
    """
    run_demo(sys.stdout)
    return 0


def run_demo(out: TextIO) -> None:
    """Start the emulator, walk the main job with both clients, and stop it.

    Parameters
    ----------
    out : TextIO
        Where to print the transcript.

    Raises
    ------
    DemoFailed
        If the server answered something unexpected.
    albert.exceptions.AlbertException
        If a call failed.
    """
    import anyio

    from albert.testing import LocalAlbert

    def say(label: str, text: str) -> None:
        print(f"  {label:<9} {text}" if label else text, file=out, flush=True)

    with LocalAlbert(page_size=PAGE_SIZE) as server:
        say("", f"Albert emulator on {server.base_url} (pages of {PAGE_SIZE} items)")
        started = time.perf_counter()
        say("", "\n== Albert (sync client)")
        with server.client() as client:
            _walk(client, say, variant="sync")
        say("", "\n== AsyncAlbert (async client)")
        anyio.run(_walk_async, server, say)
        elapsed = (time.perf_counter() - started) * 1000
        walk_assistant_ui(server, out)
    say("", f"\nDone: both clients walked the main job in {elapsed:.0f} ms.")


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(f"the demo expected {what}")


def _conversation(session_id: str) -> list[ChatMessage]:
    from albert.resources.chats import ChatMessage

    return [
        ChatMessage.model_validate(
            {
                "parentId": session_id,
                "componentType": kind,
                "userType": user,
                "role": role,
                "Content": content,
            }
        )
        for kind, user, role, content in CONVERSATION
    ]


def _short(content: Any, width: int = 56) -> str:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _message_line(message: ChatMessage) -> str:
    role, kind = message.role.value, message.component_type.value
    return f"#{message.sequence} {role:<9} {kind:<15} {_short(message.content)}"


def _ids(message: ChatMessage) -> tuple[str, str]:
    _check(bool(message.source_request_id and message.sequence), "a sourceRequestId and sequence")
    return message.source_request_id or "", message.sequence or ""


def _export_excerpt(text: str, say: Say) -> None:
    """Print the export's header and the starred message's section."""
    lines = text.splitlines()
    header = lines[: next(i for i, line in enumerate(lines) if line.startswith("## "))]
    start = next(i for i, line in enumerate(lines) if line.endswith("★"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    for line in [*header, "…", *lines[start:end], f"… ({len(lines)} lines in all)"]:
        say("", f"            | {line}".rstrip())


def _walk(client: Albert, say: Say, *, variant: str) -> None:
    from albert.cli.export import export_session, render
    from albert.resources.chats import ChatFlagType, ChatFolder, ChatFolderType, ChatSession

    folder = client.chat_folders.create(
        folder=ChatFolder(name=f"Resins ({variant})", folder_type=ChatFolderType.ROOT)
    )
    _check(folder.id is not None, "a folder id")
    say("folder", f"{folder.id}  {folder.name!r}")
    session = client.chat_sessions.create(
        session=ChatSession(
            name="Cure speed", source_session_id=f"demo-{variant}", parent_id=folder.id
        )
    )
    sid = session.id or ""
    _check(bool(sid) and session.parent_id == folder.id, "a session in the folder")
    say("session", f"{sid}  {session.name!r} in {session.parent_id}")

    created = [client.chat_messages.create(message=m) for m in _conversation(sid)]
    for message in created:
        say("message", _message_line(message))
    _check([m.sequence for m in created] == ["000", "001", "002", "003", "004", "005"], "000-005")

    paginator = client.chat_messages.get_all(session_id=sid)
    pages = [[m.sequence for m in page] for page in paginator.pages()]
    _check(sum(len(p) for p in pages) == len(CONVERSATION), "every message listed back")
    say("listed", f"{sum(len(p) for p in pages)} messages in {len(pages)} pages: {pages}")

    srid, sequence = _ids(created[ANSWER])
    client.chat_flags.add(
        session_id=sid, source_request_id=srid, sequence=sequence, type=ChatFlagType.STARRED
    )
    flags = client.chat_flags.get_by_message(
        session_id=sid, source_request_id=srid, sequence=sequence
    )
    _check(flags.flags == [ChatFlagType.STARRED], "the answer to be starred")
    say("starred", f"#{sequence}; its flags: {[f.value for f in flags.flags or []]}")

    updated = client.chat_messages.update(
        session_id=sid, source_request_id=srid, sequence=sequence, content=EDITED
    )
    _check(updated.content == EDITED, "the edited content")
    say("edited", f"#{sequence} {_short(updated.content)}")

    text = render(export_session(client, sid), "md")
    _check(EDITED in text and "★" in text, "the edit and the star in the export")
    say("exported", "Markdown:")
    _export_excerpt(text, say)

    client.chat_flags.remove(
        session_id=sid, source_request_id=srid, sequence=sequence, type=ChatFlagType.STARRED
    )
    client.chat_sessions.delete(id=sid)
    client.chat_folders.delete(id=folder.id or "")
    left = list(client.chat_sessions.get_all(name=["Cure speed"], exact_match=True))
    _check(left == [], "no session left")
    say("cleaned", "removed the star, deleted the session and the folder")


async def _walk_async(server: LocalAlbert, say: Say) -> None:
    from albert.cli.export import export_session_async, render
    from albert.resources.chats import ChatFlagType, ChatFolder, ChatFolderType, ChatSession

    client: AsyncAlbert
    async with server.async_client() as client:
        folder = await client.chat_folders.create(
            folder=ChatFolder(name="Resins (async)", folder_type=ChatFolderType.ROOT)
        )
        _check(folder.id is not None, "a folder id")
        say("folder", f"{folder.id}  {folder.name!r}")
        session = await client.chat_sessions.create(
            session=ChatSession(
                name="Cure speed", source_session_id="demo-async", parent_id=folder.id
            )
        )
        sid = session.id or ""
        _check(bool(sid) and session.parent_id == folder.id, "a session in the folder")
        say("session", f"{sid}  {session.name!r} in {session.parent_id}")

        created = [await client.chat_messages.create(message=m) for m in _conversation(sid)]
        for message in created:
            say("message", _message_line(message))

        paginator = client.chat_messages.get_all(session_id=sid)
        pages = [[m.sequence for m in page] async for page in paginator.pages()]
        _check(sum(len(p) for p in pages) == len(CONVERSATION), "every message listed back")
        say("listed", f"{sum(len(p) for p in pages)} messages in {len(pages)} pages: {pages}")

        srid, sequence = _ids(created[ANSWER])
        await client.chat_flags.add(
            session_id=sid, source_request_id=srid, sequence=sequence, type=ChatFlagType.STARRED
        )
        flags = await client.chat_flags.get_by_message(
            session_id=sid, source_request_id=srid, sequence=sequence
        )
        _check(flags.flags == [ChatFlagType.STARRED], "the answer to be starred")
        say("starred", f"#{sequence}; its flags: {[f.value for f in flags.flags or []]}")

        updated = await client.chat_messages.update(
            session_id=sid, source_request_id=srid, sequence=sequence, content=EDITED
        )
        _check(updated.content == EDITED, "the edited content")
        say("edited", f"#{sequence} {_short(updated.content)}")

        text = render(await export_session_async(client, sid), "md")
        _check(EDITED in text and "★" in text, "the edit and the star in the export")
        say("exported", "Markdown:")
        _export_excerpt(text, say)

        await client.chat_flags.remove(
            session_id=sid, source_request_id=srid, sequence=sequence, type=ChatFlagType.STARRED
        )
        await client.chat_sessions.delete(id=sid)
        await client.chat_folders.delete(id=folder.id or "")
        left = [
            s async for s in client.chat_sessions.get_all(name=["Cure speed"], exact_match=True)
        ]
        _check(left == [], "no session left")
        say("cleaned", "removed the star, deleted the session and the folder")
