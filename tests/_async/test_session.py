"""The session's HTTP client: the one it makes, or the one it is given."""

from __future__ import annotations

import httpx
import respx

from albert import AsyncAlbert
from tests._async.helpers import BASE_URL, SESSIONS, TOKEN, assert_authorized

SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
DEFAULT_TIMEOUT = {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}


async def test_the_client_it_makes_sends_the_headers_and_the_timeout(
    api: respx.MockRouter,
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)

    async with AsyncAlbert(base_url=BASE_URL, token=TOKEN, headers={"X-Team": "lab"}) as albert:
        await albert.chat_sessions.get_by_id(id="s1")

    request = route.calls[0].request
    assert_authorized(request)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-team"] == "lab"
    assert request.extensions["timeout"] == DEFAULT_TIMEOUT


async def test_the_client_it_makes_sends_the_token_to_the_api_only(
    api: respx.MockRouter,
) -> None:
    api_route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)
    elsewhere = api.get("https://files.example.com/report.pdf").respond(200, content=b"%PDF")

    async with AsyncAlbert(base_url=BASE_URL, token=TOKEN, headers={"X-Team": "lab"}) as albert:
        await albert.chat_sessions.get_by_id(id="s1")
        await albert.session.http_client.get("https://files.example.com/report.pdf")

    assert_authorized(api_route.calls[0].request)
    request = elsewhere.calls[0].request
    assert "authorization" not in request.headers
    assert "content-type" not in request.headers
    assert request.headers["x-team"] == "lab"
    assert request.headers["user-agent"].startswith("albert-chat-python/")


async def test_a_given_client_keeps_its_headers_and_gets_the_sdks(api: respx.MockRouter) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)

    async with httpx.AsyncClient(headers={"X-Trace": "abc"}, timeout=1.0) as http:
        albert = AsyncAlbert(base_url=BASE_URL, token=TOKEN, http_client=http)
        await albert.chat_sessions.get_by_id(id="s1")
        await albert.with_options(timeout=5.0).chat_sessions.get_by_id(id="s1")
        await albert.aclose()
        assert not http.is_closed  # a given client is the caller's to close

    first, second = (call.request for call in route.calls)
    assert_authorized(first)
    assert first.headers["x-trace"] == "abc"
    assert first.extensions["timeout"] == DEFAULT_TIMEOUT  # the session's, not the client's
    assert second.extensions["timeout"]["read"] == 5.0


async def test_a_timeout_set_on_the_session_later_is_used(api: respx.MockRouter) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)

    async with AsyncAlbert(base_url=BASE_URL, token=TOKEN) as albert:
        albert.session.timeout = httpx.Timeout(3.0)
        await albert.chat_sessions.get_by_id(id="s1")

    assert route.calls[0].request.extensions["timeout"]["read"] == 3.0
