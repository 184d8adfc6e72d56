"""Token refresh under concurrency, and an event loop that stays free during authentication.

These tests are written per variant, not once under tests/_async, because
unasync cannot generate them: 100 concurrent calls need an anyio task group
(which has no sync twin), 32 threads on one client have no async twin, and
the heartbeat tests measure an event loop, which the sync variant does not
have. Both variants use ``httpx.MockTransport`` so that the token endpoint can
take real (short) time: the async handler awaits ``anyio.sleep``, which keeps
the loop free, unlike respx answering from a thread.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import signal
import threading
import time
import webbrowser
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx
from pydantic import SecretStr

from albert import Albert, AlbertClientCredentials, AlbertSSOClient, AsyncAlbert
from albert._async.auth import AsyncTokenProvider
from albert._backends.login_callback import LoginCallbackServer
from albert._sync.auth import TokenProvider
from albert.core.auth_tokens import (
    LOGIN_PATH,
    REFRESH_PATH,
    TOKEN_PATH,
    AccessToken,
    SSOTenantToken,
)
from albert.exceptions import AlbertAuthError, AlbertTimeoutError, ServiceUnavailableError
from tests.auth_fakes import (
    BROWSER_REFRESH,
    CLIENT_ID,
    CLIENT_SECRET,
    EMAIL,
    FakeBrowser,
    FakeClock,
    SSORefreshEndpoint,
    TokenEndpoint,
    access,
    free_port,
    jwt,
)

BASE_URL = "https://albert.test"
SESSION_PATH = "/api/v3/chats/sessions/s1"
SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
CREDENTIALS = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)


class Recorder:
    """What reached the fake API: token requests and the bearer of every API call."""

    def __init__(self) -> None:
        self.tokens = TokenEndpoint()
        self.bearers: list[str] = []
        self.lock = threading.Lock()

    def api_call(self, request: httpx.Request, *, reject: str | None = None) -> httpx.Response:
        bearer = request.headers["authorization"]
        with self.lock:
            self.bearers.append(bearer)
        if reject is not None and bearer == f"Bearer {reject}":
            return httpx.Response(401, json={"message": "token revoked"})
        return httpx.Response(200, json=SESSION)


def async_client(handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> AsyncAlbert:
    transport = httpx.MockTransport(handler)
    return AsyncAlbert(auth_manager=CREDENTIALS, http_client=httpx.AsyncClient(transport=transport))


def sync_client(handler: Callable[[httpx.Request], httpx.Response]) -> Albert:
    return Albert(
        auth_manager=CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def async_provider(client: AsyncAlbert) -> AsyncTokenProvider:
    provider = client.session.token_provider
    assert provider is not None
    return provider


def sync_provider(client: Albert) -> TokenProvider:
    provider = client.session.token_provider
    assert provider is not None
    return provider


# async: 100 tasks


@pytest.mark.parametrize("warm", [False, True], ids=["first-token", "at-expiry"])
async def test_100_concurrent_calls_share_one_token_request(warm: bool) -> None:
    seen = Recorder()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            await anyio.sleep(0.05)  # the fetch is in flight while the others arrive
            return seen.tokens(request)
        await anyio.lowlevel.checkpoint()
        return seen.api_call(request)

    client = async_client(handler)
    clock = FakeClock()
    async_provider(client).clock = clock
    if warm:
        await client.chat_sessions.get_by_id(id="s1")
        clock.advance(3600)  # expired
        seen.bearers.clear()

    async with anyio.create_task_group() as tasks:
        for _ in range(100):
            tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
    await client.aclose()

    expected = 2 if warm else 1
    assert seen.tokens.issued == expected
    assert seen.bearers == [f"Bearer {access(expected)}"] * 100


async def test_100_concurrent_401s_share_one_refresh() -> None:
    seen = Recorder()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            await anyio.sleep(0.02)
            return seen.tokens(request)
        await anyio.sleep(0.01)
        return seen.api_call(request, reject=access(1))

    client = async_client(handler)
    await async_provider(client).get_token()  # everybody starts with token 1

    async with anyio.create_task_group() as tasks:
        for _ in range(100):
            tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
    await client.aclose()

    assert seen.tokens.issued == 2
    assert sorted(set(seen.bearers)) == [f"Bearer {access(1)}", f"Bearer {access(2)}"]
    assert seen.bearers.count(f"Bearer {access(2)}") == 100


# sync: 32 threads


def _run_in_threads(count: int, work: Callable[[], object]) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


@pytest.mark.parametrize("warm", [False, True], ids=["first-token", "at-expiry"])
def test_32_threads_share_one_token_request(warm: bool) -> None:
    seen = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            time.sleep(0.05)  # the fetch is in flight while the other threads arrive
            return seen.tokens(request)
        return seen.api_call(request)

    with sync_client(handler) as client:
        clock = FakeClock()
        sync_provider(client).clock = clock
        if warm:
            client.chat_sessions.get_by_id(id="s1")
            clock.advance(3600)
            seen.bearers.clear()
        _run_in_threads(32, lambda: client.chat_sessions.get_by_id(id="s1"))

    expected = 2 if warm else 1
    assert seen.tokens.issued == expected
    assert seen.bearers == [f"Bearer {access(expected)}"] * 32


def test_32_threads_hit_by_401_share_one_refresh() -> None:
    seen = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            time.sleep(0.02)
            return seen.tokens(request)
        return seen.api_call(request, reject=access(1))

    with sync_client(handler) as client:
        sync_provider(client).get_token()
        _run_in_threads(32, lambda: client.chat_sessions.get_by_id(id="s1"))

    assert seen.tokens.issued == 2
    assert seen.bearers.count(f"Bearer {access(2)}") == 32


# async: the event loop keeps running


async def _heartbeat_while(work: Callable[[], Awaitable[object]]) -> tuple[list[float], float]:
    """Run ``work`` beside a task that ticks every 10 ms.

    Returns the gaps between ticks, from a tick before ``work`` started to a
    tick after it ended (so a stall anywhere in between shows), and how long
    ``work`` took.
    """
    ticks: list[float] = []
    done = anyio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            ticks.append(time.monotonic())
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(heartbeat)
        await anyio.sleep(0.03)
        started = time.monotonic()
        await work()
        ended = time.monotonic()
        await anyio.sleep(0.03)  # a tick after the work, to close the last gap
        done.set()
    # From the last tick before the work to the first after it: a fixed margin
    # around the work would lose those ticks on a machine slow enough to tick late.
    before = [t for t in ticks if t <= started]
    after = [t for t in ticks if t >= ended]
    assert before, "the heartbeat never ticked before the work"
    assert after, "the heartbeat never ticked after the work"
    window = [before[-1], *(t for t in ticks if started < t < ended), after[0]]
    return [later - earlier for earlier, later in itertools.pairwise(window)], ended - started


async def test_the_event_loop_keeps_running_during_a_slow_token_request() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            await anyio.sleep(0.3)
            return TokenEndpoint()(request)
        return httpx.Response(200, json=SESSION)

    client = async_client(handler)
    gaps, elapsed = await _heartbeat_while(lambda: client.chat_sessions.get_by_id(id="s1"))
    await client.aclose()

    assert elapsed >= 0.3
    assert len(gaps) >= 25
    assert max(gaps) < 0.05, max(gaps)


async def test_the_event_loop_keeps_running_while_waiting_for_the_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = FakeBrowser(delay=0.3)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGIN_PATH:
            return httpx.Response(302, headers={"Location": "https://idp.test/"})
        if request.url.path == REFRESH_PATH:
            return refresh(request)
        return httpx.Response(200, json=SESSION)

    client = AsyncAlbert(
        auth_manager=AlbertSSOClient(email=EMAIL, base_url=BASE_URL),
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    gaps, elapsed = await _heartbeat_while(lambda: client.chat_sessions.get_by_id(id="s1"))
    await client.aclose()
    browser.join()

    assert browser.pages[0][0] == 200
    assert elapsed >= 0.3
    assert max(gaps) < 0.05, max(gaps)


# a failed fetch is shared, not repeated by every waiting caller


def _failing_token_endpoint(counter: list[int]) -> httpx.Response:
    counter.append(1)
    return httpx.Response(503, text="<html>down</html>")


async def test_callers_waiting_on_a_failed_token_request_share_its_error() -> None:
    attempts: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            await anyio.sleep(0.05)
            return _failing_token_endpoint(attempts)
        return httpx.Response(200, json=SESSION)

    client = async_client(handler)
    once = client.with_options(max_retries=0)  # the retries of a 503 are not the point here
    errors: list[Exception] = []

    async def call() -> None:
        try:
            await once.chat_sessions.get_by_id(id="s1")
        except ServiceUnavailableError as error:
            errors.append(error)

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(call)
    assert len(attempts) == 1
    assert len(errors) == 20
    assert errors[0].status_code == 503

    with pytest.raises(ServiceUnavailableError):  # a later call tries again
        await once.chat_sessions.get_by_id(id="s1")
    assert len(attempts) == 2
    await client.aclose()


def test_threads_waiting_on_a_failed_token_request_share_its_error() -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            time.sleep(0.2)  # long enough for every thread to queue behind it
            return _failing_token_endpoint(attempts)
        return httpx.Response(200, json=SESSION)

    errors: list[Exception] = []

    def call() -> None:
        try:
            client.with_options(max_retries=0).chat_sessions.get_by_id(id="s1")
        except ServiceUnavailableError as error:
            errors.append(error)

    with sync_client(handler) as client:
        _run_in_threads(16, call)

    assert len(attempts) == 1
    assert len(errors) == 16


# one SSO manager shared by several clients: its refresh token is accepted once


def _logged_in_sso() -> AlbertSSOClient:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in(BROWSER_REFRESH, None)  # as the browser login would
    return sso


async def test_async_clients_sharing_an_sso_manager_share_one_refresh() -> None:
    refresh = SSORefreshEndpoint(single_use=True)
    bearers: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.05)  # in flight while the other clients need a token
            return refresh(request)
        bearers.append(request.headers["authorization"])
        return httpx.Response(200, json=SESSION)

    sso = _logged_in_sso()
    clients = [
        AsyncAlbert(
            auth_manager=sso, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
        )
        for _ in range(4)
    ]
    async with anyio.create_task_group() as tasks:
        for client in clients:
            tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
    for client in clients:
        await client.aclose()

    assert refresh.received == [BROWSER_REFRESH]
    assert bearers == [f"Bearer {jwt('TEN1', 1)}"] * 4


def test_threads_with_clients_sharing_an_sso_manager_share_one_refresh() -> None:
    refresh = SSORefreshEndpoint(single_use=True)
    seen = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            time.sleep(0.05)  # in flight while the other threads need a token
            return refresh(request)
        return seen.api_call(request)

    sso = _logged_in_sso()

    def work() -> None:
        transport = httpx.MockTransport(handler)
        with Albert(auth_manager=sso, http_client=httpx.Client(transport=transport)) as client:
            client.chat_sessions.get_by_id(id="s1")

    _run_in_threads(8, work)

    assert refresh.received == [BROWSER_REFRESH]
    assert seen.bearers == [f"Bearer {jwt('TEN1', 1)}"] * 8


async def test_sso_clients_hit_by_401_share_one_refresh_of_the_manager() -> None:
    refresh = SSORefreshEndpoint(single_use=True)
    seen = Recorder()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.05)
            return refresh(request)
        await anyio.sleep(0.01)
        return seen.api_call(request, reject=jwt("TEN1", 1))

    sso = _logged_in_sso()
    clients = [
        AsyncAlbert(
            auth_manager=sso, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
        )
        for _ in range(4)
    ]
    for client in clients:
        await async_provider(client).get_token()  # every client starts with the same token
    seen.bearers.clear()
    async with anyio.create_task_group() as tasks:
        for client in clients:
            tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
    for client in clients:
        await client.aclose()

    assert refresh.received == [BROWSER_REFRESH, "refresh-s3cr3t-1"]
    assert seen.bearers.count(f"Bearer {jwt('TEN1', 2)}") == 4


# a cancelled login does not leave its server behind


async def test_a_cancelled_browser_login_frees_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    idle = FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://idp.test/"})

    client = AsyncAlbert(
        auth_manager=AlbertSSOClient(email=EMAIL, base_url=BASE_URL),
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    port = free_port()
    with anyio.move_on_after(0.2) as scope:
        await async_provider(client).authenticate(minimum_port=port, maximum_port=port, timeout=30)
    await client.aclose()

    assert scope.cancelled_caught
    assert len(idle.opened) == 1
    # The abandoned worker thread notices within a poll (50 ms) and closes the server.
    for _ in range(40):
        try:
            LoginCallbackServer(minimum_port=port, maximum_port=port).close()
            break
        except AlbertAuthError:
            await anyio.sleep(0.025)
    else:
        pytest.fail(f"port {port} is still taken a second after the login was cancelled")


async def test_a_refresh_another_client_never_finishes_is_taken_over_after_its_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A claim whose work was lost (its event loop closed while it was
    # pending) must not keep every client of the manager out for good.
    refresh = SSORefreshEndpoint(single_use=True)
    sso = _logged_in_sso()
    lost = sso._claim_refresh(object(), rejected=None, now=0.0, lasts_at_most=0.1)  # never ends
    assert lost is not None
    client = _async_sso_client(sso, _sso_handler(refresh), max_retries=0)
    with anyio.fail_after(5):
        assert (await client.chat_sessions.get_by_id(id="s1")).id == "s1"
    await client.aclose()

    assert refresh.received == [BROWSER_REFRESH]
    assert "presuming it lost" in caplog.text


async def test_a_sync_client_does_not_block_the_loop_refreshing_for_it() -> None:
    # A notebook: the kernel's event loop runs an AsyncAlbert task while a cell
    # calls an Albert sharing its AlbertSSOClient, on the same thread. Waiting
    # would block the loop that must finish the refresh: it fails at once.

    refresh = SSORefreshEndpoint(single_use=True)

    async def async_handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.2)
            return refresh(request)
        return httpx.Response(200, json=SESSION)

    def sync_handler(request: httpx.Request) -> httpx.Response:
        return refresh(request) if request.url.path == REFRESH_PATH else httpx.Response(200)

    sso = _logged_in_sso()
    async_albert = AsyncAlbert(
        auth_manager=sso,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(async_handler)),
    )
    sync_albert = Albert(
        auth_manager=sso, http_client=httpx.Client(transport=httpx.MockTransport(sync_handler))
    )
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(functools.partial(async_albert.chat_sessions.get_by_id, id="s1"))
        await anyio.sleep(0.05)  # its refresh is under way
        started = time.monotonic()
        with pytest.raises(AlbertAuthError, match="cannot wait for it here"):
            sync_albert.chat_sessions.get_by_id(id="s1")
        assert time.monotonic() - started < 1.0
    await async_albert.aclose()
    sync_albert.close()
    assert refresh.received == [BROWSER_REFRESH]  # the async client's refresh went through


def _sso_handler(refresh: SSORefreshEndpoint) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGIN_PATH:
            return httpx.Response(302, headers={"Location": "https://idp.test/"})
        if request.url.path == REFRESH_PATH:
            return refresh(request)
        return httpx.Response(200, json=SESSION)

    return handler


async def test_clients_sharing_a_manager_not_logged_in_open_one_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = FakeBrowser(delay=0.2)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint(single_use=True)
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    clients = [_async_sso_client(sso, _sso_handler(refresh)) for _ in range(3)]
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for client in clients:
                tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
    for client in clients:
        await client.aclose()
    browser.join()

    assert len(browser.opened) == 1
    assert refresh.received == [BROWSER_REFRESH]


def test_threads_sharing_a_manager_not_logged_in_open_one_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = FakeBrowser(delay=0.2)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint(single_use=True)
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)

    def work() -> None:
        transport = httpx.MockTransport(_sso_handler(refresh))
        with Albert(auth_manager=sso, http_client=httpx.Client(transport=transport)) as client:
            client.chat_sessions.get_by_id(id="s1")

    _run_in_threads(4, work)
    browser.join()

    assert len(browser.opened) == 1
    assert refresh.received == [BROWSER_REFRESH]


async def test_when_the_shared_login_fails_the_waiting_clients_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albert._async import auth as async_auth

    monkeypatch.setattr(async_auth, "DEFAULT_LOGIN_TIMEOUT", 0.3)
    browser = FakeBrowser(visit=False)  # nobody logs in
    monkeypatch.setattr(webbrowser, "open", browser.open)
    handler = _sso_handler(SSORefreshEndpoint())
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    clients = [_async_sso_client(sso, handler, max_retries=0) for _ in range(3)]
    errors: list[str] = []

    async def call(client: AsyncAlbert) -> None:
        try:
            await client.chat_sessions.get_by_id(id="s1")
        except AlbertAuthError as exc:
            errors.append(str(exc))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for client in clients:
                tasks.start_soon(call, client)
    for client in clients:
        await client.aclose()

    assert len(browser.opened) == 1
    assert len(errors) == 3
    assert sum("did not complete" in error for error in errors) == 2


def _async_sso_client(
    sso: AlbertSSOClient, handler: Callable[[httpx.Request], httpx.Response], **options: object
) -> AsyncAlbert:
    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    transport = httpx.MockTransport(async_handler)
    return AsyncAlbert(
        auth_manager=sso,
        http_client=httpx.AsyncClient(transport=transport),
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("authenticate_first", [True, False])
async def test_an_explicit_login_and_a_first_request_open_one_browser(
    monkeypatch: pytest.MonkeyPatch, authenticate_first: bool
) -> None:
    browser = FakeBrowser(delay=0.3)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint(single_use=True)
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    a = _async_sso_client(sso, _sso_handler(refresh))
    b = _async_sso_client(sso, _sso_handler(refresh))
    provider = b.session.token_provider
    assert provider is not None
    first, second = (
        (provider.authenticate, functools.partial(a.chat_sessions.get_by_id, id="s1"))
        if authenticate_first
        else (functools.partial(a.chat_sessions.get_by_id, id="s1"), provider.authenticate)
    )
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await anyio.sleep(0.05)  # its login is under way
            tasks.start_soon(second)
    await a.aclose()
    await b.aclose()
    browser.join()

    assert len(browser.opened) == 1


def _slow_refresh(
    handler: Callable[[httpx.Request], httpx.Response], seconds: float
) -> Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]:
    async def slow_refresh(request: httpx.Request) -> httpx.Response:
        response = handler(request)  # the server has spent the old refresh token
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(seconds)  # the answer is slow to come back
        return response

    return slow_refresh


async def _cancel_mid_refresh(call: Coroutine[Any, Any, object], how: str) -> None:
    """Cancel ``call`` 0.1 s in, as ``how`` does it."""
    import asyncio

    if how == "anyio deadline":
        with anyio.move_on_after(0.1):
            await call
    elif how == "asyncio.wait_for":
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(call, 0.1)
    else:  # Task.cancel(), as FastAPI does to a request whose client hung up
        task = asyncio.get_running_loop().create_task(call)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("how", ["anyio deadline", "asyncio.wait_for", "Task.cancel()"])
async def test_a_refresh_cancelled_in_flight_keeps_the_refresh_token_the_server_rotated(
    how: str, anyio_backend: str
) -> None:
    if how != "anyio deadline" and anyio_backend != "asyncio":
        pytest.skip("asyncio's own cancellation")
    refresh = SSORefreshEndpoint(single_use=True)
    handler = _sso_handler(refresh)
    sso = _logged_in_sso()
    cancelled = AsyncAlbert(
        auth_manager=sso,
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(_slow_refresh(handler, 0.3))),
    )
    started = time.monotonic()
    await _cancel_mid_refresh(cancelled.chat_sessions.get_by_id(id="s1"), how)
    assert time.monotonic() - started < 0.25  # the caller is not kept past its cancellation
    with anyio.fail_after(5):
        # The same client at once, then another: no "log in again".
        assert (await cancelled.chat_sessions.get_by_id(id="s1")).id == "s1"
        other = _async_sso_client(sso, handler, max_retries=0)
        await other.chat_sessions.get_by_id(id="s1")
    await cancelled.aclose()
    await other.aclose()

    assert refresh.received == [BROWSER_REFRESH]  # the rotated token was kept, not resent


class CtrlC:
    """Ctrl-C for the main thread, sent ``delay`` seconds after `arm`."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent_at = math.inf
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        self._timer = threading.Timer(self.delay, self._send)
        self._timer.start()

    def _send(self) -> None:
        main = threading.main_thread().ident
        assert main is not None
        self.sent_at = time.monotonic()
        signal.pthread_kill(main, signal.SIGINT)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


@contextlib.contextmanager
def _ctrl_c(delay: float) -> Iterator[CtrlC]:
    """Yield a `CtrlC` to arm, with Python's own SIGINT handler in place."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    # A shell's background job ignores SIGINT: raise KeyboardInterrupt anyway.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    ctrl_c = CtrlC(delay)
    try:
        yield ctrl_c
    finally:
        ctrl_c.cancel()
        signal.signal(signal.SIGINT, previous)


def _slow_sync_refresh(
    handler: Callable[[httpx.Request], httpx.Response],
    seconds: float,
    *,
    ctrl_c: CtrlC | None = None,
    client: list[httpx.Client] | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """Answer refreshes ``seconds`` late (the server spent the token at once).

    ``ctrl_c`` is armed when the refresh arrives; the answer is lost if the
    first of ``client`` was closed meanwhile, as a real connection would be.
    """

    def slow_refresh(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if request.url.path == REFRESH_PATH:
            if ctrl_c is not None:
                ctrl_c.arm()
            time.sleep(seconds)
            if client and client[0].is_closed:
                raise httpx.ReadError("the connection was closed", request=request)
        return response

    return slow_refresh


def test_a_refresh_interrupted_by_ctrl_c_keeps_the_rotated_refresh_token() -> None:
    # A notebook's "interrupt" is a KeyboardInterrupt in the main thread.
    refresh = SSORefreshEndpoint(single_use=True)
    sso = _logged_in_sso()
    with _ctrl_c(0.1) as ctrl_c:
        client = Albert(
            auth_manager=sso,
            max_retries=0,
            http_client=httpx.Client(
                transport=httpx.MockTransport(
                    _slow_sync_refresh(_sso_handler(refresh), 0.3, ctrl_c=ctrl_c)
                )
            ),
        )
        with pytest.raises(KeyboardInterrupt):
            client.chat_sessions.get_by_id(id="s1")
            time.sleep(5)  # never reached unless the call returned before the interrupt
    assert time.monotonic() - ctrl_c.sent_at < 0.15  # interrupted at once
    assert client.chat_sessions.get_by_id(id="s1").id == "s1"  # waits for the refresh under way
    client.close()

    assert refresh.received == [BROWSER_REFRESH]  # kept, not resent (which would be refused)


async def test_a_sync_client_does_not_block_on_its_lock_for_this_threads_loop() -> None:
    # One Albert shared by a worker thread and the notebook's thread, plus an
    # AsyncAlbert task on the notebook's loop, on one manager: the worker holds
    # the Albert's lock while it waits for the loop's refresh; the notebook
    # thread must not then block on that lock.

    refresh = SSORefreshEndpoint(single_use=True)
    handler = _sso_handler(refresh)

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.3)
        return handler(request)

    sso = _logged_in_sso()
    async_albert = AsyncAlbert(
        auth_manager=sso, http_client=httpx.AsyncClient(transport=httpx.MockTransport(slow))
    )
    sync_albert = Albert(
        auth_manager=sso,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    worker = threading.Thread(target=lambda: sync_albert.chat_sessions.get_by_id(id="s1"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(functools.partial(async_albert.chat_sessions.get_by_id, id="s1"))
        await anyio.sleep(0.05)  # the loop's refresh is under way
        worker.start()
        time.sleep(0.1)  # noqa: ASYNC251 - the worker holds the lock and waits; the loop must not run
        started = time.monotonic()
        with pytest.raises(AlbertAuthError, match="cannot wait for it here"):
            sync_albert.chat_sessions.get_by_id(id="s1")
        assert time.monotonic() - started < 1.0
    worker.join(5)
    await async_albert.aclose()
    sync_albert.close()


async def test_a_hung_refresh_outlives_its_cancelled_caller_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albert._async import auth as async_auth

    monkeypatch.setattr(async_auth, "_DETACHED_REFRESH_SECONDS", 0.1)  # 4 phases: 0.4 s
    handler = _sso_handler(SSORefreshEndpoint())

    async def hang(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(30)  # never answers; no timeout bounds it (timeout=None)
        return handler(request)

    sso = _logged_in_sso()
    client = AsyncAlbert(
        auth_manager=sso,
        timeout=None,
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(hang)),
    )
    started = time.monotonic()
    with anyio.fail_after(5), anyio.move_on_after(0.05):
        await client.chat_sessions.get_by_id(id="s1")
    assert time.monotonic() - started < 0.25  # the caller leaves at its deadline
    assert sso._claim_refresh(object(), rejected=None, now=0.0) is None  # the refresh runs on
    with anyio.fail_after(5):
        while sso._claim_refresh(object(), rejected=None, now=0.0) is None:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    released = time.monotonic() - started
    await client.aclose()

    assert 0.35 < released < 2.0  # cut at its bound, and the claim released


async def test_a_slow_refresh_bounded_by_its_timeout_is_not_cut_at_the_unbounded_ones_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albert._async import auth as async_auth

    monkeypatch.setattr(async_auth, "_DETACHED_REFRESH_SECONDS", 0.1)  # only without a timeout
    refresh = SSORefreshEndpoint(single_use=True)
    handler = _sso_handler(refresh)

    async def slow(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.3)
        return response

    sso = _logged_in_sso()
    client = AsyncAlbert(
        auth_manager=sso,
        timeout=30,
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(slow)),
    )
    with anyio.fail_after(5):
        await client.chat_sessions.get_by_id(id="s1")
    await client.aclose()
    assert refresh.received == [BROWSER_REFRESH]


async def test_a_logged_in_client_does_not_wait_for_anothers_explicit_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = FakeBrowser(delay=1.0, token="refresh-s3cr3t-second-login")
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint()
    sso = _logged_in_sso()
    a = _async_sso_client(sso, _sso_handler(refresh))
    b = _async_sso_client(sso, _sso_handler(refresh))
    provider = b.session.token_provider
    assert provider is not None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(provider.authenticate)
        await anyio.sleep(0.05)  # b is at the browser for a second
        started = time.monotonic()
        with anyio.fail_after(5):
            await a.chat_sessions.get_by_id(id="s1")
        assert time.monotonic() - started < 0.5  # refreshed with the token it had
    await a.aclose()
    await b.aclose()
    browser.join()


async def test_authenticate_logs_in_itself_when_the_login_it_waited_for_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = FakeBrowser(delay=0.1, token="refresh-s3cr3t-b")
    monkeypatch.setattr(webbrowser, "open", browser.open)
    refresh = SSORefreshEndpoint()
    sso = _logged_in_sso()
    other_login = object()
    assert sso._claim_login(other_login, again=True)  # another client is at the browser
    b = _async_sso_client(sso, _sso_handler(refresh))
    provider = b.session.token_provider
    assert provider is not None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(provider.authenticate)
        await anyio.sleep(0.05)  # b waits for the other login
        # Meanwhile an ordinary refresh rotates the refresh token (not a login) ...
        refreshing = object()
        sent = sso._claim_refresh(refreshing, rejected=None, now=0.0)
        assert isinstance(sent, SecretStr)
        rotated = SSOTenantToken(
            tenant_id="TEN1",
            access_token=AccessToken.expiring_in("jwt-s3cr3t-rotated", 3600, now=time.time()),
            refresh_token=SecretStr("refresh-s3cr3t-rotated"),
        )
        sso._finish_refresh(refreshing, rotated, sent=sent)
        sso._finish_login(other_login)  # ... and the other login ends without logging in
    await b.aclose()
    browser.join()

    assert len(browser.opened) == 1  # b logged in itself
    assert refresh.received == ["refresh-s3cr3t-b"]


# leaving the client's block right after a cancelled refresh


async def test_leaving_the_client_after_a_cancelled_refresh_waits_for_it() -> None:
    # The SDK's own HTTP client is closed when the block ends: the refresh
    # still under way must come back before, or its rotated token is lost.
    refresh = SSORefreshEndpoint(single_use=True)
    handler = _sso_handler(refresh)
    own: list[httpx.AsyncClient] = []

    async def slow_refresh(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if request.url.path == REFRESH_PATH:
            await anyio.sleep(0.3)
            if own[0].is_closed:  # as a real connection would be
                raise httpx.ReadError("the connection was closed", request=request)
        return response

    sso = _logged_in_sso()
    with respx.mock(base_url=BASE_URL) as api, anyio.fail_after(5):
        api.route().mock(side_effect=slow_refresh)
        async with AsyncAlbert(auth_manager=sso, max_retries=0) as client:
            own.append(client.session.http_client)
            with anyio.move_on_after(0.1):
                await client.chat_sessions.get_by_id(id="s1")
        async with AsyncAlbert(auth_manager=sso, max_retries=0) as other:
            await other.chat_sessions.get_by_id(id="s1")  # no "log in again"

    assert refresh.received == [BROWSER_REFRESH]


def test_leaving_the_client_after_ctrl_c_mid_refresh_waits_for_it() -> None:
    refresh = SSORefreshEndpoint(single_use=True)
    sso = _logged_in_sso()
    own: list[httpx.Client] = []
    with respx.mock(base_url=BASE_URL) as api, _ctrl_c(0.1) as ctrl_c:
        slow = _slow_sync_refresh(_sso_handler(refresh), 0.3, ctrl_c=ctrl_c, client=own)
        api.route().mock(side_effect=slow)
        with pytest.raises(KeyboardInterrupt), Albert(auth_manager=sso, max_retries=0) as client:
            own.append(client.session.http_client)
            client.chat_sessions.get_by_id(id="s1")
            time.sleep(5)  # never reached unless the call returned before the interrupt
        with Albert(auth_manager=sso, max_retries=0) as other:
            other.chat_sessions.get_by_id(id="s1")  # no "log in again"

    assert refresh.received == [BROWSER_REFRESH]


def test_a_refresh_whose_worker_cannot_start_gives_its_turn_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    refresh = SSORefreshEndpoint(single_use=True)
    sso = _logged_in_sso()
    client = Albert(
        auth_manager=sso,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(_sso_handler(refresh))),
    )

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", no_thread)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            client.chat_sessions.get_by_id(id="s1")
    started = time.monotonic()
    assert client.chat_sessions.get_by_id(id="s1").id == "s1"  # not stuck behind its own claim
    client.close()

    assert time.monotonic() - started < 1.0
    assert refresh.received == [BROWSER_REFRESH]  # sent once, by the call that could


def test_a_sync_refresh_answered_after_its_caller_gave_up_is_still_waited_for_and_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # timeout=None: the caller waits for the refresh a bounded time, but the
    # worker thread cannot be stopped; its answer, when it comes, is the only
    # valid refresh token left.
    from albert._sync import auth as sync_auth

    monkeypatch.setattr(sync_auth, "_DETACHED_REFRESH_SECONDS", 0.05)  # 4 phases: 0.2 s
    refresh = SSORefreshEndpoint(single_use=True)
    handler = _sso_handler(refresh)
    sso = _logged_in_sso()
    client = Albert(
        auth_manager=sso,
        timeout=None,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(_slow_sync_refresh(handler, 0.4))),
    )
    started = time.monotonic()
    with pytest.raises(AlbertTimeoutError, match=r"did not finish within 0\.2 s"):
        client.chat_sessions.get_by_id(id="s1")
    client.close()  # does not wait for the refresh again
    assert time.monotonic() - started < 0.35
    other = Albert(  # at once: it waits for the late answer instead of resending
        auth_manager=sso,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    assert other.chat_sessions.get_by_id(id="s1").id == "s1"
    other.close()

    assert refresh.received == [BROWSER_REFRESH]


@pytest.mark.parametrize("variant", ["sync", "async"])
def test_a_refresh_without_timeouts_still_has_bounded_phases(
    monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    # It may outlive its caller, in a thread nobody can stop: it must end.
    from albert._async import auth as async_auth
    from albert._sync import auth as sync_auth

    monkeypatch.setattr(sync_auth, "_DETACHED_REFRESH_SECONDS", 7.0)
    monkeypatch.setattr(async_auth, "_DETACHED_REFRESH_SECONDS", 7.0)
    timeouts: dict[str, dict[str, float | None]] = {}
    handler = _sso_handler(SSORefreshEndpoint())

    def record(request: httpx.Request) -> httpx.Response:
        timeouts[request.url.path] = request.extensions["timeout"]
        return handler(request)

    async def async_record(request: httpx.Request) -> httpx.Response:
        return record(request)

    timeout = httpx.Timeout(None, connect=3.0)
    if variant == "sync":
        client = Albert(
            auth_manager=_logged_in_sso(),
            timeout=timeout,
            http_client=httpx.Client(transport=httpx.MockTransport(record)),
        )
        client.chat_sessions.get_by_id(id="s1")
        client.close()
    else:

        async def main() -> None:
            async with AsyncAlbert(
                auth_manager=_logged_in_sso(),
                timeout=timeout,
                http_client=httpx.AsyncClient(transport=httpx.MockTransport(async_record)),
            ) as client:
                await client.chat_sessions.get_by_id(id="s1")

        anyio.run(main)

    assert timeouts[REFRESH_PATH] == {"connect": 3.0, "read": 7.0, "write": 7.0, "pool": 7.0}
    assert timeouts[SESSION_PATH] == {"connect": 3.0, "read": None, "write": None, "pool": None}


def _log_in_before_the_first_refresh_starts(
    monkeypatch: pytest.MonkeyPatch, detached: type[Any], sso: AlbertSSOClient
) -> None:
    """Make a browser login (refresh token "refresh-s3cr3t-login") land just before
    the first detached refresh starts, after its claim was taken."""
    start = detached.start
    logins = iter(["refresh-s3cr3t-login"])

    def login_first(self: Any) -> None:
        for token in logins:
            sso._logged_in(token, None)
        start(self)

    monkeypatch.setattr(detached, "start", login_first)


async def test_a_login_between_a_refresh_claim_and_its_request_makes_the_refresh_claim_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # authenticate() in another thread lands after this client claimed the
    # refresh but before its request left: the claim is gone, the token old.
    from albert._backends import async_primitives

    refresh = SSORefreshEndpoint()
    sso = _logged_in_sso()
    _log_in_before_the_first_refresh_starts(monkeypatch, async_primitives.Detached, sso)
    client = _async_sso_client(sso, _sso_handler(refresh))
    with anyio.fail_after(5):
        assert (await client.chat_sessions.get_by_id(id="s1")).id == "s1"
    await client.aclose()

    assert refresh.received == ["refresh-s3cr3t-login"]  # the old one was never sent


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_closing_cancelled_while_it_waits_for_a_refresh_still_closes_the_pool() -> None:
    import asyncio

    handler = _sso_handler(SSORefreshEndpoint(single_use=True))
    arrived = anyio.Event()

    async def slow_refresh(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH_PATH:
            arrived.set()
            await anyio.sleep(0.5)
        return handler(request)

    sso = _logged_in_sso()
    with respx.mock(base_url=BASE_URL) as api:
        api.route().mock(side_effect=slow_refresh)
        client = AsyncAlbert(auth_manager=sso, max_retries=0)
        with anyio.fail_after(5), anyio.CancelScope() as call:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(functools.partial(client.chat_sessions.get_by_id, id="s1"))
                await arrived.wait()
                call.cancel()  # the caller leaves; the refresh runs on
        closing = asyncio.get_running_loop().create_task(client.aclose())
        await asyncio.sleep(0.05)  # it waits for the refresh
        closing.cancel()  # asyncio's own cancel goes through anyio's shield
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert client.session.http_client.is_closed
        await asyncio.sleep(0.6)  # the refresh ends (its answer is lost with the pool)


def test_a_login_between_a_sync_refresh_claim_and_its_request_makes_it_claim_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albert._backends import sync_primitives

    refresh = SSORefreshEndpoint()
    sso = _logged_in_sso()
    _log_in_before_the_first_refresh_starts(monkeypatch, sync_primitives.Detached, sso)
    client = Albert(
        auth_manager=sso,
        http_client=httpx.Client(transport=httpx.MockTransport(_sso_handler(refresh))),
    )
    assert client.chat_sessions.get_by_id(id="s1").id == "s1"
    client.close()

    assert refresh.received == ["refresh-s3cr3t-login"]


async def test_after_the_first_login_the_token_is_not_fetched_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first login happens inside the first fetch: the token it brings
    # counts as fetched after that login, not before (which would send every
    # next request back through the lock and the manager).
    monkeypatch.setattr(webbrowser, "open", FakeBrowser().open)
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    claims = 0
    claim = AlbertSSOClient._claim_refresh

    def counted(self: AlbertSSOClient, *args: object, **kwargs: object) -> object:
        nonlocal claims
        claims += 1
        return claim(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AlbertSSOClient, "_claim_refresh", counted)
    client = _async_sso_client(sso, _sso_handler(SSORefreshEndpoint()))
    with anyio.fail_after(10):
        for _ in range(3):
            await client.chat_sessions.get_by_id(id="s1")
    await client.aclose()

    assert claims == 1
