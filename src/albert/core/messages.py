"""Chat-message rules that do no I/O: the create body, and the message a create returns."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from pydantic import ValidationError

from albert._jsonwalk import JSONTooDeepError, map_strings
from albert._sendable import READABLE_JSON_DEPTH, check_text, clean_surrogates
from albert.core.responses import decode_error, field_errors, missing_id_error
from albert.resources.base import validate_server_python
from albert.resources.chats import ChatMessage

__all__ = ["FIRST_SEQUENCE", "created_message", "message_create_body", "require_sequence"]

#: The sequence of a request's first component, sent when a new message has none.
FIRST_SEQUENCE = "000"


def require_sequence(sequence: str) -> str:
    """Return ``sequence`` if it is a usable message position, else raise ``ValueError``.

    Parameters
    ----------
    sequence : str
        The zero-padded position of a message (``"000"``, ``"001"``, ...).

    Returns
    -------
    str
        The same sequence.
    """
    if not sequence:
        raise ValueError("sequence must not be empty (it looks like '000', '001', ...)")
    return check_text(sequence, name="sequence")


def message_create_body(message: ChatMessage) -> tuple[str, dict[str, Any]]:
    """Return the session id and the JSON body that create ``message``.

    ``parentId`` travels in the URL path, so it is taken out of the body;
    ``sourceRequestId`` is a fresh uuid4 when the caller set none, and
    ``sequence``, which the API requires, is ``"000"`` (the first component
    of a new request) when the caller set none. To add a component to an
    existing request, set both its ``source_request_id`` and the
    component's ``sequence``.

    Parameters
    ----------
    message : ChatMessage
        The message to create; ``parent_id`` must be the session's id.

    Returns
    -------
    tuple[str, dict[str, Any]]
        The session id and the body.

    Raises
    ------
    ValueError
        If ``message.parent_id`` is not set, ``message.sequence`` is empty,
        or the message holds what JSON cannot carry or is nested too deeply
        to be read back (see `albert._sendable.check_json`).
    """
    if not message.parent_id:
        raise ValueError(
            "message.parent_id must be set to the id of the chat session the message belongs to"
        )
    body = message.to_request_body(name="message")
    body.pop("parentId", None)
    if not body.get("sourceRequestId"):
        body["sourceRequestId"] = str(uuid.uuid4())
    if message.sequence is None:
        body["sequence"] = FIRST_SEQUENCE
    else:
        require_sequence(message.sequence)
    return message.parent_id, body


def created_message(
    response: httpx.Response, *, session_id: str, sent: dict[str, Any]
) -> ChatMessage:
    """Return the message a create made: the server's fields over what was sent.

    The server's create response omits ``Content`` (a known server quirk), so
    the content the caller sent is kept; the server's id, sequence and any
    other field it returns win over the sent values.

    Parameters
    ----------
    response : httpx.Response
        The create response.
    session_id : str
        The session the message was created in.
    sent : dict[str, Any]
        The body that was sent.

    Returns
    -------
    ChatMessage
        The created message.

    Raises
    ------
    AlbertDecodeError
        If the response is not a JSON object that completes a message, is
        nested too deeply to read, or holds no id (an empty body, a 204,
        ``{}``: the message could never be read, edited or deleted).
    """
    try:
        returned = json.loads(response.content) if response.content else {}
    except RecursionError:
        raise decode_error(response, "ChatMessage", "JSON nested too deeply") from None
    except ValueError:
        raise decode_error(response, "ChatMessage", "invalid JSON") from None
    if not isinstance(returned, dict):
        raise decode_error(response, "ChatMessage", "not a JSON object")
    try:
        # As `decode_model` reads them: a lone surrogate becomes U+FFFD.
        returned = map_strings(returned, clean_surrogates, max_depth=READABLE_JSON_DEPTH)
    except JSONTooDeepError:
        raise decode_error(response, "ChatMessage", "JSON nested too deeply") from None
    if not returned.get("id"):
        raise missing_id_error(response, "ChatMessage")
    try:
        return validate_server_python(ChatMessage, {**sent, "parentId": session_id, **returned})
    except ValidationError as exc:
        # Not chained: pydantic's error quotes the answer, which may echo a secret.
        raise decode_error(response, "ChatMessage", field_errors(exc)) from None
