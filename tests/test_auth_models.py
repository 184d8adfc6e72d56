"""The variant-free half of authentication: managers, tokens, requests, parsing, errors."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError

import albert
from albert.core.auth import (
    AlbertClientCredentials,
    AlbertSSOClient,
    auth_from_env,
    resolve_auth_base_url,
)
from albert.core.auth_tokens import (
    AccessToken,
    SSOTenantToken,
    check_email_response,
    client_credentials_request,
    email_check_request,
    parse_access_token,
    parse_sso_tokens,
    select_tenant,
    sso_login_url,
    sso_refresh_request,
    token_endpoint_error,
    token_request_error,
)
from albert.exceptions import AlbertAuthError, ServiceUnavailableError, TooManyRequestsError
from tests.auth_fakes import CLIENT_ID, CLIENT_SECRET, EMAIL, SECRET_MARKER

BASE_URL = "https://albert.test"
NOW = 1_000_000.0


def credentials(**changes: object) -> AlbertClientCredentials:
    fields: dict[str, object] = {"id": CLIENT_ID, "secret": CLIENT_SECRET, "base_url": BASE_URL}
    fields.update(changes)
    return AlbertClientCredentials(**fields)  # type: ignore[arg-type]


def answer(request_url: str, status: int, body: object = None, **kwargs: object) -> httpx.Response:
    request = httpx.Request("POST", request_url)
    if body is None:
        return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]
    return httpx.Response(status, json=body, request=request)


# the public names


def test_the_managers_are_exported_from_albert() -> None:
    assert albert.AlbertClientCredentials is AlbertClientCredentials
    assert albert.AlbertSSOClient is AlbertSSOClient
    assert {"AlbertClientCredentials", "AlbertSSOClient"} <= set(dir(albert))


# client credentials


def test_client_credentials_hide_the_secret() -> None:
    creds = credentials()

    assert isinstance(creds.secret, SecretStr)
    assert creds.secret.get_secret_value() == CLIENT_SECRET
    for text in (repr(creds), str(creds), creds.model_dump_json()):
        assert SECRET_MARKER not in text
    assert CLIENT_ID in repr(creds)


def test_client_credentials_base_url_defaults_and_is_normalized(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert AlbertClientCredentials(id="a", secret="b").base_url == "https://app.albertinvent.com"
    monkeypatch.setenv("ALBERT_BASE_URL", "https://env.test/")
    assert AlbertClientCredentials(id="a", secret="b").base_url == "https://env.test"
    assert credentials(base_url="https://given.test/").base_url == "https://given.test"
    assert credentials(base_url=None).base_url == "https://env.test"


@pytest.mark.parametrize(
    "changes",
    [{"secret": ""}, {"id": ""}, {"base_url": "ftp://x"}, {"base_url": "not a url"}, {"x": 1}],
)
def test_client_credentials_refuse_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        credentials(**changes)


def test_client_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ALBERT_BASE_URL", BASE_URL)

    creds = AlbertClientCredentials.from_env()

    assert creds == credentials()


def test_client_credentials_from_env_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)

    with pytest.raises(AlbertAuthError, match="ALBERT_CLIENT_SECRET") as caught:
        AlbertClientCredentials.from_env()
    assert "ALBERT_CLIENT_ID" not in str(caught.value).split("(")[0]


def test_the_managers_are_frozen() -> None:
    with pytest.raises(ValidationError):
        credentials().id = "other"  # type: ignore[misc]


# SSO manager


def test_sso_client_fields_and_repr() -> None:
    sso = AlbertSSOClient(email=f" {EMAIL} ", base_url=BASE_URL + "/", tenant_id="TEN1")

    assert sso.email == EMAIL
    assert sso.base_url == BASE_URL
    assert not sso.is_authenticated
    sso._logged_in("refresh-s3cr3t-x", None)
    assert sso.is_authenticated
    assert SECRET_MARKER not in repr(sso)
    assert SECRET_MARKER not in str(sso)


def test_sso_client_wants_an_email() -> None:
    with pytest.raises(ValidationError, match="e-mail"):
        AlbertSSOClient(email="nobody", base_url=BASE_URL)


# base URL agreement


def test_the_client_base_url_must_agree_with_the_manager() -> None:
    creds = credentials()

    assert resolve_auth_base_url(None, creds) == BASE_URL
    assert resolve_auth_base_url(BASE_URL + "/", creds) == BASE_URL
    with pytest.raises(ValueError, match="differs"):
        resolve_auth_base_url("https://other.test", creds)


# environment


def test_auth_from_env_prefers_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALBERT_TOKEN", "tok")
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)
    assert auth_from_env() == "tok"

    monkeypatch.delenv("ALBERT_TOKEN")
    found = auth_from_env()
    assert isinstance(found, AlbertClientCredentials)
    assert found.id == CLIENT_ID


@pytest.mark.parametrize(
    ("variables", "hint"),
    [
        ({}, None),
        (
            {"ALBERT_CLIENT_ID": CLIENT_ID},
            "ALBERT_CLIENT_ID is set but ALBERT_CLIENT_SECRET is not",
        ),
        (
            {"ALBERT_CLIENT_SECRET": CLIENT_SECRET},
            "ALBERT_CLIENT_SECRET is set but ALBERT_CLIENT_ID is not",
        ),
    ],
)
def test_auth_from_env_lists_the_variables_it_looked_for(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], hint: str | None
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(AlbertAuthError) as caught:
        auth_from_env()

    text = str(caught.value)
    for name in ("ALBERT_TOKEN", "ALBERT_CLIENT_ID", "ALBERT_CLIENT_SECRET"):
        assert name in text
    if hint:
        assert hint in text
    assert SECRET_MARKER not in text


# access tokens


def test_a_token_is_refreshed_one_minute_before_it_expires() -> None:
    token = AccessToken.expiring_in("tok-s3cr3t", 3600, now=NOW)

    assert token.expires_at == NOW + 3600
    assert token.refresh_at == NOW + 3540
    assert not token.needs_refresh(NOW + 3539.9)
    assert token.needs_refresh(NOW + 3540)
    assert token.secret() == "tok-s3cr3t"
    assert SECRET_MARKER not in repr(token)


def test_a_short_lived_token_is_refreshed_half_way() -> None:
    token = AccessToken.expiring_in("t", 30, now=NOW)

    assert token.refresh_at == NOW + 15
    assert not token.needs_refresh(NOW + 14)
    assert AccessToken.expiring_in("t", -5, now=NOW).needs_refresh(NOW)


# requests


def test_the_client_credentials_request() -> None:
    request = client_credentials_request(credentials())

    assert request.method == "POST"
    assert request.url == BASE_URL + "/api/v3/login/oauth/token"
    assert request.form == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert SECRET_MARKER not in repr(request)


def test_the_sso_requests() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)

    check = email_check_request(sso, tenant_id=None)
    assert (check.method, check.url, check.params) == (
        "GET",
        BASE_URL + "/api/v3/login",
        {"email": EMAIL},
    )
    assert email_check_request(sso, tenant_id="T1").params == {"email": EMAIL, "tenantId": "T1"}

    url = sso_login_url(sso, port=5003, tenant_id="T1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE_URL + "/api/v3/login"
    assert parse_qs(parts.query) == {
        "source": ["sdk"],
        "email": [EMAIL],
        "port": ["5003"],
        "tenantId": ["T1"],
    }
    assert "tenantId" not in sso_login_url(sso, port=5003, tenant_id=None)

    refresh = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t-1"))
    assert (refresh.method, refresh.url) == ("POST", BASE_URL + "/api/v3/login/refresh")
    assert refresh.json == {"refreshtoken": "refresh-s3cr3t-1"}
    assert SECRET_MARKER not in repr(refresh)


# responses


def test_parse_a_client_credentials_token() -> None:
    request = client_credentials_request(credentials())
    response = answer(
        request.url,
        200,
        {"access_token": "access-s3cr3t", "expires_in": 600, "token_type": "bearer"},
    )

    token = parse_access_token(request, response, now=NOW)

    assert token.secret() == "access-s3cr3t"
    assert token.expires_at == NOW + 600
    assert token.token_type == "bearer"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"expires_in": 600}, "no access_token"),
        ({"access_token": "access-s3cr3t"}, "no expires_in"),
        ({"access_token": "access-s3cr3t", "expires_in": "soon"}, "no expires_in"),
        (["access-s3cr3t"], "not a JSON object"),
    ],
)
def test_a_bad_token_body_is_described_not_quoted(body: object, detail: str) -> None:
    request = client_credentials_request(credentials())

    with pytest.raises(AlbertAuthError, match=detail) as caught:
        parse_access_token(request, answer(request.url, 200, body), now=NOW)
    assert SECRET_MARKER not in str(caught.value)


def test_a_token_body_that_is_not_json() -> None:
    request = client_credentials_request(credentials())
    response = answer(request.url, 200, None, text="<html>access-s3cr3t</html>")

    with pytest.raises(AlbertAuthError, match="invalid JSON") as caught:
        parse_access_token(request, response, now=NOW)
    assert SECRET_MARKER not in str(caught.value)
    assert caught.value.__cause__ is None


def _sso_entry(tenant: str, exp: float = 3600) -> dict[str, object]:
    return {
        "tenantId": tenant,
        "jwt": f"jwt-s3cr3t-{tenant}",
        "exp": exp,
        "refreshToken": "r-s3cr3t",
    }


def test_parse_sso_tokens() -> None:
    request = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))
    response = answer(request.url, 200, [_sso_entry("T1"), _sso_entry("T2", 120)])

    tokens = parse_sso_tokens(request, response, now=NOW)

    assert [t.tenant_id for t in tokens] == ["T1", "T2"]
    assert tokens[0].access_token.secret() == "jwt-s3cr3t-T1"
    assert tokens[0].access_token.expires_at == NOW + 3600
    assert tokens[1].access_token.refresh_at == NOW + 60
    assert tokens[0].refresh_token.get_secret_value() == "r-s3cr3t"
    single = parse_sso_tokens(request, answer(request.url, 200, _sso_entry("T3")), now=NOW)
    assert [t.tenant_id for t in single] == ["T3"]


def test_an_sso_exp_that_is_a_posix_time_is_read_as_one() -> None:
    request = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))
    wall = 1_700_000_000.0
    response = answer(request.url, 200, [_sso_entry("T1", exp=wall + 900)])

    (token,) = parse_sso_tokens(request, response, now=NOW, wall_now=wall)

    assert token.access_token.expires_at == NOW + 900


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "no tenant"),
        ({"tenants": 1}, "lacks tenantId, jwt, exp, refreshToken"),
        ([{"tenantId": "T1", "jwt": "jwt-s3cr3t", "exp": 1}], "lacks refreshToken"),
        ("jwt-s3cr3t", "not a JSON list"),
        ([1], "entry 0 is not an object"),
    ],
)
def test_a_bad_sso_body_is_described_not_quoted(body: object, detail: str) -> None:
    request = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))

    with pytest.raises(AlbertAuthError, match=detail) as caught:
        parse_sso_tokens(request, answer(request.url, 200, body), now=NOW)
    assert SECRET_MARKER not in str(caught.value)


def _tenants(*names: str) -> list[SSOTenantToken]:
    return [
        SSOTenantToken(
            tenant_id=name,
            access_token=AccessToken.expiring_in(f"jwt-s3cr3t-{name}", 3600, now=NOW),
            refresh_token=SecretStr("r"),
        )
        for name in names
    ]


def test_select_tenant(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="albert"):
        assert select_tenant(_tenants("T1", "T2"), "t2", email=EMAIL).tenant_id == "T2"
        assert select_tenant(_tenants("T1"), None, email=EMAIL).tenant_id == "T1"
    assert caplog.records == []

    with caplog.at_level(logging.WARNING, logger="albert"):
        chosen = select_tenant(_tenants("T1", "T2"), None, email=EMAIL)
    assert chosen.tenant_id == "T1"
    (record,) = caplog.records
    assert record.name == "albert"
    assert "T1, T2" in record.getMessage()
    assert "tenant_id=" in record.getMessage()

    with pytest.raises(AlbertAuthError, match=r"T3.*available tenants: T1, T2"):
        select_tenant(_tenants("T1", "T2"), "T3", email=EMAIL)


# errors


def test_a_refused_token_request_names_the_endpoint_and_status_but_not_the_secret() -> None:
    request = client_credentials_request(credentials())
    response = answer(
        request.url,
        401,
        {"error": "invalid_client", "error_description": f"secret {CLIENT_SECRET} is wrong"},
    )

    error = token_request_error(request, response)

    text = str(error)
    assert text.startswith(
        "token request failed: POST https://albert.test/api/v3/login/oauth/token"
    )
    assert "401 Unauthorized" in text
    assert "secret *** is wrong" in text
    assert SECRET_MARKER not in text


def test_a_token_error_does_not_quote_a_non_json_body() -> None:
    request = client_credentials_request(credentials())
    response = answer(request.url, 502, None, text="<html>" + "x" * 5000 + "</html>")

    assert str(token_request_error(request, response)) == (
        "token request failed: POST https://albert.test/api/v3/login/oauth/token "
        "answered 502 Bad Gateway"
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_token_endpoint_refusal_is_an_auth_error(status: int) -> None:
    request = client_credentials_request(credentials())

    error = token_endpoint_error(request, answer(request.url, status, {"message": "no"}))

    assert type(error) is AlbertAuthError
    assert f"answered {status}" in str(error)


def test_a_busy_token_endpoint_is_an_http_error_with_status_and_request_id() -> None:
    request = client_credentials_request(credentials())
    busy = httpx.Response(
        503,
        json={"message": f"down, secret {CLIENT_SECRET}"},
        headers={"x-request-id": "req-7"},
        request=httpx.Request("POST", request.url),
    )

    error = token_endpoint_error(request, busy)

    assert isinstance(error, ServiceUnavailableError)
    assert (error.status_code, error.method, error.url) == (503, "POST", request.url)
    assert error.request_id == "req-7"
    assert error.response is busy
    assert str(error) == (
        "503 POST https://albert.test/api/v3/login/oauth/token: "
        "token request failed: down, secret *** (request id req-7)"
    )
    assert SECRET_MARKER not in repr(error)


def test_a_rate_limited_token_endpoint_keeps_its_retry_after() -> None:
    request = sso_refresh_request(BASE_URL, SecretStr("refresh-s3cr3t"))
    response = httpx.Response(
        429, headers={"Retry-After": "12"}, request=httpx.Request("POST", request.url)
    )

    error = token_endpoint_error(request, response)

    assert isinstance(error, TooManyRequestsError)
    assert error.retry_after == 12.0


def test_the_email_check() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    request = email_check_request(sso, tenant_id=None)

    check_email_response(request, answer(request.url, 302), email=EMAIL)
    with pytest.raises(AlbertAuthError, match=f"{EMAIL} has no access to {BASE_URL}"):
        check_email_response(request, answer(request.url, 404), email=EMAIL)
    with pytest.raises(AlbertAuthError, match="answered 400"):
        check_email_response(request, answer(request.url, 400, {"message": "bad"}), email=EMAIL)
    with pytest.raises(ServiceUnavailableError, match="down") as unavailable:
        check_email_response(request, answer(request.url, 503, {"message": "down"}), email=EMAIL)
    assert unavailable.value.status_code == 503


def test_error_bodies_can_be_json_of_any_shape() -> None:
    request = client_credentials_request(credentials())
    response = answer(request.url, 400, {"errors": [{"detail": "bad"}]})

    assert json.dumps([{"detail": "bad"}]) in str(token_request_error(request, response))


def test_a_misnamed_argument_never_quotes_the_secret() -> None:
    import pydantic

    from albert import AlbertClientCredentials

    with pytest.raises(pydantic.ValidationError) as caught:
        AlbertClientCredentials(client_id="cid", client_secret="S3CR3T-VALUE")  # type: ignore[call-arg]
    assert "S3CR3T-VALUE" not in str(caught.value)


# one SSO manager shared by several clients


def test_the_clients_of_an_sso_manager_take_turns_to_refresh() -> None:
    a, b = object(), object()
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    with pytest.raises(AlbertAuthError, match="not logged in"):
        sso._claim_refresh(a, rejected=None, now=NOW)
    sso._logged_in("refresh-s3cr3t-0", None)

    sent = sso._claim_refresh(a, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    assert sso._claim_refresh(b, rejected=None, now=NOW) is None  # another client: wait
    fresh = SSOTenantToken(
        tenant_id="T1",
        access_token=AccessToken.expiring_in("jwt-s3cr3t-1", 3600, now=NOW),
        refresh_token=SecretStr("refresh-s3cr3t-1"),
    )
    sso._finish_refresh(b, None, sent=sent)  # not b's claim: nothing happens
    assert sso._claim_refresh(b, rejected=None, now=NOW) is None
    sso._finish_refresh(a, fresh, sent=sent)

    assert sso._claim_refresh(b, rejected=None, now=NOW) == fresh.access_token
    rejected = fresh.access_token.secret()
    again = sso._claim_refresh(b, rejected=rejected, now=NOW)  # refused by the server: refresh
    assert again == SecretStr("refresh-s3cr3t-1")
    # While b replaces the refused token, nobody is handed it, not even without a refusal.
    assert sso._claim_refresh(a, rejected=None, now=NOW) is None
    sso._finish_refresh(b, None, sent=again)  # failed: the next client may try
    assert sso._claim_refresh(a, rejected=rejected, now=NOW) == again


def test_a_refresh_that_ends_after_a_new_login_keeps_the_login() -> None:
    owner = object()
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-old", None)
    sent = sso._claim_refresh(owner, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    sso._logged_in("refresh-s3cr3t-new", "T2")
    stale = SSOTenantToken(
        tenant_id="T1",
        access_token=AccessToken.expiring_in("jwt-s3cr3t-old", 3600, now=NOW),
        refresh_token=SecretStr("refresh-s3cr3t-old-next"),
    )

    sso._finish_refresh(owner, stale, sent=sent)

    assert sso._claim_refresh(owner, rejected=None, now=NOW) == SecretStr("refresh-s3cr3t-new")


def test_the_clients_of_an_sso_manager_take_turns_to_log_in() -> None:
    a, b = object(), object()
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)

    assert sso._claim_login(a) is True
    assert sso._claim_login(b) is None  # a is at the browser: wait
    assert sso._claim_login(b, again=True) is None  # also for an explicit authenticate()
    assert sso._busy_on_this_thread()
    sso._finish_login(b)  # not b's claim: nothing happens
    assert sso._claim_login(b) is None
    sso._logged_in("refresh-s3cr3t-0", None)
    sso._finish_login(a)

    assert not sso._busy_on_this_thread()
    assert sso._claim_login(b) is False  # logged in
    assert sso._claim_login(b, again=True) is True
    sso._finish_login(b)


def test_ending_a_login_leaves_a_refresh_claimed_meanwhile_marked_busy() -> None:
    login, refresh = object(), object()
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    assert sso._claim_login(login) is True
    sso._logged_in("refresh-s3cr3t-0", None)
    claim = sso._claim_refresh(refresh, rejected=None, now=NOW, on_this_threads_loop=True)
    assert isinstance(claim, SecretStr)

    sso._finish_login(login)

    assert sso._busy_on_this_thread()  # the refresh is still under way on this thread
    sso._finish_refresh(refresh, None, sent=claim)
    assert not sso._busy_on_this_thread()


def test_a_refresh_a_blocking_client_claimed_does_not_stall_this_thread() -> None:
    # A sync client refreshes in a worker thread: a blocking caller on the
    # claiming thread may wait for it (it must not for this thread's event loop).
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    owner = object()
    claim = sso._claim_refresh(owner, rejected=None, now=NOW, on_this_threads_loop=False)
    assert isinstance(claim, SecretStr)

    assert not sso._busy_on_this_thread()
    assert sso._claim_refresh(object(), rejected=None, now=NOW) is None  # still claimed
    sso._finish_refresh(owner, None, sent=claim)


def test_a_claim_whose_work_never_started_is_given_back_and_stays_unsent() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    owner = object()
    assert isinstance(sso._claim_refresh(owner, rejected=None, now=NOW), SecretStr)

    sso._give_up_unstarted_refresh(owner)  # the caller left before its work began

    assert not sso._start_refresh(owner)  # the work, starting late, must not send it
    other = object()
    sent = sso._claim_refresh(other, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    sso._finish_refresh(other, None, sent=sent)


def test_a_claim_whose_work_started_is_kept_until_the_work_finishes_it() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    owner = object()
    sent = sso._claim_refresh(owner, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    assert sso._start_refresh(owner)

    sso._give_up_unstarted_refresh(owner)  # the caller left; the work goes on

    assert sso._claim_refresh(object(), rejected=None, now=NOW) is None
    sso._finish_refresh(owner, None, sent=sent)
    assert sso._claim_refresh(object(), rejected=None, now=NOW) is not None


def _rotated(n: int) -> SSOTenantToken:
    return SSOTenantToken(
        tenant_id="T1",
        access_token=AccessToken.expiring_in(f"jwt-s3cr3t-{n}", 3600, now=NOW),
        refresh_token=SecretStr(f"refresh-s3cr3t-{n}"),
    )


def test_an_answer_that_comes_after_its_claim_was_given_up_is_still_kept() -> None:
    # The server spent the refresh token sent: its answer is the only way on,
    # even when the caller stopped waiting (a sync worker past its bound).
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    owner = object()
    sent = sso._claim_refresh(owner, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    sso._finish_refresh(owner, None, sent=sent)  # the caller gave up at its bound

    sso._finish_refresh(owner, _rotated(1), sent=sent)  # the worker's late answer

    assert sso._claim_refresh(object(), rejected=None, now=NOW) == _rotated(1).access_token


def test_a_late_answer_never_replaces_a_newer_refresh_token() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    slow, fast = object(), object()
    sent = sso._claim_refresh(slow, rejected=None, now=NOW)
    assert isinstance(sent, SecretStr)
    sso._finish_refresh(slow, None, sent=sent)
    assert sso._claim_refresh(fast, rejected="jwt", now=NOW) == sent  # the server refuses it...
    sso._finish_refresh(fast, _rotated(2), sent=sent)  # ... or, here, answers first

    sso._finish_refresh(slow, _rotated(1), sent=sent)

    assert sso._claim_refresh(object(), rejected=None, now=NOW) == _rotated(2).access_token


def test_a_claim_that_outlasts_its_own_bound_is_taken_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    slow, lost = object(), object()
    sent = sso._claim_refresh(slow, rejected=None, now=NOW, lasts_at_most=60)
    assert isinstance(sent, SecretStr)
    assert sso._claim_refresh(object(), rejected=None, now=NOW) is None  # within its bound
    sso._finish_refresh(slow, None, sent=sent)
    assert sso._claim_refresh(lost, rejected=None, now=NOW, lasts_at_most=0.0) == sent

    with caplog.at_level(logging.WARNING, logger="albert"):
        taker = object()
        claim = sso._claim_refresh(taker, rejected=None, now=NOW)

    assert claim == sent
    assert "presuming it lost" in caplog.text
    sso._finish_refresh(lost, None, sent=sent)  # the lost one, if it ever ends: no effect
    assert sso._claim_refresh(object(), rejected=None, now=NOW) is None  # still the taker's


def test_a_login_ends_a_refresh_claim_of_the_refresh_token_it_replaces() -> None:
    sso = AlbertSSOClient(email=EMAIL, base_url=BASE_URL)
    sso._logged_in("refresh-s3cr3t-0", None)
    stuck = object()
    assert isinstance(sso._claim_refresh(stuck, rejected=None, now=NOW), SecretStr)

    sso._logged_in("refresh-s3cr3t-new", None)  # authenticate(): a browser login

    assert sso._claim_refresh(object(), rejected=None, now=NOW) == SecretStr("refresh-s3cr3t-new")


def test_a_short_secret_is_blanked_where_quoted_not_inside_other_words() -> None:
    short = AlbertClientCredentials(id="client-1", secret="S", base_url="https://albert.test")
    request = client_credentials_request(short)
    response = answer(request.url, 401, {"message": "secret S is wrong (Status: S)"})

    text = str(token_request_error(request, response))

    assert "POST https://albert.test" in text
    assert "Unauthorized" in text
    assert "secret *** is wrong (Status: ***)" in text


def test_a_refused_token_request_carries_the_status_and_the_request_id() -> None:
    import pickle

    request = client_credentials_request(credentials())
    response = httpx.Response(
        401,
        json={"message": "invalid client"},
        headers={"x-request-id": "req-42"},
        request=httpx.Request("POST", request.url),
    )

    error = token_request_error(request, response)

    assert error.status_code == 401
    assert error.request_id == "req-42"
    assert str(error).endswith("invalid client (request id req-42)")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.status_code, copy.request_id) == (
        AlbertAuthError,
        str(error),
        401,
        "req-42",
    )


def test_an_auth_error_without_an_answer_has_no_status() -> None:
    error = AlbertAuthError("No credentials")
    assert (str(error), error.status_code, error.request_id) == ("No credentials", None, None)


def test_a_long_secret_is_blanked_also_percent_encoded_or_next_to_letters() -> None:
    secret = "s3cr3t+/=value"
    request = client_credentials_request(credentials(secret=secret))
    echoed = f"form client_secret%3D{quote(secret, safe='')}, got {secret}x"
    response = answer(request.url, 401, {"message": echoed})

    text = str(token_request_error(request, response))

    assert SECRET_MARKER not in text
    assert "client_secret%3D***, got ***x" in text


def test_a_busy_token_endpoint_keeps_no_secret_in_the_parsed_body() -> None:
    import pickle

    request = client_credentials_request(credentials())
    response = answer(request.url, 503, {"message": "busy", "echo": f"secret={CLIENT_SECRET}"})

    error = token_endpoint_error(request, response)

    assert SECRET_MARKER not in repr(error.errors)
    assert SECRET_MARKER not in repr(pickle.loads(pickle.dumps(error)).errors)


def test_a_blank_token_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALBERT_TOKEN", " \r\n")
    monkeypatch.setenv("ALBERT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ALBERT_CLIENT_SECRET", CLIENT_SECRET)

    found = auth_from_env()

    assert isinstance(found, AlbertClientCredentials)
    assert found.id == CLIENT_ID
