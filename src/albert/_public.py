"""The public import path of each public name, set as its ``__module__`` (as httpx does).

Help, reprs and tracebacks then name ``albert.AsyncAlbert``, not the module that
happens to define it (``albert._async.client``); a name's defining module is an
implementation detail that may move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import FunctionType
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class or function in ``names`` to ``module``.

    Parameters
    ----------
    module : str
        The public module the names are documented under (``"albert"``).
    namespace : Mapping[str, Any]
        Where to find them (that module's globals).
    names : Iterable[str]
        The names; constants and modules are left alone.
    """
    for name in names:
        value = namespace[name]
        if isinstance(value, (type, FunctionType)):  # not aliases such as dict[str, Any]
            value.__module__ = module
