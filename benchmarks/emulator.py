"""The emulator's listing cost: a page of a large session, and exporting one (issue 17, item 4).

    uv run python benchmarks/emulator.py            # about 2 minutes
    uv run python benchmarks/emulator.py --quick    # smaller sessions, a smoke test
    nox -s bench-emulator

Targets:

- a page (50 messages, the default page size, from the middle of the session)
  of a session of 50,000 messages costs at most 2x a page of a session of 1,000,
  with the memory store and the SQLite store;
- exporting a session of 50,000 messages, with ``albert-chat export --local
  --db FILE`` (Markdown and JSON) and with the SDK's paginator over `LocalAlbert` on that file,
  takes under 10 s with a peak RSS under 100 MB.

Each measurement runs in a fresh process (``--worker``), so that the seeding,
the page timings and the exports do not share a heap. A page is timed over a
real socket (uvicorn on 127.0.0.1, keep-alive, httpx); the figure is the median
over ``--pages`` pages taken at random places of the session (and the 90th
percentile beside it). The sessions are seeded through ``EmulatorApp.add_message``
(the create route's own code, without HTTP): requests of six components (user
text; reasoning, tool call, text, image, error), each about 200 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "emulator.json"
TOKEN = "bench-token"

#: The components of one request, as the demo writes them.
TURN = [
    ("text", "user", "user", "Which epoxy resin cures fastest at room temperature? #{i}"),
    ("reasoning_block", "system", "assistant", {"steps": ["compare gel times", "keep Tg > 60"]}),
    ("tool_call", "system", "assistant", {"tool": "search", "arguments": {"cure": "25 C"}}),
    ("text", "system", "assistant", "Resin B gels in 4 minutes at 25 C (2 mm film). #{i}"),
    ("image", "system", "assistant", {"url": "https://example.com/gel.png", "alt": "gel"}),
    ("error", "system", "assistant", {"code": "TOOL_TIMEOUT", "message": "the lab timed out"}),
]


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def seed(app: Any, messages: int) -> str:
    """Create a session of ``messages`` messages in ``app``; return its id."""
    session = {"name": "Bench", "sourceSessionId": "bench", "parentId": None, "kind": "chat"}
    sid = f"ses-bench{messages}"
    app.store.put("session", sid, {"id": sid, **session})
    app.store.put("by-source", sid, {}, parent="bench")
    for n in range(messages):
        request, position = divmod(n, len(TURN))
        kind, user, role, content = TURN[position]
        if isinstance(content, str):
            content = content.replace("{i}", str(n))
        app.add_message(
            sid,
            {
                "sourceRequestId": f"req-{request:06d}",
                "sequence": f"{position:03d}",
                "componentType": kind,
                "userType": user,
                "role": role,
                "Content": content,
            },
        )
    return sid


# ---- workers (one fresh process each) --------------------------------------------------


def work_pages(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from albert.testing import EmulatorApp, LocalAlbert

    db = spec.get("db")
    app = EmulatorApp(db_path=db, token=TOKEN) if db else EmulatorApp(token=TOKEN)
    started = time.perf_counter()
    sid = seed(app, spec["messages"])
    seeded = time.perf_counter() - started
    url = f"/api/v3/chats/sessions/{sid}/messages"
    with (
        LocalAlbert(app=app) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http,
    ):
        keys: list[str | None] = [None]
        started = time.perf_counter()
        while True:  # walk the session once: every page key, and the time of a full read
            params = {} if keys[-1] is None else {"startKey": keys[-1]}
            page = http.get(url, params=params).json()
            if not page.get("lastKey"):
                break
            keys.append(page["lastKey"])
        walked = time.perf_counter() - started
        chosen = random.Random(0).choices(keys[1:] or keys, k=spec["pages"])
        for key in chosen[:20]:  # warm-up
            http.get(url, params={"startKey": key} if key else {})
        timings = []
        for key in chosen:
            started = time.perf_counter()
            response = http.get(url, params={"startKey": key} if key else {})
            timings.append(time.perf_counter() - started)
            assert len(response.json()["Items"]) == 50
    app.close()
    timings.sort()
    return {
        "median_ms": statistics.median(timings) * 1000,
        "p90_ms": timings[int(len(timings) * 0.9)] * 1000,
        "pages": len(keys),
        "walk_s": walked,
        "seed_s": seeded,
        "peak_mb": peak_rss_mb(),
    }


def work_seed_file(spec: dict[str, Any]) -> dict[str, Any]:
    from albert.testing import EmulatorApp

    app = EmulatorApp(db_path=spec["db"], token=TOKEN)
    started = time.perf_counter()
    sid = seed(app, spec["messages"])
    app.close()
    return {"session": sid, "seed_s": time.perf_counter() - started}


def work_export_cli(spec: dict[str, Any]) -> dict[str, Any]:
    from albert import cli

    out = Path(spec["out"])
    started = time.perf_counter()
    args = ["export", spec["session"], "--local", "--db", spec["db"], "--out", str(out)]
    status = cli.main([*args, "--format", spec.get("format", "md"), "--no-progress"])
    seconds = time.perf_counter() - started
    assert status == 0, status
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "bytes": out.stat().st_size}


def work_paginate(spec: dict[str, Any]) -> dict[str, Any]:
    from albert.testing import LocalAlbert

    started = time.perf_counter()
    with LocalAlbert(db_path=spec["db"], token=TOKEN) as server, server.client() as client:
        count = sum(1 for _ in client.chat_messages.get_all(session_id=spec["session"]))
    seconds = time.perf_counter() - started
    assert count == spec["messages"], count
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "messages": count}


WORKERS = {
    "pages": work_pages,
    "seed-file": work_seed_file,
    "export-cli": work_export_cli,
    "paginate": work_paginate,
}


def run_worker(kind: str, **spec: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps({"kind": kind, **spec})],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {kind} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---- the run -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sessions: a smoke test")
    parser.add_argument("--pages", type=int, default=300, help="pages timed per session")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        print(json.dumps(WORKERS[spec.pop("kind")](spec)))
        return 0

    small, large = (1_000, 10_000) if args.quick else (1_000, 50_000)
    pages = 50 if args.quick else args.pages
    lines = [
        f"emulator benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        + (" (--quick)" if args.quick else ""),
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}",
        f"load average at start {tuple(round(x, 2) for x in os.getloadavg())}",
        "",
        f"a page of 50 from the middle of a session (median of {pages} pages, p90)",
    ]
    print("\n".join(lines), flush=True)
    results: dict[str, Any] = {"pages": {}, "export": {}}
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for store in ("memory", "sqlite"):
            figures = {}
            for size in (small, large):
                db = str(Path(tmp) / f"pages-{size}.db") if store == "sqlite" else None
                figure = run_worker("pages", messages=size, pages=pages, db=db)
                figures[size] = figure
                line = (
                    f"  {store:<6} {size:>7,} messages: {figure['median_ms']:6.2f} ms "
                    f"(p90 {figure['p90_ms']:.2f} ms); a full read of {figure['pages']:,} pages "
                    f"{figure['walk_s']:.2f} s"
                )
                print(line, flush=True)
                lines.append(line)
            ratio = figures[large]["median_ms"] / figures[small]["median_ms"]
            verdict = "PASS" if ratio <= 2 else "MISS"
            verdicts.append(verdict)
            line = f"  {store:<6} {large:,} / {small:,}: {ratio:.2f}x (target <= 2x) {verdict}"
            print(line, flush=True)
            lines.append(line)
            results["pages"][store] = {"by_size": figures, "ratio": ratio}

        db = str(Path(tmp) / "export.db")
        seeded = run_worker("seed-file", db=db, messages=large)
        lines += ["", f"exporting a session of {large:,} messages from a SQLite file"]
        print(lines[-1], flush=True)
        for name, kind, extra in [
            ("albert-chat export --local --db (Markdown)", "export-cli", {"out": f"{tmp}/s.md"}),
            (
                "albert-chat export --local --db (JSON)",
                "export-cli",
                {"out": f"{tmp}/s.json", "format": "json"},
            ),
            ("SDK paginator over LocalAlbert (pages of 50)", "paginate", {"messages": large}),
        ]:
            figure = run_worker(kind, db=db, session=seeded["session"], **extra)
            ok = figure["seconds"] < 10 and figure["peak_mb"] < 100
            verdicts.append("PASS" if ok else "MISS")
            line = (
                f"  {name}: {figure['seconds']:.2f} s, peak RSS {figure['peak_mb']:.0f} MB "
                f"(target < 10 s, < 100 MB) {'PASS' if ok else 'MISS'}"
            )
            print(line, flush=True)
            lines.append(line)
            results["export"][name] = figure
    lines.append(f"load average at end {tuple(round(x, 2) for x in os.getloadavg())}")
    print(lines[-1])
    results["table"] = "\n".join(lines)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(v == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
