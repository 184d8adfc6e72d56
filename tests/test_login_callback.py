"""The SSO callback server, and the blocking ``AlbertSSOClient.authenticate()`` built on it."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Iterator

import pytest
import respx

from albert import Albert, AlbertSSOClient
from albert._backends.login_callback import LoginCallbackServer
from albert.core.auth_tokens import LOGIN_PATH, REFRESH_PATH
from albert.exceptions import AlbertAuthError
from tests.auth_fakes import (
    BROWSER_REFRESH,
    EMAIL,
    SECRET_MARKER,
    FakeBrowser,
    SSORefreshEndpoint,
    free_port,
    jwt,
)

BASE_URL = "https://albert.test"
LOGIN_URL = "https://albert.test/api/v3/login?source=sdk"


def login_url(server: LoginCallbackServer) -> str:
    return f"{LOGIN_URL}&email=a%40b.c&port={server.port}"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_the_server_takes_the_first_free_port_and_returns_the_token(
    browser: FakeBrowser, taken_port: int
) -> None:
    server = LoginCallbackServer(minimum_port=taken_port, maximum_port=taken_port + 20)

    assert server.port > taken_port
    assert server.wait_for_token(login_url(server), timeout=10) == BROWSER_REFRESH
    browser.join()
    assert browser.opened == [login_url(server)]
    assert browser.pages[0][0] == 200
    assert "Login successful" in browser.pages[0][1]


def test_every_port_taken_is_an_auth_error(taken_port: int) -> None:
    with pytest.raises(AlbertAuthError, match=f"no free port on 127.0.0.1 between {taken_port}"):
        LoginCallbackServer(minimum_port=taken_port, maximum_port=taken_port)


@pytest.mark.parametrize(("low", "high"), [(0, None), (6000, 5999), (70000, None)])
def test_a_port_range_that_is_not_one_is_refused(low: int, high: int | None) -> None:
    with pytest.raises(ValueError, match="port"):
        LoginCallbackServer(minimum_port=low, maximum_port=high)


def test_the_server_listens_on_loopback_only() -> None:
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)
    try:
        assert server._server.server_address[0] == "127.0.0.1"
    finally:
        server.close()


def test_other_paths_get_404_and_the_wait_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    stray = FakeBrowser(path="/favicon.ico")
    login = FakeBrowser(delay=0.2)

    def open_both(url: str, new: int = 0, autoraise: bool = True) -> bool:
        stray.open(url)
        return login.open(url)

    monkeypatch.setattr(webbrowser, "open", open_both)
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)

    assert server.wait_for_token(login_url(server), timeout=10) == BROWSER_REFRESH
    stray.join()
    login.join()
    assert [status for status, _ in stray.pages] == [404]
    assert [status for status, _ in login.pages] == [200]


def test_a_callback_without_token_fails_with_a_failure_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    denied = FakeBrowser(query="error=access_denied")
    monkeypatch.setattr(webbrowser, "open", denied.open)
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)

    with pytest.raises(AlbertAuthError, match="without a token"):
        server.wait_for_token(login_url(server), timeout=10)
    denied.join()
    assert denied.pages[0][0] == 400
    assert "Login failed" in denied.pages[0][1]


def test_the_wait_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    idle = FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)

    with pytest.raises(AlbertAuthError, match=r"timed out.*within 0\.1 s"):
        server.wait_for_token(login_url(server), timeout=0.1)


def test_stop_ends_the_wait_from_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    idle = FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)
    threading.Timer(0.1, server.stop).start()

    with pytest.raises(AlbertAuthError, match="stopped"):
        server.wait_for_token(login_url(server), timeout=10)


def test_without_a_browser_the_url_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0, autoraise=True: False)
    server = LoginCallbackServer(minimum_port=free_port(), maximum_port=None)

    with pytest.raises(AlbertAuthError, match="timed out"):
        server.wait_for_token(login_url(server), timeout=0.05)
    assert any(login_url(server) in r.getMessage() for r in caplog.records)


def test_the_port_is_free_again_after_a_login(browser: FakeBrowser) -> None:
    port = free_port()
    first = LoginCallbackServer(minimum_port=port, maximum_port=port)
    first.wait_for_token(login_url(first), timeout=10)
    browser.join()

    second = LoginCallbackServer(minimum_port=port, maximum_port=port)
    second.close()


# the blocking authenticate() of the manager


def test_authenticate_logs_in_and_the_client_uses_the_token(browser: FakeBrowser) -> None:
    refresh = SSORefreshEndpoint()
    with respx.mock(base_url=BASE_URL, assert_all_mocked=True) as api:
        check = api.get(LOGIN_PATH).respond(302)
        api.post(REFRESH_PATH).mock(side_effect=refresh)
        calls = api.get("/api/v3/chats/sessions/s1").respond(
            200, json={"id": "s1", "name": "n", "sourceSessionId": "src"}
        )
        sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
        port = free_port()

        assert sso.authenticate(tenant_id="TEN1", minimum_port=port, timeout=10) is sso
        browser.join()
        with Albert(auth_manager=sso) as client:
            client.chat_sessions.get_by_id(id="s1")

    assert sso.is_authenticated
    assert check.calls[0].request.url.params["tenantId"] == "TEN1"
    assert browser.opened_query()["port"] == [str(port)]
    assert refresh.received == [BROWSER_REFRESH]  # the client reused the first token
    assert calls.calls[0].request.headers["authorization"] == f"Bearer {jwt('TEN1', 1)}"
    assert SECRET_MARKER not in repr(sso)
