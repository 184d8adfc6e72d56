"""httpx-sse, the parser of server-sent events, imported on first use (extra ``assistant-ui``)."""

from __future__ import annotations

from types import ModuleType

__all__ = ["MISSING_EXTRA", "httpx_sse"]

MISSING_EXTRA = (
    "reading an assistant-transport stream (text/event-stream) needs httpx-sse, "
    "from the 'assistant-ui' extra: pip install 'albert-chat[assistant-ui]'"
)


def httpx_sse() -> ModuleType:
    """Return the ``httpx_sse`` module.

    Returns
    -------
    ModuleType
        ``httpx_sse``.

    Raises
    ------
    ImportError
        If it is not installed; the message names the extra to install.
    """
    try:
        import httpx_sse
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "httpx_sse":
            raise
        raise ImportError(MISSING_EXTRA, name=exc.name) from exc
    return httpx_sse
