"""A local emulator of the Albert chat API, for tests and demos (extra ``testing``).

``LocalAlbert`` serves it on ``127.0.0.1`` in a background thread; the pytest
plugin (`albert.testing.pytest_plugin`) gives the ``albert_server``,
``albert_client`` and ``async_albert_client`` fixtures; ``albert-chat serve``
runs it from a shell.

The modules, one job each: `albert.testing.app` (the ASGI app and its
routes), `albert.testing.store` (memory and SQLite storage, ordered and
indexed), `albert.testing.credentials` (who gets in),
`albert.testing.faults` (fault injection), `albert.testing.server`
(`LocalAlbert`), `albert.testing.pytest_plugin` (the fixtures) and
`albert.testing.assistant_backend` (a scripted assistant-ui backend); what a
request may send is read in `albert.testing._input`, what the documents hold
is checked in `albert.testing._documents`.

Starlette and uvicorn are imported on first use of a name that needs them,
so ``import albert`` never pays for them; without them (``pip install
'albert-chat[testing]'``) that first use raises an ``ImportError`` that says so.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from albert.testing._extra import missing_extra

if TYPE_CHECKING:
    from albert.testing.app import EmulatorApp, create_app
    from albert.testing.faults import Fault, FaultInjector
    from albert.testing.server import LocalAlbert
    from albert.testing.store import (
        MemoryStore,
        NotAnEmulatorDatabase,
        SQLiteStore,
        Store,
        open_store,
    )

__all__ = [
    "EmulatorApp",
    "Fault",
    "FaultInjector",
    "LocalAlbert",
    "MemoryStore",
    "NotAnEmulatorDatabase",
    "SQLiteStore",
    "Store",
    "create_app",
    "open_store",
]

_LAZY = {
    "EmulatorApp": "albert.testing.app",
    "create_app": "albert.testing.app",
    "Fault": "albert.testing.faults",
    "FaultInjector": "albert.testing.faults",
    "LocalAlbert": "albert.testing.server",
    "MemoryStore": "albert.testing.store",
    "NotAnEmulatorDatabase": "albert.testing.store",
    "SQLiteStore": "albert.testing.store",
    "Store": "albert.testing.store",
    "open_store": "albert.testing.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albert.testing' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        error = missing_extra(exc)
        if error is None:
            raise
        raise error from exc
    value.__module__ = "albert.testing"  # its public path (see albert._public)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
