"""total_timeout bounds a whole call: attempts, retries and the waits between them."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert import exceptions as exc
from albert._backends import async_primitives as primitives
from albert.resources.chats import ChatSession
from tests._async.helpers import BASE_URL, SESSIONS, TOKEN
from tests.fakes import Trickle

SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}


class Clock:
    """A monotonic clock that moves only when the SDK sleeps or a fake attempt takes time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(primitives, "monotonic", fake)
    monkeypatch.setattr(primitives, "sleep", fake.sleep)
    return fake


def pinned(client: AsyncAlbert, **options: float) -> AsyncAlbert:
    """Return ``client.with_options(...)`` with full jitter pinned to its ceiling."""
    limited = client.with_options(**options)  # type: ignore[arg-type]
    limited.session.retry_policy = dataclasses.replace(
        limited.session.retry_policy, jitter=lambda: 1.0
    )
    return limited


def read_timeouts(route: respx.Route) -> list[float]:
    return [call.request.extensions["timeout"]["read"] for call in route.calls]


async def test_a_retry_after_wait_that_would_pass_the_deadline_is_not_taken(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(429, headers={"Retry-After": "60"})

    with pytest.raises(exc.AlbertTimeoutError) as caught:
        await pinned(client, total_timeout=100).chat_sessions.get_by_id(id="s1")

    assert clock.sleeps == [60.0]  # the second 60 s wait would end past 100 s
    assert route.call_count == 2
    message = str(caught.value)
    assert "total_timeout of 100 s reached after 2 attempts" in message
    assert "waiting 60.0 s to retry would pass it" in message
    assert "429" in message
    assert isinstance(caught.value.__cause__, exc.TooManyRequestsError)


async def test_each_attempt_gets_only_the_time_left(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(503)

    with pytest.raises(exc.AlbertTimeoutError, match="total_timeout of 3 s reached"):
        await pinned(client, total_timeout=3.0).chat_sessions.get_by_id(id="s1")

    assert clock.sleeps == [0.5, 1.0]  # the 2 s wait would end at 3.5 s
    assert read_timeouts(route) == [3.0, 2.5, 1.5]
    assert clock.now - 1000.0 == pytest.approx(1.5)


def timing_out_after(clock: Clock, seconds: float) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += seconds
        raise httpx.ReadTimeout("read timed out", request=request)

    return handler


async def test_an_attempt_cut_short_that_times_out_says_the_deadline_was_reached(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    get = api.get(f"{SESSIONS}/s1").mock(side_effect=timing_out_after(clock, 5.0))
    post = api.post(SESSIONS).mock(side_effect=timing_out_after(clock, 5.0))
    limited = pinned(client, total_timeout=5.0)

    with pytest.raises(exc.AlbertTimeoutError, match="ran out of the time left") as on_get:
        await limited.chat_sessions.get_by_id(id="s1")
    with pytest.raises(exc.AlbertTimeoutError, match="ran out of the time left") as on_post:
        await limited.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))

    assert "total_timeout of 5 s reached after 1 attempt:" in str(on_get.value)
    assert "total_timeout of 5 s reached after 1 attempt:" in str(on_post.value)
    assert (get.call_count, post.call_count) == (1, 1)
    assert read_timeouts(get) == [5.0]
    assert clock.sleeps == []


async def test_an_answer_that_trickles_in_is_cut_off_at_the_deadline(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    body = Trickle(clock, json.dumps(SESSION).encode())  # a byte a second
    route = api.get(f"{SESSIONS}/s1").mock(return_value=httpx.Response(200, stream=body))

    with pytest.raises(exc.AlbertTimeoutError, match="ran out of the time left") as caught:
        await pinned(client, total_timeout=5.0).chat_sessions.get_by_id(id="s1")

    assert "total_timeout of 5 s reached after 1 attempt:" in str(caught.value)
    assert route.call_count == 1
    assert body.sent == 5  # not the 47 seconds the whole body takes
    assert clock.sleeps == []


async def test_an_answer_read_within_the_deadline_is_whole_and_decoded(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    zipped = gzip.compress(json.dumps(SESSION).encode())
    api.get(f"{SESSIONS}/s1").respond(
        200, content=zipped, headers={"Content-Encoding": "gzip", "x-request-id": "r1"}
    )

    found = await pinned(client, total_timeout=5.0).chat_sessions.get_by_id(id="s1")

    assert (found.id, found.name) == ("s1", "n")


async def test_an_answer_a_mock_transport_read_whole_is_taken_as_it_is() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=SESSION))
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncAlbert(base_url=BASE_URL, token=TOKEN, http_client=http, total_timeout=5) as client,
    ):
        found = await client.chat_sessions.get_by_id(id="s1")

    assert found.id == "s1"


async def test_a_call_that_succeeds_in_time_is_not_touched(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    route = api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=SESSION)]
    )

    found = await pinned(client, total_timeout=120).chat_sessions.get_by_id(id="s1")

    assert found.id == "s1"
    assert clock.sleeps == [0.5]
    assert read_timeouts(route) == [60.0, 60.0]  # the client's own, shorter than the time left


async def test_a_non_retryable_error_is_raised_as_it_is(
    client: AsyncAlbert, api: respx.MockRouter, clock: Clock
) -> None:
    api.get(f"{SESSIONS}/s1").respond(404, json={"message": "no such session"})

    with pytest.raises(exc.NotFoundError):
        await pinned(client, total_timeout=1).chat_sessions.get_by_id(id="s1")


async def test_total_timeout_on_the_client_and_per_call(api: respx.MockRouter) -> None:
    client = AsyncAlbert(base_url=BASE_URL, token=TOKEN, total_timeout=30)
    assert client.session.total_timeout == 30.0
    assert client.with_options(max_retries=1).session.total_timeout == 30.0
    assert client.with_options(total_timeout=None).session.total_timeout is None
    assert AsyncAlbert(base_url=BASE_URL, token=TOKEN).session.total_timeout is None
    with pytest.raises(ValueError, match="total_timeout"):
        AsyncAlbert(session=client.session, total_timeout=5)
    await client.aclose()


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("5", TypeError)],
)
async def test_a_bad_total_timeout_is_refused_when_the_client_is_built(
    value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="total_timeout"):
        AsyncAlbert(base_url=BASE_URL, token=TOKEN, total_timeout=value)  # type: ignore[arg-type]
