"""The HTTP transport `Albert` sends its requests with: httpx's own.

The sync counterpart of `albert._backends.async_transport`. httpx's sync
transport has no event loop to go through, and its cost per call is within
the SDK's targets of raw httpx, so `Albert` keeps it.
"""

from __future__ import annotations

import httpx

__all__ = ["new_transport"]


def new_transport(limits: httpx.Limits) -> httpx.BaseTransport:
    """Return the transport a client made by the SDK sends its requests with.

    Parameters
    ----------
    limits : httpx.Limits
        The connection pool's limits.

    Returns
    -------
    httpx.BaseTransport
        httpx's default transport, with these limits.
    """
    return httpx.HTTPTransport(limits=limits)
