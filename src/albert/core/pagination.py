"""The state of a key-based listing, shared by the sync and async paginators."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any, TypeVar

from albert._sendable import check_text

__all__ = ["PageCursor"]

T = TypeVar("T")


class PageCursor:
    """Where a key-based listing stands: the next key, what is left, whether it is done.

    Parameters
    ----------
    max_items : int | None
        Stop after this many items; ``None`` for no limit.
    start_key : str | None
        The key to start from (``None`` for the first page).

    Raises
    ------
    ValueError
        If ``max_items`` is negative, or ``start_key`` is empty, holds a lone
        surrogate, or looks like a key this SDK made but is not one.
    """

    def __init__(self, *, max_items: int | None, start_key: str | None) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError(f"max_items must be None or 0 or more, got {max_items}")
        if start_key is not None:
            if not start_key:
                raise ValueError("start_key must not be empty")
            check_text(start_key, name="start_key")
            decode_resume_key(start_key)  # a key this SDK could not read fails now
        self.max_items = max_items
        self.start_key = start_key
        self.restart()

    def restart(self) -> None:
        """Go back to ``start_key``, before any page."""
        self.next_key, self._skip = decode_resume_key(self.start_key)
        self.yielded = 0
        self.pages_taken = 0
        self._keys_seen: set[str] = set() if self.next_key is None else {self.next_key}
        self._exhausted = False
        # Where the listing stands once the last page taken has been handed out
        # whole, and where that page started (for a stop inside it).
        self._key_after_page: str | None = self.start_key
        self._more_after_page = True
        self._page_key: str | None = None
        self._page_offset = 0
        self._page_size = 0
        self._reading: Iterator[Any] | None = None

    @property
    def last_key(self) -> str | None:
        """The key that resumes right after the last item handed out; ``None`` at the end."""
        unread = self._unread()
        if unread:
            handed_out = self._page_offset + self._page_size - unread
            return encode_resume_key(self._page_key, handed_out)
        return self._key_after_page

    @property
    def items_read(self) -> int:
        """How many items the consumer has had so far (of the pages taken)."""
        return self.yielded - self._unread()

    @property
    def has_more(self) -> bool:
        """Whether the listing may have items past those handed out so far."""
        return bool(self._unread()) or self._more_after_page

    def reading(self, items: list[T]) -> Iterator[T]:
        """Return an iterator over a page's items that keeps `last_key` at the last one read.

        Iterating items one by one, a consumer may stop inside a page; its
        position is read from the iterator when `last_key` is asked for, so the
        iteration itself costs nothing more.

        Parameters
        ----------
        items : list[T]
            The items `take` returned for the latest page.

        Returns
        -------
        Iterator[T]
            An iterator over ``items``.
        """
        self._reading = iterator = iter(items)
        return iterator

    def _unread(self) -> int:
        reading = self._reading
        return 0 if reading is None else operator.length_hint(reading)

    def wants_another_page(self) -> bool:
        """Tell whether another page should be requested."""
        if self._exhausted:
            return False
        return self.max_items is None or self.yielded < self.max_items

    def params(self, filters: dict[str, Any]) -> dict[str, Any]:
        """Return the query of the next page request: the filters, and ``startKey`` if any."""
        if self.next_key is None:
            return filters
        return {**filters, "startKey": self.next_key}

    def repeats(self, items: list[Any], last_key: str | None) -> bool:
        """Tell whether a page that arrived hands back a key the listing already had.

        A server that does so would send the listing round in a circle
        forever; the paginator raises instead of taking the page. A last
        page (no items, or no key) never repeats.

        Parameters
        ----------
        items : list
            The page's items.
        last_key : str | None
            The page's ``lastKey``.

        Returns
        -------
        bool
            ``True`` if ``last_key`` was sent or received before in this iteration.
        """
        return bool(items) and bool(last_key) and last_key in self._keys_seen

    def take(self, items: list[T], last_key: str | None) -> list[T]:
        """Record a page that arrived and return the items of it to yield.

        Pages must be taken in the order they were requested: the key that
        fetched this page is the ``next_key`` the previous page left.

        Parameters
        ----------
        items : list[T]
            The page's items.
        last_key : str | None
            The page's ``lastKey``; missing or empty means the last page.

        Returns
        -------
        list[T]
            The items to yield: without those a resume key skips, cut at
            ``max_items``.
        """
        page_key, skipped = self.next_key, self._skip
        self._skip = 0
        fresh = items[skipped:]
        server_key = last_key or None
        if server_key is not None:
            self._keys_seen.add(server_key)
        server_has_more = server_key is not None and len(items) > 0
        room = None if self.max_items is None else self.max_items - self.yielded
        if room is not None and len(fresh) > room:
            # Cut short: resume inside this page, after what was yielded.
            fresh = fresh[:room]
            self._key_after_page = encode_resume_key(page_key, skipped + room)
            self._more_after_page = True
        else:
            self._key_after_page = server_key if server_has_more else None
            self._more_after_page = server_has_more
        self._page_key, self._page_offset, self._page_size = page_key, skipped, len(fresh)
        self._reading = None  # handed out whole, unless `reading` is asked for
        self.next_key = server_key
        self.yielded += len(fresh)
        self.pages_taken += 1
        self._exhausted = not server_has_more
        return fresh


#: Marks a resume key that points inside a page: ``<marker><offset>:<page key>``.
_RESUME_MARKER = "albert-resume:"


def encode_resume_key(page_key: str | None, offset: int) -> str:
    """Return a key that resumes a listing ``offset`` items into the page ``page_key`` starts.

    Parameters
    ----------
    page_key : str | None
        The server key that fetched the page (``None`` for the first page).
    offset : int
        How many of the page's items were already yielded.

    Returns
    -------
    str
        An opaque key for ``start_key=``.
    """
    return f"{_RESUME_MARKER}{offset}:{page_key or ''}"


def decode_resume_key(key: str | None) -> tuple[str | None, int]:
    """Split a ``start_key`` into the server key to send and the items to skip.

    Parameters
    ----------
    key : str | None
        A server key, a key made by `encode_resume_key`, or ``None``.

    Returns
    -------
    tuple[str | None, int]
        The server key (``None`` for the first page) and the offset.
    """
    if key is None or not key.startswith(_RESUME_MARKER):
        return key, 0
    offset, _, page_key = key[len(_RESUME_MARKER) :].partition(":")
    if not (offset.isascii() and offset.isdigit()) or len(offset) > _MAX_OFFSET_DIGITS:
        shown = key if len(key) <= 60 else key[:60] + "…"
        raise ValueError(f"start_key {shown!r} is not a key this SDK made")
    return page_key or None, int(offset)


#: An offset inside a page is a small number; a longer one is not a key of ours.
_MAX_OFFSET_DIGITS = 18
