"""`AsyncAssistantClient`: chat with the threads of an assistant-ui backend, streamed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from albert._backends import async_primitives as primitives
from albert.core.config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, resolve_timeout
from albert.core.logs import logger, setup_logging_from_env
from albert.core.responses import (
    closed_client_error,
    credentials_redactor,
    error_from_response,
    transport_error,
)
from albert.core.retry import RetryPolicy, retry_reason
from albert.integrations.assistant_ui import async_headers
from albert.integrations.assistant_ui._async.response import AsyncChatResponse
from albert.integrations.assistant_ui.commands import chat_body
from albert.integrations.assistant_ui.config import (
    CANCEL_PATH,
    CHAT_PATH,
    backend_url,
    retry_cancel,
    retry_chat,
)
from albert.integrations.assistant_ui.headers import HeadersSource

__all__ = ["AsyncAssistantClient", "AsyncThreadClient"]

TimeoutTypes = httpx.Timeout | float | None


class AsyncAssistantClient:
    """A client of an assistant-ui backend (``POST /api/chat``, ``POST /api/cancel``).

    It takes what the ``assistant_ui.AssistantClient`` of the
    ``assistant-ui-sync-server-api`` package takes, and streams: a chat's
    answer can be read as it arrives. Failures raise the SDK's exceptions
    (`albert.exceptions`), with the status and request id.

    Parameters
    ----------
    base_url : str
        The backend's base URL (the routes are added to it).
    headers : dict[str, str] | Callable | None, optional
        Headers sent with every request, or a function returning them, called
        before each request. An async function is awaited by the asynchronous
        client and refused by the synchronous one.
    timeout : httpx.Timeout | float | None, optional
        The timeout of each attempt (default 60 s, 10 s to connect): the
        longest wait for the next bytes of a stream. ``None`` disables it.
    max_retries : int, optional
        Retries after a failed attempt, when retrying is safe (default 3): a
        chat only when it could not connect, a cancel as any idempotent call.
    limits : httpx.Limits | None, optional
        Connection pool limits of the httpx client made here.
    http_client : httpx.AsyncClient | None, optional
        Your own httpx client; it is not closed here, and each request gets
        this client's ``timeout``.
    **httpx_kwargs : Any
        More arguments of the httpx client made here (``verify``, ``proxy``,
        ``transport``, ...).

    Raises
    ------
    TypeError
        If ``headers`` or ``http_client`` has the wrong type.
    ValueError
        If ``base_url`` is not an absolute http(s) URL, or ``http_client`` is
        given with ``limits`` or httpx arguments.

    Examples
    --------
    ::

        async with AsyncAssistantClient("http://localhost:8000") as client:
            response = await client.threads("thread-1").chat(commands=[...])
            async for text in response.iter_text():
                print(text, end="", flush=True)
    """

    def __init__(
        self,
        base_url: str,
        headers: HeadersSource = None,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        limits: httpx.Limits | None = None,
        http_client: httpx.AsyncClient | None = None,
        **httpx_kwargs: Any,
    ) -> None:
        setup_logging_from_env()
        self._base_url = backend_url(base_url)
        async_headers.check(headers)
        self._headers = headers
        self._timeout = resolve_timeout(timeout)
        self._policy = RetryPolicy(max_retries=max_retries)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}"
            )
        if http_client is not None and (limits is not None or httpx_kwargs):
            raise ValueError("pass limits and httpx arguments to the http_client you build")
        self._owns_client = http_client is None
        self._client = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(
                timeout=self._timeout,
                limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
                **httpx_kwargs,
            )
        )

    @property
    def base_url(self) -> str:
        """The backend's base URL, without a trailing slash."""
        return self._base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each attempt."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt, when retrying is safe."""
        return self._policy.max_retries

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying httpx client."""
        return self._client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def threads(self, thread_id: str) -> AsyncThreadClient:
        """Return the client of one thread.

        Parameters
        ----------
        thread_id : str
            The thread's id (``threadId`` in every request).

        Returns
        -------
        AsyncThreadClient
            Its ``chat`` and ``cancel``.

        Raises
        ------
        ValueError
            If ``thread_id`` is not a non-empty string.
        """
        return AsyncThreadClient(self, thread_id)

    async def aclose(self) -> None:
        """Close the connection pool, unless the httpx client was given."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncAssistantClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        stream: bool,
        retry_if: Callable[[BaseException], bool],
    ) -> httpx.Response:
        """Send a POST to the backend, retrying as ``retry_if`` allows, and return a 2xx.

        Parameters
        ----------
        path : str
            The route (``/api/chat``).
        body : Mapping[str, Any]
            The JSON body.
        stream : bool
            Return as soon as the headers arrived (the body still to read);
            otherwise the body is read.
        retry_if : Callable[[BaseException], bool]
            Whether a failed attempt may be retried.

        Returns
        -------
        httpx.Response
            The success response.

        Raises
        ------
        AlbertHTTPError
            A subclass named for the error status, with the status and request id.
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed.
        AlbertClientClosedError
            If the client is closed.
        """
        headers = await async_headers.resolve(self._headers)
        request = self._client.build_request(
            "POST",
            self._base_url + path,
            json=body,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if self._owns_client else self._timeout,
        )
        policy = self._policy
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_retries + 1),
            wait=lambda state: policy.wait_seconds(state.attempt_number, _failure(state)),
            retry=retry_if_exception(retry_if),
            sleep=primitives.sleep,
            before_sleep=lambda state: _log_retry(state, request),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(request, stream=stream)
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _send_once(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        method, url = request.method, str(request.url)
        redact = credentials_redactor(request.headers.get("Authorization"))
        started = primitives.monotonic()
        try:
            response = await self._client.send(request, stream=True)
        except httpx.RequestError as exc:
            raise transport_error(exc, method=method, url=url, redact=redact) from exc
        except RuntimeError:
            if self._client.is_closed:
                raise closed_client_error(method, url) from None
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms",
                method,
                url,
                response.status_code,
                (primitives.monotonic() - started) * 1000,
            )
        if stream and response.is_success:
            return response
        try:
            await response.aread()
        except httpx.RequestError as exc:
            raise transport_error(exc, method=method, url=url, redact=redact) from exc
        finally:
            await response.aclose()
        if not response.is_success:
            raise error_from_response(response)
        return response


class AsyncThreadClient:
    """One thread of an assistant-ui backend: chat in it, cancel its run.

    Parameters
    ----------
    client : AsyncAssistantClient
        The backend's client.
    thread_id : str
        The thread's id.

    Raises
    ------
    ValueError
        If ``thread_id`` is not a non-empty string.
    """

    def __init__(self, client: AsyncAssistantClient, thread_id: str) -> None:
        if not isinstance(thread_id, str) or not thread_id:
            raise ValueError("thread_id must be a non-empty string")
        self._client = client
        self._thread_id = thread_id

    @property
    def thread_id(self) -> str:
        """The thread's id."""
        return self._thread_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(thread_id={self._thread_id!r})"

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
    ) -> AsyncChatResponse:
        """Send ``POST /api/chat`` and return the answer as it starts to stream.

        The body is the one the peer package sends: ``threadId``, then the
        arguments given (``messages`` also converted to ``commands``), then
        ``kwargs``. The call returns once the response's headers arrived:
        iterate the response for its events (or ``iter_text()`` for its
        text), or read it whole with ``final_messages()``; leaving it unread,
        close it (``aclose()``, or ``async with``). A chat is retried only
        when it could not connect: anything else may have started a run.

        Parameters
        ----------
        messages : Sequence[dict] | None, optional
            The whole thread, for backends that read messages.
        commands : Sequence[dict] | None, optional
            What happened since the last run (``add-message``,
            ``add-tool-result``), for assistant-transport backends.
        system : str | None, optional
            The system prompt.
        tools : Mapping[str, Any] | None, optional
            The tools the caller offers, by name.
        unstable_assistantMessageId : str | None, optional
            The id the answer should get; also the ``unstable_id`` of the
            answer the response accumulates, unless the stream names one.
        runConfig : Mapping[str, Any] | None, optional
            The run's configuration.
        state : Any, optional
            The assistant-transport state; the response applies the stream's
            ``update-state`` events to a copy of it.
        **kwargs : Any
            More keys of the body.

        Returns
        -------
        AsyncChatResponse
            The streaming answer.

        Raises
        ------
        AlbertHTTPError
            If the backend answered an error status (with the status and request id).
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed.
        ValueError
            If ``messages`` or ``commands`` is not a list; nothing is sent.
        """
        body = chat_body(
            self._thread_id,
            messages=messages,
            commands=commands,
            system=system,
            tools=tools,
            unstable_assistant_message_id=unstable_assistantMessageId,
            run_config=runConfig,
            state=state,
            extra=kwargs,
        )
        response = await self._client.post(CHAT_PATH, body, stream=True, retry_if=retry_chat)
        return AsyncChatResponse(response, message_id=unstable_assistantMessageId, state=state)

    async def cancel(self) -> httpx.Response:
        """Send ``POST /api/cancel`` with the thread's id: the backend stops the thread's run.

        Retried like any idempotent call (cancelling twice cancels once).

        Returns
        -------
        httpx.Response
            The backend's answer, read.

        Raises
        ------
        AlbertHTTPError
            If the backend answered an error status.
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed.
        """
        return await self._client.post(
            CANCEL_PATH, {"threadId": self._thread_id}, stream=False, retry_if=retry_cancel
        )


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None else None


def _log_retry(state: RetryCallState, request: httpx.Request) -> None:
    exc = _failure(state)
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    reason = retry_reason(exc, method="GET") if exc is not None else None
    logger.warning(
        "retrying %s %s in %.2f s after attempt %d: %s",
        request.method,
        request.url,
        wait,
        state.attempt_number,
        reason or type(exc).__name__,
    )
