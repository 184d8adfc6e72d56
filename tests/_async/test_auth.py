"""Authentication managers on a client: token requests, caching, refresh, 401s, SSO, secrets."""

from __future__ import annotations

import logging
import webbrowser
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert import exceptions as exc
from albert._async.auth import AsyncTokenProvider
from albert.core.auth import LOGIN_PATH, REFRESH_PATH, TOKEN_PATH
from albert.resources.chats import ChatSession
from tests import auth_fakes as fake
from tests._async.helpers import BASE_URL, SESSIONS

SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
TOKEN_URL = BASE_URL + TOKEN_PATH
DEEP = b"[" * 100_000 + b"]" * 100_000
FOUND = httpx.Response(302, headers={"Location": "https://idp.test/authorize"})


def bearer(route: respx.Route) -> list[str]:
    return [call.request.headers["authorization"] for call in route.calls]


def provider_of(client: AsyncAlbert) -> AsyncTokenProvider:
    provider = client.session.token_provider
    assert provider is not None
    return provider


@pytest.fixture
async def cc_client(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert(auth_manager=fake.CREDENTIALS) as albert:
        yield albert


@pytest.fixture
def token_route(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_PATH).mock(side_effect=fake.TokenEndpoint())


@pytest.fixture
def session_route(api: respx.MockRouter) -> respx.Route:
    return api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)


# client credentials


async def test_the_token_is_fetched_once_with_the_client_credentials_form(
    api: respx.MockRouter, token_route: respx.Route, session_route: respx.Route
) -> None:
    headers = {"Authorization": "Bearer stale", "X-Team": "lab"}
    async with AsyncAlbert(auth_manager=fake.CREDENTIALS, headers=headers) as albert:
        for _ in range(3):
            await albert.chat_sessions.get_by_id(id="s1")
        await albert.with_options(max_retries=0).chat_sessions.get_by_id(id="s1")  # same cache

    [call] = token_route.calls
    assert (call.request.method, str(call.request.url)) == ("POST", TOKEN_URL)
    assert parse_qs(call.request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [fake.CLIENT_ID],
        "client_secret": [fake.CLIENT_SECRET],
    }
    sent = call.request.headers
    assert sent["content-type"] == "application/x-www-form-urlencoded"
    assert ("authorization" in sent, sent["x-team"]) == (False, "lab")
    assert sent["user-agent"].startswith("albert-chat-python/")
    assert bearer(session_route) == [f"Bearer {fake.access(1)}"] * 4


@pytest.mark.parametrize("second", [200, 401])
async def test_a_401_refreshes_the_token_once_and_retries_once(
    cc_client: AsyncAlbert, token_route: respx.Route, api: respx.MockRouter, second: int
) -> None:
    answers = [httpx.Response(401), httpx.Response(second, json=SESSION), httpx.Response(200)]
    route = api.get(f"{SESSIONS}/s1").mock(side_effect=answers)

    try:
        await cc_client.chat_sessions.get_by_id(id="s1")
    except exc.UnauthorizedError:
        assert second == 401  # the second 401 is raised, not refreshed again

    assert bearer(route) == [f"Bearer {fake.access(1)}", f"Bearer {fake.access(2)}"]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error_description": f"bad secret {fake.CLIENT_SECRET}"}),
        httpx.Response(403, text="<html>oops</html>"),
        httpx.Response(401, content=DEEP),
        httpx.Response(200, json={"access_token": "s3cr3t\r\nX-Evil: yes", "expires_in": 60}),
        httpx.Response(200, content=DEEP),
    ],
    ids=["refused", "html", "deep-error", "crlf-token", "deep-token"],
)
async def test_a_refused_or_unusable_token_answer_is_an_auth_error_not_retried(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    session_route: respx.Route,
    answer: httpx.Response,
) -> None:
    token_route = api.post(TOKEN_PATH).mock(return_value=answer)

    with pytest.raises(exc.AlbertAuthError) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert TOKEN_URL in str(caught.value)
    assert fake.SECRET_MARKER not in str(caught.value) + repr(caught.value)
    assert caught.value.__cause__ is None
    assert (token_route.call_count, session_route.call_count) == (1, 0)


@pytest.mark.parametrize(
    ("failure", "waits"),
    [
        (httpx.Response(503, content=DEEP), None),
        (httpx.Response(429, headers={"Retry-After": "7"}), [7.0]),
        (httpx.ReadTimeout("slow"), None),
    ],
    ids=["503", "429", "read-timeout"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_failed_token_request_is_retried_even_for_a_create(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    failure: httpx.Response | Exception,
    waits: list[float] | None,
    method: str,
) -> None:
    token_route = api.post(TOKEN_PATH).mock(side_effect=[failure, fake.TokenEndpoint()])
    if method == "GET":
        route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)
        await cc_client.chat_sessions.get_by_id(id="s1")
    else:
        route = api.post(SESSIONS).respond(200, json=SESSION)
        await cc_client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))

    assert token_route.call_count == 2
    assert bearer(route) == [f"Bearer {fake.access(1)}"]  # sent once
    assert len(sleeps) == 1
    assert sleeps == (waits or sleeps)
    assert f"retrying {method} {BASE_URL}{SESSIONS}" in caplog.text
    assert "after attempt 1: token request: " in caplog.text


ECHO = b'{"message": "down", "form": "client_secret=csecret\\u002ds3cr3t\\u002d9876"}'


@pytest.mark.parametrize(
    ("status", "headers", "raised", "text"),
    [
        (503, {}, exc.ServiceUnavailableError, "token request failed: down"),
        (200, {"Content-Encoding": "gzip"}, exc.AlbertConnectionError, "token request: POST"),
    ],
    ids=["503", "undecodable"],
)
@pytest.mark.usefixtures("sleeps")
async def test_a_token_request_that_keeps_failing_raises_what_failed(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    session_route: respx.Route,
    status: int,
    headers: dict[str, str],
    raised: type[Exception],
    text: str,
) -> None:
    headers = {**headers, "x-request-id": "r-4"}
    answer = lambda _: httpx.Response(status, headers=headers, content=ECHO)  # noqa: E731
    token_route = api.post(TOKEN_PATH).mock(side_effect=answer)

    with pytest.raises(raised) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert text in str(caught.value)
    assert caught.value.url == TOKEN_URL  # type: ignore[attr-defined]
    assert fake.SECRET_MARKER not in repr(caught.value) + repr(
        getattr(caught.value, "errors", None)
    )
    assert (token_route.call_count, session_route.call_count) == (4, 0)  # max_retries=3


@pytest.mark.usefixtures("token_route", "sleeps")
async def test_secrets_stay_out_of_reprs_errors_and_logs(
    cc_client: AsyncAlbert, api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"{SESSIONS}/s1").mock(side_effect=[httpx.Response(401), httpx.Response(503)] * 2)

    with (
        caplog.at_level(logging.DEBUG, logger="albert"),
        pytest.raises(exc.AlbertHTTPError) as caught,
    ):
        await cc_client.chat_sessions.get_by_id(id="s1")

    provider = provider_of(cc_client)
    for text in [repr(cc_client), repr(provider), str(provider.manager), repr(caught.value)]:
        assert fake.SECRET_MARKER not in text + caplog.text, text
    assert "refreshing the access token" in caplog.text
    assert f"POST {TOKEN_URL} -> 200" in caplog.text


# construction


async def test_the_client_and_its_manager_agree_on_the_server(api: respx.MockRouter) -> None:
    async with AsyncAlbert(auth_manager=fake.CREDENTIALS) as albert:
        assert albert.base_url == BASE_URL
    with pytest.raises(ValueError, match=r"elsewhere\.test") as caught:
        AsyncAlbert(base_url="https://elsewhere.test", auth_manager=fake.CREDENTIALS)
    assert fake.CLIENT_SECRET not in str(caught.value)
    with pytest.raises(ValueError, match="not both"):
        AsyncAlbert(base_url=BASE_URL, token="t", auth_manager=fake.CREDENTIALS)
    with pytest.raises(exc.AlbertAuthError, match=r"token=.*auth_manager=.*ALBERT_TOKEN"):
        AsyncAlbert(base_url=BASE_URL)


async def test_from_env_prefers_the_static_token_then_client_credentials(
    token_route: respx.Route, session_route: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", fake.CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", fake.CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_BASE_URL", BASE_URL)
    monkeypatch.setenv("ALBERT_TOKEN", "static-s3cr3t")
    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")
    monkeypatch.delenv("ALBERT_TOKEN")
    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")

    assert bearer(session_route) == ["Bearer static-s3cr3t", f"Bearer {fake.access(1)}"]


# SSO


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> fake.FakeBrowser:
    monkeypatch.setattr(webbrowser, "open", (browser := fake.FakeBrowser()).open)
    return browser


@pytest.fixture
async def albert(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert.from_sso(base_url=BASE_URL, email=fake.EMAIL) as client:
        yield client


async def test_sso_logs_in_through_the_browser_on_the_first_request(
    api: respx.MockRouter,
    browser: fake.FakeBrowser,
    session_route: respx.Route,
    albert: AsyncAlbert,
    caplog: pytest.LogCaptureFixture,
) -> None:
    email_check = api.get(LOGIN_PATH).mock(return_value=FOUND)
    refresh_route = api.post(REFRESH_PATH).mock(side_effect=(refresh := fake.SSORefreshEndpoint()))
    clock = provider_of(albert).clock = fake.FakeClock()

    with caplog.at_level(logging.DEBUG, logger="albert"):
        for advance in (0, 0, 3600):
            clock.advance(advance)
            await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert email_check.calls[0].request.url.params["email"] == fake.EMAIL
    assert browser.opened[0].startswith(BASE_URL + LOGIN_PATH + "?")
    query = browser.opened_query()
    assert (query["source"], query["email"], "tenantId" in query) == (["sdk"], [fake.EMAIL], False)
    assert 5000 <= int(query["port"][0]) < 5100
    assert len(query["state"][0]) >= 32
    [(status, page)] = browser.pages
    assert (status, "Login successful" in page) == (200, True)
    assert refresh.received == [fake.BROWSER_REFRESH, "refresh-s3cr3t-1"]  # rotated
    assert refresh_route.calls[0].request.headers["content-type"] == "application/json"
    assert bearer(session_route) == [f"Bearer {fake.jwt('TEN1', n)}" for n in (1, 1, 2)]
    assert provider_of(albert).manager.is_authenticated  # type: ignore[union-attr]
    assert "logged in" in caplog.text
    assert fake.SECRET_MARKER not in caplog.text + repr(provider_of(albert)) + page


async def test_sso_authenticate_takes_ports_and_a_tenant_that_clients_follow(
    api: respx.MockRouter,
    browser: fake.FakeBrowser,
    session_route: respx.Route,
    albert: AsyncAlbert,
    caplog: pytest.LogCaptureFixture,
) -> None:
    email_check = api.get(LOGIN_PATH).mock(return_value=FOUND)
    api.post(REFRESH_PATH).mock(side_effect=(refresh := fake.SSORefreshEndpoint(("TEN1", "TEN2"))))
    port = fake.free_port()

    with caplog.at_level(logging.WARNING, logger="albert"):
        await albert.chat_sessions.get_by_id(id="s1")  # the first tenant, with a warning
        async with AsyncAlbert(auth_manager=provider_of(albert).manager) as other:
            await provider_of(other).authenticate(tenant_id="ten2", minimum_port=port, timeout=9)
        await albert.chat_sessions.get_by_id(id="s1")  # follows the new login
    browser.join()

    assert email_check.calls[1].request.url.params["tenantId"] == "ten2"
    assert (browser.opened_query(1)["port"], browser.opened_query(1)["tenantId"]) == (
        [str(port)],
        ["ten2"],
    )
    assert bearer(session_route) == [
        f"Bearer {fake.jwt('TEN1', 1)}",
        f"Bearer {fake.jwt('TEN2', 2)}",
    ]
    assert len(refresh.received) == 2  # the other client's token was shared, not refetched
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "TEN1, TEN2" in warning


async def test_sso_retries_busy_exchanges_and_explains_refusals(
    api: respx.MockRouter, session_route: respx.Route, sleeps: list[float], albert: AsyncAlbert
) -> None:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(webbrowser, "open", (browser := fake.FakeBrowser()).open)
    check = api.get(LOGIN_PATH).mock(side_effect=[httpx.Response(404), httpx.Response(503), FOUND])
    refresh, refused = fake.SSORefreshEndpoint(), httpx.Response(401, json={"message": "expired"})
    api.post(REFRESH_PATH).mock(side_effect=[httpx.Response(502), refresh, refused])
    clock = provider_of(albert).clock = fake.FakeClock()

    with pytest.raises(exc.AlbertAuthError, match="no access"):
        await albert.chat_sessions.get_by_id(id="s1")
    assert browser.opened == []
    await albert.chat_sessions.get_by_id(id="s1")  # after a 503 and a 502, retried
    clock.advance(3600)
    with pytest.raises(exc.AlbertAuthError, match="log in again") as caught:
        await albert.chat_sessions.get_by_id(id="s1")
    browser.join()
    monkeypatch.undo()

    assert (check.call_count, len(sleeps), len(browser.opened)) == (3, 2, 1)
    assert refresh.received == [fake.BROWSER_REFRESH]  # the retry sent the same refresh token
    assert bearer(session_route) == [f"Bearer {fake.jwt('TEN1', 1)}"]
    assert f"{BASE_URL}{REFRESH_PATH} answered 401" in str(caught.value)
