"""Helpers to read what reached the mocked API."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

BASE_URL = "https://albert.test"
TOKEN = "tok-SECRET-0123456789"
SESSIONS = "/api/v3/chats/sessions"


def sent(route: respx.Route, index: int = -1) -> httpx.Request:
    """Return a request the route received (the last by default)."""
    return route.calls[index].request


def body(request: httpx.Request) -> Any:
    """Return the JSON body of a request."""
    return json.loads(request.content)


def query(request: httpx.Request) -> list[tuple[str, str]]:
    """Return the query of a request as (name, value) pairs, in order."""
    return list(request.url.params.multi_items())


def assert_authorized(request: httpx.Request) -> None:
    """Assert that the request carried the bearer token and the JSON headers."""
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("albert-chat-python/")


MESSAGES = "/api/v3/chats/sessions/ses-1/messages"
FOLDERS = "/api/v3/chats/folders"
FLAGS = "/api/v3/chats/flags"
