"""Chat flags on the wire: enums travel as their values."""

from __future__ import annotations

import httpx
import pydantic
import pytest
import respx

from albert import AsyncAlbert
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


async def test_get_all_sends_the_type_value(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(FLAGS).respond(200, json={"Items": [FLAG, {**FLAG, "id": "msg-2"}]})

    flags = await client.chat_flags.get_all(type=ChatFlagType.STARRED)

    assert_authorized(sent(route))
    assert query(sent(route)) == [("type", "starred")]
    assert [f.id for f in flags] == ["msg-1", "msg-2"]
    assert flags[0].type is ChatFlagType.STARRED
    assert flags[0].starred is True


async def test_get_all_follows_further_pages(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(FLAGS).mock(
        side_effect=[
            httpx.Response(200, json={"Items": [FLAG], "lastKey": "k"}),
            httpx.Response(200, json={"Items": [{**FLAG, "id": "msg-2"}]}),
        ]
    )

    flags = await client.chat_flags.get_all(type=ChatFlagType.HALLUCINATED)

    assert [f.id for f in flags] == ["msg-1", "msg-2"]
    assert query(route.calls[1].request) == [("type", "hallucinated"), ("startKey", "k")]


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


async def test_bad_flag_type_fails_before_any_request(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    catch_all = api.route().respond(200, json={"Items": []})
    with pytest.raises(pydantic.ValidationError):
        await client.chat_flags.get_all(type="liked")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sequence"):
        await client.chat_flags.add(
            session_id="s", source_request_id="r", sequence="", type=ChatFlagType.STARRED
        )
    assert catch_all.call_count == 0
