"""What every response shares (request ids, JSON errors), faults, and the /_emulator routes."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from albert.testing import EmulatorApp
from tests.testing.helpers import new_session


async def test_every_response_has_a_request_id(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    emulator.faults.fail_next("GET", "/faulty$", status=503)
    responses = [
        await http.post("/chats/sessions", json={"name": "n", "sourceSessionId": "s"}),
        await http.get("/chats/sessions"),
        await http.get("/chats/sessions", headers={"Authorization": ""}),
        await http.get("/chats/sessions/ses-none"),
        await http.get("/no/such/route"),
        await http.put("/chats/sessions"),
        await http.get("/faulty"),
        await http.get("http://emulator/_emulator/health"),
    ]
    assert [r.status_code for r in responses] == [201, 200, 401, 404, 404, 405, 503, 200]
    ids = [r.headers["x-request-id"] for r in responses]
    assert len(set(ids)) == len(ids)


async def test_unknown_routes_and_methods_answer_json(http: httpx.AsyncClient) -> None:
    missing = await http.get("/chats/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"message": "GET /api/v3/chats/nothing: Not Found"}
    wrong = await http.put("/chats/folders")
    assert wrong.status_code == 405
    assert wrong.json()["message"]


async def test_fail_next_answers_before_anything_is_stored(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    emulator.faults.fail_next("POST", r"/chats/sessions$", status=503, retry_after=7)
    failed = await http.post("/chats/sessions", json={"name": "n", "sourceSessionId": "s"})
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "7"
    assert failed.json() == {"message": "injected fault: 503"}
    assert (await http.get("/chats/sessions")).json() == {"Items": []}
    assert (
        await http.post("/chats/sessions", json={"name": "n", "sourceSessionId": "s"})
    ).status_code == 201


async def test_faults_come_before_the_token_check(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    emulator.faults.fail_next(
        "GET", r"/chats/sessions$", status=502, body="<html>bad gateway</html>"
    )
    response = await http.get("/chats/sessions", headers={"Authorization": ""})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html>bad gateway</html>"


async def test_latency(emulator: EmulatorApp, http: httpx.AsyncClient) -> None:
    emulator.faults.add_latency("GET", r"/chats/sessions$", 0.05, times=1)
    started = time.perf_counter()
    assert (await http.get("/chats/sessions")).status_code == 200
    assert time.perf_counter() - started >= 0.05
    started = time.perf_counter()
    await http.get("/chats/sessions")
    assert time.perf_counter() - started < 0.05


async def test_the_admin_routes(emulator: EmulatorApp, http: httpx.AsyncClient) -> None:
    admin = "http://emulator/_emulator"
    health = await http.get(f"{admin}/health", headers={"Authorization": ""})
    assert health.json() == {"status": "ok", "pageSize": 2}
    planned = await http.post(
        f"{admin}/faults",
        json={"method": "GET", "path": "/chats/folders$", "status": 429, "retryAfter": 1},
    )
    assert planned.status_code == 201
    assert planned.json()["status"] == 429
    listed = (await http.get(f"{admin}/faults")).json()["Items"]
    assert [f["path"] for f in listed] == ["/chats/folders$"]
    assert (await http.get("/chats/folders")).status_code == 429
    assert (await http.get("/chats/folders")).status_code == 200

    await http.post(f"{admin}/faults", json={"path": "/chats/", "status": 500, "times": 5})
    assert (await http.delete(f"{admin}/faults")).status_code == 204
    assert emulator.faults.planned == []

    bad = await http.post(f"{admin}/faults", json={"path": "/x"})
    assert bad.status_code == 400
    assert "status" in bad.json()["message"]
    # a fault on every path never blocks the admin routes themselves
    emulator.faults.fail_next("*", "", status=500, times=10)
    assert (await http.delete(f"{admin}/faults")).status_code == 204


async def test_the_admin_routes_need_the_token(http: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "faults"),
        ("POST", "faults"),
        ("DELETE", "faults"),
        ("POST", "reset"),
    ]:
        response = await http.request(
            method, f"http://emulator/_emulator/{path}", headers={"Authorization": ""}
        )
        assert response.status_code == 401, path


async def test_reset_deletes_the_data_but_keeps_the_token(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    await new_session(http)
    assert (await http.post("http://emulator/_emulator/reset")).status_code == 204
    assert (await http.get("/chats/sessions")).json() == {"Items": []}  # the token still works
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "s3cret"}
    assert (await http.post("/login/oauth/token", data=form)).status_code == 200
    reopened = EmulatorApp(store=emulator.store)  # and the store still remembers them
    assert (reopened.token, reopened.client_credentials) == ("tok", {"svc": "s3cret"})


async def test_a_crash_is_a_json_500_that_the_app_does_not_raise(
    emulator: EmulatorApp,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(emulator.store, "scan", broken)
    # Raised on, the crash would fail this request (ASGITransport re-raises it),
    # and a server would close the connection after the 500.
    log = logging.getLogger("uvicorn.error")
    log.addHandler(caplog.handler)  # uvicorn may have stopped it propagating
    try:
        response = await http.get("/chats/sessions")
    finally:
        log.removeHandler(caplog.handler)
    assert response.status_code == 500
    assert response.json() == {"message": "the emulator failed: RuntimeError: disk on fire"}
    assert response.headers["x-request-id"]
    logged = {r.exc_info[0] for r in caplog.records if r.name == "uvicorn.error" and r.exc_info}
    assert logged == {RuntimeError}


@pytest.mark.parametrize(
    "body",
    [
        b'{"path": "/x", "status": 500, "latency": 1e309}',
        b'{"path": "/x", "status": 500, "retryAfter": Infinity}',
        b'{"path": "/x", "latency": NaN}',
    ],
    ids=["latency 1e309", "retryAfter Infinity", "latency NaN"],
)
async def test_non_finite_fault_numbers_are_400s(
    emulator: EmulatorApp, http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post("http://emulator/_emulator/faults", content=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("the body is not valid JSON")
    assert emulator.faults.planned == []
    assert (await http.get("http://emulator/_emulator/faults")).json() == {"Items": []}


async def test_a_client_that_hangs_up_mid_body_is_not_logged_as_a_crash(
    emulator: EmulatorApp, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[dict[str, object]] = []
    messages = iter(
        [
            {"type": "http.request", "body": b'{"name": ', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v3/chats/sessions",
        "raw_path": b"/api/v3/chats/sessions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"emulator"),
            (b"authorization", f"Bearer {emulator.token}".encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("emulator", 80),
    }
    log = logging.getLogger("uvicorn.error")
    log.addHandler(caplog.handler)
    try:
        await emulator(scope, receive, send)  # type: ignore[arg-type]
    finally:
        log.removeHandler(caplog.handler)
    assert [r for r in caplog.records if r.exc_info] == []
    assert emulator.store.all("session") == []
