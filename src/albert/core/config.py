"""Client configuration: defaults, environment variables and their resolution."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

import httpx

from albert._sendable import check_text
from albert._version import __version__
from albert.exceptions import AlbertAuthError

__all__ = [
    "API_ONLY_HEADERS",
    "API_PREFIX",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_BASE_URL",
    "ENV_TOKEN",
    "build_headers",
    "is_header_name",
    "resolve_base_url",
    "resolve_timeout",
    "resolve_token",
    "split_api_headers",
]

DEFAULT_BASE_URL = "https://app.albertinvent.com"
API_PREFIX = "/api/v3"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3

ENV_BASE_URL = "ALBERT_BASE_URL"
ENV_TOKEN = "ALBERT_TOKEN"

USER_AGENT = f"albert-chat-python/{__version__} python/{platform.python_version()}"


def resolve_base_url(base_url: str | None) -> str:
    """Return the base URL to use: the argument, else ``ALBERT_BASE_URL``, else the default.

    Parameters
    ----------
    base_url : str | None
        The base URL the caller gave, if any.

    Returns
    -------
    str
        An ``http`` or ``https`` URL without a trailing slash.

    Raises
    ------
    TypeError
        If ``base_url`` is not a string.
    ValueError
        If the URL is not an absolute ``http(s)`` URL, or carries a user name
        or password.
    """
    if base_url is not None and not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string, got {type(base_url).__name__}")
    raw = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    check_text(raw, name="base_url")
    try:
        url = httpx.URL(raw.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if url.userinfo:
        # Not echoed: it holds a password. The URL would reach reprs, errors and logs.
        raise ValueError(
            "base_url must not carry a user name or password; "
            "pass credentials with token= or auth_manager="
        )
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {raw!r}")
    if url.query or url.fragment:
        raise ValueError(f"base_url must not carry a query or a fragment, got {raw!r}")
    return str(url).rstrip("/")


def resolve_token(token: str | None) -> str:
    """Return the static token to use: the argument, else ``ALBERT_TOKEN``.

    Parameters
    ----------
    token : str | None
        The token the caller gave, if any.

    Returns
    -------
    str
        The token, without surrounding whitespace (a token read from a file
        or a CRLF ``.env`` often ends with a line break).

    Raises
    ------
    AlbertAuthError
        If neither the argument nor the environment variable holds a token.
    TypeError
        If ``token`` is not a string.
    ValueError
        If the token holds characters a bearer token cannot hold (spaces,
        control characters, non-ASCII). The message never shows the token.
    """
    if token is not None and not isinstance(token, str):
        raise TypeError(f"token must be a string, got {type(token).__name__}")
    resolved = (token or os.environ.get(ENV_TOKEN) or "").strip()
    if not resolved:
        raise AlbertAuthError(
            "No credentials: pass token=... (or auth_manager=...), "
            f"or set the {ENV_TOKEN} environment variable."
        )
    if not all("!" <= char <= "~" for char in resolved):
        raise ValueError(
            "the token holds a space, a control character or a non-ASCII character, "
            "which a bearer token cannot (it is not shown here)"
        )
    return resolved


def resolve_timeout(timeout: httpx.Timeout | float | None) -> httpx.Timeout:
    """Return ``timeout`` as an ``httpx.Timeout``; ``None`` means no timeout at all.

    Parameters
    ----------
    timeout : httpx.Timeout | float | None
        Seconds for every phase, a full ``httpx.Timeout``, or ``None``.

    Returns
    -------
    httpx.Timeout
        The timeout to send requests with.

    Raises
    ------
    TypeError
        If ``timeout`` is none of those (a string, for example).
    ValueError
        If a number of seconds is negative.
    """
    resolved = timeout if isinstance(timeout, httpx.Timeout) else None
    if resolved is None:
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float)
        ):
            raise TypeError(
                f"timeout must be seconds, an httpx.Timeout or None, got {type(timeout).__name__}"
            )
        resolved = httpx.Timeout(timeout)
    for phase, seconds in resolved.as_dict().items():
        if seconds is not None and not seconds >= 0:  # also NaN
            raise ValueError(f"timeout must be 0 or more, got {seconds} s to {phase}")
    return resolved


#: Headers that only requests to the API carry (lower case): the credentials
#: and the body type. They are never defaults of an HTTP client the caller can
#: reach, and never go to a token endpoint.
API_ONLY_HEADERS = frozenset({"authorization", "content-type"})


def split_api_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split headers into those any request may carry and those only API requests carry.

    Parameters
    ----------
    headers : Mapping[str, str]
        The headers every API request carries.

    Returns
    -------
    tuple[dict[str, str], dict[str, str]]
        ``(shared, api_only)``: ``api_only`` holds the `API_ONLY_HEADERS`
        found (any case), ``shared`` the rest.
    """
    shared: dict[str, str] = {}
    api_only: dict[str, str] = {}
    for name, value in headers.items():
        (api_only if name.lower() in API_ONLY_HEADERS else shared)[name] = value
    return shared, api_only


def build_headers(extra: Mapping[str, str] | None) -> dict[str, str]:
    """Return the headers every request carries, the caller's ``extra`` winning.

    Parameters
    ----------
    extra : Mapping[str, str] | None
        Headers the caller added (a mapping, or name-value pairs).

    Returns
    -------
    dict[str, str]
        ``Accept``, ``Content-Type`` and ``User-Agent``, then ``extra``.

    Raises
    ------
    TypeError
        If a name or a value is not a string.
    ValueError
        If a name is not a valid header name, or a value holds a control
        character (a line break would let it inject other headers) or a
        non-ASCII character.
    """
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    if extra:
        given = dict(extra)  # a mapping, or pairs, as dict.update took them
        for name, value in given.items():
            _check_header(name, value)
        headers.update(given)
    return headers


#: The characters of an HTTP header name (RFC 9110 "token").
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def is_header_name(name: object) -> bool:
    """Tell whether ``name`` can be sent as an HTTP header name (an RFC 9110 token).

    Parameters
    ----------
    name : object
        The candidate name.

    Returns
    -------
    bool
        ``True`` for a non-empty string of token characters.
    """
    return isinstance(name, str) and bool(name) and _TOKEN_CHARS.issuperset(name)


def _check_header(name: object, value: object) -> None:
    # Checked here, not when httpx sends: its error quotes the value, which may
    # be a secret, and would come as a failed connection, after retries.
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(
            f"headers must map strings to strings, got {name!r}: a {type(value).__name__}"
        )
    if not is_header_name(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP header name")
    if value != value.strip(" \t") or any(
        char > "~" or (char < " " and char != "\t") for char in value
    ):
        raise ValueError(
            f"the value of header {name!r} starts or ends with a space, or holds a line "
            "break, another control character or a non-ASCII character (it is not shown here)"
        )
