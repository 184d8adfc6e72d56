"""Keeping assistant-ui threads in Albert: `asave_thread` and `aload_thread`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from albert.core.logs import logger
from albert.exceptions import AlbertException, ConflictError, NotFoundError
from albert.integrations.assistant_ui.converters import (
    AssistantUIMessage,
    materialise,
    plan_components,
    to_assistant_ui,
)
from albert.integrations.assistant_ui.saving import (
    SavedThread,
    missing_components,
    new_tool_results,
    thread_name,
)
from albert.progress import progress_bar, require_progress
from albert.resources.chats import ChatSession

if TYPE_CHECKING:
    from albert._async.client import AsyncAlbert

__all__ = ["aload_thread", "asave_thread"]


async def asave_thread(
    client: AsyncAlbert,
    thread_id: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    name: str | None = None,
    progress: bool = False,
) -> SavedThread:
    """Save an assistant-ui thread into Albert chat history; store only what is not stored yet.

    The thread is the chat session whose ``source_session_id`` is
    ``thread_id``, created when there is none (when two saves of a new thread
    create one each at once, both go on in the one the thread id finds, and
    the other is deleted, still empty). Its messages are converted
    (`from_assistant_ui`) and the components the session does not hold yet
    (by request id and sequence) are created, in order; a tool call stored
    before its result came is given the result (`new_tool_results`); nothing
    else stored is changed. Saving the same thread twice creates nothing the
    second time; saving again after a failure part-way stores the rest,
    without duplicates.

    Parameters
    ----------
    client : AsyncAlbert
        The Albert client.
    thread_id : str
        The thread's id.
    messages : Sequence[dict]
        The whole thread, as assistant-ui messages (what `aload_thread`
        returned, with the new messages after it).
    name : str | None, optional
        The name of the session, if it is created (default: the first user
        text, shortened).
    progress : bool, optional
        Show a progress bar of the components written (tqdm: ``pip install
        'albert-chat[notebook]'``); silent by default.

    Returns
    -------
    SavedThread
        The session, the components this call created, and the tool calls it
        gave their result.

    Raises
    ------
    ValueError
        If ``thread_id`` is empty or a message cannot be stored
        (see `from_assistant_ui`); nothing is sent.
    ImportError
        If ``progress=True`` and tqdm is not installed; nothing is sent.
    AlbertHTTPError, AlbertTransportError
        If a call failed: what was created before stays, and saving again
        completes it.
    """
    if not isinstance(thread_id, str) or not thread_id:
        raise ValueError("thread_id must be a non-empty string")
    require_progress(progress)
    planned = plan_components(messages)  # bad input fails here, before anything is sent
    session, created_now = await _thread_session(
        client, thread_id, name or thread_name(messages, thread_id)
    )
    session_id = session.id or ""
    components = materialise(planned, session_id=session_id)
    stored = (
        []
        if created_now
        else [m async for m in client.chat_messages.get_all(session_id=session_id)]
    )
    # What this call writes, known before the first write (a progress report's total).
    to_create = missing_components(components, stored)
    to_complete = new_tool_results(components, stored)
    created = []
    updated = []
    total = len(to_create) + len(to_complete)
    with progress_bar(progress, desc=f"saving {thread_id}", unit="messages", total=total) as bar:
        for component in to_create:
            # A 409: stored meanwhile, by a concurrent save or an attempt whose answer was lost.
            with contextlib.suppress(ConflictError):
                created.append(await client.chat_messages.create(message=component))
            bar.update()
        for call in to_complete:
            updated.append(
                await client.chat_messages.update(
                    session_id=session_id,
                    source_request_id=call.source_request_id or "",
                    sequence=call.sequence or "",
                    content=call.content,
                )
            )
            bar.update()
    return SavedThread(session=session, created=created, updated=updated)


async def aload_thread(client: AsyncAlbert, thread_id: str) -> list[AssistantUIMessage]:
    """Load an assistant-ui thread from Albert chat history.

    Parameters
    ----------
    client : AsyncAlbert
        The Albert client.
    thread_id : str
        The thread's id (the ``source_session_id`` of its chat session).

    Returns
    -------
    list[dict]
        The thread as assistant-ui messages (`to_assistant_ui`); empty when
        no session has this thread id (a new thread).

    Raises
    ------
    ValueError
        If ``thread_id`` is empty.
    AlbertHTTPError, AlbertTransportError
        If a call failed.
    """
    if not isinstance(thread_id, str) or not thread_id:
        raise ValueError("thread_id must be a non-empty string")
    try:
        session = await client.chat_sessions.get_by_source_session_id(source_session_id=thread_id)
    except NotFoundError:
        return []
    return to_assistant_ui(
        [m async for m in client.chat_messages.get_all(session_id=session.id or "")]
    )


async def _thread_session(
    client: AsyncAlbert, thread_id: str, name: str
) -> tuple[ChatSession, bool]:
    """Return the thread's session, and whether it was created now (so it holds nothing)."""
    sessions = client.chat_sessions
    try:
        return await sessions.get_by_source_session_id(source_session_id=thread_id), False
    except NotFoundError:
        pass
    try:
        created = await sessions.create(session=ChatSession(name=name, source_session_id=thread_id))
    except ConflictError:  # the thread id is taken: a concurrent save created the session
        return await sessions.get_by_source_session_id(source_session_id=thread_id), False
    # Two saves of a new thread at once may both create a session: the thread's
    # is the one its id finds (the oldest), and the other is deleted, still empty.
    found = await sessions.get_by_source_session_id(source_session_id=thread_id)
    if found.id == created.id:
        return created, True
    try:
        await sessions.delete(id=created.id or "")
    except AlbertException as exc:
        logger.warning(
            "thread %r: a concurrent save created its session first; deleting the empty "
            "duplicate %r failed: %s",
            thread_id,
            created.id,
            exc,
        )
    return found, False
