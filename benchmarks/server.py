"""A fast canned Albert chat API for the benchmarks, served on 127.0.0.1 only.

A minimal raw ASGI app (no framework) under uvicorn, with httptools and uvloop
when they are installed, answering from JSON bytes prepared before the first
request, so that the server costs as little as possible next to the clients
being measured:

- ``GET /api/v3/chats/sessions/{id}``: a `ChatSession`;
- ``GET /api/v3/chats/sessions/{sid}/messages[?startKey=N]``: a page of
  messages, ``{"Items": [...], "lastKey": "N+page_size"}`` (no ``lastKey`` on
  the last page). The session id ``msgs-20000`` holds 20,000 messages; any
  other id holds ``--messages``.

A path prefix ``/slowN`` (``N`` in milliseconds) makes the server wait ``N`` ms
before answering: point a client's base URL at ``http://127.0.0.1:PORT/slow5``.
Any bearer token is accepted; a request without one gets 401.

The server stops by itself: when its parent process dies, and after
``--max-seconds`` at the latest. It prints one JSON line, ``{"port": ...}``,
once it is ready.

    python benchmarks/server.py [--port 0] [--page-size 100] [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import importlib.util
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

HOST = "127.0.0.1"
API = "/api/v3/chats/sessions/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_SLOW = re.compile(r"^/slow(\d+)(/.*)$")
_SIZED_SESSION = re.compile(r"^msgs-(\d+)$")

_USER_PROMPTS = (
    "Which raw materials in inventory contain titanium dioxide above 5 %?",
    "Compare the viscosity of formulations F-102 and F-117 at 25 °C.",
    "Summarise the last three stability tests of the acrylic emulsion.",
    "Suggest a replacement for the discontinued dispersant in batch B-88.",
)

_ASSISTANT_TEXT = (
    "Here is what I found in the **inventory** and the latest experiments:\n\n"
    "1. *TiO2 R-706* — 93 % titanium dioxide, lot 4471, 250 kg on hand.\n"
    "2. *Kronos 2310* — 92.5 % titanium dioxide, lot 9912, 120 kg on hand.\n"
    "3. *Tiona 595* — 93 % titanium dioxide, lot 3307, 75 kg on hand.\n\n"
    "The first two were used in formulations F-102 and F-117; both passed the "
    "28-day stability test. Do you want a comparison of their dispersion results?"
)


def message_dict(index: int, session_id: str) -> dict[str, Any]:
    """Return message number ``index`` of a session: four components per turn.

    Parameters
    ----------
    index : int
        The position of the message in the session (0-based).
    session_id : str
        The session the message belongs to.

    Returns
    -------
    dict[str, Any]
        The message as the API sends it (wire aliases).
    """
    turn, part = divmod(index, 4)
    request_id = str(uuid.UUID(int=(turn + 1) * 0x9E3779B97F4A7C15 % (1 << 128), version=4))
    base: dict[str, Any] = {
        "id": f"CHM{index:08d}",
        "sourceRequestId": request_id,
        "sequence": f"{index:03d}",
        "parentId": session_id,
        "componentId": f"cmp-{index:08d}",
        "spanId": f"{(index * 2654435761) % (1 << 64):016x}",
        "isVisible": True,
        "createdAt": f"2025-06-{1 + turn % 28:02d}T10:{turn % 60:02d}:{part * 7:02d}.000Z",
    }
    if part == 0:
        base |= {
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": _USER_PROMPTS[turn % len(_USER_PROMPTS)],
            "displayFeedbackComponent": False,
        }
    elif part == 1:
        base |= {
            "componentType": "reasoning_block",
            "userType": "system",
            "role": "assistant",
            "Content": {
                "title": "Searching the inventory",
                "text": "Looking up raw materials by CAS 13463-67-7, then filtering on "
                "composition above 5 % and stock on hand.",
                "durationMs": 1200 + turn % 900,
            },
        }
    elif part == 2:
        base |= {
            "componentType": "tool_call",
            "userType": "system",
            "role": "assistant",
            "Content": {
                "name": "search_inventory",
                "arguments": {"cas": "13463-67-7", "minPercent": 5, "limit": 25},
                "status": "completed",
                "resultCount": 3 + turn % 5,
            },
            "value": [{"ts": 1749000000 + index}],
        }
    else:
        base |= {
            "componentType": "text",
            "userType": "system",
            "role": "assistant",
            "Content": _ASSISTANT_TEXT,
            "displayFeedbackComponent": True,
        }
    return base


def session_dict(session_id: str) -> dict[str, Any]:
    """Return the chat session ``session_id`` as the API sends it."""
    return {
        "id": session_id,
        "name": "Polymer screening — titanium dioxide suppliers",
        "parentId": "CHF0000042",
        "sourceSessionId": f"nb-{session_id}",
        "lastMessageAt": "2025-06-28T10:27:21.000Z",
        "createdAt": "2025-06-01T10:00:00.000Z",
        "updatedAt": "2025-06-28T10:27:21.000Z",
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class CannedAlbert:
    """The ASGI app: canned sessions and paginated messages from prepared bytes.

    Parameters
    ----------
    page_size : int
        Messages per page.
    messages : int
        Messages in a session whose id does not name a count.
    prepare : tuple[int, ...]
        Message counts to prepare before serving (the largest one bounds the
        number of message bodies encoded up front).
    """

    def __init__(self, *, page_size: int, messages: int, prepare: tuple[int, ...] = ()) -> None:
        self.page_size = page_size
        self.default_messages = messages
        self._pages: dict[tuple[str, int], bytes] = {}  # (session id, offset) -> page
        self._cached_bytes = 0
        self._sessions: dict[str, bytes] = {}
        for total in (*prepare, messages):
            session_id = f"msgs-{total}"
            for offset in range(0, total, page_size):
                self.page(session_id, total, offset)
        self.requests = 0

    def total_of(self, session_id: str) -> int:
        """Return how many messages session ``session_id`` holds."""
        match = _SIZED_SESSION.match(session_id)
        return int(match.group(1)) if match else self.default_messages

    def page(self, session_id: str, total: int, offset: int) -> bytes:
        """Return the page of ``session_id`` (``total`` messages) starting at ``offset``.

        Pages are encoded once and kept, up to 512 MB of them.
        """
        key = (session_id, offset)
        body = self._pages.get(key)
        if body is None:
            end = min(offset + self.page_size, total)
            items = b",".join(_dumps(message_dict(i, session_id)) for i in range(offset, end))
            tail = b'],"lastKey":"%d"}' % end if end < total else b"]}"
            body = b'{"Items":[' + items + tail
            if self._cached_bytes < 512 << 20:
                self._pages[key] = body
                self._cached_bytes += len(body)
        return body

    def session(self, session_id: str) -> bytes:
        """Return the JSON bytes of the chat session ``session_id`` (cached)."""
        body = self._sessions.get(session_id)
        if body is None:
            body = _dumps(session_dict(session_id))
            if len(self._sessions) < 10_000:
                self._sessions[session_id] = body
        return body

    def route(self, path: str, query: bytes) -> tuple[int, bytes]:
        """Return the status and body that answer ``GET path?query``."""
        if not path.startswith(API):
            return 404, b'{"message":"not found"}'
        rest = path[len(API) :].split("/")
        if len(rest) == 1 and rest[0]:
            return 200, self.session(rest[0])
        if len(rest) == 2 and rest[1] == "messages" and rest[0]:
            session_id = rest[0]
            offset = 0
            if query:
                for pair in query.split(b"&"):
                    name, _, value = pair.partition(b"=")
                    if name == b"startKey":
                        try:
                            offset = int(value)
                        except ValueError:
                            return 400, b'{"message":"bad startKey"}'
            total = self.total_of(session_id)
            if offset < 0 or offset > total:
                return 400, b'{"message":"startKey out of range"}'
            return 200, self.page(session_id, total, offset)
        return 404, b'{"message":"not found"}'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind != "http":
            return
        self.requests += 1
        path: str = scope["path"]
        slow = _SLOW.match(path)
        if slow is not None:
            path = slow.group(2)
            await asyncio.sleep(int(slow.group(1)) / 1000)
        if scope["method"] != "GET":
            status, body = 405, b'{"message":"only GET is served"}'
        elif not any(
            name == b"authorization" and value.startswith(b"Bearer ")
            for name, value in scope["headers"]
        ):
            status, body = 401, b'{"message":"missing bearer token"}'
        else:
            status, body = self.route(path, scope["query_string"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the parent process dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


async def _watchdog(server: Any, parent: int, deadline: float) -> None:
    """Stop ``server`` when the parent is gone or the deadline has passed."""
    while not server.should_exit:
        if os.getppid() != parent or time.monotonic() > deadline:
            server.should_exit = True
            return
        await asyncio.sleep(0.25)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, prepare the pages and serve until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument(
        "--prepare",
        type=int,
        nargs="*",
        default=[],
        help="message counts (sessions msgs-N) to encode before serving",
    )
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args(argv)
    if args.page_size < 1 or args.messages < 0:
        parser.error("--page-size must be >= 1 and --messages >= 0")

    import uvicorn

    parent = os.getppid()
    _die_with_parent()
    deadline = time.monotonic() + args.max_seconds
    app = CannedAlbert(
        page_size=args.page_size, messages=args.messages, prepare=tuple(args.prepare)
    )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    sock.listen(2048)
    config = uvicorn.Config(
        app,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=2048,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        watchdog = asyncio.ensure_future(_watchdog(server, parent, deadline))
        try:
            await server.serve(sockets=[sock])
        finally:
            watchdog.cancel()

    ready = {
        "port": sock.getsockname()[1],
        "pid": os.getpid(),
        "http": config.http,
        "loop": config.loop,
        "page_size": args.page_size,
    }
    print(json.dumps(ready), flush=True)
    if config.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
