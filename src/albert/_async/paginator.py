"""The key-based paginator behind every ``get_all``."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from albert._async.session import AsyncAlbertSession
from albert._backends.async_listing import CollectOnAwait
from albert._backends.async_prefetch import Prefetch
from albert.core.pagination import PageCursor
from albert.core.responses import decode_model, repeated_key_error
from albert.progress import finish, progress_bar, require_progress
from albert.resources.base import Page, ResourceList

__all__ = ["AsyncAlbertPaginator"]

ItemT = TypeVar("ItemT", bound=BaseModel)
_GeneratorT = TypeVar("_GeneratorT", bound=AsyncGenerator[Any, None])


def _plural(item_type: type[BaseModel]) -> str:
    """Return what a listing of ``item_type`` is called: ``ChatSession`` -> "chat sessions"."""
    words = re.findall(r"[A-Z][a-z]*", item_type.__name__) or [item_type.__name__]
    return " ".join(words).lower() + "s"


class AsyncAlbertPaginator(CollectOnAwait[ItemT], AsyncIterator[ItemT], Generic[ItemT]):
    """Iterate over a key-based listing, one page request at a time.

    Iterate it for items (``async for item in paginator``), or over `pages` for
    whole pages. Nothing is requested until iteration starts, and a page is
    only requested when an item of it will be used: with ``max_items`` the
    paginator never asks for a page past the limit.

    It is also an iterator: ``anext(paginator)`` hands out one item at a
    time, ``aclose()`` ends that iteration, and a loop over a paginator that
    ``anext()`` started goes on from there. Awaiting the non-blocking
    client's paginator collects the listing into a list (as the published
    package's ``chat_flags.get_all`` returns one).

    The non-blocking client also reads at most one page ahead: the next page is
    requested as soon as your code waits on something (I/O, a sleep) while it
    works on the current one; a loop that never waits gets each page when it
    reaches it, with no background task (see the pagination guide). Inside
    ``async with paginator:``, a loop left early is closed when the block
    ends, with its read-ahead if any; elsewhere, when its iterator is
    collected.

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
    progress : bool, optional
        Show a progress bar of the items read (tqdm's, from the ``notebook``
        extra), one for each iteration.

    Attributes
    ----------
    has_more : bool
        Whether the listing may have items past those yielded so far; ``True``
        before iteration starts.
    last_key : str | None
        Where to resume with ``start_key=``, right after the last item
        yielded; ``None`` once the listing is exhausted.

    Raises
    ------
    ImportError
        With ``progress=True`` when tqdm is not installed (when the paginator
        is made, before anything is sent).
    AlbertDecodeError
        While iterating, if a page does not fit, or the server hands back a
        ``lastKey`` it already gave (the listing would go round forever).

    Notes
    -----
    `last_key` is opaque: pass it back as ``start_key`` to continue exactly
    after the last item yielded, also when ``max_items`` ended iteration in
    the middle of a page (the SDK then re-reads that page and skips what was
    yielded), or a loop left inside a page, or a page request that failed.
    Each ``for`` loop over the paginator starts over from ``start_key``,
    unless ``anext()`` started an iteration that has not ended: the loop
    then continues it. Once that iteration has ended, ``anext()`` raises
    ``StopAsyncIteration``, as any iterator does.

    Examples
    --------
    >>> async with client.chat_messages.get_all(session_id=sid) as messages:
    ...     async for message in messages:
    ...         if message.role == "assistant":
    ...             break
    >>> resume_from = messages.last_key  # right after that message
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
        progress: bool = False,
    ) -> None:
        require_progress(progress)
        self._progress = progress
        self._session = session
        self._path = path
        self._item_type = item_type
        self._page_model: type[Page[ItemT]] = Page[item_type]  # type: ignore[valid-type]
        self._params = dict(params or {})
        self._cursor = PageCursor(max_items=max_items, start_key=start_key)
        self._held: list[AsyncGenerator[Any, None]] | None = None
        self._started = False
        # The iteration `__anext__` drives, and whether it has ended.
        self._current: AsyncGenerator[ItemT, None] | None = None
        self._current_ended = False

    @property
    def has_more(self) -> bool:
        """Whether the listing may have items past those yielded so far."""
        return self._cursor.has_more

    @property
    def last_key(self) -> str | None:
        """Where to resume, right after the last item yielded; ``None`` at the end."""
        return self._cursor.last_key

    def __repr__(self) -> str:
        name = f"{type(self).__name__} of {self._item_type.__name__}"
        cursor = self._cursor
        if not self._started:
            return f"<{name}: not started>"
        items, pages = cursor.items_read, cursor.pages_taken
        progress = (
            f"{items} item{'' if items == 1 else 's'} in {pages} page{'' if pages == 1 else 's'}"
        )
        return f"<{name}: {progress}, {'more' if cursor.has_more else 'done'}>"

    def pages(self) -> AsyncGenerator[ResourceList[ItemT], None]:
        """Iterate over the listing page by page.

        Returns
        -------
        AsyncGenerator[ResourceList, None]
            Yields the items of one page at a time (the last cut short at
            ``max_items``), each a `ResourceList`: a list that Jupyter shows
            as a table.
        """
        return self._track(self._pages())

    async def __aenter__(self) -> AsyncAlbertPaginator[ItemT]:
        self._held = []
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Close what was iterated inside the block now, rather than when the
        # collector finds it: no iteration is left for the collector to finish
        # (in the asynchronous client, a read-ahead is cancelled at once).
        held, self._held = self._held or [], None
        for iteration in held:
            await iteration.aclose()

    def __aiter__(self) -> AsyncIterator[ItemT]:
        if self._current is not None:
            return self  # continue the iteration `anext()` started
        return self._track(self._items())

    async def __anext__(self) -> ItemT:
        if self._current is None:
            if self._current_ended:
                raise StopAsyncIteration
            self._current = self._track(self._items())
        try:
            return await self._current.__anext__()
        except BaseException:
            # Ended (exhausted, failed or cancelled): an iterator that has
            # ended stays ended; resume with start_key=last_key.
            self._current, self._current_ended = None, True
            raise

    async def aclose(self) -> None:
        """End the iteration that ``anext()`` drives, cancelling its read-ahead if any.

        A later ``anext()`` raises ``StopAsyncIteration``; a new loop over the
        paginator starts over from ``start_key``.
        """
        current, self._current, self._current_ended = self._current, None, True
        if current is not None:
            await current.aclose()

    def _track(self, iteration: _GeneratorT) -> _GeneratorT:
        # Held only inside `async with`: elsewhere, a loop left early must leave
        # its iterator to be collected (and closed) as soon as the loop drops it.
        if self._held is not None:
            self._held.append(iteration)
        return iteration

    async def _pages(self) -> AsyncGenerator[ResourceList[ItemT], None]:
        cursor = self._cursor
        cursor.restart()
        self._started = True
        ahead: Prefetch[tuple[Page[ItemT], httpx.Response]] | None = None
        bar = progress_bar(
            self._progress, desc=_plural(self._item_type), unit="items", total=cursor.max_items
        )
        try:
            while ahead is not None or cursor.wants_another_page():
                if ahead is None:
                    page, response = await self._fetch_page(cursor.params(self._params))
                else:
                    (page, response), ahead = await ahead.result(), None
                if cursor.repeats(page.items, page.last_key):
                    raise repeated_key_error(response, page.last_key)
                items = cursor.take(page.items, page.last_key)
                if cursor.wants_another_page():
                    ahead = Prefetch(self._fetch_page, cursor.params(self._params))
                bar.update(len(items))
                if items:
                    yield ResourceList(items)
            finish(bar)  # the listing ended, before max_items or at it
        finally:
            bar.close()
            if ahead is not None:
                ahead.cancel()

    async def _items(self) -> AsyncGenerator[ItemT, None]:
        reading = self._cursor.reading  # so `last_key` follows a stop inside a page
        pages = self._pages()
        try:
            async for page in pages:
                for item in reading(page):
                    yield item
        finally:
            await pages.aclose()  # cancels a read-ahead now, not when collected

    async def _fetch_page(self, params: dict[str, Any]) -> tuple[Page[ItemT], httpx.Response]:
        response = await self._session.request("GET", self._path, params=params)
        return decode_model(response, self._page_model), response
