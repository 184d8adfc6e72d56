"""Retries against injected faults over real sockets: the waits asked for, nothing lost or doubled.

The sleeps are recorded, not slept (``albert._backends.*_primitives.sleep``
are looked up at call time), so the tests also prove that both variants
really ask to wait.
"""

from __future__ import annotations

import pytest

from albert.exceptions import AlbertTimeoutError, ServiceUnavailableError, TooManyRequestsError
from albert.resources.chats import ChatFlagType, ChatSession
from albert.testing import LocalAlbert
from tests.e2e.helpers import TURNS, message

GATEWAY_PAGE = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


def _backoff(waits: list[float]) -> None:
    """Assert exponential backoff with full jitter: retry n waits in [0, 0.5 * 2**(n-1))."""
    for n, wait in enumerate(waits, start=1):
        assert 0 <= wait < 0.5 * 2 ** (n - 1), waits


def test_sync_429_with_retry_after_on_get(server: LocalAlbert, sync_waits: list[float]) -> None:
    with server.client() as client:
        sid = client.chat_sessions.create(session=ChatSession(name="F", source_session_id="f")).id
        fault = server.faults.fail_next("GET", rf"/sessions/{sid}$", status=429, retry_after=2)
        assert client.chat_sessions.get_by_id(id=sid or "").name == "F"
    assert sync_waits == [2.0]
    assert fault.hits == 1


async def test_async_429_with_retry_after_on_get(
    server: LocalAlbert, async_waits: list[float]
) -> None:
    async with server.async_client() as client:
        server.faults.fail_next("GET", r"/chats/sessions$", status=429, retry_after=1, times=2)
        assert [s async for s in client.chat_sessions.get_all()] == []
    assert async_waits == [1.0, 1.0]


def test_sync_503_on_get_is_retried_and_succeeds(
    server: LocalAlbert, sync_waits: list[float]
) -> None:
    with server.client() as client:
        session = client.chat_sessions.create(session=ChatSession(name="F", source_session_id="f"))
        server.faults.fail_next("GET", r"/messages$", status=503, times=2, body=GATEWAY_PAGE)
        assert list(client.chat_messages.get_all(session_id=session.id or "")) == []
    assert len(sync_waits) == 2
    _backoff(sync_waits)


async def test_async_503_on_get_is_retried_and_succeeds(
    server: LocalAlbert, async_waits: list[float]
) -> None:
    async with server.async_client() as client:
        session = await client.chat_sessions.create(
            session=ChatSession(name="F", source_session_id="f")
        )
        server.faults.fail_next("GET", r"/sessions/ses-[^/]+$", status=503, times=3)
        assert (await client.chat_sessions.get_by_id(id=session.id or "")).name == "F"
    assert len(async_waits) == 3
    _backoff(async_waits)


def test_sync_503_on_post_is_not_retried_and_creates_nothing(
    server: LocalAlbert, sync_waits: list[float]
) -> None:
    with server.client() as client:
        sid = client.chat_sessions.create(session=ChatSession(name="F", source_session_id="f")).id
        server.faults.fail_next("POST", r"/chats/sessions$", status=503)
        with pytest.raises(ServiceUnavailableError) as raised:
            client.chat_sessions.create(session=ChatSession(name="Once", source_session_id="o"))
        assert raised.value.status_code == 503
        assert raised.value.request_id is not None
        server.faults.fail_next("POST", r"/messages$", status=503)
        with pytest.raises(ServiceUnavailableError):
            client.chat_messages.create(message=message(sid or "", TURNS[0]))
        assert sync_waits == []  # a POST that may have been applied is not repeated
        assert [s.name for s in client.chat_sessions.get_all()] == ["F"]
        assert list(client.chat_messages.get_all(session_id=sid or "")) == []
        # and the next call goes through: nothing half-created, sequences untouched
        assert client.chat_messages.create(message=message(sid or "", TURNS[0])).sequence == "000"


async def test_async_503_on_post_is_not_retried_and_creates_nothing(
    server: LocalAlbert, async_waits: list[float]
) -> None:
    async with server.async_client() as client:
        server.faults.fail_next("POST", r"/chats/sessions$", status=503)
        with pytest.raises(ServiceUnavailableError):
            await client.chat_sessions.create(
                session=ChatSession(name="Once", source_session_id="o")
            )
        assert async_waits == []
        assert [s async for s in client.chat_sessions.get_all()] == []


def test_sync_429_on_post_is_retried_and_creates_once(
    server: LocalAlbert, sync_waits: list[float]
) -> None:
    with server.client() as client:
        sid = client.chat_sessions.create(session=ChatSession(name="F", source_session_id="f")).id
        server.faults.fail_next("POST", r"/messages$", status=429, retry_after=3)
        created = client.chat_messages.create(message=message(sid or "", TURNS[0]))
        assert created.sequence == "000"
        assert len(list(client.chat_messages.get_all(session_id=sid or ""))) == 1
    assert sync_waits == [3.0]


async def test_async_429_on_post_is_retried_and_creates_once(
    server: LocalAlbert, async_waits: list[float]
) -> None:
    async with server.async_client() as client:
        server.faults.fail_next("POST", r"/chats/sessions$", status=429, retry_after=1)
        await client.chat_sessions.create(session=ChatSession(name="Once", source_session_id="o"))
        assert [s.name async for s in client.chat_sessions.get_all()] == ["Once"]
    assert async_waits == [1.0]


def test_sync_setting_a_flag_is_retried_after_a_503(
    server: LocalAlbert, sync_waits: list[float]
) -> None:
    with server.client() as client:
        sid = client.chat_sessions.create(session=ChatSession(name="F", source_session_id="f")).id
        created = client.chat_messages.create(message=message(sid or "", TURNS[0]))
        server.faults.fail_next("POST", r"/flag$", status=503)
        client.chat_flags.add(
            session_id=sid or "",
            source_request_id=created.source_request_id or "",
            sequence="000",
            type=ChatFlagType.STARRED,
        )
        assert len(list(client.chat_flags.get_all(type=ChatFlagType.STARRED))) == 1
    assert len(sync_waits) == 1


def test_sync_retries_run_out(server: LocalAlbert, sync_waits: list[float]) -> None:
    fault = server.faults.fail_next("GET", r"/chats/sessions$", status=429, times=10)
    with server.client(max_retries=2) as client, pytest.raises(TooManyRequestsError):
        list(client.chat_sessions.get_all())
    assert fault.hits == 3
    assert len(sync_waits) == 2


def test_sync_a_slow_get_times_out_and_is_retried(
    server: LocalAlbert, sync_waits: list[float]
) -> None:
    server.faults.add_latency("GET", r"/chats/folders$", 0.5, times=1)
    with server.client(timeout=0.1) as client:
        assert list(client.chat_folders.get_all()) == []
    assert len(sync_waits) == 1


async def test_async_a_get_that_stays_slow_times_out(
    server: LocalAlbert, async_waits: list[float]
) -> None:
    server.faults.add_latency("GET", r"/chats/folders$", 0.3)
    async with server.async_client(timeout=0.05, max_retries=1) as client:
        with pytest.raises(AlbertTimeoutError):
            [f async for f in client.chat_folders.get_all()]
    assert len(async_waits) == 1
