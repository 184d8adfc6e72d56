"""Chat messages over HTTP: sequences, the create quirk, lookups, PATCH and DELETE."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from albert.testing import EmulatorApp
from tests.testing.helpers import API, TOKEN, new_message, new_session, update


async def test_the_create_answer_omits_content_and_keeps_the_sequence_sent(
    http: httpx.AsyncClient,
) -> None:
    a, b = (await new_session(http, "a"))["id"], (await new_session(http, "b"))["id"]
    created = [await new_message(http, a, f"r{i}", f"m{i}") for i in range(3)]
    assert [m["sequence"] for m in created] == ["000", "000", "000"]  # each a new request
    assert all("Content" not in m for m in created)
    assert all(m["parentId"] == a and m["id"].startswith("msg-") for m in created)
    assert (await new_message(http, b, "r0"))["sequence"] == "000"  # per session
    got = await http.get(f"/chats/sessions/{a}/messages/r1", params={"sequence": "000"})
    assert got.json()["Content"] == "m1"
    session = (await http.get(f"/chats/sessions/{a}")).json()
    assert session["lastMessageAt"] == created[-1]["createdAt"]


async def test_a_create_without_a_sequence_is_a_400(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    body = {
        "sourceRequestId": "r",
        "componentType": "text",
        "userType": "user",
        "role": "user",
        "Content": "x",
    }
    response = await http.post(f"/chats/sessions/{sid}/messages", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "sequence", "message": "is required (a new request starts at '000')"}
    ]
    assert (await http.get(f"/chats/sessions/{sid}/messages")).json() == {"Items": []}


@pytest.mark.parametrize("sequence", ["", "a", "-1", "0.5", "²", "0" * 10, 0, None])
async def test_a_sequence_is_a_zero_padded_number(
    http: httpx.AsyncClient, sequence: object
) -> None:
    sid = (await new_session(http))["id"]
    response = await http.post(
        f"/chats/sessions/{sid}/messages",
        json={
            "sourceRequestId": "r",
            "sequence": sequence,
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": "x",
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sequence"


async def test_a_taken_request_id_and_sequence_is_a_409(http: httpx.AsyncClient) -> None:
    a, b = (await new_session(http, "a"))["id"], (await new_session(http, "b"))["id"]
    await new_message(http, a, "req", "first")
    again = await http.post(
        f"/chats/sessions/{a}/messages",
        json={
            "sourceRequestId": "req",
            "sequence": "000",
            "componentType": "image",
            "userType": "system",
            "role": "assistant",
            "Content": "second",
        },
    )
    assert again.status_code == 409, again.text
    assert "req" in again.json()["message"]
    await new_message(http, a, "req", "next", sequence="001")  # the next component is fine
    await new_message(http, b, "req", "elsewhere")  # and so is another session
    listed = (await http.get(f"/chats/sessions/{a}/messages")).json()["Items"]
    assert [m["Content"] for m in listed] == ["first", "next"]


async def test_a_sequence_is_free_again_after_its_delete(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0", "old")
    await http.delete(f"/chats/sessions/{sid}/messages/r0", params={"sequence": "000"})
    assert (await new_message(http, sid, "r0", "new"))["sequence"] == "000"


async def test_listing_is_by_request_then_by_sequence(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    emulator.page_size = 10
    sid = (await new_session(http))["id"]
    # Components arrive out of order, and requests interleave.
    for srid, sequence in [("q1", "001"), ("q2", "000"), ("q1", "000"), ("q3", "000")]:
        await new_message(http, sid, srid, f"{srid}#{sequence}", sequence=sequence)
    await new_message(http, sid, "q2", "q2#002", sequence="002")
    await new_message(http, sid, "q1", "q1#010", sequence="010")
    listed = (await http.get(f"/chats/sessions/{sid}/messages")).json()["Items"]
    assert [m["Content"] for m in listed] == [
        "q1#000",
        "q1#001",
        "q1#010",
        "q2#000",
        "q2#002",
        "q3#000",
    ]


async def test_a_request_emptied_by_deletes_starts_again_at_the_end(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    emulator.page_size = 10
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "q1", "q1 old")
    await new_message(http, sid, "q2", "q2")
    await http.delete(f"/chats/sessions/{sid}/messages/q1", params={"sequence": "000"})
    await new_message(http, sid, "q1", "q1 new")
    listed = (await http.get(f"/chats/sessions/{sid}/messages")).json()["Items"]
    assert [m["Content"] for m in listed] == ["q2", "q1 new"]


async def test_listing_is_oldest_first_and_paginated(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    for i in range(5):
        await new_message(http, sid, "r", f"m{i}", sequence=f"{i:03d}")
    contents, keys, key = [], [], None
    while True:
        params = {} if key is None else {"startKey": key}
        page = (await http.get(f"/chats/sessions/{sid}/messages", params=params)).json()
        contents.append([m["Content"] for m in page["Items"]])
        key = page.get("lastKey")
        if not key:
            break
        keys.append(key)
    assert contents == [["m0", "m1"], ["m2", "m3"], ["m4"]]
    # a key survives the deletion of the item it names
    await http.delete(f"/chats/sessions/{sid}/messages/r", params={"sequence": "001"})
    rest = await http.get(f"/chats/sessions/{sid}/messages", params={"startKey": keys[0]})
    assert [m["Content"] for m in rest.json()["Items"]] == ["m2", "m3"]


async def test_one_request_with_several_components(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "req", "thinking", componentType="reasoning_block")
    await new_message(http, sid, "req", {"url": "x.png"}, sequence="001", componentType="image")
    url = f"/chats/sessions/{sid}/messages/req"
    image = await http.get(url, params={"sequence": "001", "componentType": "image"})
    assert image.json()["Content"] == {"url": "x.png"}
    wrong_type = await http.get(url, params={"sequence": "001", "componentType": "text"})
    assert wrong_type.status_code == 404
    bad_type = await http.get(url, params={"sequence": "001", "componentType": "video"})
    assert bad_type.status_code == 400


async def test_optional_fields_are_kept(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    fields = {
        "componentId": "c1",
        "parentRequestId": "p1",
        "branchIndex": 2,
        "spanId": "span",
        "isVisible": False,
        "displayFeedbackComponent": True,
        "value": [{"k": 1}],
    }
    created = await new_message(http, sid, "r", **fields)
    got = (await http.get(f"/chats/sessions/{sid}/messages/r?sequence=000")).json()
    for key, value in fields.items():
        assert created[key] == got[key] == value


async def test_the_newer_fields_are_kept(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    fields = {
        "pageContext": {"url": "https://app/inv/1", "entity": "inventory", "canvas_id": "c1"},
        "attachments": [
            {"fileId": "ATT1", "title": "gel.pdf", "kind": "pdf", "sizeBytes": 12},
            {"fileId": "ATT2", "title": "b.csv", "kind": "csv", "partsSummary": "3 sheets"},
        ],
        "planAction": {"action": "approve"},
        "permissionAction": {"decision": "allow_once"},
        "permissionActions": [{"decision": "allow_session", "permissionKey": "inv.write"}],
    }
    created = await new_message(http, sid, "r", **fields)
    got = (await http.get(f"/chats/sessions/{sid}/messages/r?sequence=000")).json()
    for key, value in fields.items():
        assert created[key] == got[key] == value
    assert got["status"] == "active"
    assert got["Created"] == got["Updated"] == {"by": "usr-local", "at": got["createdAt"]}


@pytest.mark.parametrize("kind", ["document_citation", "plan", "permission_request"])
async def test_the_newer_component_types(http: httpx.AsyncClient, kind: str) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r", {"x": 1}, componentType=kind)
    got = await http.get(
        f"/chats/sessions/{sid}/messages/r", params={"sequence": "000", "componentType": kind}
    )
    assert got.json()["componentType"] == kind


@pytest.mark.parametrize(
    "change",
    [
        {"pageContext": "url"},
        {"attachments": {"fileId": "a"}},
        {"attachments": [{"title": "t", "kind": "pdf"}]},
        {"attachments": [{"fileId": "a", "title": "t", "kind": "pdf", "sizeBytes": "12"}]},
        {"planAction": ["approve"]},
        {"permissionAction": True},
        {"permissionActions": [{"decision": "allow"}, "deny"]},
        {"value": [1]},
    ],
)
async def test_malformed_newer_fields_are_400s(
    http: httpx.AsyncClient, change: dict[str, object]
) -> None:
    sid = (await new_session(http))["id"]
    body = {
        "sourceRequestId": "r",
        "sequence": "000",
        "componentType": "text",
        "userType": "user",
        "role": "user",
        "Content": "x",
        **change,
    }
    response = await http.post(f"/chats/sessions/{sid}/messages", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] in change


@pytest.mark.parametrize(
    "change",
    [
        {"Content": None},
        {"componentType": "video"},
        {"userType": "robot"},
        {"role": "system"},
        {"sourceRequestId": ""},
        {"Content": ["a", "list"]},
        {"branchIndex": "2"},
        {"isVisible": "yes"},
        {"branchIndex": True},
    ],
)
async def test_malformed_messages_are_400s(
    http: httpx.AsyncClient, change: dict[str, object]
) -> None:
    sid = (await new_session(http))["id"]
    body = {
        "sourceRequestId": "r",
        "sequence": "000",
        "componentType": "text",
        "userType": "user",
        "role": "user",
        "Content": "x",
        **change,
    }
    response = await http.post(f"/chats/sessions/{sid}/messages", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] in change
    assert (await http.get(f"/chats/sessions/{sid}/messages")).json() == {"Items": []}


async def test_a_message_without_content_is_a_400(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    body = {
        "sourceRequestId": "r",
        "sequence": "000",
        "componentType": "text",
        "userType": "user",
        "role": "user",
    }
    response = await http.post(f"/chats/sessions/{sid}/messages", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Content"


async def test_update_content_with_a_string_or_an_object(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r", "before")
    url = f"/chats/sessions/{sid}/messages/r"
    for value in ("after", {"x": [1, 2]}):
        patched = await http.patch(url, params={"sequence": "000"}, json=update("Content", value))
        assert patched.status_code == 204
        assert (await http.get(url, params={"sequence": "000"})).json()["Content"] == value
    bad = await http.patch(url, params={"sequence": "000"}, json=update("Content", 42))
    assert bad.status_code == 400
    other = await http.patch(url, params={"sequence": "000"}, json=update("role", "assistant"))
    assert other.status_code == 400


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_sequence_is_required(http: httpx.AsyncClient, method: str) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r")
    response = await http.request(
        method, f"/chats/sessions/{sid}/messages/r", json=update("Content", "x")
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sequence"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_messages_and_sessions_are_404s(http: httpx.AsyncClient, method: str) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r")
    for path, params in [
        (f"/chats/sessions/{sid}/messages/other", {"sequence": "000"}),
        (f"/chats/sessions/{sid}/messages/r", {"sequence": "001"}),
        ("/chats/sessions/ses-none/messages/r", {"sequence": "000"}),
    ]:
        response = await http.request(method, path, params=params, json=update("Content", "x"))
        assert response.status_code == 404, path
    assert (await http.get("/chats/sessions/ses-none/messages")).status_code == 404
    post = await http.post("/chats/sessions/ses-none/messages", json={})
    assert post.status_code == 404


async def test_delete(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0")
    await new_message(http, sid, "r1")
    gone = await http.delete(f"/chats/sessions/{sid}/messages/r0", params={"sequence": "000"})
    assert gone.status_code == 204
    left = (await http.get(f"/chats/sessions/{sid}/messages")).json()["Items"]
    assert [m["sourceRequestId"] for m in left] == ["r1"]


async def test_an_encoded_slash_stays_inside_its_segment(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "runs/42", "m0")
    await new_message(http, sid, "a%2Fb", "m1")  # a literal "%2F", not a slash
    url = f"/chats/sessions/{sid}/messages/"
    got = await http.get(url + "runs%2F42", params={"sequence": "000"})
    assert got.status_code == 200, got.text
    assert got.json()["sourceRequestId"] == "runs/42"
    literal = await http.get(url + "a%252Fb", params={"sequence": "000"})
    assert literal.json()["sourceRequestId"] == "a%2Fb"
    split = await http.get(url + "runs/42", params={"sequence": "000"})
    assert split.status_code == 404  # an unencoded slash is a path separator


async def test_raw_utf8_in_the_path_is_read_as_utf8(emulator: EmulatorApp) -> None:
    # uvicorn refuses raw non-ASCII bytes in a path, but an ASGI server may pass
    # them through undecoded: the emulator must read them as UTF-8.
    async def raw_utf8_server(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "raw_path": scope["raw_path"].replace(b"%C3%AF", "ï".encode())}
        await emulator(scope, receive, send)

    transport = httpx.ASGITransport(app=raw_utf8_server)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as http:
        sid = (await new_session(http))["id"]
        await new_message(http, sid, "naïve", "m0")
        got = await http.get(f"/chats/sessions/{sid}/messages/naïve", params={"sequence": "000"})
    assert got.status_code == 200, got.text
    assert got.json()["sourceRequestId"] == "naïve"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e309"])
async def test_non_finite_numbers_are_400s(http: httpx.AsyncClient, number: bytes) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r0", "kept")
    fields = (
        b'"sourceRequestId": "r1", "sequence": "000", "componentType": "text", '
        b'"userType": "user", "role": "user"'
    )
    patch = b'{"data": [{"operation": "update", "attribute": "Content", "newValue": {"x": @}}]}'
    url = f"/chats/sessions/{sid}/messages"
    for method, path, params, body in [
        ("POST", url, {}, b"{" + fields + b', "Content": {"x": @}}'),
        ("POST", url, {}, b"{" + fields + b', "Content": "x", "value": [@]}'),
        ("PATCH", f"{url}/r0", {"sequence": "000"}, patch),
    ]:
        response = await http.request(
            method,
            path,
            params=params,
            content=body.replace(b"@", number),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith("the body is not valid JSON")
    listed = await http.get(url)
    assert [m["Content"] for m in listed.json()["Items"]] == ["kept"]
