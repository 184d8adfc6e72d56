"""The emulator's HTTP surface, spoken to with plain httpx over its ASGI app."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from albert.testing import EmulatorApp, Store

API = "http://emulator/api/v3"


@pytest.fixture
def emulator() -> EmulatorApp:
    return EmulatorApp(token="tok", page_size=2, client_credentials={"svc": "s3cret"})


@pytest.fixture
async def http(emulator: EmulatorApp) -> Iterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(
        transport=transport, base_url=API, headers={"Authorization": "Bearer tok"}
    ) as client:
        yield client  # type: ignore[misc]


async def _session(http: httpx.AsyncClient, name: str = "Polymer screening") -> dict:
    response = await http.post("/chats/sessions", json={"name": name, "sourceSessionId": name})
    assert response.status_code == 201
    return response.json()


async def test_bearer_token_is_required(http: httpx.AsyncClient) -> None:
    missing = await http.get("/chats/sessions", headers={"Authorization": ""})
    wrong = await http.get("/chats/sessions", headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert "message" in wrong.json()
    assert wrong.headers["x-request-id"]


async def test_sessions_crud_filters_and_pages(http: httpx.AsyncClient) -> None:
    created = [await _session(http, n) for n in ("Polymer A", "Polymer B", "Resin", "polymer c")]
    assert len({s["id"] for s in created}) == 4
    assert (await http.get(f"/chats/sessions/{created[0]['id']}")).json()["name"] == "Polymer A"
    by_source = await http.get("/chats/sessions/source/Resin")
    assert by_source.json()["id"] == created[2]["id"]

    first = (await http.get("/chats/sessions", params={"name": "polymer"})).json()
    assert [s["name"] for s in first["Items"]] == ["Polymer A", "Polymer B"]
    second = (
        await http.get("/chats/sessions", params={"name": "polymer", "startKey": first["lastKey"]})
    ).json()
    assert [s["name"] for s in second["Items"]] == ["polymer c"]
    assert "lastKey" not in second
    exact = await http.get("/chats/sessions", params={"name": "Polymer A", "exactMatch": "true"})
    assert [s["name"] for s in exact.json()["Items"]] == ["Polymer A"]
    mine = await http.get("/chats/sessions", params={"createdBy": "someone-else"})
    assert mine.json()["Items"] == []

    patch = await http.patch(
        f"/chats/sessions/{created[0]['id']}",
        json={"data": [{"operation": "update", "attribute": "name", "newValue": "Renamed"}]},
    )
    assert patch.status_code == 204
    assert (await http.get(f"/chats/sessions/{created[0]['id']}")).json()["name"] == "Renamed"
    assert (await http.delete(f"/chats/sessions/{created[0]['id']}")).status_code == 204
    assert (await http.get(f"/chats/sessions/{created[0]['id']}")).status_code == 404


async def test_messages_are_sequenced_and_create_omits_content(http: httpx.AsyncClient) -> None:
    sid = (await _session(http))["id"]
    base = {"componentType": "text", "userType": "user", "role": "user"}
    created = []
    for i in range(3):
        response = await http.post(
            f"/chats/sessions/{sid}/messages",
            json={**base, "sourceRequestId": f"r{i}", "Content": f"m{i}"},
        )
        assert response.status_code == 201
        created.append(response.json())
    assert [m["sequence"] for m in created] == ["000", "001", "002"]
    assert all("Content" not in m for m in created)

    got = await http.get(f"/chats/sessions/{sid}/messages/r1", params={"sequence": "001"})
    assert got.json()["Content"] == "m1"
    assert (await http.get(f"/chats/sessions/{sid}/messages/r1")).status_code == 400
    page = (await http.get(f"/chats/sessions/{sid}/messages")).json()
    assert [m["Content"] for m in page["Items"]] == ["m0", "m1"]
    assert page["lastKey"]

    update = {"data": [{"operation": "update", "attribute": "Content", "newValue": {"x": 1}}]}
    patched = await http.patch(f"/chats/sessions/{sid}/messages/r1?sequence=001", json=update)
    assert patched.status_code == 204
    got = await http.get(f"/chats/sessions/{sid}/messages/r1", params={"sequence": "001"})
    assert got.json()["Content"] == {"x": 1}
    gone = await http.delete(f"/chats/sessions/{sid}/messages/r1", params={"sequence": "001"})
    assert gone.status_code == 204
    assert (await http.get(f"/chats/sessions/{sid}/messages/r1?sequence=001")).status_code == 404


async def test_flags(http: httpx.AsyncClient) -> None:
    sid = (await _session(http))["id"]
    await http.post(
        f"/chats/sessions/{sid}/messages",
        json={
            "sourceRequestId": "r0",
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": "x",
        },
    )
    flag_url = f"/chats/sessions/{sid}/messages/r0/flag"
    added = await http.post(flag_url, params={"sequence": "000", "type": "starred"})
    assert added.status_code == 201
    assert added.json()["starred"] is True
    again = await http.post(flag_url, params={"sequence": "000", "type": "starred"})
    assert again.status_code == 201  # setting a set flag leaves it set
    in_message = (await http.get(flag_url, params={"sequence": "000"})).json()
    assert in_message == {"sourceRequestId": "r0", "total": 1, "flags": ["starred"]}
    listed = (await http.get("/chats/flags", params={"type": "starred"})).json()
    assert [f["sourceRequestId"] for f in listed["Items"]] == ["r0"]
    assert (await http.get("/chats/flags", params={"type": "liked"})).status_code == 400
    removed = await http.delete(flag_url, params={"sequence": "000", "type": "starred"})
    assert removed.status_code == 204
    assert (
        await http.delete(flag_url, params={"sequence": "000", "type": "starred"})
    ).status_code == 404


async def test_folders(http: httpx.AsyncClient) -> None:
    folder = (await http.post("/chats/folders", json={"name": "Projects", "type": "root"})).json()
    ops = {
        "data": [
            {"operation": "update", "attribute": "name", "newValue": "Archive"},
            {"operation": "update", "attribute": "sequence", "newValue": ["b", "a"]},
        ]
    }
    assert (await http.patch(f"/chats/folders/{folder['id']}", json=ops)).status_code == 204
    got = (await http.get(f"/chats/folders/{folder['id']}")).json()
    assert (got["name"], got["sequence"], got["type"]) == ("Archive", ["b", "a"], "root")
    listed = (await http.get("/chats/folders", params={"name": "arch"})).json()
    assert [f["id"] for f in listed["Items"]] == [folder["id"]]
    assert (await http.delete(f"/chats/folders/{folder['id']}")).status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/chats/sessions", b"{not json"),
        ("POST", "/chats/sessions", b'{"name": "no source"}'),
        ("POST", "/chats/folders", b"[]"),
    ],
)
async def test_malformed_input_is_a_400_with_a_json_body(
    http: httpx.AsyncClient, method: str, path: str, body: bytes
) -> None:
    response = await http.request(method, path, content=body)
    assert response.status_code == 400
    assert response.json()["message"]


async def test_bad_patch_body_is_a_400(http: httpx.AsyncClient) -> None:
    sid = (await _session(http))["id"]
    bad = await http.patch(f"/chats/sessions/{sid}", json={"data": [{"operation": "remove"}]})
    assert bad.status_code == 400


async def test_client_credentials_token_endpoint(http: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "s3cret"}
    response = await http.post("/login/oauth/token", data=form, headers={"Authorization": ""})
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert response.json()["expires_in"] == 3600
    ok = await http.get("/chats/sessions", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    refused = await http.post("/login/oauth/token", data={**form, "client_secret": "nope"})
    assert refused.status_code == 401


async def test_fault_injection(emulator: EmulatorApp, http: httpx.AsyncClient) -> None:
    emulator.faults.fail_next("GET", r"/chats/sessions$", status=503, times=2, retry_after=1)
    first = await http.get("/chats/sessions")
    second = await http.get("/chats/sessions")
    third = await http.get("/chats/sessions")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["retry-after"] == "1"
    assert (await http.post("/chats/folders", json={"name": "x"})).status_code == 201


def test_sqlite_store_survives_a_restart(tmp_path: object) -> None:
    path = str(tmp_path) + "/albert.db"  # type: ignore[operator]
    store = Store(path)
    store.put("session", "s1", {"id": "s1", "name": "kept"})
    assert store.next_count("sequence:s1") == 0
    store.close()
    reopened = Store(path)
    assert reopened.get("session", "s1") == {"id": "s1", "name": "kept"}
    assert reopened.next_count("sequence:s1") == 1
    reopened.close()
