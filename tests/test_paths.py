"""Every id reaches the endpoint it names: one percent-encoded path segment, never another path."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albert import Albert
from albert.core.urls import path_segment

BASE = "https://albert.test"
SESSIONS = "/api/v3/chats/sessions/"


def _client(seen: list[httpx.Request]) -> Albert:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"name": "n", "sourceSessionId": "s"})

    return Albert(
        base_url=BASE, token="t", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )


@pytest.mark.parametrize(
    ("id", "raw_path"),
    [
        ("../folders/x", "/api/v3/chats/sessions/..%2Ffolders%2Fx"),
        ("a/b", "/api/v3/chats/sessions/a%2Fb"),
        ("?x=1", "/api/v3/chats/sessions/%3Fx%3D1"),
        ("#frag", "/api/v3/chats/sessions/%23frag"),
        ("with space", "/api/v3/chats/sessions/with%20space"),
        ("résumé", "/api/v3/chats/sessions/r%C3%A9sum%C3%A9"),
        ("...", "/api/v3/chats/sessions/..."),
        ("..x", "/api/v3/chats/sessions/..x"),
        ("%2F", "/api/v3/chats/sessions/%252F"),
    ],
)
def test_hostile_ids_reach_the_intended_endpoint(id: str, raw_path: str) -> None:
    seen: list[httpx.Request] = []
    with _client(seen) as client:
        client.chat_sessions.get_by_id(id=id)
    assert seen[0].url.raw_path.decode() == raw_path
    assert seen[0].url.query == b""


def test_ids_in_nested_paths_and_queries() -> None:
    seen: list[httpx.Request] = []
    with _client(seen) as client:
        client.chat_flags.get_by_message(session_id="a/b", source_request_id="../x", sequence="0&1")
    assert (
        seen[0].url.raw_path == b"/api/v3/chats/sessions/a%2Fb/messages/..%2Fx/flag?sequence=0%261"
    )


@pytest.mark.parametrize("bad", ["", None, 5, ".", ".."])
def test_empty_or_non_string_ids_are_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        path_segment(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("dots", [".", ".."])
def test_dot_ids_are_refused_before_anything_is_sent(dots: str) -> None:
    seen: list[httpx.Request] = []
    with _client(seen) as client, pytest.raises(ValueError, match="another path"):
        client.chat_sessions.get_by_id(id=dots)
    assert seen == []


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1).filter(
        lambda text: text not in (".", "..")
    )
)
def test_any_id_arrives_as_one_segment_that_decodes_back(id: str) -> None:
    seen: list[httpx.Request] = []
    with _client(seen) as client:
        client.chat_sessions.get_by_id(id=id)
    raw = seen[0].url.raw_path.decode("ascii")
    assert raw.startswith(SESSIONS)
    segment = raw[len(SESSIONS) :]
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert unquote(segment) == id
