"""Access tokens for a session: cached, and renewed once for all its concurrent callers."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from albert._backends import async_primitives as primitives
from albert.auth.managers import AlbertSSOClient, AuthManager
from albert.auth.sso import DEFAULT_LOGIN_TIMEOUT, DEFAULT_MINIMUM_PORT
from albert.core.auth import (
    AccessToken,
    Clock,
    client_credentials_request,
    parse_access_token,
    token_error,
)
from albert.core.config import split_api_headers
from albert.core.logs import logger
from albert.core.retry import mark_token_request_failure

if TYPE_CHECKING:
    from albert._async.session import AsyncAlbertSession

__all__ = ["AsyncTokenProvider"]

T = TypeVar("T")


class AsyncTokenProvider:
    """The access token of an authentication manager, kept fresh for a session.

    Callers reuse the token until a minute before it expires; then one fetches
    the next while the others wait for it (single flight), and share its error
    if it fails. Client-credential tokens come through the session's own pool.
    SSO tokens are the manager's (`SSOLogin`), shared by all its clients: read
    without waiting, renewed by a blocking exchange in a worker thread: a
    caller that is cancelled or interrupted leaves at once, while the exchange
    finishes and stores the token the server rotated.

    Parameters
    ----------
    manager : AlbertClientCredentials | AlbertSSOClient
        Who to fetch tokens for.
    session : AsyncAlbertSession
        The session whose pool sends client-credential token requests.
    headers : Mapping[str, str]
        The session's headers (``Authorization`` and ``Content-Type`` are left
        out of token requests).
    clock : Callable[[], float], optional
        The current time in POSIX seconds (``time.time``), kept as ``clock``;
        tests replace it.
    """

    def __init__(
        self,
        manager: AuthManager,
        *,
        session: AsyncAlbertSession,
        headers: Mapping[str, str],
        clock: Clock = time.time,
    ) -> None:
        self.manager: AuthManager = manager
        self.clock = clock
        self._session = session
        self._headers, _ = split_api_headers(headers)
        self._lock = primitives.Lock()
        self._token: AccessToken | None = None  # client credentials only
        self._fetches = 0  # fetches that ended, well or not
        self._failure: Exception | None = None  # how the last one failed, if it did

    def __repr__(self) -> str:
        return f"{type(self).__name__}(manager={self.manager!r})"

    def _current(self) -> AccessToken | None:
        manager = self.manager
        return manager._login.current if isinstance(manager, AlbertSSOClient) else self._token

    def _usable(self, rejected: str | None) -> str | None:
        token = self._current()
        if token is None or not token.usable(self.clock(), rejected):
            return None
        return token.secret()

    async def get_token(self) -> str:
        """Return a valid access token, fetching one first if there is none or it is due.

        Raises
        ------
        AlbertAuthError
            If the credentials were refused, or the answer was not a token.
        AlbertHTTPError
            If the token endpoint answered 429 or 5xx (the session retries it).
        AlbertConnectionError, AlbertTimeoutError
            If the token endpoint could not be reached.
        """
        return self._usable(None) or await self._single_flight(None)

    async def refresh(self, rejected: str) -> str:
        """Replace ``rejected``, a token the server refused, once for all callers; as `get_token`.

        When another caller already replaced it, the newer token is returned.
        """
        return await self._single_flight(rejected)

    async def _single_flight(self, rejected: str | None) -> str:
        before = self._fetches
        async with self._lock:
            token = self._usable(rejected)
            if token is not None:
                return token  # fetched while this caller waited for the lock
            if self._failure is not None and self._fetches > before:
                raise self._failure  # the fetch this caller waited for failed
            try:
                token = await self._fetch(rejected)
                self._failure = None
                return token
            except Exception as exc:
                # The API request waiting for this token was not sent: the
                # session may retry it whatever its method.
                self._failure = mark_token_request_failure(exc)
                raise
            finally:
                self._fetches += 1

    async def _fetch(self, rejected: str | None) -> str:
        manager = self.manager
        if isinstance(manager, AlbertSSOClient):
            work = functools.partial(manager._login.token, clock=self.clock, rejected=rejected)
            return (await _in_worker(work)).secret()
        auth = client_credentials_request(manager.base_url, manager.id, manager.secret)
        request = self._session.http_client.build_request(
            "POST", auth.url, data=auth.form, headers=self._headers, timeout=self._session.timeout
        )
        response = await self._session._transmit(request, what=auth.what, redact=auth.redact)
        if not response.is_success:
            raise token_error(auth, response)
        now = self.clock()
        self._token = parse_access_token(auth, response, now=now)
        logger.info(
            "fetched an access token for client %s (expires in %.0f s)",
            manager.id,
            self._token.expires_at - now,
        )
        return self._token.secret()

    async def authenticate(
        self,
        *,
        tenant_id: str | None = None,
        minimum_port: int = DEFAULT_MINIMUM_PORT,
        maximum_port: int | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT,
    ) -> None:
        """Log in through the browser now and fetch a first access token (SSO only).

        As `AlbertSSOClient.authenticate`, waiting for the browser in a worker
        thread; a caller that leaves ends the wait.

        Raises
        ------
        TypeError
            If the manager is not an `AlbertSSOClient`.
        AlbertAuthError
            If the login fails or times out.
        AlbertHTTPError
            If the server answered 429 or 5xx (this call is not retried).
        """
        sso = self.manager
        if not isinstance(sso, AlbertSSOClient):
            raise TypeError("authenticate() logs in through the browser: it needs AlbertSSOClient")
        login = functools.partial(
            sso._login.log_in,
            clock=self.clock,
            tenant_id=tenant_id,
            minimum_port=minimum_port,
            maximum_port=maximum_port,
            timeout=timeout,
        )
        await _in_worker(login)


async def _in_worker(work: Callable[..., T]) -> T:
    """Run ``work(wake=...)`` in a worker thread; a caller that leaves sets ``wake`` and goes."""
    wake = threading.Event()  # ends a wait for the browser nobody needs any more
    try:
        return await primitives.run_in_thread(functools.partial(work, wake=wake))
    finally:
        wake.set()
