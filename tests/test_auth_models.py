"""The variant-free half of authentication: managers, the token endpoints' wire format, errors."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr, ValidationError

import albert
from albert.auth import AlbertClientCredentials, AlbertSSOClient
from albert.auth.managers import auth_from_env
from albert.core import auth as wire
from albert.exceptions import AlbertAuthError, ServiceUnavailableError
from tests.auth_fakes import CLIENT_ID, CLIENT_SECRET, EMAIL, SECRET_MARKER

BASE_URL = "https://albert.test"
NOW = 1_000_000.0
CC = wire.client_credentials_request(BASE_URL, CLIENT_ID, SecretStr(CLIENT_SECRET))
REFRESH = wire.sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))
DEEP = b"[" * 100_000 + b"]" * 100_000


def answer(
    status: int, body: object = None, *, content: bytes | None = None, **headers: str
) -> httpx.Response:
    request = httpx.Request("POST", CC.url)
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    if content is None:
        return httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.Response(status, content=content, headers=headers, request=request)


# managers


def test_client_credentials_are_configuration_that_hides_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL + "/")

    assert albert.AlbertClientCredentials is AlbertClientCredentials
    assert creds.base_url == BASE_URL
    assert creds.secret.get_secret_value() == CLIENT_SECRET
    for text in (repr(creds), str(creds), creds.model_dump_json()):
        assert SECRET_MARKER not in text
    with pytest.raises(ValidationError):
        creds.id = "other"  # type: ignore[misc]
    monkeypatch.setenv("ALBERT_BASE_URL", "https://env.test/")
    assert AlbertClientCredentials(id="a", secret="b").base_url == "https://env.test"


@pytest.mark.parametrize(
    "changes",
    [{"secret": ""}, {"id": ""}, {"base_url": "ftp://x"}, {"x": 1}, {"client_secret": "S3CR3T"}],
)
def test_bad_manager_arguments_are_refused_without_quoting_them(changes: dict[str, str]) -> None:
    fields = {"id": CLIENT_ID, "secret": CLIENT_SECRET, **changes}
    with pytest.raises(ValidationError) as caught:
        AlbertClientCredentials(**fields)  # type: ignore[arg-type]
    assert "S3CR3T" not in str(caught.value)
    with pytest.raises(ValidationError, match="e-mail"):
        AlbertSSOClient(email="nobody")


def test_copies_of_an_sso_manager_share_its_login_unless_changed() -> None:
    sso = AlbertSSOClient(email=f" {EMAIL} ", base_url=BASE_URL)

    assert sso.email == EMAIL
    for same in (sso.model_copy(), copy.copy(sso), copy.deepcopy(sso)):
        assert same._login is sso._login
    other = sso.model_copy(update={"tenant_id": "T2"})
    assert other._login is not sso._login
    sso._login._refresh_token = SecretStr("refresh-s3cr3t")
    assert not pickle.loads(pickle.dumps(sso)).is_authenticated
    assert SECRET_MARKER not in repr(sso) + repr(sso._login)


@pytest.mark.parametrize(
    ("variables", "hint"),
    [
        ({}, ""),
        ({"ALBERT_CLIENT_ID": "c"}, "ALBERT_CLIENT_ID is set but ALBERT_CLIENT_SECRET is not"),
        ({"ALBERT_CLIENT_SECRET": "s3cr3t"}, "SECRET is set but ALBERT_CLIENT_ID is not"),
    ],
)
def test_auth_from_env_lists_the_variables_it_looked_for(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], hint: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(AlbertAuthError) as caught:
        auth_from_env()
    for name in ("ALBERT_TOKEN", "ALBERT_CLIENT_ID", "ALBERT_CLIENT_SECRET", hint):
        assert name in str(caught.value)
    assert SECRET_MARKER not in str(caught.value)


# tokens and requests


def test_a_token_is_replaced_a_minute_before_it_expires_or_half_way_if_short_lived() -> None:
    token = wire.AccessToken.expiring_in("tok-s3cr3t", 3600, now=NOW)

    assert (token.expires_at, token.refresh_at) == (NOW + 3600, NOW + 3540)
    assert token.usable(NOW + 3539.9)
    assert not token.usable(NOW + 3540)
    assert not token.usable(NOW, rejected="tok-s3cr3t")
    assert wire.AccessToken.expiring_in("t", 30, now=NOW).refresh_at == NOW + 15
    assert SECRET_MARKER not in repr(token)


# answers


def _entry(tenant: str, exp: float = 3600, jwt: str = "jwt-s3cr3t") -> dict[str, object]:
    return {"tenantId": tenant, "jwt": jwt, "exp": exp, "refreshToken": "r-s3cr3t"}


def test_parse_sso_tokens() -> None:
    wall = 1_700_000_000.0
    body = [_entry("T1"), _entry("T2", 120), _entry("T3", exp=wall + 900)]

    tokens = wire.parse_sso_tokens(REFRESH, answer(200, body), now=NOW, wall_now=wall)

    assert [t.tenant_id for t in tokens] == ["T1", "T2", "T3"]
    assert [t.access_token.refresh_at - NOW for t in tokens] == [3540, 60, 840]  # exp: POSIX time
    assert tokens[0].refresh_token.get_secret_value() == "r-s3cr3t"
    assert len(wire.parse_sso_tokens(REFRESH, answer(200, _entry("T")), now=NOW, wall_now=NOW)) == 1


def cc(response: httpx.Response) -> object:
    return wire.parse_access_token(CC, response, now=NOW)


def sso(response: httpx.Response) -> object:
    return wire.parse_sso_tokens(REFRESH, response, now=NOW, wall_now=NOW)


@pytest.mark.parametrize(
    ("parse", "body", "detail"),
    [
        (cc, {"expires_in": 600}, "no access_token"),
        (cc, {"access_token": "access-s3cr3t", "expires_in": "soon"}, "no expires_in"),
        (cc, ["access-s3cr3t"], "not a JSON object"),
        (cc, b"<html>access-s3cr3t</html>", "invalid JSON"),
        (cc, DEEP, "nested too deeply"),
        *(
            (cc, {"access_token": bad, "expires_in": 60}, "characters a token cannot")
            for bad in ("s3cr3t\r\nX-Evil: 1", "s3cr3t\x00", "s3cr3t token", "s3cr3t=x")
        ),
        (sso, [], "no tenant"),
        (sso, {"tenants": 1}, "lacks tenantId, jwt, exp, refreshToken"),
        (sso, "jwt-s3cr3t", "not a JSON list"),
        (sso, [1], "entry 0 is not an object"),
        (sso, [_entry("T1", jwt="jwt-s3cr3t\r\n")], "jwt holds characters a token cannot"),
        (sso, DEEP, "nested too deeply"),
    ],
)
def test_a_bad_token_answer_is_described_not_quoted(
    parse: Callable[[httpx.Response], object], body: object, detail: str
) -> None:
    response = answer(200, content=body) if isinstance(body, bytes) else answer(200, body)

    with pytest.raises(AlbertAuthError, match=detail) as caught:
        parse(response)
    assert SECRET_MARKER not in str(caught.value) + repr(CC) + repr(REFRESH)
    assert caught.value.__cause__ is None


def test_select_tenant() -> None:
    tokens = [
        wire.TenantToken(n, wire.AccessToken.expiring_in("j", 60, now=NOW), SecretStr("r"))
        for n in "AB"
    ]

    assert wire.select_tenant(tokens, "b", email=EMAIL).tenant_id == "B"
    with pytest.raises(AlbertAuthError, match=r"'C'; available tenants: A, B"):
        wire.select_tenant(tokens, "C", email=EMAIL)


# errors


@pytest.mark.parametrize(
    ("response", "text"),
    [
        (
            answer(401, {"error": "invalid_client", "error_description": f"{CLIENT_SECRET} wrong"}),
            "answered 401 Unauthorized: *** wrong",
        ),
        (answer(400, {"errors": [{"detail": "bad"}]}), '400 Bad Request: [{"detail": "bad"}]'),
        (answer(403, content=b"<html>" + b"x" * 5000), "answered 403 Forbidden"),
        (answer(401, content=DEEP), "answered 401 Unauthorized"),
    ],
)
def test_a_refusal_names_the_endpoint_and_status_but_no_secret(
    response: httpx.Response, text: str
) -> None:
    error = wire.token_error(CC, response, hint="; try again")

    assert type(error) is AlbertAuthError
    assert str(error).startswith(f"token request failed: POST {CC.url} ")
    assert str(error).endswith(f"{text}; try again")
    assert error.status_code == response.status_code


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"message": "busy", "echo": f"secret={CLIENT_SECRET}"}).encode(),
        b'{"message": "busy", "echo": "csecret\\u002ds3cr3t\\u002d9876"}',  # a JSON escape
        b'{"message": "busy", "echo": "' + quote(CLIENT_SECRET).encode() + b'"}',
        DEEP,
    ],
)
def test_a_busy_endpoint_is_the_statuss_error_without_a_secret_anywhere(content: bytes) -> None:
    error = wire.token_error(CC, response := answer(503, content=content, x_request_id="req-7"))

    assert isinstance(error, ServiceUnavailableError)
    assert (error.url, error.request_id, error.response) == (CC.url, "req-7", response)
    copied = pickle.loads(pickle.dumps(error))
    for text in (str(error), repr(error), repr(error.errors), repr(copied.errors), str(copied)):
        assert SECRET_MARKER not in text
