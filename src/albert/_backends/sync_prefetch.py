"""The sync twin of read-ahead: nothing runs in the background; the call happens on demand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")


class Prefetch(Generic[T]):
    """Call ``fetch(*args)`` when the result is asked for (no threads, no read-ahead).

    Parameters
    ----------
    fetch : Callable[..., T]
        The function to call.
    *args : Any
        Its arguments.
    """

    def __init__(self, fetch: Callable[..., T], *args: Any) -> None:
        self._fetch = fetch
        self._args = args

    def result(self) -> T:
        """Call the function now and return its value."""
        return self._fetch(*self._args)

    def cancel(self) -> None:
        """Nothing runs in the background, so there is nothing to cancel."""
