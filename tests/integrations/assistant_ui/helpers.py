"""Helpers of the assistant-ui tests: URLs, what a mocked backend received, a fake Albert API."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import respx

BACKEND_URL = "https://assistant.test"
ALBERT_URL = "https://albert.test"
TOKEN = "tok-SECRET-0123456789"
SESSIONS = "/api/v3/chats/sessions"

SSE = {"content-type": "text/event-stream; charset=utf-8"}
DATA_STREAM = {"content-type": "text/plain; charset=utf-8"}


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def sse(*frames: Any, done: bool = True) -> str:
    """An assistant-transport body: one server-sent event per frame, then [DONE]."""
    text = "".join(f"data: {json.dumps(frame)}\n\n" for frame in frames)
    return text + ("data: [DONE]\n\n" if done else "")


HELLO = sse(
    {"type": "part-start", "part": {"type": "text"}, "path": []},
    {"type": "text-delta", "textDelta": "Hello", "path": [0]},
    {"type": "text-delta", "textDelta": " world", "path": [0]},
    {"type": "part-finish", "path": [0]},
)


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends ``first`` and then fails as a dropped connection does."""

    def __init__(self, first: bytes) -> None:
        self._first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self._first
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._first
        raise httpx.ReadError("connection reset by peer")


class FakeAlbert:
    """The chat sessions and messages of the Albert API, over respx, as the API contract says.

    Sessions are found by ``sourceSessionId`` (the oldest of that id); a message keeps the client's
    ``sequence`` within its request; a create without sequence is a 400, a
    second create of the same (session, request, sequence) a 409; a PATCH of
    one message replaces the attributes it names; a listing
    gives requests in creation order and components by sequence, in pages of
    `page_size`.
    """

    def __init__(self, router: respx.MockRouter, page_size: int = 3) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.page_size = page_size
        self.fail_creates_after: int | None = None  # creates that succeed before a 503
        self.creates = 0
        self.updates = 0
        self.stale_listing = False  # listings miss what is stored (a concurrent save's)
        self.racing_save = False  # a concurrent save creates the next session first
        self.unique_sources = False  # a second session of one sourceSessionId is a 409
        self.session_count = 0
        self.router = router
        router.get(path__regex=rf"{SESSIONS}/source/(?P<source>[^/]+)$").mock(
            side_effect=self._by_source
        )
        router.post(SESSIONS).mock(side_effect=self._create_session)
        router.delete(path__regex=rf"{SESSIONS}/(?P<sid>[^/]+)$").mock(
            side_effect=self._delete_session
        )
        router.get(path__regex=rf"{SESSIONS}/(?P<sid>[^/]+)/messages$").mock(side_effect=self._list)
        router.post(path__regex=rf"{SESSIONS}/(?P<sid>[^/]+)/messages$").mock(
            side_effect=self._create
        )
        one = rf"{SESSIONS}/(?P<sid>[^/]+)/messages/(?P<srid>[^/]+)$"
        router.patch(path__regex=one).mock(side_effect=self._update)
        router.get(path__regex=one).mock(side_effect=self._get)

    def _by_source(self, request: httpx.Request, source: str) -> httpx.Response:
        for session in self.sessions.values():
            if session["sourceSessionId"] == source:
                return httpx.Response(200, json=session)
        return httpx.Response(
            404, json={"message": "not found"}, headers={"x-request-id": "req-404"}
        )

    def _create_session(self, request: httpx.Request) -> httpx.Response:
        if self.racing_save:  # another save of the thread creates its session first
            self.racing_save = False
            self._create_session(request)
        if self.unique_sources and any(
            other["sourceSessionId"] == body(request)["sourceSessionId"]
            for other in self.sessions.values()
        ):
            return httpx.Response(409, json={"message": "sourceSessionId is taken"})
        sid = f"ses-{self.session_count + 1}"
        self.session_count += 1
        self.sessions[sid] = {"id": sid, **body(request)}
        self.messages[sid] = []
        return httpx.Response(201, json=self.sessions[sid])

    def _delete_session(self, request: httpx.Request, sid: str) -> httpx.Response:
        if self.sessions.pop(sid, None) is None:
            return httpx.Response(404, json={"message": "no such session"})
        del self.messages[sid]
        return httpx.Response(204)

    def _create(self, request: httpx.Request, sid: str) -> httpx.Response:
        if self.fail_creates_after is not None and self.creates >= self.fail_creates_after:
            self.fail_creates_after = None
            return httpx.Response(
                503, json={"message": "try later"}, headers={"x-request-id": "req-503"}
            )
        sent = body(request)
        if not sent.get("sequence"):
            return httpx.Response(400, json={"message": "sequence is required"})
        key = (sent["sourceRequestId"], sent["sequence"])
        if any((m["sourceRequestId"], m["sequence"]) == key for m in self.messages[sid]):
            return httpx.Response(409, json={"message": "exists"})
        self.creates += 1
        stored = {**sent, "id": f"msg-{self.creates}", "parentId": sid}
        self.messages[sid].append(stored)
        return httpx.Response(201, json={k: v for k, v in stored.items() if k != "Content"})

    def _stored(self, request: httpx.Request, sid: str, srid: str) -> dict[str, Any] | None:
        sequence = request.url.params.get("sequence")
        for m in self.messages[sid]:
            if (m["sourceRequestId"], m["sequence"]) == (srid, sequence):
                return m
        return None

    def _update(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        stored = self._stored(request, sid, srid)
        if stored is None:
            return httpx.Response(404, json={"message": "no such message"})
        for operation in body(request)["data"]:
            stored[operation["attribute"]] = operation["newValue"]
        self.updates += 1
        return httpx.Response(200, json={k: v for k, v in stored.items() if k != "Content"})

    def _get(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        stored = self._stored(request, sid, srid)
        if stored is None:
            return httpx.Response(404, json={"message": "no such message"})
        return httpx.Response(200, json=stored)

    def ordered(self, sid: str) -> list[dict[str, Any]]:
        order: list[str] = []
        for m in self.messages[sid]:
            if m["sourceRequestId"] not in order:
                order.append(m["sourceRequestId"])
        return sorted(
            self.messages[sid], key=lambda m: (order.index(m["sourceRequestId"]), m["sequence"])
        )

    def _list(self, request: httpx.Request, sid: str) -> httpx.Response:
        items = [] if self.stale_listing else self.ordered(sid)
        start = int(request.url.params.get("startKey", "0"))
        page = items[start : start + self.page_size]
        answer: dict[str, Any] = {"Items": page}
        if start + self.page_size < len(items):
            answer["lastKey"] = str(start + self.page_size)
        return httpx.Response(200, json=answer)

    def keys(self, sid: str = "ses-1") -> list[tuple[str, str, str]]:
        return [
            (m["sourceRequestId"], m["sequence"], m["componentType"]) for m in self.ordered(sid)
        ]

    def calls(self, method: str, pattern: str) -> int:
        return sum(
            1
            for call in self.router.calls
            if call.request.method == method and re.search(pattern, call.request.url.path)
        )
