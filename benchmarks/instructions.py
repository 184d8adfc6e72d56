"""Count the CPU instructions a listing costs each client, with valgrind's callgrind.

    uv run --group bench python benchmarks/instructions.py [--messages 20000] [--json PATH]

Wall-clock figures on a shared machine move by tens of percent from one
minute to the next; instruction counts do not. For each contender (the typed
floor and ours, sync and async; the published package, async), ``worker.py``
runs under ``valgrind --tool=callgrind`` twice against the benchmark server:
once with the warm-up only, once with the warm-up and one timed listing. The
difference is what one listing of ``--messages`` messages costs that client's
process in user-space instructions, imports and warm-up excluded. The kernel and the server are not
counted, so the ratio is stricter on the SDK than wall time: every instruction
of overhead weighs more against a smaller total.

The workers run with ``PYTHONHASHSEED=0`` so that two runs of the same
contender execute the same instructions; repeated runs agree to about 0.1 %.
Needs ``valgrind`` on ``PATH`` (Debian: ``apt install valgrind``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.fspath(Path(__file__).resolve().parent))

import run  # the benchmark runner: its server and virtualenvs

#: (the contender compared with, ours): each ratio is ours' throughput over the first's.
PAIRS = [
    ("floor-sync", "ours-sync"),
    ("floor-async", "ours-async"),  # AsyncAlbert's default path: the aiohttp adapter
    ("published-async", "ours-async"),
    ("floor-async", "ours-async-httpx"),  # AsyncAlbert(httpx_transport=True): httpcore
]
#: The virtualenv each contender runs in (the published package lives in its own).
ENV_OF = {"published-async": "published"}


def count(contender: str, base_url: str, messages: int, reps: int) -> int:
    """Return the instructions of one worker process run under callgrind."""
    spec = {
        "contender": contender,
        "scenario": "list",
        "base_url": base_url,
        "params": {"session_id": f"msgs-{messages}", "expect": messages},
        "warmup_params": {"session_id": "msgs-200", "expect": 200},
        "warmup": 1,
        "reps": reps,
    }
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                run.python_of(ENV_OF.get(contender, "ours")),
                os.fspath(run.HERE / "worker.py"),
                json.dumps(spec),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
    if summary is None:
        raise RuntimeError(f"callgrind wrote no summary for {contender}")
    return int(summary.group(1))


def main(argv: list[str] | None = None) -> int:
    """Count, print a table and write the JSON; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=run.HERE / "results" / "instructions.json")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing to count", file=sys.stderr)
        return 2
    problems = run.prepare_envs({"ours", "published"}, print)
    if problems:
        print(f"cannot prepare the virtualenv: {problems}", file=sys.stderr)
        return 1
    results: dict[str, dict[str, int]] = {}
    with run.serve([args.messages, 200], max_seconds=3600) as server:
        jobs = {(c, reps): None for pair in PAIRS for c in pair for reps in (0, 1)}
        with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per core
            futures = {
                key: pool.submit(count, key[0], server.base_url, args.messages, key[1])
                for key in jobs
            }
            for (contender, reps), future in futures.items():
                results.setdefault(contender, {})["warmup_only" if reps == 0 else "with_one"] = (
                    future.result()
                )
    print(f"instructions of one listing of {args.messages:,} messages (client process only)")
    verdicts = []
    for other, ours in PAIRS:
        costs = {c: results[c]["with_one"] - results[c]["warmup_only"] for c in (other, ours)}
        ratio = costs[other] / costs[ours]
        verdicts.append({"floor": other, "ours": ours, "costs": costs, "throughput_ratio": ratio})
        print(
            f"   {ours}: {costs[ours] / 1e6:,.0f} M, {other}: {costs[other] / 1e6:,.0f} M;"
            f" ours at {ratio:.3f}x {other}'s throughput, counting instructions"
        )
    payload = {
        "messages": args.messages,
        "source": run.source_info(),
        "machine": run.machine_info(),
        "counts": results,
        "pairs": verdicts,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
