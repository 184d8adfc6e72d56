"""What every collection shares: its session and the API version."""

from __future__ import annotations

from albert._async.session import AsyncAlbertSession

__all__ = ["BaseCollection"]


class BaseCollection:
    """Base of the chat collections.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.
    """

    _api_version = "v3"

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session={self._session!r})"
