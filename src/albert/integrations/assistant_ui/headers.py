"""The request headers of an assistant-ui client: defaults, the caller's, checked (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from albert.core.config import USER_AGENT, build_headers

__all__ = ["STREAM_ACCEPT", "HeadersSource", "check_source", "merged_headers"]

#: Headers, or a function returning them (an async function too, in the async client).
HeadersSource = Mapping[str, str] | Callable[[], Any] | None

#: The streams the client reads: assistant transport first, the AI SDK data stream next.
STREAM_ACCEPT = "text/event-stream, text/plain;q=0.9, */*;q=0.1"

_DEFAULTS = {"Accept": STREAM_ACCEPT, "User-Agent": USER_AGENT}


def check_source(headers: object) -> None:
    """Refuse what is neither headers, a function, nor ``None``.

    Parameters
    ----------
    headers : object
        What the caller passed as ``headers``.

    Raises
    ------
    TypeError
        If it is something else.
    """
    if headers is not None and not isinstance(headers, Mapping) and not callable(headers):
        raise TypeError(
            "headers must be a dict, a function returning one, or None; "
            f"got {type(headers).__name__}"
        )


def merged_headers(given: object) -> httpx.Headers:
    """Return the headers of a request: the client's defaults, then the caller's.

    Parameters
    ----------
    given : object
        What the caller's ``headers`` gave (a mapping, or ``None``).

    Returns
    -------
    httpx.Headers
        ``Accept`` (`STREAM_ACCEPT`) and ``User-Agent``, replaced by the
        caller's headers of the same name (any case).

    Raises
    ------
    TypeError
        If ``given`` is not a mapping of strings to strings.
    ValueError
        If a header name or value could not be sent (see
        `albert.core.config.build_headers`).
    """
    headers = httpx.Headers(_DEFAULTS)
    if given is None:
        return headers
    if not isinstance(given, Mapping):
        raise TypeError(f"the headers function must return a dict, got {type(given).__name__}")
    build_headers(given)  # checks names and values; the message never shows a value
    headers.update(dict(given))
    return headers
