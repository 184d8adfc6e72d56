"""Chat sessions over HTTP: ids, lookups, filters, key pagination, data-operations PATCH."""

from __future__ import annotations

import httpx
import pytest

from albert.testing import EmulatorApp
from tests.testing.helpers import new_session, update


async def test_create_assigns_ids_and_server_fields(http: httpx.AsyncClient) -> None:
    a = await new_session(http, "A")
    b = await new_session(http, "B", ignored="field")
    assert a["id"] != b["id"]
    assert a["id"].startswith("ses-")
    assert (a["name"], a["sourceSessionId"], a["parentId"]) == ("A", "src-A", None)
    assert a["createdBy"] == a["updatedBy"] == "usr-local"
    assert a["kind"] == "chat"
    assert a["status"] == "active"
    assert a["Created"] == a["Updated"] == {"by": "usr-local", "at": a["createdAt"]}
    assert a["createdAt"] == a["updatedAt"]
    assert "automationId" not in a
    assert "ignored" not in b
    got = await http.get(f"/chats/sessions/{a['id']}")
    assert got.status_code == 200
    assert got.json() == a


async def test_an_automation_session(http: httpx.AsyncClient) -> None:
    created = await new_session(
        http, "run", kind="automation", automationId="aut-1", automationRunId="run-1"
    )
    assert (created["kind"], created["automationId"], created["automationRunId"]) == (
        "automation",
        "aut-1",
        "run-1",
    )
    assert (await http.get(f"/chats/sessions/{created['id']}")).json() == created
    for bad in ({"kind": "robot"}, {"automationId": 7}, {"automationRunId": ""}):
        response = await http.post(
            "/chats/sessions", json={"name": "x", "sourceSessionId": "s", **bad}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] in bad


async def test_lookup_by_source_session_id(http: httpx.AsyncClient) -> None:
    created = await new_session(http, "Resin")
    later = await http.post(
        "/chats/sessions", json={"name": "again", "sourceSessionId": "src-Resin"}
    )
    found = await http.get("/chats/sessions/source/src-Resin")
    assert found.json()["id"] == created["id"]  # the oldest
    await http.delete(f"/chats/sessions/{created['id']}")
    found = await http.get("/chats/sessions/source/src-Resin")
    assert found.json()["id"] == later.json()["id"]
    missing = await http.get("/chats/sessions/source/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["message"]


async def test_name_filters_are_exact_and_repeatable(http: httpx.AsyncClient) -> None:
    for name in ("Polymer A", "Polymer B", "Resin", "polymer c"):
        await new_session(http, name)
    exact = await http.get(
        "/chats/sessions", params={"name": ["Polymer A", "Resin", "polymer"], "exactMatch": "true"}
    )
    assert [s["name"] for s in exact.json()["Items"]] == ["Polymer A", "Resin"]
    cased = await http.get("/chats/sessions", params={"name": "resin", "exactMatch": "true"})
    assert cased.json() == {"Items": []}
    bad = await http.get("/chats/sessions", params={"exactMatch": "yes"})
    assert bad.status_code == 400


@pytest.mark.parametrize("exact", [None, "false", "FALSE"])
async def test_a_name_filter_without_exact_match_finds_nothing(
    http: httpx.AsyncClient, exact: str | None
) -> None:
    # The server has no fuzzy matching: not even an exact name is found.
    await new_session(http, "Resin")
    params = {"name": "Resin"} if exact is None else {"name": "Resin", "exactMatch": exact}
    response = await http.get("/chats/sessions", params=params)
    assert response.status_code == 200
    assert response.json() == {"Items": []}
    folder = (await http.post("/chats/folders", json={"name": "Resin"})).json()
    assert folder["name"] == "Resin"
    assert (await http.get("/chats/folders", params=params)).json() == {"Items": []}


async def test_exact_match_without_a_name_filters_nothing(http: httpx.AsyncClient) -> None:
    await new_session(http, "Resin")
    response = await http.get("/chats/sessions", params={"exactMatch": "true"})
    assert [s["name"] for s in response.json()["Items"]] == ["Resin"]


async def test_every_field_filter(emulator: EmulatorApp, http: httpx.AsyncClient) -> None:
    emulator.page_size = 10
    folder = (await http.post("/chats/folders", json={"name": "F"})).json()["id"]
    await new_session(http, "plain")
    await new_session(http, "filed", parentId=folder)
    await new_session(
        http, "run 1", kind="automation", automationId="aut-1", automationRunId="run-1"
    )
    await new_session(
        http, "run 2", kind="automation", automationId="aut-2", automationRunId="run-2"
    )

    async def names(**params: str) -> list[str]:
        response = await http.get("/chats/sessions", params=params)
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()["Items"]]

    assert await names(parentId=folder) == ["filed"]
    assert await names(kind="chat") == ["plain", "filed"]
    assert await names(kind="automation") == ["run 1", "run 2"]
    assert await names(automationId="aut-2") == ["run 2"]
    assert await names(kind="automation", automationId="aut-1") == ["run 1"]
    assert await names(createdBy="usr-local", parentId=folder) == ["filed"]
    assert await names(updatedBy="usr-other") == []
    bad = await http.get("/chats/sessions", params={"kind": "robot"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "kind"


async def test_created_by_and_updated_by_filters(http: httpx.AsyncClient) -> None:
    await new_session(http, "mine")
    mine = await http.get("/chats/sessions", params={"createdBy": "usr-local"})
    assert [s["name"] for s in mine.json()["Items"]] == ["mine"]
    nobody = await http.get("/chats/sessions", params={"updatedBy": "usr-other"})
    assert nobody.json() == {"Items": []}


async def test_a_filtered_listing_pages_through_what_matches(http: httpx.AsyncClient) -> None:
    for i in range(7):
        await new_session(http, "even" if i % 2 == 0 else "odd")
    params = {"name": "even", "exactMatch": "true"}
    first = (await http.get("/chats/sessions", params=params)).json()
    assert len(first["Items"]) == 2
    second = (
        await http.get("/chats/sessions", params={**params, "startKey": first["lastKey"]})
    ).json()
    assert len(second["Items"]) == 2
    assert "lastKey" not in second


@pytest.mark.parametrize(
    ("path", "params", "unknown"),
    [
        ("/chats/sessions", {"nam": "x"}, "nam"),
        ("/chats/sessions", {"name": "x", "exactMatch": "true", "limit": "5"}, "limit"),
        ("/chats/sessions", {"parent_id": "fld-1"}, "parent_id"),
        ("/chats/folders", {"createdBy": "usr-local"}, "createdBy"),
        ("/chats/folders", {"kind": "chat"}, "kind"),
        ("/chats/flags", {"type": "starred", "sessionId": "s"}, "sessionId"),
        ("/chats/sessions/SID", {"expand": "messages"}, "expand"),
        ("/chats/sessions/SID/messages", {"order": "desc"}, "order"),
        ("/chats/sessions/SID/messages/r0", {"sequence": "000", "seq": "000"}, "seq"),
    ],
)
async def test_an_unknown_query_parameter_is_a_400_that_names_it(
    http: httpx.AsyncClient, path: str, params: dict[str, str], unknown: str
) -> None:
    sid = (await new_session(http))["id"]
    response = await http.get(path.replace("SID", sid), params=params)
    assert response.status_code == 400, response.text
    assert repr(unknown) in response.json()["message"]
    assert response.json()["errors"][0]["field"] == unknown


@pytest.mark.parametrize(
    "query", ["parentId=a&parentId=b", "kind=", "startKey=1&startKey=2", "name=&exactMatch=true"]
)
async def test_a_repeated_or_empty_parameter_is_a_400(http: httpx.AsyncClient, query: str) -> None:
    response = await http.get(f"/chats/sessions?{query}")
    assert response.status_code == 400, response.text


async def test_pagination_is_key_based_and_survives_deletions(http: httpx.AsyncClient) -> None:
    ids = [(await new_session(http, f"s{i}"))["id"] for i in range(5)]
    first = (await http.get("/chats/sessions")).json()
    assert [s["id"] for s in first["Items"]] == ids[:2]
    # the next item is deleted between two page requests: nothing is skipped or repeated
    assert (await http.delete(f"/chats/sessions/{ids[2]}")).status_code == 204
    second = (await http.get("/chats/sessions", params={"startKey": first["lastKey"]})).json()
    assert [s["id"] for s in second["Items"]] == ids[3:5]
    assert "lastKey" not in second


async def test_page_size_can_change_while_serving(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    for i in range(3):
        await new_session(http, f"s{i}")
    emulator.page_size = 10
    assert len((await http.get("/chats/sessions")).json()["Items"]) == 3
    with pytest.raises(ValueError, match="page_size"):
        emulator.page_size = 0


@pytest.mark.parametrize("key", ["abc", "-1", "", "²", pytest.param("9" * 5000, id="5000 digits")])
async def test_a_key_the_server_did_not_issue_is_a_400(http: httpx.AsyncClient, key: str) -> None:
    response = await http.get("/chats/sessions", params={"startKey": key})
    assert response.status_code == 400
    assert response.json()["message"]


async def test_patch_data_operations(http: httpx.AsyncClient) -> None:
    session = await new_session(http)
    sid = session["id"]
    folder = (await http.post("/chats/folders", json={"name": "F"})).json()
    renamed = await http.patch(f"/chats/sessions/{sid}", json=update("name", "Renamed"))
    assert renamed.status_code == 204
    moved = await http.patch(f"/chats/sessions/{sid}", json=update("parentId", folder["id"]))
    assert moved.status_code == 204
    got = (await http.get(f"/chats/sessions/{sid}")).json()
    assert (got["name"], got["parentId"]) == ("Renamed", folder["id"])
    assert got["updatedAt"] >= session["updatedAt"]
    assert got["Updated"] == {"by": "usr-local", "at": got["updatedAt"]}
    assert got["Created"] == session["Created"]
    out = await http.patch(f"/chats/sessions/{sid}", json=update("parentId", None))
    assert out.status_code == 204
    assert (await http.get(f"/chats/sessions/{sid}")).json()["parentId"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"name": "not data operations"},
        [],
        {"data": [{"operation": "remove", "attribute": "name", "newValue": "x"}]},
        {"data": [{"operation": "update", "attribute": "sourceSessionId", "newValue": "x"}]},
        {"data": [{"operation": "update", "attribute": "name"}]},
        {"data": [{"operation": "update", "attribute": "name", "newValue": ""}]},
        {"data": [{"operation": "update", "attribute": "name", "newValue": 3}]},
        {"data": [{"operation": "update", "attribute": "parentId", "newValue": "fld-none"}]},
    ],
)
async def test_bad_patches_are_400s_and_change_nothing(
    http: httpx.AsyncClient, body: object
) -> None:
    session = await new_session(http)
    response = await http.patch(f"/chats/sessions/{session['id']}", json=body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert (await http.get(f"/chats/sessions/{session['id']}")).json() == session


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"name": "no source"}',
        b'{"name": "", "sourceSessionId": "s"}',
        b'{"name": "x", "sourceSessionId": 7}',
        b'{"name": "x", "sourceSessionId": "s", "parentId": "fld-none"}',
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested too deeply"),
    ],
)
async def test_malformed_creates_are_400s_with_a_json_body(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        "/chats/sessions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) <= {"message", "errors"}
    assert (await http.get("/chats/sessions")).json() == {"Items": []}


async def test_field_errors_name_the_field(http: httpx.AsyncClient) -> None:
    response = await http.post("/chats/sessions", json={"name": "x"})
    assert response.json()["errors"] == [
        {"field": "sourceSessionId", "message": "is required and must be a non-empty string"}
    ]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_ids_are_404s(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/chats/sessions/ses-none", json=update("name", "x"))
    assert response.status_code == 404
    assert "ses-none" in response.json()["message"]


async def test_delete_takes_the_messages_and_flags_along(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await http.post(
        f"/chats/sessions/{sid}/messages",
        json={
            "sourceRequestId": "r",
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": "x",
        },
    )
    await http.post(f"/chats/sessions/{sid}/messages/r/flag?sequence=000&type=starred")
    assert (await http.delete(f"/chats/sessions/{sid}")).status_code == 204
    assert (await http.get(f"/chats/sessions/{sid}/messages")).status_code == 404
    assert (await http.get("/chats/flags", params={"type": "starred"})).json() == {"Items": []}
    assert (await http.delete(f"/chats/sessions/{sid}")).status_code == 404
