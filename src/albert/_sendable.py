"""Refusing, before anything is sent, what the API cannot carry or this SDK could not read back.

A value that JSON or UTF-8 cannot carry (NaN, a lone surrogate, bytes that are
not UTF-8) would fail deep inside httpx or pydantic with an error that names
no argument, or worse, be sent as something else (NaN becomes ``null``). A
value nested deeper than the SDK's JSON parser reads would be stored, and
every later listing of its session would fail. Each check here raises a
``ValueError`` (or ``TypeError``) that names the argument and where in it the
problem is, before the request is built.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = [
    "CONTENT_DEPTH",
    "READABLE_JSON_DEPTH",
    "RESOURCE_DEPTH",
    "check_json",
    "check_text",
    "clean_surrogates",
]

#: How deeply nested a JSON document pydantic's parser (jiter) reads: deeper
#: documents fail as a whole ("recursion limit exceeded").
READABLE_JSON_DEPTH = 200
#: The depth a resource may reach, itself counted, so that a listing page
#: holding it (the page object and its ``Items`` list around it) stays readable.
RESOURCE_DEPTH = READABLE_JSON_DEPTH - 2
#: The depth a message's ``content`` may reach (it sits inside the message).
CONTENT_DEPTH = RESOURCE_DEPTH - 1

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Integers up to this many bits have fewer than 640 digits: no limit of
#: ``sys.set_int_max_str_digits`` (at least 640) refuses to write them.
_SHORT_INT_BITS = 2000


def clean_surrogates(text: str) -> str:
    r"""Return ``text`` with every lone surrogate replaced by U+FFFD.

    JSON from JavaScript servers may hold ``"\ud83d"`` alone (an emoji cut
    in two); decoded, it is a character that UTF-8 cannot encode, which fails
    whatever prints or saves it later.

    Parameters
    ----------
    text : str
        A decoded string.

    Returns
    -------
    str
        The same string when it holds no surrogate (the common case, cheap).
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def check_text(value: str, *, name: str) -> str:
    """Return ``value`` if UTF-8 can carry it, else raise.

    Parameters
    ----------
    value : str
        A string about to be sent (an id, a name, a key).
    name : str
        The argument's name, for the message.

    Returns
    -------
    str
        The same string.

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If it holds a lone surrogate.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    found = _SURROGATE.search(value)
    if found is not None:
        raise ValueError(
            f"{name} holds a lone surrogate (U+{ord(found.group()):04X} at index "
            f"{found.start()}), which UTF-8 cannot carry; nothing was sent"
        )
    return value


def check_json(value: Any, *, name: str, max_depth: int) -> None:
    """Raise if ``value`` cannot be sent as JSON, or could not be read back once stored.

    Dicts, lists, tuples and pydantic models (by field) are walked; each
    counts one level of nesting, ``value`` itself included.

    Parameters
    ----------
    value : Any
        What is about to be sent: a model, or a field's value.
    name : str
        The argument's name, the start of the paths in the messages.
    max_depth : int
        The deepest nesting allowed (`RESOURCE_DEPTH` for a resource,
        `CONTENT_DEPTH` for a message's content).

    Raises
    ------
    ValueError
        For NaN or an infinity, an integer too long to write, a string (or
        key) holding a lone surrogate, bytes that are not UTF-8, or nesting
        deeper than ``max_depth``; the
        message names the place (``message.content['rows'][3]``).
    """
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, name=path)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(
                    f"{path} is {item!r}, which JSON cannot carry (the server would get "
                    "null or refuse the body); nothing was sent"
                )
        elif isinstance(item, int) and item.bit_length() > _SHORT_INT_BITS:
            try:
                str(item)  # refused at once past sys.get_int_max_str_digits()
            except ValueError:
                raise ValueError(
                    f"{path} is an integer of more than {sys.get_int_max_str_digits()} "
                    "digits, which this SDK cannot write as JSON; nothing was sent"
                ) from None
        elif isinstance(item, bytes | bytearray):
            try:
                bytes(item).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"{path} holds bytes that are not UTF-8 ({exc.reason} at byte {exc.start}); "
                    "decode them to a string first; nothing was sent"
                ) from None
        elif isinstance(item, Mapping | BaseModel | list | tuple):
            depth += 1
            if depth > max_depth:
                shown = path if len(path) <= 60 else path[:60] + "…"
                raise ValueError(
                    f"{shown} is nested too deeply: {name} may be at most {max_depth} levels "
                    f"deep ({name} itself counted), so that a listing page holding it stays "
                    f"within the {READABLE_JSON_DEPTH} levels this SDK's JSON parser reads; "
                    "once stored, every listing holding it would fail; nothing was sent"
                )
            stack.extend(_children(item, path, depth))


def _children(item: Any, path: str, depth: int) -> list[tuple[Any, str, int]]:
    if isinstance(item, BaseModel):  # its fields, and the extra ones it was given
        return [(field, f"{path}.{key}", depth) for key, field in item]
    if isinstance(item, Mapping):
        children: list[tuple[Any, str, int]] = []
        for key, field in item.items():
            if isinstance(key, str):
                check_text(key, name=f"a key of {path}")
            children.append((field, f"{path}[{key!r}]", depth))
        return children
    return [(field, f"{path}[{index}]", depth) for index, field in enumerate(item)]
