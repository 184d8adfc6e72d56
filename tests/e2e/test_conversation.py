"""The main job through Albert and AsyncAlbert against the emulator, over real sockets."""

from __future__ import annotations

import pytest

from albert.exceptions import BadRequestError, NotFoundError
from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolder,
    ChatFolderType,
    ChatSession,
)
from albert.testing import LocalAlbert
from tests.e2e.helpers import TURNS, message


def test_sessions_crud_with_the_sync_client(server: LocalAlbert) -> None:
    with server.client() as client:
        created = [
            client.chat_sessions.create(session=ChatSession(name=n, source_session_id=f"src-{n}"))
            for n in ("Polymer A", "Polymer B", "Resin", "polymer c", "Polymer A2")
        ]
        assert len({s.id for s in created}) == 5
        first = created[0]
        assert client.chat_sessions.get_by_id(id=first.id or "") == first
        assert client.chat_sessions.get_by_source_session_id(source_session_id="src-Resin").id == (
            created[2].id
        )
        # Names match exactly (the server has no fuzzy matching), any of those given.
        paginator = client.chat_sessions.get_all(name=["Polymer A", "polymer c", "Polymer"])
        assert [len(page) for page in paginator.pages()] == [2]
        assert [s.name for s in client.chat_sessions.get_all(name=["Polymer A"])] == ["Polymer A"]
        limited = client.chat_sessions.get_all(max_items=4)
        assert len(list(limited)) == 4
        assert limited.has_more
        rest = client.chat_sessions.get_all(start_key=limited.last_key)
        assert [s.name for s in rest] == ["Polymer A2"]
        assert len(list(client.chat_sessions.get_all(created_by="usr-local"))) == 5

        renamed = client.chat_sessions.update(id=first.id or "", name="Renamed")
        assert renamed.name == "Renamed"
        with pytest.raises(BadRequestError):
            client.chat_sessions.update(id=first.id or "", parent_id="fld-none")
        client.chat_sessions.delete(id=first.id or "")
        with pytest.raises(NotFoundError) as raised:
            client.chat_sessions.get_by_id(id=first.id or "")
        assert raised.value.request_id is not None
        assert raised.value.request_id.startswith("req-")


async def test_sessions_crud_with_the_async_client(server: LocalAlbert) -> None:
    async with server.async_client() as client:
        session = await client.chat_sessions.create(
            session=ChatSession(name="Cure", source_session_id="e2e-async")
        )
        assert (await client.chat_sessions.get_by_id(id=session.id or "")).name == "Cure"
        found = await client.chat_sessions.get_by_source_session_id(source_session_id="e2e-async")
        assert found.id == session.id
        renamed = await client.chat_sessions.update(id=session.id or "", name="Renamed")
        assert renamed.name == "Renamed"
        assert [s.name async for s in client.chat_sessions.get_all(name=["Renamed"])] == ["Renamed"]
        await client.chat_sessions.delete(id=session.id or "")
        with pytest.raises(NotFoundError):
            await client.chat_sessions.get_by_id(id=session.id or "")


def test_the_full_conversation_with_the_sync_client(server: LocalAlbert) -> None:
    with server.client() as client:
        folder = client.chat_folders.create(
            folder=ChatFolder(name="Resins", folder_type=ChatFolderType.ROOT)
        )
        fid = folder.id or ""
        assert folder.folder_type is ChatFolderType.ROOT
        session = client.chat_sessions.create(
            session=ChatSession(name="Cure", source_session_id="e2e", parent_id=fid)
        )
        sid = session.id or ""
        assert session.parent_id == fid

        created = [client.chat_messages.create(message=message(sid, t)) for t in TURNS]
        assert [m.content for m in created] == [t[3] for t in TURNS]  # despite the quirk
        assert [m.sequence for m in created] == ["000", "001", "002", "003", "004", "005"]
        paginator = client.chat_messages.get_all(session_id=sid)
        pages = [[m.sequence for m in page] for page in paginator.pages()]
        assert pages == [["000", "001", "002", "003"], ["004", "005"]]
        listed = list(client.chat_messages.get_all(session_id=sid))
        assert [(m.component_type.value, m.content) for m in listed] == [
            (t[0], t[3]) for t in TURNS
        ]
        assert [m.sequence for m in client.chat_messages.get_all(session_id=sid, max_items=3)] == [
            "000",
            "001",
            "002",
        ]

        answer = created[3]
        srid, seq = answer.source_request_id or "", answer.sequence or ""
        got = client.chat_messages.get_by_id(
            session_id=sid,
            source_request_id=srid,
            sequence=seq,
            component_type=ChatComponentType.TEXT,
        )
        assert got.content == "Resin B."
        flag = client.chat_flags.add(
            session_id=sid, source_request_id=srid, sequence=seq, type=ChatFlagType.STARRED
        )
        assert (flag.starred, flag.sequence, flag.parent_id) == (True, seq, sid)
        in_message = client.chat_flags.get_by_message(session_id=sid, source_request_id=srid)
        assert (in_message.total, in_message.flags) == (1, [ChatFlagType.STARRED])
        assert [f.id for f in client.chat_flags.get_all(type=ChatFlagType.STARRED)] == [answer.id]

        updated = client.chat_messages.update(
            session_id=sid, source_request_id=srid, sequence=seq, content={"answer": "Resin B"}
        )
        assert updated.content == {"answer": "Resin B"}
        client.chat_flags.remove(
            session_id=sid, source_request_id=srid, sequence=seq, type=ChatFlagType.STARRED
        )
        assert list(client.chat_flags.get_all(type=ChatFlagType.STARRED)) == []

        error = created[5]
        client.chat_messages.delete(
            session_id=sid, source_request_id=error.source_request_id or "", sequence="005"
        )
        kinds = [m.component_type for m in client.chat_messages.get_all(session_id=sid)]
        assert ChatComponentType.ERROR not in kinds

        moved = client.chat_folders.update(id=fid, name="Resins (done)", sequence=[sid])
        assert moved.name == "Resins (done)"
        assert [f.id for f in client.chat_folders.get_all(name=["Resins (done)"])] == [fid]
        assert client.chat_sessions.update(id=sid, parent_id=None).parent_id is None

        client.chat_sessions.delete(id=sid)
        client.chat_folders.delete(id=fid)
        assert list(client.chat_sessions.get_all()) == []
        assert list(client.chat_folders.get_all()) == []


async def test_the_full_conversation_with_the_async_client(server: LocalAlbert) -> None:
    async with server.async_client() as client:
        folder = await client.chat_folders.create(folder=ChatFolder(name="Resins"))
        fid = folder.id or ""
        session = await client.chat_sessions.create(
            session=ChatSession(name="Cure", source_session_id="e2e-async", parent_id=fid)
        )
        sid = session.id or ""
        created = [await client.chat_messages.create(message=message(sid, t)) for t in TURNS]
        assert [m.content for m in created] == [t[3] for t in TURNS]
        paginator = client.chat_messages.get_all(session_id=sid)
        assert [len(page) async for page in paginator.pages()] == [4, 2]
        listed = [m async for m in client.chat_messages.get_all(session_id=sid)]
        assert [m.component_type.value for m in listed] == [t[0] for t in TURNS]

        answer = created[3]
        srid, seq = answer.source_request_id or "", answer.sequence or ""
        await client.chat_flags.add(
            session_id=sid, source_request_id=srid, sequence=seq, type=ChatFlagType.STARRED
        )
        flags = await client.chat_flags.get_by_message(
            session_id=sid, source_request_id=srid, sequence=seq
        )
        assert flags.flags == [ChatFlagType.STARRED]
        assert len([f async for f in client.chat_flags.get_all(type=ChatFlagType.STARRED)]) == 1
        updated = await client.chat_messages.update(
            session_id=sid, source_request_id=srid, sequence=seq, content="Resin B, 4 min."
        )
        assert updated.content == "Resin B, 4 min."
        await client.chat_messages.delete(session_id=sid, source_request_id=srid, sequence=seq)
        assert len([m async for m in client.chat_messages.get_all(session_id=sid)]) == 5
        assert [f async for f in client.chat_flags.get_all(type=ChatFlagType.STARRED)] == []

        renamed = await client.chat_folders.update(id=fid, name="Archive")
        assert renamed.name == "Archive"
        await client.chat_sessions.delete(id=sid)
        await client.chat_folders.delete(id=fid)
        with pytest.raises(NotFoundError):
            await client.chat_folders.get_by_id(id=fid)


def test_a_source_session_id_with_a_slash(server: LocalAlbert) -> None:
    with server.client() as client:
        created = client.chat_sessions.create(
            session=ChatSession(name="nb", source_session_id="notebooks/42?x=1")
        )
        found = client.chat_sessions.get_by_source_session_id(source_session_id="notebooks/42?x=1")
    assert found.id == created.id


@pytest.mark.parametrize("srid", ["runs/42", "50%/done", "a b?c#d", "naïve"])
def test_a_source_request_id_the_url_must_escape(server: LocalAlbert, srid: str) -> None:
    # The SDK encodes the id as one path segment; the emulator must route it as
    # one, though its ASGI server hands it a decoded path.
    with server.client() as client:
        sid = client.chat_sessions.create(session=ChatSession(name="s", source_session_id="x")).id
        created = client.chat_messages.create(
            message=message(sid or "", TURNS[0], sourceRequestId=srid)
        )
        seq = created.sequence or ""
        got = client.chat_messages.get_by_id(
            session_id=sid or "", source_request_id=srid, sequence=seq
        )
        assert (got.source_request_id, got.content) == (srid, TURNS[0][3])
        flag = client.chat_flags.add(
            session_id=sid or "", source_request_id=srid, sequence=seq, type=ChatFlagType.STARRED
        )
        assert flag.source_request_id == srid
        client.chat_messages.delete(session_id=sid or "", source_request_id=srid, sequence=seq)
        assert list(client.chat_messages.get_all(session_id=sid or "")) == []
