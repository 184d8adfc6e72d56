"""Bad client arguments fail when the client is built, with a message that keeps secrets out."""

from __future__ import annotations

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert import exceptions as exc
from albert._async.session import AsyncAlbertSession
from tests._async.helpers import SESSIONS, TOKEN

BASE = "https://albert.test"
SECRET = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig"


async def test_a_token_read_with_its_line_break_is_sent_without_it(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    monkeypatch.setenv("ALBERT_TOKEN", f"{TOKEN}\r\n")  # a CRLF .env file
    route = api.get(f"{SESSIONS}/a").respond(200, json={"name": "n", "sourceSessionId": "s"})

    async with AsyncAlbert(base_url=BASE) as from_env:
        await from_env.chat_sessions.get_by_id(id="a")
    async with AsyncAlbert(base_url=BASE, token=f" {TOKEN}\n") as given:
        await given.chat_sessions.get_by_id(id="a")
    assert [c.request.headers["authorization"] for c in route.calls] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.parametrize("token", [f"{SECRET[:10]}\n{SECRET[10:]}", f"{SECRET} x", f"{SECRET}é"])
async def test_a_token_no_header_can_carry_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(ValueError, match="token") as caught:
        AsyncAlbert(base_url=BASE, token=token)
    assert SECRET[:10] not in str(caught.value)
    assert SECRET[10:] not in str(caught.value)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Api-Key": f"{SECRET}\r\nX-Injected: 1"},
        {"X-Api-Key": f"{SECRET}\x00"},
        {"X-Api-Key": f"{SECRET}é"},
        {"X-Api-Key": f"{SECRET} "},  # read from a file with its trailing space
        {"X-Api-Key": f"\t{SECRET}"},
    ],
)
async def test_a_header_value_with_a_control_character_is_refused_without_showing_it(
    headers: dict[str, str],
) -> None:
    with pytest.raises(ValueError, match="X-Api-Key") as caught:
        AsyncAlbert(base_url=BASE, token=TOKEN, headers=headers)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"X Bad": "v"}, ValueError),
        ({"X-Colon:": "v"}, ValueError),
        ({"": "v"}, ValueError),
        ({"X-Num": 5}, TypeError),
        ({"X(Key)": "v"}, ValueError),
        ({"X/Key": "v"}, ValueError),
        ({"X@Key": "v"}, ValueError),
    ],
)
async def test_a_bad_header_name_or_value_type_is_refused(
    headers: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        AsyncAlbert(base_url=BASE, token=TOKEN, headers=headers)


async def test_headers_may_be_given_as_pairs(api: respx.MockRouter) -> None:
    route = api.get(f"{SESSIONS}/a").respond(200, json={"name": "n", "sourceSessionId": "s"})
    pairs = [("X-Trace", "t-1")]
    async with AsyncAlbert(base_url=BASE, token=TOKEN, headers=pairs) as client:  # type: ignore[arg-type]
        await client.chat_sessions.get_by_id(id="a")
    assert route.calls[0].request.headers["x-trace"] == "t-1"


@pytest.mark.parametrize("base_url", ["https://albert.test:8o8o/", "https://[::1/"])
async def test_a_base_url_that_is_not_a_url_is_a_value_error(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AsyncAlbert(base_url=base_url, token=TOKEN)


async def test_a_base_url_with_a_password_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="user name or password") as caught:
        AsyncAlbert(base_url="https://svc:hunter2pass@albert.test", token=TOKEN)
    assert "hunter2pass" not in str(caught.value)


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        ("30", TypeError),
        (True, TypeError),
        (-1, ValueError),
        (float("nan"), ValueError),
        (httpx.Timeout(5.0, connect=-1.0), ValueError),
    ],
)
async def test_a_bad_timeout_is_refused_when_the_client_is_built(
    timeout: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="timeout"):
        AsyncAlbert(base_url=BASE, token=TOKEN, timeout=timeout)  # type: ignore[arg-type]


async def test_good_timeouts_are_taken(api: respx.MockRouter) -> None:
    for timeout in (None, 0, 2.5, 30, httpx.Timeout(None), httpx.Timeout(5.0, connect=1.0)):
        async with AsyncAlbert(base_url=BASE, token=TOKEN, timeout=timeout) as client:
            assert client.session.timeout == (
                timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            )


@pytest.mark.parametrize(
    ("max_retries", "error"), [(2.5, TypeError), (True, TypeError), (-1, ValueError)]
)
async def test_a_bad_max_retries_is_refused(max_retries: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_retries"):
        AsyncAlbert(base_url=BASE, token=TOKEN, max_retries=max_retries)  # type: ignore[arg-type]
    client = AsyncAlbert(base_url=BASE, token=TOKEN)
    with pytest.raises(error, match="max_retries"):
        client.with_options(max_retries=max_retries)  # type: ignore[arg-type]
    await client.aclose()


async def test_a_transport_error_quoting_the_token_shows_it_blanked(
    api: respx.MockRouter,
) -> None:
    api.get(f"{SESSIONS}/a").mock(
        side_effect=httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}'")
    )
    client = AsyncAlbert(base_url=BASE, token=SECRET, max_retries=0)
    with pytest.raises(exc.AlbertConnectionError) as caught:
        await client.chat_sessions.get_by_id(id="a")
    await client.aclose()
    assert SECRET not in str(caught.value)
    assert "Bearer ***" in str(caught.value)


@pytest.mark.parametrize(
    "setting",
    [{"max_retries": 3}, {"max_retries": 0}, {"timeout": 60.0}, {"timeout": None}],
)
async def test_a_setting_beside_a_session_is_refused_even_at_its_default(
    setting: dict[str, object],
) -> None:
    session = AsyncAlbertSession(base_url=BASE, token=TOKEN, max_retries=0)
    with pytest.raises(ValueError, match=next(iter(setting))):
        AsyncAlbert(session=session, **setting)  # type: ignore[arg-type]
    assert AsyncAlbert(session=session).session.max_retries == 0
    await session.aclose()


async def test_a_short_token_echoed_by_an_error_is_blanked_as_a_word(
    api: respx.MockRouter,
) -> None:
    api.get(f"{SESSIONS}/a").respond(400, json={"message": "bad token abc1234 for abc12345x"})
    client = AsyncAlbert(base_url=BASE, token="abc1234")
    with pytest.raises(exc.BadRequestError) as caught:
        await client.chat_sessions.get_by_id(id="a")
    await client.aclose()
    assert str(caught.value).endswith("bad token *** for abc12345x")
    assert "abc1234 " not in repr(caught.value.errors)


async def test_the_factory_methods_take_headers_for_every_request(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    from albert.core.auth import TOKEN_PATH
    from tests.auth_fakes import CLIENT_ID, CLIENT_SECRET, TokenEndpoint

    token_route = api.post(TOKEN_PATH).mock(side_effect=TokenEndpoint())
    route = api.get(f"{SESSIONS}/a").respond(200, json={"name": "n", "sourceSessionId": "s"})
    team = {"X-Team": "lab"}

    async with AsyncAlbert.from_token(base_url=BASE, token=TOKEN, headers=team) as by_token:
        await by_token.chat_sessions.get_by_id(id="a")
    async with AsyncAlbert.from_client_credentials(
        base_url=BASE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, headers=team
    ) as by_credentials:
        await by_credentials.chat_sessions.get_by_id(id="a")
    monkeypatch.setenv("ALBERT_BASE_URL", BASE)
    monkeypatch.setenv("ALBERT_TOKEN", TOKEN)
    async with AsyncAlbert.from_env(headers=team) as by_env:
        await by_env.chat_sessions.get_by_id(id="a")

    assert [c.request.headers.get("x-team") for c in route.calls] == ["lab"] * 3
    assert token_route.calls[0].request.headers["x-team"] == "lab"
    with pytest.raises(ValueError, match="X-Bad"):
        AsyncAlbert.from_token(base_url=BASE, token=TOKEN, headers={"X-Bad": "a\r\nb"})
