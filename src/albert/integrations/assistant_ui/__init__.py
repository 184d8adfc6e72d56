"""Back an assistant-ui chat front end with Albert, and drive assistant-ui backends from Python.

- `to_assistant_ui` / `from_assistant_ui`: Albert chat components to
  assistant-ui messages and back.
- `AssistantClient` / `AsyncAssistantClient`: chat with a thread of an
  assistant-ui backend and read the answer as it streams
  (`albert.integrations.assistant_ui.compat` has the peer package's API).
- `save_thread` / `asave_thread`, `load_thread` / `aload_thread`: keep a
  thread as an Albert chat session.

Names are imported on first use. The streaming client reads
assistant-transport streams with httpx-sse: ``pip install 'albert-chat[assistant-ui]'``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from albert._public import publish

if TYPE_CHECKING:
    from albert.integrations.assistant_ui._async.client import (
        AsyncAssistantClient,
        AsyncThreadClient,
    )
    from albert.integrations.assistant_ui._async.history import aload_thread, asave_thread
    from albert.integrations.assistant_ui._async.response import AsyncChatResponse
    from albert.integrations.assistant_ui._sync.client import AssistantClient, ThreadClient
    from albert.integrations.assistant_ui._sync.history import load_thread, save_thread
    from albert.integrations.assistant_ui._sync.response import ChatResponse
    from albert.integrations.assistant_ui.accumulator import MessageAccumulator
    from albert.integrations.assistant_ui.commands import apply_commands, messages_to_commands
    from albert.integrations.assistant_ui.converters import (
        COMPONENT_TOOL_NAMES,
        AssistantUIMessage,
        from_assistant_ui,
        to_assistant_ui,
    )
    from albert.integrations.assistant_ui.events import AssistantEvent
    from albert.integrations.assistant_ui.saving import SavedThread

__all__ = [
    "COMPONENT_TOOL_NAMES",
    "AssistantClient",
    "AssistantEvent",
    "AssistantUIMessage",
    "AsyncAssistantClient",
    "AsyncChatResponse",
    "AsyncThreadClient",
    "ChatResponse",
    "MessageAccumulator",
    "SavedThread",
    "ThreadClient",
    "aload_thread",
    "apply_commands",
    "asave_thread",
    "from_assistant_ui",
    "load_thread",
    "messages_to_commands",
    "save_thread",
    "to_assistant_ui",
]

_PACKAGE = "albert.integrations.assistant_ui"
_LAZY = {
    "AsyncAssistantClient": "._async.client",
    "AsyncThreadClient": "._async.client",
    "AsyncChatResponse": "._async.response",
    "asave_thread": "._async.history",
    "aload_thread": "._async.history",
    "AssistantClient": "._sync.client",
    "ThreadClient": "._sync.client",
    "ChatResponse": "._sync.response",
    "save_thread": "._sync.history",
    "load_thread": "._sync.history",
    "MessageAccumulator": ".accumulator",
    "apply_commands": ".commands",
    "messages_to_commands": ".commands",
    "COMPONENT_TOOL_NAMES": ".converters",
    "AssistantUIMessage": ".converters",
    "from_assistant_ui": ".converters",
    "to_assistant_ui": ".converters",
    "AssistantEvent": ".events",
    "SavedThread": ".saving",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, _PACKAGE), name)
    publish(_PACKAGE, {name: value}, [name])  # help() and reprs name the public path
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
