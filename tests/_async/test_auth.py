"""Authentication managers on a client: token requests, caching, refresh, 401s, SSO, secrets."""

from __future__ import annotations

import logging
import webbrowser
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from albert import AlbertClientCredentials, AlbertSSOClient, AsyncAlbert
from albert import exceptions as exc
from albert._async.auth import AsyncTokenProvider
from albert.core.auth import LOGIN_PATH, REFRESH_PATH, TOKEN_PATH
from albert.resources.chats import ChatSession
from tests._async.helpers import BASE_URL, SESSIONS
from tests.auth_fakes import (
    BROWSER_REFRESH,
    CLIENT_ID,
    CLIENT_SECRET,
    EMAIL,
    SECRET_MARKER,
    FakeBrowser,
    FakeClock,
    SSORefreshEndpoint,
    TokenEndpoint,
    access,
    free_port,
    jwt,
)

SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
TOKEN_URL = BASE_URL + TOKEN_PATH
DEEP = b"[" * 100_000 + b"]" * 100_000


def bearer(route: respx.Route) -> list[str]:
    return [call.request.headers["authorization"] for call in route.calls]


def provider_of(client: AsyncAlbert) -> AsyncTokenProvider:
    provider = client.session.token_provider
    assert provider is not None
    return provider


@pytest.fixture
async def cc_client(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert.from_client_credentials(
        base_url=BASE_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    ) as albert:
        yield albert


@pytest.fixture
def token_route(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_PATH).mock(side_effect=TokenEndpoint())


@pytest.fixture
def session_route(api: respx.MockRouter) -> respx.Route:
    return api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)


# client credentials


async def test_the_token_is_fetched_once_with_the_client_credentials_form(
    api: respx.MockRouter, token_route: respx.Route, session_route: respx.Route
) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)
    headers = {"Authorization": "Bearer stale", "X-Team": "lab"}
    async with AsyncAlbert(auth_manager=credentials, headers=headers) as albert:
        for _ in range(3):
            await albert.chat_sessions.get_by_id(id="s1")
        quick = albert.with_options(max_retries=0, timeout=5.0)
        await quick.chat_sessions.get_by_id(id="s1")  # shares the token cache

    request = token_route.calls[0].request
    assert (request.method, str(request.url)) == ("POST", TOKEN_URL)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert "authorization" not in request.headers
    assert request.headers["x-team"] == "lab"
    assert request.headers["user-agent"].startswith("albert-chat-python/")
    assert token_route.call_count == 1
    assert bearer(session_route) == [f"Bearer {access(1)}"] * 4


async def test_the_token_is_refreshed_a_minute_before_it_expires(
    cc_client: AsyncAlbert, token_route: respx.Route, session_route: respx.Route
) -> None:
    clock = provider_of(cc_client).clock = FakeClock()
    await cc_client.chat_sessions.get_by_id(id="s1")
    clock.advance(3600 - 61)  # 61 s left: still good
    await cc_client.chat_sessions.get_by_id(id="s1")
    clock.advance(2)  # 59 s left: due
    await cc_client.chat_sessions.get_by_id(id="s1")

    assert bearer(session_route) == [f"Bearer {access(n)}" for n in (1, 1, 2)]


@pytest.mark.parametrize("second", [200, 401])
async def test_a_401_refreshes_the_token_once_and_retries_once(
    cc_client: AsyncAlbert,
    token_route: respx.Route,
    api: respx.MockRouter,
    sleeps: list[float],
    second: int,
) -> None:
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(401), httpx.Response(second, json=SESSION)]
    )

    if second == 401:
        with pytest.raises(exc.UnauthorizedError):
            await cc_client.chat_sessions.get_by_id(id="s1")
    else:
        assert (await cc_client.chat_sessions.get_by_id(id="s1")).id == "s1"

    assert bearer(route) == [f"Bearer {access(1)}", f"Bearer {access(2)}"]
    assert sleeps == []  # a refresh is not a backoff


async def test_a_401_whose_refresh_cannot_connect_is_retried_to_a_fresh_token(
    cc_client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    issue = TokenEndpoint()
    token_route = api.post(TOKEN_PATH).mock(side_effect=[issue, httpx.ConnectError("no"), issue])
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=lambda request: httpx.Response(
            401 if request.headers["authorization"] == f"Bearer {access(1)}" else 200,
            json=SESSION,
        )
    )

    assert (await cc_client.chat_sessions.get_by_id(id="s1")).id == "s1"

    assert token_route.call_count == 3
    assert bearer(route)[-1] == f"Bearer {access(2)}"
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}),
        (403, "<html>oops</html>"),
        (401, DEEP),
        (200, {"access_token": "s3cr3t\r\nX-Evil: yes", "expires_in": 60}),
        (200, DEEP),
    ],
    ids=["refused", "html", "deep-error", "crlf-token", "deep-token"],
)
async def test_a_refused_or_unusable_token_answer_is_an_auth_error_not_retried(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    session_route: respx.Route,
    status: int,
    body: object,
) -> None:
    content = body if isinstance(body, bytes) else str(body).encode()
    token_route = api.post(TOKEN_PATH).mock(
        return_value=httpx.Response(status, json=body)
        if isinstance(body, dict)
        else httpx.Response(status, content=content)
    )

    with pytest.raises(exc.AlbertAuthError) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert TOKEN_URL in str(caught.value)
    assert SECRET_MARKER not in str(caught.value) + repr(caught.value)
    assert caught.value.__cause__ is None
    assert token_route.call_count == 1
    assert session_route.call_count == 0


@pytest.mark.parametrize(
    ("busy", "waits"),
    [
        (httpx.Response(503, content=DEEP), None),
        (httpx.Response(429, headers={"Retry-After": "7"}), [7.0]),
    ],
    ids=["503", "429"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_busy_token_endpoint_is_retried_even_for_a_create(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    busy: httpx.Response,
    waits: list[float] | None,
    method: str,
) -> None:
    token_route = api.post(TOKEN_PATH).mock(side_effect=[busy, TokenEndpoint()])
    if method == "GET":
        route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)
        await cc_client.chat_sessions.get_by_id(id="s1")
    else:
        route = api.post(SESSIONS).respond(200, json=SESSION)
        await cc_client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))

    assert token_route.call_count == 2
    assert bearer(route) == [f"Bearer {access(1)}"]  # sent once
    assert len(sleeps) == 1
    assert sleeps == (waits or sleeps)
    [retry] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert f"retrying {method} {BASE_URL}{SESSIONS}" in retry
    assert "after attempt 1: token request: " in retry


async def test_a_read_timeout_on_the_token_request_lets_a_create_be_retried(
    cc_client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.post(TOKEN_PATH).mock(side_effect=[httpx.ReadTimeout("slow"), TokenEndpoint()])
    route = api.post(SESSIONS).respond(200, json=SESSION)

    await cc_client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))

    assert bearer(route) == [f"Bearer {access(1)}"]
    assert len(sleeps) == 1


async def test_a_token_endpoint_that_stays_down_raises_its_status_without_the_secret(
    cc_client: AsyncAlbert, api: respx.MockRouter, session_route: respx.Route, sleeps: list[float]
) -> None:
    echo = b'{"message": "down", "form": "client_secret=csecret\\u002ds3cr3t\\u002d9876"}'
    token_route = api.post(TOKEN_PATH).respond(503, content=echo, headers={"x-request-id": "r-42"})

    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    error = caught.value
    assert (error.status_code, error.request_id, error.method, error.url) == (
        503,
        "r-42",
        "POST",
        TOKEN_URL,
    )
    assert "token request failed: down" in str(error)
    assert SECRET_MARKER not in str(error) + repr(error) + repr(error.errors)
    assert token_route.call_count == 4  # the first try and max_retries=3
    assert session_route.call_count == 0


async def test_an_undecodable_token_response_is_a_connection_error(
    cc_client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.post(TOKEN_PATH).mock(
        side_effect=lambda _: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, content=b"not gzip"
        )
    )

    with pytest.raises(exc.AlbertConnectionError) as caught:
        await cc_client.with_options(max_retries=0).chat_sessions.get_by_id(id="s1")

    assert isinstance(caught.value.__cause__, httpx.DecodingError)
    assert str(caught.value).startswith(f"token request: POST {TOKEN_URL} failed")


async def test_secrets_stay_out_of_reprs_errors_and_logs(
    cc_client: AsyncAlbert,
    token_route: respx.Route,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(401), httpx.Response(503), httpx.Response(200, json=SESSION)]
    )
    api.get(f"{SESSIONS}/s2").respond(401, json={"message": "expired"})

    with caplog.at_level(logging.DEBUG, logger="albert"):
        await cc_client.chat_sessions.get_by_id(id="s1")
        with pytest.raises(exc.UnauthorizedError) as caught:
            await cc_client.chat_sessions.get_by_id(id="s2")

    provider = provider_of(cc_client)
    texts = [repr(cc_client), repr(provider), str(provider.manager), str(caught.value)]
    for text in [*texts, repr(caught.value), caplog.text]:
        assert SECRET_MARKER not in text, text
    assert "refreshing the access token" in caplog.text
    assert f"POST {TOKEN_URL} -> 200" in caplog.text


# construction


async def test_the_client_and_its_manager_agree_on_the_server(api: respx.MockRouter) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)

    async with AsyncAlbert(auth_manager=credentials) as albert:
        assert albert.base_url == BASE_URL
    with pytest.raises(ValueError, match=r"elsewhere\.test") as caught:
        AsyncAlbert(base_url="https://elsewhere.test", auth_manager=credentials)
    assert CLIENT_SECRET not in str(caught.value)
    with pytest.raises(ValueError, match="not both"):
        AsyncAlbert(base_url=BASE_URL, token="t", auth_manager=credentials)
    with pytest.raises(exc.AlbertAuthError, match=r"token=.*auth_manager=.*ALBERT_TOKEN"):
        AsyncAlbert(base_url=BASE_URL)


async def test_from_env_prefers_the_static_token_then_client_credentials(
    api: respx.MockRouter,
    token_route: respx.Route,
    session_route: respx.Route,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_BASE_URL", BASE_URL)
    monkeypatch.setenv("ALBERT_TOKEN", "static-s3cr3t")
    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")
    monkeypatch.delenv("ALBERT_TOKEN")
    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")

    assert bearer(session_route) == ["Bearer static-s3cr3t", f"Bearer {access(1)}"]


# SSO


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


@pytest.fixture
def email_check(api: respx.MockRouter) -> respx.Route:
    return api.get(LOGIN_PATH).respond(302, headers={"Location": "https://idp.test/authorize"})


@pytest.fixture
async def albert(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    async with AsyncAlbert.from_sso(base_url=BASE_URL, email=EMAIL) as client:
        yield client


async def test_sso_logs_in_through_the_browser_on_the_first_request(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    albert: AsyncAlbert,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refresh = SSORefreshEndpoint()
    refresh_route = api.post(REFRESH_PATH).mock(side_effect=refresh)
    clock = provider_of(albert).clock = FakeClock()

    with caplog.at_level(logging.DEBUG, logger="albert"):
        await albert.chat_sessions.get_by_id(id="s1")
        await albert.chat_sessions.get_by_id(id="s1")
        clock.advance(3600)
        await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert email_check.calls[0].request.url.params["email"] == EMAIL
    [opened] = browser.opened
    assert opened.startswith(BASE_URL + LOGIN_PATH + "?")
    query = browser.opened_query()
    assert (query["source"], query["email"]) == (["sdk"], [EMAIL])
    assert 5000 <= int(query["port"][0]) < 5100
    assert len(query["state"][0]) >= 32
    assert "tenantId" not in query
    [(status, page)] = browser.pages
    assert status == 200
    assert "Login successful" in page
    assert refresh.received == [BROWSER_REFRESH, "refresh-s3cr3t-1"]  # rotated
    assert refresh_route.calls[0].request.headers["content-type"] == "application/json"
    assert bearer(session_route) == [f"Bearer {jwt('TEN1', n)}" for n in (1, 1, 2)]
    manager = provider_of(albert).manager
    assert isinstance(manager, AlbertSSOClient)
    assert manager.is_authenticated
    assert "logged in" in caplog.text
    assert SECRET_MARKER not in caplog.text + repr(manager) + page


async def test_sso_authenticate_takes_ports_and_a_tenant_that_clients_follow(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    albert: AsyncAlbert,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refresh = SSORefreshEndpoint(tenants=("TEN1", "TEN2"))
    api.post(REFRESH_PATH).mock(side_effect=refresh)
    port = free_port()

    with caplog.at_level(logging.WARNING, logger="albert"):
        await albert.chat_sessions.get_by_id(id="s1")  # logs in: the first tenant, with a warning
        async with AsyncAlbert(auth_manager=provider_of(albert).manager) as other:
            await provider_of(other).authenticate(
                tenant_id="ten2", minimum_port=port, maximum_port=port, timeout=10
            )
        await albert.chat_sessions.get_by_id(id="s1")  # follows the new login
    browser.join()

    assert email_check.calls[1].request.url.params["tenantId"] == "ten2"
    assert browser.opened_query(1)["port"] == [str(port)]
    assert browser.opened_query(1)["tenantId"] == ["ten2"]
    assert bearer(session_route) == [f"Bearer {jwt('TEN1', 1)}", f"Bearer {jwt('TEN2', 2)}"]
    assert len(refresh.received) == 2  # the second client's token was shared, not refetched
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "TEN1, TEN2" in warning


async def test_sso_refuses_an_email_without_access_and_retries_a_busy_check(
    api: respx.MockRouter,
    browser: FakeBrowser,
    session_route: respx.Route,
    sleeps: list[float],
    albert: AsyncAlbert,
) -> None:
    check = api.get(LOGIN_PATH).mock(
        side_effect=[
            httpx.Response(404),
            httpx.Response(503, json={"message": "try later"}),
            httpx.Response(302, headers={"Location": "https://idp.test/authorize"}),
        ]
    )
    api.post(REFRESH_PATH).mock(side_effect=SSORefreshEndpoint())

    with pytest.raises(exc.AlbertAuthError, match="no access"):
        await albert.chat_sessions.get_by_id(id="s1")
    assert browser.opened == []
    await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert check.call_count == 3
    assert len(sleeps) == 1
    assert len(browser.opened) == 1
    assert session_route.call_count == 1


async def test_sso_retries_a_busy_refresh_with_the_same_token_and_asks_to_log_in_when_refused(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    sleeps: list[float],
    albert: AsyncAlbert,
) -> None:
    refresh = SSORefreshEndpoint()
    api.post(REFRESH_PATH).mock(
        side_effect=[httpx.Response(502), refresh, httpx.Response(401, json={"message": "expired"})]
    )
    clock = provider_of(albert).clock = FakeClock()

    await albert.chat_sessions.get_by_id(id="s1")
    clock.advance(3600)
    with pytest.raises(exc.AlbertAuthError) as caught:
        await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert refresh.received == [BROWSER_REFRESH]  # the retry sent the same refresh token
    assert bearer(session_route) == [f"Bearer {jwt('TEN1', 1)}"]
    assert len(sleeps) == 1
    text = str(caught.value)
    assert f"{BASE_URL}{REFRESH_PATH} answered 401" in text
    assert "log in again" in text
    assert SECRET_MARKER not in text
