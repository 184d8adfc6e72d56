"""The ``albert-chat`` command: serve the local emulator, run the demo, export a session."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from albert import Albert
    from albert.resources.chats import ChatMessage, ChatSession

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albert-chat", description="The Albert chat SDK's command line."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the local Albert emulator")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (8765)")
    serve.add_argument("--db", help="SQLite file that keeps data across restarts")
    serve.add_argument("--token", help="bearer token to accept (default: a random one)")
    serve.add_argument("--page-size", type=int, default=50, help="items per listing page (50)")

    commands.add_parser("demo", help="walk the main job against an in-process emulator")

    export = commands.add_parser("export", help="export a chat session's messages")
    export.add_argument("session_id", help="the id of the session to export")
    export.add_argument("--format", choices=["md", "json"], default="md", help="md or json (md)")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument(
        "--local",
        action="store_true",
        help="export from the emulator at ALBERT_BASE_URL (default http://127.0.0.1:8765)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : Sequence[str] | None, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when the command failed (one line on standard error).
    """
    args = _parser().parse_args(argv)
    from albert.exceptions import AlbertException

    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "demo":
            return _demo()
        return _export(args)
    except (AlbertException, OSError, ValueError, ImportError) as exc:
        print(f"albert-chat: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# ---- serve ----------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from albert.testing.app import EmulatorApp
    from albert.testing.store import Store

    emulator = EmulatorApp(
        store=Store(args.db or ":memory:"), token=args.token, page_size=args.page_size
    )
    print(f"Albert emulator on http://{args.host}:{args.port}", flush=True)
    print(f"  export ALBERT_BASE_URL=http://{args.host}:{args.port}", flush=True)
    print(f"  export ALBERT_TOKEN={emulator.token}", flush=True)
    uvicorn.run(emulator, host=args.host, port=args.port, log_level="warning", lifespan="off")
    return 0


# ---- export ---------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    from albert import Albert

    if args.local:
        os.environ.setdefault("ALBERT_BASE_URL", "http://127.0.0.1:8765")
    with Albert.from_env() as client:
        text = export_session(client, args.session_id, fmt=args.format, progress=sys.stderr)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def export_session(
    client: Albert, session_id: str, *, fmt: str = "md", progress: TextIO | None = None
) -> str:
    """Return a session and its messages as Markdown or JSON.

    Parameters
    ----------
    client : Albert
        The client to read with.
    session_id : str
        The session to export.
    fmt : str, optional
        ``"md"`` or ``"json"``.
    progress : TextIO | None, optional
        Where to report progress for long sessions (a line per page).

    Returns
    -------
    str
        The export.
    """
    session = client.chat_sessions.get_by_id(id=session_id)
    messages: list[ChatMessage] = []
    for page in client.chat_messages.get_all(session_id=session_id).pages():
        messages.extend(page)
        if progress is not None:
            print(f"\rexported {len(messages)} messages…", end="", file=progress, flush=True)
    if progress is not None and messages:
        print(file=progress)
    if fmt == "json":
        return (
            json.dumps(
                {
                    "session": session.model_dump(by_alias=True, mode="json"),
                    "messages": [m.model_dump(by_alias=True, mode="json") for m in messages],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    return _markdown(session, messages)


def _markdown(session: ChatSession, messages: list[ChatMessage]) -> str:
    lines = [f"# {session.name}", "", f"Session `{session.id}` · {len(messages)} messages", ""]
    for message in messages:
        content = message.content
        body = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        lines.append(
            f"**{message.role.value}** · {message.component_type.value} · #{message.sequence}  "
        )
        lines.extend([body, ""])
    return "\n".join(lines)


# ---- demo -----------------------------------------------------------------

CONVERSATION: list[tuple[str, str, str, Any]] = [
    ("text", "user", "user", "Which epoxy resin cures fastest at room temperature?"),
    ("reasoning_block", "system", "assistant", {"steps": ["compare gel times", "filter by Tg"]}),
    ("tool_call", "system", "assistant", {"tool": "search_formulations", "args": {"cure": "RT"}}),
    ("text", "system", "assistant", "Resin B gels in 4 minutes at 25 °C."),
    ("image", "system", "assistant", {"url": "https://example.test/gel.png", "alt": "gel times"}),
    ("error", "system", "assistant", {"code": "TOOL_TIMEOUT", "message": "lab DB timed out"}),
]


def _demo(out: TextIO | None = None) -> int:
    from albert.testing import LocalAlbert

    say = _printer(out or sys.stdout)
    with LocalAlbert(page_size=4) as server:
        say(f"Albert emulator started at {server.base_url}\n")
        say("== Albert (sync)")
        with server.client() as client:
            _walk_sync(client, say)
        say("\n== AsyncAlbert (async)")
        import anyio

        anyio.run(_walk_async, server, say)
    say("\nDone: both clients walked the main job.")
    return 0


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    return say


def _messages(session_id: str) -> list[ChatMessage]:
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


def _walk_sync(client: Albert, say: Callable[[str], None]) -> None:
    from albert.resources.chats import ChatFlagType, ChatFolder, ChatFolderType, ChatSession

    started = time.perf_counter()
    folder = client.chat_folders.create(
        folder=ChatFolder(name="Resins", folder_type=ChatFolderType.ROOT)
    )
    say(f"folder   {folder.id}  {folder.name!r}")
    session = client.chat_sessions.create(
        session=ChatSession(name="Cure speed", source_session_id="demo-sync", parent_id=folder.id)
    )
    assert session.id is not None
    say(f"session  {session.id}  {session.name!r} in {session.parent_id}")
    created = [client.chat_messages.create(message=m) for m in _messages(session.id)]
    for m in created:
        say(_line(m))
    paginator = client.chat_messages.get_all(session_id=session.id)
    pages = [len(page) for page in paginator.pages()]
    say(f"listed   {sum(pages)} messages in pages of {pages}")
    answer = created[3]
    assert answer.source_request_id is not None
    assert answer.sequence is not None
    client.chat_flags.add(
        session_id=session.id,
        source_request_id=answer.source_request_id,
        sequence=answer.sequence,
        type=ChatFlagType.STARRED,
    )
    starred = client.chat_flags.get_all(type=ChatFlagType.STARRED)
    say(f"starred  #{answer.sequence}; starred now: {len(starred)}")
    updated = client.chat_messages.update(
        session_id=session.id,
        source_request_id=answer.source_request_id,
        sequence=answer.sequence,
        content="Resin B gels in 4 minutes at 25 °C (2 mm film).",
    )
    say(f"updated  #{updated.sequence}: {_short(updated.content)}")
    renamed = client.chat_sessions.update(id=session.id, name="Cure speed (reviewed)")
    say(f"renamed  {renamed.name!r}")
    export = export_session(client, session.id, fmt="md")
    say("export (markdown):")
    for line in export.splitlines()[:6]:
        say(f"  | {line}")
    client.chat_sessions.delete(id=session.id)
    client.chat_folders.delete(id=folder.id or "")
    say(f"cleaned up in {(time.perf_counter() - started) * 1000:.0f} ms")


async def _walk_async(server: Any, say: Callable[[str], None]) -> None:
    from albert.resources.chats import ChatFlagType, ChatSession

    async with server.async_client() as client:
        session = await client.chat_sessions.create(
            session=ChatSession(name="Async cure speed", source_session_id="demo-async")
        )
        say(f"session  {session.id}  {session.name!r}")
        for message in _messages(session.id):
            m = await client.chat_messages.create(message=message)
            say(_line(m))
        listed = [m async for m in client.chat_messages.get_all(session_id=session.id, max_items=5)]
        say(f"listed   first {len(listed)} messages with max_items=5")
        first = listed[0]
        await client.chat_flags.add(
            session_id=session.id,
            source_request_id=first.source_request_id or "",
            sequence=first.sequence or "",
            type=ChatFlagType.REQUESTED,
        )
        flags = await client.chat_flags.get_by_message(
            session_id=session.id, source_request_id=first.source_request_id or ""
        )
        say(f"flags    #{first.sequence}: {[f.value for f in flags.flags or []]}")
        await client.chat_sessions.delete(id=session.id)
        say("deleted  the session")


def _line(message: ChatMessage) -> str:
    kind = message.component_type.value
    return f"  + #{message.sequence} {message.role.value:9} {kind:15} {_short(message.content)}"


def _short(content: Any, width: int = 48) -> str:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
