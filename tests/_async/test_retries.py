"""Retries: which failures are retried for which method, how long each wait is, what is raised."""

from __future__ import annotations

import dataclasses
import logging
from email.utils import formatdate
from time import time
from typing import Any

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert import exceptions as exc
from albert.resources.chats import ChatSession
from tests._async.helpers import MESSAGES, SESSIONS, TOKEN

EXPONENTIAL = [0.5, 1.0, 2.0]  # full jitter pinned to its ceiling
SESSION = {"id": "s1", "name": "n", "sourceSessionId": "src"}
MESSAGE = {
    "sourceRequestId": "r1",
    "sequence": "000",
    "componentType": "text",
    "userType": "user",
    "role": "user",
    "Content": "c",
}
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture
def max_jitter(client: AsyncAlbert) -> None:
    """Pin full jitter to its ceiling so each wait is exact."""
    client.session.retry_policy = dataclasses.replace(
        client.session.retry_policy, jitter=lambda: 1.0
    )


def fault(kind: str) -> dict[str, Any]:
    """Return respx mock arguments that produce one failure."""
    if kind == "connect error":
        return {"side_effect": httpx.ConnectError("connection refused")}
    if kind == "read timeout":
        return {"side_effect": httpx.ReadTimeout("read timed out")}
    if kind == "dropped connection":
        return {"side_effect": httpx.RemoteProtocolError("peer closed connection")}
    if kind == "429 seconds":
        return {"return_value": httpx.Response(429, headers={"Retry-After": "3"})}
    if kind == "429 date":
        date = formatdate(time() + 30, usegmt=True)
        return {"return_value": httpx.Response(429, headers={"Retry-After": date})}
    if kind == "502 html":
        return {
            "return_value": httpx.Response(
                502, text=HTML_502, headers={"content-type": "text/html"}
            )
        }
    return {"return_value": httpx.Response(int(kind), json={"message": f"status {kind}"})}


def target(api: respx.MockRouter, method: str) -> respx.Route:
    """Return the route a call of ``method`` goes to; its follow-up GET (for PATCH) succeeds."""
    if method == "GET":
        return api.get(f"{SESSIONS}/s1")
    if method == "POST":
        return api.post(SESSIONS)
    if method == "DELETE":
        return api.delete(f"{SESSIONS}/s1")
    api.get(f"{MESSAGES}/r1").respond(200, json=MESSAGE)
    return api.patch(f"{MESSAGES}/r1")


async def call(client: AsyncAlbert, method: str) -> object:
    if method == "GET":
        return await client.chat_sessions.get_by_id(id="s1")
    if method == "POST":
        return await client.chat_sessions.create(
            session=ChatSession(name="n", source_session_id="src")
        )
    if method == "DELETE":
        return await client.chat_sessions.delete(id="s1")
    return await client.chat_messages.update(
        session_id="ses-1", source_request_id="r1", sequence="000", content="new"
    )


ALL = ["GET", "PATCH", "DELETE", "POST"]
IDEMPOTENT = ["GET", "PATCH", "DELETE"]

# (fault, methods it is retried for, exception once retries are spent)
MATRIX = [
    ("connect error", ALL, exc.AlbertConnectionError),
    ("read timeout", IDEMPOTENT, exc.AlbertTimeoutError),
    ("dropped connection", IDEMPOTENT, exc.AlbertConnectionError),
    ("429 seconds", ALL, exc.TooManyRequestsError),
    ("429 date", ALL, exc.TooManyRequestsError),
    ("500", IDEMPOTENT, exc.InternalServerError),
    ("502 html", IDEMPOTENT, exc.BadGateway),
    ("503", IDEMPOTENT, exc.ServiceUnavailableError),
    ("504", IDEMPOTENT, exc.GatewayTimeoutError),
    ("400", [], exc.BadRequestError),
    ("404", [], exc.NotFoundError),
]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize(("kind", "retried_for", "error"), MATRIX)
async def test_fault_matrix(
    client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    max_jitter: None,
    method: str,
    kind: str,
    retried_for: list[str],
    error: type[Exception],
) -> None:
    route = target(api, method).mock(**fault(kind))

    with pytest.raises(error) as caught:
        await call(client, method)

    if method in retried_for:
        assert route.call_count == 4  # the first attempt and max_retries=3
        if kind == "429 seconds":
            assert sleeps == [3.0, 3.0, 3.0]
        elif kind == "429 date":
            assert len(sleeps) == 3
            assert all(27.0 <= s <= 30.0 for s in sleeps), sleeps
        else:
            assert sleeps == EXPONENTIAL
    else:
        assert route.call_count == 1
        assert sleeps == []
    if isinstance(caught.value, exc.AlbertTransportError):
        assert isinstance(caught.value.__cause__, httpx.TransportError)
    if kind == "502 html":
        assert "502 Bad Gateway" in str(caught.value)


@pytest.mark.parametrize("method", ALL)
async def test_a_retried_call_returns_the_later_success(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float], max_jitter: None, method: str
) -> None:
    ok = {
        "GET": httpx.Response(200, json=SESSION),
        "POST": httpx.Response(201, json=SESSION),
        "DELETE": httpx.Response(204),
        "PATCH": httpx.Response(204),
    }[method]
    route = target(api, method).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.ConnectError("x"), ok]
    )

    result = await call(client, method)

    assert route.call_count == 3
    assert sleeps == [1.0, 1.0]
    if method in ("GET", "POST"):
        assert result == ChatSession.model_validate(SESSION)


async def test_post_is_never_repeated_once_it_may_have_arrived(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.post(SESSIONS).mock(side_effect=[httpx.ReadTimeout("lost"), httpx.Response(201)])

    with pytest.raises(exc.AlbertTimeoutError):
        await call(client, "POST")
    assert route.call_count == 1
    assert sleeps == []


async def test_an_idempotent_post_is_retried_on_server_errors(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float], max_jitter: None
) -> None:
    from albert.resources.chats import ChatFlagType

    route = api.post("/api/v3/chats/sessions/ses-1/messages/r1/flag").mock(
        side_effect=[httpx.Response(503), httpx.Response(201, json={"type": "starred"})]
    )

    flag = await client.chat_flags.add(
        session_id="ses-1", source_request_id="r1", sequence="000", type=ChatFlagType.STARRED
    )

    assert flag.type is ChatFlagType.STARRED
    assert route.call_count == 2
    assert sleeps == [0.5]


async def test_a_delete_whose_retry_finds_nothing_counts_as_done(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.delete(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.ReadTimeout("response lost"), httpx.Response(404)]
    )

    assert await client.chat_sessions.delete(id="s1") is None
    assert route.call_count == 2


async def test_a_delete_of_a_missing_resource_still_raises(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.delete(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(429), httpx.Response(404)]
    )

    with pytest.raises(exc.NotFoundError):
        await client.chat_sessions.delete(id="s1")
    assert route.call_count == 2


async def test_backoff_is_capped_and_retry_after_is_capped(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float], max_jitter: None
) -> None:
    api.get(f"{SESSIONS}/s1").respond(503)
    with pytest.raises(exc.ServiceUnavailableError):
        await client.with_options(max_retries=6).chat_sessions.get_by_id(id="s1")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]

    sleeps.clear()
    api.get(f"{SESSIONS}/s2").respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(exc.TooManyRequestsError):
        await client.with_options(max_retries=1).chat_sessions.get_by_id(id="s2")
    assert sleeps == [60.0]


async def test_jitter_spreads_waits_below_the_ceiling(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    client.session.retry_policy = dataclasses.replace(
        client.session.retry_policy, jitter=lambda: 0.25
    )
    api.get(f"{SESSIONS}/s1").respond(500)

    with pytest.raises(exc.InternalServerError):
        await client.chat_sessions.get_by_id(id="s1")
    assert sleeps == [0.125, 0.25, 0.5]


async def test_max_retries_zero_and_with_options_share_the_pool(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(503)

    quick = client.with_options(max_retries=0, timeout=5.0)
    with pytest.raises(exc.ServiceUnavailableError):
        await quick.chat_sessions.get_by_id(id="s1")

    assert route.call_count == 1
    assert quick.session.http_client is client.session.http_client
    assert quick.session.timeout == httpx.Timeout(5.0)
    assert client.session.timeout == httpx.Timeout(60.0, connect=10.0)
    assert client.session.max_retries == 3
    await quick.aclose()  # a derived client does not close the shared pool
    assert not client.session.http_client.is_closed


async def test_timeout_reaches_the_request(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(200, json=SESSION)

    await client.with_options(timeout=httpx.Timeout(2.0, connect=1.0)).chat_sessions.get_by_id(
        id="s1"
    )
    await client.chat_sessions.get_by_id(id="s1")

    assert route.calls[0].request.extensions["timeout"] == {
        "connect": 1.0,
        "read": 2.0,
        "write": 2.0,
        "pool": 2.0,
    }
    assert route.calls[1].request.extensions["timeout"]["read"] == 60.0


async def test_logs_each_attempt_and_each_retry_without_secrets(
    client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=SESSION)]
    )

    with caplog.at_level(logging.DEBUG, logger="albert"):
        await client.chat_sessions.get_by_id(id="s1")

    attempts = [r for r in caplog.records if r.levelno == logging.DEBUG]
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" in ")[0] for r in attempts] == [
        "GET https://albert.test/api/v3/chats/sessions/s1 -> 503",
        "GET https://albert.test/api/v3/chats/sessions/s1 -> 200",
    ]
    assert attempts[0].getMessage().endswith("(attempt 1)")
    assert len(retries) == 1
    assert "503" in retries[0].getMessage()
    assert f"in {sleeps[0]:.2f} s" in retries[0].getMessage()
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert "Bearer" not in record.getMessage()


async def test_an_attempt_that_failed_in_transport_is_logged_too(
    client: AsyncAlbert,
    api: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.get(f"{SESSIONS}/s1").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=SESSION)]
    )

    with caplog.at_level(logging.DEBUG, logger="albert"):
        await client.chat_sessions.get_by_id(id="s1")

    attempts = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert [m.split(" after ")[0].split(" in ")[0] for m in attempts] == [
        "GET https://albert.test/api/v3/chats/sessions/s1 -> ConnectError",
        "GET https://albert.test/api/v3/chats/sessions/s1 -> 200",
    ]
    assert attempts[0].endswith("(attempt 1)")


async def test_secrets_stay_out_of_reprs_and_errors(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.get(f"{SESSIONS}/s1").respond(401, json={"message": "token expired"})

    with pytest.raises(exc.UnauthorizedError) as caught:
        await client.chat_sessions.get_by_id(id="s1")

    texts = [
        repr(client),
        repr(client.session),
        repr(client.chat_sessions),
        str(caught.value),
        repr(caught.value),
        repr(client.session.http_client.headers),
    ]
    for text in texts:
        assert TOKEN not in text
