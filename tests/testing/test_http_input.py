"""What a request may send: UTF-8 JSON that reads back, UTF-8 paths and queries, a size limit."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from albert.testing import EmulatorApp, LocalAlbert, SQLiteStore
from tests.testing.helpers import API, TOKEN, new_message, new_session

SESSION = b'{"name": @, "sourceSessionId": "s"}'


@pytest.mark.parametrize(
    "text",
    [b'"\\ud800"', b'"a\\udfffb"', b'"\\uDBFF"', b'"\\ud83d\\ud83d"', b'"\\ude00\\ud83d"'],
    ids=["high", "low", "upper case", "two highs", "low then high"],
)
async def test_a_lone_surrogate_escape_is_a_400_and_nothing_is_stored(
    http: httpx.AsyncClient, text: bytes
) -> None:
    response = await http.post(
        "/chats/sessions",
        content=SESSION.replace(b"@", text),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "lone surrogate" in response.json()["message"]
    listed = await http.get("/chats/sessions")  # the listing that answered 500 for good
    assert listed.status_code == 200
    assert listed.json() == {"Items": []}


async def test_a_surrogate_pair_is_one_character_and_is_kept(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/chats/sessions",
        content=SESSION.replace(b"@", b'"cut \\ud83d\\ude00 emoji"'),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "cut \U0001f600 emoji"
    assert (await http.get("/chats/sessions")).json()["Items"][0]["name"] == "cut 😀 emoji"


async def test_lone_surrogates_in_every_body_are_refused(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0")
    url = f"/chats/sessions/{sid}/messages"
    message = (
        b'{"sourceRequestId": "r1", "sequence": "000", "componentType": "text", '
        b'"userType": "user", "role": "user", "Content": {"deep": ["\\udc00"]}}'
    )
    patch = b'{"data": [{"operation": "update", "attribute": "Content", "newValue": "\\ud800"}]}'
    for method, path, params, body in [
        ("POST", url, {}, message),
        ("PATCH", f"{url}/r0", {"sequence": "000"}, patch),
        ("PATCH", f"/chats/sessions/{sid}", {}, patch.replace(b"Content", b"name")),
        ("POST", "/chats/folders", {}, b'{"name": "\\ud800"}'),
        ("POST", "http://emulator/_emulator/faults", {}, b'{"path": "\\ud800", "status": 500}'),
    ]:
        response = await http.request(
            method, path, params=params, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, response.text)
    assert (await http.get(url)).json()["Items"][0]["Content"] == "hi"
    assert (await http.get("/chats/folders")).json() == {"Items": []}


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\xed\xa0\x80", "sourceSessionId": "s"}',
        b'{"name": "\xff", "sourceSessionId": "s"}',
    ],
    ids=["encoded surrogate", "invalid byte"],
)
async def test_a_body_that_is_not_utf8_is_a_400(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post(
        "/chats/sessions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("the body is not UTF-8")
    assert (await http.get("/chats/sessions")).json() == {"Items": []}


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF", "a%C3"], ids=["surrogate", "ff", "cut"])
async def test_a_path_or_query_that_is_not_utf8_is_a_400(http: httpx.AsyncClient, raw: str) -> None:
    sid = (await new_session(http))["id"]
    url = f"/chats/sessions/{sid}/messages"
    created = await http.post(
        url,
        json={
            "sourceRequestId": "ok",
            "sequence": "000",
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": "x",
        },
    )
    assert created.status_code == 201
    for target in [
        f"{url}/{raw}?sequence=000",  # a path id
        f"{url}/ok?sequence={raw}",  # a query value
        f"/chats/sessions?name={raw}&exactMatch=true",
        f"/chats/sessions/source/{raw}",
    ]:
        response = await http.get(target)
        assert response.status_code == 400, (target, response.text)
        assert "UTF-8" in response.json()["message"]


def test_nothing_unreadable_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "albert.db"
    with LocalAlbert(db_path=db, token=TOKEN) as server:
        base = f"{server.base_url}/api/v3/chats/sessions"
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        refused = httpx.post(base, content=SESSION.replace(b"@", b'"\\ud800"'), headers=auth)
        assert refused.status_code == 400
    with LocalAlbert(db_path=db) as server:
        listed = httpx.get(
            f"{server.base_url}/api/v3/chats/sessions", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert listed.status_code == 200
        assert listed.json() == {"Items": []}


def test_the_store_refuses_what_it_could_not_send_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.db")
    try:
        for body in ({"name": "\ud800"}, {"x": float("nan")}):
            with pytest.raises(ValueError, match=r"surrogate|JSON compliant"):
                store.put("session", "a", body)
        assert store.all("session") == []
    finally:
        store.close()


# ---- the size limit ------------------------------------------------------------------


@pytest.fixture
def small() -> EmulatorApp:
    return EmulatorApp(token=TOKEN, max_body_size=1000)


@pytest.fixture
async def small_http(small: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=small),
        base_url=API,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


def _session_of(size: int) -> bytes:
    body = SESSION.replace(b"@", b'"' + b"n" * size + b'"')
    return body


async def test_a_body_at_the_limit_is_served(small_http: httpx.AsyncClient) -> None:
    body = _session_of(1000 - len(_session_of(0)))
    assert len(body) == 1000
    response = await small_http.post(
        "/chats/sessions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_a_declared_length_over_the_limit_is_a_413(small_http: httpx.AsyncClient) -> None:
    response = await small_http.post(
        "/chats/sessions", content=_session_of(1000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"message": "the request body is larger than the limit of 1000 bytes"}
    assert response.headers["connection"] == "close"
    assert response.headers["x-request-id"]
    assert (await small_http.get("/chats/sessions")).json() == {"Items": []}


async def test_a_chunked_body_is_counted_as_it_arrives(
    small: EmulatorApp, small_http: httpx.AsyncClient
) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(1000):  # 100 kB in all, far past the limit
            sent.append(1)
            yield b"n" * 100
        yield b'", "sourceSessionId": "s"}'

    response = await small_http.post(
        "/chats/sessions", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert (await small_http.get("/chats/sessions")).json() == {"Items": []}


async def test_a_chunked_body_over_the_limit_is_never_buffered(
    small_http: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(64):  # 32 MiB, sent without a Content-Length, each chunk new
            yield b"n" * (512 * 1024)
        yield b'", "sourceSessionId": "s"}'

    tracemalloc.start()
    try:
        response = await small_http.post(
            "/chats/sessions", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert peak < 8 * 1024 * 1024  # a few chunks in flight, never the body


def test_a_real_server_answers_413_and_keeps_serving() -> None:
    with LocalAlbert(token=TOKEN, max_body_size=64 * 1024) as server:
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        url = f"{server.base_url}/api/v3/chats/sessions"
        with httpx.Client(headers=auth, timeout=30) as http:
            big = http.post(url, content=_session_of(5 * 1024 * 1024))
            assert big.status_code == 413

            def chunked() -> object:
                yield b'{"name": "'
                for _ in range(200):
                    yield b"n" * 10_000
                yield b'", "sourceSessionId": "s"}'

            assert http.post(url, content=chunked()).status_code == 413
            assert http.post(url, content=_session_of(10)).status_code == 201


async def test_the_limit_can_change_while_serving(
    small: EmulatorApp, small_http: httpx.AsyncClient
) -> None:
    small.max_body_size = 10_000
    response = await small_http.post(
        "/chats/sessions", content=_session_of(5000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    with pytest.raises(ValueError, match="max_body_size"):
        small.max_body_size = 0
