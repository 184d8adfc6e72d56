"""Chat flags: star a message, mark it hallucinated, list flagged messages."""

from __future__ import annotations

from pydantic import validate_call

from albert._async.collections.base import BaseCollection
from albert._async.paginator import AsyncAlbertPaginator
from albert._async.session import AsyncAlbertSession
from albert.core.messages import require_sequence
from albert.core.queries import flag_query
from albert.core.responses import decode_model
from albert.core.urls import path_segment
from albert.resources.chats import ChatComponentType, ChatFlag, ChatFlagsInMessage, ChatFlagType

__all__ = ["ChatFlagCollection"]


class ChatFlagCollection(BaseCollection):
    """Collection for the flags of chat messages (starred, hallucinated, ...).

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.

    Attributes
    ----------
    base_path : str
        The path of the chat flags listing.
    """

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        super().__init__(session=session)
        self._sessions_base = f"/api/{self._api_version}/chats/sessions"
        self.base_path: str = f"/api/{self._api_version}/chats/flags"

    def _flag_path(self, session_id: str, source_request_id: str) -> str:
        session = path_segment(session_id, name="session_id")
        request = path_segment(source_request_id, name="source_request_id")
        return f"{self._sessions_base}/{session}/messages/{request}/flag"

    @validate_call
    def get_all(
        self,
        *,
        type: ChatFlagType,
        max_items: int | None = None,
        start_key: str | None = None,
        progress: bool = False,
    ) -> AsyncAlbertPaginator[ChatFlag]:
        """Iterate over the flags of one type across the caller's messages.

        Parameters
        ----------
        type : ChatFlagType
            The flag type to list (for example ``ChatFlagType.STARRED``).
        max_items : int | None, optional
            Maximum number of items to return in total. If None, fetches all
            available items.
        start_key : str | None, optional
            Resume a listing from a paginator's ``last_key``.
        progress : bool, optional
            Show a progress bar of the items listed (needs the ``notebook``
            extra).

        Returns
        -------
        AsyncAlbertPaginator[ChatFlag]
            Iterate it for the flags of that type; in the non-blocking
            client, awaiting it returns them as a list, as the published
            package's ``get_all`` does.
        """
        return AsyncAlbertPaginator(
            session=self._session,
            path=self.base_path,
            item_type=ChatFlag,
            params=flag_query(None, type, None),
            max_items=max_items,
            start_key=start_key,
            progress=progress,
        )

    @validate_call
    async def get_by_message(
        self, *, session_id: str, source_request_id: str, sequence: str | None = None
    ) -> ChatFlagsInMessage:
        """Return the flags set on one message.

        Parameters
        ----------
        session_id : str
            The ID of the message's session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str | None, optional
            The zero-padded sequence of the message (e.g. "000").

        Returns
        -------
        ChatFlagsInMessage
            The flag types set on the message and their count.
        """
        response = await self._session.get(
            self._flag_path(session_id, source_request_id),
            params=flag_query(None if sequence is None else require_sequence(sequence), None, None),
        )
        return decode_model(response, ChatFlagsInMessage)

    @validate_call
    async def add(
        self,
        *,
        session_id: str,
        source_request_id: str,
        sequence: str,
        type: ChatFlagType,
        component_type: ChatComponentType | None = None,
    ) -> ChatFlag:
        """Set a flag on a message.

        Setting a flag that is already set leaves it set, so this call is
        retried after server errors like a GET.

        Parameters
        ----------
        session_id : str
            The ID of the message's session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str
            The zero-padded sequence of the message (e.g. "000").
        type : ChatFlagType
            The flag to set.
        component_type : ChatComponentType | None, optional
            Narrows the flag to one component of the request.

        Returns
        -------
        ChatFlag
            The flag as the server recorded it.
        """
        response = await self._session.post(
            self._flag_path(session_id, source_request_id),
            params=flag_query(require_sequence(sequence), type, component_type),
            idempotent=True,
        )
        return decode_model(response, ChatFlag)

    @validate_call
    async def remove(
        self,
        *,
        session_id: str,
        source_request_id: str,
        sequence: str,
        type: ChatFlagType,
        component_type: ChatComponentType | None = None,
    ) -> None:
        """Clear a flag from a message.

        Parameters
        ----------
        session_id : str
            The ID of the message's session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str
            The zero-padded sequence of the message (e.g. "000").
        type : ChatFlagType
            The flag to clear.
        component_type : ChatComponentType | None, optional
            Narrows the flag to one component of the request.

        Returns
        -------
        None
        """
        await self._session.delete(
            self._flag_path(session_id, source_request_id),
            params=flag_query(require_sequence(sequence), type, component_type),
        )
