"""Authentication end to end: static tokens, client credentials, and the SSO browser login."""

from __future__ import annotations

import threading
import webbrowser

import anyio
import httpx
import pytest

from albert import Albert, AlbertSSOClient, AsyncAlbert
from albert.exceptions import AlbertAuthError, UnauthorizedError
from albert.resources.chats import ChatSession
from albert.testing import LocalAlbert


def test_a_wrong_static_token_is_a_401(server: LocalAlbert) -> None:
    with (
        Albert(base_url=server.base_url, token="wrong") as client,
        pytest.raises(UnauthorizedError) as raised,
    ):
        list(client.chat_sessions.get_all())
    assert "wrong" not in str(raised.value)


def test_client_credentials() -> None:
    with LocalAlbert(client_credentials={"svc": "s3cret"}) as server:
        with Albert.from_client_credentials(
            base_url=server.base_url, client_id="svc", client_secret="s3cret"
        ) as client:
            session = client.chat_sessions.create(
                session=ChatSession(name="cc", source_session_id="c")
            )
        assert session.model_extra is not None
        assert session.model_extra["createdBy"] == "svc"
        with (
            Albert.from_client_credentials(
                base_url=server.base_url, client_id="svc", client_secret="nope"
            ) as client,
            pytest.raises(AlbertAuthError),
        ):
            list(client.chat_sessions.get_all())


async def test_the_default_client_credentials_async() -> None:
    with LocalAlbert() as server:  # given no credentials, it makes a client of its own
        [(client_id, secret)] = server.client_credentials.items()
        async with AsyncAlbert.from_client_credentials(
            base_url=server.base_url, client_id=client_id, client_secret=secret
        ) as client:
            assert [s async for s in client.chat_sessions.get_all()] == []


class Browser:
    """Opens a login page by following its redirects, in a thread, like a browser would."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.landed: list[httpx.Response] = []

    def open(self, url: str, *args: object, **kwargs: object) -> bool:
        def visit() -> None:
            self.landed.append(httpx.get(url, follow_redirects=True, timeout=10))

        thread = threading.Thread(target=visit)
        thread.start()
        self.threads.append(thread)
        return True

    def join(self) -> None:
        for thread in self.threads:
            thread.join(10)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    fake = Browser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


def test_one_sso_login_serves_both_clients(server: LocalAlbert, browser: Browser) -> None:
    sso = AlbertSSOClient(email="ada@example.com", base_url=server.base_url)
    with Albert(auth_manager=sso.authenticate(timeout=5)) as client:
        session = client.chat_sessions.create(
            session=ChatSession(name="sso", source_session_id="s")
        )

    async def listing() -> list[str | None]:
        async with AsyncAlbert(auth_manager=sso) as aclient:
            return [s.id async for s in aclient.chat_sessions.get_all()]

    assert anyio.run(listing) == [session.id]
    browser.join()
    assert session.model_extra is not None
    assert session.model_extra["createdBy"] == "ada@example.com"
    [page] = browser.landed  # one login for both
    assert (page.status_code, "Login successful" in page.text) == (200, True)
