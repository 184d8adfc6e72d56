"""Awaiting an async paginator collects the listing into a list, as in the published package."""

from __future__ import annotations

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert.resources.chats import ChatFlag, ChatFlagType
from tests._async.helpers import BASE_URL, FLAGS, SESSIONS, TOKEN

FLAG = {"sourceRequestId": "r", "parentId": "ses-1", "type": "starred", "sequence": "000"}


@pytest.mark.anyio
async def test_await_collects_every_page_into_a_list() -> None:
    with respx.mock(base_url=BASE_URL, assert_all_mocked=True) as api:
        route = api.get(FLAGS).mock(
            side_effect=[
                httpx.Response(200, json={"Items": [{**FLAG, "id": "m1"}], "lastKey": "k1"}),
                httpx.Response(200, json={"Items": [{**FLAG, "id": "m2"}]}),
            ]
        )
        sessions = api.get(SESSIONS).respond(
            200, json={"Items": [{"id": "s", "name": "n", "sourceSessionId": "x"}] * 3}
        )
        async with AsyncAlbert(base_url=BASE_URL, token=TOKEN) as client:
            starred = await client.chat_flags.get_all(type=ChatFlagType.STARRED)
            two = await client.chat_sessions.get_all(max_items=2)

    assert isinstance(starred, list)
    assert all(isinstance(flag, ChatFlag) for flag in starred)
    assert [flag.id for flag in starred] == ["m1", "m2"]
    assert route.call_count == 2
    assert len(two) == 2
    assert sessions.call_count == 1
