"""Calling the caller's headers function in the async client: sync and async functions."""

from __future__ import annotations

import inspect

import httpx

from albert.integrations.assistant_ui.headers import HeadersSource, check_source, merged_headers

__all__ = ["check", "resolve"]


def check(headers: HeadersSource) -> None:
    """Refuse a ``headers`` argument the async client cannot use.

    Parameters
    ----------
    headers : HeadersSource
        The constructor's ``headers``.

    Raises
    ------
    TypeError
        If it is neither headers, a function, nor ``None``.
    """
    check_source(headers)


async def resolve(headers: HeadersSource) -> httpx.Headers:
    """Return the headers of one request, calling (and awaiting) a headers function.

    Parameters
    ----------
    headers : HeadersSource
        The constructor's ``headers``.

    Returns
    -------
    httpx.Headers
        The request's headers (`merged_headers`).
    """
    given = headers() if callable(headers) else headers
    if inspect.isawaitable(given):
        given = await given
    return merged_headers(given)
