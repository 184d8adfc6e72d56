"""The variant-free half of authentication: managers, the token endpoints' wire format, errors."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError

import albert
from albert.auth import AlbertClientCredentials, AlbertSSOClient
from albert.auth.managers import auth_from_env, resolve_auth_base_url
from albert.core.auth import (
    AccessToken,
    TenantToken,
    check_email_response,
    client_credentials_request,
    email_check_request,
    parse_access_token,
    parse_sso_tokens,
    select_tenant,
    sso_login_url,
    sso_refresh_request,
    token_error,
)
from albert.exceptions import AlbertAuthError, ServiceUnavailableError, TooManyRequestsError
from tests.auth_fakes import CLIENT_ID, CLIENT_SECRET, EMAIL, SECRET_MARKER

BASE_URL = "https://albert.test"
NOW = 1_000_000.0
CC = client_credentials_request(BASE_URL, CLIENT_ID, SecretStr(CLIENT_SECRET))
REFRESH = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))
DEEP = b"[" * 100_000 + b"]" * 100_000


def answer(status: int, body: object = None, *, content: bytes | None = None) -> httpx.Response:
    request = httpx.Request("POST", CC.url)
    if content is not None:
        return httpx.Response(status, content=content, request=request)
    return httpx.Response(status, json=body, request=request)


# managers


def test_client_credentials_are_configuration_that_hides_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL + "/")

    assert albert.AlbertClientCredentials is AlbertClientCredentials
    assert albert.AlbertSSOClient is AlbertSSOClient
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
    assert other._login._manager is other
    assert not sso.is_authenticated
    assert SECRET_MARKER not in repr(sso) + repr(sso._login)


def test_the_client_base_url_must_agree_with_the_manager() -> None:
    creds = AlbertClientCredentials(id=CLIENT_ID, secret=CLIENT_SECRET, base_url=BASE_URL)

    assert resolve_auth_base_url(None, creds) == BASE_URL
    assert resolve_auth_base_url(BASE_URL + "/", creds) == BASE_URL
    with pytest.raises(ValueError, match="differs"):
        resolve_auth_base_url("https://other.test", creds)
    with pytest.raises(TypeError):
        resolve_auth_base_url(None, "token")  # type: ignore[arg-type]


def test_auth_from_env_prefers_a_token_then_client_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_TOKEN", "tok")
    assert auth_from_env() == "tok"
    monkeypatch.setenv("ALBERT_TOKEN", " \r\n")  # blank counts as unset
    found = auth_from_env()
    assert isinstance(found, AlbertClientCredentials)
    assert found == AlbertClientCredentials.from_env()


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
    token = AccessToken.expiring_in("tok-s3cr3t", 3600, now=NOW)

    assert (token.expires_at, token.refresh_at) == (NOW + 3600, NOW + 3540)
    assert token.usable(NOW + 3539.9)
    assert not token.usable(NOW + 3540)
    assert not token.usable(NOW, rejected="tok-s3cr3t")
    assert AccessToken.expiring_in("t", 30, now=NOW).refresh_at == NOW + 15
    assert SECRET_MARKER not in repr(token)


def test_the_requests() -> None:
    assert (CC.method, CC.url, CC.form) == (
        "POST",
        BASE_URL + "/api/v3/login/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    check = email_check_request(BASE_URL, EMAIL, "T1")
    assert (check.method, check.url, check.params) == (
        "GET",
        BASE_URL + "/api/v3/login",
        {"email": EMAIL, "tenantId": "T1"},
    )
    url = urlsplit(sso_login_url(BASE_URL, EMAIL, port=5003, tenant_id=None, state="st-1"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == BASE_URL + "/api/v3/login"
    assert parse_qs(url.query) == {
        "source": ["sdk"],
        "email": [EMAIL],
        "port": ["5003"],
        "state": ["st-1"],
    }
    assert (REFRESH.url, REFRESH.json) == (
        BASE_URL + "/api/v3/login/refresh",
        {"refreshtoken": "refresh-s3cr3t"},
    )
    assert SECRET_MARKER not in repr(CC) + repr(REFRESH)


# answers


def test_parse_a_client_credentials_token() -> None:
    token = parse_access_token(
        CC, answer(200, {"access_token": "a.b-c_~+/=", "expires_in": 600}), now=NOW
    )

    assert (token.secret(), token.expires_at) == ("a.b-c_~+/=", NOW + 600)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"expires_in": 600}, "no access_token"),
        ({"access_token": "access-s3cr3t", "expires_in": "soon"}, "no expires_in"),
        (["access-s3cr3t"], "not a JSON object"),
        (b"<html>access-s3cr3t</html>", "invalid JSON"),
        (DEEP, "nested too deeply"),
        ({"access_token": "s3cr3t\r\nX-Evil: 1", "expires_in": 60}, "characters a token cannot"),
        ({"access_token": "s3cr3t\x00", "expires_in": 60}, "characters a token cannot"),
        ({"access_token": "s3cr3t token", "expires_in": 60}, "characters a token cannot"),
        ({"access_token": "s3cr3t=x", "expires_in": 60}, "characters a token cannot"),
    ],
)
def test_a_bad_token_answer_is_described_not_quoted(body: object, detail: str) -> None:
    response = answer(200, content=body) if isinstance(body, bytes) else answer(200, body)

    with pytest.raises(AlbertAuthError, match=detail) as caught:
        parse_access_token(CC, response, now=NOW)
    assert SECRET_MARKER not in str(caught.value)
    assert caught.value.__cause__ is None


def _entry(tenant: str, exp: float = 3600, jwt: str = "jwt-s3cr3t") -> dict[str, object]:
    return {"tenantId": tenant, "jwt": jwt, "exp": exp, "refreshToken": "r-s3cr3t"}


def test_parse_sso_tokens() -> None:
    wall = 1_700_000_000.0
    body = [_entry("T1"), _entry("T2", 120), _entry("T3", exp=wall + 900)]

    tokens = parse_sso_tokens(REFRESH, answer(200, body), now=NOW, wall_now=wall)

    assert [t.tenant_id for t in tokens] == ["T1", "T2", "T3"]
    assert [t.access_token.refresh_at - NOW for t in tokens] == [3540, 60, 840]  # exp: POSIX time
    assert tokens[0].refresh_token.get_secret_value() == "r-s3cr3t"
    assert len(parse_sso_tokens(REFRESH, answer(200, _entry("T")), now=NOW, wall_now=NOW)) == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "no tenant"),
        ({"tenants": 1}, "lacks tenantId, jwt, exp, refreshToken"),
        ("jwt-s3cr3t", "not a JSON list"),
        ([1], "entry 0 is not an object"),
        ([_entry("T1", jwt="jwt-s3cr3t\r\n")], "jwt holds characters a token cannot"),
        (DEEP, "nested too deeply"),
    ],
)
def test_a_bad_sso_answer_is_described_not_quoted(body: object, detail: str) -> None:
    response = answer(200, content=body) if isinstance(body, bytes) else answer(200, body)

    with pytest.raises(AlbertAuthError, match=detail) as caught:
        parse_sso_tokens(REFRESH, response, now=NOW, wall_now=NOW)
    assert SECRET_MARKER not in str(caught.value)


def test_select_tenant(caplog: pytest.LogCaptureFixture) -> None:
    tokens = [
        TenantToken(n, AccessToken.expiring_in("j", 60, now=NOW), SecretStr("r")) for n in "AB"
    ]

    with caplog.at_level(logging.WARNING, logger="albert"):
        assert select_tenant(tokens, "b", email=EMAIL).tenant_id == "B"
        assert caplog.records == []
        assert select_tenant(tokens, None, email=EMAIL).tenant_id == "A"
    assert "A, B" in caplog.text
    assert "tenant_id=" in caplog.text
    with pytest.raises(AlbertAuthError, match=r"'C'; available tenants: A, B"):
        select_tenant(tokens, "C", email=EMAIL)


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
    error = token_error(CC, response, hint="; try again")

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
    response = httpx.Response(
        503,
        content=content,
        headers={"x-request-id": "req-7"},
        request=httpx.Request("POST", CC.url),
    )

    error = token_error(CC, response)

    assert isinstance(error, ServiceUnavailableError)
    assert (error.status_code, error.method, error.url, error.request_id) == (
        503,
        "POST",
        CC.url,
        "req-7",
    )
    assert error.response is response
    copied = pickle.loads(pickle.dumps(error))
    for text in (str(error), repr(error), repr(error.errors), repr(copied.errors), str(copied)):
        assert SECRET_MARKER not in text


def test_a_rate_limited_endpoint_keeps_its_retry_after_and_a_short_secret_is_blanked_whole() -> (
    None
):
    limited = httpx.Response(
        429, headers={"Retry-After": "12"}, request=httpx.Request("POST", CC.url)
    )
    short = client_credentials_request(BASE_URL, CLIENT_ID, SecretStr("S"))

    assert isinstance(error := token_error(CC, limited), TooManyRequestsError)
    assert error.retry_after == 12.0
    refusal = token_error(short, answer(401, {"message": "secret S is wrong (Status: S)"}))
    assert "POST https://albert.test" in str(refusal)
    assert "secret *** is wrong (Status: ***)" in str(refusal)


def test_the_email_check() -> None:
    check = email_check_request(BASE_URL, EMAIL, None)

    check_email_response(check, answer(302), email=EMAIL)
    with pytest.raises(AlbertAuthError, match=f"{EMAIL} has no access to {BASE_URL}"):
        check_email_response(check, answer(404), email=EMAIL)
    with pytest.raises(AlbertAuthError, match="answered 400"):
        check_email_response(check, answer(400, {"message": "bad"}), email=EMAIL)
    with pytest.raises(ServiceUnavailableError, match="down"):
        check_email_response(check, answer(503, {"message": "down"}), email=EMAIL)
