"""A local emulator of the Albert chat API, for tests and demos (extra ``testing``).

``LocalAlbert`` serves it on ``127.0.0.1`` in a background thread; the pytest
plugin gives ``albert_server``, ``albert_client`` and ``async_albert_client``
fixtures; ``albert-chat serve`` runs it from the command line.

Starlette and uvicorn are imported on first use, so ``import albert`` never
pays for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from albert.testing.app import EmulatorApp, create_app
    from albert.testing.faults import FaultInjector
    from albert.testing.server import LocalAlbert
    from albert.testing.store import Store

__all__ = ["EmulatorApp", "FaultInjector", "LocalAlbert", "Store", "create_app"]

_LAZY = {
    "EmulatorApp": "albert.testing.app",
    "create_app": "albert.testing.app",
    "FaultInjector": "albert.testing.faults",
    "LocalAlbert": "albert.testing.server",
    "Store": "albert.testing.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albert.testing' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name in ("starlette", "uvicorn"):
            raise ImportError(
                "the Albert emulator needs the 'testing' extra: pip install 'albert-chat[testing]'"
            ) from exc
        raise
