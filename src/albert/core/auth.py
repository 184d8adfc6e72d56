"""Authentication managers: OAuth2 client credentials and SSO browser login.

The managers are configuration shared by both variants: who the caller is
and which server they log in to. The token providers of ``albert._async`` and
``albert._sync`` do the fetching, caching and refreshing, through the
client's own HTTP connection pool. Secrets are ``SecretStr``: they never show
in a ``repr``, a message or a log record.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from albert.core.auth_tokens import AccessToken, SSOTenantToken
from albert.core.config import ENV_BASE_URL, ENV_TOKEN, resolve_base_url
from albert.core.logs import logger
from albert.exceptions import AlbertAuthError

__all__ = [
    "DEFAULT_LOGIN_TIMEOUT",
    "DEFAULT_MINIMUM_PORT",
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

#: The first local port tried for the SSO callback.
DEFAULT_MINIMUM_PORT = 5000
#: Seconds to wait for the browser login to come back.
DEFAULT_LOGIN_TIMEOUT = 300.0

#: Guards the token state of every `AlbertSSOClient`. Held only to read or swap
#: that state, never across a request: the providers that share a manager may
#: be threads, or tasks on one or several event loops.
_SSO_STATE_LOCK = threading.Lock()


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
        client_id = os.environ.get(ENV_CLIENT_ID)
        secret = os.environ.get(ENV_CLIENT_SECRET)
        if not client_id or not secret:
            missing = [
                name
                for name, value in ((ENV_CLIENT_ID, client_id), (ENV_CLIENT_SECRET, secret))
                if not value
            ]
            raise AlbertAuthError(
                f"No client credentials in the environment: set {' and '.join(missing)} "
                f"({ENV_BASE_URL} is optional)."
            )
        return cls(id=client_id, secret=SecretStr(secret), base_url=None)


class LoginCount:
    """How many browser logins an `AlbertSSOClient` completed.

    A plain object, not a model field: clients read it on every request, to
    drop a token cached before a newer login (perhaps to another tenant).
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class AlbertSSOClient(BaseModel):
    """Single sign-on through the browser, for people working interactively.

    Logging in checks the e-mail with the API, opens the Albert login page
    in the browser and waits on ``127.0.0.1`` for the page to send back a
    refresh token; the refresh token is then traded for an access token, and
    again a minute before each access token expires.

    Call `authenticate` to log in right away (it blocks until the browser
    comes back), or give the manager to a client as ``auth_manager=`` and
    the client logs in on its first request (the non-blocking client waits
    for the browser in a worker thread, so its event loop keeps running).

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

    Examples
    --------
    ::

        sso = AlbertSSOClient(email="me@example.com")
        sso.authenticate()
        client = Albert(auth_manager=sso)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    email: str
    base_url: str = Field(default_factory=lambda: resolve_base_url(None), validate_default=True)
    tenant_id: str | None = None

    _refresh_token: SecretStr | None = PrivateAttr(default=None)
    _tenant: str | None = PrivateAttr(default=None)
    _access_token: AccessToken | None = PrivateAttr(default=None)
    # Who holds the refresh and the login under way (an object of the caller's),
    # and on which thread's event loop it runs; None when nobody does (or, for
    # the thread, when a blocking waiter on any thread cannot stall it).
    _refresh_owner: object | None = PrivateAttr(default=None)
    _refresh_thread: int | None = PrivateAttr(default=None)
    _refresh_started: bool = PrivateAttr(default=False)  # the work of the claim began
    _refresh_stale_at: float = PrivateAttr(default=0.0)  # time.monotonic(): presumed lost
    _login_owner: object | None = PrivateAttr(default=None)
    _login_thread: int | None = PrivateAttr(default=None)
    _logins: LoginCount = PrivateAttr(default_factory=LoginCount)

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
        return self._refresh_token is not None

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
        login page with `webbrowser.open`, waits for the page to call back
        with a refresh token, and trades it for a first access token.

        This call blocks the calling thread. On an event loop, let the
        non-blocking client log in instead (``AsyncAlbert.from_sso(...)``):
        it waits for the browser in a worker thread.

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
        """
        import httpx

        from albert._sync.auth import TokenProvider
        from albert.core.config import DEFAULT_TIMEOUT

        with httpx.Client(follow_redirects=False, timeout=DEFAULT_TIMEOUT) as http_client:
            provider = TokenProvider(self, http_client=http_client)
            provider.authenticate(
                tenant_id=tenant_id,
                minimum_port=minimum_port,
                maximum_port=maximum_port,
                timeout=timeout,
            )
        return self

    # State shared by every token provider of this manager (not part of the model).
    # The server accepts a refresh token once and answers with the next one, so
    # the providers of one manager take turns: one refreshes, the others wait
    # and use its access token (`_claim_refresh`, `_finish_refresh`).

    def _logged_in(self, refresh_token: str, tenant_id: str | None) -> None:
        with _SSO_STATE_LOCK:
            self._refresh_token = SecretStr(refresh_token)
            self._tenant = tenant_id
            self._access_token = None
            self._logins.value += 1
            # A refresh under way holds the refresh token just replaced: its
            # answer will not be kept, and nobody need wait for it any more.
            self._refresh_owner = self._refresh_thread = None

    def _claim_refresh(
        self,
        owner: object,
        *,
        rejected: str | None,
        now: float,
        on_this_threads_loop: bool = False,
        lasts_at_most: float = math.inf,
    ) -> AccessToken | SecretStr | None:
        """Return a usable access token, else the refresh token to refresh with, else ``None``.

        Parameters
        ----------
        owner : object
            Identifies the caller: `_finish_refresh` ends only its own claim.
        rejected : str | None
            An access token the server refused: never returned.
        now : float
            The current time on the caller's clock.
        on_this_threads_loop : bool, optional
            Whether the refresh will run on the calling thread's event loop (a
            blocking caller on this thread must then not wait for it).
        lasts_at_most : float, optional
            Seconds after which this claim, if ``owner`` gets it and still
            holds it, is presumed lost (its event loop closed while its work
            was pending): another provider then takes it over. Declare the
            longest the refresh can run, plus a margin.

        Returns
        -------
        AccessToken | SecretStr | None
            The access token another provider fetched, while it is good; else
            the refresh token, and ``owner`` now holds the refresh until it
            calls `_finish_refresh` with it; ``None`` while another provider
            is refreshing (wait a little and ask again).

        Raises
        ------
        AlbertAuthError
            If the manager is not logged in.
        """
        with _SSO_STATE_LOCK:
            if self._refresh_owner is not None and time.monotonic() < self._refresh_stale_at:
                # Wait for it: the shared token may be the one being replaced
                # because the server refused it.
                return None
            shared = self._access_token
            if shared is not None and shared.secret() != rejected and not shared.needs_refresh(now):
                return shared
            if self._refresh_token is None:
                raise AlbertAuthError(f"SSO: {self.email} is not logged in")
            if self._refresh_owner is not None:
                logger.warning(
                    "SSO: a refresh of %s's token outlasted its own bound; "
                    "presuming it lost and refreshing again",
                    self.email,
                )
            self._refresh_owner = owner
            self._refresh_thread = threading.get_ident() if on_this_threads_loop else None
            self._refresh_started = False
            self._refresh_stale_at = time.monotonic() + lasts_at_most
            return self._refresh_token

    def _start_refresh(self, owner: object) -> bool:
        """Mark ``owner``'s refresh as under way; ``False`` if its claim was given up.

        The work of a claim may run apart from the caller that took it (so
        that it finishes even if that caller is cancelled): the caller gives
        the claim up with `_give_up_unstarted_refresh` if the work never began.

        Parameters
        ----------
        owner : object
            The caller that claimed the refresh.

        Returns
        -------
        bool
            ``True`` when the refresh is now ``owner``'s to finish (send it,
            then `_finish_refresh`); ``False`` when it must not be sent.
        """
        with _SSO_STATE_LOCK:
            if self._refresh_owner is not owner:
                return False
            self._refresh_started = True
            return True

    def _give_up_unstarted_refresh(self, owner: object) -> None:
        """End ``owner``'s claim if its work never began; otherwise do nothing."""
        with _SSO_STATE_LOCK:
            if self._refresh_owner is owner and not self._refresh_started:
                self._refresh_owner = self._refresh_thread = None

    def _finish_refresh(
        self, owner: object, token: SSOTenantToken | None, *, sent: SecretStr
    ) -> None:
        """End ``owner``'s claim, if it still holds it, and keep the tokens it brought.

        Parameters
        ----------
        owner : object
            The caller that claimed the refresh.
        token : SSOTenantToken | None
            The tenant's new tokens, or ``None`` if the refresh failed.
        sent : SecretStr
            The refresh token that was sent (what `_claim_refresh` returned).

        Notes
        -----
        The tokens are kept while ``sent`` is still the manager's refresh
        token, also when the claim was given up or taken over meanwhile (the
        server spent ``sent``: its answer is the only way on). A newer one (a
        browser login, another refresh) is never replaced by an older answer.
        """
        with _SSO_STATE_LOCK:
            if self._refresh_owner is owner:
                self._refresh_owner = self._refresh_thread = None
            if token is not None and self._refresh_token is sent:
                self._refresh_token = token.refresh_token
                self._tenant = token.tenant_id
                self._access_token = token.access_token

    def _claim_login(self, owner: object, *, again: bool = False) -> bool | None:
        """Claim the browser login, unless it is done or another client is at it.

        Parameters
        ----------
        owner : object
            Identifies the caller: `_finish_login` ends only its own claim.
        again : bool, optional
            Log in even when logged in already (an explicit ``authenticate()``).

        Returns
        -------
        bool | None
            ``False`` when logged in already; ``True`` when ``owner`` now holds
            the login until it calls `_finish_login`; ``None`` while another
            provider of this manager is logging in (wait and ask again).
        """
        with _SSO_STATE_LOCK:
            if self._refresh_token is not None and not again:
                return False  # logged in: refreshing needs no turn at the browser
            if self._login_owner is not None:
                return None
            self._login_owner, self._login_thread = owner, threading.get_ident()
            return True

    def _finish_login(self, owner: object) -> None:
        """End ``owner``'s login (`_logged_in` keeps its result); otherwise do nothing."""
        with _SSO_STATE_LOCK:
            if self._login_owner is owner:
                self._login_owner = self._login_thread = None

    def _refuse_to_wait_here(self, *, blocking: bool) -> None:
        """Raise if a blocking caller would wait for work this very thread must do.

        Parameters
        ----------
        blocking : bool
            Whether the caller's waits block its thread (the sync client's do).

        Raises
        ------
        AlbertAuthError
            If ``blocking`` and a non-blocking client on this thread's event
            loop holds the login or the refresh: blocking here would keep it
            from ever finishing.
        """
        if blocking and self._busy_on_this_thread():
            raise AlbertAuthError(
                f"SSO: a non-blocking client on this thread is logging in or refreshing "
                f"the token for {self.email}; a blocking client cannot wait for it here. "
                "Give each kind of client its own AlbertSSOClient."
            )

    def _busy_on_this_thread(self) -> bool:
        """Tell whether a login or a refresh under way was claimed on the calling thread."""
        me = threading.get_ident()
        with _SSO_STATE_LOCK:
            return (self._refresh_owner is not None and self._refresh_thread == me) or (
                self._login_owner is not None and self._login_thread == me
            )


#: What ``auth_manager=`` accepts.
AuthManager: TypeAlias = AlbertClientCredentials | AlbertSSOClient


def resolve_auth_base_url(base_url: str | None, manager: AuthManager) -> str:
    """Return the base URL of a client that authenticates with ``manager``.

    Parameters
    ----------
    base_url : str | None
        The base URL the caller gave the client, if any.
    manager : AlbertClientCredentials | AlbertSSOClient
        The authentication manager.

    Returns
    -------
    str
        ``base_url`` (normalized) when given, else the manager's.

    Raises
    ------
    TypeError
        If ``manager`` is not an authentication manager.
    ValueError
        If both are given and differ: the credentials would be sent to another
        server than the API calls.
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
    client_id = os.environ.get(ENV_CLIENT_ID)
    secret = os.environ.get(ENV_CLIENT_SECRET)
    if client_id and secret:
        return AlbertClientCredentials(id=client_id, secret=SecretStr(secret), base_url=None)
    half = ""
    if client_id or secret:
        present, absent = (
            (ENV_CLIENT_ID, ENV_CLIENT_SECRET) if client_id else (ENV_CLIENT_SECRET, ENV_CLIENT_ID)
        )
        half = f" ({present} is set but {absent} is not)"
    raise AlbertAuthError(
        f"No credentials in the environment: looked for {ENV_TOKEN}, "
        f"then {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}{half}. "
        f"Set {ENV_TOKEN}, or both client-credential variables ({ENV_BASE_URL} is optional)."
    )
