"""The documents the emulator keeps: the API's vocabularies, field checks, audit fields, keys.

What the server knows about each field of a session, a message, a folder or a
flag lives here, once; `albert.testing.app` routes requests to it. The
vocabularies are the server's (the published ``albert`` 1.68 client's enums),
not the SDK's, so that the emulator accepts what the server accepts whatever
the SDK knows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from albert.testing._input import ApiError, choice, invalid
from albert.testing.store import Doc, Order

__all__ = [
    "ACTIVE",
    "COMPONENT_TYPES",
    "FLAG_TYPES",
    "FOLDER_TYPES",
    "ROLES",
    "SCHEMA",
    "SESSION_KINDS",
    "USER_TYPES",
    "audit_fields",
    "content_field",
    "decode_key",
    "encode_key",
    "json_object",
    "message_fields",
    "message_key",
    "new_id",
    "optional_text",
    "request_key",
    "sequence_field",
    "text_field",
    "timestamp",
    "touch",
]

# The API's vocabularies, as the server knows them (the published client's enums).
COMPONENT_TYPES = (
    "text",
    "image",
    "reasoning_block",
    "notebook_citation",
    "document_citation",
    "product_card",
    "ingredient_card",
    "tool_call",
    "error",
    "plan",
    "permission_request",
)
USER_TYPES = ("user", "system")
ROLES = ("user", "assistant")
FOLDER_TYPES = ("root", "child")
FLAG_TYPES = ("starred", "downloaded", "requested", "hallucinated")
SESSION_KINDS = ("chat", "automation")
#: The ``status`` of every resource the emulator makes.
ACTIVE = "active"

#: What the data layout of the documents is (a store without it holds the layout
#: of albert-chat before per-request sequences, and is upgraded on open).
SCHEMA = 2

#: A sequence: the zero-padded position of a component in its request.
_SEQUENCE = re.compile(r"[0-9]{1,9}")
#: A pagination key: the number of the last item's key, and its text part if any.
_KEY = re.compile(r"([0-9]{1,19})(?:\.([0-9]{1,9}))?")


def timestamp() -> str:
    """Return the time now, as the server writes it: ISO 8601, milliseconds, ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    """Return a new server id: ``<prefix>-`` and 12 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def json_object(body: Any) -> Doc:
    """Return ``body`` if it is a JSON object, else raise the 400."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def text_field(body: Doc, field: str) -> str:
    """Return a required non-empty string field, or raise its 400."""
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "is required and must be a non-empty string")
    return value


def optional_text(body: Doc, field: str) -> str | None:
    """Return an optional string field (absent or null: ``None``), or raise its 400."""
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise invalid(field, "must be a non-empty string or null")
    return value


def sequence_field(value: Any, field: str = "sequence") -> str:
    """Return a sequence (digits, ``"000"``), or raise its 400."""
    if not isinstance(value, str) or not _SEQUENCE.fullmatch(value):
        raise invalid(field, "must be a zero-padded number such as '000'")
    return value


def content_field(value: Any) -> str | Doc:
    """Return a message's ``Content`` (a string or an object), or raise its 400."""
    if isinstance(value, (str, dict)):
        return value
    raise invalid("Content", "must be a string or a JSON object")


def audit_fields(user: str, now: str) -> Doc:
    """Return the ``status`` and audit fields of a new resource (flat, and in ``Created``)."""
    return {
        "status": ACTIVE,
        "createdBy": user,
        "updatedBy": user,
        "createdAt": now,
        "updatedAt": now,
        "Created": {"by": user, "at": now},
        "Updated": {"by": user, "at": now},
    }


def touch(doc: Doc, user: str) -> None:
    """Record an update of ``doc`` by ``user``, now."""
    now = timestamp()
    doc.update(updatedBy=user, updatedAt=now, Updated={"by": user, "at": now})


def encode_key(key: Order) -> str:
    """Return a store key as a ``lastKey``: ``"42"``, or ``"42.001"`` for a message."""
    return str(key[0]) if not key[1] else f"{key[0]}.{key[1]}"


def decode_key(text: str | None) -> Order | None:
    """Return the store key of a ``startKey`` (``None`` for none), or raise its 400."""
    if text is None:
        return None
    match = _KEY.fullmatch(text)  # 19 digits at most: int() refuses 4300
    if match is None:
        raise invalid("startKey", "is not a key this server issued")
    return int(match[1]), match[2] or ""


# ---- message fields ----------------------------------------------------------------------


def _of_type(*types: type) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, types) and (bool in types or not isinstance(value, bool))

    return check


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _attachments(value: Any) -> bool:
    if not _objects(value):
        return False
    for item in value:
        for field in ("fileId", "title", "kind"):
            if not isinstance(item.get(field), str) or not item[field]:
                return False
        if item.get("sizeBytes") is not None and not _of_type(int)(item["sizeBytes"]):
            return False
        if item.get("partsSummary") is not None and not isinstance(item["partsSummary"], str):
            return False
    return True


#: The optional fields of a message: how to check each, and what the 400 says.
_MESSAGE_OPTIONAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "componentId": (_of_type(str), "must be a string"),
    "parentRequestId": (_of_type(str), "must be a string"),
    "spanId": (_of_type(str), "must be a string"),
    "branchIndex": (_of_type(int), "must be an integer"),
    "isVisible": (_of_type(bool), "must be true or false"),
    "displayFeedbackComponent": (_of_type(bool), "must be true or false"),
    "value": (_objects, "must be a list of objects"),
    "pageContext": (_of_type(dict), "must be an object"),
    "attachments": (
        _attachments,
        "must be a list of {fileId, title, kind[, sizeBytes, partsSummary]}",
    ),
    "planAction": (_of_type(dict), "must be an object"),
    "permissionAction": (_of_type(dict), "must be an object"),
    "permissionActions": (_objects, "must be a list of objects"),
}


def message_fields(body: Doc) -> Doc:
    """Return the fields of a message create body, checked, in the order answers show them."""
    if "Content" not in body:
        raise invalid("Content", "is required")
    if body.get("sequence") is None:
        raise invalid("sequence", "is required (a new request starts at '000')")
    fields: Doc = {
        "sourceRequestId": text_field(body, "sourceRequestId"),
        "sequence": sequence_field(body["sequence"]),
        "componentType": choice(body.get("componentType"), "componentType", COMPONENT_TYPES),
        "userType": choice(body.get("userType"), "userType", USER_TYPES),
        "role": choice(body.get("role"), "role", ROLES),
        "Content": content_field(body["Content"]),
    }
    for field, (check, problem) in _MESSAGE_OPTIONAL.items():
        if body.get(field) is None:
            continue
        if not check(body[field]):
            raise invalid(field, problem)
        fields[field] = body[field]
    return fields


def message_key(sid: str, srid: str, sequence: str) -> str:
    """Return the store id of a message: its session, request id and sequence."""
    # Unambiguous: session ids are the server's (no "/"), sequences are digits.
    return f"{sid}/{srid}/{sequence}"


def request_key(sid: str, srid: str) -> str:
    """Return the store id of a request of a session."""
    return f"{sid}/{srid}"
