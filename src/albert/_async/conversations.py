"""Whole conversations: a session's transcript, and its export written page by page.

Both walks read the session, its starred flags and its messages; the
transcript keeps every message (for display), the export renders each page as
it arrives and keeps none (an export of any size costs one page of memory).
`ChatSessionCollection.transcript` and `ChatSessionCollection.export` call
them, and so does ``albert-chat export``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from albert._async.collections.chat_flags import ChatFlagCollection
from albert._async.collections.chat_messages import ChatMessageCollection
from albert.display import ExportRenderer
from albert.progress import progress_bar
from albert.resources.chats import ChatFlagType, ChatMessage
from albert.resources.transcripts import Transcript, starred_keys

if TYPE_CHECKING:
    from albert._async.collections.chat_sessions import ChatSessionCollection

__all__ = ["export_text", "read_starred", "read_transcript"]


async def read_starred(flags: ChatFlagCollection, session_id: str) -> frozenset[tuple[str, str]]:
    """Return ``(source_request_id, sequence)`` of a session's starred messages.

    Parameters
    ----------
    flags : ChatFlagCollection
        The flags collection (the API lists the caller's flags of a type,
        every session's; only this session's are kept).
    session_id : str
        The session.

    Returns
    -------
    frozenset[tuple[str, str]]
        The starred messages' keys.
    """
    keys: set[tuple[str, str]] = set()
    async for page in flags.get_all(type=ChatFlagType.STARRED).pages():
        keys.update(starred_keys(page, session_id))
    return frozenset(keys)


async def read_transcript(
    sessions: ChatSessionCollection, session_id: str, *, progress: bool = False
) -> Transcript:
    """Read a session, its starred flags and all its messages into a `Transcript`.

    Parameters
    ----------
    sessions : ChatSessionCollection
        The sessions collection of the client to read with.
    session_id : str
        The session.
    progress : bool, optional
        Show a progress bar of the messages read.

    Returns
    -------
    Transcript
        The whole conversation.
    """
    session = await sessions.get_by_id(id=session_id)
    starred = await read_starred(ChatFlagCollection(session=sessions._session), session_id)
    messages: list[ChatMessage] = []
    listing = ChatMessageCollection(session=sessions._session).get_all(session_id=session_id)
    with progress_bar(progress, desc=f"reading {session.name}", unit="messages") as bar:
        async for page in listing.pages():
            messages.extend(page)
            bar.update(len(page))
    return Transcript(session=session, messages=tuple(messages), starred=starred)


async def export_text(
    sessions: ChatSessionCollection,
    session_id: str,
    renderer: ExportRenderer,
    *,
    progress: bool = False,
) -> AsyncIterator[str]:
    """Yield a session's export, piece by piece, as its pages of messages arrive.

    Parameters
    ----------
    sessions : ChatSessionCollection
        The sessions collection of the client to read with.
    session_id : str
        The session.
    renderer : ExportRenderer
        Writes the text (its ``starred`` is set here, from the flags read);
        its ``count`` says how many messages were written.
    progress : bool, optional
        Show a progress bar of the messages exported.

    Returns
    -------
    AsyncIterator[str]
        The text: the session's part first, then a piece per page of
        messages, then the end.
    """
    session = await sessions.get_by_id(id=session_id)
    renderer.starred = await read_starred(ChatFlagCollection(session=sessions._session), session_id)
    yield renderer.start(session)
    listing = ChatMessageCollection(session=sessions._session).get_all(session_id=session_id)
    pages = listing.pages()
    try:
        with progress_bar(progress, desc=f"exporting {session.name}", unit="messages") as bar:
            async for page in pages:
                yield renderer.messages(page)
                bar.update(len(page))
    finally:
        await pages.aclose()  # a consumer that stops early cancels the read-ahead now
    yield renderer.end()
