"""The peer package's TypedDicts (``assistant_ui.types``), checkable with pydantic.

The peer declares them with ``typing.TypedDict``, which pydantic refuses on
Python < 3.12; this rebuilds each one, key for key and type for type, with
``typing_extensions.TypedDict``, and forbids keys they do not declare.
"""

from __future__ import annotations

import typing
from typing import Any, Dict, List, Literal, Union, get_args, get_origin  # noqa: UP035

import assistant_ui.types as peer
import typing_extensions
from pydantic import TypeAdapter

_rebuilt: dict[Any, Any] = {}


def _rebuild(tp: Any) -> Any:
    if typing.is_typeddict(tp):
        if tp not in _rebuilt:
            fields = {k: _rebuild(v) for k, v in typing.get_type_hints(tp).items()}
            new = typing_extensions.TypedDict(tp.__name__, fields, total=tp.__total__)  # type: ignore[operator]
            new.__pydantic_config__ = {"extra": "forbid"}  # type: ignore[attr-defined]
            _rebuilt[tp] = new
        return _rebuilt[tp]
    origin = get_origin(tp)
    if origin is None or origin is Literal:
        return tp
    args = tuple(_rebuild(a) for a in get_args(tp))
    if origin is Union:
        return Union[args]  # noqa: UP007
    if origin is list:
        return List[args[0]]  # noqa: UP006
    if origin is dict:
        return Dict[args[0], args[1]]  # noqa: UP006
    raise TypeError(f"no rebuild for {tp!r}")


MESSAGES = TypeAdapter(List[_rebuild(peer.Message)])  # type: ignore[misc]  # noqa: UP006
COMMANDS = TypeAdapter(List[_rebuild(peer.AssistantTransportCommand)])  # type: ignore[misc]  # noqa: UP006


def assert_messages_conform(messages: Any) -> None:
    """Fail unless ``messages`` is a list of ``assistant_ui.types.Message`` (no extra key)."""
    MESSAGES.validate_python(messages, strict=True)


def assert_commands_conform(commands: Any) -> None:
    """Fail unless ``commands`` is a list of ``assistant_ui.types.AssistantTransportCommand``."""
    COMMANDS.validate_python(commands, strict=True)
