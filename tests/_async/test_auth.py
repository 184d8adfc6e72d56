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
from albert.core.auth_tokens import LOGIN_PATH, REFRESH_PATH, TOKEN_PATH
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


def bearer(route: respx.Route) -> list[str]:
    """Return the Authorization header of every request the route received."""
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
def clock(cc_client: AsyncAlbert) -> FakeClock:
    fake = FakeClock()
    provider_of(cc_client).clock = fake
    return fake


@pytest.fixture
def token_route(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_PATH).mock(side_effect=TokenEndpoint())


@pytest.fixture
def session_route(api: respx.MockRouter) -> respx.Route:
    return api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


# client credentials


async def test_the_token_request_posts_the_client_credentials_form(
    cc_client: AsyncAlbert, token_route: respx.Route, session_route: respx.Route
) -> None:
    await cc_client.chat_sessions.get_by_id(id="s1")

    request = token_route.calls[0].request
    assert request.method == "POST"
    assert str(request.url) == TOKEN_URL
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert "authorization" not in request.headers
    assert request.headers["user-agent"].startswith("albert-chat-python/")
    assert bearer(session_route) == [f"Bearer {access(1)}"]


async def test_the_token_is_fetched_once_and_reused(
    cc_client: AsyncAlbert, token_route: respx.Route, session_route: respx.Route
) -> None:
    for _ in range(5):
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert token_route.call_count == 1
    assert bearer(session_route) == [f"Bearer {access(1)}"] * 5


async def test_the_token_is_refreshed_a_minute_before_it_expires(
    cc_client: AsyncAlbert, clock: FakeClock, token_route: respx.Route, session_route: respx.Route
) -> None:
    await cc_client.chat_sessions.get_by_id(id="s1")
    clock.advance(3600 - 61)  # 61 s left: still good
    await cc_client.chat_sessions.get_by_id(id="s1")
    clock.advance(2)  # 59 s left: due
    await cc_client.chat_sessions.get_by_id(id="s1")
    await cc_client.chat_sessions.get_by_id(id="s1")

    assert token_route.call_count == 2
    assert bearer(session_route) == [
        f"Bearer {access(1)}",
        f"Bearer {access(1)}",
        f"Bearer {access(2)}",
        f"Bearer {access(2)}",
    ]


async def test_with_options_shares_the_token_cache(
    cc_client: AsyncAlbert, token_route: respx.Route, session_route: respx.Route
) -> None:
    quick = cc_client.with_options(max_retries=0, timeout=5.0)
    await cc_client.chat_sessions.get_by_id(id="s1")
    await quick.chat_sessions.get_by_id(id="s1")

    assert quick.session.token_provider is cc_client.session.token_provider
    assert token_route.call_count == 1


# 401 on an API call


async def test_a_401_refreshes_the_token_once_and_retries_once(
    cc_client: AsyncAlbert, token_route: respx.Route, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=SESSION)]
    )

    session = await cc_client.chat_sessions.get_by_id(id="s1")

    assert session.id == "s1"
    assert token_route.call_count == 2
    assert bearer(route) == [f"Bearer {access(1)}", f"Bearer {access(2)}"]
    assert sleeps == []  # a refresh is not a backoff


async def test_a_second_401_is_raised(
    cc_client: AsyncAlbert, token_route: respx.Route, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(401, json={"message": "no"})

    with pytest.raises(exc.UnauthorizedError):
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert route.call_count == 2
    assert token_route.call_count == 2


async def test_a_401_after_a_retried_failure_still_gets_its_one_refresh(
    cc_client: AsyncAlbert, token_route: respx.Route, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(401),
            httpx.Response(200, json=SESSION),
        ]
    )

    await cc_client.chat_sessions.get_by_id(id="s1")

    assert route.call_count == 3
    assert token_route.call_count == 2
    assert len(sleeps) == 1


async def test_a_401_whose_refresh_cannot_connect_ends_with_a_fresh_token(
    cc_client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    issue = TokenEndpoint()
    token_route = api.post(TOKEN_PATH).mock(
        side_effect=[issue, httpx.ConnectError("refused"), issue]
    )
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=lambda request: httpx.Response(
            401 if request.headers["authorization"] == f"Bearer {access(1)}" else 200,
            json=SESSION,
        )
    )

    session = await cc_client.chat_sessions.get_by_id(id="s1")

    assert session.id == "s1"
    assert token_route.call_count == 3
    assert bearer(route)[-1] == f"Bearer {access(2)}"
    assert len(sleeps) == 1  # the connect error of the refresh was retried once


async def test_a_401_after_a_successful_refresh_is_raised_not_refreshed_again(
    cc_client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    issue = TokenEndpoint()
    token_route = api.post(TOKEN_PATH).mock(
        side_effect=[issue, httpx.ConnectError("refused"), issue, issue]
    )
    route = api.get(f"{SESSIONS}/s1").respond(401, json={"message": "no"})

    with pytest.raises(exc.UnauthorizedError):
        await cc_client.chat_sessions.get_by_id(id="s1")

    assert token_route.call_count == 3  # one failed refresh, one that worked: no more
    assert bearer(route) == [f"Bearer {access(1)}", f"Bearer {access(1)}", f"Bearer {access(2)}"]


async def test_a_401_with_a_static_token_is_not_retried(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(401)

    with pytest.raises(exc.UnauthorizedError):
        await client.chat_sessions.get_by_id(id="s1")
    assert route.call_count == 1
    assert client.session.token_provider is None


# failures of the token request


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}),
        (400, {"message": "grant_type missing"}),
        (403, None),
    ],
)
async def test_a_refused_token_request_raises_an_auth_error(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    session_route: respx.Route,
    status: int,
    body: object,
) -> None:
    if body is None:
        api.post(TOKEN_PATH).respond(status, text="<html>oops</html>")
    else:
        api.post(TOKEN_PATH).respond(status, json=body)

    with pytest.raises(exc.AlbertAuthError) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    text = str(caught.value)
    assert TOKEN_URL in text
    assert str(status) in text
    assert CLIENT_SECRET not in text
    assert CLIENT_SECRET not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert session_route.call_count == 0


async def test_a_token_response_without_a_token_is_an_auth_error(
    cc_client: AsyncAlbert, api: respx.MockRouter, session_route: respx.Route
) -> None:
    api.post(TOKEN_PATH).respond(200, json={"access_token": access(1), "token_type": "Bearer"})

    with pytest.raises(exc.AlbertAuthError, match="expires_in") as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")
    assert access(1) not in str(caught.value)


async def test_an_unreachable_token_endpoint_is_retried_like_any_connect_error(
    cc_client: AsyncAlbert, api: respx.MockRouter, session_route: respx.Route, sleeps: list[float]
) -> None:
    route = api.post(TOKEN_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), TokenEndpoint()(httpx.Request("POST", "/"))]
    )

    await cc_client.chat_sessions.get_by_id(id="s1")

    assert route.call_count == 2
    assert len(sleeps) == 1
    assert bearer(session_route) == [f"Bearer {access(1)}"]


async def test_an_undecodable_token_response_is_a_connection_error(
    cc_client: AsyncAlbert, api: respx.MockRouter, session_route: respx.Route
) -> None:
    api.post(TOKEN_PATH).mock(
        side_effect=lambda request: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, content=b"not gzip at all"
        )
    )

    with pytest.raises(exc.AlbertConnectionError) as caught:
        await cc_client.with_options(max_retries=0).chat_sessions.get_by_id(id="s1")

    assert isinstance(caught.value.__cause__, httpx.DecodingError)
    assert caught.value.url == TOKEN_URL
    assert session_route.call_count == 0


@pytest.mark.parametrize(
    ("busy", "wait"),
    [
        (httpx.Response(503, text="<html>busy</html>"), None),
        (httpx.Response(429, headers={"Retry-After": "7"}), 7.0),
    ],
    ids=["503", "429"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_busy_token_endpoint_is_retried_even_for_a_create(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    busy: httpx.Response,
    wait: float | None,
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
    assert bearer(route) == [f"Bearer {access(1)}"]
    assert len(sleeps) == 1
    if wait is not None:
        assert sleeps == [wait]  # Retry-After


async def test_the_retry_log_names_the_call_waiting_for_the_token(
    cc_client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.post(TOKEN_PATH).mock(side_effect=[httpx.Response(503), TokenEndpoint()])
    api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)

    await cc_client.chat_sessions.get_by_id(id="s1")

    [retry] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert retry.startswith(f"retrying GET {BASE_URL}{SESSIONS}/s1 in ")
    assert retry.endswith("after attempt 1: token request: 503 server error")


async def test_a_read_timeout_on_the_token_request_lets_a_create_be_retried(
    cc_client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    token_route = api.post(TOKEN_PATH).mock(
        side_effect=[httpx.ReadTimeout("timed out"), TokenEndpoint()]
    )
    route = api.post(SESSIONS).respond(200, json=SESSION)

    await cc_client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))

    assert token_route.call_count == 2
    assert bearer(route) == [f"Bearer {access(1)}"]  # the create was sent once
    assert len(sleeps) == 1


async def test_a_token_endpoint_that_stays_down_raises_its_status_and_request_id(
    cc_client: AsyncAlbert, api: respx.MockRouter, session_route: respx.Route, sleeps: list[float]
) -> None:
    token_route = api.post(TOKEN_PATH).respond(
        503,
        json={"message": f"down; client_secret={CLIENT_SECRET}"},
        headers={"x-request-id": "req-42"},
    )

    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await cc_client.chat_sessions.get_by_id(id="s1")

    error = caught.value
    assert error.status_code == 503
    assert error.request_id == "req-42"
    assert error.method == "POST"
    assert error.url == TOKEN_URL
    assert "token request failed" in str(error)
    assert CLIENT_SECRET not in str(error)
    assert CLIENT_SECRET not in repr(error)
    assert token_route.call_count == 4  # the first try and max_retries=3
    assert len(sleeps) == 3
    assert session_route.call_count == 0


async def test_a_busy_sso_refresh_endpoint_is_retried_not_refused(
    api: respx.MockRouter, session_route: respx.Route, sleeps: list[float], albert: AsyncAlbert
) -> None:
    manager = provider_of(albert).manager
    assert isinstance(manager, AlbertSSOClient)
    manager._logged_in(BROWSER_REFRESH, None)  # as the browser login would
    refresh = SSORefreshEndpoint(single_use=True)
    api.post(REFRESH_PATH).mock(side_effect=[httpx.Response(502), refresh])

    await albert.chat_sessions.get_by_id(id="s1")

    assert refresh.received == [BROWSER_REFRESH]  # the retry sent the same refresh token
    assert bearer(session_route) == [f"Bearer {jwt('TEN1', 1)}"]
    assert len(sleeps) == 1


# secrets


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
    texts = [
        repr(cc_client),
        repr(cc_client.session),
        repr(provider),
        repr(provider.manager),
        str(provider.manager),
        str(caught.value),
        repr(caught.value),
        caplog.text,
        *(record.getMessage() for record in caplog.records),
    ]
    for text in texts:
        assert SECRET_MARKER not in text, text
    assert any("refreshing the access token" in r.getMessage() for r in caplog.records)
    assert any(TOKEN_URL in r.getMessage() for r in caplog.records)


# construction


async def test_the_client_takes_the_managers_base_url(api: respx.MockRouter) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)

    async with AsyncAlbert(auth_manager=credentials) as albert:
        assert albert.base_url == BASE_URL
    async with AsyncAlbert(base_url=BASE_URL + "/", auth_manager=credentials) as albert:
        assert albert.base_url == BASE_URL


async def test_a_manager_for_another_server_is_refused(api: respx.MockRouter) -> None:
    credentials = AlbertClientCredentials(
        id=CLIENT_ID, secret=CLIENT_SECRET, base_url="https://elsewhere.test"
    )

    with pytest.raises(ValueError, match=r"elsewhere\.test") as caught:
        AsyncAlbert(base_url=BASE_URL, auth_manager=credentials)
    assert CLIENT_SECRET not in str(caught.value)


async def test_token_requests_leave_out_the_api_only_headers(
    api: respx.MockRouter, token_route: respx.Route, session_route: respx.Route
) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)
    headers = {"Authorization": "Bearer stale", "X-Team": "lab"}

    async with AsyncAlbert(auth_manager=credentials, headers=headers) as albert:
        await albert.chat_sessions.get_by_id(id="s1")

    token_request = token_route.calls[0].request
    assert "authorization" not in token_request.headers
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_request.headers["x-team"] == "lab"
    assert bearer(session_route) == [f"Bearer {access(1)}"]


async def test_token_and_manager_together_are_refused(api: respx.MockRouter) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)

    with pytest.raises(ValueError, match="not both"):
        AsyncAlbert(base_url=BASE_URL, token="t", auth_manager=credentials)


async def test_a_session_with_an_auth_manager_beside_it_is_refused(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    credentials = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)

    with pytest.raises(ValueError, match="auth_manager"):
        AsyncAlbert(session=client.session, auth_manager=credentials)


async def test_without_credentials_the_error_names_every_way_to_give_them(
    api: respx.MockRouter,
) -> None:
    with pytest.raises(exc.AlbertAuthError) as caught:
        AsyncAlbert(base_url=BASE_URL)

    for name in ("token=", "auth_manager=", "ALBERT_TOKEN"):
        assert name in str(caught.value)


async def test_from_env_prefers_the_static_token(
    api: respx.MockRouter, session_route: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALBERT_TOKEN", "static-s3cr3t")
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_BASE_URL", BASE_URL)

    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")
        assert albert.session.token_provider is None
    assert bearer(session_route) == ["Bearer static-s3cr3t"]


async def test_from_env_falls_back_to_client_credentials(
    api: respx.MockRouter,
    token_route: respx.Route,
    session_route: respx.Route,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_BASE_URL", BASE_URL)

    async with AsyncAlbert.from_env() as albert:
        await albert.chat_sessions.get_by_id(id="s1")
        assert isinstance(provider_of(albert).manager, AlbertClientCredentials)
    assert bearer(session_route) == [f"Bearer {access(1)}"]


async def test_from_env_without_credentials_lists_the_variables(api: respx.MockRouter) -> None:
    with pytest.raises(exc.AlbertAuthError) as caught:
        AsyncAlbert.from_env()

    for name in ("ALBERT_TOKEN", "ALBERT_CLIENT_ID", "ALBERT_CLIENT_SECRET"):
        assert name in str(caught.value)


# SSO


@pytest.fixture
async def albert(api: respx.MockRouter) -> AsyncIterator[AsyncAlbert]:
    """A client that logs in with SSO."""
    async with AsyncAlbert.from_sso(base_url=BASE_URL, email=EMAIL) as client:
        yield client


@pytest.fixture
def email_check(api: respx.MockRouter) -> respx.Route:
    return api.get(LOGIN_PATH).respond(302, headers={"Location": "https://idp.test/authorize"})


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

    provider = provider_of(albert)
    clock = FakeClock()
    provider.clock = clock
    with caplog.at_level(logging.DEBUG, logger="albert"):
        await albert.chat_sessions.get_by_id(id="s1")
        await albert.chat_sessions.get_by_id(id="s1")
        clock.advance(3600)
        await albert.chat_sessions.get_by_id(id="s1")
    manager = provider.manager
    browser.join()

    assert email_check.call_count == 1
    assert email_check.calls[0].request.url.params["email"] == EMAIL
    assert len(browser.opened) == 1
    assert browser.opened[0].startswith(BASE_URL + LOGIN_PATH + "?")
    query = browser.opened_query()
    assert query["source"] == ["sdk"]
    assert query["email"] == [EMAIL]
    assert 5000 <= int(query["port"][0]) < 5100
    assert "tenantId" not in query
    assert len(browser.pages) == 1
    status, page = browser.pages[0]
    assert status == 200
    assert "Login successful" in page
    assert SECRET_MARKER not in page
    assert refresh.received == [BROWSER_REFRESH, "refresh-s3cr3t-1"]  # rotated
    assert refresh_route.calls[0].request.headers["content-type"] == "application/json"
    assert bearer(session_route) == [
        f"Bearer {jwt('TEN1', 1)}",
        f"Bearer {jwt('TEN1', 1)}",
        f"Bearer {jwt('TEN1', 2)}",
    ]
    assert isinstance(manager, AlbertSSOClient)
    assert manager.is_authenticated
    assert SECRET_MARKER not in repr(manager)
    assert any("logged in" in r.getMessage() for r in caplog.records)
    assert SECRET_MARKER not in caplog.text


async def test_sso_authenticate_uses_the_given_port_range_and_tenant(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    caplog: pytest.LogCaptureFixture,
    albert: AsyncAlbert,
) -> None:
    refresh = SSORefreshEndpoint(tenants=("TEN1", "TEN2"))
    api.post(REFRESH_PATH).mock(side_effect=refresh)
    port = free_port()

    with caplog.at_level(logging.WARNING, logger="albert"):
        await provider_of(albert).authenticate(
            tenant_id="ten2", minimum_port=port, maximum_port=port, timeout=10
        )
        await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert email_check.calls[0].request.url.params["tenantId"] == "ten2"
    assert browser.opened_query()["port"] == [str(port)]
    assert browser.opened_query()["tenantId"] == ["ten2"]
    assert refresh.received == [BROWSER_REFRESH]  # authenticate() fetched the first token
    assert bearer(session_route) == [f"Bearer {jwt('TEN2', 1)}"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_sso_with_several_tenants_and_no_choice_warns_once(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    caplog: pytest.LogCaptureFixture,
    albert: AsyncAlbert,
) -> None:
    api.post(REFRESH_PATH).mock(side_effect=SSORefreshEndpoint(tenants=("TEN1", "TEN2")))

    clock = FakeClock()
    provider_of(albert).clock = clock
    with caplog.at_level(logging.WARNING, logger="albert"):
        await provider_of(albert).authenticate(minimum_port=free_port(), timeout=10)
        clock.advance(3600)
        await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "TEN1, TEN2" in warnings[0]
    assert "tenant_id" in warnings[0]
    assert bearer(session_route) == [f"Bearer {jwt('TEN1', 2)}"]  # the same tenant after refresh


async def test_sso_clients_follow_a_new_login_to_another_tenant(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    session_route: respx.Route,
    albert: AsyncAlbert,
) -> None:
    refresh = SSORefreshEndpoint(tenants=("TEN1", "TEN2"))
    api.post(REFRESH_PATH).mock(side_effect=refresh)
    manager = provider_of(albert).manager

    await albert.chat_sessions.get_by_id(id="s1")  # logs in: the first tenant
    async with AsyncAlbert(auth_manager=manager) as other:
        await provider_of(other).authenticate(tenant_id="ten2", minimum_port=free_port())
    await albert.chat_sessions.get_by_id(id="s1")  # its cached token was for TEN1
    browser.join()

    assert bearer(session_route) == [f"Bearer {jwt('TEN1', 1)}", f"Bearer {jwt('TEN2', 2)}"]
    assert len(refresh.received) == 2  # the second client's token was shared, not refetched


async def test_sso_refuses_an_email_without_access(
    api: respx.MockRouter,
    browser: FakeBrowser,
    session_route: respx.Route,
    albert: AsyncAlbert,
) -> None:
    api.get(LOGIN_PATH).respond(404)

    with pytest.raises(exc.AlbertAuthError, match="no access"):
        await albert.chat_sessions.get_by_id(id="s1")

    assert browser.opened == []
    assert session_route.call_count == 0


async def test_sso_retries_an_email_check_the_server_could_not_answer(
    api: respx.MockRouter,
    browser: FakeBrowser,
    session_route: respx.Route,
    sleeps: list[float],
    albert: AsyncAlbert,
) -> None:
    check = api.get(LOGIN_PATH).mock(
        side_effect=[
            httpx.Response(503, json={"message": "try later"}),
            httpx.Response(302, headers={"Location": "https://idp.test/authorize"}),
        ]
    )
    api.post(REFRESH_PATH).mock(side_effect=SSORefreshEndpoint())

    await albert.chat_sessions.get_by_id(id="s1")
    browser.join()

    assert check.call_count == 2
    assert len(sleeps) == 1  # one retry, after a wait
    assert len(browser.opened) == 1
    assert session_route.call_count == 1


async def test_sso_times_out_when_the_browser_never_comes_back(
    api: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    email_check: respx.Route,
    albert: AsyncAlbert,
) -> None:
    idle = FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)

    with pytest.raises(exc.AlbertAuthError, match="timed out"):
        await provider_of(albert).authenticate(minimum_port=free_port(), timeout=0.2)
    manager = provider_of(albert).manager
    assert isinstance(manager, AlbertSSOClient)
    assert not manager.is_authenticated
    assert len(idle.opened) == 1


async def test_sso_fails_when_the_callback_carries_no_token(
    api: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    email_check: respx.Route,
    albert: AsyncAlbert,
) -> None:
    denied = FakeBrowser(query="error=access_denied")
    monkeypatch.setattr(webbrowser, "open", denied.open)

    with pytest.raises(exc.AlbertAuthError, match="without a token"):
        await provider_of(albert).authenticate(minimum_port=free_port(), timeout=10)
    denied.join()

    assert len(denied.pages) == 1
    status, page = denied.pages[0]
    assert status == 400
    assert "Login failed" in page


async def test_sso_refused_refresh_token_asks_to_log_in_again(
    api: respx.MockRouter,
    browser: FakeBrowser,
    email_check: respx.Route,
    albert: AsyncAlbert,
) -> None:
    api.post(REFRESH_PATH).respond(401, json={"message": "refresh token expired"})

    with pytest.raises(exc.AlbertAuthError) as caught:
        await provider_of(albert).authenticate(minimum_port=free_port(), timeout=10)
    browser.join()

    text = str(caught.value)
    assert BASE_URL + REFRESH_PATH in text
    assert "401" in text
    assert "log in again" in text
    assert BROWSER_REFRESH not in text
