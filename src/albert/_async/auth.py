"""Access tokens for a session: fetched through its own HTTP client, cached, refreshed once."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping

import httpx
from pydantic import SecretStr

from albert._backends import async_primitives as primitives
from albert.core.auth import (
    DEFAULT_LOGIN_TIMEOUT,
    DEFAULT_MINIMUM_PORT,
    AlbertClientCredentials,
    AlbertSSOClient,
    AuthManager,
)
from albert.core.auth_tokens import (
    AccessToken,
    AuthRequest,
    Clock,
    SSOTenantToken,
    check_email_response,
    client_credentials_request,
    email_check_request,
    longest_request,
    parse_access_token,
    parse_sso_tokens,
    select_tenant,
    sso_login_url,
    sso_refresh_error,
    sso_refresh_request,
    token_endpoint_error,
    with_bounded_phases,
)
from albert.core.config import DEFAULT_TIMEOUT, build_headers, split_api_headers
from albert.core.logs import logger
from albert.core.responses import closed_client_error, transport_error
from albert.core.retry import mark_token_request_failure
from albert.exceptions import AlbertAuthError, AlbertTimeoutError

__all__ = ["AsyncTokenProvider"]

#: Seconds between two looks at an SSO refresh or login that another client of
#: the same manager is making, and how long to wait for its login at most.
_SHARED_WAIT_POLL = 0.02
_SHARED_LOGIN_WAIT = 300.0

#: Seconds a refresh may outlast its own bound before another client takes
#: its turn (a refresh whose loop or thread ended while it was pending never finishes).
_STALE_CLAIM_MARGIN = 30.0

#: The longest a refresh request may wait in a phase (connect, write, read,
#: pool) that the client's timeout leaves unbounded: it may outlive its
#: cancelled caller (so that the token the server rotated is kept), in a
#: worker thread that nobody can stop.
_DETACHED_REFRESH_SECONDS = 300.0


class _Superseded(Exception):
    """A refresh claim ended before its request was sent: claim again."""


class AsyncTokenProvider:
    """The access token of an authentication manager, kept fresh for a session.

    The first caller fetches a token; later callers reuse it until a minute
    before it expires. When it must be replaced, one caller fetches the new
    token and every concurrent caller waits for that one fetch (single
    flight), so a busy client under expiring tokens sends one token request,
    not one per call; if that fetch fails, the callers that waited for it get
    its error rather than each trying again in turn. Requests go through the
    session's own HTTP client.

    Parameters
    ----------
    manager : AlbertClientCredentials | AlbertSSOClient
        Who to fetch tokens for.
    http_client : httpx.AsyncClient
        The HTTP client to send token requests with (the session's).
    headers : Mapping[str, str] | None, optional
        Headers of the session (``Authorization`` and ``Content-Type`` are
        left out of token requests).
    timeout : httpx.Timeout, optional
        The timeout of each token request.
    clock : Callable[[], float], optional
        The current time in POSIX seconds (``time.time``); tests replace it.

    Attributes
    ----------
    manager : AlbertClientCredentials | AlbertSSOClient
        The authentication manager.
    clock : Callable[[], float]
        The clock that expiry is measured with.

    Raises
    ------
    TypeError
        If ``manager`` is not an authentication manager.
    """

    def __init__(
        self,
        manager: AuthManager,
        *,
        http_client: httpx.AsyncClient,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Clock = time.time,
    ) -> None:
        if not isinstance(manager, (AlbertClientCredentials, AlbertSSOClient)):
            raise TypeError(
                "auth_manager must be an AlbertClientCredentials or an AlbertSSOClient, "
                f"got {type(manager).__name__}"
            )
        self.manager: AuthManager = manager
        self.clock = clock
        self._client = http_client
        # Never the API's credentials or body type: see `split_api_headers`.
        shared, _ = split_api_headers(build_headers(None) if headers is None else headers)
        self._headers = shared
        self._timeout = timeout
        self._lock = primitives.Lock()
        self._token: AccessToken | None = None
        # A browser login on the manager (another tenant, perhaps) makes the
        # cached token stale: it counts the logins it was fetched after.
        self._logins = manager._logins if isinstance(manager, AlbertSSOClient) else None
        self._logins_seen = 0
        self._finished = 0  # token fetches that ended, well or not
        self._failure: Exception | None = None  # how the last one failed, if it did
        self._detached_refresh: primitives.Detached[SSOTenantToken] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(manager={self.manager!r})"

    async def get_token(self) -> str:
        """Return a valid access token, fetching one first if there is none or it is due.

        Returns
        -------
        str
            The token for the ``Authorization: Bearer`` header.

        Raises
        ------
        AlbertAuthError
            If the token endpoint refused the credentials or answered nonsense.
        AlbertHTTPError
            If the token endpoint answered 429 or 5xx (the session retries it).
        AlbertConnectionError, AlbertTimeoutError
            If the token endpoint could not be reached.
        """
        token = self._token
        logins = self._logins
        if (
            token is not None
            and not token.needs_refresh(self.clock())
            and (logins is None or logins.value == self._logins_seen)
        ):
            return token.secret()
        return await self._single_flight(rejected=None)

    async def refresh(self, rejected: str | None = None) -> str:
        """Replace the token that the server rejected, once for all concurrent callers.

        Parameters
        ----------
        rejected : str | None, optional
            The token a request was refused with. When another caller already
            replaced it, the newer token is returned without a new fetch.
            ``None`` replaces the current token.

        Returns
        -------
        str
            A fresh access token.

        Raises
        ------
        AlbertAuthError
            If the token endpoint refused the credentials or answered nonsense.
        AlbertHTTPError
            If the token endpoint answered 429 or 5xx (the session retries it).
        AlbertConnectionError, AlbertTimeoutError
            If the token endpoint could not be reached.
        """
        if rejected is None and self._token is not None:
            rejected = self._token.secret()
        return await self._single_flight(rejected=rejected)

    async def _single_flight(self, *, rejected: str | None) -> str:
        """Fetch a token unless a caller ahead in line already did (or already failed)."""
        finished_before = self._finished
        if isinstance(self.manager, AlbertSSOClient):
            self.manager._refuse_to_wait_here(blocking=primitives.WAITING_BLOCKS_THE_THREAD)
        async with self._lock:
            token = self._token
            logins = self._logins
            if (
                token is not None
                and token.secret() != rejected
                and not token.needs_refresh(self.clock())
                and (logins is None or logins.value == self._logins_seen)
            ):
                return token.secret()  # fetched while this caller waited for the lock
            if self._failure is not None and self._finished > finished_before:
                # The fetch this caller waited for failed: share its error
                # instead of queueing one more request that is likely to fail.
                raise self._failure
            self._failure = None
            try:
                token, seen = await self._fetch(rejected=rejected)
            except Exception as exc:
                # The API request waiting for this token was not sent: the
                # session may retry it whatever its method.
                self._failure = mark_token_request_failure(exc)
                raise
            finally:
                self._finished += 1
            self._token, self._logins_seen = token, seen
            return token.secret()

    async def authenticate(
        self,
        *,
        tenant_id: str | None = None,
        minimum_port: int = DEFAULT_MINIMUM_PORT,
        maximum_port: int | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT,
    ) -> None:
        """Log in through the browser now and fetch a first access token (SSO only).

        Without this call the first request logs in, with the default ports
        and timeout. The asynchronous client waits for the browser in a
        worker thread, so that its other tasks keep running.

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

        Raises
        ------
        TypeError
            If the manager is not an `AlbertSSOClient`.
        AlbertAuthError
            If the login fails or times out.
        AlbertHTTPError
            If the e-mail check or the token request answered 429 or 5xx
            (this call is not retried: call it again later).
        AlbertConnectionError, AlbertTimeoutError
            If the server could not be reached.
        """
        sso = self.manager
        if not isinstance(sso, AlbertSSOClient):
            raise TypeError("authenticate() logs in through the browser: it needs AlbertSSOClient")
        sso._refuse_to_wait_here(blocking=primitives.WAITING_BLOCKS_THE_THREAD)
        async with self._lock:
            await self._log_in(
                sso,
                again=True,
                tenant_id=tenant_id or sso.tenant_id,
                minimum_port=minimum_port,
                maximum_port=maximum_port,
                timeout=timeout,
            )
            seen = sso._logins.value  # read before the refresh: a login meanwhile wins
            self._token, self._logins_seen = await self._refresh_sso(sso), seen
            self._failure = None

    async def _fetch(self, *, rejected: str | None) -> tuple[AccessToken, int]:
        """Fetch a token; also return the manager's logins it comes after (0 without SSO)."""
        manager = self.manager
        if isinstance(manager, AlbertClientCredentials):
            return await self._fetch_client_credentials(manager), 0
        await self._log_in(
            manager,
            again=False,
            tenant_id=manager.tenant_id,
            minimum_port=DEFAULT_MINIMUM_PORT,
            maximum_port=None,
            timeout=DEFAULT_LOGIN_TIMEOUT,
        )
        seen = manager._logins.value  # read before the refresh: a login meanwhile wins
        return await self._refresh_sso(manager, rejected=rejected), seen

    async def _log_in(
        self,
        sso: AlbertSSOClient,
        *,
        again: bool,
        tenant_id: str | None,
        minimum_port: int,
        maximum_port: int | None,
        timeout: float,
    ) -> None:
        # Clients sharing a manager log in one at a time, and the first
        # requests of a manager that never logged in open one browser between
        # them: one logs in, the others wait for it.
        owner = object()
        waited = False
        logins_before = sso._logins.value
        give_up = primitives.monotonic() + DEFAULT_LOGIN_TIMEOUT + _SHARED_LOGIN_WAIT
        try:  # the claim is taken inside: whatever interrupts, `finally` ends it
            while True:
                claim = sso._claim_login(owner, again=again)
                if claim is False:
                    return
                if claim is True:
                    if not waited:
                        break
                    if sso._logins.value != logins_before and tenant_id in (None, sso._tenant):
                        return  # the login waited for did what was asked
                    if not again:
                        raise AlbertAuthError(
                            f"SSO: the browser login another client of {sso.email}'s manager "
                            "started did not complete; call authenticate() to try again"
                        )
                    break
                sso._refuse_to_wait_here(blocking=primitives.WAITING_BLOCKS_THE_THREAD)
                if primitives.monotonic() > give_up:
                    raise AlbertAuthError(
                        f"SSO: another client of {sso.email}'s manager has been logging in "
                        "for too long; log in again (authenticate())"
                    )
                waited = True
                await primitives.sleep(_SHARED_WAIT_POLL)
            await self._browser_login(
                sso,
                tenant_id=tenant_id,
                minimum_port=minimum_port,
                maximum_port=maximum_port,
                timeout=timeout,
            )
        finally:
            sso._finish_login(owner)

    async def _fetch_client_credentials(self, credentials: AlbertClientCredentials) -> AccessToken:
        request = client_credentials_request(credentials)
        response = await self._send(request, timeout=self._timeout)
        if not response.is_success:
            raise token_endpoint_error(request, response)
        now = self.clock()
        token = parse_access_token(request, response, now=now)
        logger.info(
            "fetched an access token for client %s (expires in %.0f s)",
            credentials.id,
            token.expires_at - now,
        )
        return token

    async def _browser_login(
        self,
        sso: AlbertSSOClient,
        *,
        tenant_id: str | None,
        minimum_port: int,
        maximum_port: int | None,
        timeout: float,
    ) -> None:
        from albert._backends.login_callback import LoginCallbackServer

        check = email_check_request(sso, tenant_id=tenant_id)
        check_email_response(check, await self._send(check, timeout=self._timeout), email=sso.email)
        server = LoginCallbackServer(minimum_port=minimum_port, maximum_port=maximum_port)
        login_url = sso_login_url(sso, port=server.port, tenant_id=tenant_id)
        logger.info("SSO login: opening the browser; waiting on 127.0.0.1:%d", server.port)
        try:
            refresh_token = await primitives.run_in_thread(
                functools.partial(server.wait_for_token, login_url, timeout=timeout)
            )
        finally:
            server.stop()
        sso._logged_in(refresh_token, tenant_id)
        logger.info("SSO login: %s logged in", sso.email)

    async def _refresh_sso(
        self, sso: AlbertSSOClient, *, rejected: str | None = None
    ) -> AccessToken:
        # Every client of this manager holds the same refresh token, which the
        # server accepts once: one of them refreshes while the others wait for
        # its access token (the manager's state is swapped under a thread lock,
        # never held across this request; waiting is polling, so that threads
        # and tasks, whatever runs them, can share one manager).
        owner = object()
        # Once sent, the refresh token is spent: the request runs on its own,
        # so a caller cancelled or interrupted meanwhile does not lose its
        # successor (which would log every client of the manager out).
        timeout = with_bounded_phases(self._timeout, _DETACHED_REFRESH_SECONDS)
        bound = longest_request(timeout)
        try:  # the claim is taken inside: whatever interrupts, `finally` ends it
            while True:
                claim = sso._claim_refresh(
                    owner,
                    rejected=rejected,
                    now=self.clock(),
                    on_this_threads_loop=not primitives.WAITING_BLOCKS_THE_THREAD,
                    lasts_at_most=bound + _STALE_CLAIM_MARGIN,
                )
                if isinstance(claim, AccessToken):
                    return claim  # another client of the same manager refreshed it
                if claim is None:
                    sso._refuse_to_wait_here(blocking=primitives.WAITING_BLOCKS_THE_THREAD)
                    await primitives.sleep(_SHARED_WAIT_POLL)
                    continue
                request = sso_refresh_request(sso.base_url, claim)
                refresh = primitives.Detached(
                    functools.partial(self._refresh_and_keep, sso, owner, request, claim, timeout),
                    bound,
                )
                self._detached_refresh = refresh  # before it starts: close() waits for it
                refresh.start()
                try:
                    chosen = await refresh.result()
                except _Superseded:
                    continue  # a login replaced the refresh token before it was sent
                except TimeoutError:  # the bound
                    # Cut, or (a thread cannot be stopped) no longer waited for:
                    # then its claim stays until it ends or goes stale, and its
                    # answer is kept if it comes (`_finish_refresh`).
                    raise AlbertTimeoutError(
                        f"SSO: {request.method} {request.url} did not finish within {bound:g} s",
                        method=request.method,
                        url=request.url,
                    ) from None
                self._detached_refresh = None  # ended: nothing to wait for on close
                return chosen.access_token
        finally:
            sso._give_up_unstarted_refresh(owner)  # the work never began: end its claim

    async def _refresh_and_keep(
        self,
        sso: AlbertSSOClient,
        owner: object,
        request: AuthRequest,
        sent: SecretStr,
        timeout: httpx.Timeout,
    ) -> SSOTenantToken:
        """Refresh, and end ``owner``'s claim, keeping the new tokens if it worked."""
        if not sso._start_refresh(owner):
            raise _Superseded  # its claim was ended first: by its caller, or by a login
        chosen = None
        try:
            chosen = await self._refresh_with(sso, request, timeout)
        finally:
            sso._finish_refresh(owner, chosen, sent=sent)
        logger.info(
            "SSO: fetched an access token for %s, tenant %s (expires in %.0f s)",
            sso.email,
            chosen.tenant_id,
            chosen.access_token.expires_at - self.clock(),
        )
        return chosen

    async def settle(self) -> None:
        """Wait for a token refresh that runs on after its caller was cancelled.

        Call it before closing the HTTP client the refresh is sent with: it
        stores the token the server rotated, and the other clients of an SSO
        manager need that token.
        """
        refresh = self._detached_refresh
        if refresh is not None:
            await refresh.settle()

    async def _refresh_with(
        self, sso: AlbertSSOClient, request: AuthRequest, timeout: httpx.Timeout
    ) -> SSOTenantToken:
        """Send the refresh request and return the tokens of the manager's tenant."""
        response = await self._send(request, timeout=timeout)
        if not response.is_success:
            raise sso_refresh_error(request, response)
        tokens = parse_sso_tokens(request, response, now=self.clock(), wall_now=time.time())
        return select_tenant(tokens, sso._tenant, email=sso.email)

    async def _send(self, auth: AuthRequest, *, timeout: httpx.Timeout) -> httpx.Response:
        request = self._client.build_request(
            auth.method,
            auth.url,
            params=auth.params,
            data=auth.form,
            json=auth.json,
            headers=self._headers,
            timeout=timeout,
        )
        started = primitives.monotonic()
        try:
            response = await self._client.send(request, follow_redirects=False)
        except httpx.RequestError as exc:  # transport failures, and undecodable bodies
            raise transport_error(
                exc, method=auth.method, url=auth.url, prefix=f"{auth.what}: ", redact=auth.redact
            ) from exc
        except RuntimeError:
            if self._client.is_closed:
                raise closed_client_error(auth.method, auth.url) from None
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (%s)",
                auth.method,
                auth.url,
                response.status_code,
                (primitives.monotonic() - started) * 1000,
                auth.what,
            )
        return response
