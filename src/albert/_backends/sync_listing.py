"""The sync twin of ``async_listing``: a sync listing is not awaited, so nothing is added."""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["NothingToAwait"]

T = TypeVar("T")


class NothingToAwait(Generic[T]):
    """Stands where ``async_listing.CollectOnAwait`` stands in the async code, and adds nothing.

    Sync code has no ``await``: ``list(paginator)`` collects a listing.
    """
