"""Chat messages (beta): add to a session, read, list in order, edit and delete."""

from __future__ import annotations

from typing import Any

from pydantic import validate_call

from albert._async.collections.base import BaseCollection
from albert._async.paginator import AsyncAlbertPaginator
from albert._async.session import AsyncAlbertSession
from albert._sendable import CONTENT_DEPTH, check_json
from albert.core.messages import created_message, message_create_body, require_sequence
from albert.core.queries import update_operations
from albert.core.responses import decode_model
from albert.core.urls import path_segment
from albert.resources.chats import ChatComponentType, ChatMessage

__all__ = ["ChatMessageCollection"]


class ChatMessageCollection(BaseCollection):
    """Collection for managing messages within a chat session (beta).

    A message is addressed by its session id, its ``source_request_id`` and
    its ``sequence`` (``"000"``, ``"001"``, ...), and optionally its
    ``component_type`` when one request holds several components.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.
    """

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        super().__init__(session=session)
        self._sessions_base = f"/api/{self._api_version}/chats/sessions"

    def _messages_path(self, session_id: str) -> str:
        return f"{self._sessions_base}/{path_segment(session_id, name='session_id')}/messages"

    def _message_path(self, session_id: str, source_request_id: str) -> str:
        segment = path_segment(source_request_id, name="source_request_id")
        return f"{self._messages_path(session_id)}/{segment}"

    @validate_call
    async def create(self, *, message: ChatMessage) -> ChatMessage:
        """Add a message to a chat session.

        Parameters
        ----------
        message : ChatMessage
            The message to create. ``parent_id`` must be set to the session ID.
            ``source_request_id`` is a fresh uuid4 when not set, and
            ``sequence`` (the component's position inside its request, which
            the API requires) is ``"000"`` when not set: a new request. To add
            a component to an existing request, set that request's
            ``source_request_id`` and the component's ``sequence``
            (``"001"``, ``"002"``, ...).

        Returns
        -------
        ChatMessage
            The created message: the server's id and sequence, and the content
            that was sent (the server's create response leaves it out).

        Raises
        ------
        ValueError
            If ``message.parent_id`` is not set, ``message.sequence`` is
            empty, or the message holds what JSON or UTF-8 cannot carry (NaN,
            an infinity, a lone surrogate, bytes that are not UTF-8) or is
            nested too deeply to be read back; nothing is sent.
        AlbertDecodeError
            If the server's answer holds no id (an empty body, a 204, ``{}``).
        """
        session_id, body = message_create_body(message)
        response = await self._session.post(self._messages_path(session_id), json=body)
        return created_message(response, session_id=session_id, sent=body)

    @validate_call
    async def get_by_id(
        self,
        *,
        session_id: str,
        source_request_id: str,
        sequence: str,
        component_type: ChatComponentType | None = None,
    ) -> ChatMessage:
        """Retrieve a single message by its source request ID and sequence.

        Parameters
        ----------
        session_id : str
            The ID of the parent session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str
            The zero-padded sequence of the message (e.g. "000").
        component_type : ChatComponentType | None, optional
            Narrows the lookup to a specific component type.

        Returns
        -------
        ChatMessage
            The matching message.
        """
        params: dict[str, Any] = {"sequence": require_sequence(sequence)}
        if component_type is not None:
            params["componentType"] = component_type.value
        response = await self._session.get(
            self._message_path(session_id, source_request_id), params=params
        )
        return decode_model(response, ChatMessage)

    @validate_call
    def get_all(
        self,
        *,
        session_id: str,
        max_items: int | None = None,
        start_key: str | None = None,
        progress: bool = False,
    ) -> AsyncAlbertPaginator[ChatMessage]:
        """Iterate over the messages of a session, oldest first.

        Parameters
        ----------
        session_id : str
            The ID of the session whose messages to list.
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
        AsyncAlbertPaginator[ChatMessage]
            Iterate it for the messages, oldest first.
        """
        return AsyncAlbertPaginator(
            session=self._session,
            path=self._messages_path(session_id),
            item_type=ChatMessage,
            max_items=max_items,
            start_key=start_key,
            progress=progress,
        )

    @validate_call
    async def update(
        self,
        *,
        session_id: str,
        source_request_id: str,
        sequence: str,
        content: str | dict[str, Any],
    ) -> ChatMessage:
        """Update the content of a message.

        Parameters
        ----------
        session_id : str
            The ID of the parent session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str
            The zero-padded sequence of the message (e.g. "000").
        content : str | dict
            The new content for the message.

        Returns
        -------
        ChatMessage
            The updated message, as the server has it.

        Raises
        ------
        ValueError
            If ``content`` holds what JSON cannot carry (NaN, an infinity, a
            lone surrogate, bytes that are not UTF-8) or is nested too deeply
            to be read back; nothing is sent.

        Notes
        -----
        The following fields can be updated: ``content``.
        """
        path = self._message_path(session_id, source_request_id)
        params = {"sequence": require_sequence(sequence)}
        check_json(content, name="content", max_depth=CONTENT_DEPTH)
        await self._session.patch(path, params=params, json=update_operations({"Content": content}))
        return await self.get_by_id(
            session_id=session_id, source_request_id=source_request_id, sequence=sequence
        )

    @validate_call
    async def delete(self, *, session_id: str, source_request_id: str, sequence: str) -> None:
        """Delete a message from a session.

        Parameters
        ----------
        session_id : str
            The ID of the parent session.
        source_request_id : str
            The request trace identifier of the message.
        sequence : str
            The zero-padded sequence of the message (e.g. "000").

        Returns
        -------
        None
        """
        await self._session.delete(
            self._message_path(session_id, source_request_id),
            params={"sequence": require_sequence(sequence)},
        )
