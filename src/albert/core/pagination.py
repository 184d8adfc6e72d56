"""The state of a key-based listing, shared by the sync and async paginators."""

from __future__ import annotations

from typing import Any, TypeVar

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
        If ``max_items`` is negative.
    """

    def __init__(self, *, max_items: int | None, start_key: str | None) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError(f"max_items must be None or 0 or more, got {max_items}")
        if start_key is not None and not start_key:
            raise ValueError("start_key must not be empty")
        self.max_items = max_items
        self.start_key = start_key
        self.restart()

    def restart(self) -> None:
        """Go back to ``start_key``, before any page."""
        self.next_key, self._skip = decode_resume_key(self.start_key)
        self.last_key: str | None = self.start_key
        self.has_more = True
        self.yielded = 0
        self._exhausted = False

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
        server_has_more = server_key is not None and len(items) > 0
        room = None if self.max_items is None else self.max_items - self.yielded
        if room is not None and len(fresh) > room:
            # Cut short: resume inside this page, after what was yielded.
            fresh = fresh[:room]
            self.last_key = encode_resume_key(page_key, skipped + room)
            self.has_more = True
        else:
            self.last_key = server_key if server_has_more else None
            self.has_more = server_has_more
        self.next_key = server_key
        self.yielded += len(fresh)
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
    if not offset.isdigit():
        raise ValueError(f"start_key {key!r} is not a key this SDK made")
    return page_key or None, int(offset)
