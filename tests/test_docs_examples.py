"""Every Python example of README.md and docs/**/*.md, run against the emulator.

The reference pages' examples too: those of the docstrings each ``:::`` entry
renders (the object's, and its public members'), doctest (``>>>``) or
literal (``::``) blocks that are Python.

The blocks of a page run in order, in one namespace, as a reader goes down the
page, against a fresh emulator filled with the sample conversations of
``examples/seed_emulator.py`` (``ALBERT_BASE_URL`` and ``ALBERT_TOKEN`` point
at it), in a temporary working directory. What a fragment leaves out is
given: ``client`` (an `Albert`, or an `AsyncAlbert` in a block that awaits),
``sid`` (a seeded session with messages), ``folder_id``, the names it uses
without importing them (`NAMES`), and ``handle`` / ``is_the_one`` /
``messages`` (new messages to save) stand-ins. Placeholders become the
emulator's: ``token="..."``, ``token=...`` and ``"eyJ..."`` its token,
``base_url=...`` its URL, ``client_id="..."`` / ``client_secret="..."`` its client credentials,
``https://app.albertinvent.com`` its URL. A block that defines pytest tests
runs under pytest, with the albert plugin's fixtures.

Only a block that needs what a test cannot have (a real server, a browser)
is skipped, in `SKIP`, with the reason.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Any

# Imported before any test here: `pytester` restores sys.modules when a test
# ends, so a library first imported inside one (aiohttp, yarl) would be imported
# afresh by the next while the SDK's transport still holds the old one.
import aiohttp  # noqa: F401
import httpx
import pytest
import yarl  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: (page, a line of the block) -> why it cannot run here.
SKIP = {
    ("docs/guide/authentication.md", "sso.authenticate()"): (
        "opens the Albert login page in a browser and waits for the user"
    ),
    ("docs/reference/auth.md", "sso.authenticate()"): (
        "opens the Albert login page in a browser and waits for the user"
    ),
    ("docs/reference/assistant-ui.md", "chat(commands=[...])"): (
        "a fragment: [...] stands for the caller's commands and localhost:8000 for their "
        "backend (the guide's whole example, on the emulator's backend, runs)"
    ),
}

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S
)


@dataclass(frozen=True)
class Block:
    """One fenced Python block of a page."""

    page: str
    line: int
    code: str
    #: For a reference page: the documented object whose docstring holds the block.
    origin: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}" if not self.origin else f"{self.page} ({self.origin})"

    @property
    def skip_reason(self) -> str | None:
        return next(
            (why for (page, text), why in SKIP.items() if page == self.page and text in self.code),
            None,
        )

    @property
    def is_async(self) -> bool:
        try:
            compile(self.code, self.page, "exec")
        except SyntaxError:
            return True  # top-level await / async with / async for (a real one fails again)
        return False

    @property
    def defines_tests(self) -> bool:
        return bool(re.search(r"^def test_\w+\(", self.code, re.M))


def blocks_of(page: Path) -> list[Block]:
    if page.parent.name == "reference":
        return reference_blocks(page)
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if match["lang"] not in ("python", "py"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page.relative_to(ROOT).as_posix(), line, textwrap.dedent(match["body"])))
    return found


# ---- the reference: the examples of the docstrings it renders ----------------------------


def _resolve(entry: str) -> Any:
    """Import what a ``::: entry`` line names (a module, or a name in one)."""
    import importlib

    parts = entry.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            value = getattr(value, name)
        return value
    raise ImportError(entry)


def _rendered(value: Any, name: str) -> Iterator[tuple[str, Any]]:
    """Yield (name, object) of what the reference shows for ``value``: it, and its members."""
    yield name, value
    if inspect.ismodule(value):
        members = getattr(value, "__all__", None) or [
            n for n, v in vars(value).items() if getattr(v, "__module__", None) == value.__name__
        ]
        for member in members:
            if not member.startswith("_"):
                yield from _rendered(getattr(value, member), f"{name}.{member}")
    elif inspect.isclass(value):
        for member, attribute in vars(value).items():
            if not member.startswith("_") and isinstance(
                attribute, (FunctionType, property, classmethod, staticmethod)
            ):
                yield f"{name}.{member}", attribute


def _is_python(code: str) -> bool:
    try:
        compile(code, "<example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return False  # a diagram, a shell line: not an example to run
    return True


def docstring_examples(doc: str) -> list[str]:
    """Return the Python examples of a docstring: its doctest and its ``::`` blocks."""
    lines = inspect.cleandoc(doc).splitlines()
    found, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(">>>"):
            indent = len(line) - len(line.lstrip())
            code = []
            while index < len(lines) and lines[index][indent:].startswith((">>>", "...")):
                code.append(lines[index][indent + 4 :])
                index += 1
            found.append("\n".join(code) + "\n")
            continue
        if line.rstrip().endswith("::"):
            indent = len(line) - len(line.lstrip())
            index += 1
            body = []
            while index < len(lines) and (
                not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                body.append(lines[index])
                index += 1
            found.append(textwrap.dedent("\n".join(body)).strip() + "\n")
            continue
        index += 1
    return [code for code in found if code.strip() and _is_python(code)]


def reference_blocks(page: Path) -> list[Block]:
    """The examples of the docstrings that the ``:::`` entries of a reference page render."""
    where = page.relative_to(ROOT).as_posix()
    found, seen = [], set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if not line.startswith(":::"):
            continue
        entry = line.removeprefix(":::").strip()
        for name, value in _rendered(_resolve(entry), entry):
            # Its own docstring, as the reference shows it (not one inherited).
            doc = (value.fget if isinstance(value, property) else value).__doc__
            if not doc or id(value) in seen:
                continue
            seen.add(id(value))
            found.extend(Block(where, 0, code, name) for code in docstring_examples(doc))
    return found


PAGES_WITH_CODE = [page for page in PAGES if blocks_of(page)]


def test_every_skip_still_names_a_block() -> None:
    blocks = [block for page in PAGES for block in blocks_of(page)]
    for page, text in SKIP:
        assert any(b.page == page and text in b.code for b in blocks), (page, text)


# ---- the page's world: an emulator with conversations -----------------------------------


def _seed_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "seed_emulator", ROOT / "examples" / "seed_emulator.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from albert.testing import LocalAlbert

    with LocalAlbert(
        page_size=5,
        token="docs-token",
        client_credentials={"docs-client": "docs-secret"},
        sso_emails=["ada@example.com"],
    ) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        with server.client() as client:
            folder_id, sessions = _seed_module().seed(client)
        yield {"server": server, "sid": sessions[0], "folder_id": folder_id}


def _names() -> dict[str, Any]:
    from pydantic import SecretStr

    from albert import Albert, AlbertClientCredentials, AlbertSSOClient, AsyncAlbert
    from albert.resources.chats import (
        ChatComponentType,
        ChatFlagType,
        ChatFolder,
        ChatMessage,
        ChatSession,
    )
    from albert.testing import FaultInjector, LocalAlbert

    return {
        "Albert": Albert,
        "AlbertClientCredentials": AlbertClientCredentials,
        "AlbertSSOClient": AlbertSSOClient,
        "FaultInjector": FaultInjector,
        "SecretStr": SecretStr,
        "AsyncAlbert": AsyncAlbert,
        "ChatComponentType": ChatComponentType,
        "ChatFlagType": ChatFlagType,
        "ChatFolder": ChatFolder,
        "ChatMessage": ChatMessage,
        "ChatSession": ChatSession,
        "LocalAlbert": LocalAlbert,
        "httpx": httpx,
        "pytest": pytest,
    }


def _placeholders(code: str, server: Any) -> str:
    [(client_id, secret)] = server.client_credentials.items()
    code = code.replace("https://app.albertinvent.com", server.base_url)
    code = re.sub(r'token="(\.\.\.|eyJ\.\.\.)"', f'token="{server.token}"', code)
    code = re.sub(r"\btoken=\.\.\.", f'token="{server.token}"', code)
    code = re.sub(r"\bbase_url=\.\.\.", f'base_url="{server.base_url}"', code)
    code = code.replace('client_id="..."', f'client_id="{client_id}"')
    return code.replace('client_secret="..."', f'client_secret="{secret}"')


def _close_left_open(namespace: dict[str, Any]) -> None:
    from albert import Albert, AsyncAlbert

    for value in list(namespace.values()):
        if isinstance(value, Albert):
            value.close()
        elif isinstance(value, AsyncAlbert):
            asyncio.run(value.aclose())


async def _aclose_left_open(namespace: dict[str, Any]) -> None:
    from albert import AsyncAlbert

    for value in list(namespace.values()):
        if isinstance(value, AsyncAlbert):
            await value.aclose()


def _run_async(block: Block, code: str, namespace: dict[str, Any], server: Any) -> None:
    compiled = compile(code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def main() -> None:
        namespace["client"] = server.async_client()
        try:
            result = eval(compiled, namespace)
            if inspect.iscoroutine(result):
                await result
        finally:
            await _aclose_left_open(namespace)

    asyncio.run(main())


def _run_tests(block: Block, code: str, pytester: pytest.Pytester, server: Any) -> None:
    pytester.makepyfile(**{f"test_{Path(block.page).stem}_{block.line}": code})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert not outcomes.get("failed"), result.stdout.str()
    assert not outcomes.get("errors"), result.stdout.str()


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_examples_of_a_page_run(
    page: Path, world: dict[str, Any], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albert.resources.chats import ChatMessage

    server = world["server"]
    monkeypatch.chdir(pytester.path)
    namespace: dict[str, Any] = {
        "__name__": "__docs__",
        **_names(),
        "sid": world["sid"],
        "session_id": world["sid"],
        "folder_id": world["folder_id"],
        "handle": lambda items: None,
        "is_the_one": lambda message: message.sequence == "001",
        "messages": [
            ChatMessage(
                parent_id=world["sid"], component_type="text", user_type="user", role="user",
                content=f"note {n}",
            )
            for n in range(3)
        ],
    }  # fmt: skip
    ran = 0
    for block in blocks_of(page):
        if block.skip_reason:
            continue
        code = _placeholders(block.code, server)
        where = block.where
        try:
            if block.defines_tests:
                _run_tests(block, code, pytester, server)
            elif block.is_async:
                _run_async(block, code, namespace, server)
            else:
                namespace["client"] = server.client()
                try:
                    exec(compile(code, where, "exec"), namespace)
                finally:
                    _close_left_open(namespace)
        except Exception as exc:
            raise AssertionError(f"the example at {where} failed: {exc!r}\n{block.code}") from exc
        ran += 1
    assert ran, f"every block of {page} is skipped"
