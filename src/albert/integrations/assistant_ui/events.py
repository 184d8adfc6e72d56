"""Decoding what an assistant-ui backend streams: assistant-transport frames and data-stream lines.

Two wire formats, told apart by the response's content type:

- ``text/event-stream``: **assistant transport**, server-sent events whose
  ``data`` is one JSON frame (``{"type": "part-start", ...}``,
  ``{"type": "text-delta", "textDelta": ..., "path": [0]}``, ...), ended by
  ``data: [DONE]``; what ``assistant_stream.AssistantTransportResponse`` sends.
- ``text/plain``: the **AI SDK data stream** (v1), one ``<code>:<JSON>`` line
  per event (``0:"Hello"``, ``b:{"toolCallId": ...}``, ...); what
  ``assistant_stream.DataStreamResponse`` sends.

Both decode to `AssistantEvent`: the event's type (the frame's own ``type``,
or the name of the line's code, below), its JSON payload and the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ASSISTANT_TRANSPORT",
    "DATA_STREAM",
    "DATA_STREAM_CODES",
    "AssistantEvent",
    "StreamFormat",
    "decode_data_stream_line",
    "decode_sse_data",
    "stream_format",
]

StreamFormat = Literal["assistant-transport", "data-stream"]
#: Server-sent events carrying assistant-transport frames.
ASSISTANT_TRANSPORT: StreamFormat = "assistant-transport"
#: The AI SDK data stream, one line per event.
DATA_STREAM: StreamFormat = "data-stream"

#: Data-stream codes and the event types they decode to.
DATA_STREAM_CODES: dict[str, str] = {
    "0": "text-delta",
    "g": "reasoning-delta",
    "i": "redacted-reasoning",
    "j": "reasoning-signature",
    "b": "tool-call-begin",
    "c": "tool-call-delta",
    "9": "tool-call",
    "a": "tool-result",
    "2": "data",
    "3": "error",
    "8": "annotations",
    "h": "source",
    "k": "file",
    "f": "step-start",
    "e": "step-finish",
    "d": "finish",
    # assistant-stream's own extensions
    "aui-state": "update-state",
    "aui-text-delta": "text-delta",
    "aui-reasoning-delta": "reasoning-delta",
}


@dataclass(frozen=True)
class AssistantEvent:
    """One event of a chat's stream, decoded.

    Attributes
    ----------
    type : str
        What happened: an assistant-transport frame's ``type``
        (``part-start``, ``text-delta``, ``result``, ``error``, ...), or the
        name of a data-stream line's code (`DATA_STREAM_CODES`:
        ``text-delta``, ``tool-call-begin``, ``tool-result``, ``finish``, ...).
    data : Any
        The event's JSON payload: the whole frame (a dict) for assistant
        transport; for a data-stream line, the JSON after the code (a string
        for ``text-delta``, a dict for ``tool-call-begin``, ...).
    format : {"assistant-transport", "data-stream"}
        The wire format it came in.
    code : str | None
        The data-stream line's code (``"0"``, ``"b"``, ...); ``None`` for
        assistant transport.
    """

    type: str
    data: Any
    format: StreamFormat
    code: str | None = None


def stream_format(content_type: str | None) -> StreamFormat | None:
    """Return the wire format a response's content type announces.

    Parameters
    ----------
    content_type : str | None
        The ``Content-Type`` header.

    Returns
    -------
    {"assistant-transport", "data-stream"} | None
        ``None`` for any other content type (a JSON answer, say).
    """
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == "text/event-stream":
        return ASSISTANT_TRANSPORT
    if media_type == "text/plain":
        return DATA_STREAM
    return None


def decode_sse_data(data: str) -> AssistantEvent | None:
    """Decode the ``data`` of one server-sent event into an assistant-transport event.

    Parameters
    ----------
    data : str
        The event's data: one JSON frame, or ``[DONE]``.

    Returns
    -------
    AssistantEvent | None
        The event (type ``done`` for ``[DONE]``), or ``None`` for an empty data.

    Raises
    ------
    ValueError
        If the data is not JSON.
    """
    data = data.strip()
    if not data:
        return None
    if data == "[DONE]":
        return AssistantEvent("done", None, ASSISTANT_TRANSPORT)
    try:
        frame = json.loads(data)
    except ValueError:
        raise ValueError(f"an assistant-transport event is not JSON: {data[:80]!r}") from None
    kind = frame.get("type") if isinstance(frame, dict) else None
    return AssistantEvent(kind if isinstance(kind, str) else "unknown", frame, ASSISTANT_TRANSPORT)


def decode_data_stream_line(line: str) -> AssistantEvent | None:
    """Decode one line of an AI SDK data stream.

    Parameters
    ----------
    line : str
        ``<code>:<JSON>``, without its line break.

    Returns
    -------
    AssistantEvent | None
        The event (type ``unknown`` for a code this module does not know), or
        ``None`` for a blank line (a keep-alive).

    Raises
    ------
    ValueError
        If the line has no code or its payload is not JSON.
    """
    if not line.strip():
        return None
    code, sep, payload = line.partition(":")
    if not sep or not code:
        raise ValueError(f"a data-stream line has no code: {line[:80]!r}")
    try:
        data = json.loads(payload)
    except ValueError:
        raise ValueError(f"a data-stream line is not JSON after its code: {line[:80]!r}") from None
    return AssistantEvent(DATA_STREAM_CODES.get(code, "unknown"), data, DATA_STREAM, code)
