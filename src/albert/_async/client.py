"""`AsyncAlbert`, the entry point to the Albert chat API."""

from __future__ import annotations

from types import TracebackType

import httpx

from albert._async.collections.chat_flags import ChatFlagCollection
from albert._async.collections.chat_folders import ChatFolderCollection
from albert._async.collections.chat_messages import ChatMessageCollection
from albert._async.collections.chat_sessions import ChatSessionCollection
from albert._async.session import AsyncAlbertSession, TimeoutTypes
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
        variable.
    session : AsyncAlbertSession | None, optional
        A fully configured session. When given, pass none of the other
        connection arguments: they would be ignored, so they are refused.
    headers : dict[str, str] | None, optional
        Extra headers sent with every request.
    timeout : httpx.Timeout | float | None, optional
        The timeout of each attempt (default 60 s, 10 s to connect).
    max_retries : int, optional
        Retries after a failed attempt, when retrying is safe (default 3).
    http_client : httpx.AsyncClient | None, optional
        Your own httpx client (proxies, certificates, transports); it is not
        closed by the SDK.
    limits : httpx.Limits | None, optional
        Connection pool limits of the httpx client the SDK creates.

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
    closed with ``aclose()`` at shutdown; it is safe to share between tasks.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        session: AsyncAlbertSession | None = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        if session is None:
            session = AsyncAlbertSession(
                base_url=base_url,
                token=token,
                headers=headers,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
                limits=limits,
            )
        else:
            given = {
                "base_url": base_url is not None,
                "token": token is not None,
                "headers": headers is not None,
                "timeout": timeout is not DEFAULT_TIMEOUT,
                "max_retries": max_retries != DEFAULT_MAX_RETRIES,
                "http_client": http_client is not None,
                "limits": limits is not None,
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
    def from_token(cls, *, base_url: str | None = None, token: str) -> AsyncAlbert:
        """Create a client using a static token for authentication.

        Parameters
        ----------
        base_url : str | None, optional
            The base URL of the Albert API. Falls back to the
            ``ALBERT_BASE_URL`` environment variable, then to the default.
        token : str
            A static JWT token used for all requests.

        Returns
        -------
        AsyncAlbert
            A configured client authenticated with the given token.
        """
        return cls(base_url=base_url, token=token)

    def with_options(
        self,
        *,
        timeout: NotGivenOr[TimeoutTypes] = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> AsyncAlbert:
        """Return a client with other request options that shares this one's connections.

        Parameters
        ----------
        timeout : httpx.Timeout | float | None, optional
            The new timeout; left out, the current one is kept.
        max_retries : int | None, optional
            The new number of retries; left out, the current one is kept.

        Returns
        -------
        AsyncAlbert
            A client over the same connection pool and credentials, for
            example ``client.with_options(max_retries=0).chat_sessions.get_by_id(id=...)``.
        """
        return type(self)(
            session=self.session.with_options(timeout=timeout, max_retries=max_retries)
        )

    @property
    def base_url(self) -> str:
        """The base URL of the Albert API."""
        return self.session.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
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
