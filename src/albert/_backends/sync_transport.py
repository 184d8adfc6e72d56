"""The connection pool of the clients `Albert` makes: httpx's own.

The sync counterpart of `albert._backends.async_transport`. httpx's sync
transport has no event loop to go through, and its cost per call is within
the SDK's targets of raw httpx, so `Albert` keeps it.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["pool_options"]


def pool_options(limits: httpx.Limits) -> dict[str, Any]:
    """Return the arguments that give a client made by the SDK its connection pool.

    Parameters
    ----------
    limits : httpx.Limits
        The connection pool's limits.

    Returns
    -------
    dict[str, Any]
        ``limits=`` alone: httpx builds its transports (proxies from the
        environment included).
    """
    return {"limits": limits}
