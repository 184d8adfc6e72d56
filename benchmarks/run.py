"""Benchmark the SDK against raw httpx, the typed floor and the published package.

    python benchmarks/run.py [--quick] [--rounds N] [--json PATH] [--only SCENARIO[,...]]
    python benchmarks/run.py --sniffio-check

Starts its own canned server on 127.0.0.1 (``server.py``), prepares the
virtualenvs it needs under ``benchmarks/`` (the published package, and our
wheel with and without sniffio), then runs every contender of every scenario in
a fresh worker process per slice (``worker.py``, ``import_probe.py``), in rounds
whose contender order rotates. It prints a table (medians over rounds, and the
median of the ratios of back-to-back pairs from the same round, which is what
the PASS/MISS verdicts use) and writes JSON (``benchmarks/results/latest.json``
by default).

Everything stays on this machine: the server binds 127.0.0.1 only, every loop
is bounded in count and time, and the server stops when this process does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
RESULTS = HERE / "results"
PUBLISHED_REQUIREMENT = "albert==1.68.0"

#: Where each environment's interpreter comes from.
ENV_DIRS = {
    "published": HERE / ".venv-published",
    "published+sniffio": HERE / ".venv-published-sniffio",
    "ours": HERE / ".venv-ours",
    "ours-nosniffio": HERE / ".venv-ours-nosniffio",
}
ENV_NOTES = {
    "dev": "this interpreter: the project's locked dev environment (editable src/)",
    "published": f"{PUBLISHED_REQUIREMENT} as pip installs it (bytecode compiled)",
    "published+sniffio": f"{PUBLISHED_REQUIREMENT} plus sniffio (informational)",
    "ours": "our wheel built from src/ + the locked runtime dependencies (bytecode compiled)",
    "ours-nosniffio": "the same as 'ours', sniffio uninstalled",
}

# ------------------------------------------------------------------------------- scenarios

#: The two paths of AsyncAlbert, named after what sends the requests: the
#: default (our adapter over aiohttp) and the opt-out, httpx_transport=True
#: (httpx's own transport, httpcore). raw-async and floor-async are
#: httpx.AsyncClient with its default transport (httpcore); every sync
#: contender uses httpx's sync transport (httpcore).
OURS = "ours-async/aiohttp"
OURS_HTTPX = "ours-async/httpcore"
PATHS = (
    f"Paths: {OURS} = AsyncAlbert's default (the aiohttp adapter); {OURS_HTTPX} ="
    " AsyncAlbert(httpx_transport=True);",
    "raw-async, floor-async = httpx.AsyncClient (httpcore); every *-sync contender = httpx's"
    " sync transport (httpcore).",
)


@dataclass(frozen=True)
class Contender:
    """A client under test, run by the interpreter of ``env``."""

    key: str  # the worker's contender name, e.g. "ours-async"
    env: str = "dev"
    info: bool = False  # informational: not part of a target, skipped by --quick
    name: str = ""  # the label, when not derived from key and env

    @property
    def label(self) -> str:
        """The name in tables and JSON: ``ours-async``, ``published-async@published+sniffio``."""
        if self.name:
            return self.name
        return self.key if self.env in ("ours", "dev", "published") else f"{self.key}@{self.env}"


@dataclass(frozen=True)
class Target:
    """A ratio checked against a bound: ``time(num) / time(den)`` per round, or a metric."""

    text: str  # what the issue asks, e.g. "ours-sync <= 1.10x raw-sync (time)"
    num: str
    den: str | None
    op: str  # "<=" or ">="
    bound: float
    unit: str = "x"
    variant: str = ""  # the variant compared (default: the scenario's first)
    info: bool = False  # reported, not judged


@dataclass
class Scenario:
    """One scenario: what the workers run, with which contenders, how often."""

    name: str
    letter: str
    title: str
    kind: str  # "timed", "memory" or "import"
    contenders: list[Contender]
    params: dict[str, Any] = field(default_factory=dict)
    warmup_params: dict[str, Any] = field(default_factory=dict)
    warmup: int = 1
    reps: int = 3
    rounds: int | None = None  # None: the run's number of rounds
    slow: bool = False  # base URL with the /slow5 prefix
    unit: str = "ms"  # how a slice's median is shown: "us/call", "ms", "MB"
    targets: list[Target] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)  # memory sizes, import stmts
    worker_scenario: str = ""
    note: str = ""
    # Groups of contenders' labels (same interpreter, same client kind) whose
    # slices of a round share one process, their repetitions alternating.
    interleave: list[tuple[str, ...]] = field(default_factory=list)

    def interleaved(self, one: str, other: str) -> bool:
        """Whether the slices of ``one`` and ``other`` share a process."""
        return any(one in group and other in group for group in self.interleave)


def build_scenarios(quick: bool, pool: int) -> list[Scenario]:
    """Return every scenario, sized for a full run or for ``--quick``."""
    ours_env = "ours"
    ours = Contender("ours-async", ours_env, name=OURS)
    ours_httpx = Contender("ours-async-httpx", ours_env, name=OURS_HTTPX)
    calls = 50 if quick else 100
    listing = 2_000 if quick else 20_000
    latency_total = 1_000 if quick else 5_000
    memory_big = 20_000 if quick else 100_000
    page = 100
    scenarios = [
        Scenario(
            name="get_by_id",
            letter="a",
            title=f"per-call overhead: {calls} sequential chat_sessions.get_by_id per rep",
            kind="timed",
            contenders=[
                Contender("raw-sync", ours_env),
                Contender("ours-sync", ours_env),
                Contender("raw-async", ours_env),
                ours,
                ours_httpx,
                Contender("floor-sync", ours_env, info=True),
                Contender("floor-async", ours_env, info=True),
                Contender("published-async", "published", info=True),
            ],
            params={"session_id": "CHS0001", "calls": calls},
            warmup=1,
            reps=5 if quick else 15,
            unit="us/call",
            interleave=[("raw-sync", "ours-sync"), ("raw-async", OURS, OURS_HTTPX)],
            targets=[
                Target("ours-sync <= 1.10x raw-sync (time)", "ours-sync", "raw-sync", "<=", 1.10),
                Target(f"{OURS} <= 1.00x raw-async (time)", OURS, "raw-async", "<=", 1.00),
                Target(
                    f"{OURS_HTTPX} <= 1.10x raw-async (time)", OURS_HTTPX, "raw-async", "<=", 1.10
                ),
            ],
        ),
        Scenario(
            name="list",
            letter="b",
            title=f"listing {listing:,} messages ({page} per page), no latency",
            kind="timed",
            contenders=[
                Contender("floor-sync", ours_env),
                Contender("ours-sync", ours_env),
                Contender("floor-async", ours_env),
                ours,
                ours_httpx,
                Contender("published-async", "published"),
                Contender("raw-sync", ours_env, info=True),
                Contender("raw-async", ours_env, info=True),
                Contender("published-async", "published+sniffio", info=True),
            ],
            params={"session_id": f"msgs-{listing}", "expect": listing},
            warmup_params={"session_id": "msgs-200", "expect": 200},
            warmup=1,
            reps=3 if quick else 7,
            unit="ms",
            interleave=[("floor-sync", "ours-sync"), ("floor-async", OURS, OURS_HTTPX)],
            targets=[
                Target(
                    "ours-sync >= 0.95x the typed floor's throughput",
                    "floor-sync",
                    "ours-sync",
                    ">=",
                    0.95,
                ),
                Target(
                    f"{OURS} >= 0.95x the typed floor's throughput",
                    "floor-async",
                    OURS,
                    ">=",
                    0.95,
                ),
                Target(
                    f"{OURS} >= 1.5x the published package's throughput",
                    "published-async",
                    OURS,
                    ">=",
                    1.5,
                ),
                Target(
                    f"{OURS_HTTPX} >= 0.95x the typed floor's throughput",
                    "floor-async",
                    OURS_HTTPX,
                    ">=",
                    0.95,
                ),
                Target(
                    f"{OURS_HTTPX} >= 1.5x the published package's throughput",
                    "published-async",
                    OURS_HTTPX,
                    ">=",
                    1.5,
                    info=True,
                ),
                Target(
                    "typed floor (async) >= 1.5x the published package's throughput",
                    "published-async",
                    "floor-async",
                    ">=",
                    1.5,
                    info=True,
                ),
            ],
        ),
        Scenario(
            name="list_latency",
            letter="c",
            title=(
                f"listing {latency_total:,} messages, 5 ms server latency per page, "
                f"consumer awaits 4 ms per page ({page} items)"
            ),
            kind="timed",
            contenders=[
                ours,
                Contender("published-async", "published"),
                Contender("ours-async-httpx", ours_env, info=True, name=OURS_HTTPX),
                Contender("floor-async", ours_env, info=True),
                Contender("ours-sync", ours_env, info=True),
                Contender("published-async", "published+sniffio", info=True),
            ],
            params={
                "session_id": f"msgs-{latency_total}",
                "expect": latency_total,
                "work_every": page,
                "work_seconds": 0.004,
            },
            warmup_params={"session_id": "msgs-200", "expect": 200},
            warmup=1,
            reps=2 if quick else 3,
            slow=True,
            unit="ms",
            targets=[
                Target(
                    f"{OURS} >= 1.4x the published package's throughput",
                    "published-async",
                    OURS,
                    ">=",
                    1.4,
                )
            ],
        ),
        Scenario(
            name="concurrent",
            letter="d",
            title=f"200 concurrent get_by_id (asyncio.gather), pool of {pool} connections",
            kind="timed",
            contenders=[
                Contender("raw-async", ours_env),
                ours,
                ours_httpx,
            ],
            params={"session_id": "CHS0001", "calls": 200, "pool": pool},
            # httpcore's pool takes seconds to fill under 200 queued requests when it is
            # large (measured: 2-5 s per gather for the first ones with 100 connections)
            warmup=2 if pool <= 20 else 3,
            reps=3 if quick else 10,
            unit="ms",
            interleave=[("raw-async", OURS, OURS_HTTPX)],
            targets=[
                Target(f"{OURS} <= 1.00x raw-async (wall time)", OURS, "raw-async", "<=", 1.00),
                Target(
                    f"{OURS_HTTPX} <= 1.10x raw-async (wall time)",
                    OURS_HTTPX,
                    "raw-async",
                    "<=",
                    1.10,
                ),
            ],
        ),
        Scenario(
            name="memory",
            letter="e",
            title=(
                f"memory: peak RSS iterating {memory_big:,} vs 1,000 messages "
                "without keeping them (fresh process each)"
            ),
            kind="memory",
            contenders=[
                Contender("ours-sync", ours_env),
                ours,
                Contender("published-async", "published", info=True),
            ],
            variants=[
                {"label": "1,000", "session_id": "msgs-1000", "expect": 1_000},
                {
                    "label": f"{memory_big:,}",
                    "session_id": f"msgs-{memory_big}",
                    "expect": memory_big,
                },
            ],
            rounds=1 if quick else 3,
            unit="MB",
            worker_scenario="list",
            targets=[
                Target(
                    f"ours-sync: peak RSS({memory_big:,}) - peak RSS(1,000) <= 20 MB",
                    "ours-sync",
                    None,
                    "<=",
                    20.0,
                    "MB",
                ),
                Target(
                    f"{OURS}: peak RSS({memory_big:,}) - peak RSS(1,000) <= 20 MB",
                    OURS,
                    None,
                    "<=",
                    20.0,
                    "MB",
                ),
            ],
            note="--quick lists 20,000 instead of 100,000" if quick else "",
        ),
        Scenario(
            name="import",
            letter="f",
            title="import time in a fresh interpreter (bytecode compiled, as pip installs)",
            kind="import",
            contenders=[
                Contender("ours", "ours", name="ours"),
                Contender("published", "published", name="published"),
            ],
            variants=[
                {"label": "import albert", "statement": "import albert"},
                {
                    "label": "from albert import AsyncAlbert",
                    "statement": "from albert import AsyncAlbert",
                    "info": True,
                    # the published package's `import albert` already imports its clients
                    "only": ["ours"],
                },
            ],
            rounds=1 if quick else None,  # the published import alone takes seconds
            unit="ms",
            targets=[
                Target(
                    "import albert: ours <= 0.3x the published package (time)",
                    "ours",
                    "published",
                    "<=",
                    0.3,
                ),
                Target("import albert: ours <= 60 MB RSS", "ours", None, "<=", 60.0, "MB"),
            ],
        ),
        Scenario(
            name="sniffio",
            letter="g",
            title="sniffio check: get_by_id in two venvs identical but for sniffio",
            kind="timed",
            contenders=[
                Contender("raw-async", "ours", name="raw-async+sniffio"),
                Contender("raw-async", "ours-nosniffio", name="raw-async-no-sniffio"),
                Contender("ours-async-httpx", "ours", name=f"{OURS_HTTPX}+sniffio"),
                Contender("ours-async-httpx", "ours-nosniffio", name=f"{OURS_HTTPX}-no-sniffio"),
                Contender("raw-sync", "ours", info=True, name="raw-sync+sniffio"),
                Contender("raw-sync", "ours-nosniffio", info=True, name="raw-sync-no-sniffio"),
            ],
            params={"session_id": "CHS0001", "pool": pool},
            variants=[
                {"label": f"{calls} sequential", "worker": "get_by_id", "calls": calls},
                {"label": "200 concurrent", "worker": "concurrent", "calls": 200, "warmup": 2},
            ],
            warmup=1,
            reps=5 if quick else 10,
            unit="us/call",
            targets=[
                Target(
                    f"raw-async, {calls} sequential: without / with sniffio (time)",
                    "raw-async-no-sniffio",
                    "raw-async+sniffio",
                    ">=",
                    1.0,
                    variant=f"{calls} sequential",
                    info=True,
                ),
                Target(
                    f"{OURS_HTTPX}, {calls} sequential: without / with sniffio (time)",
                    f"{OURS_HTTPX}-no-sniffio",
                    f"{OURS_HTTPX}+sniffio",
                    ">=",
                    1.0,
                    variant=f"{calls} sequential",
                    info=True,
                ),
                Target(
                    "raw-async, 200 concurrent: without / with sniffio (time)",
                    "raw-async-no-sniffio",
                    "raw-async+sniffio",
                    ">=",
                    1.0,
                    variant="200 concurrent",
                    info=True,
                ),
                Target(
                    f"{OURS_HTTPX}, 200 concurrent: without / with sniffio (time)",
                    f"{OURS_HTTPX}-no-sniffio",
                    f"{OURS_HTTPX}+sniffio",
                    ">=",
                    1.0,
                    variant="200 concurrent",
                    info=True,
                ),
                Target(
                    f"raw-sync (control), {calls} sequential: without / with sniffio (time)",
                    "raw-sync-no-sniffio",
                    "raw-sync+sniffio",
                    ">=",
                    0.0,
                    variant=f"{calls} sequential",
                    info=True,
                ),
            ],
        ),
    ]
    return scenarios


# ---------------------------------------------------------------------------- environments


def _uv() -> list[str] | None:
    """Return the command that runs uv, or ``None`` without it."""
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found]

        return [os.fspath(uv.find_uv_bin())]
    except Exception:
        return None


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run_quiet(cmd: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _create_venv(venv: Path, packages: Sequence[str], requirements: Path | None = None) -> None:
    """Create ``venv`` afresh with ``packages`` (and a requirements file) installed."""
    if venv.exists():
        shutil.rmtree(venv)
    base_python = getattr(sys, "_base_executable", sys.executable)
    uv = _uv()
    extra = ["-r", os.fspath(requirements)] if requirements else []
    if uv:
        _run_quiet([*uv, "venv", "--quiet", "--python", base_python, os.fspath(venv)])
        if packages or extra:
            _run_quiet(
                [
                    *uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--compile-bytecode",
                    "--python",
                    os.fspath(_python_in(venv)),
                    *extra,
                    *packages,
                ]
            )
    else:
        _run_quiet([base_python, "-m", "venv", os.fspath(venv)])
        if packages or extra:
            _run_quiet(
                [os.fspath(_python_in(venv)), "-m", "pip", "install", "-q", *extra, *packages]
            )


def _pip(venv: Path, *args: str) -> None:
    uv = _uv()
    python = os.fspath(_python_in(venv))
    if uv:
        _run_quiet([*uv, "pip", *args[:1], "--quiet", "--python", python, *args[1:]])
    else:
        _run_quiet([python, "-m", "pip", *args[:1], "-q", *args[1:]])


def _marker_ok(venv: Path, stamp: str) -> bool:
    marker = venv / ".bench-stamp"
    return _python_in(venv).exists() and marker.exists() and marker.read_text() == stamp


def _stamp(venv: Path, stamp: str) -> None:
    (venv / ".bench-stamp").write_text(stamp)


def _source_digest() -> str:
    """Hash the package source and pyproject, to know when our wheel env is stale."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT / "src" / "albert").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".typed"):
            digest.update(os.fspath(path.relative_to(PROJECT)).encode())
            digest.update(path.read_bytes())
    digest.update((PROJECT / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:16]


def _locked_runtime_requirements(directory: Path) -> tuple[Path, str]:
    """Write the locked runtime dependencies (no dev groups, no project) to a file."""
    uv = _uv()
    if uv is None:
        raise RuntimeError("uv is needed to export the locked dependencies")
    path = directory / "requirements.txt"
    _run_quiet(
        [
            *uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--no-header",
            "--quiet",
            "--output-file",
            os.fspath(path),
        ],
        cwd=PROJECT,
    )
    return path, path.read_text()


def _sniffio_requirement(requirements: str) -> str:
    for line in requirements.splitlines():
        if line.strip().startswith("sniffio=="):
            return line.split(";")[0].strip()
    return "sniffio"


def prepare_envs(needed: set[str], log: Callable[[str], None]) -> dict[str, str]:
    """Create or reuse the virtualenvs in ``needed``; return ``{env: problem}`` for failures."""
    problems: dict[str, str] = {}
    requirements_text = ""
    with tempfile.TemporaryDirectory() as scratch:
        for env in sorted(needed):
            if env == "dev":
                continue
            venv = ENV_DIRS[env]
            started = time.perf_counter()
            try:
                if env.startswith("published"):
                    packages = [PUBLISHED_REQUIREMENT]
                    if env == "published+sniffio":
                        if not requirements_text:
                            _, requirements_text = _locked_runtime_requirements(Path(scratch))
                        packages.append(_sniffio_requirement(requirements_text))
                    stamp = json.dumps({"packages": packages, "python": sys.version})
                    if _marker_ok(venv, stamp):
                        continue
                    log(f"preparing {venv.name} ({' '.join(packages)}) ...")
                    _create_venv(venv, packages)
                    _stamp(venv, stamp)
                else:
                    requirements, requirements_text = _locked_runtime_requirements(Path(scratch))
                    deps_stamp = json.dumps({"deps": requirements_text, "python": sys.version})
                    full_stamp = deps_stamp + "\n" + _source_digest()
                    if _marker_ok(venv, full_stamp):
                        continue
                    log(f"preparing {venv.name} (our wheel from src/, locked dependencies) ...")
                    marker = venv / ".bench-stamp"
                    current = marker.read_text() if marker.exists() else ""
                    if not _python_in(venv).exists() or not current.startswith(deps_stamp + "\n"):
                        _create_venv(venv, [], requirements)
                    _pip(
                        venv,
                        "install",
                        "--no-deps",
                        "--compile-bytecode",
                        "--reinstall-package",
                        "albert-chat",
                        os.fspath(PROJECT),
                    )
                    if env == "ours-nosniffio":
                        _pip(venv, "uninstall", "sniffio")
                    _stamp(venv, full_stamp)
                log(f"  {venv.name} ready in {time.perf_counter() - started:.1f} s")
            except Exception as exc:
                problems[env] = str(exc).strip().splitlines()[-1][:300] if str(exc) else repr(exc)
                log(f"  could not prepare {venv.name}: {problems[env]}")
    return problems


def python_of(env: str) -> str:
    """Return the interpreter of an environment."""
    return sys.executable if env == "dev" else os.fspath(_python_in(ENV_DIRS[env]))


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# --------------------------------------------------------------------------------- server


@dataclass
class Server:
    """The canned server, a child process of this runner."""

    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def base_url(self) -> str:
        """The base URL without latency."""
        return f"http://127.0.0.1:{self.info['port']}"


@contextmanager
def serve(totals: Sequence[int], max_seconds: float) -> Iterator[Server]:
    """Start ``server.py`` with the listings in ``totals`` prepared; stop it on exit."""
    cmd = [
        sys.executable,
        os.fspath(HERE / "server.py"),
        "--page-size",
        "100",
        "--messages",
        "1000",
        "--max-seconds",
        str(int(max_seconds)),
        "--prepare",
        *(str(total) for total in sorted(set(totals))),
    ]
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env()
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 120)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            err = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the benchmark server did not start:\n{err}")
        yield Server(process, json.loads(line))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def _no_server() -> Iterator[None]:
    yield None


# --------------------------------------------------------------------------------- slices


@dataclass
class Slice:
    """One worker process: a contender's timings for a scenario in one round."""

    scenario: str
    round: int
    contender: str
    env: str
    variant: str = ""
    times: list[float] = field(default_factory=list)
    value: float | None = None  # the slice's best repetition (s), or its peak RSS (MB)
    median: float | None = None  # the median of the slice's repetitions (s)
    load: float | None = None  # the 1-minute load average when the slice started
    peak_rss_mb: float | None = None
    rss_after_mb: float | None = None
    modules_loaded: int | None = None
    process_wall_s: float | None = None
    error: str | None = None


def run_process(cmd: list[str], timeout: float) -> tuple[dict[str, Any] | None, float, str | None]:
    """Run one worker; return its JSON result, its wall time and an error if it failed."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=_child_env(), check=False
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - started, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, wall, f"exit {done.returncode}: {tail[:300]}"
    return json.loads(lines[-1]), wall, None


_VARIANT_KEYS = (
    "label",
    "worker",
    "info",
    "warmup",
    "only",
)  # a variant's keys that are not params


class Runner:
    """Runs the slices, keeps the results, and the environments' versions."""

    def __init__(self, server: Server | None, timeout: float, verbose: bool) -> None:
        self.server = server
        self.timeout = timeout
        self.verbose = verbose
        self.envs: dict[str, dict[str, Any]] = {}
        self.slices: list[Slice] = []
        self.used_envs: set[str] = set()
        self.load: float | None = None

    def _note_env(self, env: str, info: dict[str, Any] | None) -> None:
        if info and env not in self.envs:
            self.envs[env] = info

    def spec(
        self, scenario: Scenario, contender: Contender, variant: dict[str, Any]
    ) -> dict[str, Any]:
        """Return the worker spec of a timed (or memory) slice."""
        assert self.server is not None
        memory = scenario.kind == "memory"
        return {
            "contender": contender.key,
            "scenario": variant.get("worker") or scenario.worker_scenario or scenario.name,
            "base_url": self.server.base_url + ("/slow5" if scenario.slow else ""),
            "params": {
                **scenario.params,
                **{k: v for k, v in variant.items() if k not in _VARIANT_KEYS},
            },
            "warmup_params": scenario.warmup_params,
            "warmup": 0 if memory else variant.get("warmup", scenario.warmup),
            "reps": 1 if memory else scenario.reps,
            "max_seconds": self.timeout / 2,
        }

    def record(
        self,
        scenario: Scenario,
        contender: Contender,
        round_: int,
        variant: dict[str, Any],
        outcome: tuple[dict[str, Any] | None, float, str | None],
    ) -> Slice:
        """Keep the outcome of a timed (or memory) slice."""
        result, wall, error = outcome
        piece = Slice(
            scenario.name,
            round_,
            contender.label,
            contender.env,
            variant.get("label", ""),
            process_wall_s=wall,
            error=error,
            load=self.load,
        )
        if result is not None:
            self._note_env(contender.env, result.get("env"))
            piece.times = result["times"]
            piece.peak_rss_mb = result.get("peak_rss_mb")
            if scenario.kind == "memory":
                piece.value = piece.peak_rss_mb
            elif piece.times:
                piece.value = min(piece.times)
                piece.median = statistics.median(piece.times)
        self.slices.append(piece)
        self._log(piece)
        return piece

    def run_round(
        self, round_: int, scenarios: Sequence[Scenario], batch_envs: set[str], deadline: float
    ) -> None:
        """Run every scenario's slices of one round, the contenders' order rotated.

        The timed slices of an environment in ``batch_envs`` share one worker
        process per round, started at the first of them (``--quick`` does that
        for the published package, whose import alone takes seconds).
        """
        jobs: list[tuple[Scenario, Contender, dict[str, Any]]] = []
        for scenario in scenarios:
            if scenario.rounds is not None and round_ >= scenario.rounds:
                continue
            variants = scenario.variants or [{}]
            pairs = [
                (c, v)
                for c in scenario.contenders
                for v in variants
                if not (v.get("worker") == "concurrent" and c.key.endswith("-sync"))
                and c.label in v.get("only", [c.label])
            ]
            jobs += [(scenario, c, v) for c, v in rotated(pairs, round_)]
        batched: dict[int, tuple[dict[str, Any] | None, float, str | None]] = {}
        groups = self._groups(jobs)
        for index, (scenario, contender, variant) in enumerate(jobs):
            if time.monotonic() > deadline:
                print("--max-seconds reached: no more slices", flush=True)
                return
            self.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            if scenario.kind == "import":
                if contender.env not in self.used_envs:
                    self.import_probe(contender, variant)  # untimed: warms the file cache
                self.imported(scenario, contender, round_, variant)
            elif scenario.kind == "timed" and index in groups:
                if index not in batched:
                    pair = groups[index]
                    specs = [self.spec(*jobs[i]) for i in pair]
                    cmd = [
                        python_of(contender.env),
                        os.fspath(HERE / "worker.py"),
                        json.dumps({"interleaved": specs}),
                    ]
                    result, wall, error = run_process(cmd, self.timeout * len(pair))
                    for position, i in enumerate(pair):
                        one = None
                        if result is not None:
                            one = result["batch"][position] | {"env": result.get("env")}
                        batched[i] = (one, wall / len(pair), error)
                self.record(scenario, contender, round_, variant, batched[index])
            elif scenario.kind == "timed" and contender.env in batch_envs:
                if index not in batched:
                    batch = [
                        i
                        for i, (s, c, _) in enumerate(jobs)
                        if s.kind == "timed" and c.env == contender.env
                    ]
                    specs = [self.spec(*jobs[i]) for i in batch]
                    cmd = [
                        python_of(contender.env),
                        os.fspath(HERE / "worker.py"),
                        json.dumps({"batch": specs}),
                    ]
                    result, wall, error = run_process(cmd, self.timeout * len(specs))
                    for position, i in enumerate(batch):
                        one = None
                        if result is not None:
                            one = result["batch"][position] | {"env": result.get("env")}
                        batched[i] = (one, wall / len(batch), error)
                self.record(scenario, contender, round_, variant, batched[index])
            else:
                spec = self.spec(scenario, contender, variant)
                cmd = [python_of(contender.env), os.fspath(HERE / "worker.py"), json.dumps(spec)]
                self.record(scenario, contender, round_, variant, run_process(cmd, self.timeout))
            self.used_envs.add(contender.env)

    @staticmethod
    def _groups(jobs: Sequence[tuple[Scenario, Contender, dict[str, Any]]]) -> dict[int, list[int]]:
        """Map each job of an interleaved group to the indexes in ``jobs`` of its whole group."""
        groups: dict[int, list[int]] = {}
        for i, (scenario, contender, variant) in enumerate(jobs):
            group = [
                j
                for j, (other_scenario, other, other_variant) in enumerate(jobs)
                if other_scenario is scenario
                and other_variant == variant
                and other.env == contender.env
                and (i == j or scenario.interleaved(contender.label, other.label))
            ]
            if len(group) > 1:
                groups[i] = group
        return groups

    def import_probe(self, contender: Contender, variant: dict[str, Any]) -> None:
        """Run the import probe once, untimed."""
        cmd = [python_of(contender.env), os.fspath(HERE / "import_probe.py"), variant["statement"]]
        run_process(cmd, self.timeout)

    def imported(
        self, scenario: Scenario, contender: Contender, round_: int, variant: dict[str, Any]
    ) -> Slice:
        """Time one import statement in a fresh interpreter of the contender's env."""
        cmd = [
            python_of(contender.env),
            os.fspath(HERE / "import_probe.py"),
            variant["statement"],
        ]
        result, wall, error = run_process(cmd, self.timeout)
        piece = Slice(
            scenario.name,
            round_,
            contender.label,
            contender.env,
            variant["label"],
            process_wall_s=wall,
            error=error,
            load=self.load,
        )
        if result is not None:
            piece.times = result["times"]
            piece.value = result["times"][0]
            piece.peak_rss_mb = result.get("peak_rss_mb")
            piece.rss_after_mb = result.get("rss_after_mb")
            piece.modules_loaded = result.get("modules_loaded")
        self.slices.append(piece)
        self._log(piece)
        return piece

    def env_probe(self, env: str) -> None:
        """Record an environment's versions (for envs no slice has reported yet)."""
        if env in self.envs:
            return
        spec = {"contender": "-", "scenario": "env", "base_url": "", "params": {}}
        result, _, _ = run_process(
            [python_of(env), os.fspath(HERE / "worker.py"), json.dumps(spec)], 120
        )
        if result is not None:
            self._note_env(env, result.get("env"))

    def _log(self, piece: Slice) -> None:
        if not self.verbose:
            return
        what = f"{piece.scenario:<13} r{piece.round} {piece.contender:<28} {piece.variant:<14}"
        if piece.error:
            print(f"  {what} ERROR {piece.error}", flush=True)
        elif piece.value is not None:
            shown = (
                f"{piece.value:8.1f} MB"
                if piece.scenario == "memory"
                else f"{piece.value * 1000:9.2f} ms"
            )
            print(f"  {what} {shown}   (process {piece.process_wall_s:.1f} s)", flush=True)


def rotated(items: Sequence[Any], by: int) -> list[Any]:
    """Return ``items`` rotated left by ``by`` places."""
    if not items:
        return []
    by %= len(items)
    return [*items[by:], *items[:by]]


# ------------------------------------------------------------------------------ analysis


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _values(
    slices: Sequence[Slice], contender: str, variant: str = "", attribute: str = "value"
) -> dict[int, float]:
    """Return ``{round: value}`` (or another attribute) of a contender's successful slices."""
    found: dict[int, float] = {}
    for piece in slices:
        value = getattr(piece, attribute)
        if piece.contender == contender and piece.variant == variant and value is not None:
            found[piece.round] = value
    return found


def _pair_ratios(num: dict[int, float], den: dict[int, float]) -> list[float]:
    return [num[r] / den[r] for r in sorted(num.keys() & den.keys()) if den[r]]


def _repetition_ratios(slices: Sequence[Slice], num: str, den: str, variant: str) -> list[float]:
    """Return the ratios of the alternating repetitions of an interleaved pair, every round."""
    times: dict[tuple[str, int], list[float]] = {}
    for piece in slices:
        if piece.variant == variant and piece.contender in (num, den) and piece.times:
            times[piece.contender, piece.round] = piece.times
    ratios: list[float] = []
    for (name, round_), num_times in sorted(times.items()):
        den_times = times.get((den, round_))
        if name == num and den_times:
            ratios += [a / b for a, b in zip(num_times, den_times, strict=False) if b]
    return ratios


def _check(op: str, value: float | None, bound: float) -> str:
    if value is None:
        return "n/a"
    ok = value <= bound if op == "<=" else value >= bound
    return "PASS" if ok else "MISS"


def analyse(scenario: Scenario, slices: Sequence[Slice]) -> dict[str, Any]:
    """Summarise a scenario: per contender medians, and every target's verdict."""
    mine = [s for s in slices if s.scenario == scenario.name]
    variants = [v["label"] for v in scenario.variants] or [""]
    summary: list[dict[str, Any]] = []
    for contender in scenario.contenders:
        for variant in variants:
            rows = [s for s in mine if s.contender == contender.label and s.variant == variant]
            values = [s.value for s in rows if s.value is not None]
            if not rows:
                continue
            entry: dict[str, Any] = {
                "contender": contender.label,
                "env": contender.env,
                "variant": variant,
                "info": contender.info,
                "slices": len(rows),
                "errors": [s.error for s in rows if s.error],
                "median": _median(values),
                "min": min(values) if values else None,
                "max": max(values) if values else None,
            }
            if scenario.kind == "import":
                entry["peak_rss_mb"] = _median([s.peak_rss_mb for s in rows if s.peak_rss_mb])
                entry["rss_after_mb"] = _median([s.rss_after_mb for s in rows if s.rss_after_mb])
                entry["modules_loaded"] = _median(
                    [s.modules_loaded for s in rows if s.modules_loaded is not None]
                )
                entry["process_wall_s"] = _median(
                    [s.process_wall_s for s in rows if s.process_wall_s]
                )
            elif scenario.kind == "timed" and values:
                items = _items_of(scenario, variant)
                if items:
                    entry["items_per_s"] = items / statistics.median(values)
            summary.append(entry)

    targets: list[dict[str, Any]] = []
    for target in scenario.targets:
        result: dict[str, Any] = {"target": target.text, "op": target.op, "bound": target.bound}
        if scenario.kind == "memory":
            small, big = variants[0], variants[-1]
            a, b = _values(mine, target.num, small), _values(mine, target.num, big)
            diffs = [b[r] - a[r] for r in sorted(a.keys() & b.keys())]
            result |= {"pairs": diffs, "value": _median(diffs), "unit": "MB"}
        elif scenario.kind == "import" and target.den is None:
            rss = [
                s.rss_after_mb
                for s in mine
                if s.contender == target.num and s.variant == variants[0] and s.rss_after_mb
            ]
            result |= {"pairs": rss, "value": _median(rss), "unit": "MB"}
        else:
            assert target.den is not None
            variant = target.variant or variants[0]
            num, den = _values(mine, target.num, variant), _values(mine, target.den, variant)
            pairs = _pair_ratios(num, den)
            by_median = _pair_ratios(
                _values(mine, target.num, variant, "median"),
                _values(mine, target.den, variant, "median"),
            )
            result |= {
                "pairs": pairs,
                "value": _median(pairs),
                "statistic": "pairs of slices",
                "pairs_of_slice_medians": by_median,
                "value_of_slice_medians": _median(by_median),
                "ratio_of_medians": (
                    statistics.median(num.values()) / statistics.median(den.values())
                    if num and den
                    else None
                ),
                "unit": "x",
            }
            if target.den is not None and scenario.interleaved(target.num, target.den):
                # Alternating repetitions of one process: the closest pairs there are.
                reps = _repetition_ratios(mine, target.num, target.den, variant)
                result |= {
                    "repetition_ratios": reps,
                    "value": _median(reps),
                    "statistic": "alternating repetitions",
                }
        result["verdict"] = (
            "info" if target.info else _check(target.op, result["value"], target.bound)
        )
        targets.append(result)
    return {"summary": summary, "targets": targets}


# ---------------------------------------------------------------------------------- output


def _items_of(scenario: Scenario, variant_label: str) -> int | None:
    """Return the items (or calls) one timed repetition handles."""
    params = dict(scenario.params)
    for variant in scenario.variants:
        if variant["label"] == variant_label:
            params |= {k: v for k, v in variant.items() if k not in _VARIANT_KEYS}
    items = params.get("expect") or params.get("calls")
    return int(items) if items else None


def _fmt_value(scenario: Scenario, value: float | None, variant: str = "") -> str:
    if value is None:
        return "-"
    if scenario.kind == "memory" or scenario.unit == "MB":
        return f"{value:.1f} MB"
    if scenario.unit == "us/call":
        calls = _items_of(scenario, variant) or 1
        return f"{value / calls * 1e6:.0f} us/call"
    return f"{value * 1000:.1f} ms"


def render(
    scenarios: Sequence[Scenario],
    analyses: dict[str, dict[str, Any]],
    envs: dict[str, Any],
    heading: Sequence[str] = (),
) -> str:
    """Return the results table as text (the same table goes into the README)."""
    out: list[str] = [*heading, ""] if heading else []
    for scenario in scenarios:
        analysis = analyses.get(scenario.name)
        if analysis is None:
            continue
        out.append(f"{scenario.letter}. {scenario.title}")
        if scenario.note:
            out.append(f"   ({scenario.note})")
        names = [
            row["contender"]
            + (f" [{row['variant']}]" if row["variant"] else "")
            + (" (info)" if row["info"] else "")
            for row in analysis["summary"]
        ]
        width = max([len("contender"), *map(len, names)]) + 2
        median_label = "median" if scenario.kind != "timed" else "median of best"
        out.append(
            f"   {'contender':<{width}}{median_label:>16}{'best':>16}{'throughput':>17}  slices"
        )
        for name, row in zip(names, analysis["summary"], strict=True):
            throughput = ""
            if "items_per_s" in row:
                unit = (
                    "calls/s" if scenario.name in ("get_by_id", "concurrent", "sniffio") else "/s"
                )
                throughput = f"{row['items_per_s']:,.0f} {unit}".replace(" /s", " items/s")
            extra = ""
            if scenario.kind == "import":
                extra = (
                    f"  RSS {row['rss_after_mb']:.1f} MB, {row['modules_loaded']:.0f} modules,"
                    f" process {row['process_wall_s'] * 1000:.0f} ms"
                    if row.get("rss_after_mb") and row.get("process_wall_s")
                    else ""
                )
            errors = f"  {len(row['errors'])} failed: {row['errors'][0]}" if row["errors"] else ""
            out.append(
                f"   {name:<{width}}{_fmt_value(scenario, row['median'], row['variant']):>16}"
                f"{_fmt_value(scenario, row['min'], row['variant']):>16}{throughput:>17}"
                f"  {row['slices']}"
                f"{extra}{errors}"
            )
        for target in analysis["targets"]:
            value = target["value"]
            if value is None:
                shown = "no data"
            elif target["unit"] == "MB":
                shown = f"{value:.1f} MB"
            else:
                pairs = target["pairs"]
                reps = target.get("repetition_ratios")
                if reps and len(reps) > 3:
                    low, _, high = statistics.quantiles(reps, n=4)
                    shown = (
                        f"{value:.2f}x [{low:.2f}-{high:.2f}] over {len(reps)} alternating"
                        f" repetitions; pairs of slices {_median(pairs) or 0:.2f}x"
                    )
                else:
                    spread = f" [{min(pairs):.2f}-{max(pairs):.2f}]" if len(pairs) > 1 else ""
                    shown = f"{value:.2f}x{spread}"
                if target.get("ratio_of_medians") is not None:
                    shown += f"; ratio of medians {target['ratio_of_medians']:.2f}x"
                if target.get("value_of_slice_medians") is not None:
                    shown += f"; pairs of slice medians {target['value_of_slice_medians']:.2f}x"
            out.append(f"   {target['verdict']:<5} {target['target']}: {shown}")
        out.append("")
    out.append("environments:")
    for name, info in envs.items():
        packages = info.get("packages", {})
        shown = ", ".join(f"{k} {v}" for k, v in packages.items() if v)
        sniffio = "importable" if info.get("sniffio_importable") else "NOT importable"
        out.append(f"   {name}: python {info.get('python')}; {shown}; sniffio {sniffio}")
    return "\n".join(out)


def machine_info() -> dict[str, Any]:
    """Describe this machine: CPU model, cores, memory, OS and Python."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def source_info() -> dict[str, Any]:
    """Describe the source measured: the git commit, uncommitted changes in src/, a digest."""
    info: dict[str, Any] = {"digest": _source_digest(), "commit": None, "src_modified": None}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "pyproject.toml"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return info
    info["commit"] = head.stdout.strip() or None
    info["src_modified"] = bool(status.stdout.strip())
    return info


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (a ``.tmp`` beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    tmp.replace(path)


# ------------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark albert-chat against raw httpx and the published package."
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, or 2 with --quick)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "latest.json",
        help="where to write the results (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--only",
        help="comma-separated scenarios (names or letters): get_by_id (a), list (b), "
        "list_latency (c), concurrent (d), memory (e), import (f), sniffio (g)",
    )
    parser.add_argument(
        "--sniffio-check",
        action="store_true",
        help="only the sniffio check (same as --only sniffio)",
    )
    parser.add_argument(
        "--no-published",
        action="store_true",
        help="skip the published package (no virtualenv to prepare)",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=10,
        help="connection pool size for the concurrent calls (default 10)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=3600,
        help="stop starting slices after this long (the server stops after it too)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-slice lines")
    args = parser.parse_args(argv)
    if args.rounds is not None and not 1 <= args.rounds <= 50:
        parser.error("--rounds must be between 1 and 50")
    return args


def select_scenarios(args: argparse.Namespace) -> list[Scenario]:
    """Return the scenarios to run, with the contenders this mode runs."""
    scenarios = build_scenarios(args.quick, args.pool)
    wanted: set[str] | None = None
    if args.sniffio_check:
        wanted = {"sniffio"}
    elif args.only:
        wanted = set()
        for item in args.only.split(","):
            item = item.strip()
            for scenario in scenarios:
                if item in (scenario.name, scenario.letter):
                    wanted.add(scenario.name)
                    break
            else:
                raise SystemExit(f"unknown scenario {item!r}")
    chosen = []
    for scenario in scenarios:
        if wanted is None and scenario.name == "sniffio" and args.quick:
            continue  # two more virtualenvs: run it with --sniffio-check or a full run
        if wanted is not None and scenario.name not in wanted:
            continue
        scenario.contenders = [
            c
            for c in scenario.contenders
            if not (args.quick and c.info)
            and not (args.no_published and c.env.startswith("published"))
        ]
        if args.quick:
            scenario.variants = [v for v in scenario.variants if not v.get("info")]
        chosen.append(scenario)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return the exit status (0 even when targets are missed)."""
    args = parse_args(argv)
    started_at = dt.datetime.now(dt.timezone.utc)
    t_start = time.monotonic()
    start_load = tuple(round(x, 2) for x in os.getloadavg()) if hasattr(os, "getloadavg") else None
    measured = source_info()
    rounds = args.rounds or (2 if args.quick else 5)
    scenarios = select_scenarios(args)
    if not scenarios:
        print("nothing to run")
        return 0

    def log(message: str) -> None:
        print(message, flush=True)

    needed = {c.env for s in scenarios for c in s.contenders}
    problems = prepare_envs(needed, log)
    for scenario in scenarios:
        if "ours" in problems and scenario.name != "sniffio":
            log(f"  {scenario.name}: running ours in this interpreter instead (editable src/)")
            scenario.contenders = [
                Contender(c.key, "dev", c.info, c.name) if c.env == "ours" else c
                for c in scenario.contenders
            ]
        scenario.contenders = [c for c in scenario.contenders if c.env not in problems]

    totals = {1_000, 200}
    for scenario in scenarios:
        for source in (scenario.params, scenario.warmup_params, *scenario.variants):
            session_id = str(source.get("session_id", ""))
            if session_id.startswith("msgs-"):
                totals.add(int(session_id.removeprefix("msgs-")))

    needs_server = any(s.kind != "import" for s in scenarios)
    slice_timeout = 300.0 if not args.quick else 60.0
    deadline = t_start + args.max_seconds
    server_context = serve(sorted(totals), args.max_seconds + 60) if needs_server else _no_server()
    with server_context as server:
        if server is not None:
            log(
                f"server on {server.base_url} ({server.info['http']}, {server.info['loop']}, "
                f"page size {server.info['page_size']}), {rounds} rounds"
            )
        runner = Runner(server, slice_timeout, verbose=not args.quiet)
        batch_envs = {"published", "published+sniffio"} if args.quick else set()
        for round_ in range(rounds):
            runner.run_round(round_, scenarios, batch_envs, deadline)
        for env in sorted(needed - set(problems)):
            runner.env_probe(env)

    analyses = {s.name: analyse(s, runner.slices) for s in scenarios}
    finished_at = dt.datetime.now(dt.timezone.utc)
    machine = machine_info()
    load = machine["load_average"]
    heading = [
        "A slice is one contender in a fresh process (a compared group of one virtualenv shares",
        "one, repetitions alternating), timed over several repetitions; its figure is its best",
        "repetition. Columns: the median and the best over rounds of those figures.",
        "Targets: the median over rounds of the ratio of two slices of the same round [range];",
        "the ratio of the medians; and the median ratio computed from each slice's median.",
        "Slices sharing a process are judged on the median ratio of their alternating repetitions",
        "[interquartile range], all rounds together.",
        *PATHS,
        "",
        f"{'quick' if args.quick else 'full'} run, {rounds} rounds, "
        f"{started_at:%Y-%m-%d %H:%M} UTC, {time.monotonic() - t_start:.0f} s",
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, "
        f"{machine['os']}, Python {machine['python']}",
        f"load average at start {start_load}, at end "
        f"{tuple(round(x, 2) for x in load) if load else None}",
        f"source: commit {measured['commit'] or 'unknown'}"
        + (" with uncommitted changes in src/" if measured["src_modified"] else "")
        + f" (digest {measured['digest']})",
    ]
    table = render(scenarios, analyses, runner.envs, heading)
    print()
    print(table)
    payload = {
        "started": started_at.isoformat(timespec="seconds"),
        "finished": finished_at.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - t_start, 1),
        "mode": "quick" if args.quick else "full",
        "rounds": rounds,
        "argv": list(sys.argv[1:] if argv is None else argv),
        "machine": machine | {"load_average_at_start": start_load},
        "source": measured,
        "server": server.info if server is not None else None,
        "environments": {
            name: {**info, "note": ENV_NOTES.get(name, "")} for name, info in runner.envs.items()
        },
        "environment_problems": problems,
        "scenarios": {
            s.name: {
                "letter": s.letter,
                "title": s.title,
                "note": s.note,
                "params": s.params,
                "warmup_params": s.warmup_params,
                "warmup": s.warmup,
                "reps": s.reps,
                "variants": s.variants,
                "contenders": [asdict(c) | {"label": c.label} for c in s.contenders],
                **analyses[s.name],
                "slices": [asdict(piece) for piece in runner.slices if piece.scenario == s.name],
            }
            for s in scenarios
        },
        "table": table,
    }
    write_json(args.json, payload)
    print(f"\n{len(runner.slices)} slices in {payload['seconds']} s; JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
