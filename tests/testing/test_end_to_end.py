"""The SDK against the emulator over real loopback sockets, in both variants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from albert import Albert, AsyncAlbert
from albert._backends import async_primitives, sync_primitives
from albert.exceptions import ServiceUnavailableError
from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolder,
    ChatMessage,
    ChatSession,
)
from albert.testing import LocalAlbert

TURNS = [
    ("text", "user", "user", "Which resin cures fastest?"),
    ("reasoning_block", "system", "assistant", {"steps": ["compare gel times"]}),
    ("tool_call", "system", "assistant", {"tool": "search", "args": {"q": "gel"}}),
    ("text", "system", "assistant", "Resin B."),
    ("image", "system", "assistant", {"url": "https://example.test/p.png"}),
    ("error", "system", "assistant", {"code": "TIMEOUT"}),
]


@pytest.fixture
def server() -> Iterator[LocalAlbert]:
    with LocalAlbert(page_size=4) as local:
        yield local


def _message(session_id: str, turn: tuple[str, str, str, object]) -> ChatMessage:
    kind, user, role, content = turn
    return ChatMessage.model_validate(
        {
            "parentId": session_id,
            "componentType": kind,
            "userType": user,
            "role": role,
            "Content": content,
        }
    )


def test_conversation_with_the_sync_client(server: LocalAlbert) -> None:
    with server.client() as client:
        folder = client.chat_folders.create(folder=ChatFolder(name="Resins"))
        session = client.chat_sessions.create(
            session=ChatSession(name="Cure", source_session_id="e2e", parent_id=folder.id)
        )
        assert session.id is not None
        created = [client.chat_messages.create(message=_message(session.id, t)) for t in TURNS]
        assert [m.content for m in created] == [t[3] for t in TURNS]
        listed = list(client.chat_messages.get_all(session_id=session.id))
        assert [m.component_type.value for m in listed] == [t[0] for t in TURNS]
        answer = created[3]
        client.chat_flags.add(
            session_id=session.id,
            source_request_id=answer.source_request_id or "",
            sequence=answer.sequence or "",
            type=ChatFlagType.STARRED,
        )
        assert len(client.chat_flags.get_all(type=ChatFlagType.STARRED)) == 1
        updated = client.chat_messages.update(
            session_id=session.id,
            source_request_id=answer.source_request_id or "",
            sequence=answer.sequence or "",
            content="Resin B, 4 min.",
        )
        assert updated.content == "Resin B, 4 min."
        client.chat_messages.delete(
            session_id=session.id,
            source_request_id=created[5].source_request_id or "",
            sequence=created[5].sequence or "",
        )
        remaining = [m.component_type for m in client.chat_messages.get_all(session_id=session.id)]
        assert ChatComponentType.ERROR not in remaining
        client.chat_sessions.delete(id=session.id)
        assert list(client.chat_sessions.get_all()) == []


@pytest.mark.anyio
async def test_conversation_with_the_async_client(server: LocalAlbert) -> None:
    async with server.async_client() as client:
        session = await client.chat_sessions.create(
            session=ChatSession(name="Cure", source_session_id="e2e-async")
        )
        assert session.id is not None
        for turn in TURNS:
            await client.chat_messages.create(message=_message(session.id, turn))
        paginator = client.chat_messages.get_all(session_id=session.id)
        pages = [len(p) async for p in paginator.pages()]
        assert pages == [4, 2]
        renamed = await client.chat_sessions.update(id=session.id, name="Renamed")
        assert renamed.name == "Renamed"
        await client.chat_sessions.delete(id=session.id)


def test_sqlite_keeps_everything_across_a_restart(tmp_path: object) -> None:
    db = f"{tmp_path}/albert.db"
    with LocalAlbert(db=db, token="fixed") as first, first.client() as client:
        session = client.chat_sessions.create(
            session=ChatSession(name="Kept", source_session_id="persist")
        )
        client.chat_messages.create(message=_message(session.id or "", TURNS[0]))
    with LocalAlbert(db=db, token="fixed") as second, second.client() as client:
        assert client.chat_sessions.get_by_id(id=session.id or "").name == "Kept"
        assert [m.content for m in client.chat_messages.get_all(session_id=session.id or "")] == [
            TURNS[0][3]
        ]
        again = client.chat_messages.create(message=_message(session.id or "", TURNS[1]))
        assert again.sequence == "001"


def test_retries_against_injected_faults(
    server: LocalAlbert, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(sync_primitives, "sleep", waits.append)
    with server.client() as client:
        session = client.chat_sessions.create(
            session=ChatSession(name="Faults", source_session_id="faults")
        )
        sid = session.id or ""

        server.faults.fail_next("GET", rf"/sessions/{sid}$", status=429, retry_after=2)
        assert client.chat_sessions.get_by_id(id=sid).name == "Faults"
        assert waits == [2.0]

        server.faults.fail_next("GET", rf"/sessions/{sid}$", status=503, times=2)
        assert client.chat_sessions.get_by_id(id=sid).name == "Faults"
        assert len(waits) == 3

        server.faults.fail_next("POST", r"/chats/sessions$", status=503)
        with pytest.raises(ServiceUnavailableError):
            client.chat_sessions.create(session=ChatSession(name="Once", source_session_id="once"))
        assert len(waits) == 3  # a POST is not retried after a 503
        names = sorted(s.name for s in client.chat_sessions.get_all())
        assert names == ["Faults"]  # nothing created twice, nothing half-created


@pytest.mark.anyio
async def test_async_retry_with_retry_after(
    server: LocalAlbert, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(async_primitives, "sleep", record)
    async with server.async_client() as client:
        server.faults.fail_next("GET", r"/chats/sessions$", status=429, retry_after=1, times=2)
        assert [s async for s in client.chat_sessions.get_all()] == []
    assert waits == [1.0, 1.0]


def test_the_pytest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from albert.resources.chats import ChatSession

        def test_user_code(albert_client, albert_server):
            created = albert_client.chat_sessions.create(
                session=ChatSession(name="mine", source_session_id="u1"))
            assert albert_client.chat_sessions.get_by_id(id=created.id).name == "mine"
            assert albert_server.base_url.startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_types_of_the_clients(server: LocalAlbert) -> None:
    assert isinstance(server.client(), Albert)
    assert isinstance(server.async_client(), AsyncAlbert)
