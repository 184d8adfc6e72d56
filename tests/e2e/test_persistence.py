"""The SQLite store through the SDK: a restarted emulator has lost nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from albert.exceptions import ConflictError
from albert.resources.chats import ChatFlagType, ChatFolder, ChatSession
from albert.testing import LocalAlbert
from tests.e2e.helpers import TURNS, conversation, message


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "albert.db"
    with LocalAlbert(db_path=db, page_size=2) as first, first.client() as client:
        folder = client.chat_folders.create(folder=ChatFolder(name="Kept"))
        session = client.chat_sessions.create(
            session=ChatSession(name="Kept", source_session_id="persist", parent_id=folder.id)
        )
        sid = session.id or ""
        created = [client.chat_messages.create(message=m) for m in conversation(sid, TURNS[:3])]
        client.chat_flags.add(
            session_id=sid,
            source_request_id=created[0].source_request_id or "",
            sequence="000",
            type=ChatFlagType.STARRED,
        )
        token = first.token

    with LocalAlbert(db_path=db, page_size=2) as second, second.client() as client:
        assert second.token == token
        assert client.chat_sessions.get_by_id(id=sid) == session.model_copy(
            update={"last_message_at": client.chat_sessions.get_by_id(id=sid).last_message_at}
        )
        assert client.chat_folders.get_by_id(id=folder.id or "").name == "Kept"
        listed = list(client.chat_messages.get_all(session_id=sid))
        assert [m.content for m in listed] == [t[3] for t in TURNS[:3]]
        assert [f.sequence for f in client.chat_flags.get_all(type=ChatFlagType.STARRED)] == ["000"]
        with pytest.raises(ConflictError):  # the taken sequences survived too
            client.chat_messages.create(message=conversation(sid, TURNS[:1])[0])
        again = client.chat_messages.create(message=conversation(sid, TURNS[:4])[3])
        assert again.sequence == "003"
        assert len(list(client.chat_messages.get_all(session_id=sid))) == 4


async def test_a_restart_loses_nothing_for_the_async_client(tmp_path: Path) -> None:
    db = tmp_path / "albert.db"
    with LocalAlbert(db_path=db) as first:
        async with first.async_client() as client:
            session = await client.chat_sessions.create(
                session=ChatSession(name="Kept", source_session_id="persist")
            )
            await client.chat_messages.create(message=message(session.id or "", TURNS[0]))
    with LocalAlbert(db_path=db) as second:
        async with second.async_client() as client:
            listed = [m async for m in client.chat_messages.get_all(session_id=session.id or "")]
            assert [m.content for m in listed] == [TURNS[0][3]]
