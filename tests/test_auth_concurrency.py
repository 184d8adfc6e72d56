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

import anyio
import httpx
import pytest
from pydantic import SecretStr

from albert import Albert, AlbertClientCredentials, AlbertSSOClient, AsyncAlbert
from albert.auth.callback import LoginCallback
from albert.core.auth import TOKEN_PATH
from albert.exceptions import AlbertAuthError, ServiceUnavailableError
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
    call,
    free_port,
    jwt,
    sso_api,
)

BASE_URL = "https://albert.test"
SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
CREDENTIALS = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)


class API:
    """The fake API behind a client's transport: tokens, and the bearer of every call."""

    def __init__(self, *, token_delay: float = 0.0, reject: str | None = None) -> None:
        self.tokens = TokenEndpoint()
        self.bearers: list[str] = []
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
        return httpx.Response(200, json=SESSION)

    def async_client(self, manager: object = CREDENTIALS, **options: object) -> AsyncAlbert:
        transport = httpx.MockTransport(self.async_handler)
        return AsyncAlbert(
            auth_manager=manager, http_client=httpx.AsyncClient(transport=transport), **options
        )

    def sync_client(self, manager: object = CREDENTIALS, **options: object) -> Albert:
        transport = httpx.MockTransport(self.handler)
        return Albert(
            auth_manager=manager, http_client=httpx.Client(transport=transport), **options
        )


def sso_client(refresh: SSORefreshEndpoint, *, logged_in: bool = True) -> AlbertSSOClient:
    sso = AlbertSSOClient(
        email=EMAIL, base_url=BASE_URL, http_client=httpx.Client(transport=sso_api(refresh))
    )
    if logged_in:  # as a browser login would leave it
        sso._login._refresh_token = SecretStr(BROWSER_REFRESH)
    return sso


async def in_tasks(count: int, work: Callable[[], Awaitable[object]]) -> None:
    async with anyio.create_task_group() as tasks:
        for _ in range(count):
            tasks.start_soon(work)


def in_threads(count: int, work: Callable[[], object]) -> None:
    barrier, errors = threading.Barrier(count), []

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


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser(delay=0.2)
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


# single flight: client credentials


@pytest.mark.parametrize("warm", [False, True], ids=["first-token", "at-expiry"])
async def test_100_tasks_share_one_token_request(warm: bool) -> None:
    api = API(token_delay=0.05)
    client = api.async_client()
    clock = client.session.token_provider.clock = FakeClock()
    if warm:
        await client.chat_sessions.get_by_id(id="s1")
        clock.advance(3600)
        api.bearers.clear()

    await in_tasks(100, functools.partial(client.chat_sessions.get_by_id, id="s1"))
    await client.aclose()

    assert api.tokens.issued == 1 + warm
    assert api.bearers == [f"Bearer {access(1 + warm)}"] * 100


@pytest.mark.parametrize("warm", [False, True], ids=["first-token", "at-expiry"])
def test_32_threads_share_one_token_request(warm: bool) -> None:
    api = API(token_delay=0.05)
    with api.sync_client() as client:
        clock = client.session.token_provider.clock = FakeClock()
        if warm:
            client.chat_sessions.get_by_id(id="s1")
            clock.advance(3600)
            api.bearers.clear()
        in_threads(32, lambda: client.chat_sessions.get_by_id(id="s1"))

    assert api.tokens.issued == 1 + warm
    assert api.bearers == [f"Bearer {access(1 + warm)}"] * 32


async def test_100_concurrent_401s_share_one_refresh() -> None:
    api = API(token_delay=0.02, reject=access(1))
    client = api.async_client()
    await client.session.token_provider.get_token()

    await in_tasks(100, functools.partial(client.chat_sessions.get_by_id, id="s1"))
    await client.aclose()

    assert api.tokens.issued == 2
    assert api.bearers.count(f"Bearer {access(2)}") == 100


async def test_callers_waiting_on_a_failed_token_request_share_its_error() -> None:
    attempts: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        await anyio.sleep(0.05)
        return httpx.Response(503, text="<html>down</html>")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    once = AsyncAlbert(auth_manager=CREDENTIALS, http_client=http, max_retries=0)
    errors: list[Exception] = []

    async def get() -> None:
        try:
            await once.chat_sessions.get_by_id(id="s1")
        except ServiceUnavailableError as error:
            errors.append(error)

    await in_tasks(20, get)
    assert (len(attempts), len(errors)) == (1, 20)
    await get()  # a later call tries again
    assert (len(attempts), len(errors)) == (2, 21)


# the event loop keeps running


async def _longest_stall(work: Callable[[], Awaitable[object]]) -> float:
    """Run ``work`` beside a 10 ms heartbeat; return the longest gap between two beats."""
    beats: list[float] = []
    done = anyio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            beats.append(time.monotonic())
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(heartbeat)
        await anyio.sleep(0.03)
        await work()
        await anyio.sleep(0.03)
        done.set()
    return max(later - earlier for earlier, later in itertools.pairwise(beats))


@pytest.mark.parametrize("what", ["token request", "SSO refresh", "SSO browser login"])
async def test_the_event_loop_keeps_running_while_a_token_is_fetched(
    what: str, browser: FakeBrowser
) -> None:
    refresh = SSORefreshEndpoint(delay=0.3)
    manager = (
        CREDENTIALS
        if what == "token request"
        else sso_client(refresh, logged_in=what == "SSO refresh")
    )
    client = API(token_delay=0.3).async_client(manager)

    started = time.monotonic()
    assert await _longest_stall(functools.partial(client.chat_sessions.get_by_id, id="s1")) < 0.05
    assert time.monotonic() - started >= 0.3
    await client.aclose()


# one SSO login shared by every client of the manager


async def test_clients_on_loops_and_threads_share_one_sso_refresh() -> None:
    refresh = SSORefreshEndpoint(delay=0.1)
    sso, api = sso_client(refresh), API()
    clients = [api.async_client(sso) for _ in range(4)]
    worker = threading.Thread(
        target=in_threads, args=(4, lambda: api.sync_client(sso).chat_sessions.get_by_id(id="s1"))
    )

    worker.start()
    await in_tasks(4, lambda: clients.pop().chat_sessions.get_by_id(id="s1"))
    worker.join(10)

    assert refresh.received == [BROWSER_REFRESH]
    assert api.bearers == [f"Bearer {jwt('TEN1', 1)}"] * 8


async def test_sso_clients_hit_by_401_share_one_refresh() -> None:
    refresh = SSORefreshEndpoint(delay=0.05)
    sso, api = sso_client(refresh), API(reject=jwt("TEN1", 1))
    clients = [api.async_client(sso) for _ in range(4)]
    await clients[0].session.token_provider.get_token()

    await in_tasks(4, lambda: clients.pop().chat_sessions.get_by_id(id="s1"))

    assert refresh.received == [BROWSER_REFRESH, "refresh-s3cr3t-1"]
    assert api.bearers.count(f"Bearer {jwt('TEN1', 2)}") == 4


@pytest.mark.parametrize("how", ["anyio deadline", "asyncio.wait_for", "Task.cancel()"])
async def test_a_refresh_cancelled_in_flight_keeps_the_rotated_token(
    how: str, anyio_backend: str
) -> None:
    if how != "anyio deadline" and anyio_backend != "asyncio":
        pytest.skip("asyncio's own cancellation")
    refresh = SSORefreshEndpoint(delay=0.3)  # spent at once, answered late
    sso, api = sso_client(refresh), API()
    client = api.async_client(sso, max_retries=0)
    call = client.chat_sessions.get_by_id(id="s1")

    started = time.monotonic()
    if how == "anyio deadline":
        with anyio.move_on_after(0.1):
            await call
    elif how == "asyncio.wait_for":
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(call, 0.1)
    else:  # as FastAPI does to a request whose client hung up
        task = asyncio.get_running_loop().create_task(call)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert time.monotonic() - started < 0.25  # the caller left at once
    await client.aclose()  # closing the client does not cut the refresh either
    with anyio.fail_after(5):
        await api.async_client(sso, max_retries=0).chat_sessions.get_by_id(id="s1")

    assert refresh.received == [BROWSER_REFRESH]  # kept, not resent (it would be refused)
    assert api.bearers == [f"Bearer {jwt('TEN1', 1)}"]


@contextlib.contextmanager
def ctrl_c_after(delay: float) -> Iterator[None]:
    """Send Ctrl-C (SIGINT) to the main thread ``delay`` seconds from now."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    main = threading.main_thread().ident
    assert main is not None
    # A shell's background job ignores SIGINT: raise KeyboardInterrupt anyway.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def test_a_refresh_interrupted_by_ctrl_c_keeps_the_rotated_token() -> None:
    refresh = SSORefreshEndpoint(delay=0.3)
    sso, api = sso_client(refresh), API()
    client = api.sync_client(sso, max_retries=0)

    started = time.monotonic()
    with ctrl_c_after(0.1), pytest.raises(KeyboardInterrupt):
        client.chat_sessions.get_by_id(id="s1")
        time.sleep(5)  # never reached unless the call returned before the interrupt
    assert time.monotonic() - started < 0.25  # interrupted at once
    client.close()
    api.sync_client(sso).chat_sessions.get_by_id(id="s1")  # waits for the refresh under way

    assert refresh.received == [BROWSER_REFRESH]
    assert api.bearers == [f"Bearer {jwt('TEN1', 1)}"]


async def test_a_sync_client_on_the_loops_thread_waits_for_an_async_refresh_and_uses_it() -> None:
    # A notebook: a cell calls Albert while an AsyncAlbert task on the kernel's
    # loop, sharing the manager, is refreshing. The refresh runs in a worker
    # thread, so blocking the loop's thread does not keep it from finishing.
    refresh = SSORefreshEndpoint(delay=0.2)
    sso, api = sso_client(refresh), API()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(functools.partial(api.async_client(sso).chat_sessions.get_by_id, id="s1"))
        await anyio.sleep(0.05)  # its refresh is under way
        assert api.sync_client(sso).chat_sessions.get_by_id(id="s1").id == "s1"

    assert refresh.received == [BROWSER_REFRESH]
    assert api.bearers == [f"Bearer {jwt('TEN1', 1)}"] * 2


# browser logins


async def test_clients_of_a_manager_not_logged_in_open_one_browser(browser: FakeBrowser) -> None:
    refresh = SSORefreshEndpoint()
    sso, api = sso_client(refresh, logged_in=False), API()
    clients = [api.async_client(sso) for _ in range(3)]

    with anyio.fail_after(10):
        await in_tasks(3, lambda: clients.pop().chat_sessions.get_by_id(id="s1"))

    assert len(browser.opened) == 1
    assert refresh.received == [BROWSER_REFRESH]


async def test_when_the_shared_login_fails_the_waiting_clients_get_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idle = FakeBrowser(visit=False)  # nobody logs in
    monkeypatch.setattr(webbrowser, "open", idle.open)
    sso = sso_client(SSORefreshEndpoint(), logged_in=False)
    monkeypatch.setattr(sso._login, "log_in", functools.partial(sso._login.log_in, timeout=0.3))
    errors: list[str] = []

    async def get() -> None:
        try:
            await API().async_client(sso, max_retries=0).chat_sessions.get_by_id(id="s1")
        except AlbertAuthError as error:
            errors.append(str(error))

    with anyio.fail_after(10):
        await in_tasks(3, get)

    assert len(idle.opened) == 1
    assert len(errors) == 3
    assert all("timed out" in error for error in errors)


@pytest.mark.parametrize("authenticate_first", [True, False])
async def test_an_explicit_login_and_a_first_request_open_one_browser(
    browser: FakeBrowser, authenticate_first: bool
) -> None:
    sso, api = sso_client(SSORefreshEndpoint(), logged_in=False), API()
    request = functools.partial(api.async_client(sso).chat_sessions.get_by_id, id="s1")
    login = api.async_client(sso).session.token_provider.authenticate

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(login if authenticate_first else request)
            await anyio.sleep(0.05)  # its login is under way
            tasks.start_soon(request if authenticate_first else login)

    assert len(browser.opened) == 1


async def test_a_logged_in_client_does_not_wait_for_anothers_explicit_login(
    browser: FakeBrowser,
) -> None:
    browser.delay = 1.0
    sso, api = sso_client(SSORefreshEndpoint()), API()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(api.async_client(sso).session.token_provider.authenticate)
        await anyio.sleep(0.05)  # at the browser for a second
        started = time.monotonic()
        await api.async_client(sso).chat_sessions.get_by_id(id="s1")
        assert time.monotonic() - started < 0.5  # refreshed with the token it had


async def test_a_cancelled_browser_login_frees_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    idle = FakeBrowser(visit=False)
    monkeypatch.setattr(webbrowser, "open", idle.open)
    provider = (
        API().async_client(sso_client(SSORefreshEndpoint(), logged_in=False)).session.token_provider
    )
    port = free_port()

    with anyio.move_on_after(0.2):
        await provider.authenticate(minimum_port=port, maximum_port=port, timeout=30)

    assert len(idle.opened) == 1
    with anyio.fail_after(2):
        while True:  # the abandoned worker ends its wait and closes the server
            with contextlib.suppress(AlbertAuthError):
                LoginCallback(
                    state="x", minimum_port=port, maximum_port=port, wake=threading.Event()
                ).close()
                break
            await anyio.sleep(0.02)


def test_authenticate_blocks_until_logged_in_through_the_managers_http_client(
    browser: FakeBrowser,
) -> None:
    refresh = SSORefreshEndpoint()
    sso, api = sso_client(refresh, logged_in=False), API()
    port = free_port()

    with api.sync_client(sso.authenticate(minimum_port=port, maximum_port=port)) as client:
        client.chat_sessions.get_by_id(id="s1")

    assert refresh.received == [BROWSER_REFRESH]  # through sso.http_client: not respx, not the API
    assert api.bearers == [f"Bearer {jwt('TEN1', 1)}"]
    LoginCallback(state="x", minimum_port=port, maximum_port=port, wake=threading.Event()).close()


# the local callback


def test_the_callback_listens_on_loopback_on_the_first_free_port() -> None:
    with LoginCallback(
        state="s", minimum_port=free_port(), maximum_port=None, wake=threading.Event()
    ) as first:
        assert first._server.server_address[0] == "127.0.0.1"
        with LoginCallback(
            state="s", minimum_port=first.port, maximum_port=None, wake=threading.Event()
        ) as second:
            assert second.port > first.port
        with pytest.raises(AlbertAuthError, match="no free port"):
            LoginCallback(
                state="s", minimum_port=first.port, maximum_port=first.port, wake=threading.Event()
            )
    for low, high in [(0, None), (70000, None), (6000, 5999)]:
        with pytest.raises(ValueError, match="port"):
            LoginCallback(state="s", minimum_port=low, maximum_port=high, wake=threading.Event())


def test_only_a_callback_with_the_logins_state_counts(caplog: pytest.LogCaptureFixture) -> None:
    with LoginCallback(
        state="st-good", minimum_port=free_port(), maximum_port=None, wake=threading.Event()
    ) as callback:
        root = f"http://127.0.0.1:{callback.port}"
        pages = [
            call(f"{root}/favicon.ico"),
            call(f"{root}/?token=planted-s3cr3t"),
            call(f"{root}/?token=planted-s3cr3t&state=st-bad"),
            call(f"{root}/"),
            call(f"{root}/?token=refresh-s3cr3t&state=st-good"),
            call(f"{root}/?token=late-s3cr3t&state=st-good"),
        ]
        assert callback.wait(5) == "refresh-s3cr3t"

    assert [status for status, _ in pages] == [404, 400, 400, 400, 200, 200]
    assert "Not this login" in pages[1][1]
    assert "Login successful" in pages[4][1]
    assert "ignored a callback" in caplog.text
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize(("query", "error"), [("state=st", "without a token"), (None, "timed out")])
def test_a_login_without_a_token_fails(query: str | None, error: str) -> None:
    with LoginCallback(
        state="st", minimum_port=free_port(), maximum_port=None, wake=threading.Event()
    ) as callback:
        if query:
            assert call(f"http://127.0.0.1:{callback.port}/?{query}")[0] == 400
        with pytest.raises(AlbertAuthError, match=error):
            callback.wait(0.2)
