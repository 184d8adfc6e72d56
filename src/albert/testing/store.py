"""The emulator's storage: JSON documents by kind, in memory or in a SQLite file.

`Store` is the small interface the app talks to; `MemoryStore` keeps
everything for the life of the process, `SQLiteStore` keeps it in a file
(stdlib ``sqlite3``) so that a restarted emulator loses nothing. Both hold
documents as JSON text, so what a handler reads back is always a fresh copy
that it may change freely, and both keep documents in insertion order.
"""

from __future__ import annotations

import abc
import json
import os
import sqlite3
import threading
from typing import Any, NamedTuple

__all__ = ["Doc", "Entry", "MemoryStore", "SQLiteStore", "Store", "open_store"]

#: A stored document: a JSON object.
Doc = dict[str, Any]


class Entry(NamedTuple):
    """A stored document and where it stands.

    Attributes
    ----------
    key : int
        Its position: increasing with insertion across the whole store and kept
        when the document is replaced, so listings are stable and pagination
        keys survive deletions.
    id : str
        Its id within its kind.
    body : Doc
        The document (a fresh copy).
    """

    key: int
    id: str
    body: Doc


class Store(abc.ABC):
    """Documents by kind (``session``, ``message``, ``folder``, ``flag``, ...), in insertion order.

    Implementations are thread-safe: the server runs on one thread, tests read
    from another.
    """

    @abc.abstractmethod
    def next_value(self, counter: str) -> int:
        """Return the next value (0, 1, 2, ...) of a named counter.

        Parameters
        ----------
        counter : str
            The counter's name, e.g. ``"sequence:<session id>"``.

        Returns
        -------
        int
            0 the first time, then one more on every call.
        """

    @abc.abstractmethod
    def put(self, kind: str, id: str, body: Doc, *, parent: str = "") -> None:
        """Insert or replace a document; a new one goes last, a replaced one keeps its place.

        Parameters
        ----------
        kind : str
            The kind of document.
        id : str
            Its id within the kind.
        body : Doc
            The document; it must be JSON-serializable.
        parent : str, optional
            The id of what it belongs to (a session for a message), for
            `scan` and `delete_children`.
        """

    @abc.abstractmethod
    def get(self, kind: str, id: str) -> Doc | None:
        """Return a document, or ``None`` if there is none.

        Parameters
        ----------
        kind : str
            The kind of document.
        id : str
            Its id.

        Returns
        -------
        Doc | None
            A fresh copy of the document.
        """

    @abc.abstractmethod
    def delete(self, kind: str, id: str) -> bool:
        """Delete a document.

        Parameters
        ----------
        kind : str
            The kind of document.
        id : str
            Its id.

        Returns
        -------
        bool
            Whether it existed.
        """

    @abc.abstractmethod
    def delete_children(self, kind: str, parent: str) -> int:
        """Delete every document of a kind that belongs to ``parent``.

        Parameters
        ----------
        kind : str
            The kind of document.
        parent : str
            The parent id they were put with.

        Returns
        -------
        int
            How many were deleted.
        """

    @abc.abstractmethod
    def scan(self, kind: str, *, parent: str | None = None) -> list[Entry]:
        """Return the documents of a kind (of one parent), oldest first.

        Parameters
        ----------
        kind : str
            The kind of document.
        parent : str | None, optional
            Only those put with this parent; ``None`` for all.

        Returns
        -------
        list[Entry]
            The documents with their keys, in insertion order.
        """

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every document and reset every counter."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the storage; the store is not used afterwards."""

    def all(self, kind: str, *, parent: str | None = None) -> list[Doc]:
        """Return the documents of a kind (of one parent), oldest first, without their keys.

        Parameters
        ----------
        kind : str
            The kind of document.
        parent : str | None, optional
            Only those put with this parent; ``None`` for all.

        Returns
        -------
        list[Doc]
            The documents.
        """
        return [entry.body for entry in self.scan(kind, parent=parent)]


def _load(text: str) -> Doc:
    value = json.loads(text)
    if not isinstance(value, dict):  # pragma: no cover - only objects are ever put
        raise TypeError("a stored document is not a JSON object")
    return value


class MemoryStore(Store):
    """A `Store` that lives as long as the process (the default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (kind, id) -> (key, parent, JSON text); dicts keep insertion order
        self._docs: dict[tuple[str, str], tuple[int, str, str]] = {}
        self._counters: dict[str, int] = {}
        self._next_key = 0

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._docs)} documents)"

    def next_value(self, counter: str) -> int:
        """Return the next value of a named counter (see `Store.next_value`)."""
        with self._lock:
            value = self._counters.get(counter, -1) + 1
            self._counters[counter] = value
            return value

    def put(self, kind: str, id: str, body: Doc, *, parent: str = "") -> None:
        """Insert or replace a document (see `Store.put`)."""
        text = json.dumps(body)
        with self._lock:
            existing = self._docs.get((kind, id))
            if existing is None:
                key, self._next_key = self._next_key, self._next_key + 1
            else:
                key = existing[0]
            self._docs[(kind, id)] = (key, parent, text)

    def get(self, kind: str, id: str) -> Doc | None:
        """Return a document, or ``None`` (see `Store.get`)."""
        with self._lock:
            found = self._docs.get((kind, id))
        return None if found is None else _load(found[2])

    def delete(self, kind: str, id: str) -> bool:
        """Delete a document; return whether it existed (see `Store.delete`)."""
        with self._lock:
            return self._docs.pop((kind, id), None) is not None

    def delete_children(self, kind: str, parent: str) -> int:
        """Delete the documents of a kind under a parent (see `Store.delete_children`)."""
        with self._lock:
            doomed = [k for k, (_, p, _) in self._docs.items() if k[0] == kind and p == parent]
            for k in doomed:
                del self._docs[k]
        return len(doomed)

    def scan(self, kind: str, *, parent: str | None = None) -> list[Entry]:
        """Return the documents of a kind, oldest first (see `Store.scan`)."""
        with self._lock:
            rows = [
                (key, doc_id, text)
                for (doc_kind, doc_id), (key, doc_parent, text) in self._docs.items()
                if doc_kind == kind and (parent is None or doc_parent == parent)
            ]
        rows.sort(key=lambda row: row[0])
        return [Entry(key, doc_id, _load(text)) for key, doc_id, text in rows]

    def clear(self) -> None:
        """Delete every document and reset every counter."""
        with self._lock:
            self._docs.clear()
            self._counters.clear()
            self._next_key = 0

    def close(self) -> None:
        """Do nothing: there is nothing to release, and the documents stay readable."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_by_parent ON docs (kind, parent, position);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

#: The counter behind `Entry.key`.
_POSITION = "__position__"


class SQLiteStore(Store):
    """A `Store` in a SQLite database: a file keeps everything across restarts.

    Parameters
    ----------
    path : str | os.PathLike[str]
        The database file (created if missing), or ``":memory:"``.

    Notes
    -----
    One connection behind a lock, in autocommit mode: every write is on disk
    when the call returns. A file database uses write-ahead logging, so
    another process (``albert-chat export --local --db ...``) can read it
    while an emulator serves it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _next(self, counter: str) -> int:
        # Callers hold the lock, and this is the only connection: read-then-write is atomic.
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (counter,)).fetchone()
        value = 0 if row is None else int(row[0]) + 1
        self._db.execute(
            "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (counter, value)
        )
        return value

    def next_value(self, counter: str) -> int:
        """Return the next value of a named counter (see `Store.next_value`)."""
        with self._lock:
            return self._next(counter)

    def put(self, kind: str, id: str, body: Doc, *, parent: str = "") -> None:
        """Insert or replace a document (see `Store.put`)."""
        text = json.dumps(body)
        with self._lock:
            updated = self._db.execute(
                "UPDATE docs SET parent = ?, body = ? WHERE kind = ? AND id = ?",
                (parent, text, kind, id),
            )
            if updated.rowcount == 0:
                self._db.execute(
                    "INSERT INTO docs (kind, id, parent, position, body) VALUES (?, ?, ?, ?, ?)",
                    (kind, id, parent, self._next(_POSITION), text),
                )

    def get(self, kind: str, id: str) -> Doc | None:
        """Return a document, or ``None`` (see `Store.get`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
        return None if row is None else _load(row[0])

    def delete(self, kind: str, id: str) -> bool:
        """Delete a document; return whether it existed (see `Store.delete`)."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, id))
        return cursor.rowcount > 0

    def delete_children(self, kind: str, parent: str) -> int:
        """Delete the documents of a kind under a parent (see `Store.delete_children`)."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM docs WHERE kind = ? AND parent = ?", (kind, parent)
            )
        return cursor.rowcount

    def scan(self, kind: str, *, parent: str | None = None) -> list[Entry]:
        """Return the documents of a kind, oldest first (see `Store.scan`)."""
        query = "SELECT position, id, body FROM docs WHERE kind = ?"
        args: tuple[str, ...] = (kind,)
        if parent is not None:
            query += " AND parent = ?"
            args = (kind, parent)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY position", args).fetchall()
        return [Entry(int(position), doc_id, _load(body)) for position, doc_id, body in rows]

    def clear(self) -> None:
        """Delete every document and reset every counter."""
        with self._lock:
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM counters")

    def close(self) -> None:
        """Release the storage."""
        with self._lock:
            self._db.close()


def open_store(db_path: str | os.PathLike[str] | None = None) -> Store:
    """Return the store for a ``db_path`` option.

    Parameters
    ----------
    db_path : str | os.PathLike[str] | None, optional
        A SQLite file that keeps everything across restarts; ``None`` (the
        default) keeps everything in memory.

    Returns
    -------
    Store
        A `SQLiteStore` on the file, or a `MemoryStore`.
    """
    return MemoryStore() if db_path is None else SQLiteStore(db_path)
