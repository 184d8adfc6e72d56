"""A whole conversation, read: a session, its messages grouped by request, its stars.

``client.chat_sessions.transcript(id=...)`` returns a `Transcript`. Jupyter
shows it as the conversation (``_repr_html_``): each request with its
components, text as text, images as images, tool calls and cards as tables,
reasoning collapsed, errors marked; `Transcript.to_markdown` and
`Transcript.to_json` write it as ``albert-chat export`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from albert.resources.chats import ChatFlag, ChatMessage, ChatRole, ChatSession

__all__ = ["Transcript", "TranscriptRequest", "starred_keys"]


def starred_keys(flags: Iterable[ChatFlag], session_id: str | None) -> frozenset[tuple[str, str]]:
    """Return ``(source_request_id, sequence)`` of the flags that belong to one session.

    Parameters
    ----------
    flags : Iterable[ChatFlag]
        Flags of any session (``chat_flags.get_all`` lists the caller's).
    session_id : str | None
        The session.

    Returns
    -------
    frozenset[tuple[str, str]]
        The keys of that session's flagged messages.
    """
    return frozenset(
        (flag.source_request_id, flag.sequence)
        for flag in flags
        if flag.parent_id == session_id and flag.source_request_id and flag.sequence
    )


@dataclass(frozen=True, repr=False)
class TranscriptRequest:
    """One request of a conversation: the components sent under one ``source_request_id``.

    Attributes
    ----------
    source_request_id : str | None
        The request's id.
    messages : tuple[ChatMessage, ...]
        Its components, by sequence.
    """

    source_request_id: str | None
    messages: tuple[ChatMessage, ...]

    @property
    def roles(self) -> tuple[ChatRole, ...]:
        """The roles that speak in this request, in order of appearance."""
        return tuple(dict.fromkeys(m.role for m in self.messages))

    def __repr__(self) -> str:
        roles = ", ".join(r.value for r in self.roles)
        count = len(self.messages)
        return (
            f"<TranscriptRequest {self.source_request_id!r}: "
            f"{count} component{'' if count == 1 else 's'} ({roles})>"
        )


@dataclass(frozen=True, repr=False)
class Transcript:
    """A chat session with all its messages, in order, and which of them are starred.

    Display it in Jupyter for the conversation; iterate it for its messages.

    Attributes
    ----------
    session : ChatSession
        The session.
    messages : tuple[ChatMessage, ...]
        Its messages, oldest first (requests in creation order, the
        components of each by sequence).
    starred : frozenset[tuple[str, str]]
        ``(source_request_id, sequence)`` of its starred messages.
    """

    session: ChatSession
    messages: tuple[ChatMessage, ...] = ()
    starred: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @cached_property
    def requests(self) -> tuple[TranscriptRequest, ...]:
        """The messages grouped by request (``source_request_id``), in order."""
        groups: list[TranscriptRequest] = []
        current: list[ChatMessage] = []
        for message in self.messages:
            if current and message.source_request_id != current[0].source_request_id:
                groups.append(TranscriptRequest(current[0].source_request_id, tuple(current)))
                current = []
            current.append(message)
        if current:
            groups.append(TranscriptRequest(current[0].source_request_id, tuple(current)))
        return tuple(groups)

    def is_starred(self, message: ChatMessage) -> bool:
        """Tell whether a message of the transcript is starred.

        Parameters
        ----------
        message : ChatMessage
            One of `messages`.

        Returns
        -------
        bool
            Whether it carries a starred flag.
        """
        return (message.source_request_id or "", message.sequence or "") in self.starred

    def to_markdown(self) -> str:
        """Return the conversation as Markdown, as ``albert-chat export`` writes it.

        Returns
        -------
        str
            A heading per message, its content in a fenced block (nothing the
            server sent is Markdown or HTML there), ★ on the starred ones.
        """
        from albert.display import ExportRenderer

        return ExportRenderer("md", starred=self.starred).render(self.session, self.messages)

    def to_json(self) -> str:
        """Return the conversation as JSON, as ``albert-chat export --format json`` writes it.

        Returns
        -------
        str
            ``{"session": ..., "messages": [...]}`` by wire names, each
            message with ``"starred"``.
        """
        from albert.display import ExportRenderer

        return ExportRenderer("json", starred=self.starred).render(self.session, self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(self.messages)

    def __repr__(self) -> str:
        count, requests = len(self.messages), len(self.requests)
        return (
            f"<Transcript of {self.session.name!r} ({self.session.id}): "
            f"{count} message{'' if count == 1 else 's'} in {requests} "
            f"request{'' if requests == 1 else 's'}, {len(self.starred)} starred>"
        )

    def _repr_html_(self) -> str:
        from albert.display._html import transcript_html

        return transcript_html(self)

    def _repr_markdown_(self) -> str:
        # Jupyter stores every representation in the notebook: this one is cut
        # where the HTML is, so that a long session does not weigh it down.
        from albert.display import ExportRenderer
        from albert.display._html import MAX_MESSAGES

        if len(self.messages) <= MAX_MESSAGES:
            return self.to_markdown()
        renderer = ExportRenderer("md", starred=self.starred)
        shown = renderer.start(self.session) + renderer.messages(self.messages[:MAX_MESSAGES])
        return shown + (
            f"\n---\n\n{len(self.messages)} messages, {len(self.starred)} starred; the first "
            f"{MAX_MESSAGES} are shown here: to_markdown() or chat_sessions.export() writes all.\n"
        )
