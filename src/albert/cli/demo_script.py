"""What ``albert-chat demo`` writes, what it expects back, and how it prints each step.

The walk that talks to the server is written once, async, in
`albert.cli._async.demo_walk` and generated into `albert.cli._sync.demo_walk`; both
import this module for everything that does no I/O: the conversation, the
checks of the server's answers, and the transcript's lines. A check that
fails raises `DemoFailed`, naming what was expected and what came back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from albert.resources.chats import ChatComponentType

if TYPE_CHECKING:
    from albert.resources.chats import ChatFlagsInMessage, ChatFolder, ChatMessage, ChatSession

__all__ = [
    "ANSWER",
    "ANSWER_TEXT",
    "EDITED",
    "FOLDER_NAME",
    "QUESTION",
    "SESSION_NAME",
    "SOURCE_SESSION_ID",
    "DemoFailed",
    "Transcript",
]

#: The folder the demo files its session in.
FOLDER_NAME = "Resins"
#: The session's name, and the chat UI's id for it.
SESSION_NAME = "Cure speed"
SOURCE_SESSION_ID = "demo-cure-speed"
#: The user's turn: one request, its text at sequence "000".
QUESTION = "Which epoxy resin cures fastest at room temperature?"
#: The assistant's turn: one request, these components at "000", "001", ... in order.
ANSWER: list[tuple[ChatComponentType, str | dict[str, Any]]] = [
    (
        ChatComponentType.REASONING_BLOCK,
        {"steps": ["compare gel times at 25 °C", "keep resins with Tg above 60 °C"]},
    ),
    (
        ChatComponentType.TOOL_CALL,
        {"tool": "search_formulations", "arguments": {"cure": "room temperature"}},
    ),
    (ChatComponentType.TEXT, "Resin B gels in 4 minutes at 25 °C."),
    (
        ChatComponentType.IMAGE,
        {"url": "https://example.com/gel-times.png", "alt": "gel time per resin"},
    ),
    (ChatComponentType.ERROR, {"code": "TOOL_TIMEOUT", "message": "the lab database timed out"}),
]
#: Which component of `ANSWER` the demo stars and edits (the text): its position.
ANSWER_TEXT = 2
#: The answer's text after the edit.
EDITED = "Resin B gels in 4 min at 25 °C (2 mm film, 100 g mass)."

#: The transcript's width: it reads on an 80-column terminal.
WIDTH = 79
#: Where a step's text starts: two spaces, the step's label, a space.
_LABEL = 9


class DemoFailed(RuntimeError):
    """The server's answer was not what the demo expected."""


def _check(condition: bool, expected: str, got: object = None) -> None:
    if not condition:
        answered = "" if got is None else f", the server answered {got}"
        raise DemoFailed(f"the demo expected {expected}{answered}")


def _short(content: str | dict[str, Any], width: int) -> str:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Transcript:
    """The transcript of one walk: checks each answer of the server and prints a line for it.

    Requests are named ``req 1``, ``req 2``, ... in the order the walk
    makes them, and a component as its request and its sequence
    (``req 2 #001``).

    Parameters
    ----------
    out : TextIO
        Where to print.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._requests: dict[str, int] = {}
        self._created: list[ChatMessage] = []
        self._listed: list[ChatMessage] = []
        self._pages = 0

    def say(self, label: str, text: str) -> None:
        """Print one line: a step's label and its text (a bare line without a label).

        Parameters
        ----------
        label : str
            The step (``folder``, ``message``, ...), or ``""``.
        text : str
            What to say.
        """
        line = f"  {label:<{_LABEL}} {text}" if label else text
        print(line.rstrip(), file=self.out, flush=True)

    def _request(self, source_request_id: str | None) -> str:
        number = self._requests.setdefault(source_request_id or "", len(self._requests) + 1)
        return f"req {number}"

    def _address(self, message: ChatMessage) -> str:
        return f"{self._request(message.source_request_id)} #{message.sequence}"

    def folder(self, folder: ChatFolder) -> str:
        """Check the folder the server made, print it, and return its id.

        Parameters
        ----------
        folder : ChatFolder
            The server's answer to the create.

        Returns
        -------
        str
            The folder's id.
        """
        _check(bool(folder.id) and folder.name == FOLDER_NAME, f"a folder {FOLDER_NAME!r}")
        self.say("folder", f"{folder.id}  {folder.name!r}")
        return folder.id or ""

    def session(self, session: ChatSession, folder_id: str) -> str:
        """Check the session the server made in the folder, print it, and return its id.

        Parameters
        ----------
        session : ChatSession
            The server's answer to the create.
        folder_id : str
            The folder it was filed in.

        Returns
        -------
        str
            The session's id.
        """
        _check(bool(session.id) and session.parent_id == folder_id, "a session in the folder")
        self.say("session", f"{session.id}  {session.name!r} in {session.parent_id}")
        return session.id or ""

    def _components(self, messages: Sequence[ChatMessage], turn: str) -> None:
        request_id = messages[0].source_request_id
        self.say("request", f"{self._request(request_id)} {request_id}: the {turn}'s turn")
        for message in messages:
            self.say("message", self._message_line(message))
        self._created.extend(messages)

    def _message_line(self, message: ChatMessage) -> str:
        role, kind = message.role.value, message.component_type.value
        head = f"{self._address(message)} {role:<9} {kind:<15} "
        return head + _short(message.content, WIDTH - 3 - _LABEL - len(head))

    def question(self, message: ChatMessage) -> None:
        """Check the user's turn (one request, its text at ``"000"``) and print it.

        Parameters
        ----------
        message : ChatMessage
            The server's answer to the create.
        """
        _check(bool(message.id), "a message id", message)
        _check(bool(message.source_request_id), "the request id the SDK chose", message)
        _check(message.sequence == "000", "the question at sequence '000'", message.sequence)
        self._components([message], "user")

    def answer(self, messages: Sequence[ChatMessage], source_request_id: str) -> None:
        """Check the assistant's turn (one request, components ``"000"``, ``"001"``, ...).

        Parameters
        ----------
        messages : Sequence[ChatMessage]
            The server's answers to the creates, in order.
        source_request_id : str
            The request id the walk chose for the turn.
        """
        expected = [f"{position:03d}" for position in range(len(ANSWER))]
        _check(all(m.id for m in messages), "an id for every component")
        _check(
            {m.source_request_id for m in messages} == {source_request_id},
            f"every component in request {source_request_id}",
        )
        _check(
            [m.sequence for m in messages] == expected,
            f"the components at {expected}",
            [m.sequence for m in messages],
        )
        self._components(messages, "assistant")

    def page(self, messages: Sequence[ChatMessage]) -> None:
        """Print one page of the session's listing: each message as its request and sequence.

        Parameters
        ----------
        messages : Sequence[ChatMessage]
            The page's messages.
        """
        self._pages += 1
        self._listed.extend(messages)
        self.say("listed", f"page {self._pages}: {self._grouped(messages)}")

    def _grouped(self, messages: Sequence[ChatMessage]) -> str:
        """Return messages as their requests and sequences: ``req 1 #000 · req 2 #000 #001``."""
        groups: list[list[str]] = []
        for message in messages:
            request = self._request(message.source_request_id)
            if not groups or groups[-1][0] != request:
                groups.append([request])
            groups[-1].append(f"#{message.sequence}")
        return " · ".join(" ".join(group) for group in groups)

    def listed(self) -> None:
        """Check the listing: requests in creation order, components by sequence, each once."""
        _check(
            [m.id for m in self._listed] == [m.id for m in self._created],
            f"the listing {self._grouped(self._created)}",
            self._grouped(self._listed),
        )
        self.say(
            "listed",
            f"{len(self._listed)} messages in {self._pages} pages: "
            "requests in order, components by sequence",
        )

    def starred(self, flags: ChatFlagsInMessage, source_request_id: str, sequence: str) -> None:
        """Check that the message is starred, and print its flags.

        Parameters
        ----------
        flags : ChatFlagsInMessage
            The server's flags of the message.
        source_request_id : str
            The message's request id.
        sequence : str
            The message's sequence.
        """
        names = [flag.value for flag in flags.flags or []]
        _check(names == ["starred"], "the answer's text starred", names)
        self.say(
            "starred",
            f"{self._request(source_request_id)} #{sequence}; its flags: {', '.join(names)}",
        )

    def edited(self, message: ChatMessage) -> None:
        """Check the edited message the server read back, and print it.

        Parameters
        ----------
        message : ChatMessage
            The server's answer to the update.
        """
        _check(message.content == EDITED, f"the edited text {EDITED!r}", repr(message.content))
        head = f"{self._address(message)} "
        self.say("edited", head + _short(message.content, WIDTH - 3 - _LABEL - len(head)))

    def exported(self, text: str) -> None:
        """Check the Markdown export (the edit and the star) and print its header and the answer.

        Parameters
        ----------
        text : str
            The rendered export.
        """
        _check(EDITED in text and "★" in text, "the edit and the star in the export")
        lines = text.splitlines()
        header = lines[: next(i for i, line in enumerate(lines) if line.startswith("## "))]
        start = next(i for i, line in enumerate(lines) if line.endswith("★"))
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
        self.say("exported", "Markdown:")
        for line in [*header, "…", *lines[start:end], f"… ({len(lines)} lines in all)"]:
            self.say("", f"{' ' * (_LABEL + 3)}| {line}")

    def cleaned(self, sessions: Sequence[ChatSession], folders: Sequence[ChatFolder]) -> None:
        """Check that nothing the walk made is left, by exact name, and say so.

        Parameters
        ----------
        sessions : Sequence[ChatSession]
            The sessions named `SESSION_NAME` after the clean-up.
        folders : Sequence[ChatFolder]
            The folders named `FOLDER_NAME` after the clean-up.
        """
        _check(not sessions, f"no session named {SESSION_NAME!r} left", [s.id for s in sessions])
        _check(not folders, f"no folder named {FOLDER_NAME!r} left", [f.id for f in folders])
        self.say("cleaned", "removed the star, deleted the session and the folder")
