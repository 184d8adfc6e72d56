"""The examples of the published ``albert`` 1.68 chat docs run unchanged on this SDK.

Each block below is one example of the published package's chat docstrings
(its collections and ``albert.resources.chats``), as a user would paste it:
the same imports, ``async with AsyncAlbert() as client:`` configured from the
environment, the same calls and arguments. Only the placeholder ids
(``"..."``, ``"<session id>"``) are replaced with the ids of what the
examples before created, against the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from albert.testing import LocalAlbert


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAlbert]:
    with LocalAlbert(page_size=2) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server


async def test_the_published_chat_examples_run_unchanged(
    environment: LocalAlbert, capsys: pytest.CaptureFixture[str]
) -> None:
    # albert.resources.chats: the models as its docs build them.
    from albert.resources.chats import ChatFolder, ChatSession

    ChatSession(name="Titanium dioxide questions", source_session_id="ext-123")
    ChatFolder(name="Formulation questions")

    # ChatFolderCollection (class docs, create)
    from albert import AsyncAlbert

    async with AsyncAlbert() as client:
        folder = await client.chat_folders.create(folder=ChatFolder(name="Formulation questions"))
        async for f in client.chat_folders.get_all():
            print(f.id, f.name)
    folder_id = folder.id or ""

    # ChatSessionCollection (class docs)
    async with AsyncAlbert() as client:
        session = await client.chat_sessions.create(
            session=ChatSession(name="Titanium dioxide questions", source_session_id="ext-123")
        )
        async for s in client.chat_sessions.get_all(name=["Titanium dioxide questions"]):
            print(s.id, s.name)
    session_id = session.id or ""

    # ChatSessionCollection.get_by_id, .get_by_source_session_id
    async with AsyncAlbert() as client:
        session = await client.chat_sessions.get_by_id(id=session_id)
    async with AsyncAlbert() as client:
        session = await client.chat_sessions.get_by_source_session_id(source_session_id="ext-123")
    assert session.id == session_id

    # ChatSessionCollection.get_all
    from albert.resources.chats import ChatSessionKind

    async with AsyncAlbert() as client:
        async for session in client.chat_sessions.get_all(name=["Titanium dioxide questions"]):
            print(session.id, session.name)

        async for session in client.chat_sessions.get_all(kind=ChatSessionKind.AUTOMATION):
            print(session.id, session.automation_id, session.automation_run_id)

    # ChatMessageCollection (class docs, create)
    from albert.resources.chats import ChatComponentType, ChatMessage, ChatRole, ChatUserType

    ChatMessage(
        parent_id="<session id>",
        component_type=ChatComponentType.TEXT,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content="What raw materials contain titanium dioxide?",
    )
    async with AsyncAlbert() as client:
        message = await client.chat_messages.create(
            message=ChatMessage(
                parent_id=session_id,
                component_type=ChatComponentType.TEXT,
                user_type=ChatUserType.USER,
                role=ChatRole.USER,
                content="What raw materials contain titanium dioxide?",
            )
        )
        async for message in client.chat_messages.get_all(session_id=session_id):
            print(message.sequence, message.content)
    request_id = message.source_request_id or ""
    assert message.sequence == "000"

    # ChatMessageCollection.get_by_id
    async with AsyncAlbert() as client:
        message = await client.chat_messages.get_by_id(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
        )
    assert message.content == "What raw materials contain titanium dioxide?"

    # ChatMessageCollection.update
    async with AsyncAlbert() as client:
        message = await client.chat_messages.update(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
            content="Updated message text",
        )
    assert message.content == "Updated message text"

    # ChatFlagCollection (class docs): get_all is awaited for a list
    from albert.resources.chats import ChatFlagType

    async with AsyncAlbert() as client:
        await client.chat_flags.add(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
            type=ChatFlagType.STARRED,
        )
        starred = await client.chat_flags.get_all(type=ChatFlagType.STARRED)
    assert [flag.source_request_id for flag in starred] == [request_id]

    # ChatFlagCollection.get_by_message, .add, .remove
    async with AsyncAlbert() as client:
        flags = await client.chat_flags.get_by_message(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
        )
    assert flags.flags == [ChatFlagType.STARRED]
    async with AsyncAlbert() as client:
        flag = await client.chat_flags.add(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
            type=ChatFlagType.STARRED,
        )
    async with AsyncAlbert() as client:
        await client.chat_flags.remove(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
            type=ChatFlagType.STARRED,
        )
    assert flag.starred

    # ChatMessageCollection.delete
    async with AsyncAlbert() as client:
        await client.chat_messages.delete(
            session_id=session_id,
            source_request_id=request_id,
            sequence="000",
        )

    # ChatSessionCollection.update, .delete
    async with AsyncAlbert() as client:
        session = await client.chat_sessions.update(id=session_id, name="Renamed session")
    assert session.name == "Renamed session"
    async with AsyncAlbert() as client:
        await client.chat_sessions.delete(id=session_id)

    # ChatFolderCollection.get_by_id, .get_all, .update, .delete
    async with AsyncAlbert() as client:
        folder = await client.chat_folders.get_by_id(id=folder_id)
    async with AsyncAlbert() as client:
        async for folder in client.chat_folders.get_all():
            print(folder.id, folder.name)
    async with AsyncAlbert() as client:
        folder = await client.chat_folders.update(id=folder_id, name="Renamed folder")
    assert folder.name == "Renamed folder"
    async with AsyncAlbert() as client:
        await client.chat_folders.delete(id=folder_id)

    printed = capsys.readouterr().out
    assert f"{session_id} Titanium dioxide questions" in printed
    assert "000 What raw materials contain titanium dioxide?" in printed
    assert f"{folder_id} Formulation questions" in printed
