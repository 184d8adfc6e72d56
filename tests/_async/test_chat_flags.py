"""Chat flags on the wire: enums travel as their values; listing returns a paginator."""

from __future__ import annotations

import httpx
import pydantic
import pytest
import respx

from albert import AsyncAlbert, AsyncAlbertPaginator
from albert.resources.chats import ChatComponentType, ChatFlagType
from tests._async.helpers import FLAGS, assert_authorized, query, sent

FLAG_PATH = "/api/v3/chats/sessions/ses-1/messages/req-1/flag"
FLAG = {
    "sourceRequestId": "req-1",
    "id": "msg-1",
    "parentId": "ses-1",
    "type": "starred",
    "componentType": "text",
    "sequence": "000",
    "starred": True,
}


def flag_page(ids: list[str], last_key: str | None) -> httpx.Response:
    data: dict[str, object] = {"Items": [{**FLAG, "id": i} for i in ids]}
    if last_key is not None:
        data["lastKey"] = last_key
    return httpx.Response(200, json=data)


async def test_get_all_returns_a_paginator_and_sends_nothing_before_iteration(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(FLAGS).mock(return_value=flag_page(["msg-1", "msg-2"], None))

    paginator = client.chat_flags.get_all(type=ChatFlagType.STARRED)

    assert isinstance(paginator, AsyncAlbertPaginator)
    assert route.call_count == 0  # nothing is sent before iteration
    assert paginator.has_more is True
    flags = [f async for f in paginator]
    assert_authorized(sent(route))
    assert route.call_count == 1
    assert [f.id for f in flags] == ["msg-1", "msg-2"]
    assert flags[0].type is ChatFlagType.STARRED
    assert flags[0].starred is True
    assert paginator.has_more is False
    assert paginator.last_key is None


async def test_get_all_sends_the_type_value_and_the_start_key_of_the_next_page(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(FLAGS).mock(
        side_effect=[flag_page(["msg-1"], "k1"), flag_page(["msg-2"], None)]
    )

    flags = [f async for f in client.chat_flags.get_all(type=ChatFlagType.HALLUCINATED)]

    assert [f.id for f in flags] == ["msg-1", "msg-2"]
    assert [(c.request.method, c.request.url.path) for c in route.calls] == [("GET", FLAGS)] * 2
    assert [query(c.request) for c in route.calls] == [
        [("type", "hallucinated")],
        [("type", "hallucinated"), ("startKey", "k1")],
    ]


async def test_get_all_pages_and_resume_from_a_start_key(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(FLAGS).mock(side_effect=[flag_page(["b", "c"], "k2"), flag_page(["d"], None)])

    paginator = client.chat_flags.get_all(type=ChatFlagType.STARRED, start_key="k1")
    pages = [[f.id for f in page] async for page in paginator.pages()]

    assert pages == [["b", "c"], ["d"]]
    assert [query(c.request) for c in route.calls] == [
        [("type", "starred"), ("startKey", "k1")],
        [("type", "starred"), ("startKey", "k2")],
    ]


@pytest.mark.parametrize(
    ("max_items", "ids", "calls"), [(0, [], 0), (2, ["a", "b"], 1), (3, ["a", "b", "c"], 2)]
)
async def test_get_all_max_items_never_requests_a_page_it_will_not_use(
    client: AsyncAlbert, api: respx.MockRouter, max_items: int, ids: list[str], calls: int
) -> None:
    route = api.get(FLAGS).mock(
        side_effect=[
            flag_page(["a", "b"], "k1"),
            flag_page(["c", "d"], "k2"),
            flag_page(["e"], None),
        ]
    )

    paginator = client.chat_flags.get_all(type=ChatFlagType.STARRED, max_items=max_items)

    assert [f.id async for f in paginator] == ids
    assert route.call_count == calls
    assert paginator.has_more is True


async def test_get_by_message(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(FLAG_PATH).respond(
        200, json={"sourceRequestId": "req-1", "total": 2, "flags": ["starred", "requested"]}
    )

    with_sequence = await client.chat_flags.get_by_message(
        session_id="ses-1", source_request_id="req-1", sequence="000"
    )
    without = await client.chat_flags.get_by_message(session_id="ses-1", source_request_id="req-1")

    assert query(route.calls[0].request) == [("sequence", "000")]
    assert query(route.calls[1].request) == []
    assert with_sequence == without
    assert with_sequence.flags == [ChatFlagType.STARRED, ChatFlagType.REQUESTED]
    assert with_sequence.total == 2


async def test_add_posts_the_query_and_returns_the_flag(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post(FLAG_PATH).respond(201, json=FLAG)

    flag = await client.chat_flags.add(
        session_id="ses-1",
        source_request_id="req-1",
        sequence="000",
        type=ChatFlagType.STARRED,
        component_type=ChatComponentType.TEXT,
    )

    assert_authorized(sent(route))
    assert sent(route).content == b""
    assert query(sent(route)) == [
        ("sequence", "000"),
        ("type", "starred"),
        ("componentType", "text"),
    ]
    assert flag.starred is True


async def test_remove_sends_the_same_query(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.delete(FLAG_PATH).respond(204)

    result = await client.chat_flags.remove(
        session_id="ses-1", source_request_id="req-1", sequence="001", type=ChatFlagType.DOWNLOADED
    )

    assert result is None
    assert query(sent(route)) == [("sequence", "001"), ("type", "downloaded")]


async def test_bad_arguments_fail_before_any_request(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    catch_all = api.route().respond(200, json={"Items": []})
    flags = client.chat_flags
    with pytest.raises(pydantic.ValidationError):
        flags.get_all(type="liked")  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        flags.get_all()  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        flags.get_all(type=ChatFlagType.STARRED, max_items="many")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_items"):
        flags.get_all(type=ChatFlagType.STARRED, max_items=-1)
    with pytest.raises(ValueError, match="start_key"):
        flags.get_all(type=ChatFlagType.STARRED, start_key="")
    with pytest.raises(ValueError, match="sequence"):
        await flags.add(
            session_id="s", source_request_id="r", sequence="", type=ChatFlagType.STARRED
        )
    assert catch_all.call_count == 0
