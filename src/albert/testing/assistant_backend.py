"""The emulator's assistant-ui backend: a scripted assistant on ``/api/chat`` and ``/api/cancel``.

Built with ``assistant-stream`` (the assistant-ui team's Python package, in
the ``testing`` extra), as an assistant-ui backend is: each chat streams a
scripted answer word by word, calls one of its tools when the user's message
names it (and reports the result), stops when ``/api/cancel`` names its
thread, and saves the thread into the emulator's chat sessions with
`albert.integrations.assistant_ui.asave_thread` (the thread is the session
whose ``sourceSessionId`` is the thread id).

The stream is assistant transport (server-sent events) unless the request
accepts ``text/plain`` and not ``text/event-stream``: then it is the AI SDK
data stream. A request with ``messages`` carries the whole thread (the older
runtimes); otherwise the thread is loaded from the chat session and the
request's ``commands`` are applied to it. When a save fails, the error is
streamed, and the thread's next chat goes on from the thread the backend had,
so that its save stores what the failed one missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    import httpx
    from starlette.requests import Request
    from starlette.responses import Response

    from albert import AsyncAlbert
    from albert.testing.app import EmulatorApp

__all__ = ["AssistantBackend", "count_words", "scripted_reply"]

_log = logging.getLogger("albert.testing")

#: The base URL the backend's own Albert client uses: requests go to the emulator in-process.
_IN_PROCESS_URL = "http://albert-emulator.local"

_MISSING_STREAM = (
    "the emulator's assistant-ui backend needs assistant-stream, from the 'testing' extra: "
    "pip install 'albert-chat[testing]'"
)


def scripted_reply(text: str) -> str:
    """Return the scripted assistant's answer to a user's text.

    Parameters
    ----------
    text : str
        The user's last message, as text.

    Returns
    -------
    str
        The answer: the question quoted, then a fixed sentence.
    """
    asked = " ".join(text.split()) or "nothing"
    return (
        f"You asked: {asked} This is the Albert emulator's scripted assistant: its answer "
        "streams one word at a time, so that you can watch it arrive, or cancel it half-way."
    )


def count_words(args: Mapping[str, Any]) -> dict[str, Any]:
    """Count the words of ``args["text"]`` (the emulator's example tool).

    Parameters
    ----------
    args : Mapping[str, Any]
        ``{"text": ...}``.

    Returns
    -------
    dict[str, Any]
        ``{"words": <count>}``.
    """
    return {"words": len(str(args.get("text", "")).split())}


@dataclass
class _Run:
    """A chat being answered: what `cancel` stops."""

    thread_id: str
    cancelled: anyio.Event = field(default_factory=anyio.Event)


class AssistantBackend:
    """The scripted assistant-ui backend of an `EmulatorApp` (``emulator.assistant``).

    Parameters
    ----------
    emulator : EmulatorApp
        The emulator whose chat sessions keep the threads.

    Attributes
    ----------
    word_delay : float
        Seconds between two words of an answer (default 0.02).
    reply : Callable[[str], str]
        The answer to a user's text (default `scripted_reply`).
    tools : dict[str, Callable[[Mapping[str, Any]], Any]]
        The tools the assistant calls when the user's message names one, by
        name; each gets ``{"text": <the user's text>}`` and returns the result
        (default: ``count_words``).
    """

    def __init__(self, emulator: EmulatorApp) -> None:
        self._emulator = emulator
        self.word_delay = 0.02
        self.reply: Callable[[str], str] = scripted_reply
        self.tools: dict[str, Callable[[Mapping[str, Any]], Any]] = {"count_words": count_words}
        self._runs: dict[str, _Run] = {}
        self._saving: set[asyncio.Future[str]] = set()
        self._unsaved: dict[str, list[dict[str, Any]]] = {}  # threads whose last save failed

    def running(self, thread_id: str) -> bool:
        """Tell whether a chat of the thread is being answered.

        Parameters
        ----------
        thread_id : str
            The thread's id.

        Returns
        -------
        bool
            Whether its answer is still streaming (or its thread being saved).
        """
        return thread_id in self._runs

    async def chat(self, request: Request) -> Response:
        """``POST /api/chat``: answer the thread's last user message, streamed.

        Parameters
        ----------
        request : starlette.requests.Request
            ``{"threadId", "commands"?, "messages"?, "unstable_assistantMessageId"?, ...}``.

        Returns
        -------
        starlette.responses.Response
            The answer's stream; a JSON error for a bad request.
        """
        from albert.integrations.assistant_ui import aload_thread, apply_commands
        from albert.testing.app import ApiError

        try:
            from assistant_stream import create_run
            from assistant_stream.serialization import (
                AssistantTransportResponse,
                DataStreamResponse,
            )
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "assistant_stream":
                raise
            raise ApiError(501, _MISSING_STREAM) from None
        body = await request.body()
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            raise ApiError(400, "the body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "the body must be a JSON object with a threadId")
        thread_id = payload.get("threadId")
        if not isinstance(thread_id, str) or not thread_id:
            raise ApiError(400, "threadId is required and must be a non-empty string")
        albert, http = self._albert(request)
        try:
            messages = payload.get("messages")
            if messages is not None:
                if not isinstance(messages, list):
                    raise ApiError(400, "messages must be a list")
                thread = [dict(m) for m in messages if isinstance(m, Mapping)]
            else:
                commands = payload.get("commands") or []
                # A thread whose last save failed goes on from what the backend had: saving
                # it this time stores what the failed save missed.
                base = self._unsaved.get(thread_id)
                if base is None:
                    base = await aload_thread(albert, thread_id)
                thread = apply_commands(base, commands)
        except ValueError as exc:
            await http.aclose()
            raise ApiError(400, str(exc)) from None
        except BaseException:
            await http.aclose()
            raise
        previous = self._runs.get(thread_id)
        if previous is not None:  # a new chat supersedes the thread's running one
            previous.cancelled.set()
        run = self._runs[thread_id] = _Run(thread_id)
        message_id = payload.get("unstable_assistantMessageId")
        script = _Script(
            self,
            run,
            thread,
            albert,
            http,
            message_id=message_id if isinstance(message_id, str) else None,
        )
        stream = create_run(script.run)
        if _wants_data_stream(request.headers.get("accept", "")):
            response: Response = DataStreamResponse(stream)
        else:
            response = AssistantTransportResponse(stream)
        return response

    async def cancel(self, request: Request) -> Response:
        """``POST /api/cancel``: stop the answer of a thread.

        Parameters
        ----------
        request : starlette.requests.Request
            ``{"threadId": ...}``.

        Returns
        -------
        starlette.responses.Response
            ``{"threadId": ..., "cancelled": <whether a run was stopped>}``.
        """
        from starlette.responses import JSONResponse

        from albert.testing.app import ApiError

        body = await request.body()
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            raise ApiError(400, "the body is not valid JSON") from None
        thread_id = payload.get("threadId") if isinstance(payload, dict) else None
        if not isinstance(thread_id, str) or not thread_id:
            raise ApiError(400, "threadId is required and must be a non-empty string")
        run = self._runs.get(thread_id)
        if run is not None:
            run.cancelled.set()
        return JSONResponse({"threadId": thread_id, "cancelled": run is not None})

    def _albert(self, request: Request) -> tuple[AsyncAlbert, httpx.AsyncClient]:
        """Return an Albert client that calls the emulator in-process, as the caller."""
        import httpx

        from albert import AsyncAlbert

        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self._emulator))
        return AsyncAlbert(base_url=_IN_PROCESS_URL, token=token, http_client=http), http

    def _finished(self, run: _Run) -> None:
        if self._runs.get(run.thread_id) is run:
            del self._runs[run.thread_id]


async def _drained(call: Any) -> None:
    """Wait until a tool call's chunks are in the run's stream, so that later text follows them.

    assistant-stream moves a tool call's chunks to the run's stream in a task of
    its own; text appended before that task is done would come first.
    """
    await asyncio.sleep(0)  # the chunks `set_response` scheduled reach the call's queue
    while not call.queue.empty():  # noqa: ASYNC110 - the queue has no "drained" event to wait on
        await asyncio.sleep(0)


def _wants_data_stream(accept: str) -> bool:
    types = {item.partition(";")[0].strip().lower() for item in accept.split(",")}
    return "text/plain" in types and "text/event-stream" not in types


class _Script:
    """One chat's answer: the tool call, the words, the saved thread."""

    def __init__(
        self,
        backend: AssistantBackend,
        run: _Run,
        thread: list[dict[str, Any]],
        albert: AsyncAlbert,
        http: httpx.AsyncClient,
        *,
        message_id: str | None,
    ) -> None:
        self._backend, self._run, self._thread = backend, run, thread
        self._albert, self._http = albert, http
        self._message_id = message_id

    def _user_text(self) -> str:
        for message in reversed(self._thread):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(
                str(part.get("text", ""))
                for part in content or []
                if isinstance(part, Mapping) and part.get("type") == "text"
            )
        return ""

    async def run(self, controller: Any) -> None:
        """Stream the answer through an assistant-stream ``RunController``, then save the thread."""
        text = self._user_text()
        parts: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        answer = ""
        try:
            for name, tool in self._backend.tools.items():
                if name in text:
                    call_id = f"call_{uuid.uuid4().hex[:24]}"
                    args = {"text": text}
                    call = await controller.add_tool_call(name, call_id)
                    call.append_args_text(json.dumps(args))
                    result = tool(args)
                    call.set_response(result)
                    await _drained(call)
                    parts.append(
                        {"type": "tool-call", "toolCallId": call_id, "toolName": name, "args": args}
                    )
                    results.append(
                        {
                            "type": "tool-result",
                            "toolCallId": call_id,
                            "toolName": name,
                            "result": result,
                            "isError": False,
                        }
                    )
                    text_reply = f"The {name} tool returned {json.dumps(result)}. "
                    break
            else:
                text_reply = ""
            words = (text_reply + self._backend.reply(text)).split(" ")
            for index, word in enumerate(words):
                if self._run.cancelled.is_set() or controller.is_cancelled:
                    break
                piece = word if index == 0 else " " + word
                controller.append_text(piece)
                answer += piece
                with anyio.move_on_after(self._backend.word_delay):
                    await self._run.cancelled.wait()
        finally:
            if answer:
                parts.append({"type": "text", "text": answer})
            problem = await self._save_whatever_happens(parts, results)
        if problem:
            controller.add_error(problem)

    async def _save_whatever_happens(
        self, parts: list[dict[str, Any]], results: list[dict[str, Any]]
    ) -> str:
        """Save the thread, also when the listener left (assistant-stream then cancels the run)."""
        saving = asyncio.ensure_future(self._saved(parts, results))
        saving.add_done_callback(lambda _: self._backend._finished(self._run))
        try:
            return await asyncio.shield(saving)
        except asyncio.CancelledError:
            self._backend._saving.add(saving)  # keeps the task alive until it is done
            saving.add_done_callback(self._backend._saving.discard)
            raise

    async def _saved(self, parts: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
        """Save the thread with the answer; return what went wrong, or an empty string."""
        from albert.exceptions import AlbertException
        from albert.integrations.assistant_ui import asave_thread

        thread = list(self._thread)
        if parts:
            thread.append({"role": "assistant", "content": parts, "unstable_id": self._message_id})
        if results:
            thread.append({"role": "tool", "content": results})
        unsaved = self._backend._unsaved
        try:
            await asave_thread(self._albert, self._run.thread_id, thread)
        except (AlbertException, ValueError) as exc:
            _log.warning("the thread %r was not saved: %s", self._run.thread_id, exc)
            unsaved[self._run.thread_id] = thread
            return f"the thread was not saved in Albert: {exc}"
        finally:
            await self._http.aclose()
        unsaved.pop(self._run.thread_id, None)
        return ""
