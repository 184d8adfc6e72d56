"""One benchmark slice, run in a fresh process by ``benchmarks/run.py``.

    python benchmarks/worker.py '<JSON spec>'

The spec names a contender (``raw-sync``, ``raw-async``, ``floor-sync``,
``floor-async``, ``ours-sync``, ``ours-async`` (AsyncAlbert's default path: the
aiohttp adapter), ``ours-async-httpx`` (``AsyncAlbert(httpx_transport=True)``:
httpx's own transport, httpcore), ``published-async``), a scenario and its
parameters. The worker builds the client, runs the workload
untimed ``warmup`` times, then ``reps`` timed times (``time.perf_counter``
around the workload only, a garbage collection before each), and prints one
JSON line: the timings, the peak RSS, and the versions of the packages in the
interpreter it runs under. Process start and imports are never timed.

The worker only imports the standard library at module level, so that it runs
under any interpreter: ours, or the published package's own virtualenv, where
``albert`` is the published package. The ``import`` scenario has its own probe,
``import_probe.py``, which imports nothing before the statement it times.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

TOKEN = "bench-token"
API = "/api/v3/chats/sessions"

SyncRun = Callable[[], int]
AsyncRun = Callable[[], Awaitable[int]]


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process so far, in MB (MiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """Return the current resident set size in MB (MiB), where /proc tells it."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def env_info() -> dict[str, Any]:
    """Return the interpreter and the versions of the packages that shape the timings."""
    import importlib.metadata
    import importlib.util
    import platform

    versions: dict[str, str | None] = {}
    for dist in (
        "albert-chat",
        "albert",
        "httpx",
        "httpcore",
        "h11",
        "aiohttp",
        "yarl",
        "anyio",
        "sniffio",
        "pydantic",
        "pydantic-core",
        "tenacity",
    ):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "packages": versions,
        "sniffio_importable": importlib.util.find_spec("sniffio") is not None,
    }


def raw_headers() -> dict[str, str]:
    """Return the headers the raw httpx contenders send (the SDK's, token included)."""
    return {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": "bench-raw-httpx",
    }


def limits_of(params: dict[str, Any]) -> Any:
    """Return the ``httpx.Limits`` that ``params["pool"]`` asks for (``None`` if unset)."""
    pool = params.get("pool")
    if pool is None:
        return None
    import httpx

    return httpx.Limits(max_connections=pool, max_keepalive_connections=pool)


def _page_of(typed: bool, page_model: Any, content: bytes) -> tuple[list[Any], str | None]:
    """Decode a listing page: a typed page model, or plain JSON."""
    if typed:
        page = page_model.model_validate_json(content)
        return page.items, page.last_key
    data = json.loads(content)
    return data.get("Items") or [], data.get("lastKey")


# --------------------------------------------------------------------------- sync contenders


class SyncContender:
    """A sync client under test: ``raw-sync``, ``floor-sync`` or ``ours-sync``.

    Parameters
    ----------
    name : str
        The contender.
    base_url : str
        The server's base URL (possibly with a ``/slowN`` prefix).
    params : dict[str, Any]
        The scenario's parameters (``pool`` sets the connection pool limits).
    """

    def __init__(self, name: str, base_url: str, params: dict[str, Any]) -> None:
        self.name = name
        self.base_url = base_url
        limits = limits_of(params)
        if name in ("raw-sync", "floor-sync"):
            import httpx

            self.typed = name == "floor-sync"
            pool = {"limits": limits} if limits else {}  # else httpx's defaults, as ours
            self.http = httpx.Client(headers=raw_headers(), **pool)
            if self.typed:
                from albert.resources.base import Page
                from albert.resources.chats import ChatMessage, ChatSession

                self.session_model: Any = ChatSession
                self.page_model: Any = Page[ChatMessage]
            self.close: Callable[[], None] = self.http.close
        elif name == "ours-sync":
            from albert import Albert

            self.sdk = Albert(
                base_url=base_url, token=TOKEN, **({"limits": limits} if limits else {})
            )
            self.close = self.sdk.close
        else:
            raise ValueError(f"no sync contender {name!r}")

    def get_by_id(self, session_id: str) -> None:
        """Fetch one chat session and decode it."""
        if self.name == "ours-sync":
            self.sdk.chat_sessions.get_by_id(id=session_id)
            return
        url = f"{self.base_url}{API}/{session_id}"
        response = self.http.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
        if self.typed:
            self.session_model.model_validate_json(response.content)
        else:
            response.json()

    def list_messages(self, session_id: str, consume: Callable[[int], None]) -> int:
        """Iterate over every message of a session, calling ``consume(count)`` after each."""
        count = 0
        if self.name == "ours-sync":
            for _message in self.sdk.chat_messages.get_all(session_id=session_id):
                count += 1
                consume(count)
            return count
        url = f"{self.base_url}{API}/{session_id}/messages"
        query: dict[str, str] = {}
        while True:
            response = self.http.get(url, params=query)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} -> {response.status_code}")
            items, key = _page_of(self.typed, getattr(self, "page_model", None), response.content)
            for _item in items:
                count += 1
                consume(count)
            if not key or not items:
                return count
            query = {"startKey": key}


def sync_run(contender: SyncContender, scenario: str, params: dict[str, Any]) -> SyncRun:
    """Return the workload of ``scenario`` for a sync contender; it returns the items seen."""
    session_id = params["session_id"]
    if scenario == "get_by_id":
        calls = int(params["calls"])

        def run_calls() -> int:
            for _ in range(calls):
                contender.get_by_id(session_id)
            return calls

        return run_calls
    if scenario not in ("list", "list_latency", "memory"):
        raise ValueError(f"no sync workload for {scenario!r}")
    every = int(params.get("work_every") or 0)
    work_s = float(params.get("work_seconds") or 0.0)

    def consume(count: int) -> None:
        if every and count % every == 0:
            time.sleep(work_s)

    def run_list() -> int:
        return contender.list_messages(session_id, consume)

    return run_list


# -------------------------------------------------------------------------- async contenders


#: The SDK's async contenders: the key, and whether it sends with httpx's own transport.
OURS_ASYNC = {"ours-async": False, "ours-async-httpx": True}


class AsyncContender:
    """An async client under test: ``raw-async``, ``floor-async``, ``ours-async*`` or the published.

    Parameters
    ----------
    name : str
        The contender.
    base_url : str
        The server's base URL (possibly with a ``/slowN`` prefix).
    params : dict[str, Any]
        The scenario's parameters (``pool`` sets the connection pool limits;
        the published client takes none and keeps httpx's defaults).
    """

    def __init__(self, name: str, base_url: str, params: dict[str, Any]) -> None:
        self.name = name
        self.base_url = base_url
        limits = limits_of(params)
        self.close: Callable[[], Awaitable[None]]
        if name in ("raw-async", "floor-async"):
            import httpx

            self.typed = name == "floor-async"
            pool = {"limits": limits} if limits else {}  # else httpx's defaults, as ours
            self.http = httpx.AsyncClient(headers=raw_headers(), **pool)
            if self.typed:
                from albert.resources.base import Page
                from albert.resources.chats import ChatMessage, ChatSession

                self.session_model: Any = ChatSession
                self.page_model: Any = Page[ChatMessage]
            self.close = self.http.aclose
        elif name in OURS_ASYNC or name == "published-async":
            from albert import AsyncAlbert

            kwargs: dict[str, Any] = {"limits": limits} if limits and name in OURS_ASYNC else {}
            if OURS_ASYNC.get(name):
                kwargs["httpx_transport"] = True  # the opt-out: httpx's own transport
            self.sdk = AsyncAlbert(base_url=base_url, token=TOKEN, **kwargs)
            self.close = self.sdk.aclose
        else:
            raise ValueError(f"no async contender {name!r}")

    async def get_by_id(self, session_id: str) -> None:
        """Fetch one chat session and decode it."""
        if self.name in OURS_ASYNC or self.name == "published-async":
            await self.sdk.chat_sessions.get_by_id(id=session_id)
            return
        url = f"{self.base_url}{API}/{session_id}"
        response = await self.http.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
        if self.typed:
            self.session_model.model_validate_json(response.content)
        else:
            response.json()

    async def list_messages(
        self, session_id: str, consume: Callable[[int], Awaitable[None]]
    ) -> int:
        """Iterate over every message of a session, awaiting ``consume(count)`` after each."""
        count = 0
        if self.name in OURS_ASYNC or self.name == "published-async":
            async for _message in self.sdk.chat_messages.get_all(session_id=session_id):
                count += 1
                await consume(count)
            return count
        url = f"{self.base_url}{API}/{session_id}/messages"
        query: dict[str, str] = {}
        while True:
            response = await self.http.get(url, params=query)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} -> {response.status_code}")
            items, key = _page_of(self.typed, getattr(self, "page_model", None), response.content)
            for _item in items:
                count += 1
                await consume(count)
            if not key or not items:
                return count
            query = {"startKey": key}


def async_run(contender: AsyncContender, scenario: str, params: dict[str, Any]) -> AsyncRun:
    """Return the workload of ``scenario`` for an async contender; it returns the items seen."""
    import asyncio

    session_id = params["session_id"]
    if scenario in ("get_by_id", "concurrent"):
        calls = int(params["calls"])

        async def run_sequential() -> int:
            for _ in range(calls):
                await contender.get_by_id(session_id)
            return calls

        async def run_gather() -> int:
            await asyncio.gather(*(contender.get_by_id(session_id) for _ in range(calls)))
            return calls

        return run_gather if scenario == "concurrent" else run_sequential
    if scenario not in ("list", "list_latency", "memory"):
        raise ValueError(f"no async workload for {scenario!r}")
    every = int(params.get("work_every") or 0)
    work_s = float(params.get("work_seconds") or 0.0)

    async def consume(count: int) -> None:
        if every and count % every == 0:
            await asyncio.sleep(work_s)

    async def run_list() -> int:
        return await contender.list_messages(session_id, consume)

    return run_list


# ------------------------------------------------------------------------------------ slices


def run_timed(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the warm-up and the timed repetitions of a slice; return the timings.

    The warm-up runs the workload of ``spec["warmup_params"]`` (the timed
    parameters when absent) ``spec["warmup"]`` times, with the same client.
    Timed repetitions stop early once ``spec["max_seconds"]`` have passed.
    """
    return run_interleaved([spec])[0]


def run_interleaved(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run slices of the same client kind in this process, their repetitions alternating.

    Every client is built and warmed up first; then each round of
    repetitions runs every slice once, the order reversed from one round to
    the next (A B, B A, A B, ...), so that a pair's repetitions see the same
    machine: this host slows a process down as it keeps a core busy, and a
    slice run after another would pay for it alone.
    """
    import gc

    kinds = {spec["contender"].endswith("-sync") for spec in specs}
    if len(kinds) != 1:
        raise ValueError("interleaved slices must all be sync or all be async")
    sync = kinds.pop()
    budget = max(float(spec.get("max_seconds", 120.0)) for spec in specs)
    reps = max(int(spec.get("reps", 3)) for spec in specs)
    results: list[dict[str, Any]] = [{"times": [], "counts": []} for _ in specs]
    started = time.perf_counter()

    def record(index: int, elapsed: float, count: int) -> None:
        spec = specs[index]
        expect = spec["params"].get("expect")
        if expect is not None and count != expect:
            raise RuntimeError(f"{spec['contender']} saw {count} items, expected {expect}")
        results[index]["times"].append(elapsed)
        results[index]["counts"].append(count)

    def orders() -> Any:
        for rep in range(reps):
            if rep and time.perf_counter() - started > budget:
                return
            indexes = list(range(len(specs)))
            yield indexes if rep % 2 == 0 else indexes[::-1]

    def workloads(spec: dict[str, Any], client: Any) -> tuple[Any, Any]:
        warmup_params = {**spec["params"], **spec.get("warmup_params", {})}
        make = sync_run if sync else async_run
        return make(client, spec["scenario"], warmup_params), make(
            client, spec["scenario"], spec["params"]
        )

    if sync:
        clients = [SyncContender(s["contender"], s["base_url"], s["params"]) for s in specs]
        try:
            pairs = [workloads(s, c) for s, c in zip(specs, clients, strict=True)]
            for spec, (warm, _run) in zip(specs, pairs, strict=True):
                for _ in range(int(spec.get("warmup", 1))):
                    warm()
            rss_before = current_rss_mb()
            for order in orders():
                for index in order:
                    gc.collect()
                    t0 = time.perf_counter()
                    count = pairs[index][1]()
                    record(index, time.perf_counter() - t0, count)
        finally:
            for client in clients:
                client.close()
    else:
        import asyncio

        async def timed() -> float | None:
            clients = [AsyncContender(s["contender"], s["base_url"], s["params"]) for s in specs]
            try:
                pairs = [workloads(s, c) for s, c in zip(specs, clients, strict=True)]
                for spec, (warm, _run) in zip(specs, pairs, strict=True):
                    for _ in range(int(spec.get("warmup", 1))):
                        await warm()
                before = current_rss_mb()
                for order in orders():
                    for index in order:
                        gc.collect()
                        t0 = time.perf_counter()
                        count = await pairs[index][1]()
                        record(index, time.perf_counter() - t0, count)
                return before
            finally:
                for client in clients:
                    await client.close()

        rss_before = asyncio.run(timed())
    peak = peak_rss_mb()
    for result in results:
        result["rss_before_mb"] = rss_before
        result["peak_rss_mb"] = peak
    return results


def main() -> None:
    """Run the slice described by ``sys.argv[1]`` and print its result as one JSON line.

    A spec ``{"batch": [spec, ...]}`` runs several slices one after the other in
    this process (``run.py --quick`` does that for the published package, whose
    import alone takes seconds) and prints ``{"batch": [result, ...]}``; a spec
    ``{"interleaved": [spec, spec]}`` runs two slices with their repetitions
    alternating (see `run_interleaved`) and prints the same.
    """
    spec = json.loads(sys.argv[1])
    result: dict[str, Any]
    if "batch" in spec:
        result = {"batch": [run_timed(one) for one in spec["batch"]]}
    elif "interleaved" in spec:
        result = {"batch": run_interleaved(spec["interleaved"])}
    elif spec["scenario"] == "env":
        result = {"times": [], "counts": []}
    else:
        result = run_timed(spec)
    result["env"] = env_info()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
