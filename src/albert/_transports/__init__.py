"""The transports under the httpx clients the SDK builds.

``aiohttp_transport`` is an `httpx.AsyncBaseTransport` over aiohttp's HTTP
stack, which `AsyncAlbert` sends through on asyncio and uvloop.
``async_default_transport`` and ``sync_default_transport`` are a twin pair the
code generator maps onto each other: they say which transports a client built
by `AsyncAlbertSession` / `AlbertSession` gets (the sync one: httpx's own).
"""
