"""The assistant-ui part of ``albert-chat demo``: chat with the emulator's backend, read Albert.

Against the emulator's assistant-ui backend (``/api/chat``, ``/api/cancel``),
with the sync `AssistantClient`: a chat whose answer (a tool call, then
words) is printed as it streams; a second thread's chat cancelled
mid-stream; then both threads loaded back from Albert chat history, where
the backend saved them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from albert.testing.server import LocalAlbert

__all__ = ["ASKED", "CANCEL_AFTER", "walk_assistant_ui"]

#: The two threads and what the user asks in each.
ASKED = {
    "demo-streamed": "Which epoxy resin cures fastest? Use count_words on this question.",
    "demo-cancelled": "Tell me everything about epoxy curing, at length.",
}
#: The pieces of text the demo reads before it cancels the second chat.
CANCEL_AFTER = 6
#: Seconds between two words of the emulator's answers in the demo.
WORD_DELAY = 0.03
#: The width the transcript keeps to (an 80-column terminal).
WIDTH = 79
#: Where a streamed answer's text starts on each of its lines.
_INDENT = " " * 12


class AssistantDemoFailed(RuntimeError):
    """The assistant-ui backend's answer, or what Albert kept of it, was not what was expected."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise AssistantDemoFailed(f"the assistant-ui demo expected {what}")


def _said(text: str) -> list[dict[str, Any]]:
    message = {"role": "user", "parts": [{"type": "text", "text": text}]}
    return [{"type": "add-message", "message": message}]


def _part_line(part: dict[str, Any]) -> str:
    if part["type"] == "text":
        text = str(part["text"])
        return repr(text if len(text) <= 60 else text[:59] + "…")
    if part["type"] == "tool-call":
        return f"{part['toolName']}({part['args']})"
    if part["type"] == "tool-result":
        return f"{part['toolName']} -> {part['result']}"
    return str(part["type"])


class _StreamedLine:
    """Prints an answer piece by piece as it streams, wrapped at `WIDTH` columns."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._column = 0

    def start(self) -> None:
        print(f"  {'streamed':<9} ", end="", file=self._out, flush=True)
        self._column = len(_INDENT)

    def piece(self, text: str) -> None:
        for word in text.split(" "):
            if not word:
                continue
            space = 1 if self._column > len(_INDENT) else 0
            if self._column + space + len(word) > WIDTH:
                print(f"\n{_INDENT}", end="", file=self._out)
                self._column, space = len(_INDENT), 0
            print(" " * space + word, end="", file=self._out, flush=True)
            self._column += space + len(word)

    def end(self, note: str = "") -> None:
        if note:
            self.piece(note)
        print(file=self._out, flush=True)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def walk_assistant_ui(server: LocalAlbert, out: TextIO) -> None:
    """Chat with the emulator's assistant-ui backend, cancel a chat, and read both threads back.

    Parameters
    ----------
    server : LocalAlbert
        The running emulator.
    out : TextIO
        Where to print the transcript.

    Raises
    ------
    AssistantDemoFailed
        If an answer, or what Albert kept of it, was not what was expected.
    albert.exceptions.AlbertException
        If a call failed.
    """
    from albert.integrations.assistant_ui import AssistantClient, load_thread

    def say(label: str, text: str) -> None:
        print(f"  {label:<9} {text}" if label else text, file=out, flush=True)

    server.app.assistant.word_delay = WORD_DELAY
    say("", f"\n== assistant-ui (the emulator's backend: {server.base_url}/api/chat)")
    headers = {"Authorization": f"Bearer {server.token}"}
    with AssistantClient(server.base_url, headers=headers) as client:
        thread = client.threads("demo-streamed")
        say("user", ASKED["demo-streamed"])
        started = time.perf_counter()
        response = thread.chat(commands=_said(ASKED["demo-streamed"]))
        line = _StreamedLine(out)
        line.start()
        first: float | None = None
        for piece in response.iter_text():
            first = first if first is not None else time.perf_counter() - started
            line.piece(piece)
        line.end()
        answer = response.messages
        _check(len(answer) == 2 and answer[1]["role"] == "tool", "a tool call and its result")
        call = f"{_part_line(answer[0]['content'][0])} -> {answer[1]['content'][0]['result']}"
        say("tool", _shorten(call, WIDTH - 12))
        total = time.perf_counter() - started
        say(
            "timing",
            f"first words after {(first or 0) * 1000:.0f} ms, all of it in {total * 1000:.0f} ms",
        )

        thread = client.threads("demo-cancelled")
        say("user", ASKED["demo-cancelled"])
        response = thread.chat(commands=_said(ASKED["demo-cancelled"]))
        line = _StreamedLine(out)
        line.start()
        for count, piece in enumerate(response.iter_text(), 1):
            line.piece(piece)
            if count == CANCEL_AFTER:
                cancelled = thread.cancel().json()
                _check(cancelled.get("cancelled") is True, "the backend to stop the run")
        line.end("[cancelled]")
        partial = response.text
        full = server.app.assistant.reply(ASKED["demo-cancelled"])
        _check(len(partial.split()) < len(full.split()), "the answer to stop half-way")
        say("cancel", f"stopped after {len(partial.split())} of {len(full.split())} words")

    for _ in range(500):  # the backend saves a thread as its run ends
        if not any(server.app.assistant.running(t) for t in ASKED):
            break
        time.sleep(0.01)
    with server.client() as albert:
        for thread_id in ASKED:
            loaded = load_thread(albert, thread_id)
            say("loaded", f"thread {thread_id!r} from Albert: {len(loaded)} messages")
            for message in loaded:
                parts = ", ".join(_part_line(part) for part in message["content"])
                say("", _shorten(f"            {message['role']:<9} {parts}", WIDTH - 2))
            _check(bool(loaded) and loaded[0]["role"] == "user", f"thread {thread_id} in Albert")
        _check(loaded[-1]["content"] == [{"type": "text", "text": partial}], "the partial answer")
