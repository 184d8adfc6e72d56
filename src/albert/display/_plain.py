"""Short values for a plain ``repr``: readable timestamps, enum values, cut-off content."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

__all__ = ["Shown", "readable_time", "short_text", "shown"]

#: Characters of content kept in a plain repr.
REPR_WIDTH = 48


class Shown(str):
    """A string a repr shows as it is, without quotes (``2026-01-02 03:04:05 UTC``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def readable_time(value: datetime | str) -> str | None:
    """Return a timestamp as people read it: ``2026-01-02 03:04:05 UTC``.

    Parameters
    ----------
    value : datetime | str
        A datetime, or an ISO 8601 string as the server sends them.

    Returns
    -------
    str | None
        The time to the second, ``UTC`` for UTC and the offset otherwise; ``None``
        for a string that is not ISO 8601.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    offset = value.utcoffset()
    if offset is None:
        return text
    if offset == timezone.utc.utcoffset(None):
        return f"{text} UTC"
    return f"{text}{value.strftime('%z')[:3]}:{value.strftime('%z')[3:]}"


def short_text(text: str, width: int = REPR_WIDTH) -> str:
    """Return ``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def shown(value: Any, *, width: int = REPR_WIDTH) -> Any:
    """Return what a short repr shows for one field's value.

    Parameters
    ----------
    value : Any
        The field's value.
    width : int, optional
        The most characters of a string or of a container's repr.

    Returns
    -------
    Any
        An enum's value, a readable timestamp, a string cut to ``width``, a
        container's repr cut to ``width``; other values as they are.
    """
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return Shown(readable_time(value))
    if isinstance(value, str):
        return short_text(value, width)
    if isinstance(value, (list, tuple)):
        value = [v.value if isinstance(v, Enum) else v for v in value]
    if isinstance(value, (dict, list)):
        text = repr(value)
        return Shown(text if len(text) <= width else text[: width - 2] + "…" + text[-1])
    return value
