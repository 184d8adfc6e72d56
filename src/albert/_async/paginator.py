"""The key-based paginator behind every ``get_all``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from albert._async.session import AsyncAlbertSession
from albert._backends.async_prefetch import Prefetch
from albert.core.pagination import PageCursor
from albert.core.responses import decode_model
from albert.resources.base import Page

__all__ = ["AsyncAlbertPaginator"]

ItemT = TypeVar("ItemT", bound=BaseModel)


class AsyncAlbertPaginator(Generic[ItemT]):
    """Iterate over a key-based listing, one page request at a time.

    Iterate it for items (``async for item in paginator``), or over `pages` for
    whole pages. Nothing is requested until iteration starts, and a page is
    only requested when an item of it will be used: with ``max_items`` the
    paginator never asks for a page past the limit.

    Pages are requested at most one ahead of your code. On an event loop, the
    next page is requested as soon as your code waits on something (I/O, a
    sleep) while it works on the current page; a loop that never waits gets
    each page when it reaches it, with no background task. Leaving the loop
    early cancels a request still under way.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session to send the page requests with.
    path : str
        The listing's path.
    item_type : type[BaseModel]
        The model of one item; each page is validated straight from the
        response bytes.
    params : dict[str, Any] | None, optional
        The listing's filters, sent with every page request.
    max_items : int | None, optional
        Stop after this many items; ``None`` lists everything.
    start_key : str | None, optional
        Resume a listing from a `last_key` seen earlier.

    Attributes
    ----------
    has_more : bool
        Whether the listing may have items past those yielded so far; ``True``
        before iteration starts.
    last_key : str | None
        Where to resume with ``start_key=``, right after the last item
        yielded; ``None`` once the listing is exhausted.

    Notes
    -----
    `last_key` is opaque: pass it back as ``start_key`` to continue exactly
    after the last item yielded, also when ``max_items`` ended iteration in
    the middle of a page (the SDK then re-reads that page and skips what was
    yielded). Iterating the paginator again starts over from ``start_key``.
    """

    def __init__(
        self,
        *,
        session: AsyncAlbertSession,
        path: str,
        item_type: type[ItemT],
        params: dict[str, Any] | None = None,
        max_items: int | None = None,
        start_key: str | None = None,
    ) -> None:
        self._session = session
        self._path = path
        self._page_model: type[Page[ItemT]] = Page[item_type]  # type: ignore[valid-type]
        self._params = dict(params or {})
        self._cursor = PageCursor(max_items=max_items, start_key=start_key)

    @property
    def has_more(self) -> bool:
        """Whether the listing may have items past those yielded so far."""
        return self._cursor.has_more

    @property
    def last_key(self) -> str | None:
        """Where to resume, right after the last item yielded; ``None`` at the end."""
        return self._cursor.last_key

    async def pages(self) -> AsyncIterator[list[ItemT]]:
        """Yield the listing page by page.

        Yields
        ------
        list
            The items of one page (cut short at ``max_items``).
        """
        cursor = self._cursor
        cursor.restart()
        ahead: Prefetch[Page[ItemT]] | None = None
        try:
            while ahead is not None or cursor.wants_another_page():
                if ahead is None:
                    page = await self._fetch_page(cursor.params(self._params))
                else:
                    page, ahead = await ahead.result(), None
                items = cursor.take(page.items, page.last_key)
                if cursor.wants_another_page():
                    ahead = Prefetch(self._fetch_page, cursor.params(self._params))
                if items:
                    yield items
        finally:
            if ahead is not None:
                ahead.cancel()

    async def _fetch_page(self, params: dict[str, Any]) -> Page[ItemT]:
        response = await self._session.request("GET", self._path, params=params)
        return decode_model(response, self._page_model)

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page:
                yield item
