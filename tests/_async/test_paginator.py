"""The paginator as an iterator: next item, close, a loop that goes on, its repr, loops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert.exceptions import AlbertDecodeError, ServiceUnavailableError
from tests._async.helpers import SESSIONS, query

SESSION = {"name": "n", "sourceSessionId": "s"}


def page(ids: list[str], last_key: str | None) -> httpx.Response:
    data: dict[str, object] = {"Items": [{**SESSION, "id": i} for i in ids]}
    if last_key is not None:
        data["lastKey"] = last_key
    return httpx.Response(200, json=data)


THREE_PAGES = [page(["a", "b"], "k1"), page(["c", "d"], "k2"), page(["e"], None)]


async def test_anext_hands_out_items_across_pages_and_a_loop_goes_on_from_there(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(side_effect=THREE_PAGES)
    paginator = client.chat_sessions.get_all()
    assert isinstance(paginator, AsyncIterator)

    first = await anext(paginator)
    second = await paginator.__anext__()
    rest = [s.id async for s in paginator]

    assert (first.id, second.id, rest) == ("a", "b", ["c", "d", "e"])
    assert route.call_count == 3
    with pytest.raises(StopAsyncIteration):  # an iterator that ended stays ended
        await anext(paginator)
    assert route.call_count == 3


async def test_each_loop_without_anext_starts_over(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(side_effect=[*THREE_PAGES, *THREE_PAGES])
    paginator = client.chat_sessions.get_all()

    assert [s.id async for s in paginator] == ["a", "b", "c", "d", "e"]
    assert [s.id async for s in paginator] == ["a", "b", "c", "d", "e"]
    assert [query(c.request) for c in route.calls][3] == []  # from the start again


async def test_aclose_ends_the_iteration_and_requests_nothing_more(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(SESSIONS).mock(side_effect=THREE_PAGES)
    paginator = client.chat_sessions.get_all()

    assert (await anext(paginator)).id == "a"
    await paginator.aclose()

    with pytest.raises(StopAsyncIteration):
        await anext(paginator)
    assert route.call_count == 1
    assert paginator.has_more is True
    assert paginator.last_key is not None  # resumes after "a"
    await paginator.aclose()  # twice is fine


async def test_a_failed_page_ends_the_iteration_and_last_key_resumes_after_the_last_item(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(
        side_effect=[page(["a", "b"], "k1"), httpx.Response(503, json={"message": "busy"})]
    )
    paginator = client.with_options(max_retries=0).chat_sessions.get_all()

    got = [(await anext(paginator)).id, (await anext(paginator)).id]
    with pytest.raises(ServiceUnavailableError):
        await anext(paginator)
    with pytest.raises(StopAsyncIteration):
        await anext(paginator)
    assert got == ["a", "b"]
    assert paginator.last_key == "k1"


async def test_the_repr_says_what_is_listed_and_how_far_it_got(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(side_effect=THREE_PAGES)
    paginator = client.chat_sessions.get_all()
    name = type(paginator).__name__

    assert repr(paginator) == f"<{name} of ChatSession: not started>"
    await anext(paginator)
    assert repr(paginator) == f"<{name} of ChatSession: 1 item in 1 page, more>"
    [s async for s in paginator]
    assert repr(paginator) == f"<{name} of ChatSession: 5 items in 3 pages, done>"


@pytest.mark.parametrize(
    ("start_key", "pages"),
    [
        (None, [page(["a"], "k1"), page(["b"], "k2"), page(["c"], "k1")]),
        ("k0", [page(["a"], "k0")]),  # hands back the key it was asked with
    ],
)
async def test_a_server_that_hands_back_a_key_it_gave_raises_instead_of_looping(
    client: AsyncAlbert,
    api: respx.MockRouter,
    start_key: str | None,
    pages: list[httpx.Response],
) -> None:
    route = api.get(SESSIONS).mock(side_effect=[*pages, page(["never"], None)])
    got: list[str | None] = []

    with pytest.raises(AlbertDecodeError, match=r"lastKey 'k[01]'.*already had") as caught:
        async for session in client.chat_sessions.get_all(start_key=start_key):
            got.append(session.id)

    assert got == ["a", "b"][: len(pages) - 1]
    assert route.call_count == len(pages)
    assert caught.value.status_code == 200


async def test_a_repeated_key_on_an_empty_last_page_just_ends_the_listing(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(SESSIONS).mock(side_effect=[page(["a"], "k1"), page([], "k1")])

    assert [s.id async for s in client.chat_sessions.get_all()] == ["a"]
