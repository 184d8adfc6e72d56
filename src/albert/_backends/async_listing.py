"""What only an async listing does: awaiting it collects its items into a list."""

from __future__ import annotations

from collections.abc import AsyncIterable, Generator
from typing import Any, Generic, TypeVar, cast

__all__ = ["CollectOnAwait"]

T = TypeVar("T")


class CollectOnAwait(Generic[T]):
    """Make an async iterable awaitable: ``await listing`` is ``[x async for x in listing]``.

    The published ``albert`` package's ``chat_flags.get_all`` returns a list
    to ``await``; every paginator of this SDK can be awaited the same way, so
    that code runs unchanged. The sync twin (``sync_listing.NothingToAwait``)
    adds nothing: sync code has no ``await``, and ``list(paginator)`` does it.
    """

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self._collect().__await__()

    async def _collect(self) -> list[T]:
        return [item async for item in cast(AsyncIterable[T], self)]
