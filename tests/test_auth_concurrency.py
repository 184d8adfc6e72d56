"""Tokens under concurrency, cancellation and Ctrl-C; the SSO login and its local callback.

Written per variant, not once under tests/_async: task groups, threads,
signals and an event loop's heartbeat have no twin in the other variant.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import signal
import threading
import time
import webbrowser
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest
from pydantic import SecretStr

from albert import Albert, AlbertSSOClient, AsyncAlbert
from albert.auth.callback import LoginCallback
from albert.core.auth import TOKEN_PATH
from albert.exceptions import AlbertAuthError, ServiceUnavailableError
from tests import auth_fakes as fake

BASE_URL = "https://albert.test"


class API:
    """The API behind a client's mock transport: the token endpoint, and every call's bearer."""

    def __init__(self, *, token_delay: float = 0.0, reject: str | None = None) -> None:
        self.tokens, self.bearers = fake.TokenEndpoint(), list[str]()
        self.token_delay, self.reject = token_delay, reject

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(self.token_delay if request.url.path == TOKEN_PATH else 0.01)
        return self.handler(request, slept=True)

    def handler(self, request: httpx.Request, *, slept: bool = False) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            time.sleep(0 if slept else self.token_delay)
            return self.tokens(request)
        self.bearers.append(bearer := request.headers["authorization"])
        if bearer == f"Bearer {self.reject}":
            return httpx.Response(401, json={"message": "token revoked"})
        return httpx.Response(200, json={"id": "s1", "name": "n", "sourceSessionId": "s"})

    def async_client(self, manager: object = fake.CREDENTIALS, **options: object) -> AsyncAlbert:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.async_handler))
        return AsyncAlbert(auth_manager=manager, http_client=http, **options)

    def sync_client(self, manager: object = fake.CREDENTIALS, **options: object) -> Albert:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return Albert(auth_manager=manager, http_client=http, **options)


def sso_client(refresh: fake.SSORefreshEndpoint, *, logged_in: bool = True) -> AlbertSSOClient:
    http = httpx.Client(transport=fake.sso_api(refresh))
    sso = AlbertSSOClient(email=fake.EMAIL, base_url=BASE_URL, http_client=http)
    if logged_in:  # as a browser login leaves it
        sso._login._refresh_token = SecretStr(fake.BROWSER_REFRESH)
    return sso


def get(client: AsyncAlbert | Albert) -> Callable[[], object]:
    return functools.partial(client.chat_sessions.get_by_id, id="s1")


async def in_tasks(count: int, work: Callable[[], Awaitable[object]]) -> None:
    async with anyio.create_task_group() as tasks:
        for _ in range(count):
            tasks.start_soon(work)


def in_threads(count: int, work: Callable[[], object]) -> None:
    barrier = threading.Barrier(count)
    with ThreadPoolExecutor(count) as pool:
        for done in [pool.submit(lambda: (barrier.wait(), work())) for _ in range(count)]:
            done.result(30)


def callback(port: int | None = None, state: str = "st", last: int | None = None) -> LoginCallback:
    first = fake.free_port() if port is None else port
    return LoginCallback(state=state, minimum_port=first, maximum_port=last, wake=threading.Event())


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> fake.FakeBrowser:
    monkeypatch.setattr(webbrowser, "open", (browser := fake.FakeBrowser(delay=0.2)).open)
    return browser


# single flight


@pytest.mark.parametrize("when", ["first-token", "at-expiry", "after-401"])
async def test_100_tasks_share_one_token_request(when: str) -> None:
    api = API(token_delay=0.05)
    client = api.async_client()
    clock = client.session.token_provider.clock = fake.FakeClock()
    if when != "first-token":
        await client.chat_sessions.get_by_id(id="s1")
        clock.advance(3600 if when == "at-expiry" else 0)
        api.reject = fake.access(1) if when == "after-401" else None
        api.bearers.clear()

    await in_tasks(100, get(client))

    assert api.tokens.issued == (1 if when == "first-token" else 2)
    assert api.bearers.count(f"Bearer {fake.access(api.tokens.issued)}") == 100


@pytest.mark.parametrize("warm", [False, True], ids=["first-token", "at-expiry"])
def test_32_threads_share_one_token_request(warm: bool) -> None:
    api = API(token_delay=0.05)
    with api.sync_client() as client:
        clock = client.session.token_provider.clock = fake.FakeClock()
        if warm:
            client.chat_sessions.get_by_id(id="s1")
            clock.advance(3600)
            api.bearers.clear()
        in_threads(32, get(client))

    assert api.tokens.issued == 1 + warm
    assert api.bearers == [f"Bearer {fake.access(1 + warm)}"] * 32


async def test_callers_waiting_on_a_failed_token_request_share_its_error() -> None:
    api, errors = API(token_delay=0.05), list[Exception]()
    api.tokens = lambda _: httpx.Response(503, text="<html>down</html>")  # type: ignore[assignment]
    once = api.async_client(max_retries=0)

    async def call_once() -> None:
        with pytest.raises(ServiceUnavailableError) as caught:
            await once.chat_sessions.get_by_id(id="s1")
        errors.append(caught.value)

    await in_tasks(20, call_once)
    assert len({id(error) for error in errors}) == 1  # one request, its error shared
    await call_once()  # a later call tries again
    assert len({id(error) for error in errors}) == 2


@pytest.mark.parametrize("what", ["token request", "SSO refresh", "SSO browser login"])
async def test_the_event_loop_keeps_running_while_a_token_is_fetched(
    what: str, browser: fake.FakeBrowser
) -> None:
    refresh = fake.SSORefreshEndpoint(delay=0.3)
    sso = sso_client(refresh, logged_in=what == "SSO refresh")
    client = API(token_delay=0.3).async_client(fake.CREDENTIALS if what == "token request" else sso)
    beats, done = list[float](), anyio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            beats.append(time.monotonic())
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(heartbeat)
        await anyio.sleep(0.03)
        started = time.monotonic()
        await client.chat_sessions.get_by_id(id="s1")
        assert time.monotonic() - started >= 0.3
        await anyio.sleep(0.03)
        done.set()
    # blocked, the loop would miss the 0.3 s exchange's beats; load may delay one by 0.1 s
    assert max(later - earlier for earlier, later in itertools.pairwise(beats)) < 0.2


# one SSO login shared by every client of the manager


@pytest.mark.parametrize("after_401", [False, True])
async def test_clients_on_loops_and_threads_share_one_sso_refresh(after_401: bool) -> None:
    refresh = fake.SSORefreshEndpoint(delay=0.1)
    sso, api = sso_client(refresh), API()
    if after_401:  # every client starts with a token the server then refuses
        await api.async_client(sso).session.token_provider.get_token()
        api.reject = fake.jwt("TEN1", 1)
    clients = [api.async_client(sso) for _ in range(4)]
    threads = threading.Thread(target=in_threads, args=(4, lambda: get(api.sync_client(sso))()))

    threads.start()
    await in_tasks(4, lambda: get(clients.pop())())
    threads.join(10)

    assert refresh.received == [fake.BROWSER_REFRESH, "refresh-s3cr3t-1"][: 1 + after_401]
    assert api.bearers.count(f"Bearer {fake.jwt('TEN1', 1 + after_401)}") == 8


@pytest.mark.parametrize("how", ["anyio deadline", "asyncio.wait_for", "Task.cancel()"])
async def test_a_refresh_cancelled_in_flight_keeps_the_rotated_token(
    how: str, anyio_backend: str
) -> None:
    if how != "anyio deadline" and anyio_backend != "asyncio":
        pytest.skip("asyncio's own cancellation")
    refresh = fake.SSORefreshEndpoint(delay=0.3)  # spent at once, answered late
    sso, api = sso_client(refresh), API()
    client = api.async_client(sso, max_retries=0)

    started = time.monotonic()
    if how == "anyio deadline":
        with anyio.move_on_after(0.1):
            await client.chat_sessions.get_by_id(id="s1")
    elif how == "asyncio.wait_for":
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.chat_sessions.get_by_id(id="s1"), 0.1)
    else:  # as FastAPI does to a request whose client hung up
        task = asyncio.get_running_loop().create_task(client.chat_sessions.get_by_id(id="s1"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert time.monotonic() - started < 0.25  # the caller left at once
    await client.aclose()  # which does not cut the refresh either
    with anyio.fail_after(5):
        await api.async_client(sso).chat_sessions.get_by_id(id="s1")

    assert refresh.received == [fake.BROWSER_REFRESH]  # kept, not resent (it would be refused)
    assert api.bearers == [f"Bearer {fake.jwt('TEN1', 1)}"]


@contextlib.contextmanager
def ctrl_c_after(delay: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    # A shell's background job ignores SIGINT: raise KeyboardInterrupt anyway.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, signal.pthread_kill, (threading.get_ident(), signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def test_a_refresh_interrupted_by_ctrl_c_keeps_the_rotated_token() -> None:
    refresh = fake.SSORefreshEndpoint(delay=0.3)
    sso, api = sso_client(refresh), API()

    started = time.monotonic()
    with ctrl_c_after(0.1), pytest.raises(KeyboardInterrupt):
        api.sync_client(sso, max_retries=0).chat_sessions.get_by_id(id="s1")
        time.sleep(5)  # never reached unless the call returned before the interrupt
    assert time.monotonic() - started < 0.25  # interrupted at once
    api.sync_client(sso).chat_sessions.get_by_id(id="s1")  # waits for the refresh under way

    assert refresh.received == [fake.BROWSER_REFRESH]
    assert api.bearers == [f"Bearer {fake.jwt('TEN1', 1)}"]


async def test_a_sync_client_on_the_loops_thread_waits_for_an_async_refresh_and_uses_it() -> None:
    # A notebook cell calls Albert while an AsyncAlbert task on the kernel's loop,
    # sharing the manager, refreshes: in a worker thread, which needs no loop.
    refresh = fake.SSORefreshEndpoint(delay=0.2)
    sso, api = sso_client(refresh), API()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(get(api.async_client(sso)))
        await anyio.sleep(0.05)  # its refresh is under way
        get(api.sync_client(sso))()

    assert refresh.received == [fake.BROWSER_REFRESH]
    assert api.bearers == [f"Bearer {fake.jwt('TEN1', 1)}"] * 2


# browser logins


@pytest.mark.parametrize("first", ["request", "authenticate()"])
async def test_clients_of_a_manager_not_logged_in_open_one_browser(
    browser: fake.FakeBrowser, first: str
) -> None:
    refresh = fake.SSORefreshEndpoint()
    sso, api = sso_client(refresh, logged_in=False), API()
    login = api.async_client(sso).session.token_provider.authenticate

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(login if first == "authenticate()" else get(api.async_client(sso)))
            await anyio.sleep(0.05)  # its login is under way
            for _ in range(2):
                tasks.start_soon(get(api.async_client(sso)))

    assert len(browser.opened) == 1
    assert refresh.received == [fake.BROWSER_REFRESH]


async def test_when_the_shared_login_fails_the_waiting_clients_get_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idle = fake.FakeBrowser(visit=False)  # nobody logs in
    monkeypatch.setattr(webbrowser, "open", idle.open)
    sso = sso_client(fake.SSORefreshEndpoint(), logged_in=False)
    monkeypatch.setattr(sso._login, "log_in", functools.partial(sso._login.log_in, timeout=0.3))
    errors = list[str]()

    async def call_once() -> None:
        with pytest.raises(AlbertAuthError, match="timed out") as caught:
            await API().async_client(sso, max_retries=0).chat_sessions.get_by_id(id="s1")
        errors.append(str(caught.value))

    with anyio.fail_after(10):
        await in_tasks(3, call_once)
    assert (len(idle.opened), len(errors)) == (1, 3)


async def test_a_cancelled_browser_login_frees_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    idle = fake.FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)
    sso, port = sso_client(fake.SSORefreshEndpoint(), logged_in=False), fake.free_port()

    with anyio.move_on_after(0.2):
        await API().async_client(sso).session.token_provider.authenticate(minimum_port=port)

    assert len(idle.opened) == 1
    with anyio.fail_after(2):
        while True:  # the abandoned worker ends its wait and closes the server
            with contextlib.suppress(AlbertAuthError):
                callback(port).close()
                break
            await anyio.sleep(0.02)


async def test_a_caller_gone_during_the_email_check_opens_no_browser(
    browser: fake.FakeBrowser,
) -> None:
    def slow_check(request: httpx.Request) -> httpx.Response:
        time.sleep(0.3)
        return httpx.Response(302, headers={"Location": "https://idp.test/authorize"})

    http = httpx.Client(transport=httpx.MockTransport(slow_check))
    sso = AlbertSSOClient(email=fake.EMAIL, base_url=BASE_URL, http_client=http)
    with anyio.move_on_after(0.1):
        await API().async_client(sso).session.token_provider.authenticate()
    await anyio.sleep(0.5)  # the worker has its answer by now

    assert browser.opened == []


def test_authenticate_blocks_until_logged_in_through_the_managers_http_client(
    browser: fake.FakeBrowser,
) -> None:
    refresh = fake.SSORefreshEndpoint()
    sso, api, port = sso_client(refresh, logged_in=False), API(), fake.free_port()

    with api.sync_client(sso.authenticate(minimum_port=port, maximum_port=port)) as client:
        client.chat_sessions.get_by_id(id="s1")

    assert refresh.received == [fake.BROWSER_REFRESH]  # through sso.http_client, not the API's
    assert api.bearers == [f"Bearer {fake.jwt('TEN1', 1)}"]
    callback(port).close()  # the port is free again


def test_a_login_to_a_tenant_not_offered_keeps_the_login_the_manager_had(
    browser: fake.FakeBrowser,
) -> None:
    refresh = fake.SSORefreshEndpoint()
    sso, api = sso_client(refresh), API()
    get(api.sync_client(sso))()

    with pytest.raises(AlbertAuthError, match="tenant 'NOPE'; available tenants: TEN1"):
        sso.authenticate(tenant_id="NOPE", timeout=9)
    get(api.sync_client(sso))()  # the clients keep their tenant and token

    assert len(refresh.received) == 2  # the first refresh, and the login's own exchange
    assert api.bearers == [f"Bearer {fake.jwt('TEN1', 1)}"] * 2


# the local callback


def test_the_callback_listens_on_loopback_on_the_first_free_port() -> None:
    with callback() as first:
        assert first._server.server_address[0] == "127.0.0.1"
        with callback(first.port) as second:
            assert second.port > first.port
        with pytest.raises(AlbertAuthError, match="no free port"):
            callback(first.port, last=first.port)
    for low, high in [(0, None), (70000, None), (6000, 5999)]:
        with pytest.raises(ValueError, match="port"):
            callback(low, last=high)


def test_only_a_callback_with_the_logins_state_counts(caplog: pytest.LogCaptureFixture) -> None:
    with callback(state="st-good") as server:
        paths = ["favicon.ico", "?token=planted-s3cr3t", "?token=planted-s3cr3t&state=st-bad", ""]
        paths += ["?token=refresh-s3cr3t&state=st-good", "?token=late-s3cr3t&state=st-good"]
        pages = [fake.call(f"http://127.0.0.1:{server.port}/{path}") for path in paths]
        assert server.wait(5) == "refresh-s3cr3t"

    assert [status for status, _ in pages] == [404, 400, 400, 400, 200, 200]
    assert "Not this login" in pages[1][1]
    assert "Login successful" in pages[4][1]
    assert "ignored a callback" in caplog.text
    assert "s3cr3t" not in caplog.text


def test_a_callback_with_the_state_but_no_token_ends_the_login() -> None:
    with callback(state="st") as server:
        assert fake.call(f"http://127.0.0.1:{server.port}/?state=st&error=denied")[0] == 400
        with pytest.raises(AlbertAuthError, match="without a token"):
            server.wait(5)
