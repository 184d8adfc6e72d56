"""The walk of ``albert-chat demo``: the SDK's main job, step by step, to read and copy.

A folder and a session in it; a conversation written as the chat UI writes
it (the user's turn is one request, the assistant's turn another, its
components at sequences "000", "001", ...); the session listed back page by
page; the answer's text starred and edited, addressed by its request id and
sequence; an export; and the clean-up, checked with exact name filters.
What the walk writes, and the checks of what the server answered, come from
`albert.cli.demo_script`.
"""

from __future__ import annotations

import uuid

from albert import AsyncAlbert
from albert.cli import demo_script as script
from albert.cli.export import export_session_async, render
from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolder,
    ChatFolderType,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatUserType,
)

__all__ = ["walk"]


async def walk(base_url: str, token: str, transcript: script.Transcript) -> None:
    """Walk the SDK's main job against the API at ``base_url``.

    Parameters
    ----------
    base_url : str
        The API's address (the demo's emulator).
    token : str
        The bearer token.
    transcript : albert.cli.demo_script.Transcript
        Checks every answer of the server and prints a line for it.

    Raises
    ------
    albert.cli.demo_script.DemoFailed
        If the server answered something the demo did not expect.
    albert.exceptions.AlbertException
        If a call failed.
    """
    async with AsyncAlbert(base_url=base_url, token=token) as client:
        # A folder, and a session filed in it.
        folder = await client.chat_folders.create(
            folder=ChatFolder(name=script.FOLDER_NAME, folder_type=ChatFolderType.ROOT)
        )
        folder_id = transcript.folder(folder)
        session = await client.chat_sessions.create(
            session=ChatSession(
                name=script.SESSION_NAME,
                source_session_id=script.SOURCE_SESSION_ID,
                parent_id=folder_id,
            )
        )
        session_id = transcript.session(session, folder_id)

        # The user's turn: one request. With no source_request_id and no
        # sequence, the SDK sends a fresh uuid4 and "000".
        question = await client.chat_messages.create(
            message=ChatMessage(
                parent_id=session_id,
                component_type=ChatComponentType.TEXT,
                user_type=ChatUserType.USER,
                role=ChatRole.USER,
                content=script.QUESTION,
            )
        )
        transcript.question(question)

        # The assistant's turn: one request, its components at "000", "001", ...
        request_id = str(uuid.uuid4())
        answer = []
        for position, (component_type, content) in enumerate(script.ANSWER):
            component = ChatMessage(
                parent_id=session_id,
                source_request_id=request_id,
                sequence=f"{position:03d}",
                component_type=component_type,
                user_type=ChatUserType.SYSTEM,
                role=ChatRole.ASSISTANT,
                content=content,
            )
            answer.append(await client.chat_messages.create(message=component))
        transcript.answer(answer, request_id)

        # Listed back page by page: requests in creation order, components by sequence.
        async for page in client.chat_messages.get_all(session_id=session_id).pages():
            transcript.page(page)
        transcript.listed()

        # Star the answer's text and edit it, addressed by (source_request_id, sequence).
        text = f"{script.ANSWER_TEXT:03d}"
        await client.chat_flags.add(
            session_id=session_id,
            source_request_id=request_id,
            sequence=text,
            type=ChatFlagType.STARRED,
        )
        flags = await client.chat_flags.get_by_message(
            session_id=session_id, source_request_id=request_id, sequence=text
        )
        transcript.starred(flags, request_id, text)
        edited = await client.chat_messages.update(
            session_id=session_id,
            source_request_id=request_id,
            sequence=text,
            content=script.EDITED,
        )
        transcript.edited(edited)

        # The session as Markdown, as `albert-chat export` writes it.
        export = await export_session_async(client, session_id)
        transcript.exported(render(export, "md"))

        # Clean up, and look for what is left by exact name (the server has no fuzzy match).
        await client.chat_flags.remove(
            session_id=session_id,
            source_request_id=request_id,
            sequence=text,
            type=ChatFlagType.STARRED,
        )
        await client.chat_sessions.delete(id=session_id)
        await client.chat_folders.delete(id=folder_id)
        sessions = client.chat_sessions.get_all(name=[script.SESSION_NAME], exact_match=True)
        folders = client.chat_folders.get_all(name=[script.FOLDER_NAME], exact_match=True)
        transcript.cleaned([s async for s in sessions], [f async for f in folders])
