"""Chat folders: organise sessions; create, read, list, rename, reorder and delete."""

from __future__ import annotations

from pydantic import validate_call

from albert._async.collections.base import BaseCollection
from albert._async.paginator import AsyncAlbertPaginator
from albert._async.session import AsyncAlbertSession
from albert._sendable import check_text
from albert.core.queries import name_filters, update_operations
from albert.core.responses import decode_created, decode_model
from albert.core.sentinels import NOT_GIVEN
from albert.resources.chats import ChatFolder

__all__ = ["ChatFolderCollection"]


class ChatFolderCollection(BaseCollection):
    """Collection for managing chat folders.

    Parameters
    ----------
    session : AsyncAlbertSession
        The session used to make API requests.

    Attributes
    ----------
    base_path : str
        The path of the chat folders endpoint.
    """

    def __init__(self, *, session: AsyncAlbertSession) -> None:
        super().__init__(session=session)
        self.base_path: str = f"/api/{self._api_version}/chats/folders"

    @validate_call
    async def create(self, *, folder: ChatFolder) -> ChatFolder:
        """Create a chat folder.

        Parameters
        ----------
        folder : ChatFolder
            The folder to create (``folder_type`` travels as ``type``).

        Returns
        -------
        ChatFolder
            The created folder, with the id the server assigned.

        Raises
        ------
        ValueError
            If a field holds what JSON or UTF-8 cannot carry (a lone
            surrogate, say); nothing is sent.
        AlbertDecodeError
            If the server's answer holds no id.
        """
        body = folder.to_request_body(name="folder")
        response = await self._session.post(self.base_path, json=body)
        return decode_created(response, ChatFolder)

    @validate_call
    async def get_by_id(self, *, id: str) -> ChatFolder:
        """Retrieve a chat folder by its ID.

        Parameters
        ----------
        id : str
            The folder ID.

        Returns
        -------
        ChatFolder
            The matching folder.
        """
        response = await self._session.get(self._item_path(id))
        return decode_model(response, ChatFolder)

    @validate_call
    def get_all(
        self,
        *,
        name: list[str] | None = None,
        exact_match: bool = True,
        max_items: int | None = None,
        start_key: str | None = None,
        progress: bool = False,
    ) -> AsyncAlbertPaginator[ChatFolder]:
        """Iterate over chat folders with optional name filters.

        Parameters
        ----------
        name : list[str] | None, optional
            Folders named exactly one of these names.
        exact_match : bool, optional
            Send ``exactMatch=true`` with ``name`` (default True). The server
            has no fuzzy matching: with ``False``, a ``name`` filter matches
            nothing.
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
        AsyncAlbertPaginator[ChatFolder]
            Iterate it for the matching folders.
        """
        return AsyncAlbertPaginator(
            session=self._session,
            path=self.base_path,
            item_type=ChatFolder,
            params=name_filters(name=name, exact_match=exact_match),
            max_items=max_items,
            start_key=start_key,
            progress=progress,
        )

    @validate_call
    async def update(
        self,
        *,
        id: str,
        name: str | None = None,
        sequence: list[str] | None = None,
    ) -> ChatFolder:
        """Rename a folder and/or reorder its children.

        Parameters
        ----------
        id : str
            The folder ID.
        name : str | None, optional
            The new name; ``None`` keeps the current one.
        sequence : list[str] | None, optional
            The ids of the folder's children in their new order; ``None``
            keeps the current order.

        Returns
        -------
        ChatFolder
            The folder as the server has it after the update. When nothing is
            to change, no update is sent and the current folder is returned.
        """
        if name is not None:
            check_text(name, name="name")
        for child in sequence or ():
            check_text(child, name="sequence")
        body = update_operations(
            {
                "name": NOT_GIVEN if name is None else name,
                "sequence": NOT_GIVEN if sequence is None else sequence,
            }
        )
        if body is not None:
            await self._session.patch(self._item_path(id), json=body)
        return await self.get_by_id(id=id)

    @validate_call
    async def delete(self, *, id: str) -> None:
        """Delete a chat folder by ID.

        Parameters
        ----------
        id : str
            The ID of the folder to delete.

        Returns
        -------
        None
        """
        await self._session.delete(self._item_path(id))
