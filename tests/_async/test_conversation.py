"""A realistic conversation from folder to cleanup, against a stateful fake of the API."""

from __future__ import annotations

import respx

from albert import AsyncAlbert
from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolder,
    ChatFolderType,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatUserType,
)
from tests.fakes import FakeChatAPI

TURNS = [
    (ChatComponentType.TEXT, ChatUserType.USER, ChatRole.USER, "Which resin cures fastest?"),
    (
        ChatComponentType.REASONING_BLOCK,
        ChatUserType.SYSTEM,
        ChatRole.ASSISTANT,
        {"steps": ["compare gel times", "filter by Tg"]},
    ),
    (
        ChatComponentType.TOOL_CALL,
        ChatUserType.SYSTEM,
        ChatRole.ASSISTANT,
        {"tool": "search_formulations", "args": {"property": "gel_time"}},
    ),
    (ChatComponentType.TEXT, ChatUserType.SYSTEM, ChatRole.ASSISTANT, "Resin B gels in 4 min."),
    (
        ChatComponentType.IMAGE,
        ChatUserType.SYSTEM,
        ChatRole.ASSISTANT,
        {"url": "https://example.test/plot.png", "alt": "gel time plot"},
    ),
    (
        ChatComponentType.ERROR,
        ChatUserType.SYSTEM,
        ChatRole.ASSISTANT,
        {"code": "TOOL_TIMEOUT", "message": "lab database timed out"},
    ),
]


async def test_a_whole_conversation(client: AsyncAlbert, api: respx.MockRouter) -> None:
    fake = FakeChatAPI(api, page_size=4)

    folder = await client.chat_folders.create(
        folder=ChatFolder(name="Resins", folder_type=ChatFolderType.ROOT)
    )
    session = await client.chat_sessions.create(
        session=ChatSession(name="Cure speed", source_session_id="nb-1", parent_id=folder.id)
    )
    assert session.id is not None
    assert session.parent_id == folder.id

    created = []
    for component_type, user_type, role, content in TURNS:
        created.append(
            await client.chat_messages.create(
                message=ChatMessage(
                    parent_id=session.id,
                    component_type=component_type,
                    user_type=user_type,
                    role=role,
                    content=content,
                )
            )
        )
    assert [m.content for m in created] == [t[3] for t in TURNS]
    assert [m.sequence for m in created] == ["000", "001", "002", "003", "004", "005"]

    paginator = client.chat_messages.get_all(session_id=session.id)
    listed = [m async for m in paginator]
    assert [m.component_type for m in listed] == [t[0] for t in TURNS]
    assert [m.content for m in listed] == [t[3] for t in TURNS]
    list_calls = [
        r for r in fake.requests if r.method == "GET" and r.url.path.endswith("/messages")
    ]
    assert len(list_calls) == 2  # six messages, four to a page

    answer = created[3]
    assert answer.source_request_id is not None
    assert answer.sequence is not None
    await client.chat_flags.add(
        session_id=session.id,
        source_request_id=answer.source_request_id,
        sequence=answer.sequence,
        type=ChatFlagType.STARRED,
    )
    starred = [f async for f in client.chat_flags.get_all(type=ChatFlagType.STARRED)]
    assert [(f.source_request_id, f.sequence) for f in starred] == [
        (answer.source_request_id, "003")
    ]

    updated = await client.chat_messages.update(
        session_id=session.id,
        source_request_id=answer.source_request_id,
        sequence=answer.sequence,
        content="Resin B gels in 4 min at 25 °C.",
    )
    assert updated.content == "Resin B gels in 4 min at 25 °C."

    error = created[5]
    assert error.source_request_id is not None
    assert error.sequence is not None
    await client.chat_messages.delete(
        session_id=session.id, source_request_id=error.source_request_id, sequence=error.sequence
    )
    remaining = [
        m.component_type async for m in client.chat_messages.get_all(session_id=session.id)
    ]
    assert ChatComponentType.ERROR not in remaining
    assert len(remaining) == 5

    await client.chat_sessions.delete(id=session.id)
    await client.chat_folders.delete(id=folder.id)
    assert fake.sessions == {}
    assert fake.folders == {}
