"""The emulator's storage: JSON documents in SQLite, in memory or in a file."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from typing import Any

__all__ = ["Store"]

Doc = dict[str, Any]

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


class Store:
    """Documents by kind (``session``, ``message``, ``folder``, ``flag``, ``token``).

    Parameters
    ----------
    path : str, optional
        A SQLite file that keeps everything across restarts, or ``":memory:"``
        (the default) for a store that lives as long as the process.

    Notes
    -----
    Thread-safe: one connection behind a lock (the server runs one event
    loop, tests may read from another thread).
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def new_id(self, prefix: str) -> str:
        """Return a fresh server-assigned id such as ``ses-3f2a...``."""
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def next_count(self, name: str) -> int:
        """Return the next value (0, 1, 2, ...) of a named counter."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = 0 if row is None else row[0] + 1
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            return value

    def put(self, kind: str, id: str, body: Doc, *, parent: str = "") -> Doc:
        """Insert or replace a document; a new one goes last among its siblings."""
        with self._lock:
            row = self._db.execute(
                "SELECT position FROM docs WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
            position = row[0] if row else self.next_count(f"position:{kind}")
            self._db.execute(
                "INSERT OR REPLACE INTO docs (kind, id, parent, position, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (kind, id, parent, position, json.dumps(body)),
            )
        return body

    def get(self, kind: str, id: str) -> Doc | None:
        """Return a document, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def delete(self, kind: str, id: str) -> bool:
        """Delete a document; return whether it existed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, id))
        return cursor.rowcount > 0

    def delete_children(self, kind: str, parent: str) -> None:
        """Delete every document of ``kind`` under ``parent``."""
        with self._lock:
            self._db.execute("DELETE FROM docs WHERE kind = ? AND parent = ?", (kind, parent))

    def all(self, kind: str, *, parent: str | None = None) -> list[Doc]:
        """Return the documents of a kind (under one parent), oldest first."""
        query = "SELECT body FROM docs WHERE kind = ?"
        args: tuple[str, ...] = (kind,)
        if parent is not None:
            query += " AND parent = ?"
            args = (kind, parent)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY position", args).fetchall()
        return [dict(json.loads(row[0])) for row in rows]
