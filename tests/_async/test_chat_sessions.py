"""Chat sessions on the wire: every call's exact request, and what it returns."""

from __future__ import annotations

import httpx
import pydantic
import pytest
import respx

from albert import AsyncAlbert, AsyncAlbertPaginator
from albert.resources.base import validate_server_python
from albert.resources.chats import ChatSession, ChatSessionKind
from tests._async.helpers import SESSIONS, assert_authorized, body, query, sent

SESSION_JSON = {
    "id": "ses-1",
    "name": "Polymer screening",
    "parentId": "fld-1",
    "sourceSessionId": "src-1",
    "lastMessageAt": "2026-11-01T10:00:00Z",
    "createdBy": "usr-9",
}


def page(ids: list[str], last_key: str | None) -> httpx.Response:
    items = [{**SESSION_JSON, "id": i, "name": f"name {i}"} for i in ids]
    data: dict[str, object] = {"Items": items}
    if last_key is not None:
        data["lastKey"] = last_key
    return httpx.Response(200, json=data)


async def test_create_posts_the_session_by_alias_without_unset_fields(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post(SESSIONS).respond(201, json=SESSION_JSON)

    created = await client.chat_sessions.create(
        session=ChatSession(name="Polymer screening", source_session_id="src-1", parent_id="fld-1")
    )

    request = sent(route)
    assert_authorized(request)
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {
        "name": "Polymer screening",
        "sourceSessionId": "src-1",
        "parentId": "fld-1",
    }
    assert created == validate_server_python(ChatSession, SESSION_JSON)
    assert created.id == "ses-1"
    assert created.model_extra == {"createdBy": "usr-9"}


async def test_get_by_id(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION_JSON)

    found = await client.chat_sessions.get_by_id(id="ses-1")

    assert_authorized(sent(route))
    assert sent(route).method == "GET"
    assert found.name == "Polymer screening"
    assert found.last_message_at == "2026-11-01T10:00:00Z"


async def test_get_by_source_session_id_encodes_the_id(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(f"{SESSIONS}/source/ext%2F42").respond(200, json=SESSION_JSON)

    found = await client.chat_sessions.get_by_source_session_id(source_session_id="ext/42")

    assert sent(route).url.raw_path == b"/api/v3/chats/sessions/source/ext%2F42"
    assert found.source_session_id == "src-1"


async def test_get_all_sends_filters_and_walks_three_pages(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(
        side_effect=[page(["a", "b"], "k1"), page(["c", "d"], "k2"), page(["e"], None)]
    )

    paginator = client.chat_sessions.get_all(
        name=["Polymer", "Resin"],
        parent_id="fld-1",
        kind=ChatSessionKind.AUTOMATION,
        automation_id="aut-1",
        created_by="usr-1",
        updated_by="usr-2",
    )
    assert isinstance(paginator, AsyncAlbertPaginator)
    assert route.call_count == 0  # nothing is sent before iteration
    ids = [s.id async for s in paginator]

    assert ids == ["a", "b", "c", "d", "e"]
    filters = [
        ("name", "Polymer"),
        ("name", "Resin"),
        ("exactMatch", "true"),  # the default: the server has no fuzzy matching
        ("parentId", "fld-1"),
        ("kind", "automation"),
        ("automationId", "aut-1"),
        ("createdBy", "usr-1"),
        ("updatedBy", "usr-2"),
    ]
    assert [query(c.request) for c in route.calls] == [
        filters,
        [*filters, ("startKey", "k1")],
        [*filters, ("startKey", "k2")],
    ]
    assert paginator.has_more is False
    assert paginator.last_key is None


async def test_get_all_without_filters_sends_no_query(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(return_value=page(["a"], ""))

    assert [s.id async for s in client.chat_sessions.get_all()] == ["a"]
    assert query(sent(route)) == []  # no exactMatch without a name


async def test_exact_match_goes_out_only_with_a_name(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(return_value=page([], None))

    [s async for s in client.chat_sessions.get_all(exact_match=True, created_by="u")]
    [s async for s in client.chat_sessions.get_all(name=["Polymer"], exact_match=False)]

    assert query(sent(route, 0)) == [("createdBy", "u")]
    assert query(sent(route, 1)) == [("name", "Polymer")]


async def test_bad_filters_fail_before_any_request(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    catch_all = api.route().respond(200, json={"Items": []})
    with pytest.raises(pydantic.ValidationError, match="kind"):
        client.chat_sessions.get_all(kind="robot")  # type: ignore[arg-type]
    assert catch_all.call_count == 0


async def test_get_all_stops_on_an_empty_page_even_with_a_key(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(side_effect=[page(["a"], "k1"), page([], "k2")])

    assert [s.id async for s in client.chat_sessions.get_all()] == ["a"]
    assert route.call_count == 2


async def test_max_items_never_requests_a_page_it_will_not_use(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(
        side_effect=[page(["a", "b"], "k1"), page(["c", "d"], "k2"), page(["e"], None)]
    )

    paginator = client.chat_sessions.get_all(max_items=4)
    assert [s.id async for s in paginator] == ["a", "b", "c", "d"]
    assert route.call_count == 2
    assert paginator.has_more is True
    assert paginator.last_key == "k2"


async def test_max_items_cuts_a_page_short(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(SESSIONS).mock(side_effect=[page(["a", "b"], "k1"), page(["c", "d"], "k2")])

    paginator = client.chat_sessions.get_all(max_items=3)
    assert [s.id async for s in paginator] == ["a", "b", "c"]
    assert route.call_count == 2
    assert paginator.has_more is True


async def test_max_items_zero_sends_nothing(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(SESSIONS).mock(return_value=page(["a"], None))

    assert [s async for s in client.chat_sessions.get_all(max_items=0)] == []
    assert route.call_count == 0


async def test_resume_from_last_key_and_iterate_pages(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(side_effect=[page(["c", "d"], "k2"), page(["e"], None)])

    paginator = client.chat_sessions.get_all(start_key="k1", name=["x"])
    pages = [[s.id for s in items] async for items in paginator.pages()]

    assert pages == [["c", "d"], ["e"]]
    named = [("name", "x"), ("exactMatch", "true")]
    assert query(route.calls[0].request) == [*named, ("startKey", "k1")]
    assert query(route.calls[1].request) == [*named, ("startKey", "k2")]


async def test_update_name_patches_then_reads_back(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    patch = api.patch(f"{SESSIONS}/ses-1").respond(204)
    get = api.get(f"{SESSIONS}/ses-1").respond(200, json={**SESSION_JSON, "name": "Renamed"})

    updated = await client.chat_sessions.update(id="ses-1", name="Renamed")

    assert_authorized(sent(patch))
    assert body(sent(patch)) == {
        "data": [{"operation": "update", "attribute": "name", "newValue": "Renamed"}]
    }
    assert get.call_count == 1
    assert updated.name == "Renamed"


async def test_update_parent_none_moves_out_of_the_folder(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    patch = api.patch(f"{SESSIONS}/ses-1").respond(204)
    api.get(f"{SESSIONS}/ses-1").respond(200, json={**SESSION_JSON, "parentId": None})

    updated = await client.chat_sessions.update(id="ses-1", parent_id=None)

    assert body(sent(patch)) == {
        "data": [{"operation": "update", "attribute": "parentId", "newValue": None}]
    }
    assert updated.parent_id is None


async def test_update_name_and_parent(client: AsyncAlbert, api: respx.MockRouter) -> None:
    patch = api.patch(f"{SESSIONS}/ses-1").respond(204)
    api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION_JSON)

    await client.chat_sessions.update(id="ses-1", name="n", parent_id="fld-2")

    assert body(sent(patch))["data"] == [
        {"operation": "update", "attribute": "name", "newValue": "n"},
        {"operation": "update", "attribute": "parentId", "newValue": "fld-2"},
    ]


async def test_update_with_nothing_to_change_sends_no_patch(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    patch = api.patch(f"{SESSIONS}/ses-1").respond(204)
    api.get(f"{SESSIONS}/ses-1").respond(200, json=SESSION_JSON)

    found = await client.chat_sessions.update(id="ses-1")

    assert patch.call_count == 0
    assert found.id == "ses-1"


async def test_delete(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.delete(f"{SESSIONS}/ses-1").respond(204)

    assert await client.chat_sessions.delete(id="ses-1") is None
    assert_authorized(sent(route))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("get_by_id_empty", ValueError),
        ("get_by_id_int", pydantic.ValidationError),
        ("create_dict_missing_fields", pydantic.ValidationError),
        ("update_name_int", pydantic.ValidationError),
        ("delete_empty", ValueError),
        ("get_all_negative", ValueError),
        ("get_all_name_str_int", pydantic.ValidationError),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    client: AsyncAlbert, api: respx.MockRouter, call: str, error: type[Exception]
) -> None:
    catch_all = api.route().respond(200, json={})
    sessions = client.chat_sessions
    with pytest.raises(error):
        if call == "get_by_id_empty":
            await sessions.get_by_id(id="")
        elif call == "get_by_id_int":
            await sessions.get_by_id(id=12)  # type: ignore[arg-type]
        elif call == "create_dict_missing_fields":
            await sessions.create(session={"name": "x"})  # type: ignore[arg-type]
        elif call == "update_name_int":
            await sessions.update(id="a", name=3)  # type: ignore[arg-type]
        elif call == "delete_empty":
            await sessions.delete(id="")
        elif call == "get_all_negative":
            sessions.get_all(max_items=-1)
        elif call == "get_all_name_str_int":
            sessions.get_all(name=[1])  # type: ignore[list-item]
    assert catch_all.call_count == 0


async def test_batches_with_max_items_resume_without_loss_or_repeats(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    pages = {None: page(["a0", "a1", "a2"], "p2"), "p2": page(["b0", "b1", "b2"], None)}
    route = api.get(SESSIONS).mock(
        side_effect=lambda request: pages[request.url.params.get("startKey")]
    )

    got: list[str | None] = []
    key: str | None = None
    for _ in range(10):  # bounded: a resume bug must fail, not hang
        paginator = client.chat_sessions.get_all(max_items=2, start_key=key)
        got.extend([s.id async for s in paginator])
        if not paginator.has_more:
            break
        assert paginator.last_key is not None
        key = paginator.last_key

    assert got == ["a0", "a1", "a2", "b0", "b1", "b2"]
    # batch 1 reads page a (cut after a1); batch 2 re-reads a (a2) then b (cut after b0);
    # batch 3 re-reads b (b1, b2), the last page.
    resumed_in_b = [("startKey", "p2")]
    assert [query(c.request) for c in route.calls] == [[], [], resumed_in_b, resumed_in_b]


async def test_an_empty_page_with_a_key_ends_the_listing_with_no_key(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(side_effect=[page(["a"], "k1"), page([], "k2")])

    paginator = client.chat_sessions.get_all()
    assert [s.id async for s in paginator] == ["a"]
    assert paginator.has_more is False
    assert paginator.last_key is None


async def test_a_loop_left_inside_a_page_resumes_after_the_last_item_it_got(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    pages = {None: page(["a0", "a1", "a2"], "p2"), "p2": page(["b0", "b1"], None)}
    route = api.get(SESSIONS).mock(
        side_effect=lambda request: pages[request.url.params.get("startKey")]
    )

    async with client.chat_sessions.get_all() as paginator:
        async for session in paginator:
            if session.id == "a0":
                break
    assert paginator.has_more is True
    rest = client.chat_sessions.get_all(start_key=paginator.last_key)
    assert [s.id async for s in rest] == ["a1", "a2", "b0", "b1"]
    # the resume re-reads page a and skips a0, then reads page b
    assert [query(c.request) for c in route.calls] == [[], [], [("startKey", "p2")]]


async def test_a_loop_left_inside_the_last_page_still_has_more(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    pages = {None: page(["a0", "a1"], "p2"), "p2": page(["b0", "b1", "b2"], None)}
    api.get(SESSIONS).mock(side_effect=lambda request: pages[request.url.params.get("startKey")])

    got = []
    async with client.chat_sessions.get_all() as paginator:
        async for session in paginator:
            got.append(session.id)
            if session.id == "b1":
                break
    assert paginator.has_more is True
    rest = client.chat_sessions.get_all(start_key=paginator.last_key)
    assert [*got, *[s.id async for s in rest]] == ["a0", "a1", "b0", "b1", "b2"]
    assert rest.has_more is False
    assert rest.last_key is None


async def test_a_loop_left_at_the_end_of_a_page_keeps_the_server_key(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(side_effect=[page(["a0", "a1"], "p2"), page(["b0"], None)])

    async with client.chat_sessions.get_all() as paginator:
        async for session in paginator:
            if session.id == "a1":
                break
    assert paginator.has_more is True
    assert paginator.last_key == "p2"


async def test_pages_hand_out_whole_pages_so_last_key_is_the_servers(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(side_effect=[page(["a0", "a1"], "p2"), page(["b0"], None)])

    async with client.chat_sessions.get_all() as paginator:
        async for items in paginator.pages():
            assert [s.id for s in items] == ["a0", "a1"]
            break
    assert paginator.last_key == "p2"
