"""Python SDK for the Albert chat API: `Albert` (sync) and `AsyncAlbert` (async).

Authenticate with a static token, or with an authentication manager:
`AlbertClientCredentials` (OAuth2 client credentials) or `AlbertSSOClient`
(browser login).

Names are imported on first use, so ``import albert`` stays cheap.

The package, from the top floor down (no import runs up one: pyproject's
``[tool.importlinter]``): ``cli`` (the ``albert-chat`` command), ``testing``
(the local emulator), ``integrations`` (assistant-ui), ``sync`` and
``collections`` (documented import paths), ``_async`` (the client, written by
hand) and ``_sync`` (generated from it), ``auth`` (managers and the SSO login),
``_backends`` (the twin primitives the generator maps onto each other) and
``_transports`` (the async client's aiohttp adapter), ``core`` (variant-free
logic, no I/O), ``resources`` (the models), ``exceptions``.

The Albert platform's own SDK (the ``albert`` distribution) installs an
``albert`` package too; when it is installed beside this one, importing
``albert`` warns (`albert._install.AlbertInstallWarning`) and says what to do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from albert._install import warn_if_shared
from albert._version import __version__

warn_if_shared(__path__[0], __version__)

if TYPE_CHECKING:
    from albert._async.client import AsyncAlbert
    from albert._async.paginator import AsyncAlbertPaginator
    from albert._async.session import AsyncAlbertSession
    from albert._sync.client import Albert
    from albert._sync.paginator import AlbertPaginator
    from albert._sync.session import AlbertSession
    from albert.auth.managers import AlbertClientCredentials, AlbertSSOClient

__all__ = [
    "Albert",
    "AlbertClientCredentials",
    "AlbertPaginator",
    "AlbertSSOClient",
    "AlbertSession",
    "AsyncAlbert",
    "AsyncAlbertPaginator",
    "AsyncAlbertSession",
    "__version__",
]

_LAZY = {
    "Albert": "albert._sync.client",
    "AlbertClientCredentials": "albert.auth.managers",
    "AlbertSSOClient": "albert.auth.managers",
    "AlbertPaginator": "albert._sync.paginator",
    "AlbertSession": "albert._sync.session",
    "AsyncAlbert": "albert._async.client",
    "AsyncAlbertPaginator": "albert._async.paginator",
    "AsyncAlbertSession": "albert._async.session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    value.__module__ = "albert"  # its public path (see albert._public)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
