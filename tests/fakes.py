"""A small stateful fake of the chat API behind respx, shared by both variants' tests."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import httpx
import respx

PREFIX = "/api/v3/chats"


class FakeChatAPI:
    """Folders, sessions, messages and flags in dicts, served through a respx router."""

    def __init__(self, router: respx.MockRouter, *, page_size: int = 2) -> None:
        self.page_size = page_size
        self.folders: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.flags: set[tuple[str, str, str, str]] = set()
        self.requests: list[httpx.Request] = []
        self._ids = itertools.count(1)
        sid, srid = r"(?P<sid>[^/]+)", r"(?P<srid>[^/]+)"
        routes = [
            ("POST", rf"{PREFIX}/folders$", self.create_folder),
            ("DELETE", rf"{PREFIX}/folders/(?P<id>[^/]+)$", self.delete_folder),
            ("POST", rf"{PREFIX}/sessions$", self.create_session),
            ("GET", rf"{PREFIX}/sessions/{sid}$", self.get_session),
            ("DELETE", rf"{PREFIX}/sessions/{sid}$", self.delete_session),
            ("POST", rf"{PREFIX}/sessions/{sid}/messages$", self.create_message),
            ("GET", rf"{PREFIX}/sessions/{sid}/messages$", self.list_messages),
            ("GET", rf"{PREFIX}/sessions/{sid}/messages/{srid}$", self.get_message),
            ("PATCH", rf"{PREFIX}/sessions/{sid}/messages/{srid}$", self.update_message),
            ("DELETE", rf"{PREFIX}/sessions/{sid}/messages/{srid}$", self.delete_message),
            ("POST", rf"{PREFIX}/sessions/{sid}/messages/{srid}/flag$", self.add_flag),
            ("GET", rf"{PREFIX}/flags$", self.list_flags),
        ]
        for method, pattern, handler in routes:
            router.route(method=method, path__regex=pattern).mock(side_effect=self._wrap(handler))

    def _wrap(self, handler: Any) -> Any:
        def respond(request: httpx.Request, **params: str) -> httpx.Response:
            self.requests.append(request)
            return handler(request, **params)

        return respond

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    # folders
    def create_folder(self, request: httpx.Request) -> httpx.Response:
        folder = {**json.loads(request.content), "id": self._new_id("fld")}
        self.folders[folder["id"]] = folder
        return httpx.Response(201, json=folder)

    def delete_folder(self, request: httpx.Request, id: str) -> httpx.Response:
        return httpx.Response(204) if self.folders.pop(id, None) else httpx.Response(404)

    # sessions
    def create_session(self, request: httpx.Request) -> httpx.Response:
        session = {**json.loads(request.content), "id": self._new_id("ses")}
        self.sessions[session["id"]] = session
        self.messages[session["id"]] = []
        return httpx.Response(201, json=session)

    def get_session(self, request: httpx.Request, sid: str) -> httpx.Response:
        if sid not in self.sessions:
            return httpx.Response(404, json={"message": "no such session"})
        return httpx.Response(200, json=self.sessions[sid])

    def delete_session(self, request: httpx.Request, sid: str) -> httpx.Response:
        self.messages.pop(sid, None)
        return httpx.Response(204) if self.sessions.pop(sid, None) else httpx.Response(404)

    # messages
    def create_message(self, request: httpx.Request, sid: str) -> httpx.Response:
        data = json.loads(request.content)
        stored = {
            **data,
            "id": self._new_id("msg"),
            "parentId": sid,
            "sequence": f"{len(self.messages[sid]):03d}",
        }
        self.messages[sid].append(stored)
        created = {k: v for k, v in stored.items() if k != "Content"}  # the server quirk
        return httpx.Response(201, json=created)

    def _find(self, request: httpx.Request, sid: str, srid: str) -> dict[str, Any] | None:
        sequence = request.url.params.get("sequence")
        for message in self.messages.get(sid, []):
            if message["sourceRequestId"] == srid and message["sequence"] == sequence:
                return message
        return None

    def list_messages(self, request: httpx.Request, sid: str) -> httpx.Response:
        items = self.messages[sid]
        start = int(request.url.params.get("startKey", "0"))
        page = items[start : start + self.page_size]
        body: dict[str, Any] = {"Items": page}
        if start + self.page_size < len(items):
            body["lastKey"] = str(start + self.page_size)
        return httpx.Response(200, json=body)

    def get_message(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        message = self._find(request, sid, srid)
        return httpx.Response(200, json=message) if message else httpx.Response(404)

    def update_message(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        message = self._find(request, sid, srid)
        if message is None:
            return httpx.Response(404)
        for op in json.loads(request.content)["data"]:
            message[op["attribute"]] = op["newValue"]
        return httpx.Response(204)

    def delete_message(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        message = self._find(request, sid, srid)
        if message is None:
            return httpx.Response(404)
        self.messages[sid].remove(message)
        return httpx.Response(204)

    # flags
    def add_flag(self, request: httpx.Request, sid: str, srid: str) -> httpx.Response:
        params = request.url.params
        self.flags.add((sid, srid, params["sequence"], params["type"]))
        return httpx.Response(
            201,
            json={
                "parentId": sid,
                "sourceRequestId": srid,
                "sequence": params["sequence"],
                "type": params["type"],
                params["type"]: True,
            },
        )

    def list_flags(self, request: httpx.Request) -> httpx.Response:
        kind = request.url.params["type"]
        items = [
            {"parentId": s, "sourceRequestId": r, "sequence": q, "type": t, t: True}
            for (s, r, q, t) in sorted(self.flags)
            if t == kind
        ]
        return httpx.Response(200, json={"Items": items})


class _Clock(Protocol):
    now: float


class Trickle(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that arrives a byte a second on a fake clock (``clock.now``).

    Each read is well within any read timeout, so only a limit on the whole
    call stops it. Usable by both variants (it is not generated).
    """

    def __init__(self, clock: _Clock, body: bytes) -> None:
        self.clock, self.body, self.sent = clock, body, 0

    def _next(self) -> bytes:
        self.clock.now += 1.0
        self.sent += 1
        return self.body[self.sent - 1 : self.sent]

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < len(self.body):
            yield self._next()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < len(self.body):
            yield self._next()
