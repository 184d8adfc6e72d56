"""The login of one `AlbertSSOClient`: its refresh token, its access token, and their renewal.

Blocking code shared by both variants. The server accepts each refresh token
once and answers with the next, so one object holds them, behind one lock,
and every exchange that spends one runs to its end and stores what the server
sent back, whatever its caller does: callers run these methods in a worker
thread that nobody interrupts (the sync client waits for it, the async one
awaits it), and may leave early. Requests go through the manager's own
blocking ``http_client``, never through a session's pool.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import httpx
from pydantic import SecretStr

from albert._backends.sync_primitives import run_in_thread
from albert.auth.callback import LoginCallback
from albert.core.auth import (
    AccessToken,
    AuthRequest,
    Clock,
    check_email_response,
    email_check_request,
    parse_sso_tokens,
    select_tenant,
    sso_login_url,
    sso_refresh_request,
    token_error,
)
from albert.core.config import DEFAULT_TIMEOUT, USER_AGENT
from albert.core.logs import logger
from albert.core.responses import closed_client_error, transport_error
from albert.exceptions import AlbertAuthError

if TYPE_CHECKING:
    from albert.auth.managers import AlbertSSOClient

__all__ = ["DEFAULT_LOGIN_TIMEOUT", "DEFAULT_MINIMUM_PORT", "SSOLogin", "in_worker"]

T = TypeVar("T")

#: The first local port tried for the login callback.
DEFAULT_MINIMUM_PORT = 5000
#: Seconds to wait for the browser to come back.
DEFAULT_LOGIN_TIMEOUT = 300.0


def in_worker(work: Callable[..., T]) -> T:
    """Run ``work(wake=...)`` in a worker thread and wait; Ctrl-C leaves at once, the work ends.

    An interrupted caller sets ``wake``, which ends a wait for the browser the
    work may be in; an exchange already sent still finishes and is stored.
    """
    wake = threading.Event()
    try:
        return run_in_thread(functools.partial(work, wake=wake))
    finally:
        wake.set()


class SSOLogin:
    """The refresh token and the cached access token of one `AlbertSSOClient`, and their renewal.

    Safe to share between threads (and so between clients on any event
    loop): concurrent callers share one refresh, and one browser login.

    Parameters
    ----------
    manager : AlbertSSOClient
        The configuration: e-mail, base URL, tenant, ``http_client``.
    """

    def __init__(self, manager: AlbertSSOClient) -> None:
        self._manager = manager
        self._lock = threading.Lock()  # the tokens, held across a refresh
        self._browser = threading.Lock()  # one browser login at a time
        self._refresh_token: SecretStr | None = None
        self._tenant: str | None = None
        self._token: AccessToken | None = None
        # Exchanges that ended, and how the last one failed: a caller that
        # waited for a failed one gets its error instead of repeating it.
        self._refreshes = self._logins = 0
        self._refresh_failure: Exception | None = None
        self._login_failure: Exception | None = None

    def __deepcopy__(self, memo: object) -> SSOLogin:
        return self  # a refresh token has one holder: copies of the manager share it

    def __reduce__(self) -> tuple[type[SSOLogin], tuple[AlbertSSOClient]]:
        return SSOLogin, (self._manager,)  # unpickled elsewhere: logged out, for the same reason

    def __repr__(self) -> str:
        return f"SSOLogin(email={self._manager.email!r}, logged_in={self.logged_in})"

    @property
    def logged_in(self) -> bool:
        """Whether a browser login completed (a refresh token is held)."""
        return self._refresh_token is not None

    @property
    def current(self) -> AccessToken | None:
        """The access token fetched last, if any (read without waiting)."""
        return self._token

    def token(
        self, *, clock: Clock, rejected: str | None = None, wake: threading.Event
    ) -> AccessToken:
        """Return an access token not due at ``clock()`` and not ``rejected`` (refused).

        The cached one, else a refreshed one (one refresh for all callers,
        whose error the callers that waited for it share), else one after a
        browser login; ``wake``, set by a caller that gives up, ends its wait.
        """
        if self._refresh_token is None:
            return self.log_in(clock=clock, wake=wake, again=False)
        before = self._refreshes
        with self._lock:
            token = self._token
            if token is not None and token.usable(clock(), rejected):
                return token  # refreshed while this caller waited
            if self._refreshes != before and self._refresh_failure is not None:
                raise self._refresh_failure
            try:
                assert self._refresh_token is not None  # a login only replaces it
                token = self._exchange(self._refresh_token, self._tenant, clock)
                self._refresh_failure = None
                return token
            except Exception as exc:
                self._refresh_failure = exc
                raise
            finally:
                self._refreshes += 1

    def log_in(
        self,
        *,
        clock: Clock,
        wake: threading.Event,
        again: bool = True,
        tenant_id: str | None = None,
        minimum_port: int = DEFAULT_MINIMUM_PORT,
        maximum_port: int | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT,
    ) -> AccessToken:
        """Log in through the browser (`AlbertSSOClient.authenticate`) and return the token.

        A login that completed while this one waited for its turn is used
        instead, if it is for the tenant asked for. With ``again=False`` (a
        client's first request), so is the login the manager has, and a login
        waited for that failed fails this one too: one browser, not one per
        client. ``wake``, set by a caller that gives up, ends the wait.
        """
        tenant_id = tenant_id or self._manager.tenant_id
        before = self._logins
        with self._browser:
            waited = self._logins != before
            if not again and self._refresh_token is not None:
                return self.token(clock=clock, wake=wake)  # logged in, perhaps meanwhile
            fits = tenant_id is None or (self._tenant or "").casefold() == tenant_id.casefold()
            if waited and self._login_failure is None and fits:
                return self.token(clock=clock, wake=wake)  # the login waited for did it
            if waited and not again and self._login_failure is not None:
                raise self._login_failure
            try:
                browser_token = SecretStr(
                    self._wait_for_browser(tenant_id, minimum_port, maximum_port, timeout, wake)
                )
                self._login_failure = None
            except Exception as exc:
                self._login_failure = exc
                raise
            finally:
                self._logins += 1
            logger.info("SSO login: %s logged in", self._manager.email)
            with self._lock:
                had = self._refresh_token, self._tenant, self._token
                # Kept before it is sent: when the server is busy or out of
                # reach, a retry need not open the browser again.
                self._refresh_token, self._tenant, self._token = browser_token, tenant_id, None
                try:
                    return self._exchange(browser_token, tenant_id, clock)
                except AlbertAuthError:
                    # Refused, or no such tenant: the login the manager had
                    # (its clients' tenant and token) stays.
                    self._refresh_token, self._tenant, self._token = had
                    raise

    def _wait_for_browser(
        self,
        tenant_id: str | None,
        minimum_port: int,
        maximum_port: int | None,
        timeout: float,
        wake: threading.Event,
    ) -> str:
        sso = self._manager
        check = email_check_request(sso.base_url, sso.email, tenant_id)
        check_email_response(check, self._send(check), email=sso.email)
        if wake.is_set():  # while it waited for its turn or for the e-mail check
            raise AlbertAuthError("SSO login: the caller left before the browser was opened")
        state = secrets.token_urlsafe(32)
        with LoginCallback(
            state=state, minimum_port=minimum_port, maximum_port=maximum_port, wake=wake
        ) as callback:
            url = sso_login_url(
                sso.base_url, sso.email, port=callback.port, tenant_id=tenant_id, state=state
            )
            logger.info("SSO login: opening the browser; waiting on 127.0.0.1:%d", callback.port)
            if not webbrowser.open(url):
                logger.warning("could not open a web browser: open %s to log in", url)
            return callback.wait(timeout)

    def _exchange(self, sent: SecretStr, tenant_id: str | None, clock: Clock) -> AccessToken:
        """Trade ``sent`` for the tenant's tokens and keep them (call it holding the lock)."""
        request = sso_refresh_request(self._manager.base_url, sent)
        response = self._send(request)
        if not response.is_success:
            raise token_error(request, response, hint="; log in again (authenticate())")
        now = clock()
        tokens = parse_sso_tokens(request, response, now=now, wall_now=time.time())
        chosen = select_tenant(tokens, tenant_id, email=self._manager.email)
        self._refresh_token, self._tenant = chosen.refresh_token, chosen.tenant_id
        self._token = chosen.access_token
        logger.info(
            "SSO: fetched an access token for %s, tenant %s (expires in %.0f s)",
            self._manager.email,
            chosen.tenant_id,
            chosen.access_token.expires_at - now,
        )
        return chosen.access_token

    def _send(self, auth: AuthRequest) -> httpx.Response:
        client = self._manager.http_client
        if client is None:
            with httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}) as own:
                return self._send_with(own, auth)
        return self._send_with(client, auth)

    @staticmethod
    def _send_with(client: httpx.Client, auth: AuthRequest) -> httpx.Response:
        try:
            return client.request(
                auth.method, auth.url, params=auth.params, json=auth.json, follow_redirects=False
            )
        except httpx.RequestError as exc:
            raise transport_error(
                exc, method=auth.method, url=auth.url, prefix=f"{auth.what}: ", redact=auth.redact
            ) from exc
        except RuntimeError:
            if client.is_closed:
                raise closed_client_error(auth.method, auth.url) from None
            raise
