"""Building API paths safely: every id is one percent-encoded path segment."""

from __future__ import annotations

from urllib.parse import quote

from albert._sendable import check_text
from albert.core.config import API_PREFIX

__all__ = ["path_segment", "api_path"]


def path_segment(value: str, *, name: str = "id") -> str:
    """Percent-encode ``value`` so that it is exactly one URL path segment.

    ``"../x"`` becomes ``"..%2Fx"`` and ``"?a"`` becomes ``"%3Fa"``, so an id
    can never reach another endpoint than the one the caller meant.

    Parameters
    ----------
    value : str
        The id to place in the path.
    name : str, optional
        The argument's name, for the error message.

    Returns
    -------
    str
        The encoded segment.

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``value`` is empty, is ``"."`` or ``".."`` (which no encoding
        keeps from being read as a relative path step), or holds a lone
        surrogate (which UTF-8 cannot carry).
    """
    check_text(value, name=name)
    if not value:
        raise ValueError(f"{name} must not be empty")
    if value in (".", ".."):
        # Dots are unreserved: servers and proxies may decode "%2E%2E" back to
        # ".." and collapse the path onto another endpoint, so never send one.
        raise ValueError(f"{name} must not be {value!r}: it would name another path")
    return quote(value, safe="")


def api_path(*parts: str) -> str:
    """Join already-safe path parts under the API prefix.

    Parameters
    ----------
    *parts : str
        Literal path parts and segments made by `path_segment`.

    Returns
    -------
    str
        For example ``/api/v3/chats/sessions/abc``.
    """
    return API_PREFIX + "/" + "/".join(parts)
