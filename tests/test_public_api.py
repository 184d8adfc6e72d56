"""The public surface: every public module's ``__all__`` against a committed snapshot.

A change to what a public module exports is a change users see. When it is
meant, update the snapshot and commit it with the change:

    ALBERT_UPDATE_PUBLIC_API=1 uv run pytest tests/test_public_api.py

A public module is any module of the package whose dotted path has no part
starting with an underscore (``albert._sync`` and below are private).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import albert

SNAPSHOT = Path(__file__).with_name("public_api.json")
UPDATE = "ALBERT_UPDATE_PUBLIC_API=1 uv run pytest tests/test_public_api.py"


def public_modules() -> list[str]:
    names = ["albert"]
    for info in pkgutil.walk_packages(albert.__path__, "albert."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def exported() -> dict[str, list[str] | None]:
    found: dict[str, list[str] | None] = {}
    for name in public_modules():
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None)
        found[name] = sorted(names) if names is not None else None
    return found


def test_every_public_all_is_the_snapshot() -> None:
    current = exported()
    if os.environ.get("ALBERT_UPDATE_PUBLIC_API"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))

    changes = []
    for module in sorted(current.keys() | recorded.keys()):
        now, then = current.get(module, "(no module)"), recorded.get(module, "(no module)")
        if now == then:
            continue
        if isinstance(now, list) and isinstance(then, list):
            added, removed = sorted(set(now) - set(then)), sorted(set(then) - set(now))
            changes.append(f"{module}: added {added}, removed {removed}")
        else:
            changes.append(f"{module}: {then!r} -> {now!r}")
    assert not changes, (
        "the public API changed:\n  "
        + "\n  ".join(changes)
        + f"\nIf that is meant, update the snapshot and commit it: {UPDATE}"
    )


#: Each public class or function, and the module its ``__module__`` names (its
#: documented import path), where that is not the module that defines it.
PUBLIC_PATHS = {
    "albert": [
        "Albert",
        "AlbertClientCredentials",
        "AlbertPaginator",
        "AlbertSSOClient",
        "AlbertSession",
        "AsyncAlbert",
        "AsyncAlbertPaginator",
        "AsyncAlbertSession",
    ],
    "albert.sync": [
        "ChatFlagCollection",
        "ChatFolderCollection",
        "ChatMessageCollection",
        "ChatSessionCollection",
    ],
    "albert.collections.chat_flags": ["ChatFlagCollection"],
    "albert.collections.chat_folders": ["ChatFolderCollection"],
    "albert.collections.chat_messages": ["ChatMessageCollection"],
    "albert.collections.chat_sessions": ["ChatSessionCollection"],
    "albert.display": ["ExportRenderer", "image_url", "link_url"],
    "albert.testing": ["EmulatorApp", "LocalAlbert", "FaultInjector", "SQLiteStore"],
    "albert.integrations.assistant_ui": [
        "AssistantClient",
        "AsyncAssistantClient",
        "AsyncThreadClient",
        "ThreadClient",
        "asave_thread",
        "save_thread",
    ],
}


@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, names in PUBLIC_PATHS.items() for n in names]
)
def test_public_names_say_their_public_import_path(module: str, name: str) -> None:
    value: Any = getattr(importlib.import_module(module), name)
    assert value.__module__ == module
    assert getattr(importlib.import_module(value.__module__), value.__qualname__) is value


def test_no_public_class_names_a_private_module() -> None:
    private = []
    for name, names in exported().items():
        module = importlib.import_module(name)
        for attribute in names or []:
            value = getattr(module, attribute)
            where = getattr(value, "__module__", None) or ""
            hidden = any(part.startswith("_") for part in where.split("."))
            if isinstance(value, type) and hidden:
                private.append(f"{name}.{attribute} says {where}")
    assert not private


#: Reference entries on a private path, and why (none should be added).
PRIVATE_REFERENCE = {
    # Reached as client.session.token_provider; no public import path yet.
    "albert._async.auth.AsyncTokenProvider",
    "albert._sync.auth.TokenProvider",
}


def test_the_reference_documents_public_import_paths() -> None:
    pages = sorted((SNAPSHOT.parent.parent / "docs" / "reference").glob("*.md"))
    entries = [
        line.removeprefix(":::").strip()
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith(":::")
    ]
    private = [
        entry
        for entry in entries
        if any(part.startswith("_") for part in entry.split(".")) and entry not in PRIVATE_REFERENCE
    ]

    assert len(entries) > 40
    assert not private, f"document these on the path users import them from: {private}"
    assert set(entries) >= PRIVATE_REFERENCE  # an exception that is gone leaves this list
