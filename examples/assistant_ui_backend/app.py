"""An assistant-ui backend whose threads live in Albert: FastAPI, assistant-stream and AsyncAlbert.

Point an assistant-ui front end (the assistant-transport runtime) at it, or
chat from Python with ``albert.integrations.assistant_ui.AssistantClient``.
Each thread is an Albert chat session (its ``sourceSessionId`` is the thread
id): a chat loads it, answers, and saves the answer, also a cancelled one.

Run it against Albert (or ``albert-chat serve``, the local emulator)::

    pip install 'albert-chat[assistant-ui]' fastapi uvicorn assistant-stream
    export ALBERT_BASE_URL=http://127.0.0.1:8765 ALBERT_TOKEN=...
    uvicorn app:app --port 8000

Replace `answer` with your model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from assistant_stream import RunController, create_run
from assistant_stream.serialization import AssistantTransportResponse
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from albert import AsyncAlbert
from albert.exceptions import AlbertException
from albert.integrations.assistant_ui import aload_thread, apply_commands, asave_thread


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open one Albert client for the process (ALBERT_BASE_URL, ALBERT_TOKEN); close it at exit."""
    async with AsyncAlbert() as albert:
        app.state.albert = albert
        app.state.runs = {}  # thread id -> the event that cancels its running answer
        yield


app = FastAPI(title="assistant-ui backend on Albert", lifespan=lifespan)


class ChatRequest(BaseModel):
    """What assistant-ui's assistant-transport runtime sends (extra keys are kept)."""

    model_config = ConfigDict(extra="allow")

    thread_id: str = Field(alias="threadId", min_length=1)
    commands: list[dict[str, Any]] = []
    system: str | None = None


class CancelRequest(BaseModel):
    """``{"threadId": ...}``."""

    thread_id: str = Field(alias="threadId", min_length=1)


#: Seconds between two words of the answer (the demo model streams slowly on purpose).
WORD_DELAY = 0.05


async def answer(thread: Sequence[Mapping[str, Any]], system: str | None) -> AsyncIterator[str]:
    """Answer the thread's last message, piece by piece: the model (replace it with yours)."""
    question = ""
    for message in reversed(thread):
        if message["role"] == "user":
            question = " ".join(
                part["text"] for part in message["content"] if part.get("type") == "text"
            )
            break
    words = f"You asked: {question} Here is a slow answer, word by word.".split()
    for index, word in enumerate(words):
        yield word if index == 0 else " " + word
        await asyncio.sleep(WORD_DELAY)


@app.post("/api/chat")
async def chat(body: ChatRequest, request: Request) -> AssistantTransportResponse:
    """Answer a thread: load it from Albert, apply the commands, stream, save."""
    albert: AsyncAlbert = request.app.state.albert
    runs: dict[str, asyncio.Event] = request.app.state.runs
    try:
        history = await aload_thread(albert, body.thread_id)
        thread = apply_commands(history, body.commands)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except AlbertException as exc:
        raise HTTPException(status_code=502, detail=f"Albert: {exc}") from None
    cancelled = runs[body.thread_id] = asyncio.Event()

    async def run(controller: RunController) -> None:
        text = ""
        try:
            async for piece in answer(thread, body.system):
                if cancelled.is_set() or controller.is_cancelled:
                    break
                controller.append_text(piece)
                text += piece
        finally:
            if runs.get(body.thread_id) is cancelled:
                del runs[body.thread_id]
            reply = {"role": "assistant", "content": [{"type": "text", "text": text}]}
            # Shielded: a listener that leaves cancels the run, not the save.
            await asyncio.shield(asave_thread(albert, body.thread_id, [*thread, reply]))

    return AssistantTransportResponse(create_run(run))


@app.post("/api/cancel")
async def cancel(body: CancelRequest, request: Request) -> dict[str, Any]:
    """Stop the thread's running answer (what was streamed is saved)."""
    event = request.app.state.runs.get(body.thread_id)
    if event is not None:
        event.set()
    return {"threadId": body.thread_id, "cancelled": event is not None}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, port=8000)
