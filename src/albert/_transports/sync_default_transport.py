"""The transports of the httpx client `AlbertSession` builds: httpx's own.

The twin of `albert._transports.async_default_transport`. httpx's sync
transport has no event loop to go through, and its cost per call is within
the SDK's targets of raw httpx, so `Albert` keeps it whatever
``httpx_transport`` says.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["default_transport_options"]


def default_transport_options(limits: httpx.Limits, *, httpx_transport: bool) -> dict[str, Any]:
    """Return the arguments that give a client made by the SDK its transports.

    Parameters
    ----------
    limits : httpx.Limits
        The connection pool's limits.
    httpx_transport : bool
        Ignored: the blocking client always uses httpx's own transport.

    Returns
    -------
    dict[str, Any]
        ``limits=`` alone: httpx builds its transports (proxies from the
        environment included).
    """
    return {"limits": limits}
