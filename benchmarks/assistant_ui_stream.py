"""When does a chat's first streamed event reach the caller? Ours, raw httpx, the peer package.

An assistant-ui backend built with assistant-stream (a subprocess, uvicorn, on
127.0.0.1) answers each chat with a first text delta at once, then waits
``--tail-ms`` and sends the rest. For each contender, the time from the call
to the first event it hands over is measured, over ``--rounds`` chats on one
kept-alive connection, the contenders interleaved round by round:

- ``raw-async`` / ``raw-sync``: httpx streaming by hand, the first ``data:``
  line of ``aiter_lines()`` / ``iter_lines()`` (the floor);
- ``ours-async`` / ``ours-sync``: `AsyncAssistantClient` / `AssistantClient`,
  the first `AssistantEvent` of ``async for event in response``;
- ``peer-async`` / ``peer-sync``: ``assistant_ui.AssistantClient``
  (assistant-ui-sync-server-api), which buffers: its ``chat()`` returns, and
  the first event can be read, only when the stream has ended.

Raw and ours alternate chat by chat; the peer runs after them, on its own.

    uv run python benchmarks/assistant_ui_stream.py [--rounds 200] [--tail-ms 50]

The target (issue 18): ours within 1 ms of raw httpx, median; the figures go to
benchmarks/README.md and ``--json`` (default benchmarks/results/assistant_ui.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMMANDS = [
    {"type": "add-message", "message": {"role": "user", "parts": [{"type": "text", "text": "Hi"}]}}
]


# ---- the backend (run with --serve, in its own process) ----------------------------------------


def serve(port: int, tail: float) -> None:
    import uvicorn
    from assistant_stream import create_run
    from assistant_stream.serialization import AssistantTransportResponse
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def chat(request: Request) -> Response:
        await request.body()

        async def run(controller: Any) -> None:
            controller.append_text("First")
            await asyncio.sleep(tail)
            for word in ("and", "the", "rest", "of", "the", "answer"):
                controller.append_text(" " + word)

        return AssistantTransportResponse(create_run(run), heartbeat=False)

    async def cancel(request: Request) -> Response:
        return JSONResponse({"cancelled": False})

    app = Starlette(
        routes=[
            Route("/api/chat", chat, methods=["POST"]),
            Route("/api/cancel", cancel, methods=["POST"]),
        ]
    )
    from albert.testing.server import bind_socket

    sock = bind_socket("127.0.0.1", port)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])  # until the runner terminates it


# ---- the contenders -----------------------------------------------------------------------


def _headers() -> dict[str, str]:
    return {"Accept": "text/event-stream", "Content-Type": "application/json"}


async def raw_async(client: Any, url: str) -> float:
    request = client.build_request(
        "POST", url + "/api/chat", json={"threadId": "t", "commands": COMMANDS}, headers=_headers()
    )
    started = time.perf_counter()
    response = await client.send(request, stream=True)
    first = None
    async for line in response.aiter_lines():
        if first is None and line.startswith("data:"):
            first = time.perf_counter() - started
    await response.aclose()
    assert first is not None
    return first


def raw_sync(client: Any, url: str) -> float:
    request = client.build_request(
        "POST", url + "/api/chat", json={"threadId": "t", "commands": COMMANDS}, headers=_headers()
    )
    started = time.perf_counter()
    response = client.send(request, stream=True)
    first = None
    for line in response.iter_lines():
        if first is None and line.startswith("data:"):
            first = time.perf_counter() - started
    response.close()
    assert first is not None
    return first


async def ours_async(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = await client.threads("t").chat(commands=COMMANDS)
    first = None
    async for _ in response:
        if first is None:
            first = time.perf_counter() - started
    assert first is not None
    assert response.text == "First and the rest of the answer"
    return first


def ours_sync(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.threads("t").chat(commands=COMMANDS)
    first = None
    for _ in response:
        if first is None:
            first = time.perf_counter() - started
    assert first is not None
    assert response.text == "First and the rest of the answer"
    return first


async def peer_async(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = await client.threads("t").chat(commands=COMMANDS)
    first = time.perf_counter() - started  # the whole body is there only now
    assert '"textDelta": "First"' in response.text
    return first


def peer_sync(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.threads("t").chat_sync(commands=COMMANDS)
    first = time.perf_counter() - started
    assert '"textDelta": "First"' in response.text
    return first


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p10_ms": ordered[len(ordered) // 10] * 1000,
        "p90_ms": ordered[(len(ordered) * 9) // 10] * 1000,
        "n": len(ordered),
    }


def measure(url: str, rounds: int, warmup: int) -> dict[str, list[float]]:
    import assistant_ui
    import httpx

    from albert.integrations.assistant_ui import AssistantClient, AsyncAssistantClient

    samples: dict[str, list[float]] = {
        name: []
        for name in ("raw-async", "ours-async", "peer-async", "raw-sync", "ours-sync", "peer-sync")
    }

    async def async_side() -> None:
        raw = httpx.AsyncClient(timeout=30)
        ours = AsyncAssistantClient(url)
        peer = assistant_ui.AssistantClient(url, timeout=30)
        pair: list[tuple[str, Callable[[], Awaitable[float]]]] = [
            ("raw-async", lambda: raw_async(raw, url)),
            ("ours-async", lambda: ours_async(ours, url)),
        ]
        # Raw and ours alternate (ABBA), so that each follows the other as often; the peer,
        # which keeps the connection busy for the whole answer, runs on its own after them.
        for round_number in range(warmup + rounds):
            for name, run in pair if round_number % 2 == 0 else pair[::-1]:
                value = await run()
                if round_number >= warmup:
                    samples[name].append(value)
        for round_number in range(warmup + rounds):
            value = await peer_async(peer, url)
            if round_number >= warmup:
                samples["peer-async"].append(value)
        await raw.aclose()
        await ours.aclose()
        await peer.close()

    asyncio.run(async_side())
    raw = httpx.Client(timeout=30)
    ours = AssistantClient(url)
    peer = assistant_ui.AssistantClient(url, timeout=30)
    sync_pair: list[tuple[str, Callable[[], float]]] = [
        ("raw-sync", lambda: raw_sync(raw, url)),
        ("ours-sync", lambda: ours_sync(ours, url)),
    ]
    for round_number in range(warmup + rounds):
        for name, run in sync_pair if round_number % 2 == 0 else sync_pair[::-1]:
            value = run()
            if round_number >= warmup:
                samples[name].append(value)
    for round_number in range(warmup + rounds):
        value = peer_sync(peer, url)
        if round_number >= warmup:
            samples["peer-sync"].append(value)
    raw.close()
    ours.close()
    peer.close_sync()
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--tail-ms", type=float, default=50.0, help="the wait after the first delta"
    )
    parser.add_argument("--json", type=Path, default=HERE / "results" / "assistant_ui.json")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port, args.tail_ms / 1000)
        return 0

    backend = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--tail-ms", str(args.tail_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert backend.stdout is not None
        port = json.loads(backend.stdout.readline())["port"]
        url = f"http://127.0.0.1:{port}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            samples = measure(url, args.rounds, args.warmup)
    finally:
        backend.terminate()
        backend.wait(10)

    results = {name: summary(values) for name, values in samples.items()}
    for variant in ("async", "sync"):
        results[f"ours-minus-raw-{variant}"] = {
            "median_ms": results[f"ours-{variant}"]["median_ms"]
            - results[f"raw-{variant}"]["median_ms"]
        }
    print(
        f"first event, from the call (ms); {args.rounds} chats each, "
        f"the rest of the answer {args.tail_ms:.0f} ms later"
    )
    print(f"{'contender':<22}{'median':>9}{'p10':>9}{'p90':>9}")
    for name, figures in results.items():
        if "p10_ms" in figures:
            print(
                f"{name:<22}{figures['median_ms']:>9.3f}{figures['p10_ms']:>9.3f}{figures['p90_ms']:>9.3f}"
            )
        else:
            print(f"{name:<22}{figures['median_ms']:>9.3f}")
    for variant in ("async", "sync"):
        gap = results[f"ours-minus-raw-{variant}"]["median_ms"]
        print(
            f"target ({variant}): ours within 1 ms of raw httpx: "
            f"{'met' if gap < 1.0 else 'NOT met'} ({gap:+.3f} ms)"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "tail_ms": args.tail_ms,
                "rounds": args.rounds,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
