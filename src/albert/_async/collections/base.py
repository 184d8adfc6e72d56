"""What every collection shares: its session and the API version."""

from __future__ import annotations

from albert._async.session import AsyncAlbertSession
from albert.core.urls import path_segment

__all__ = ["BaseCollection"]


class BaseCollection:
    """Base of the chat collections.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.
    """

    _api_version = "v3"
    base_path: str = ""

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        self._session = session

    def _item_path(self, id: str) -> str:
        """Return the path of one item below `base_path`; ``id`` becomes one safe segment."""
        return f"{self.base_path}/{path_segment(id)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session={self._session!r})"
