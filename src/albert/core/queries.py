"""Query strings and PATCH bodies of the chat endpoints, built once for both variants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from albert._sendable import check_text
from albert.core.sentinels import NotGiven
from albert.resources.chats import ChatComponentType, ChatFlagType, ChatSessionKind

__all__ = ["flag_query", "name_filters", "session_filters", "update_operations"]

QueryParams = dict[str, Any]


def name_filters(*, name: Sequence[str] | None = None, exact_match: bool = True) -> QueryParams:
    """Return the query of a listing filtered by name.

    The server matches names exactly and has no fuzzy matching: a ``name``
    filter without ``exactMatch=true`` matches nothing. ``exactMatch`` goes
    out only with a ``name``, as the API expects.

    Parameters
    ----------
    name : Sequence[str] | None, optional
        Names to match, any of them; repeated as ``name=a&name=b``.
    exact_match : bool, optional
        Send ``exactMatch=true`` with the names (default True).

    Returns
    -------
    dict[str, Any]
        The query parameters; empty filters are left out.
    """
    params: QueryParams = {}
    if name:
        params["name"] = [check_text(each, name="name") for each in name]
        if exact_match:
            params["exactMatch"] = "true"
    return params


def session_filters(
    *,
    name: Sequence[str] | None = None,
    exact_match: bool = True,
    parent_id: str | None = None,
    kind: ChatSessionKind | None = None,
    automation_id: str | None = None,
    created_by: str | None = None,
    updated_by: str | None = None,
) -> QueryParams:
    """Return the query of a chat-session listing.

    Parameters
    ----------
    name, exact_match
        See `name_filters`.
    parent_id : str | None, optional
        Sent as ``parentId``: the sessions of one folder.
    kind : ChatSessionKind | None, optional
        Sent as ``kind``, by value.
    automation_id : str | None, optional
        Sent as ``automationId``.
    created_by : str | None, optional
        Sent as ``createdBy``.
    updated_by : str | None, optional
        Sent as ``updatedBy``.

    Returns
    -------
    dict[str, Any]
        The query parameters; filters left out are not sent.
    """
    params = name_filters(name=name, exact_match=exact_match)
    for argument, wire, value in (
        ("parent_id", "parentId", parent_id),
        ("kind", "kind", None if kind is None else kind.value),
        ("automation_id", "automationId", automation_id),
        ("created_by", "createdBy", created_by),
        ("updated_by", "updatedBy", updated_by),
    ):
        if value is not None:
            params[wire] = check_text(value, name=argument)
    return params


def update_operations(changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the data-operations body of a PATCH, or ``None`` when nothing changes.

    Parameters
    ----------
    changes : Mapping[str, Any]
        Wire attribute name to new value; values that are ``NOT_GIVEN`` are
        left out, ``None`` is sent as ``null``.

    Returns
    -------
    dict[str, Any] | None
        ``{"data": [{"operation": "update", "attribute": ..., "newValue": ...}]}``.
    """
    data = [
        {"operation": "update", "attribute": attribute, "newValue": value}
        for attribute, value in changes.items()
        if not isinstance(value, NotGiven)
    ]
    return {"data": data} if data else None


def flag_query(
    sequence: str | None,
    type: ChatFlagType | None,
    component_type: ChatComponentType | None,
) -> QueryParams:
    """Return the query that addresses a message's flag (enums go by value).

    Parameters
    ----------
    sequence : str | None
        The message's zero-padded sequence.
    type : ChatFlagType | None
        The flag type.
    component_type : ChatComponentType | None
        The component the flag is narrowed to.

    Returns
    -------
    dict[str, Any]
        ``sequence``, ``type`` and ``componentType``, those given.
    """
    params: QueryParams = {}
    if sequence is not None:
        params["sequence"] = check_text(sequence, name="sequence")
    if type is not None:
        params["type"] = type.value
    if component_type is not None:
        params["componentType"] = component_type.value
    return params
