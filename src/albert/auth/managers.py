"""The authentication managers: who the caller is, and which server they log in to.

`AlbertClientCredentials` (OAuth2 client credentials) and `AlbertSSOClient`
(browser login) are configuration, shared by both variants; secrets are
``SecretStr`` and never show in a ``repr``, a message or a log record. The
tokens they lead to live elsewhere: a session's token provider caches the
client-credential token, and each `AlbertSSOClient` owns an `SSOLogin` that
holds its refresh and access tokens.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from albert.auth.sso import DEFAULT_LOGIN_TIMEOUT, DEFAULT_MINIMUM_PORT, SSOLogin, in_worker
from albert.core.config import ENV_BASE_URL, ENV_TOKEN, resolve_base_url
from albert.exceptions import AlbertAuthError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "AlbertClientCredentials",
    "AlbertSSOClient",
    "AuthManager",
    "auth_from_env",
    "resolve_auth_base_url",
]

ENV_CLIENT_ID = "ALBERT_CLIENT_ID"
ENV_CLIENT_SECRET = "ALBERT_CLIENT_SECRET"


def _base_url(value: Any) -> str:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"base_url must be a string, got {type(value).__name__}")
    return resolve_base_url(value)


class AlbertClientCredentials(BaseModel):
    """OAuth2 client credentials: a client id and secret traded for expiring access tokens.

    Give it to a client as ``auth_manager=``; the client fetches a token on
    its first request, reuses it, and fetches the next one a minute before it
    expires.

    Attributes
    ----------
    id : str
        The OAuth2 client id.
    secret : SecretStr
        The client secret (a plain ``str`` is accepted and wrapped).
    base_url : str | None, optional
        The base URL of the Albert API. Falls back to the ``ALBERT_BASE_URL``
        environment variable, then to ``https://app.albertinvent.com``.

    Examples
    --------
    ::

        credentials = AlbertClientCredentials(id="my-client", secret=SecretStr("..."))
        client = Albert(auth_manager=credentials)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    id: str = Field(min_length=1)
    secret: SecretStr
    base_url: str = Field(default_factory=lambda: resolve_base_url(None), validate_default=True)

    @field_validator("base_url", mode="before")
    @classmethod
    def _resolve_base_url(cls, value: Any) -> str:
        return _base_url(value)

    @field_validator("secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the client secret must not be empty")
        return value

    @classmethod
    def from_env(cls) -> AlbertClientCredentials:
        """Read the credentials from the environment.

        Uses ``ALBERT_CLIENT_ID``, ``ALBERT_CLIENT_SECRET`` and (optionally)
        ``ALBERT_BASE_URL``.

        Returns
        -------
        AlbertClientCredentials
            The credentials.

        Raises
        ------
        AlbertAuthError
            If the id or the secret is not set; the message names the
            missing variables.
        """
        found = _env_credentials()
        if isinstance(found, str):
            optional = f"({ENV_BASE_URL} is optional)"
            raise AlbertAuthError(
                f"No client credentials in the environment: set {found} {optional}."
            )
        return found


class AlbertSSOClient(BaseModel):
    """Single sign-on through the browser, for people working interactively.

    Logging in checks the e-mail with the API, opens the Albert login page in
    the browser and waits on ``127.0.0.1`` for it to call back with a refresh
    token, which is traded for an access token, and again a minute before
    each one expires. Call `authenticate` to log in now, or let a client log
    in on its first request (the non-blocking client waits for the browser in
    a worker thread: its event loop keeps running).

    The login belongs to the manager: every client made with it, and every
    copy of it, shares one refresh token (the server accepts each one once)
    and follows a new login, to another tenant perhaps. A copy with changes,
    ``model_copy(update=...)``, is another configuration and logs in on its own.

    Attributes
    ----------
    email : str
        The e-mail address to log in with.
    base_url : str | None, optional
        The base URL of the Albert API. Falls back to the ``ALBERT_BASE_URL``
        environment variable, then to ``https://app.albertinvent.com``.
    tenant_id : str | None, optional
        The tenant to use when the account has several. Without it, the first
        one the server lists is used, with a warning.
    http_client : httpx.Client | None, optional
        A blocking httpx client for the login and refresh requests (proxies,
        certificates), used as given and never closed. Without it, each
        exchange makes a short-lived client with the default timeout.

    Examples
    --------
    ::

        sso = AlbertSSOClient(email="me@example.com")
        sso.authenticate()
        client = Albert(auth_manager=sso)
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, arbitrary_types_allowed=True
    )

    email: str
    base_url: str = Field(default_factory=lambda: resolve_base_url(None), validate_default=True)
    tenant_id: str | None = None
    http_client: httpx.Client | None = Field(default=None, repr=False, exclude=True)

    _login: SSOLogin = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:  # noqa: D102 - pydantic's hook
        self._login = SSOLogin(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Return a copy: the same login, or with ``update``, a configuration of its own."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._login = SSOLogin(copy)
        return copy

    @field_validator("base_url", mode="before")
    @classmethod
    def _resolve_base_url(cls, value: Any) -> str:
        return _base_url(value)

    @field_validator("email")
    @classmethod
    def _looks_like_an_email(cls, value: str) -> str:
        value = value.strip()
        if "@" not in value:
            raise ValueError(f"email must be an e-mail address, got {value!r}")
        return value

    @property
    def is_authenticated(self) -> bool:
        """Whether a browser login has completed (a refresh token is held)."""
        return self._login.logged_in

    def authenticate(
        self,
        *,
        tenant_id: str | None = None,
        minimum_port: int = DEFAULT_MINIMUM_PORT,
        maximum_port: int | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT,
    ) -> AlbertSSOClient:
        """Log in through the browser now, blocking until the login completes.

        Checks the e-mail with the API, serves a one-shot callback on
        ``127.0.0.1`` (the first free port from ``minimum_port``), opens the
        login page with `webbrowser.open`, waits for it to call back with a
        refresh token and this login's ``state``, and trades the token for a
        first access token. Ctrl-C ends the wait. On an event loop, use the
        non-blocking client's ``session.token_provider.authenticate()``.

        Parameters
        ----------
        tenant_id : str | None, optional
            The tenant to log in to; defaults to the manager's ``tenant_id``.
        minimum_port : int, optional
            The first local port to try for the callback (default 5000).
        maximum_port : int | None, optional
            The last port to try; defaults to ``minimum_port + 99``.
        timeout : float, optional
            Seconds to wait for the browser (default 300).

        Returns
        -------
        AlbertSSOClient
            This manager, logged in, for ``Albert(auth_manager=sso.authenticate())``.

        Raises
        ------
        AlbertAuthError
            If the e-mail has no access, no port is free, the browser does not
            come back in time, the login fails, or the tenant is not available.
        AlbertHTTPError
            If the server answered 429 or 5xx (call again later).
        """
        in_worker(
            functools.partial(
                self._login.log_in,
                clock=time.time,
                tenant_id=tenant_id,
                minimum_port=minimum_port,
                maximum_port=maximum_port,
                timeout=timeout,
            )
        )
        return self


#: What ``auth_manager=`` accepts.
AuthManager: TypeAlias = AlbertClientCredentials | AlbertSSOClient


def resolve_auth_base_url(base_url: str | None, manager: AuthManager) -> str:
    """Return the base URL of a client that authenticates with ``manager``: both must agree.

    Raises
    ------
    TypeError
        If ``manager`` is not an authentication manager.
    ValueError
        If ``base_url`` is given and differs from the manager's: the
        credentials would go to another server than the API calls.
    """
    if not isinstance(manager, (AlbertClientCredentials, AlbertSSOClient)):
        raise TypeError(
            "auth_manager must be an AlbertClientCredentials or an AlbertSSOClient, "
            f"got {type(manager).__name__}"
        )
    if base_url is None:
        return manager.base_url
    resolved = resolve_base_url(base_url)
    if resolved != manager.base_url:
        raise ValueError(
            f"base_url {resolved!r} differs from the auth_manager's base_url "
            f"{manager.base_url!r}: tokens must come from the server the API calls go to. "
            f"Give both the same base_url (or leave the client's out)."
        )
    return resolved


def auth_from_env() -> str | AlbertClientCredentials:
    """Return the credentials the environment holds: a static token, else client credentials.

    Returns
    -------
    str | AlbertClientCredentials
        ``ALBERT_TOKEN`` when set; else credentials from ``ALBERT_CLIENT_ID``
        and ``ALBERT_CLIENT_SECRET`` (with ``ALBERT_BASE_URL``, if set).

    Raises
    ------
    AlbertAuthError
        If neither is set; the message lists the variables looked for.
    """
    token = (os.environ.get(ENV_TOKEN) or "").strip()
    if token:
        return token
    found = _env_credentials()
    if not isinstance(found, str):
        return found
    present = {ENV_CLIENT_ID: ENV_CLIENT_SECRET, ENV_CLIENT_SECRET: ENV_CLIENT_ID}.get(found)
    half = f" ({present} is set but {found} is not)" if present else ""
    raise AlbertAuthError(
        f"No credentials in the environment: looked for {ENV_TOKEN}, "
        f"then {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}{half}. "
        f"Set {ENV_TOKEN}, or both client-credential variables ({ENV_BASE_URL} is optional)."
    )


def _env_credentials() -> AlbertClientCredentials | str:
    """Return the client credentials in the environment, or the names of those missing."""
    client_id, secret = os.environ.get(ENV_CLIENT_ID), os.environ.get(ENV_CLIENT_SECRET)
    if client_id and secret:
        return AlbertClientCredentials(id=client_id, secret=SecretStr(secret), base_url=None)
    pairs = ((ENV_CLIENT_ID, client_id), (ENV_CLIENT_SECRET, secret))
    return " and ".join(name for name, value in pairs if not value)
