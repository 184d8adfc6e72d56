"""Rewriting every string of decoded JSON (keys too), without recursion and with a depth bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["JSONTooDeepError", "map_strings"]


class JSONTooDeepError(ValueError):
    """Decoded JSON nested deeper than the walk was allowed to go."""


def map_strings(value: Any, func: Callable[[str], str], *, max_depth: int) -> Any:
    """Return a copy of decoded JSON with ``func`` applied to every string, dict keys included.

    The walk uses a stack of its own, not recursion, so a body nested as
    deeply as ``json.loads`` reads (about a thousand levels) cannot raise
    ``RecursionError`` here.

    Parameters
    ----------
    value : Any
        What ``json.loads`` returned: dicts, lists, strings, numbers, booleans, ``None``.
    func : Callable[[str], str]
        Applied to each string (a redaction, the repair of lone surrogates).
    max_depth : int
        The deepest nesting allowed, ``value`` itself counted as one level
        when it is a dict or a list.

    Returns
    -------
    Any
        The new value; lists keep their order.

    Raises
    ------
    JSONTooDeepError
        If ``value`` is nested deeper than ``max_depth``.
    """
    if isinstance(value, str):
        return func(value)
    if not isinstance(value, dict | list):
        return value
    root: dict[str, Any] | list[Any] = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        source, target, depth = stack.pop()
        if depth > max_depth:
            raise JSONTooDeepError(f"JSON nested more than {max_depth} levels deep")
        if isinstance(source, dict):
            for key, item in source.items():
                target[func(key) if isinstance(key, str) else key] = _copy(item, func, stack, depth)
        else:
            target.extend(_copy(item, func, stack, depth) for item in source)
    return root


def _copy(item: Any, func: Callable[[str], str], stack: list[Any], depth: int) -> Any:
    # A container becomes an empty one, filled when the stack reaches it.
    if isinstance(item, str):
        return func(item)
    if isinstance(item, dict):
        child: dict[str, Any] = {}
        stack.append((item, child, depth + 1))
        return child
    if isinstance(item, list):
        children: list[Any] = []
        stack.append((item, children, depth + 1))
        return children
    return item
