"""Flags per message, and folders, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.testing.helpers import new_message, new_session, update


async def test_flags_on_a_message(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    message = await new_message(http, sid, "r0")
    url = f"/chats/sessions/{sid}/messages/r0/flag"
    added = await http.post(url, params={"sequence": "000", "type": "starred"})
    assert added.status_code == 201
    flag = added.json()
    assert flag == {
        "sourceRequestId": "r0",
        "id": message["id"],
        "parentId": sid,
        "type": "starred",
        "componentType": "text",
        "sequence": "000",
        "starred": True,
        "status": "active",
        "createdBy": "usr-local",
        "updatedBy": "usr-local",
        "createdAt": flag["createdAt"],
        "updatedAt": flag["createdAt"],
        "Created": {"by": "usr-local", "at": flag["createdAt"]},
        "Updated": {"by": "usr-local", "at": flag["createdAt"]},
    }
    again = await http.post(url, params={"sequence": "000", "type": "starred"})
    assert again.status_code == 201  # setting a set flag leaves it as it is
    assert again.json() == flag
    await http.post(url, params={"sequence": "000", "type": "hallucinated"})
    in_message = (await http.get(url, params={"sequence": "000"})).json()
    assert in_message == {"sourceRequestId": "r0", "total": 2, "flags": ["starred", "hallucinated"]}

    removed = await http.delete(url, params={"sequence": "000", "type": "starred"})
    assert removed.status_code == 204
    twice = await http.delete(url, params={"sequence": "000", "type": "starred"})
    assert twice.status_code == 404
    assert (await http.get(url, params={"sequence": "000"})).json()["flags"] == ["hallucinated"]


async def test_flags_of_a_request_without_a_sequence(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "req", componentType="reasoning_block")
    await new_message(http, sid, "req", sequence="001", componentType="text")
    url = f"/chats/sessions/{sid}/messages/req/flag"
    await http.post(url, params={"sequence": "001", "type": "downloaded"})
    narrowed = await http.post(
        url, params={"sequence": "000", "type": "requested", "componentType": "reasoning_block"}
    )
    assert narrowed.json()["componentType"] == "reasoning_block"
    mismatch = await http.post(
        url, params={"sequence": "000", "type": "requested", "componentType": "text"}
    )
    assert mismatch.status_code == 404
    both = (await http.get(url)).json()
    assert both == {"sourceRequestId": "req", "total": 2, "flags": ["downloaded", "requested"]}


async def test_listing_flags_by_type(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    for i in range(3):
        await new_message(http, sid, f"r{i}")
        await http.post(
            f"/chats/sessions/{sid}/messages/r{i}/flag",
            params={"sequence": "000", "type": "starred"},
        )
    await http.post(
        f"/chats/sessions/{sid}/messages/r0/flag", params={"sequence": "000", "type": "requested"}
    )
    first = (await http.get("/chats/flags", params={"type": "starred"})).json()
    rest = (
        await http.get("/chats/flags", params={"type": "starred", "startKey": first["lastKey"]})
    ).json()
    assert [f["sourceRequestId"] for f in first["Items"] + rest["Items"]] == ["r0", "r1", "r2"]
    requested = (await http.get("/chats/flags", params={"type": "requested"})).json()
    assert [f["sourceRequestId"] for f in requested["Items"]] == ["r0"]


async def test_deleting_a_message_deletes_its_flags(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0")
    await http.post(f"/chats/sessions/{sid}/messages/r0/flag?sequence=000&type=starred")
    await http.delete(f"/chats/sessions/{sid}/messages/r0?sequence=000")
    assert (await http.get("/chats/flags", params={"type": "starred"})).json() == {"Items": []}


@pytest.mark.parametrize(
    ("method", "query", "status"),
    [
        ("GET", {}, 400),  # /chats/flags needs a type
        ("POST", {"sequence": "000"}, 400),
        ("POST", {"sequence": "000", "type": "liked"}, 400),
        ("POST", {"type": "starred"}, 400),
        ("DELETE", {"sequence": "000"}, 400),
        ("POST", {"sequence": "009", "type": "starred"}, 404),
    ],
)
async def test_bad_flag_queries(
    http: httpx.AsyncClient, method: str, query: dict[str, str], status: int
) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0")
    path = "/chats/flags" if method == "GET" else f"/chats/sessions/{sid}/messages/r0/flag"
    response = await http.request(method, path, params=query)
    assert response.status_code == status
    assert response.json()["message"]


async def test_folders(http: httpx.AsyncClient) -> None:
    root = await http.post("/chats/folders", json={"name": "Projects", "type": "root"})
    assert root.status_code == 201
    folder = root.json()
    assert (folder["type"], folder["parentId"], folder["sequence"]) == ("root", None, [])
    child = (
        await http.post("/chats/folders", json={"name": "Resins", "parentId": folder["id"]})
    ).json()
    assert child["type"] == "child"
    ops = {
        "data": [
            {"operation": "update", "attribute": "name", "newValue": "Archive"},
            {"operation": "update", "attribute": "sequence", "newValue": [child["id"]]},
        ]
    }
    assert (await http.patch(f"/chats/folders/{folder['id']}", json=ops)).status_code == 204
    got = (await http.get(f"/chats/folders/{folder['id']}")).json()
    assert (got["name"], got["sequence"], got["type"]) == ("Archive", [child["id"]], "root")

    assert got["Updated"]["at"] == got["updatedAt"] >= folder["updatedAt"]
    assert (got["status"], got["Created"]) == ("active", folder["Created"])

    exact = await http.get("/chats/folders", params={"name": "Archive", "exactMatch": "true"})
    assert [f["id"] for f in exact.json()["Items"]] == [folder["id"]]
    partial = await http.get("/chats/folders", params={"name": "arch", "exactMatch": "true"})
    assert partial.json() == {"Items": []}
    repeated = await http.get(
        "/chats/folders", params={"name": ["Resins", "Archive"], "exactMatch": "true"}
    )
    assert [f["name"] for f in repeated.json()["Items"]] == ["Archive", "Resins"]


async def test_deleting_a_folder_leaves_its_sessions_without_a_parent(
    http: httpx.AsyncClient,
) -> None:
    folder = (await http.post("/chats/folders", json={"name": "F"})).json()
    child = (await http.post("/chats/folders", json={"name": "G", "parentId": folder["id"]})).json()
    session = await new_session(http, parentId=folder["id"])
    assert session["parentId"] == folder["id"]
    assert (await http.delete(f"/chats/folders/{folder['id']}")).status_code == 204
    assert (await http.get(f"/chats/sessions/{session['id']}")).json()["parentId"] is None
    assert (await http.get(f"/chats/folders/{child['id']}")).json()["parentId"] is None
    assert (await http.get(f"/chats/folders/{folder['id']}")).status_code == 404
    assert (await http.delete(f"/chats/folders/{folder['id']}")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x", "type": "leaf"},
        {"name": "x", "parentId": "fld-none"},
        {"name": "x", "type": "root", "parentId": "PARENT"},
    ],
)
async def test_malformed_folders_are_400s(http: httpx.AsyncClient, body: dict[str, str]) -> None:
    parent = (await http.post("/chats/folders", json={"name": "parent"})).json()
    if body.get("parentId") == "PARENT":
        body = {**body, "parentId": parent["id"]}
    response = await http.post("/chats/folders", json=body)
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [update("sequence", "not a list"), update("sequence", [1]), update("type", "child")],
)
async def test_bad_folder_patches_are_400s(
    http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    folder = (await http.post("/chats/folders", json={"name": "F"})).json()
    assert (await http.patch(f"/chats/folders/{folder['id']}", json=body)).status_code == 400


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_folders_are_404s(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/chats/folders/fld-none", json=update("name", "x"))
    assert response.status_code == 404
