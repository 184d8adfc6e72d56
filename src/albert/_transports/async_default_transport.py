"""The transports of the httpx client `AsyncAlbertSession` builds: aiohttp's, through our adapter.

The twin of `albert._transports.sync_default_transport` (the generator maps
one module name onto the other). httpx ignores the environment's proxies once
a client is given a transport, so this module reads them as httpx does
(``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and mounts one
transport per proxy, as httpx would.
"""

from __future__ import annotations

from typing import Any

import httpx
from httpx._utils import get_environment_proxies  # the rules httpx's trust_env applies

from albert._transports.aiohttp_transport import AiohttpTransport

__all__ = ["default_transport_options"]


def default_transport_options(limits: httpx.Limits, *, httpx_transport: bool) -> dict[str, Any]:
    """Return the arguments that give a client made by the SDK its transports.

    Parameters
    ----------
    limits : httpx.Limits
        The connection pool's limits (each proxy gets a pool of its own, as in httpx).
    httpx_transport : bool
        Leave the client to httpx's own transport (httpcore) instead.

    Returns
    -------
    dict[str, Any]
        ``transport=`` an `AiohttpTransport` and ``mounts=`` the environment's
        proxies (SOCKS ones through httpx's transport: aiohttp has no SOCKS);
        or, with ``httpx_transport``, ``limits=`` alone: httpx builds its own.
    """
    if httpx_transport:
        return {"limits": limits}
    ssl_context = httpx.create_ssl_context()  # httpx's defaults: certifi, SSL_CERT_FILE/DIR
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, url in get_environment_proxies().items():
        if url is None:  # NO_PROXY: the client's default transport
            mounts[pattern] = None
            continue
        proxy = httpx.Proxy(url)
        if proxy.url.scheme in ("http", "https"):
            mounts[pattern] = AiohttpTransport(ssl_context=ssl_context, limits=limits, proxy=proxy)
        else:
            mounts[pattern] = httpx.AsyncHTTPTransport(
                verify=ssl_context, limits=limits, proxy=proxy
            )
    return {
        "transport": AiohttpTransport(ssl_context=ssl_context, limits=limits),
        "mounts": mounts,
    }
