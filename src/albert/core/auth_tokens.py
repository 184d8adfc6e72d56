"""Access tokens and the wire format of the token endpoints: requests, responses, errors.

Everything here is pure: the token providers of both variants build their
requests with these functions, send them through their own HTTP client and
hand the responses back here to be parsed. Nothing here logs or raises with a
secret in it: a client secret, a refresh token or an access token never
appears in a message, a ``repr`` or a log record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from albert.core.config import API_PREFIX
from albert.core.logs import logger
from albert.core.redaction import blank_secret
from albert.core.responses import error_from_response, request_id_of
from albert.exceptions import AlbertAuthError, AlbertHTTPError

if TYPE_CHECKING:
    from albert.core.auth import AlbertClientCredentials, AlbertSSOClient

__all__ = [
    "LOGIN_PATH",
    "REFRESH_MARGIN",
    "REFRESH_PATH",
    "TOKEN_PATH",
    "AccessToken",
    "AuthRequest",
    "Clock",
    "SSOTenantToken",
    "check_email_response",
    "client_credentials_request",
    "email_check_request",
    "longest_request",
    "parse_access_token",
    "parse_sso_tokens",
    "select_tenant",
    "sso_login_url",
    "sso_refresh_error",
    "sso_refresh_request",
    "token_endpoint_error",
    "token_request_error",
    "with_bounded_phases",
]

#: A source of the current time in POSIX seconds (``time.time``); tests pass a fake one.
Clock = Callable[[], float]

#: The OAuth2 client-credentials token endpoint.
TOKEN_PATH = f"{API_PREFIX}/login/oauth/token"
#: The SSO e-mail check and browser login endpoint.
LOGIN_PATH = f"{API_PREFIX}/login"
#: The SSO refresh-token endpoint.
REFRESH_PATH = f"{API_PREFIX}/login/refresh"

#: Seconds before expiry at which a token is refreshed.
REFRESH_MARGIN = 60.0
#: An ``exp`` at least this large is a POSIX time, not a number of seconds.
_EPOCH_THRESHOLD = 1e9
#: How much of a server's error message a token error quotes.
_MESSAGE_CHARS = 200


class AccessToken(BaseModel):
    """An access token and when to replace it.

    Times are on the clock of whoever made the token (POSIX seconds by
    default), so the arithmetic is testable with a fake clock.

    Parameters
    ----------
    value : SecretStr
        The JWT sent as ``Authorization: Bearer <value>``.
    expires_at : float
        When the token expires.
    refresh_at : float
        When to fetch a new one: one minute before expiry, or half-way
        through the lifetime of a token that lives less than two minutes.
    token_type : str, optional
        The type the server named (``"Bearer"``).
    """

    model_config = ConfigDict(frozen=True)

    value: SecretStr
    expires_at: float
    refresh_at: float
    token_type: str = "Bearer"

    @classmethod
    def expiring_in(
        cls, value: str | SecretStr, seconds: float, *, now: float, token_type: str = "Bearer"
    ) -> AccessToken:
        """Return a token that expires ``seconds`` after ``now``.

        Parameters
        ----------
        value : str | SecretStr
            The token.
        seconds : float
            Its lifetime from now.
        now : float
            The current time on the caller's clock.
        token_type : str, optional
            The type the server named.

        Returns
        -------
        AccessToken
            A token refreshed `REFRESH_MARGIN` seconds before it expires (or
            half-way through a lifetime shorter than twice the margin, so that
            a short-lived token is not fetched again on every call).
        """
        seconds = max(0.0, float(seconds))
        early = max(seconds - REFRESH_MARGIN, seconds / 2)
        secret = value if isinstance(value, SecretStr) else SecretStr(value)
        return cls(
            value=secret,
            expires_at=now + seconds,
            refresh_at=now + early,
            token_type=token_type,
        )

    def needs_refresh(self, now: float) -> bool:
        """Tell whether the token should be replaced at time ``now``.

        Parameters
        ----------
        now : float
            The current time on the clock the token was made with.

        Returns
        -------
        bool
            ``True`` from `refresh_at` on.
        """
        return now >= self.refresh_at

    def secret(self) -> str:
        """Return the token itself, for the ``Authorization`` header only."""
        return self.value.get_secret_value()


class SSOTenantToken(BaseModel):
    """One entry of the SSO refresh response: a tenant's access token and the next refresh token.

    Parameters
    ----------
    tenant_id : str
        The tenant the token is for.
    access_token : AccessToken
        The tenant's JWT and its expiry.
    refresh_token : SecretStr
        The refresh token to use next time (the server rotates them).
    """

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    access_token: AccessToken
    refresh_token: SecretStr


@dataclass(frozen=True)
class AuthRequest:
    """A request to an authentication endpoint, ready to hand to an httpx client.

    Parameters
    ----------
    method : str
        The HTTP method.
    url : str
        The absolute URL, without the query.
    what : str
        What the request is for, for messages ("token request", ...).
    params : dict[str, str] | None, optional
        The query.
    form : dict[str, str] | None, optional
        A form-encoded body (kept out of ``repr``).
    json : Any, optional
        A JSON body (kept out of ``repr``).
    secrets : tuple[str, ...], optional
        Values to blank out of any message about this request (kept out of
        ``repr``).
    """

    method: str
    url: str
    what: str
    params: dict[str, str] | None = None
    form: dict[str, str] | None = field(default=None, repr=False)
    json: Any = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret of this request replaced by ``***``.

        Parameters
        ----------
        text : str
            A message that may quote the server.

        Returns
        -------
        str
            The message, safe to show.
        """
        for secret in self.secrets:
            text = blank_secret(text, secret)
        return text


def client_credentials_request(credentials: AlbertClientCredentials) -> AuthRequest:
    """Return the OAuth2 client-credentials token request.

    Parameters
    ----------
    credentials : AlbertClientCredentials
        The client id, secret and base URL.

    Returns
    -------
    AuthRequest
        ``POST {base_url}/api/v3/login/oauth/token`` with the form body
        ``grant_type=client_credentials&client_id=...&client_secret=...``.
    """
    secret = credentials.secret.get_secret_value()
    return AuthRequest(
        method="POST",
        url=credentials.base_url + TOKEN_PATH,
        what="token request",
        form={
            "grant_type": "client_credentials",
            "client_id": credentials.id,
            "client_secret": secret,
        },
        secrets=(secret,),
    )


def _login_query(email: str, tenant_id: str | None) -> dict[str, str]:
    query = {"email": email}
    if tenant_id:
        query["tenantId"] = tenant_id
    return query


def email_check_request(sso: AlbertSSOClient, *, tenant_id: str | None) -> AuthRequest:
    """Return the request that asks whether the SSO client's e-mail may log in.

    Send it without following redirects: ``302`` means a known user, ``404``
    means no access (see `check_email_response`).

    Parameters
    ----------
    sso : AlbertSSOClient
        The e-mail and base URL.
    tenant_id : str | None
        The tenant to log in to, if one was chosen.

    Returns
    -------
    AuthRequest
        ``GET {base_url}/api/v3/login?email=...[&tenantId=...]``.
    """
    return AuthRequest(
        method="GET",
        url=sso.base_url + LOGIN_PATH,
        what="SSO e-mail check",
        params=_login_query(sso.email, tenant_id),
    )


def sso_login_url(sso: AlbertSSOClient, *, port: int, tenant_id: str | None) -> str:
    """Return the URL that starts the browser login and calls back to ``localhost:port``.

    Parameters
    ----------
    sso : AlbertSSOClient
        The e-mail and base URL.
    port : int
        The local port the callback server listens on.
    tenant_id : str | None
        The tenant to log in to, if one was chosen.

    Returns
    -------
    str
        ``{base_url}/api/v3/login?source=sdk&email=...&port=...[&tenantId=...]``.
    """
    query = {"source": "sdk", **_login_query(sso.email, None), "port": str(port)}
    if tenant_id:
        query["tenantId"] = tenant_id
    return str(httpx.URL(sso.base_url + LOGIN_PATH, params=query))


def sso_refresh_request(base_url: str, refresh_token: SecretStr) -> AuthRequest:
    """Return the request that trades a refresh token for access tokens.

    Parameters
    ----------
    base_url : str
        The base URL of the Albert API.
    refresh_token : SecretStr
        The refresh token from the browser login or the previous refresh.

    Returns
    -------
    AuthRequest
        ``POST {base_url}/api/v3/login/refresh`` with ``{"refreshtoken": ...}``.
    """
    secret = refresh_token.get_secret_value()
    return AuthRequest(
        method="POST",
        url=base_url + REFRESH_PATH,
        what="SSO refresh-token request",
        json={"refreshtoken": secret},
        secrets=(secret,),
    )


def _server_message(response: httpx.Response) -> str | None:
    """Return the short message an error body carries, if it is JSON and has one."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key in ("error_description", "message", "error", "errors", "detail"):
        value = body.get(key)
        if value:
            text = value if isinstance(value, str) else json.dumps(value)
            return " ".join(text.split())[:_MESSAGE_CHARS]
    return None


def token_request_error(request: AuthRequest, response: httpx.Response) -> AlbertAuthError:
    """Build the error for an authentication request the server refused.

    The message names the endpoint and the status, and quotes the server's
    JSON message (with the request's secrets blanked out); it never quotes
    the request, so no secret can reach it.

    Parameters
    ----------
    request : AuthRequest
        The request that was sent.
    response : httpx.Response
        The error response.

    Returns
    -------
    AlbertAuthError
        For example ``token request failed: POST https://.../api/v3/login/oauth/token
        answered 401 Unauthorized: invalid_client``.
    """
    text = (
        f"{request.what} failed: {request.method} {request.url} answered "
        f"{response.status_code} {response.reason_phrase}".rstrip()
    )
    message = _server_message(response)
    if message:
        text += f": {message}"
    return AlbertAuthError(
        request.redact(text),
        status_code=response.status_code,
        request_id=request_id_of(response),
    )


def token_endpoint_error(
    request: AuthRequest, response: httpx.Response
) -> AlbertAuthError | AlbertHTTPError:
    """Build the error for a token request answered with an error status.

    A 429 or a 5xx says "try again later", not "refused": it becomes the
    `AlbertHTTPError` subclass named for the status, with the status, the
    request id and the response (for ``Retry-After``), so that the session
    retries it like any other. Any other status means the credentials were
    refused: `token_request_error`.

    Parameters
    ----------
    request : AuthRequest
        The request that was sent.
    response : httpx.Response
        The error response.

    Returns
    -------
    AlbertAuthError | AlbertHTTPError
        The error to raise; its message never quotes a secret.
    """
    if response.status_code != 429 and response.status_code < 500:
        return token_request_error(request, response)
    error = error_from_response(response, redact=request.redact)
    message = f"{request.what} failed: {_server_message(response) or response.reason_phrase}"
    return type(error)(
        request.redact(message),
        status_code=error.status_code,
        method=request.method,
        url=request.url,
        request_id=error.request_id,
        errors=error.errors,
        response=response,
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
    try:
        return json.loads(response.content)
    except ValueError:
        raise _bad_body(request, response, "invalid JSON") from None


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


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
    """Parse a client-credentials token response.

    Parameters
    ----------
    request : AuthRequest
        The request that was sent (for messages).
    response : httpx.Response
        A success response: ``{"access_token", "expires_in", "token_type", ...}``.
    now : float
        The current time on the provider's clock.

    Returns
    -------
    AccessToken
        The token, expiring ``expires_in`` seconds from ``now``.

    Raises
    ------
    AlbertAuthError
        If the body is not such an object.
    """
    body = _json_body(request, response)
    if not isinstance(body, dict):
        raise _bad_body(request, response, "not a JSON object")
    value = body.get("access_token")
    seconds = _seconds(body.get("expires_in"))
    if not isinstance(value, str) or not value:
        raise _bad_body(request, response, "no access_token")
    if seconds is None:
        raise _bad_body(request, response, "no expires_in")
    token_type = body.get("token_type")
    return AccessToken.expiring_in(
        value,
        seconds,
        now=now,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
    )


def _expiry_seconds(exp: float, *, wall_now: float) -> float:
    """Return the lifetime an SSO ``exp`` stands for.

    The API sends a number of seconds; a value that can only be a POSIX time
    (a JWT-style ``exp``) is read as one, against the wall clock.
    """
    if exp >= _EPOCH_THRESHOLD:
        return exp - wall_now
    return exp


def parse_sso_tokens(
    request: AuthRequest, response: httpx.Response, *, now: float, wall_now: float | None = None
) -> list[SSOTenantToken]:
    """Parse an SSO refresh response: one access token per tenant.

    Parameters
    ----------
    request : AuthRequest
        The request that was sent (for messages).
    response : httpx.Response
        A success response: a list of ``{"tenantId", "jwt", "exp", "refreshToken"}``
        (a single object is read as a list of one).
    now : float
        The current time on the provider's clock.
    wall_now : float | None, optional
        The current POSIX time, used only when ``exp`` is a POSIX time;
        defaults to ``now``.

    Returns
    -------
    list[SSOTenantToken]
        The tenants' tokens, in the server's order.

    Raises
    ------
    AlbertAuthError
        If the body is not such a list, or the list is empty.
    """
    body = _json_body(request, response)
    entries = [body] if isinstance(body, dict) else body
    if not isinstance(entries, list):
        raise _bad_body(request, response, "not a JSON list")
    if not entries:
        raise AlbertAuthError(
            f"{request.what}: {request.url} returned no tenant; the account has no access"
        )
    tokens = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad_body(request, response, f"entry {index} is not an object")
        tenant, jwt = _text(entry, "tenantId"), _text(entry, "jwt")
        refresh, exp = _text(entry, "refreshToken"), _seconds(entry.get("exp"))
        if tenant is None or jwt is None or refresh is None or exp is None:
            fields = (("tenantId", tenant), ("jwt", jwt), ("exp", exp), ("refreshToken", refresh))
            missing = ", ".join(name for name, value in fields if value is None)
            raise _bad_body(request, response, f"entry {index} lacks {missing}")
        lifetime = _expiry_seconds(exp, wall_now=now if wall_now is None else wall_now)
        tokens.append(
            SSOTenantToken(
                tenant_id=tenant,
                access_token=AccessToken.expiring_in(jwt, lifetime, now=now),
                refresh_token=SecretStr(refresh),
            )
        )
    return tokens


def select_tenant(
    tokens: Iterable[SSOTenantToken], tenant_id: str | None, *, email: str
) -> SSOTenantToken:
    """Pick the tenant's token out of an SSO refresh response.

    Parameters
    ----------
    tokens : Iterable[SSOTenantToken]
        The tokens the refresh returned (at least one).
    tenant_id : str | None
        The tenant asked for (compared without regard to case), or ``None``.
    email : str
        The user's e-mail, for messages.

    Returns
    -------
    SSOTenantToken
        The asked-for tenant's token; without ``tenant_id``, the first one,
        with a warning on the ``albert`` logger when there were several.

    Raises
    ------
    AlbertAuthError
        If ``tenant_id`` is not among the tenants the user may use.
    """
    available = list(tokens)
    if tenant_id:
        for token in available:
            if token.tenant_id.casefold() == tenant_id.casefold():
                return token
        raise AlbertAuthError(
            f"{email} has no access to tenant {tenant_id!r}; "
            f"available tenants: {', '.join(t.tenant_id for t in available)}"
        )
    chosen = available[0]
    if len(available) > 1:
        logger.warning(
            "%s has access to several tenants (%s) and no tenant_id was given: using %s. "
            "Pass tenant_id= to choose.",
            email,
            ", ".join(t.tenant_id for t in available),
            chosen.tenant_id,
        )
    return chosen


def check_email_response(request: AuthRequest, response: httpx.Response, *, email: str) -> None:
    """Interpret the answer to the SSO e-mail check.

    Parameters
    ----------
    request : AuthRequest
        The e-mail check that was sent (without following redirects).
    response : httpx.Response
        Its response: a redirect means a known user.
    email : str
        The e-mail that was checked, for messages.

    Raises
    ------
    AlbertAuthError
        On ``404`` (the e-mail has no access) or any other non-redirect answer
        but those below.
    AlbertHTTPError
        On ``429`` or ``5xx`` (the subclass named for the status), which the
        session retries like any other.
    """
    if 300 <= response.status_code < 400:
        return
    if response.status_code == 404:
        raise AlbertAuthError(
            f"SSO login refused: {email} has no access to {request.url.removesuffix(LOGIN_PATH)} "
            f"({request.method} {request.url} answered 404)"
        )
    raise token_endpoint_error(request, response)


def sso_refresh_error(
    request: AuthRequest, response: httpx.Response
) -> AlbertAuthError | AlbertHTTPError:
    """Build the error for an SSO refresh answered with an error status.

    As `token_endpoint_error`; a refusal also says what to do: log in again.

    Parameters
    ----------
    request : AuthRequest
        The refresh request that was sent.
    response : httpx.Response
        The error response.

    Returns
    -------
    AlbertAuthError | AlbertHTTPError
        The error to raise; its message never quotes a secret.
    """
    error = token_endpoint_error(request, response)
    if not isinstance(error, AlbertAuthError):
        return error
    return AlbertAuthError(
        f"{error.message}; log in again (authenticate())",
        status_code=error.status_code,
        request_id=error.request_id,
    )


def with_bounded_phases(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """Return ``timeout`` with every unbounded phase bounded by ``seconds``.

    For a request that must end even where the client waits forever (a token
    refresh that runs on after its caller left: its thread cannot be stopped).

    Parameters
    ----------
    timeout : httpx.Timeout
        The client's timeout.
    seconds : float
        The bound of each phase (connect, read, write, pool) that has none.

    Returns
    -------
    httpx.Timeout
        ``timeout`` itself when every phase is bounded.
    """
    phases = {
        "connect": timeout.connect,
        "read": timeout.read,
        "write": timeout.write,
        "pool": timeout.pool,
    }
    if all(phase is not None for phase in phases.values()):
        return timeout
    return httpx.Timeout(
        **{name: seconds if phase is None else phase for name, phase in phases.items()}
    )


def longest_request(timeout: httpx.Timeout) -> float:
    """Return how long a request can take when each of its phases takes its longest.

    Parameters
    ----------
    timeout : httpx.Timeout
        The request's timeout.

    Returns
    -------
    float
        The sum of the connect, write, read and pool timeouts (a read timeout
        bounds each read: a server that trickles its answer can take longer);
        ``math.inf`` if a phase is unbounded.
    """
    phases = (timeout.connect, timeout.write, timeout.read, timeout.pool)
    return math.fsum(math.inf if phase is None else phase for phase in phases)
