"""Calling the caller's headers function in the sync client: sync functions only."""

from __future__ import annotations

import inspect

import httpx

from albert.integrations.assistant_ui.headers import HeadersSource, check_source, merged_headers

__all__ = ["check", "resolve"]

_ASYNC_REFUSED = (
    "the sync client cannot await an async headers function: pass a sync function "
    "(or a dict), or use AsyncAssistantClient"
)


def check(headers: HeadersSource) -> None:
    """Refuse a ``headers`` argument the sync client cannot use: an async function.

    Parameters
    ----------
    headers : HeadersSource
        The constructor's ``headers``.

    Raises
    ------
    TypeError
        If it is an async function, or neither headers, a function, nor ``None``.
    """
    check_source(headers)
    if inspect.iscoroutinefunction(headers) or inspect.iscoroutinefunction(
        getattr(headers, "__call__", None)  # noqa: B004 - an object with an async __call__
    ):
        raise TypeError(_ASYNC_REFUSED)


def resolve(headers: HeadersSource) -> httpx.Headers:
    """Return the headers of one request, calling a headers function.

    Parameters
    ----------
    headers : HeadersSource
        The constructor's ``headers``.

    Returns
    -------
    httpx.Headers
        The request's headers (`merged_headers`).

    Raises
    ------
    TypeError
        If the function returned an awaitable: it is closed (never left
        un-awaited) and refused.
    """
    given = headers() if callable(headers) else headers
    if inspect.isawaitable(given):
        close = getattr(given, "close", None)
        if callable(close):
            close()  # a coroutine closed is not "never awaited"
        raise TypeError(_ASYNC_REFUSED)
    return merged_headers(given)
