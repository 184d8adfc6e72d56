"""A FastAPI service that lists and reads Albert chat sessions with one shared `AsyncAlbert`.

Run it (the client reads ``ALBERT_BASE_URL`` and ``ALBERT_TOKEN``; try it on the
emulator that ``albert-chat serve`` starts)::

    pip install 'albert-chat' fastapi uvicorn
    uvicorn app:app --app-dir examples/fastapi_service

Endpoints:

- ``GET /sessions?limit=20&start_key=...``: a page of sessions and the key of the next;
- ``GET /sessions/{session_id}``: one session;
- ``GET /sessions/{session_id}/messages?limit=50&start_key=...``: a page of its messages;
- ``GET /sessions/{session_id}/export?format=md``: the whole conversation, streamed.

One client is made when the service starts and closed when it stops (the
lifespan), and shared by every request. The SDK's errors become HTTP answers
of this service: an unknown session is a 404; bad input a 422; the API
refusing this service's credentials, failing, or answering what cannot be
read a 502 (the service's upstream failed, not its caller); the API asking
to slow down a 503 with ``Retry-After``; the API out of reach a 502, or a 504
when it timed out. Each error body says what happened, and the API's
request id when it sent one.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from albert import AsyncAlbert
from albert.exceptions import (
    AlbertAuthError,
    AlbertClientClosedError,
    AlbertException,
    AlbertHTTPError,
    AlbertTimeoutError,
    AlbertTransportError,
    BadRequestError,
    NotFoundError,
    TooManyRequestsError,
)

__all__ = ["app", "create_app"]

#: Seconds a caller is asked to wait when the API sent no Retry-After of its own.
DEFAULT_RETRY_AFTER = 30


def _error(status: int, detail: str, exc: Exception, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    request_id = getattr(exc, "request_id", None)
    if request_id:
        body["albert_request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers or None)


def albert_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer for an exception of the SDK: the status that says whose fault it was."""
    if isinstance(exc, NotFoundError):
        return _error(404, "not found", exc)
    if isinstance(exc, TooManyRequestsError):
        wait = exc.retry_after
        seconds = str(math.ceil(wait)) if wait is not None else str(DEFAULT_RETRY_AFTER)
        return _error(
            503, "the Albert API is busy: try again later", exc, **{"Retry-After": seconds}
        )
    if isinstance(exc, BadRequestError):
        return _error(422, f"the Albert API refused the request: {exc.message}", exc)
    if isinstance(exc, AlbertTimeoutError):
        return _error(504, "the Albert API did not answer in time", exc)
    if isinstance(exc, AlbertTransportError):
        return _error(502, "the Albert API could not be reached", exc)
    if isinstance(exc, AlbertAuthError) or (
        isinstance(exc, AlbertHTTPError) and exc.status_code in (401, 403)
    ):
        return _error(502, "the Albert API refused this service's credentials", exc)
    if isinstance(exc, AlbertClientClosedError):
        return _error(503, "the service is shutting down", exc)
    return _error(502, "the Albert API failed", exc)


def bad_input(request: Request, exc: Exception) -> JSONResponse:
    """Answer for an argument the SDK refused before sending anything."""
    return JSONResponse({"detail": str(exc)}, status_code=422)


def albert(request: Request) -> AsyncAlbert:
    """Return the service's one client (a dependency of every endpoint)."""
    client: AsyncAlbert = request.app.state.albert
    return client


Client = Annotated[AsyncAlbert, Depends(albert)]
Limit = Annotated[int, Query(ge=1, le=200)]


def create_app(make_client: Callable[[], AsyncAlbert] = AsyncAlbert) -> FastAPI:
    """Return the service; ``make_client`` makes its one client (from the environment)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as client:  # closed when the service stops
            app.state.albert = client
            yield

    app = FastAPI(title="Albert chat sessions", lifespan=lifespan)
    app.add_exception_handler(AlbertException, albert_error)
    # What the SDK refuses before sending (a malformed start_key, say) is a
    # ValueError (pydantic's ValidationError is one): 422, as for FastAPI's checks.
    app.add_exception_handler(ValueError, bad_input)

    @app.get("/sessions")
    async def list_sessions(
        client: Client, limit: Limit = 20, start_key: str | None = None
    ) -> dict[str, Any]:
        sessions = client.chat_sessions.get_all(max_items=limit, start_key=start_key)
        items = [s.model_dump(mode="json", exclude_none=True) async for s in sessions]
        return {"items": items, "next_key": sessions.last_key if sessions.has_more else None}

    @app.get("/sessions/{session_id}")
    async def get_session(client: Client, session_id: str) -> dict[str, Any]:
        session = await client.chat_sessions.get_by_id(id=session_id)
        return session.model_dump(mode="json", exclude_none=True)

    @app.get("/sessions/{session_id}/messages")
    async def list_messages(
        client: Client, session_id: str, limit: Limit = 50, start_key: str | None = None
    ) -> dict[str, Any]:
        messages = client.chat_messages.get_all(
            session_id=session_id, max_items=limit, start_key=start_key
        )
        items = [m.model_dump(mode="json", exclude_none=True) async for m in messages]
        return {"items": items, "next_key": messages.last_key if messages.has_more else None}

    @app.get("/sessions/{session_id}/export")
    async def export_session(
        client: Client, session_id: str, format: Literal["md", "json"] = "md"
    ) -> StreamingResponse:
        # Read the session first: once streaming has begun, the status is sent.
        await client.chat_sessions.get_by_id(id=session_id)
        media = "text/markdown" if format == "md" else "application/json"
        pieces = client.chat_sessions.export(id=session_id, format=format)
        return StreamingResponse(pieces, media_type=f"{media}; charset=utf-8")

    return app


app = create_app()
