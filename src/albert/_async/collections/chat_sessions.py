"""Chat sessions: create, read, list, rename, move and delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from pydantic import validate_call

from albert._async.collections.base import BaseCollection
from albert._async.conversations import export_text, read_transcript
from albert._async.paginator import AsyncAlbertPaginator
from albert._async.session import AsyncAlbertSession
from albert._sendable import check_text
from albert.core.queries import session_filters, update_operations
from albert.core.responses import decode_created, decode_model
from albert.core.sentinels import NOT_GIVEN, NotGivenOr
from albert.core.urls import path_segment
from albert.display import ExportRenderer
from albert.progress import require_progress
from albert.resources.chats import ChatSession, ChatSessionKind
from albert.resources.transcripts import Transcript

__all__ = ["ChatSessionCollection"]


class ChatSessionCollection(BaseCollection):
    """Collection for managing chat sessions.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.

    Attributes
    ----------
    base_path : str
        The path of the chat sessions endpoint.
    """

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        super().__init__(session=session)
        self.base_path: str = f"/api/{self._api_version}/chats/sessions"

    @validate_call
    async def create(self, *, session: ChatSession) -> ChatSession:
        """Create a new chat session.

        Parameters
        ----------
        session : ChatSession
            The session to create.

        Returns
        -------
        ChatSession
            The created session, with the id the server assigned.

        Raises
        ------
        ValueError
            If a field holds what JSON or UTF-8 cannot carry (a lone
            surrogate, say); nothing is sent.
        AlbertDecodeError
            If the server's answer holds no id.
        """
        body = session.to_request_body(name="session")
        response = await self._session.post(self.base_path, json=body)
        return decode_created(response, ChatSession)

    @validate_call
    async def get_by_id(self, *, id: str) -> ChatSession:
        """Retrieve a chat session by its ID.

        Parameters
        ----------
        id : str
            The session ID.

        Returns
        -------
        ChatSession
            The matching session.

        Raises
        ------
        NotFoundError
            If no session has this ID.
        """
        response = await self._session.get(self._item_path(id))
        return decode_model(response, ChatSession)

    @validate_call
    async def get_by_source_session_id(self, *, source_session_id: str) -> ChatSession:
        """Retrieve a chat session by its external source session ID.

        Parameters
        ----------
        source_session_id : str
            The external source session identifier.

        Returns
        -------
        ChatSession
            The matching session.
        """
        path = (
            f"{self.base_path}/source/{path_segment(source_session_id, name='source_session_id')}"
        )
        response = await self._session.get(path)
        return decode_model(response, ChatSession)

    @validate_call
    def get_all(
        self,
        *,
        name: list[str] | None = None,
        exact_match: bool = True,
        parent_id: str | None = None,
        kind: ChatSessionKind | None = None,
        automation_id: str | None = None,
        created_by: str | None = None,
        updated_by: str | None = None,
        max_items: int | None = None,
        start_key: str | None = None,
        progress: bool = False,
    ) -> AsyncAlbertPaginator[ChatSession]:
        """Iterate over chat sessions with optional filters.

        Parameters
        ----------
        name : list[str] | None, optional
            Sessions named exactly one of these names.
        exact_match : bool, optional
            Send ``exactMatch=true`` with ``name`` (default True). The server
            has no fuzzy matching: with ``False``, a ``name`` filter matches
            nothing.
        parent_id : str | None, optional
            The sessions filed in this folder.
        kind : ChatSessionKind | None, optional
            The sessions of this kind (``chat`` or ``automation``).
        automation_id : str | None, optional
            The sessions this automation created.
        created_by : str | None, optional
            The sessions this user created.
        updated_by : str | None, optional
            The sessions this user last updated.
        max_items : int | None, optional
            Maximum number of items to return in total. If None, fetches all
            available items.
        start_key : str | None, optional
            Resume a listing from a paginator's ``last_key``.
        progress : bool, optional
            Show a progress bar of the sessions listed (needs the
            ``notebook`` extra).

        Returns
        -------
        AsyncAlbertPaginator[ChatSession]
            Iterate it for the sessions matching the filters; nothing is
            requested before iteration starts.
        """
        return AsyncAlbertPaginator(
            session=self._session,
            path=self.base_path,
            item_type=ChatSession,
            params=session_filters(
                name=name,
                exact_match=exact_match,
                parent_id=parent_id,
                kind=kind,
                automation_id=automation_id,
                created_by=created_by,
                updated_by=updated_by,
            ),
            max_items=max_items,
            start_key=start_key,
            progress=progress,
        )

    @validate_call
    async def transcript(self, *, id: str, progress: bool = False) -> Transcript:
        """Read a whole conversation: the session, all its messages, and which are starred.

        Parameters
        ----------
        id : str
            The session ID.
        progress : bool, optional
            Show a progress bar of the messages read (needs the ``notebook``
            extra: ``pip install 'albert-chat[notebook]'``).

        Returns
        -------
        Transcript
            The session and its messages grouped by request; Jupyter shows it
            as the conversation.

        Raises
        ------
        NotFoundError
            If no session has this ID.
        ImportError
            With ``progress=True`` when tqdm is not installed; nothing is sent.
        """
        require_progress(progress)
        return await read_transcript(self, id, progress=progress)

    @validate_call
    def export(
        self, *, id: str, format: Literal["md", "json"] = "md", progress: bool = False
    ) -> AsyncIterator[str]:
        """Write a session and its messages as Markdown or JSON, a page of messages at a time.

        Nothing is requested before iteration starts, and the messages are
        never all held: each page is rendered as it arrives, so a session of
        any size exports in the memory of one page.

        Parameters
        ----------
        id : str
            The session ID.
        format : {"md", "json"}, optional
            Markdown (the default: a heading per message, its content in a
            fenced block, ★ on the starred ones) or JSON (``{"session": ...,
            "messages": [...]}`` by wire names, each message with
            ``"starred"``).
        progress : bool, optional
            Show a progress bar of the messages exported (needs the
            ``notebook`` extra).

        Returns
        -------
        AsyncIterator[str]
            Iterate it for the export's text, piece by piece; write each
            piece to a file as it comes.

        Raises
        ------
        ValueError
            If ``id`` is empty; nothing is sent.
        ImportError
            With ``progress=True`` when tqdm is not installed; nothing is sent.
        NotFoundError
            While iterating, if no session has this ID.
        """
        require_progress(progress)
        self._item_path(id)  # an empty id is refused now, not when iterating
        return export_text(self, id, ExportRenderer(format), progress=progress)

    @validate_call
    async def update(
        self,
        *,
        id: str,
        name: str | None = None,
        parent_id: NotGivenOr[str | None] = NOT_GIVEN,
    ) -> ChatSession:
        """Rename a chat session or move it to another folder.

        Parameters
        ----------
        id : str
            The session ID.
        name : str | None, optional
            The new name; ``None`` keeps the current one.
        parent_id : str | None, optional
            The folder to move the session into; ``None`` takes it out of its
            folder; left out, the session stays where it is.

        Returns
        -------
        ChatSession
            The session as the server has it after the update. When nothing
            is to change, no update is sent and the current session is returned.
        """
        if name is not None:
            check_text(name, name="name")
        if isinstance(parent_id, str):
            check_text(parent_id, name="parent_id")
        body = update_operations(
            {"name": name if name is not None else NOT_GIVEN, "parentId": parent_id}
        )
        if body is not None:
            await self._session.patch(self._item_path(id), json=body)
        return await self.get_by_id(id=id)

    @validate_call
    async def delete(self, *, id: str) -> None:
        """Delete a chat session by ID.

        Parameters
        ----------
        id : str
            The ID of the session to delete.

        Returns
        -------
        None
        """
        await self._session.delete(self._item_path(id))
