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
        self.next_key: str | None = self.start_key
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

        Parameters
        ----------
        items : list[T]
            The page's items.
        last_key : str | None
            The page's ``lastKey``; missing or empty means the last page.

        Returns
        -------
        list[T]
            The items, cut at ``max_items``.
        """
        self.last_key = last_key or None
        self.next_key = self.last_key
        server_has_more = self.last_key is not None and len(items) > 0
        if self.max_items is not None and len(items) > self.max_items - self.yielded:
            items = items[: self.max_items - self.yielded]
            server_has_more = True
        self.yielded += len(items)
        self.has_more = server_has_more
        self._exhausted = not server_has_more
        return items
