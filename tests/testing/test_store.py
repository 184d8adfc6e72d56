"""The two stores behave the same; the SQLite one keeps everything across a reopen, upgrades."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from albert.testing import EmulatorApp, MemoryStore, SQLiteStore, Store, open_store
from albert.testing.store import NotAnEmulatorDatabase
from tests.testing.helpers import API


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


def test_keys_chosen_by_the_caller_order_a_kind(store: Store) -> None:
    store.put("message", "s/b/001", {"n": 2}, parent="s", order=(7, "001"))
    store.put("message", "s/a/000", {"n": 3}, parent="s", order=(9, "000"))
    store.put("message", "s/b/000", {"n": 1}, parent="s", order=(7, "000"))
    store.put("message", "t/c/000", {"n": 0}, parent="t", order=(8, "000"))
    assert [e.body["n"] for e in store.scan("message", parent="s")] == [1, 2, 3]
    assert [e.key for e in store.scan("message")] == [
        (7, "000"),
        (7, "001"),
        (8, "000"),
        (9, "000"),
    ]
    after = store.scan("message", parent="s", after=(7, "000"))
    assert [e.id for e in after] == ["s/b/001", "s/a/000"]
    start = store.scan("message", parent="s", start=(7, "001"))
    assert [e.id for e in start] == ["s/b/001", "s/a/000"]
    with pytest.raises(ValueError, match="taken"):
        store.put("message", "s/x/000", {}, parent="s", order=(7, "000"))
    assert store.put("message", "s/b/000", {"n": 4}, parent="s") == (7, "000")  # kept
    entry = store.entry("message", "s/b/000")
    assert entry is not None
    assert (entry.key, entry.body) == ((7, "000"), {"n": 4})
    with pytest.raises(ValueError, match="either"):
        list(store.scan("message", after=(1, ""), start=(1, "")))


def test_a_scan_reads_batch_by_batch_and_sees_what_changed_between(store: Store) -> None:
    for i in range(10):
        store.put("session", f"s{i}", {"i": i})
    scan = store.scan("session", batch=3)
    assert [next(scan).body["i"] for _ in range(3)] == [0, 1, 2]
    store.delete("session", "s3")  # not read yet: the next batch starts after s2
    store.put("session", "s4", {"i": 40})
    assert [e.body["i"] for e in scan] == [40, 5, 6, 7, 8, 9]


def test_a_document_can_change_parent(store: Store) -> None:
    store.put("flag", "f", {}, parent="a")
    store.put("flag", "f", {"moved": True}, parent="b")
    assert store.all("flag", parent="a") == []
    assert store.all("flag", parent="b") == [{"moved": True}]
    assert store.delete_children("flag", "b") == 1
    assert store.all("flag") == []


def test_deleting_many_children_keeps_the_others_in_order(store: Store) -> None:
    for i in range(200):
        store.put("message", f"a{i}", {"i": i}, parent="a" if i % 2 else "b")
    assert store.delete_children("message", "a") == 100
    assert [d["i"] for d in store.all("message")] == list(range(0, 200, 2))


def test_a_read_only_store_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "albert.db"
    writer = SQLiteStore(path)
    writer.put("session", "a", {"name": "kept"})
    writer.close()
    before = path.read_bytes()
    reader = SQLiteStore(path, read_only=True)
    try:
        assert reader.read_only
        assert reader.get("session", "a") == {"name": "kept"}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.put("session", "b", {})
    finally:
        reader.close()
    assert path.read_bytes() == before


def test_a_read_only_store_needs_an_emulator_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SQLiteStore(tmp_path / "missing.db", read_only=True)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(NotAnEmulatorDatabase, match="not an albert-chat emulator database"):
        SQLiteStore(empty, read_only=True)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE docs (x)")  # our table's name, not its columns
    db.commit()
    db.close()
    for read_only in (False, True):
        with pytest.raises(NotAnEmulatorDatabase, match="tables docs"):
            SQLiteStore(path, read_only=read_only)


#: The layout, and the documents, albert-chat wrote before per-request sequences.
_LAYOUT_0 = """
CREATE TABLE docs (kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE INDEX docs_by_parent ON docs (kind, parent, position);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def _layout_0(path: Path) -> None:
    at = "2024-05-01T10:00:00.000Z"
    audit = {"createdBy": "usr-local", "createdAt": at, "updatedAt": at}
    session = {"id": "ses-1", "name": "Old", "sourceSessionId": "src", "parentId": None}
    docs: list[tuple[str, str, str, int, dict[str, Any]]] = [
        ("setting", "token", "", 0, {"value": "old-token"}),
        ("session", "ses-1", "", 1, {**session, **audit, "updatedBy": "usr-local"}),
    ]
    for position, (srid, sequence) in enumerate([("q1", "000"), ("q2", "001"), ("q1", "002")]):
        message = {
            "sourceRequestId": srid,
            "componentType": "text",
            "userType": "user",
            "role": "user",
            "Content": f"{srid}@{sequence}",
            "id": f"msg-{position}",
            "parentId": "ses-1",
            "sequence": sequence,
            **audit,
        }
        docs.append(("message", f"ses-1/msg-{position}", "ses-1", 2 + position, message))
    flag = {"sourceRequestId": "q2", "id": "msg-1", "parentId": "ses-1", "type": "starred"}
    docs.append(("flag", "msg-1/starred", "ses-1", 5, {**flag, "sequence": "001", "starred": True}))
    db = sqlite3.connect(path)
    db.executescript(_LAYOUT_0)
    db.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
        [(kind, i, parent, pos, json.dumps(body)) for kind, i, parent, pos, body in docs],
    )
    db.execute("INSERT INTO counters VALUES ('__position__', 5), ('sequence:ses-1', 2)")
    db.commit()
    db.close()


async def test_a_file_of_the_older_layout_is_upgraded_when_served(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _layout_0(path)
    with pytest.raises(NotAnEmulatorDatabase, match="serve it once"):
        SQLiteStore(path, read_only=True)  # reading only cannot upgrade it
    emulator = EmulatorApp(db_path=path)
    try:
        assert emulator.token == "old-token"
        transport = httpx.ASGITransport(app=emulator)
        headers = {"Authorization": "Bearer old-token"}
        async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as http:
            listed = (await http.get("/chats/sessions/ses-1/messages")).json()["Items"]
            # by request (q1 came first), then by sequence
            assert [m["Content"] for m in listed] == ["q1@000", "q1@002", "q2@001"]
            assert listed[0]["Created"] == {"by": "usr-local", "at": "2024-05-01T10:00:00.000Z"}
            got = await http.get("/chats/sessions/ses-1/messages/q2", params={"sequence": "001"})
            assert got.json()["id"] == "msg-1"
            flags = await http.get("/chats/sessions/ses-1/messages/q2/flag")
            assert flags.json()["flags"] == ["starred"]
            session = (await http.get("/chats/sessions/source/src")).json()
            assert (session["kind"], session["status"]) == ("chat", "active")
    finally:
        emulator.close()
    reader = SQLiteStore(path, read_only=True)  # upgraded: now it can be read as it is
    reader.close()
