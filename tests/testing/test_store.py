"""The two stores behave the same, and the SQLite one keeps everything across a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from albert.testing import MemoryStore, SQLiteStore, Store, open_store


def test_put_get_replace_keeps_the_place(store: Store) -> None:
    store.put("session", "a", {"name": "first"})
    store.put("session", "b", {"name": "second"})
    store.put("folder", "f", {"name": "other kind"})
    store.put("session", "a", {"name": "first, renamed"})
    assert store.get("session", "a") == {"name": "first, renamed"}
    assert store.get("session", "missing") is None
    assert store.get("folder", "a") is None
    entries = list(store.scan("session"))
    assert [e.id for e in entries] == ["a", "b"]
    assert entries[0].key < entries[1].key
    assert [e.body["name"] for e in entries] == ["first, renamed", "second"]
    assert store.all("folder") == [{"name": "other kind"}]


def test_reads_are_copies(store: Store) -> None:
    store.put("session", "a", {"tags": ["x"]})
    got = store.get("session", "a")
    assert got is not None
    got["tags"].append("changed")
    next(store.scan("session")).body["tags"].append("changed too")
    assert store.get("session", "a") == {"tags": ["x"]}


def test_children_delete_and_clear(store: Store) -> None:
    for i in range(3):
        store.put("message", f"s1/{i}", {"i": i}, parent="s1")
    store.put("message", "s2/0", {"i": 9}, parent="s2")
    assert [d["i"] for d in store.all("message", parent="s1")] == [0, 1, 2]
    assert store.delete("message", "s1/1") is True
    assert store.delete("message", "s1/1") is False
    assert store.delete_children("message", "s1") == 2
    assert store.all("message") == [{"i": 9}]
    store.clear()
    assert store.all("message") == []


def test_counters(store: Store) -> None:
    assert [store.next_value("seq:a") for _ in range(3)] == [0, 1, 2]
    assert store.next_value("seq:b") == 0
    store.clear()
    assert store.next_value("seq:a") == 0


def test_sqlite_keeps_documents_counters_and_order_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "albert.db"
    first = SQLiteStore(path)
    first.put("session", "b", {"name": "kept"})
    first.put("session", "a", {"name": "kept too"})
    assert first.next_value("sequence:b") == 0
    first.close()
    reopened = SQLiteStore(path)
    assert [e.id for e in reopened.scan("session")] == ["b", "a"]
    assert reopened.get("session", "b") == {"name": "kept"}
    assert reopened.next_value("sequence:b") == 1
    reopened.put("session", "c", {})
    assert [e.id for e in reopened.scan("session")] == ["b", "a", "c"]
    reopened.close()


def test_open_store() -> None:
    assert isinstance(open_store(None), MemoryStore)
    memory_sqlite = open_store(":memory:")
    assert isinstance(memory_sqlite, SQLiteStore)
    memory_sqlite.close()


def test_a_memory_store_stays_readable_after_close() -> None:
    store = MemoryStore()
    store.put("session", "a", {})
    store.close()
    assert store.get("session", "a") == {}


@pytest.mark.parametrize("kind", ["session", "message"])
def test_documents_must_be_json(store: Store, kind: str) -> None:
    with pytest.raises(TypeError):
        store.put(kind, "a", {"when": object()})
