"""Who may use the emulator: its static token, client credentials and SSO e-mails.

Only what the emulator was started with opens it. When the caller chose no
credentials at all, it makes its own (a random token, and the client
``albert-local`` with a random secret) and a SQLite file remembers them, so a
restarted emulator keeps accepting the clients of the last run; ``albert-chat
serve`` prints them. Choosing any of a token, client credentials or SSO
e-mails means exactly those: no default client is added. SSO logins are open
only to the e-mails listed, since the emulator's login page asks for no
password.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from albert.testing.store import Store

__all__ = ["DEFAULT_CLIENT_ID", "Credentials", "resolve_credentials"]

#: The client id of the credentials the emulator makes when it is given none.
DEFAULT_CLIENT_ID = "albert-local"

#: What a bearer token may hold (RFC 6750 ``b64token``): it must fit in a header.
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

#: Where a store remembers the credentials, and where an older version kept its token.
_REMEMBERED = ("setting", "credentials")
_LEGACY_TOKEN = ("setting", "token")


@dataclass(frozen=True)
class Credentials:
    """What opens the emulator.

    Attributes
    ----------
    token : str
        The static bearer token.
    clients : Mapping[str, str]
        Client id to secret, for the token endpoint (may be empty).
    sso_emails : frozenset[str]
        The e-mails (lower case) that may log in with SSO (may be empty).
    """

    token: str
    clients: Mapping[str, str]
    sso_emails: frozenset[str]


def _checked_token(token: str) -> str:
    if not token:
        raise ValueError("token must not be empty")
    if not _BEARER.fullmatch(token):
        raise ValueError(
            "token must be a bearer token: letters, digits and -._~+/ (then = padding)"
        )
    return token


def _checked_clients(clients: Mapping[str, str]) -> dict[str, str]:
    checked = {}
    for client_id, secret in clients.items():
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ValueError("client_credentials maps client ids to secrets, both strings")
        if not client_id or not secret:
            raise ValueError("a client id and its secret must not be empty")
        checked[client_id] = secret
    return checked


def _checked_emails(emails: Collection[str]) -> frozenset[str]:
    if isinstance(emails, str):
        raise ValueError("sso_emails is a collection of e-mails, not one string")
    lowered = frozenset(email.strip().lower() for email in emails)
    for email in lowered:
        if "@" not in email:
            raise ValueError(f"sso_emails: {email!r} is not an e-mail address")
    return lowered


def resolve_credentials(
    store: Store,
    *,
    token: str | None = None,
    client_credentials: Mapping[str, str] | None = None,
    sso_emails: Collection[str] | None = None,
) -> Credentials:
    """Return the credentials of an emulator, and remember them in its store.

    Parameters
    ----------
    store : Store
        The store: it remembers the token and the clients (not the SSO
        e-mails, an option of each run). A read-only store is not written to.
    token : str | None, optional
        The static token; default: the remembered one, else a random one.
    client_credentials : Mapping[str, str] | None, optional
        Client id to secret; default: the remembered ones, else none when
        another credential was chosen, else ``albert-local`` with a random
        secret.
    sso_emails : Collection[str] | None, optional
        Who may log in with SSO; default: nobody.

    Returns
    -------
    Credentials
        What opens the emulator.

    Raises
    ------
    ValueError
        If the token is empty or cannot be sent as a bearer token, a client id
        or secret is empty, or an e-mail has no ``@``.
    """
    chosen = token is not None or client_credentials is not None or sso_emails is not None
    remembered = store.get(*_REMEMBERED)
    if token is None:
        legacy = store.get(*_LEGACY_TOKEN)
        if remembered is not None:
            token = str(remembered["token"])
        elif legacy is not None:
            token = str(legacy["value"])
        else:
            token = f"local-{secrets.token_urlsafe(16)}"
    if client_credentials is not None:
        clients = _checked_clients(client_credentials)
    elif chosen:
        clients = {}
    elif remembered is not None:
        clients = _checked_clients(remembered.get("clients", {}))
    else:
        clients = {DEFAULT_CLIENT_ID: f"secret-{secrets.token_urlsafe(24)}"}
    credentials = Credentials(
        token=_checked_token(token),
        clients=clients,
        sso_emails=_checked_emails(sso_emails or ()),
    )
    if not store.read_only:
        remember(store, credentials)
        store.delete(*_LEGACY_TOKEN)
    return credentials


def remember(store: Store, credentials: Credentials) -> None:
    """Write the token and the clients into the store (after a reset, say).

    Parameters
    ----------
    store : Store
        A writable store.
    credentials : Credentials
        What to remember.
    """
    store.put(*_REMEMBERED, {"token": credentials.token, "clients": dict(credentials.clients)})
