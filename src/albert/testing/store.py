"""The emulator's storage: JSON documents by kind, in memory or in a SQLite file, kept in order.

`Store` is the small interface the app talks to; `MemoryStore` keeps
everything for the life of the process, `SQLiteStore` keeps it in a file
(stdlib ``sqlite3``) so that a restarted emulator loses nothing. Both hold
documents as JSON text, so what a handler reads back is always a fresh copy
that it may change freely.

Every document has a key (`Order`) that places it in its kind, and both stores
keep an ordered index per kind and per ``(kind, parent)``: `Store.scan` starts
at a key by binary search (memory) or an index range (SQLite) and reads lazily,
batch by batch, so a page of a listing costs the same in a session of a
thousand messages as in one of fifty thousand.
"""

from __future__ import annotations

import abc
import bisect
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

__all__ = [
    "Doc",
    "Entry",
    "MemoryStore",
    "NotAnEmulatorDatabase",
    "Order",
    "SQLiteStore",
    "Store",
    "open_store",
]

#: A stored document: a JSON object.
Doc = dict[str, Any]

#: Where a document stands in its kind: a number, then a text (``""`` for most
#: kinds; a message is placed by its request's number, then its sequence).
Order = tuple[int, str]


class NotAnEmulatorDatabase(ValueError):
    """The file is not a database of the emulator (another application's, or not SQLite)."""


class Entry(NamedTuple):
    """A stored document and where it stands.

    Attributes
    ----------
    key : Order
        Its place in its kind, unique in the kind and kept when the document
        is replaced, so listings are stable and pagination keys survive
        deletions. Unless the caller chose it, a number increasing with
        insertion across the whole store, and ``""``.
    id : str
        Its id within its kind.
    body : Doc
        The document (a fresh copy).
    """

    key: Order
    id: str
    body: Doc


def _dump(body: Doc) -> str:
    """Return a document as JSON text; refuse what could not be read back."""
    text = json.dumps(body, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: stored, it would make every answer that holds it fail.
        raise ValueError("a document holds a lone surrogate, which is not UTF-8") from None
    return text


def _load(text: str) -> Doc:
    value = json.loads(text)
    if not isinstance(value, dict):  # pragma: no cover - only objects are ever put
        raise TypeError("a stored document is not a JSON object")
    return value


class Store(abc.ABC):
    """Documents by kind (``session``, ``message``, ``folder``, ``flag``, ...), in key order.

    Implementations are thread-safe: the server runs on one thread, tests read
    from another.

    Attributes
    ----------
    read_only : bool
        Whether writes are refused (`SQLiteStore` opened with ``read_only=True``).
    """

    read_only: bool = False

    @abc.abstractmethod
    def next_value(self, counter: str) -> int:
        """Return the next value (0, 1, 2, ...) of a named counter.

        Parameters
        ----------
        counter : str
            The counter's name.

        Returns
        -------
        int
            0 the first time, then one more on every call.
        """

    @abc.abstractmethod
    def put(
        self, kind: str, id: str, body: Doc, *, parent: str = "", order: Order | None = None
    ) -> Order:
        """Insert or replace a document; a replaced one keeps its key.

        Parameters
        ----------
        kind : str
            The kind of document.
        id : str
            Its id within the kind.
        body : Doc
            The document; it must be JSON-serializable, without NaN, infinities
            or lone surrogates.
        parent : str, optional
            The id of what it belongs to (a session for a message), for
            `scan` and `delete_children`.
        order : Order | None, optional
            The key of a new document; default: the next number, and ``""``.
            Ignored when the document exists.

        Returns
        -------
        Order
            The document's key.

        Raises
        ------
        ValueError
            If ``body`` cannot be stored as JSON that reads back, or ``order``
            is the key of another document of the kind.
        TypeError
            If ``body`` holds something JSON cannot represent.
        """

    @abc.abstractmethod
    def entry(self, kind: str, id: str) -> Entry | None:
        """Return a document with its key, or ``None`` if there is none.

        Parameters
        ----------
        kind : str
            The kind of document.
        id : str
            Its id.

        Returns
        -------
        Entry | None
            The document (a fresh copy) and its key.
        """

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
        found = self.entry(kind, id)
        return None if found is None else found.body

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
    def read_batch(
        self, kind: str, parent: str | None, bound: Order | None, inclusive: bool, limit: int
    ) -> list[tuple[Order, str, str]]:
        """Return the next documents in key order, as stored: what `scan` reads with.

        Parameters
        ----------
        kind : str
            The kind of document.
        parent : str | None
            Only those put with this parent; ``None`` for all.
        bound : Order | None
            Where to start; ``None`` for the first key.
        inclusive : bool
            Whether a document at ``bound`` itself is read.
        limit : int
            At most this many.

        Returns
        -------
        list[tuple[Order, str, str]]
            ``(key, id, JSON text)`` of each document.
        """

    def scan(
        self,
        kind: str,
        *,
        parent: str | None = None,
        after: Order | None = None,
        start: Order | None = None,
        batch: int = 100,
    ) -> Iterator[Entry]:
        """Yield the documents of a kind (of one parent) in key order, reading lazily.

        Documents are read ``batch`` at a time, each batch from where the last
        one ended, so a caller that stops early has read little more than it
        used, and what changes between two batches is seen as it is then.

        Parameters
        ----------
        kind : str
            The kind of document.
        parent : str | None, optional
            Only those put with this parent; ``None`` for all.
        after : Order | None, optional
            Start after this key.
        start : Order | None, optional
            Start at this key (inclusive); not together with ``after``.
        batch : int, optional
            How many documents to read at a time (default 100).

        Yields
        ------
        Entry
            The documents with their keys.

        Raises
        ------
        ValueError
            If both ``after`` and ``start`` are given, or ``batch`` is below 1.
        """
        if after is not None and start is not None:
            raise ValueError("give either after or start, not both")
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        bound, inclusive = (start, True) if start is not None else (after, False)
        while True:
            rows = self.read_batch(kind, parent, bound, inclusive, batch)
            for key, doc_id, text in rows:
                yield Entry(key, doc_id, _load(text))
            if len(rows) < batch:
                return
            bound, inclusive = rows[-1][0], False

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every document and reset every counter."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the storage; the store is not used afterwards."""

    def all(self, kind: str, *, parent: str | None = None) -> list[Doc]:
        """Return every document of a kind (of one parent), in key order, without their keys.

        A convenience for tests and small kinds: it copies them all.

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


class _Stored(NamedTuple):
    key: Order
    parent: str
    text: str


class MemoryStore(Store):
    """A `Store` that lives as long as the process (the default).

    Each kind, and each ``(kind, parent)``, has a sorted list of keys:
    `scan` starts by binary search and copies only the batch it reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._docs: dict[tuple[str, str], _Stored] = {}
        self._ids: dict[tuple[str, Order], str] = {}  # (kind, key) -> id
        self._by_kind: dict[str, list[Order]] = {}
        self._by_parent: dict[tuple[str, str], list[Order]] = {}
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

    def put(
        self, kind: str, id: str, body: Doc, *, parent: str = "", order: Order | None = None
    ) -> Order:
        """Insert or replace a document (see `Store.put`)."""
        text = _dump(body)
        with self._lock:
            existing = self._docs.get((kind, id))
            if existing is not None:
                key = existing.key
                if existing.parent != parent:
                    self._unindex(self._by_parent[(kind, existing.parent)], key)
                    bisect.insort(self._by_parent.setdefault((kind, parent), []), key)
            else:
                if order is None:
                    key, self._next_key = (self._next_key, ""), self._next_key + 1
                else:
                    key = (int(order[0]), str(order[1]))
                    if (kind, key) in self._ids:
                        raise ValueError(f"the key {key} of kind {kind!r} is taken")
                self._ids[(kind, key)] = id
                bisect.insort(self._by_kind.setdefault(kind, []), key)
                bisect.insort(self._by_parent.setdefault((kind, parent), []), key)
            self._docs[(kind, id)] = _Stored(key, parent, text)
            return key

    def entry(self, kind: str, id: str) -> Entry | None:
        """Return a document with its key, or ``None`` (see `Store.entry`)."""
        with self._lock:
            found = self._docs.get((kind, id))
        return None if found is None else Entry(found.key, id, _load(found.text))

    @staticmethod
    def _unindex(keys: list[Order], key: Order) -> None:
        index = bisect.bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]

    def _forget(self, kind: str, id: str) -> _Stored | None:
        found = self._docs.pop((kind, id), None)
        if found is not None:
            del self._ids[(kind, found.key)]
        return found

    def delete(self, kind: str, id: str) -> bool:
        """Delete a document; return whether it existed (see `Store.delete`)."""
        with self._lock:
            found = self._forget(kind, id)
            if found is None:
                return False
            self._unindex(self._by_kind[kind], found.key)
            self._unindex(self._by_parent[(kind, found.parent)], found.key)
            return True

    def delete_children(self, kind: str, parent: str) -> int:
        """Delete the documents of a kind under a parent (see `Store.delete_children`)."""
        with self._lock:
            keys = self._by_parent.pop((kind, parent), [])
            for key in keys:
                self._forget(kind, self._ids[(kind, key)])
            in_kind = self._by_kind.get(kind, [])
            if len(keys) > 64:  # one pass over the kind, not one memmove per key
                doomed = set(keys)
                in_kind[:] = [key for key in in_kind if key not in doomed]
            else:
                for key in keys:
                    self._unindex(in_kind, key)
        return len(keys)

    def read_batch(
        self, kind: str, parent: str | None, bound: Order | None, inclusive: bool, limit: int
    ) -> list[tuple[Order, str, str]]:
        """Return the next documents in key order (see `Store.read_batch`)."""
        with self._lock:
            keys = (
                self._by_kind.get(kind, [])
                if parent is None
                else self._by_parent.get((kind, parent), [])
            )
            if bound is None:
                first = 0
            elif inclusive:
                first = bisect.bisect_left(keys, bound)
            else:
                first = bisect.bisect_right(keys, bound)
            rows = []
            for key in keys[first : first + limit]:
                doc_id = self._ids[(kind, key)]
                rows.append((key, doc_id, self._docs[(kind, doc_id)].text))
            return rows

    def clear(self) -> None:
        """Delete every document and reset every counter."""
        with self._lock:
            self._docs.clear()
            self._ids.clear()
            self._by_kind.clear()
            self._by_parent.clear()
            self._counters.clear()
            self._next_key = 0

    def close(self) -> None:
        """Do nothing: there is nothing to release, and the documents stay readable."""


#: The layout of a database this version writes (``PRAGMA user_version``).
#: 0 is the layout before keys had a text part (no ``sub`` column).
FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    sub TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_in_kind ON docs (kind, position, sub);
CREATE INDEX IF NOT EXISTS docs_in_parent ON docs (kind, parent, position, sub);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

#: The columns of the tables of an emulator database.
_TABLES = {
    "docs": {"kind", "id", "parent", "position", "body"},
    "counters": {"name", "value"},
}

#: The counter behind the number of a key that the caller did not choose.
_POSITION = "__position__"


def _read_only_uri(path: str) -> str:
    return "file:" + quote(Path(path).resolve().as_posix(), safe="/:") + "?mode=ro"


class SQLiteStore(Store):
    """A `Store` in a SQLite database: a file keeps everything across restarts.

    Parameters
    ----------
    path : str | os.PathLike[str]
        The database file (created if missing), or ``":memory:"``.
    read_only : bool, optional
        Open an existing file for reading only (SQLite ``mode=ro``): nothing
        is ever written to it, and every write raises.

    Raises
    ------
    NotAnEmulatorDatabase
        If the file is not SQLite, holds another application's tables, or
        (read only) is not an emulator database of this version.
    FileNotFoundError
        If ``read_only`` and there is no such file.

    Notes
    -----
    One connection behind a lock, in autocommit mode: every write is in the
    file when the call returns. A file database uses write-ahead logging, so
    another process (``albert-chat export --local --db ...``) can read it
    while an emulator serves it; a reader then shares the ``-wal`` and
    ``-shm`` files that SQLite keeps beside it. Keys are read through two
    indexes, ``(kind, position, sub)`` and ``(kind, parent, position, sub)``.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = os.fspath(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only:
            if not os.path.isfile(self.path):
                raise FileNotFoundError(f"no emulator database at {self.path}")
            self._db = sqlite3.connect(
                _read_only_uri(self.path), uri=True, check_same_thread=False, isolation_level=None
            )
        else:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        try:
            tables = self._tables()
        except sqlite3.DatabaseError as exc:  # "file is not a database", "unable to open ..."
            raise NotAnEmulatorDatabase(
                f"{self.path} is not an albert-chat emulator database ({exc})"
            ) from None
        foreign = sorted(set(tables) - set(_TABLES))
        missing = [
            name for name, columns in _TABLES.items() if not columns <= tables.get(name, set())
        ]
        if foreign or (tables and missing):
            raise NotAnEmulatorDatabase(
                f"{self.path} is not an albert-chat emulator database "
                f"(it has the tables {', '.join(sorted(tables)) or 'none'})"
            )
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if self.read_only:
            if not tables:
                raise NotAnEmulatorDatabase(f"{self.path} is not an albert-chat emulator database")
            if version != FORMAT:
                raise NotAnEmulatorDatabase(
                    f"{self.path} was written by another version of albert-chat (layout "
                    f"{version}, this one reads {FORMAT}); serve it once with this version "
                    "(albert-chat serve --db) to upgrade it"
                )
            return
        if version > FORMAT:
            raise NotAnEmulatorDatabase(
                f"{self.path} was written by a newer albert-chat (layout {version}); upgrade"
            )
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL still survives a crash of the process (kill -9);
            # only a power cut may lose the last writes. FULL cost an fsync a write.
            self._db.execute("PRAGMA synchronous=NORMAL")
        if tables and "sub" not in tables["docs"]:  # layout 0: keys were numbers only
            self._db.execute("DROP INDEX IF EXISTS docs_by_parent")
            self._db.execute("ALTER TABLE docs ADD COLUMN sub TEXT NOT NULL DEFAULT ''")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {FORMAT}")

    def _tables(self) -> dict[str, set[str]]:
        names = [
            row[0]
            for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: {row[1] for row in self._db.execute(f'PRAGMA table_info("{name}")')}
            for name in names
        }

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"SQLiteStore({self.path!r}{mode})"

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

    def put(
        self, kind: str, id: str, body: Doc, *, parent: str = "", order: Order | None = None
    ) -> Order:
        """Insert or replace a document (see `Store.put`)."""
        text = _dump(body)
        with self._lock:
            row = self._db.execute(
                "SELECT position, sub FROM docs WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
            if row is not None:
                self._db.execute(
                    "UPDATE docs SET parent = ?, body = ? WHERE kind = ? AND id = ?",
                    (parent, text, kind, id),
                )
                return int(row[0]), str(row[1])
            key = (self._next(_POSITION), "") if order is None else (int(order[0]), str(order[1]))
            try:
                self._db.execute(
                    "INSERT INTO docs (kind, id, parent, position, sub, body) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (kind, id, parent, key[0], key[1], text),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"the key {key} of kind {kind!r} is taken") from None
            return key

    def entry(self, kind: str, id: str) -> Entry | None:
        """Return a document with its key, or ``None`` (see `Store.entry`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT position, sub, body FROM docs WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
        return None if row is None else Entry((int(row[0]), str(row[1])), id, _load(row[2]))

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

    def read_batch(
        self, kind: str, parent: str | None, bound: Order | None, inclusive: bool, limit: int
    ) -> list[tuple[Order, str, str]]:
        """Return the next documents in key order (see `Store.read_batch`)."""
        query = "SELECT position, sub, id, body FROM docs WHERE kind = ?"
        args: list[Any] = [kind]
        if parent is not None:
            query += " AND parent = ?"
            args.append(parent)
        if bound is not None:
            query += f" AND (position, sub) {'>=' if inclusive else '>'} (?, ?)"
            args += [bound[0], bound[1]]
        query += " ORDER BY position, sub LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [((int(pos), str(sub)), str(doc_id), str(body)) for pos, sub, doc_id, body in rows]

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
