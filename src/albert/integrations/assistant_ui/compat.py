"""The API of the peer package's ``assistant_ui.AssistantClient``, on this SDK's clients.

Code written for the peer package runs after one import changes::

    # from assistant_ui import AssistantClient
    from albert.integrations.assistant_ui.compat import AssistantClient

The same methods (``threads``, async ``chat``/``cancel``/``close``,
``chat_sync``/``cancel_sync``/``close_sync``), arguments, request bodies and
return values (the buffered ``httpx.Response``), with these differences:

- a failure raises the SDK's exceptions (`albert.exceptions`: status, request
  id, the backend's message), which are ``Exception`` subclasses as the
  peer's bare ``Exception`` is; the sync methods refuse an async headers
  function with a ``TypeError`` (the peer raises ``ValueError``);
- there is a default timeout (60 s, 10 s to connect; ``timeout=None``
  disables it), and a chat that could not connect, or a cancel that failed
  in a way safe to repeat, is retried (``max_retries``, default 3).

For answers read as they stream, use `AsyncAssistantClient` or `AssistantClient`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from albert.core.config import DEFAULT_TIMEOUT
from albert.core.sentinels import NOT_GIVEN, NotGivenOr
from albert.integrations.assistant_ui._async.client import AsyncAssistantClient
from albert.integrations.assistant_ui._sync.client import AssistantClient as SyncAssistantClient
from albert.integrations.assistant_ui.commands import chat_body
from albert.integrations.assistant_ui.config import CHAT_PATH, backend_url, retry_chat
from albert.integrations.assistant_ui.headers import HeadersSource, check_source

__all__ = ["AssistantClient", "ThreadClient"]

_MESSAGES_DEPRECATED = (
    "The 'messages' parameter is deprecated and will be removed in a future version. "
    "Use 'commands' parameter instead."
)


class ThreadClient:
    """One thread of an assistant-ui backend, as the peer package's ``ThreadClient``.

    Parameters
    ----------
    client : AssistantClient
        The backend's client.
    thread_id : str
        The thread's id.
    """

    def __init__(self, client: AssistantClient, thread_id: str) -> None:
        self._client = client
        self._thread_id = thread_id

    def _body(
        self,
        messages: Sequence[Mapping[str, Any]] | None,
        commands: Sequence[Mapping[str, Any]] | None,
        system: str | None,
        tools: Mapping[str, Any] | None,
        assistant_message_id: str | None,
        run_config: Mapping[str, Any] | None,
        state: Any,
        kwargs: Mapping[str, Any],
    ) -> dict[str, Any]:
        if messages is not None:
            warnings.warn(_MESSAGES_DEPRECATED, DeprecationWarning, stacklevel=3)
        return chat_body(
            self._thread_id,
            messages=messages,
            commands=commands,
            system=system,
            tools=tools,
            unstable_assistant_message_id=assistant_message_id,
            run_config=run_config,
            state=state,
            extra=kwargs,
        )

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]] | None = None,
        commands: Sequence[Mapping[str, Any]] | None = None,
        system: str | None = None,
        tools: Mapping[str, Any] | None = None,
        unstable_assistantMessageId: str | None = None,
        runConfig: Mapping[str, Any] | None = None,
        state: Any = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a chat request for this thread and return the whole response.

        Parameters
        ----------
        messages : Sequence[dict] | None, optional
            (Deprecated, as in the peer package) the thread's messages; sent,
            and converted to commands.
        commands : Sequence[dict] | None, optional
            The commands to run.
        system : str | None, optional
            The system prompt.
        tools : Mapping[str, Any] | None, optional
            The available tools, by name.
        unstable_assistantMessageId : str | None, optional
            The assistant message's id.
        runConfig : Mapping[str, Any] | None, optional
            The run's configuration.
        state : Any, optional
            State data.
        **kwargs : Any
            More keys of the body.

        Returns
        -------
        httpx.Response
            The backend's response, its body read.

        Raises
        ------
        AlbertHTTPError
            If the backend answered an error status.
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed.
        """
        body = self._body(
            messages, commands, system, tools, unstable_assistantMessageId, runConfig, state, kwargs
        )
        client = self._client._async_client()
        return await client.post(CHAT_PATH, body, stream=False, retry_if=retry_chat)

    def chat_sync(
        self,
        messages: Sequence[Mapping[str, Any]] | None = None,
        commands: Sequence[Mapping[str, Any]] | None = None,
        system: str | None = None,
        tools: Mapping[str, Any] | None = None,
        unstable_assistantMessageId: str | None = None,
        runConfig: Mapping[str, Any] | None = None,
        state: Any = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a chat request for this thread, blocking, and return the whole response.

        Parameters
        ----------
        messages : Sequence[dict] | None, optional
            (Deprecated) the thread's messages.
        commands : Sequence[dict] | None, optional
            The commands to run.
        system : str | None, optional
            The system prompt.
        tools : Mapping[str, Any] | None, optional
            The available tools, by name.
        unstable_assistantMessageId : str | None, optional
            The assistant message's id.
        runConfig : Mapping[str, Any] | None, optional
            The run's configuration.
        state : Any, optional
            State data.
        **kwargs : Any
            More keys of the body.

        Returns
        -------
        httpx.Response
            The backend's response, its body read.

        Raises
        ------
        TypeError
            If the client's headers function is an async one.
        AlbertHTTPError
            If the backend answered an error status.
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed.
        """
        body = self._body(
            messages, commands, system, tools, unstable_assistantMessageId, runConfig, state, kwargs
        )
        client = self._client._sync_client()
        return client.post(CHAT_PATH, body, stream=False, retry_if=retry_chat)

    async def cancel(self) -> httpx.Response:
        """Cancel the thread's current run.

        Returns
        -------
        httpx.Response
            The backend's response, its body read.
        """
        return await self._client._async_client().threads(self._thread_id).cancel()

    def cancel_sync(self) -> httpx.Response:
        """Cancel the thread's current run, blocking.

        Returns
        -------
        httpx.Response
            The backend's response, its body read.
        """
        return self._client._sync_client().threads(self._thread_id).cancel()


class AssistantClient:
    """A client of an assistant-ui backend with the peer package's API.

    Parameters
    ----------
    base_url : str
        The backend's base URL.
    headers : dict[str, str] | Callable | None, optional
        Headers for every request, or a function returning them (sync, or
        async for the async methods).
    timeout : float | httpx.Timeout | None, optional
        The timeout of each attempt (default 60 s, 10 s to connect); ``None``
        disables it.
    **kwargs : Any
        More arguments of the httpx clients (``verify``, ``proxy``, ...), and
        of this SDK's clients (``max_retries``, ``limits``).

    Attributes
    ----------
    base_url : str
        The base URL, without a trailing slash.
    """

    def __init__(
        self,
        base_url: str,
        headers: HeadersSource = None,
        timeout: NotGivenOr[httpx.Timeout | float | None] = NOT_GIVEN,
        **kwargs: Any,
    ) -> None:
        self.base_url = backend_url(base_url)
        check_source(headers)
        self._headers = headers
        self._timeout = DEFAULT_TIMEOUT if timeout is NOT_GIVEN else timeout
        self._kwargs = kwargs
        self._async: AsyncAssistantClient | None = None
        self._sync: SyncAssistantClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def threads(self, thread_id: str) -> ThreadClient:
        """Return the client of one thread.

        Parameters
        ----------
        thread_id : str
            The thread's id.

        Returns
        -------
        ThreadClient
            Its ``chat``, ``chat_sync``, ``cancel`` and ``cancel_sync``.
        """
        return ThreadClient(self, thread_id)

    def _async_client(self) -> AsyncAssistantClient:
        if self._async is None:
            self._async = AsyncAssistantClient(
                self.base_url, self._headers, timeout=self._timeout, **self._kwargs
            )
        return self._async

    def _sync_client(self) -> SyncAssistantClient:
        if self._sync is None:
            self._sync = SyncAssistantClient(
                self.base_url, self._headers, timeout=self._timeout, **self._kwargs
            )
        return self._sync

    async def close(self) -> None:
        """Close the async client, if it was opened."""
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def close_sync(self) -> None:
        """Close the sync client, if it was opened."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def __aenter__(self) -> AssistantClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __enter__(self) -> AssistantClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_sync()
