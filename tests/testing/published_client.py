"""Every chat call of the published ``albert`` 1.68 async client, against an emulator.

Run by ``test_published_client.py`` with the interpreter of a virtualenv that
holds the published package (and not ours: both are imported as ``albert``)::

    python published_client.py BASE_URL TOKEN

It prints one JSON object: the package's ``version``; ``calls``, a list of
``{"call", "ok", "error"}`` in the order they ran (each call checks what it got
back); and ``methods``, the public methods of each chat collection, so the test
can tell that none was left out.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import albert
from albert import AsyncAlbert
from albert.collections.chat_flags import ChatFlagCollection
from albert.collections.chat_folders import ChatFolderCollection
from albert.collections.chat_messages import ChatMessageCollection
from albert.collections.chat_sessions import ChatSessionCollection
from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolder,
    ChatMessage,
    ChatMessageAttachment,
    ChatRole,
    ChatSession,
    ChatSessionKind,
    ChatUserType,
)

COLLECTIONS = {
    "chat_sessions": ChatSessionCollection,
    "chat_messages": ChatMessageCollection,
    "chat_folders": ChatFolderCollection,
    "chat_flags": ChatFlagCollection,
}

calls: list[dict[str, Any]] = []


async def call(name: str, run: Callable[[], Awaitable[Any]]) -> Any:
    """Run one call, record whether it worked, and return what it returned (or None)."""
    try:
        result = await run()
    except Exception as exc:
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        calls.append({"call": name, "ok": False, "error": message})
        return None
    calls.append({"call": name, "ok": True, "error": None})
    return result


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"expected {what}")


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


async def walk(client: AsyncAlbert) -> None:
    folders, sessions = client.chat_folders, client.chat_sessions
    messages, flags = client.chat_messages, client.chat_flags
    tag = uuid.uuid4().hex[:8]

    folder = await call("chat_folders.create", lambda: folders.create(folder=ChatFolder(name=tag)))
    fid = folder.id if folder else "none"

    async def folder_by_id() -> None:
        expect((await folders.get_by_id(id=fid)).name == tag, "the folder")

    async def folders_by_name() -> None:
        found = await collect(folders.get_all(name=[tag]))
        expect([f.id for f in found] == [fid], "the folder by its exact name")

    async def rename_folder() -> None:
        renamed = await folders.update(id=fid, name=f"{tag} (done)", sequence=[])
        expect(renamed.name == f"{tag} (done)", "the renamed folder")

    await call("chat_folders.get_by_id", folder_by_id)
    await call("chat_folders.get_all", folders_by_name)
    await call("chat_folders.update", rename_folder)

    source = str(uuid.uuid4())
    session = await call(
        "chat_sessions.create",
        lambda: sessions.create(
            session=ChatSession(name=f"Cure {tag}", source_session_id=source, parent_id=fid)
        ),
    )
    sid = session.id if session else "none"
    automation = await call(
        "chat_sessions.create",
        lambda: sessions.create(
            session=ChatSession(
                name=f"Run {tag}",
                source_session_id=str(uuid.uuid4()),
                kind=ChatSessionKind.AUTOMATION,
                automation_id=f"aut-{tag}",
                automation_run_id=f"run-{tag}",
            )
        ),
    )
    aid = automation.id if automation else "none"

    async def session_by_id() -> None:
        got = await sessions.get_by_id(id=sid)
        expect(
            (got.name, got.parent_id, got.kind) == (f"Cure {tag}", fid, ChatSessionKind.CHAT),
            "the session",
        )
        expect(got.status is not None and got.created is not None, "status and Created")

    async def session_by_source() -> None:
        expect((await sessions.get_by_source_session_id(source_session_id=source)).id == sid, "it")

    async def listings() -> None:
        everything = await collect(sessions.get_all())
        expect({sid, aid} <= {s.id for s in everything}, "both sessions, page after page")
        by_name = await collect(sessions.get_all(name=[f"Cure {tag}", f"Run {tag}"]))
        expect([s.id for s in by_name] == [sid, aid], "both by exact name")
        fuzzy = await collect(sessions.get_all(name=[tag], exact_match=False))
        expect(fuzzy == [], "nothing for a fuzzy name (the server has none)")
        expect([s.id for s in await collect(sessions.get_all(parent_id=fid))] == [sid], "filed")
        runs = await collect(sessions.get_all(kind=ChatSessionKind.AUTOMATION))
        expect(aid in [s.id for s in runs] and sid not in [s.id for s in runs], "by kind")
        by_automation = await collect(sessions.get_all(automation_id=f"aut-{tag}"))
        expect([(s.id, s.automation_run_id) for s in by_automation] == [(aid, f"run-{tag}")], "it")
        limited = sessions.get_all(max_items=1)
        expect(len(await collect(limited)) == 1 and limited.has_more, "one, and more")

    async def update_session() -> None:
        moved = await sessions.update(id=sid, name=f"Cured {tag}", parent_id=None)
        expect((moved.name, moved.parent_id) == (f"Cured {tag}", None), "the update")

    await call("chat_sessions.get_by_id", session_by_id)
    await call("chat_sessions.get_by_source_session_id", session_by_source)
    await call("chat_sessions.get_all", listings)
    await call("chat_sessions.update", update_session)

    # Its create parses the answer, which omits Content (as the server's does): each
    # create fails after the server stored the message.
    attachment = ChatMessageAttachment(file_id="ATT1", title="gel.pdf", kind="pdf", size_bytes=12)
    components = [
        ChatMessage(
            parent_id=sid,
            source_request_id="req-2",
            sequence="001",
            component_type=ChatComponentType.PERMISSION_REQUEST,
            user_type=ChatUserType.SYSTEM,
            role=ChatRole.ASSISTANT,
            content={"tool": "write", "group": "inventory"},
        ),
        ChatMessage(
            parent_id=sid,
            source_request_id="req-1",
            component_type=ChatComponentType.TEXT,
            user_type=ChatUserType.USER,
            role=ChatRole.USER,
            content="Which resin cures fastest?",
            page_context={"url": "https://app/inventory/1", "canvas_id": "c1"},
            attachments=[attachment],
        ),
        ChatMessage(
            parent_id=sid,
            source_request_id="req-2",
            sequence="000",
            component_type=ChatComponentType.PLAN,
            user_type=ChatUserType.SYSTEM,
            role=ChatRole.ASSISTANT,
            content={"steps": ["compare gel times"]},
        ),
        ChatMessage(
            parent_id=sid,
            source_request_id="req-3",
            component_type=ChatComponentType.DOCUMENT_CITATION,
            user_type=ChatUserType.USER,
            role=ChatRole.USER,
            content={"document": "ATT1"},
            plan_action={"action": "approve"},
            permission_action={"decision": "allow_once"},
            permission_actions=[{"decision": "allow_session", "permissionKey": "inventory.write"}],
        ),
        ChatMessage(  # no request id, no sequence: the client picks a uuid and "000"
            parent_id=sid,
            component_type=ChatComponentType.TEXT,
            user_type=ChatUserType.SYSTEM,
            role=ChatRole.ASSISTANT,
            content="Resin B.",
        ),
    ]
    for component in components:
        await call("chat_messages.create", lambda m=component: messages.create(message=m))

    async def message_by_id() -> None:
        got = await messages.get_by_id(
            session_id=sid,
            source_request_id="req-1",
            sequence="000",
            component_type=ChatComponentType.TEXT,
        )
        expect(got.content == "Which resin cures fastest?", "the content")
        expect(
            got.page_context == {"url": "https://app/inventory/1", "canvas_id": "c1"}, "the page"
        )
        expect(got.attachments == [attachment], "the attachment")

    async def listing() -> None:
        listed = await collect(messages.get_all(session_id=sid))
        order = [(m.source_request_id, m.sequence) for m in listed]
        expect(
            order[:4] == [("req-2", "000"), ("req-2", "001"), ("req-1", "000"), ("req-3", "000")],
            f"requests in order, got {order}",
        )
        expect(len(order) == 5 and order[4][1] == "000", "the last, at 000")
        citation = listed[3]
        expect(
            citation.permission_actions
            == [{"decision": "allow_session", "permissionKey": "inventory.write"}],
            "the permission actions",
        )
        expect(
            (citation.plan_action, citation.permission_action)
            == ({"action": "approve"}, {"decision": "allow_once"}),
            "the actions",
        )
        expect(len(await collect(messages.get_all(session_id=sid, max_items=2))) == 2, "two")

    async def update_message() -> None:
        updated = await messages.update(
            session_id=sid, source_request_id="req-2", sequence="000", content={"steps": []}
        )
        expect(updated.content == {"steps": []}, "the new content")

    await call("chat_messages.get_by_id", message_by_id)
    await call("chat_messages.get_all", listing)
    await call("chat_messages.update", update_message)

    async def add_flag() -> None:
        flag = await flags.add(
            session_id=sid,
            source_request_id="req-1",
            sequence="000",
            type=ChatFlagType.STARRED,
            component_type=ChatComponentType.TEXT,
        )
        expect((flag.starred, flag.sequence, flag.parent_id) == (True, "000", sid), "the flag")

    async def flags_of_message() -> None:
        found = await flags.get_by_message(
            session_id=sid, source_request_id="req-1", sequence="000"
        )
        expect((found.total, found.flags) == (1, [ChatFlagType.STARRED]), "one star")

    async def starred() -> None:
        found = await flags.get_all(type=ChatFlagType.STARRED)
        expect([(f.parent_id, f.source_request_id) for f in found] == [(sid, "req-1")], "the star")

    async def remove_flag() -> None:
        await flags.remove(
            session_id=sid, source_request_id="req-1", sequence="000", type=ChatFlagType.STARRED
        )
        expect(await flags.get_all(type=ChatFlagType.STARRED) == [], "no star left")

    await call("chat_flags.add", add_flag)
    await call("chat_flags.get_by_message", flags_of_message)
    await call("chat_flags.get_all", starred)
    await call("chat_flags.remove", remove_flag)

    async def delete_message() -> None:
        await messages.delete(session_id=sid, source_request_id="req-2", sequence="001")
        expect(len(await collect(messages.get_all(session_id=sid))) == 4, "four left")

    async def delete_sessions() -> None:
        await sessions.delete(id=sid)
        await sessions.delete(id=aid)
        expect(await collect(sessions.get_all(name=[f"Cured {tag}"])) == [], "no session left")

    async def delete_folder() -> None:
        await folders.delete(id=fid)
        expect(await collect(folders.get_all(name=[f"{tag} (done)"])) == [], "no folder left")

    await call("chat_messages.delete", delete_message)
    await call("chat_sessions.delete", delete_sessions)
    await call("chat_folders.delete", delete_folder)


async def main(base_url: str, token: str) -> None:
    async with AsyncAlbert(base_url=base_url, token=token) as client:
        await walk(client)
    methods = {
        name: sorted(
            method
            for method, _ in inspect.getmembers(collection, inspect.isfunction)
            if not method.startswith("_")
        )
        for name, collection in COLLECTIONS.items()
    }
    print(json.dumps({"version": albert.__version__, "calls": calls, "methods": methods}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
