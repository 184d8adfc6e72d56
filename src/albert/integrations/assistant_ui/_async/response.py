"""`AsyncChatResponse`: a chat's answer, read as it streams or whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from albert.core.responses import credentials_redactor, request_id_of, transport_error
from albert.exceptions import AlbertDecodeError
from albert.integrations.assistant_ui import _sse
from albert.integrations.assistant_ui.accumulator import MessageAccumulator
from albert.integrations.assistant_ui.converters import AssistantUIMessage
from albert.integrations.assistant_ui.events import (
    ASSISTANT_TRANSPORT,
    DATA_STREAM,
    AssistantEvent,
    StreamFormat,
    decode_data_stream_line,
    decode_sse_data,
    stream_format,
)

__all__ = ["AsyncChatResponse"]


class AsyncChatResponse:
    """The answer of a chat, streaming: iterate it for events, or read it whole.

    ``async for event in response`` gives each `AssistantEvent` as it
    arrives; ``response.iter_text()`` gives only the text the answer grows
    by; ``await response.final_messages()`` reads to the end and returns the
    messages. Meanwhile, ``messages``, ``text``, ``state`` and ``errors`` tell
    what the events so far add up to. The stream is read once; the
    connection is released when it ends, or on ``aclose()`` (closing early
    tells the backend that nobody listens: assistant-stream stops the run).

    Parameters
    ----------
    response : httpx.Response
        The backend's success response, its body not read yet.
    message_id : str | None, optional
        The answer's ``unstable_id`` until the stream names one.
    state : Any, optional
        The assistant-transport state the run starts from.

    Attributes
    ----------
    http_response : httpx.Response
        The underlying response (status, headers).
    format : {"assistant-transport", "data-stream"} | None
        The stream's wire format, from its content type; ``None`` if the
        content type is neither (iterating then raises `AlbertDecodeError`).
    """

    def __init__(
        self, response: httpx.Response, *, message_id: str | None = None, state: Any = None
    ) -> None:
        self.http_response = response
        self.format: StreamFormat | None = stream_format(response.headers.get("content-type"))
        self._accumulator = MessageAccumulator(message_id=message_id, state=state)
        self._raw: Any = None  # the body's events or lines, being read
        self._finished = False

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} [{self.status_code}] {self.format or 'unknown format'}"
            f"{', finished' if self._finished else ''}>"
        )

    @property
    def status_code(self) -> int:
        """The response's status."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response's headers."""
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The request id the backend sent back (``x-request-id`` or similar), if any."""
        return request_id_of(self.http_response)

    @property
    def finished(self) -> bool:
        """Whether the stream has been read to its end, or closed."""
        return self._finished

    @property
    def messages(self) -> list[AssistantUIMessage]:
        """The messages the events so far add up to (`MessageAccumulator.messages`).

        The assistant message, then a ``tool`` message when tool results came;
        they conform to ``assistant_ui.types`` and can be saved as they are.
        """
        return self._accumulator.messages

    @property
    def text(self) -> str:
        """The answer's text so far."""
        return self._accumulator.text

    @property
    def state(self) -> Any:
        """The assistant-transport state after the events so far."""
        return self._accumulator.state

    @property
    def errors(self) -> list[str]:
        """The errors the backend reported in the stream so far."""
        return list(self._accumulator.errors)

    @property
    def finish_reason(self) -> str | None:
        """Why the run ended, if the stream said so."""
        return self._accumulator.finish_reason

    def __aiter__(self) -> AsyncChatResponse:
        return self

    async def __anext__(self) -> AssistantEvent:
        event, _ = await self._next()
        return event

    def iter_text(self) -> AsyncIterator[str]:
        """Iterate over the text the answer grows by, as it arrives.

        Returns
        -------
        AsyncIterator[str]
            Each piece of text added to a text part (events of other kinds
            are folded into `messages` all the same).
        """
        return _TextStream(self)

    async def final_messages(self) -> list[AssistantUIMessage]:
        """Read the rest of the stream and return the messages it adds up to.

        Returns
        -------
        list[dict]
            `messages`, once the stream has ended.

        Raises
        ------
        AlbertConnectionError, AlbertTimeoutError
            If the connection failed before the end.
        AlbertDecodeError
            If the stream is not one of the two formats.
        """
        while not self._finished:
            try:
                await self._next()
            except StopAsyncIteration:
                break
        return self.messages

    async def _next(self) -> tuple[AssistantEvent, str | None]:
        if self._finished:
            raise StopAsyncIteration
        try:
            while True:
                if self._raw is None:
                    self._raw = self._opened()
                event = self._decoded(await self._raw.__anext__())
                if event is not None:
                    break
        except StopAsyncIteration:
            await self.aclose()
            raise
        except httpx.RequestError as exc:
            await self.aclose()
            request = self.http_response.request
            raise transport_error(
                exc,
                method=request.method,
                url=str(request.url),
                redact=credentials_redactor(request.headers.get("Authorization")),
            ) from exc
        except Exception:  # a decode error: the rest cannot be read either
            await self.aclose()
            raise
        return event, self._accumulator.add(event)

    def _opened(self) -> Any:
        """Start reading the body: its server-sent events, or its lines."""
        if self.format == ASSISTANT_TRANSPORT:
            return _sse.httpx_sse().EventSource(self.http_response).aiter_sse()
        if self.format == DATA_STREAM:
            return self.http_response.aiter_lines()
        raise self._decode_error(
            "expected a text/event-stream (assistant transport) or text/plain (AI SDK data "
            f"stream) body, got {self.http_response.headers.get('content-type', 'no content type')}"
        )

    def _decoded(self, item: Any) -> AssistantEvent | None:
        try:
            if self.format == ASSISTANT_TRANSPORT:
                return decode_sse_data(item.data)
            return decode_data_stream_line(item)
        except ValueError as exc:
            raise self._decode_error(str(exc)) from None

    def _decode_error(self, detail: str) -> AlbertDecodeError:
        request = self.http_response.request
        return AlbertDecodeError(
            f"the chat's stream cannot be read: {detail}",
            status_code=self.status_code,
            method=request.method,
            url=str(request.url),
            request_id=self.request_id,
            response=self.http_response,
        )

    async def aclose(self) -> None:
        """Close the stream (the rest is not read) and release the connection."""
        self._finished = True
        raw, self._raw = self._raw, None
        try:
            if raw is not None:
                await raw.aclose()
        finally:
            await self.http_response.aclose()

    async def __aenter__(self) -> AsyncChatResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _TextStream:
    """The text pieces of a response (an iterator object: leaving it early leaves nothing open)."""

    def __init__(self, response: AsyncChatResponse) -> None:
        self._response = response

    def __aiter__(self) -> _TextStream:
        return self

    async def __anext__(self) -> str:
        while True:
            _, delta = await self._response._next()
            if delta:
                return delta
