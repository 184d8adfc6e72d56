"""The bearer-token check and the token endpoints (client credentials, SSO)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from albert.testing import EmulatorApp, MemoryStore
from albert.testing import app as app_module
from tests.testing.helpers import API, new_session

FORM = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "s3cret"}


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dG9rOg==", "Bearer nope", "tok"]
)
async def test_calls_without_a_valid_token_are_401s(
    emulator: EmulatorApp, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    transport = httpx.ASGITransport(app=emulator)
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as raw:
        response = await raw.get("/chats/sessions")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["message"]
    assert response.headers["x-request-id"]


async def test_the_client_credentials_token_endpoint(http: httpx.AsyncClient) -> None:
    response = await http.post("/login/oauth/token", data=FORM, headers={"Authorization": ""})
    assert response.status_code == 200
    body = response.json()
    assert (body["expires_in"], body["token_type"]) == (3600, "Bearer")
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    created = await http.post(
        "/chats/sessions", json={"name": "svc", "sourceSessionId": "svc"}, headers=auth
    )
    assert created.json()["createdBy"] == "svc"  # the token stands for its client


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({**FORM, "client_secret": "nope"}, 401),
        ({**FORM, "client_id": "other"}, 401),
        ({**FORM, "client_id": ""}, 401),
        ({**FORM, "grant_type": "password"}, 400),
        ({"client_id": "svc", "client_secret": "s3cret"}, 400),
    ],
)
async def test_refused_token_requests(
    http: httpx.AsyncClient, form: dict[str, str], status: int
) -> None:
    response = await http.post("/login/oauth/token", data=form)
    assert response.status_code == status
    assert "s3cret" not in response.text


async def test_the_token_request_must_be_form_encoded(http: httpx.AsyncClient) -> None:
    response = await http.post("/login/oauth/token", json=FORM)
    assert response.status_code == 400


async def test_the_form_content_type_is_case_insensitive(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/login/oauth/token",
        content=urlencode(FORM),
        headers={"Content-Type": "Application/X-WWW-Form-URLEncoded; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


async def test_a_token_request_that_is_not_utf8_is_a_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/login/oauth/token",
        content=b"grant_type=client_credentials&client_id=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "the token request is not UTF-8"}


async def test_issued_tokens_expire(
    emulator: EmulatorApp, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await http.post("/login/oauth/token", data=FORM)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/chats/sessions", headers=auth)).status_code == 200
    later = app_module.time.time() + emulator.token_lifetime + 1
    monkeypatch.setattr(app_module.time, "time", lambda: later)
    expired = await http.get("/chats/sessions", headers=auth)
    assert expired.status_code == 401
    assert expired.json()["message"] == "token expired"


async def test_given_no_credentials_it_makes_random_ones() -> None:
    emulator, other = EmulatorApp(), EmulatorApp()
    assert emulator.token.startswith("local-")
    [(client_id, secret)] = emulator.client_credentials.items()
    assert client_id == "albert-local"
    assert secret != other.client_credentials["albert-local"]  # random, not documented
    assert emulator.sso_emails == frozenset()
    form = {**FORM, "client_id": client_id, "client_secret": secret}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=API) as http:
        assert (await http.post("/login/oauth/token", data=form)).status_code == 200


PUBLIC_DEFAULT = {**FORM, "client_id": "albert-local", "client_secret": "albert-local-secret"}


@pytest.mark.parametrize(
    "options",
    [{"token": "chosen"}, {"sso_emails": ["ada@example.com"]}, {"client_credentials": {}}],
    ids=["token", "sso_emails", "no clients"],
)
async def test_chosen_credentials_are_the_only_ones(options: dict[str, object]) -> None:
    emulator = EmulatorApp(**options)  # type: ignore[arg-type]
    assert emulator.client_credentials == {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=API) as http:
        for form in (PUBLIC_DEFAULT, {**FORM, "client_id": "albert-local"}):
            refused = await http.post("/login/oauth/token", data=form)
            assert refused.status_code == 401
        # and no token from elsewhere opens the private routes
        reset = await http.post(
            "http://emulator/_emulator/reset", headers={"Authorization": "Bearer albert-local"}
        )
        assert reset.status_code == 401


async def test_sso_is_off_unless_e_mails_are_listed() -> None:
    for emulator in (EmulatorApp(), EmulatorApp(token="chosen")):
        transport = httpx.ASGITransport(app=emulator)
        async with httpx.AsyncClient(transport=transport, base_url=API) as http:
            login = await http.get(
                "/login", params={"source": "sdk", "email": "eve@example.com", "port": "5123"}
            )
            assert login.status_code == 404
            assert "location" not in login.headers
            check = await http.get("/login", params={"email": "eve@example.com"})
            assert check.status_code == 404
        assert emulator.store.all("refresh") == []


async def test_sso_logs_in_only_the_listed_e_mails(http: httpx.AsyncClient) -> None:
    for email, status in [("ada@example.com", 302), ("ADA@example.com", 302), ("eve@x.org", 404)]:
        login = await http.get("/login", params={"source": "sdk", "email": email, "port": "5123"})
        assert login.status_code == status, email


def test_a_store_remembers_the_credentials_of_the_last_run() -> None:
    store = MemoryStore()
    first = EmulatorApp(store=store)
    again = EmulatorApp(store=store)
    assert (again.token, again.client_credentials) == (first.token, first.client_credentials)
    chosen = EmulatorApp(store=store, token="chosen")
    assert (chosen.token, chosen.client_credentials) == ("chosen", {})
    after = EmulatorApp(store=store)  # what the last run was started with
    assert (after.token, after.client_credentials) == ("chosen", {})
    clients = EmulatorApp(store=store, client_credentials={"svc": "s"})
    assert (clients.token, clients.client_credentials) == ("chosen", {"svc": "s"})


def test_a_store_of_an_older_version_keeps_its_token() -> None:
    store = MemoryStore()
    store.put("setting", "token", {"value": "old-token"})
    emulator = EmulatorApp(store=store)
    assert emulator.token == "old-token"
    assert store.get("setting", "token") is None


async def test_sso_email_check(http: httpx.AsyncClient) -> None:
    known = await http.get("/login", params={"email": "ada@example.com"})
    assert known.status_code == 302
    assert (await http.get("/login")).status_code == 400
    assert (await http.get("/login", params={"email": "not-an-email"})).status_code == 400


async def test_sso_email_check_with_a_list_of_users() -> None:
    emulator = EmulatorApp(sso_emails=["ada@example.com"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=API) as http:
        assert (await http.get("/login", params={"email": "ADA@example.com"})).status_code == 302
        assert (await http.get("/login", params={"email": "bob@example.com"})).status_code == 404


async def test_sso_browser_login_and_refresh_rotation(
    emulator: EmulatorApp, http: httpx.AsyncClient
) -> None:
    login = await http.get(
        "/login", params={"source": "sdk", "email": "ada@example.com", "port": "5123"}
    )
    assert login.status_code == 302
    location = urlsplit(login.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "localhost:5123", "/")
    assert list(parse_qs(location.query)) == ["token"]  # no state sent, none echoed
    refresh = parse_qs(location.query)["token"][0]

    traded = await http.post("/login/refresh", json={"refreshtoken": refresh})
    assert traded.status_code == 200
    [entry] = traded.json()
    assert entry["tenantId"] == "tnt-local"
    assert entry["exp"] == 3600
    assert entry["refreshToken"] != refresh
    auth = {"Authorization": f"Bearer {entry['jwt']}"}
    assert (await new_session_as(http, auth))["createdBy"] == "ada@example.com"

    reused = await http.post("/login/refresh", json={"refreshtoken": refresh})
    assert reused.status_code == 401  # rotated: the old one is spent
    following = await http.post("/login/refresh", json={"refreshtoken": entry["refreshToken"]})
    assert following.status_code == 200


@pytest.mark.parametrize("state", ["s7Hk2", "a b&c=d/é"])
async def test_sso_login_echoes_the_state(http: httpx.AsyncClient, state: str) -> None:
    login = await http.get(
        "/login",
        params={"source": "sdk", "email": "ada@example.com", "port": "5123", "state": state},
    )
    assert login.status_code == 302
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert query["state"] == [state]
    assert query["token"][0].startswith("rt-")


async def new_session_as(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    response = await http.post(
        "/chats/sessions", json={"name": "sso", "sourceSessionId": "sso"}, headers=headers
    )
    assert response.status_code == 201
    return dict(response.json())


async def test_sso_refresh_gives_a_token_per_tenant() -> None:
    emulator = EmulatorApp(tenants=["t1", "t2"])
    refresh = emulator.issue_refresh_token("ada@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=API) as http:
        tokens = (await http.post("/login/refresh", json={"refreshtoken": refresh})).json()
        assert [t["tenantId"] for t in tokens] == ["t1", "t2"]
        for bad in ({"refreshtoken": "nope"}, {"refreshtoken": 1}, {}, []):
            assert (await http.post("/login/refresh", json=bad)).status_code in (400, 401)


@pytest.mark.parametrize(
    "port", ["", "0", "70000", "http", pytest.param("9" * 5000, id="5000 digits")]
)
async def test_sso_login_needs_a_port(http: httpx.AsyncClient, port: str) -> None:
    response = await http.get(
        "/login", params={"source": "sdk", "email": "ada@example.com", "port": port}
    )
    assert response.status_code == 400


def test_the_token_is_remembered_by_the_store() -> None:
    store = MemoryStore()
    first = EmulatorApp(store=store)
    assert EmulatorApp(store=store).token == first.token
    assert EmulatorApp(store=store, token="given").token == "given"
    assert EmulatorApp(store=store).token == "given"


@pytest.mark.parametrize(
    "options",
    [
        {"token": ""},
        {"token": "two words"},
        {"token": "t\u00f6k"},
        {"client_credentials": {"": "s"}},
        {"client_credentials": {"id": ""}},
        {"sso_emails": "ada@example.com"},
        {"sso_emails": ["not-an-email"]},
        {"page_size": 0},
        {"max_body_size": 0},
        {"token_lifetime": 0},
        {"tenants": []},
        {"store": MemoryStore(), "db_path": "x.db"},
    ],
)
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(
        ValueError, match=r"token|client|sso_emails|page_size|max_body|tenants|store"
    ):
        EmulatorApp(**options)  # type: ignore[arg-type]


async def test_a_static_token_session_is_made_by_the_configured_user(
    http: httpx.AsyncClient,
) -> None:
    assert (await new_session(http))["createdBy"] == "usr-local"


async def test_a_token_with_non_ascii_characters_is_a_401_not_a_crash(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        "/chats/sessions", headers={"Authorization": "Bearer tök€n".encode("latin-1", "replace")}
    )
    assert response.status_code == 401
