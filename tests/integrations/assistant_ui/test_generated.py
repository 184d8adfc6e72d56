"""The integration's sync twin: every async public method has one, with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from albert.integrations.assistant_ui._async import client as async_client
from albert.integrations.assistant_ui._async import history as async_history
from albert.integrations.assistant_ui._async import response as async_response
from albert.integrations.assistant_ui._sync import client as sync_client
from albert.integrations.assistant_ui._sync import history as sync_history
from albert.integrations.assistant_ui._sync import response as sync_response

PAIRS = [
    (async_client.AsyncAssistantClient, sync_client.AssistantClient),
    (async_client.AsyncThreadClient, sync_client.ThreadClient),
    (async_response.AsyncChatResponse, sync_response.ChatResponse),
]
METHODS = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}
METHODS |= {"__aiter__": "__iter__", "__anext__": "__next__"}


def _parameters(function: object) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]  # type: ignore[arg-type]


@pytest.mark.parametrize(("async_cls", "sync_cls"), PAIRS, ids=lambda c: c.__name__)
def test_every_public_method_has_a_blocking_twin(async_cls: type, sync_cls: type) -> None:
    for name, method in inspect.getmembers(async_cls, callable):
        if (name.startswith("_") and name not in METHODS) or name in dir(object):
            continue
        twin = getattr(sync_cls, METHODS.get(name, name))
        assert _parameters(method) == _parameters(twin), name
        assert not inspect.iscoroutinefunction(twin), name


def test_the_thread_functions_have_twins_named_without_the_a() -> None:
    for async_fn, sync_fn in [
        (async_history.asave_thread, sync_history.save_thread),
        (async_history.aload_thread, sync_history.load_thread),
    ]:
        assert inspect.iscoroutinefunction(async_fn)
        assert not inspect.iscoroutinefunction(sync_fn)
        assert _parameters(async_fn) == _parameters(sync_fn)
