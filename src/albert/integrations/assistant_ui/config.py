"""The options of an assistant-ui client: the backend's URL, its routes, when to retry (no I/O)."""

from __future__ import annotations

import httpx

from albert.core.retry import nothing_was_sent, retry_reason

__all__ = ["CANCEL_PATH", "CHAT_PATH", "backend_url", "retry_cancel", "retry_chat"]

#: The routes of an assistant-ui backend, below its base URL.
CHAT_PATH = "/api/chat"
CANCEL_PATH = "/api/cancel"


def backend_url(base_url: object) -> str:
    """Return the base URL of an assistant-ui backend, checked, without a trailing slash.

    Parameters
    ----------
    base_url : object
        What the caller passed (``"https://chat.example.com"``, or with a path
        prefix: ``"https://example.com/assistant"``).

    Returns
    -------
    str
        The URL; the routes (``/api/chat``, ``/api/cancel``) are added to it.

    Raises
    ------
    TypeError
        If it is not a string.
    ValueError
        If it is not an absolute http(s) URL, or carries a password, a query
        or a fragment.
    """
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string, got {type(base_url).__name__}")
    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if url.userinfo:  # not echoed: it holds a password
        raise ValueError("base_url must not carry a user name or password; pass headers=")
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    if url.query or url.fragment:
        raise ValueError(f"base_url must not carry a query or a fragment, got {base_url!r}")
    return str(url).rstrip("/")


def retry_chat(exc: BaseException) -> bool:
    """Tell whether a failed chat may be sent again: only if it cannot have reached the backend.

    A chat starts a run (a model call, tools, a saved answer), so it is
    retried after a connect failure only; a server error, a 429 or a lost
    connection is raised at once.

    Parameters
    ----------
    exc : BaseException
        The failure of one attempt.

    Returns
    -------
    bool
        Whether to retry.
    """
    return nothing_was_sent(exc)


def retry_cancel(exc: BaseException) -> bool:
    """Tell whether a failed cancel may be sent again: as any idempotent call (`albert.core.retry`).

    Parameters
    ----------
    exc : BaseException
        The failure of one attempt.

    Returns
    -------
    bool
        Whether to retry.
    """
    return retry_reason(exc, method="POST", idempotent=True) is not None
