"""A page of a listing reads what it answers, not the whole session (issue 17, finding 4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from albert.testing import EmulatorApp
from albert.testing import store as store_module
from tests.testing.helpers import new_message, new_session


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the documents the store decodes (every copy it hands out is one)."""
    count = [0]
    load = store_module._load

    def counting(text: str) -> dict[str, Any]:
        count[0] += 1
        return load(text)

    monkeypatch.setattr(store_module, "_load", counting)
    return count


async def test_a_page_reads_one_item_more_than_it_answers(
    emulator: EmulatorApp, http: httpx.AsyncClient, decoded: list[int]
) -> None:
    emulator.page_size = 10
    sid = (await new_session(http))["id"]
    for i in range(300):
        await new_message(http, sid, f"r{i // 3}", f"m{i}", sequence=f"{i % 3:03d}")
    first = (await http.get(f"/chats/sessions/{sid}/messages")).json()
    key = first["lastKey"]
    for _ in range(14):  # to the middle of the session
        key = (await http.get(f"/chats/sessions/{sid}/messages", params={"startKey": key})).json()[
            "lastKey"
        ]
    decoded[0] = 0
    page = (await http.get(f"/chats/sessions/{sid}/messages", params={"startKey": key})).json()
    assert [m["Content"] for m in page["Items"]] == [f"m{i}" for i in range(150, 160)]
    # the session (it must exist), then the page and the one item after it
    assert decoded[0] <= 1 + emulator.page_size + 1


async def test_a_filtered_page_stops_once_it_is_full(
    emulator: EmulatorApp, http: httpx.AsyncClient, decoded: list[int]
) -> None:
    for i in range(200):
        await new_session(http, "wanted" if i % 2 else "other")
    decoded[0] = 0
    page = await http.get("/chats/sessions", params={"name": "wanted", "exactMatch": "true"})
    assert len(page.json()["Items"]) == emulator.page_size
    assert decoded[0] <= 2 * (emulator.page_size + 1) + 1  # every other one matches


async def test_a_lookup_reads_the_message_it_names(
    http: httpx.AsyncClient, decoded: list[int]
) -> None:
    sid = (await new_session(http))["id"]
    for i in range(200):
        await new_message(http, sid, f"r{i}", f"m{i}")
    decoded[0] = 0
    got = await http.get(f"/chats/sessions/{sid}/messages/r150", params={"sequence": "000"})
    assert got.json()["Content"] == "m150"
    assert decoded[0] <= 3  # the session and the message (and nothing per message)
