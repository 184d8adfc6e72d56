"""Generate the sync twin of the SDK and its tests from the hand-written async code.

    python scripts/unasync.py           # write src/albert/_sync and tests/_sync
    python scripts/unasync.py --check   # exit 1 and print a diff if they are stale

The `unasync` package renames name tokens and drops ``async``/``await``. This
script adds what it cannot know: the explicit replacement table below, a few
docstring phrases, a "do not edit" header, and deterministic formatting (ruff
with the project's configuration). ``--check`` also fails when a replacement
entry matches nothing in the async sources, or when the output still holds an
async-only construct that unasync would turn into something wrong silently.
"""

from __future__ import annotations

import argparse
import difflib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

# This file is named like the package it drives: import the package, not itself.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import unasync  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: (async tree, generated sync tree), relative to the repository root.
TREES = [
    ("src/albert/_async", "src/albert/_sync"),
    ("tests/_async", "tests/_sync"),
    ("src/albert/cli/_async", "src/albert/cli/_sync"),
    ("src/albert/integrations/assistant_ui/_async", "src/albert/integrations/assistant_ui/_sync"),
    ("tests/integrations/assistant_ui/_async", "tests/integrations/assistant_ui/_sync"),
]

#: Name tokens renamed on top of unasync's defaults (``__aenter__``,
#: ``AsyncIterator``, ``StopAsyncIteration``, ...). Every entry must match a name in
#: the async sources, or ``--check`` fails.
REPLACEMENTS = {
    # our public classes
    "AsyncAlbert": "Albert",
    "AsyncAlbertSession": "AlbertSession",
    "AsyncAlbertPaginator": "AlbertPaginator",
    "AsyncTokenProvider": "TokenProvider",
    "CollectOnAwait": "NothingToAwait",
    # albert.integrations.assistant_ui
    "AsyncAssistantClient": "AssistantClient",
    "AsyncThreadClient": "ThreadClient",
    "AsyncChatResponse": "ChatResponse",
    "asave_thread": "save_thread",
    "aload_thread": "load_thread",
    "async_headers": "sync_headers",
    # httpx and tenacity
    "AsyncClient": "Client",
    "AsyncRetrying": "Retrying",
    "aclose": "close",
    "aread": "read",
    "aiter_lines": "iter_lines",
    "aiter_raw": "iter_raw",
    "aiter_sse": "iter_sse",  # httpx-sse
    # the CLI's export, which the demo's walk calls
    "export_session_async": "export_session",
    # module paths
    "_async": "_sync",
    "async_primitives": "sync_primitives",
    "async_prefetch": "sync_prefetch",
    "async_listing": "sync_listing",
    "async_default_transport": "sync_default_transport",
}


def _prose(async_text: str, sync_text: str) -> tuple[re.Pattern[str], str]:
    """An async-only passage of the docstrings or comments, and what the sync twin says instead.

    Spaces in ``async_text`` match any run of whitespace, line breaks included
    (a leading space too, so that a passage dropped takes its space with it).
    """
    words = r"\s+".join(re.escape(word) for word in async_text.split())
    return re.compile((r"\s+" if async_text[:1].isspace() else "") + words), sync_text


#: Phrases translated in docstrings and comments (unasync only sees tokens). The
#: passages first: what only the async client does, said only in its docs.
PHRASES = [
    _prose(
        "Awaiting the non-blocking client's paginator collects the listing into a list "
        "(as the published package's ``chat_flags.get_all`` returns one).",
        "``list(paginator)`` collects the listing into a list.",
    ),
    _prose(
        "The non-blocking client also reads at most one page ahead:",
        "It never reads ahead:",
    ),
    _prose(
        "the next page is requested as soon as your code waits on something (I/O, a sleep) "
        "while it works on the current one; a loop that never waits gets each page when it "
        "reaches it, with no background task (see the pagination guide).",
        "a page is requested when the loop reaches it.",
    ),
    _prose(
        "ends, with its read-ahead if any; elsewhere, when its iterator is collected.",
        "ends; elsewhere, when its iterator is collected.",
    ),
    _prose(
        "; in the non-blocking client, awaiting it returns them as a list, as the published "
        "package's ``get_all`` does.",
        "; ``list()`` of it returns them as a list.",
    ),
    _prose(
        "\n The non-blocking client waits in a worker thread, so its event loop keeps running.",
        "",
    ),
    _prose(" (asyncio's own cancel is not shielded)", ""),
    _prose(
        "instead of aiohttp's HTTP stack, the default on asyncio and uvloop (under trio, "
        "httpx's own transport is always used).",
        "always (this argument changes nothing here).",
    ),
    _prose(
        "An async function is awaited by the asynchronous client and refused by the "
        "synchronous one.",
        "An asynchronous function is refused with a TypeError.",
    ),
    (re.compile(r"\basync with\b"), "with"),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\bawait (?=\w)"), ""),
    (re.compile(r"\bAsync(Generator|Iterator|Iterable|ContextManager)\b"), r"\1"),
    (re.compile(r"\banext\("), "next("),
    (re.compile(r"\bStopAsyncIteration\b"), "StopIteration"),
]

#: Constructs that must not survive generation (each would be a silent bug).
FORBIDDEN = [
    (re.compile(r"\bSync[A-Z]\w*"), "an Async* name without an explicit replacement"),
    (re.compile(r"\banyio\.(sleep|Lock|Event|Semaphore)\b"), "anyio primitive outside _backends"),
    (
        re.compile(r"\basyncio\.(sleep|Lock|Event|Semaphore)\b"),
        "asyncio primitive outside _backends",
    ),
    (re.compile(r"\bAwaitable\b"), "Awaitable annotation"),
    (
        re.compile(r"\b(aiter_bytes|aiter_lines|aiter_raw|aiter_text|anext)\b"),
        "unmapped async method",
    ),
]

#: Words of the async variant that its sync twin's docstrings, comments and
#: strings must not hold (translate them in PHRASES, or write variant-neutral text).
ASYNC_PROSE = re.compile(
    r"event loop|\basyncio\b|\btrio\b|\buvloop\b|coroutine|non-blocking|\bawait"
    r"|(?-i:\bAsync[A-Z]\w*)",  # a type unasync renamed in the code only (AsyncIterator)
    re.IGNORECASE,
)

HEADER = (
    "# GENERATED by scripts/unasync.py from {source}; do not edit.\n"
    "# Change the async source and run `nox -s generate` (or python scripts/unasync.py).\n"
)


def _async_sources() -> list[Path]:
    return sorted(p for src, _ in TREES for p in (ROOT / src).rglob("*.py"))


def _unused_replacements() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in _async_sources())
    return [name for name in REPLACEMENTS if not re.search(rf"\b{re.escape(name)}\b", text)]


def _postprocess(text: str, source: str) -> str:
    for pattern, replacement in PHRASES:
        text = pattern.sub(replacement, text)
    for name, replacement in REPLACEMENTS.items():
        # Names inside docstrings and comments: unasync renamed the code tokens already.
        text = re.sub(rf"(?<![\w]){re.escape(name)}\b", replacement, text)
    return HEADER.format(source=source) + text


def _async_prose(path: Path, text: str) -> list[str]:
    """Find async-only words in the strings and comments of generated library code."""
    if not path.as_posix().startswith("src/"):
        return []  # the generated tests may say which backend a case is about
    problems = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        if token.type == tokenize.COMMENT and token.start[0] <= HEADER.count("\n"):
            continue
        for offset, line in enumerate(token.string.splitlines()):
            found = ASYNC_PROSE.search(line)
            if found:
                lineno = token.start[0] + offset
                problems.append(
                    f"{path}:{lineno}: async-only prose ({found.group(0)!r}) in the sync twin: "
                    f"{line.strip()}"
                )
    return problems


def _forbidden(path: Path, text: str) -> list[str]:
    problems = _async_prose(path, text)
    for lineno, line in enumerate(text.splitlines(), 1):
        for pattern, what in FORBIDDEN:
            if pattern.search(line):
                problems.append(f"{path}:{lineno}: {what}: {line.strip()}")
        if re.search(r"\b(async|await)\b", line.split("#")[0]) and not line.lstrip().startswith(
            ('"', "'")
        ):
            problems.append(f"{path}:{lineno}: async keyword left in sync code: {line.strip()}")
    return problems


def _ruff(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--config", str(ROOT / "pyproject.toml")],
        check=True,
        capture_output=True,
    )


def generate(workdir: Path) -> dict[str, str]:
    """Generate every sync file under ``workdir``; return {relative path: text}."""
    rules = [unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)]
    out_files: list[Path] = []
    for src, dst in TREES:
        copy_root = workdir / src
        shutil.copytree(ROOT / src, copy_root, ignore=shutil.ignore_patterns("__pycache__"))
        sources = sorted(copy_root.rglob("*.py"))
        unasync.unasync_files([str(p) for p in sources], rules)
        for source in sources:
            rel = source.relative_to(copy_root)
            target = workdir / dst / rel
            target.write_text(
                _postprocess(target.read_text(encoding="utf-8"), f"{src}/{rel.as_posix()}"),
                encoding="utf-8",
            )
            out_files.append(target)
    paths = [str(p) for p in out_files]
    _ruff("check", "--fix-only", "--select", "I,F401", "--quiet", *paths)
    _ruff("format", "--quiet", *paths)
    return {
        str(p.relative_to(workdir).as_posix()): p.read_text(encoding="utf-8") for p in out_files
    }


def committed() -> dict[str, str]:
    """Return {relative path: text} of the sync files in the repository now."""
    files = {}
    for _, dst in TREES:
        for path in sorted((ROOT / dst).rglob("*.py")):
            files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated code is stale")
    args = parser.parse_args(argv)

    problems = [
        f"replacement entry {name!r} matches nothing in the async sources"
        for name in _unused_replacements()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(Path(tmp))
    for rel, text in generated.items():
        problems.extend(_forbidden(Path(rel), text))

    current = committed()
    stale = sorted(
        rel for rel in generated.keys() | current.keys() if generated.get(rel) != current.get(rel)
    )
    if args.check:
        for rel in stale:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.get(rel, "").splitlines(keepends=True),
                    generated.get(rel, "").splitlines(keepends=True),
                    fromfile=f"{rel} (committed)",
                    tofile=f"{rel} (generated)",
                )
            )
        if stale:
            problems.append(
                f"{len(stale)} generated file(s) differ from their async source: "
                "run `nox -s generate` (or python scripts/unasync.py)"
            )
    else:
        for rel in stale:
            path = ROOT / rel
            if rel in generated:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(generated[rel], encoding="utf-8")
            else:
                path.unlink()
        print(f"generated {len(generated)} files, {len(stale)} changed")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
