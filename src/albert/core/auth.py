"""The token endpoints' wire format: the requests to send, and what their answers mean.

Pure functions for every token fetcher (a session's provider, the SSO login):
requests, and answers parsed into tokens or into the exception that explains
them, which never holds a client secret, a refresh token or an access token.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from albert.core.config import API_PREFIX
from albert.core.logs import logger
from albert.core.redaction import blank_secret
from albert.core.responses import request_id_of
from albert.exceptions import AlbertAuthError, AlbertHTTPError, exception_class_for_status

__all__ = [
    "LOGIN_PATH",
    "REFRESH_MARGIN",
    "REFRESH_PATH",
    "TOKEN_PATH",
    "AccessToken",
    "AuthRequest",
    "Clock",
    "TenantToken",
    "check_email_response",
    "client_credentials_request",
    "email_check_request",
    "parse_access_token",
    "parse_sso_tokens",
    "select_tenant",
    "sso_login_url",
    "sso_refresh_request",
    "token_error",
]

#: A source of the current time in POSIX seconds (``time.time``); tests pass a fake one.
Clock = Callable[[], float]

TOKEN_PATH = f"{API_PREFIX}/login/oauth/token"
LOGIN_PATH = f"{API_PREFIX}/login"
REFRESH_PATH = f"{API_PREFIX}/login/refresh"

#: Seconds before expiry at which a token is replaced.
REFRESH_MARGIN = 60.0
#: An SSO ``exp`` at least this large is a POSIX time, not a number of seconds.
_EPOCH_THRESHOLD = 1e9
#: How much of a server's error message an error quotes.
_MESSAGE_CHARS = 200
#: What a bearer token may hold (RFC 6750, ``b64token``): anything else would
#: break the ``Authorization`` header, or smuggle another one into it.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class AccessToken:
    """An access token, when it expires and when to replace it, on its fetcher's clock.

    It is replaced a minute before it expires, or half-way through a life
    shorter than two minutes (so a short-lived token is not fetched on every call).
    """

    value: SecretStr
    expires_at: float
    refresh_at: float

    @classmethod
    def expiring_in(cls, value: str, seconds: float, *, now: float) -> AccessToken:
        """Return a token that expires ``seconds`` after ``now``."""
        seconds = max(0.0, seconds)
        early = max(seconds - REFRESH_MARGIN, seconds / 2)
        return cls(SecretStr(value), expires_at=now + seconds, refresh_at=now + early)

    def usable(self, now: float, rejected: str | None = None) -> bool:
        """Tell whether to send this token at ``now``: not due, and not the one refused."""
        return now < self.refresh_at and self.secret() != rejected

    def secret(self) -> str:
        """Return the token itself, for the ``Authorization`` header only."""
        return self.value.get_secret_value()


@dataclass(frozen=True)
class TenantToken:
    """One tenant's entry of an SSO refresh answer: its access token and the next refresh token."""

    tenant_id: str
    access_token: AccessToken
    refresh_token: SecretStr


@dataclass(frozen=True)
class AuthRequest:
    """A request to an authentication endpoint; its body and secrets stay out of ``repr``.

    ``what`` names it in messages, which never quote its ``secrets``.
    """

    method: str
    url: str
    what: str
    params: dict[str, str] | None = None
    form: dict[str, str] | None = field(default=None, repr=False)
    json: dict[str, str] | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret of this request replaced by ``***``."""
        for secret in self.secrets:
            text = blank_secret(text, secret)
        return text


def client_credentials_request(base_url: str, client_id: str, secret: SecretStr) -> AuthRequest:
    """Return ``POST /api/v3/login/oauth/token`` with the form of the client-credentials grant."""
    value = secret.get_secret_value()
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": value}
    return AuthRequest("POST", base_url + TOKEN_PATH, "token request", form=form, secrets=(value,))


def _login_query(email: str, tenant_id: str | None) -> dict[str, str]:
    return {"email": email, **({"tenantId": tenant_id} if tenant_id else {})}


def email_check_request(base_url: str, email: str, tenant_id: str | None) -> AuthRequest:
    """Return ``GET /api/v3/login?email=...``: a redirect means the e-mail may log in, 404 not."""
    return AuthRequest(
        "GET", base_url + LOGIN_PATH, "SSO e-mail check", params=_login_query(email, tenant_id)
    )


def sso_login_url(
    base_url: str, email: str, *, port: int, tenant_id: str | None, state: str
) -> str:
    """Return the login page that calls back to ``localhost:port`` with a token and ``state``."""
    query = {"source": "sdk", "email": email, "port": str(port), "state": state}
    if tenant_id:
        query["tenantId"] = tenant_id
    return str(httpx.URL(base_url + LOGIN_PATH, params=query))


def sso_refresh_request(base_url: str, refresh_token: SecretStr) -> AuthRequest:
    """Return ``POST /api/v3/login/refresh`` with ``{"refreshtoken": ...}``."""
    value = refresh_token.get_secret_value()
    return AuthRequest(
        "POST",
        base_url + REFRESH_PATH,
        "SSO refresh-token request",
        json={"refreshtoken": value},
        secrets=(value,),
    )


def _decode(content: bytes) -> tuple[Any, str | None]:
    """Return ``(body, None)``, or ``(None, why)`` when the body is not readable JSON."""
    try:
        return json.loads(content), None
    except ValueError:
        return None, "invalid JSON"
    except RecursionError:  # a hostile or broken server: not worth a crash
        return None, "JSON nested too deeply"


def _server_message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in ("error_description", "message", "error", "errors", "detail"):
        value = body.get(key)
        if value:
            try:
                text = value if isinstance(value, str) else json.dumps(value)
            except (ValueError, RecursionError):
                continue
            return " ".join(text.split())[:_MESSAGE_CHARS]
    return None


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    """Return a parsed body with every string (keys too) redacted, decoded escapes included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    if isinstance(value, dict):
        return {redact(key): _redacted(item, redact) for key, item in value.items()}
    return value


def token_error(
    request: AuthRequest, response: httpx.Response, *, hint: str = ""
) -> AlbertAuthError | AlbertHTTPError:
    """Build the error for an authentication request answered with an error status.

    A 429 or a 5xx ("try again later") becomes the `AlbertHTTPError` subclass
    named for the status, with the request id and the response (for
    ``Retry-After``): the session retries it like any other. Any other status
    is a refusal: `AlbertAuthError`, ending with ``hint``. Either quotes the
    server's JSON message; neither holds a secret of the request, in its text
    or its parsed ``errors``, also where the server echoed one escaped.
    """
    status = response.status_code
    body, _ = _decode(response.content) if response.content else (None, None)
    message = _server_message(body)
    if status == 429 or status >= 500:
        try:
            errors = _redacted(body, request.redact) if body is not None else None
        except RecursionError:
            errors = None
        return exception_class_for_status(status)(
            request.redact(f"{request.what} failed: {message or response.reason_phrase}"),
            status_code=status,
            method=request.method,
            url=request.url,
            request_id=request_id_of(response),
            errors=errors,
            response=response,
        )
    text = f"{request.what} failed: {request.method} {request.url} answered {status}"
    text = f"{text} {response.reason_phrase}".rstrip() + (f": {message}" if message else "")
    return AlbertAuthError(
        request.redact(text) + hint, status_code=status, request_id=request_id_of(response)
    )


def _bad_body(request: AuthRequest, response: httpx.Response, detail: str) -> AlbertAuthError:
    # The body may hold a token: describe it, never quote it.
    content_type = response.headers.get("content-type", "no content type")
    return AlbertAuthError(
        f"{request.what}: {request.method} {request.url} answered {response.status_code} "
        f"with a {content_type} body that is not a token response ({detail})",
        status_code=response.status_code,
        request_id=request_id_of(response),
    )


def _json_body(request: AuthRequest, response: httpx.Response) -> Any:
    body, problem = _decode(response.content)
    if problem:
        raise _bad_body(request, response, problem)
    return body


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bearer(request: AuthRequest, response: httpx.Response, value: Any, name: str) -> str | None:
    text = _text(value)
    if text is not None and not _B64TOKEN.fullmatch(text):
        raise _bad_body(request, response, f"its {name} holds characters a token cannot")
    return text


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def parse_access_token(
    request: AuthRequest, response: httpx.Response, *, now: float
) -> AccessToken:
    """Parse a client-credentials answer, ``{"access_token", "expires_in", ...}``.

    Raises
    ------
    AlbertAuthError
        If the body is not such an object, or the token holds characters a
        bearer token cannot (RFC 6750); the token is never quoted.
    """
    body = _json_body(request, response)
    if not isinstance(body, dict):
        raise _bad_body(request, response, "not a JSON object")
    value = _bearer(request, response, body.get("access_token"), "access_token")
    seconds = _seconds(body.get("expires_in"))
    if value is None or seconds is None:
        raise _bad_body(request, response, "no access_token" if value is None else "no expires_in")
    return AccessToken.expiring_in(value, seconds, now=now)


def parse_sso_tokens(
    request: AuthRequest, response: httpx.Response, *, now: float, wall_now: float
) -> list[TenantToken]:
    """Parse an SSO refresh answer: a list of ``{"tenantId", "jwt", "exp", "refreshToken"}``.

    A single object is read as a list of one. ``exp`` is a number of seconds,
    or (when it can only be one) a POSIX time, read against ``wall_now``.

    Raises
    ------
    AlbertAuthError
        If the body is not such a list, is empty, or a ``jwt`` holds
        characters a bearer token cannot; no token is ever quoted.
    """
    body = _json_body(request, response)
    entries = [body] if isinstance(body, dict) else body
    if not isinstance(entries, list):
        raise _bad_body(request, response, "not a JSON list")
    if not entries:
        raise AlbertAuthError(f"{request.what}: {request.url} returned no tenant: no access")
    tokens = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad_body(request, response, f"entry {index} is not an object")
        tenant, refresh = _text(entry.get("tenantId")), _text(entry.get("refreshToken"))
        jwt, exp = _bearer(request, response, entry.get("jwt"), "jwt"), _seconds(entry.get("exp"))
        if tenant is None or jwt is None or exp is None or refresh is None:
            named = (("tenantId", tenant), ("jwt", jwt), ("exp", exp), ("refreshToken", refresh))
            missing = ", ".join(name for name, value in named if value is None)
            raise _bad_body(request, response, f"entry {index} lacks {missing}")
        lifetime = exp - wall_now if exp >= _EPOCH_THRESHOLD else exp
        tokens.append(
            TenantToken(tenant, AccessToken.expiring_in(jwt, lifetime, now=now), SecretStr(refresh))
        )
    return tokens


def select_tenant(
    tokens: Iterable[TenantToken], tenant_id: str | None, *, email: str
) -> TenantToken:
    """Pick the tenant asked for (case-insensitively), else the first (warning if several).

    Raises
    ------
    AlbertAuthError
        If ``tenant_id`` is not among the tenants the user may use.
    """
    available = list(tokens)
    names = ", ".join(token.tenant_id for token in available)
    if tenant_id:
        for token in available:
            if token.tenant_id.casefold() == tenant_id.casefold():
                return token
        raise AlbertAuthError(
            f"{email} has no access to tenant {tenant_id!r}; available tenants: {names}"
        )
    if len(available) > 1:
        logger.warning(
            "%s has access to several tenants (%s) and no tenant_id was given: using %s. "
            "Pass tenant_id= to choose.",
            email,
            names,
            available[0].tenant_id,
        )
    return available[0]


def check_email_response(request: AuthRequest, response: httpx.Response, *, email: str) -> None:
    """Interpret the answer to the SSO e-mail check (sent without following redirects).

    Raises
    ------
    AlbertAuthError
        On 404 (the e-mail has no access) or another refusal.
    AlbertHTTPError
        On 429 or 5xx, which the session retries like any other.
    """
    if 300 <= response.status_code < 400:
        return
    if response.status_code == 404:
        server = request.url.removesuffix(LOGIN_PATH)
        raise AlbertAuthError(f"SSO login refused: {email} has no access to {server} (404)")
    raise token_error(request, response)
