"""`AsyncAlbert`, the entry point to the Albert chat API."""

from __future__ import annotations

from types import TracebackType

import httpx
from pydantic import SecretStr

from albert._async.collections.chat_flags import ChatFlagCollection
from albert._async.collections.chat_folders import ChatFolderCollection
from albert._async.collections.chat_messages import ChatMessageCollection
from albert._async.collections.chat_sessions import ChatSessionCollection
from albert._async.session import AsyncAlbertSession, TimeoutTypes
from albert.auth.managers import (
    AlbertClientCredentials,
    AlbertSSOClient,
    AuthManager,
    auth_from_env,
)
from albert.core.config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from albert.core.sentinels import NOT_GIVEN, NotGivenOr

__all__ = ["AsyncAlbert"]


class AsyncAlbert:
    """Client for the Albert chat API.

    Uses an httpx client under the hood and must be closed when no longer
    needed: call ``aclose()``, or use the client as a context manager.

    Parameters
    ----------
    base_url : str | None, optional
        The base URL of the Albert API. Falls back to the ``ALBERT_BASE_URL``
        environment variable, then to ``https://app.albertinvent.com``.
    token : str | None, optional
        A static JWT token. Falls back to the ``ALBERT_TOKEN`` environment
        variable when no ``auth_manager`` is given.
    auth_manager : AlbertClientCredentials | AlbertSSOClient | None, optional
        An authentication manager: tokens are fetched, cached, and refreshed
        a minute before they expire (concurrent requests share one refresh).
        Give either ``token`` or ``auth_manager``. Its ``base_url`` is the
        client's when ``base_url`` is left out, and must agree with it otherwise.
    session : AsyncAlbertSession | None, optional
        A fully configured session. When given, pass none of the other
        connection arguments: they would be ignored, so they are refused.
    headers : dict[str, str] | None, optional
        Extra headers sent with every request.
    timeout : httpx.Timeout | float | None, optional
        The timeout of each attempt (default 60 s, 10 s to connect). It
        bounds one attempt, not the call: with the default retries a call
        makes up to 4 attempts and waits up to 3 times between them (up to
        60 s each when the server sends ``Retry-After``), about 180 s of
        waiting alone. Pass ``total_timeout`` to bound the whole call.
    max_retries : int, optional
        Retries after a failed attempt, when retrying is safe (default 3).
    total_timeout : float | None, optional
        Seconds one call may take in all, retries and waits included
        (default ``None``: no overall limit). A wait that would pass it is
        not taken, each attempt's timeouts are cut to the time left, an
        answer still arriving when it passes is cut off, and the call raises
        `AlbertTimeoutError` saying ``total_timeout`` was reached.
    http_client : httpx.AsyncClient | None, optional
        Your own httpx client (proxies, certificates, transports); it is not
        closed by the SDK. Its headers are kept, but each request gets the
        SDK's ``timeout`` (pass ``timeout=`` to choose it).
    limits : httpx.Limits | None, optional
        Connection pool limits of the httpx client the SDK creates.
    httpx_transport : bool, optional
        Send with httpx's own transport (httpcore) instead of aiohttp's HTTP
        stack, the default on asyncio and uvloop (under trio, httpx's own
        transport is always used).

    Attributes
    ----------
    session : AsyncAlbertSession
        The internal session used for authenticated requests.
    chat_sessions : ChatSessionCollection
        Access to chat session API methods.
    chat_messages : ChatMessageCollection
        Access to chat message API methods.
    chat_folders : ChatFolderCollection
        Access to chat folder API methods.
    chat_flags : ChatFlagCollection
        Access to chat flag API methods.

    Examples
    --------
    One-off usage with a context manager::

        async with AsyncAlbert(base_url=..., token=...) as client:
            sessions = [s async for s in client.chat_sessions.get_all()]

    A long-lived client (in a web service, for example) is made once and
    closed with ``aclose()`` at shutdown; it is safe to share between concurrent
    tasks or threads.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        auth_manager: AuthManager | None = None,
        session: AsyncAlbertSession | None = None,
        headers: dict[str, str] | None = None,
        timeout: NotGivenOr[TimeoutTypes] = NOT_GIVEN,
        max_retries: NotGivenOr[int] = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        limits: httpx.Limits | None = None,
        total_timeout: NotGivenOr[float | None] = NOT_GIVEN,
        httpx_transport: bool = False,
    ) -> None:
        if session is None:
            session = AsyncAlbertSession(
                base_url=base_url,
                token=token,
                auth_manager=auth_manager,
                headers=headers,
                timeout=DEFAULT_TIMEOUT if timeout is NOT_GIVEN else timeout,
                max_retries=DEFAULT_MAX_RETRIES if max_retries is NOT_GIVEN else max_retries,
                http_client=http_client,
                limits=limits,
                total_timeout=None if total_timeout is NOT_GIVEN else total_timeout,
                httpx_transport=httpx_transport,
            )
        elif not isinstance(session, AsyncAlbertSession):
            raise TypeError(f"session must be an AsyncAlbertSession, got {type(session).__name__}")
        else:
            given = {
                "base_url": base_url is not None,
                "token": token is not None,
                "auth_manager": auth_manager is not None,
                "headers": headers is not None,
                "timeout": timeout is not NOT_GIVEN,
                "max_retries": max_retries is not NOT_GIVEN,
                "http_client": http_client is not None,
                "limits": limits is not None,
                "total_timeout": total_timeout is not NOT_GIVEN,
                "httpx_transport": httpx_transport,
            }
            clashing = [name for name, was_given in given.items() if was_given]
            if clashing:
                raise ValueError(
                    f"session= already carries its connection settings; "
                    f"do not pass {', '.join(clashing)} beside it"
                )
        self.session = session
        self.chat_sessions = ChatSessionCollection(session=session)
        self.chat_messages = ChatMessageCollection(session=session)
        self.chat_folders = ChatFolderCollection(session=session)
        self.chat_flags = ChatFlagCollection(session=session)

    @classmethod
    def from_token(
        cls, *, base_url: str | None = None, token: str, headers: dict[str, str] | None = None
    ) -> AsyncAlbert:
        """Create a client using a static token for authentication.

        Parameters
        ----------
        base_url : str | None, optional
            The base URL of the Albert API. Falls back to the
            ``ALBERT_BASE_URL`` environment variable, then to the default.
        token : str
            A static JWT token used for all requests.
        headers : dict[str, str] | None, optional
            Extra headers sent with every request.

        Returns
        -------
        AsyncAlbert
            A configured client authenticated with the given token.
        """
        return cls(base_url=base_url, token=token, headers=headers)

    @classmethod
    def from_client_credentials(
        cls,
        *,
        base_url: str | None = None,
        client_id: str,
        client_secret: str | SecretStr,
        headers: dict[str, str] | None = None,
    ) -> AsyncAlbert:
        """Create a client using OAuth2 client credentials authentication.

        The client fetches an access token on its first request, reuses it,
        and fetches the next one a minute before it expires.

        Parameters
        ----------
        base_url : str | None, optional
            The base URL of the Albert API. Falls back to the
            ``ALBERT_BASE_URL`` environment variable, then to the default.
        client_id : str
            The OAuth2 client ID.
        client_secret : str | SecretStr
            The OAuth2 client secret.
        headers : dict[str, str] | None, optional
            Extra headers sent with every request (token requests too).

        Returns
        -------
        AsyncAlbert
            A configured client that refreshes tokens automatically.
        """
        credentials = AlbertClientCredentials(id=client_id, secret=client_secret, base_url=base_url)
        return cls(auth_manager=credentials, headers=headers)

    @classmethod
    def from_sso(
        cls,
        *,
        base_url: str | None = None,
        email: str,
        tenant_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncAlbert:
        """Create a client that logs in through the browser (single sign-on).

        The login happens on the first request: the Albert login page opens
        in the browser and the client waits for it on ``127.0.0.1``. To log
        in beforehand, with other ports or timeout, call
        ``client.session.token_provider.authenticate(...)``, or build an
        `AlbertSSOClient`, call its ``authenticate()`` and pass it as
        ``auth_manager``.

        The non-blocking client waits in a worker thread, so its event loop
        keeps running.

        Parameters
        ----------
        base_url : str | None, optional
            The base URL of the Albert API. Falls back to the
            ``ALBERT_BASE_URL`` environment variable, then to the default.
        email : str
            The e-mail address to log in with.
        tenant_id : str | None, optional
            The tenant to use when the account has several.
        headers : dict[str, str] | None, optional
            Extra headers sent with every request.

        Returns
        -------
        AsyncAlbert
            A configured client that refreshes tokens automatically.
        """
        sso = AlbertSSOClient(email=email, base_url=base_url, tenant_id=tenant_id)
        return cls(auth_manager=sso, headers=headers)

    @classmethod
    def from_env(cls, *, headers: dict[str, str] | None = None) -> AsyncAlbert:
        """Create a client from the environment.

        Uses ``ALBERT_TOKEN`` when set, else the client credentials in
        ``ALBERT_CLIENT_ID`` and ``ALBERT_CLIENT_SECRET``; ``ALBERT_BASE_URL``
        sets the server in both cases.

        Parameters
        ----------
        headers : dict[str, str] | None, optional
            Extra headers sent with every request.

        Returns
        -------
        AsyncAlbert
            A configured client.

        Raises
        ------
        AlbertAuthError
            If none of these variables is set; the message lists them.
        """
        credentials = auth_from_env()
        if isinstance(credentials, str):
            return cls(token=credentials, headers=headers)
        return cls(auth_manager=credentials, headers=headers)

    def with_options(
        self,
        *,
        timeout: NotGivenOr[TimeoutTypes] = NOT_GIVEN,
        max_retries: int | None = None,
        total_timeout: NotGivenOr[float | None] = NOT_GIVEN,
    ) -> AsyncAlbert:
        """Return a client with other request options that shares this one's connections.

        Parameters
        ----------
        timeout : httpx.Timeout | float | None, optional
            The new timeout; left out, the current one is kept.
        max_retries : int | None, optional
            The new number of retries; left out, the current one is kept.
        total_timeout : float | None, optional
            The new overall limit of one call, retries and waits included
            (``None``: no limit); left out, the current one is kept.

        Returns
        -------
        AsyncAlbert
            A client over the same connection pool and credentials, for
            example ``client.with_options(max_retries=0).chat_sessions.get_by_id(id=...)``.
        """
        return type(self)(
            session=self.session.with_options(
                timeout=timeout, max_retries=max_retries, total_timeout=total_timeout
            )
        )

    @property
    def base_url(self) -> str:
        """The base URL of the Albert API."""
        return self.session.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client, unless it was given."""
        await self.session.aclose()

    async def __aenter__(self) -> AsyncAlbert:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
