"""The emulator's ASGI app: every endpoint of the Albert chat API contract, over a `Store`.

Semantics follow the server as the published ``albert`` 1.68 client knows it:
server-assigned ids; messages addressed by (session, ``sourceRequestId``,
``sequence``), the sequence chosen by the client (required; a duplicate is a
409), listed request by request in creation order and by sequence within a
request; the real server's quirk of leaving ``Content`` out of a message create
answer; exact name filters only (a name filter without ``exactMatch=true``
finds nothing); every filter of the API, and a 400 for a query parameter a
route does not know; key-based pagination (``Items``/``lastKey``,
``startKey``); folders; per-message flags; data-operations PATCH bodies; the
token endpoints; a bearer-token check; ``status`` and audit fields; JSON error
bodies and an ``x-request-id`` header on every response. Bodies are limited in
size (413) and must be UTF-8 JSON that can be sent back (400). Private routes
under ``/_emulator`` plan faults and reset the data.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice, takewhile
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode

import anyio

from albert.testing._extra import missing_extra

try:
    from starlette.applications import Starlette
    from starlette.datastructures import MutableHeaders
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route
    from starlette.types import Message, Receive, Scope, Send

    from albert.testing._documents import (
        ACTIVE,
        COMPONENT_TYPES,
        FLAG_TYPES,
        FOLDER_TYPES,
        SCHEMA,
        SESSION_KINDS,
        audit_fields,
        content_field,
        decode_key,
        encode_key,
        json_object,
        message_fields,
        message_key,
        new_id,
        optional_text,
        request_key,
        sequence_field,
        text_field,
        timestamp,
        touch,
    )
    from albert.testing._input import (
        ApiError,
        Query,
        choice,
        decode_path,
        drain,
        invalid,
        limited_receive,
        read_form,
        read_json,
        too_large,
    )
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    error = missing_extra(exc)
    if error is None:
        raise
    raise error from exc

from albert.testing.assistant_backend import AssistantBackend
from albert.testing.credentials import DEFAULT_CLIENT_ID, remember, resolve_credentials
from albert.testing.faults import FaultInjector
from albert.testing.store import Doc, Entry, NotAnEmulatorDatabase, Order, Store, open_store

__all__ = [
    "ADMIN_PREFIX",
    "API_PREFIX",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_MAX_BODY_SIZE",
    "ApiError",
    "EmulatorApp",
    "create_app",
]

#: Where the API lives.
API_PREFIX = "/api/v3"
#: The emulator's own routes (faults, reset, health): not part of the Albert API.
ADMIN_PREFIX = "/_emulator"

#: Where a crash is logged: uvicorn's error log, as uvicorn logs the crashes it
#: sees itself (it prints them with their traceback when it serves the app).
_crash_log = logging.getLogger("uvicorn.error")

#: Items in a page of a listing unless told otherwise.
DEFAULT_PAGE_SIZE = 50
#: The largest request body accepted unless told otherwise: 10 MiB.
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time (any characters, unlike ``compare_digest`` on str)."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _crash(exc: Exception) -> Response:
    message = f"the emulator failed: {type(exc).__name__}: {exc}"
    return JSONResponse({"message": message}, status_code=500)


#: The query parameters of the listings and lookups, by route.
_SESSION_FILTERS = (
    "name",
    "exactMatch",
    "parentId",
    "kind",
    "automationId",
    "createdBy",
    "updatedBy",
    "startKey",
)
_FOLDER_FILTERS = ("name", "exactMatch", "startKey")
_LOGIN = ("email", "tenantId", "source", "port", "state")


class EmulatorApp:
    """A local emulator of the Albert chat API: an ASGI app with its store, credentials and faults.

    Serve it with any ASGI server (`albert.testing.LocalAlbert` runs it with
    uvicorn on 127.0.0.1), or talk to it in-process through
    ``httpx.ASGITransport(app=emulator)`` (an async transport: for
    ``AsyncAlbert``; the sync ``Albert`` needs `LocalAlbert`).

    Only what it was started with opens it: the static token, the client
    credentials and the SSO e-mails given. Given none of them, it makes a
    random token and the client ``albert-local`` with a random secret (both
    remembered by a SQLite store); given any, exactly those.

    Parameters
    ----------
    store : Store | None, optional
        Where to keep data; default from ``db_path``.
    db_path : str | os.PathLike[str] | None, optional
        A SQLite file that keeps everything across restarts; ``None`` (the
        default) keeps everything in memory. Not together with ``store``.
    token : str | None, optional
        The static bearer token accepted on every call. Default: the one the
        store remembers from an earlier run, else a new random one.
    client_credentials : Mapping[str, str] | None, optional
        Client id to secret, accepted by the token endpoint. Default: the ones
        the store remembers; else none if ``token`` or ``sso_emails`` is
        given; else ``albert-local`` with a random secret.
    sso_emails : Collection[str] | None, optional
        The e-mails that may log in with SSO (the emulator's login page logs
        them in at once, with no password). Default: none, SSO is off.
    page_size : int, optional
        Items per page of every listing (default 50).
    max_body_size : int, optional
        The largest request body accepted, in bytes (default 10 MiB); a larger
        one is answered 413 without being buffered.
    user : str, optional
        The user id of the static token, written as ``createdBy``/``updatedBy``.
    token_lifetime : float, optional
        Seconds the tokens issued by the token endpoints live (default 3600).
    tenants : Sequence[str], optional
        The tenants an SSO login gets a token for (default ``("tnt-local",)``).

    Attributes
    ----------
    store : Store
        The data.
    token : str
        The static bearer token.
    client_credentials : dict[str, str]
        Client id to secret, for the token endpoint (a copy).
    sso_emails : frozenset[str]
        Who may log in with SSO (lower case).
    faults : FaultInjector
        Plan failures and delays: ``faults.fail_next(...)``, ``faults.add_latency(...)``.
    starlette : starlette.applications.Starlette
        The routes (this object wraps them to add faults, limits and request ids).
    user : str
        The user id of the static token.
    token_lifetime : float
        Lifetime of issued tokens, in seconds.
    tenants : tuple[str, ...]
        The SSO tenants.

    Raises
    ------
    ValueError
        If an option is out of range, or both ``store`` and ``db_path`` are given.
    albert.testing.store.NotAnEmulatorDatabase
        If ``db_path`` (or a read-only store) is not an emulator database.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        db_path: str | os.PathLike[str] | None = None,
        token: str | None = None,
        client_credentials: Mapping[str, str] | None = None,
        sso_emails: Collection[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        user: str = "usr-local",
        token_lifetime: float = 3600.0,
        tenants: Sequence[str] = ("tnt-local",),
    ) -> None:
        if store is not None and db_path is not None:
            raise ValueError("give either store or db_path, not both")
        if token_lifetime <= 0:
            raise ValueError(f"token_lifetime must be positive, got {token_lifetime}")
        if not tenants:
            raise ValueError("tenants must name at least one tenant")
        self.page_size = page_size
        self.max_body_size = max_body_size
        self.store: Store = store if store is not None else open_store(db_path)
        try:
            self._upgrade()
            self._credentials = resolve_credentials(
                self.store,
                token=token,
                client_credentials=client_credentials,
                sso_emails=sso_emails,
            )
        except BaseException:
            if store is None:
                self.store.close()
            raise
        self.user = user
        self.token_lifetime = float(token_lifetime)
        self.tenants = tuple(tenants)
        self.faults = FaultInjector()
        self.assistant = AssistantBackend(self)  # /api/chat, /api/cancel: an assistant-ui backend
        self.starlette = Starlette(
            routes=self._routes(),
            exception_handlers={
                ApiError: self._on_api_error,
                HTTPException: self._on_http_exception,
                Exception: self._on_crash,
            },
        )

    def __repr__(self) -> str:
        return f"EmulatorApp(store={self.store!r}, page_size={self.page_size})"

    @property
    def token(self) -> str:
        """The static bearer token."""
        return self._credentials.token

    @property
    def client_credentials(self) -> dict[str, str]:
        """Client id to secret, accepted by the token endpoint (a copy)."""
        return dict(self._credentials.clients)

    @property
    def sso_emails(self) -> frozenset[str]:
        """The e-mails that may log in with SSO, in lower case (empty: SSO is off)."""
        return self._credentials.sso_emails

    @property
    def page_size(self) -> int:
        """Items per page of every listing; may be changed while serving."""
        return self._page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"page_size must be at least 1, got {value}")
        self._page_size = value

    @property
    def max_body_size(self) -> int:
        """The largest request body accepted, in bytes; may be changed while serving."""
        return self._max_body_size

    @max_body_size.setter
    def max_body_size(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_body_size must be at least 1 byte, got {value}")
        self._max_body_size = value

    def reset(self) -> None:
        """Delete every session, message, folder, flag and issued token; keep the credentials."""
        self.store.clear()
        remember(self.store, self._credentials)
        self.store.put("setting", "schema", {"version": SCHEMA})

    def close(self) -> None:
        """Close the store (a SQLite file is then complete on disk)."""
        self.store.close()

    def issue_refresh_token(self, email: str = "user@example.com") -> str:
        """Return a new SSO refresh token, as a browser login would give one.

        Parameters
        ----------
        email : str, optional
            Whose token it is (their ``createdBy``); any e-mail, listed in
            ``sso_emails`` or not (whoever holds the app may log anyone in).

        Returns
        -------
        str
            A refresh token that ``POST /api/v3/login/refresh`` accepts once.
        """
        refresh = f"rt-{secrets.token_urlsafe(24)}"
        self.store.put("refresh", refresh, {"email": email})
        return refresh

    # ---- the data layout -------------------------------------------------------

    def _upgrade(self) -> None:
        """Bring a store written before per-request sequences to the current layout."""
        if self.store.get("setting", "schema") is not None:
            return
        old = [entry.id for entry in self.store.scan("message") if not entry.key[1]]
        if self.store.read_only:
            if old or self.store.get("setting", "token") is not None:
                raise NotAnEmulatorDatabase(
                    f"{self.store!r} holds the data of an older albert-chat; serve it once "
                    "with this version (albert-chat serve --db) to upgrade it"
                )
            return
        for doc_id in old:
            entry = self.store.entry("message", doc_id)
            if entry is None:  # pragma: no cover - nothing else writes meanwhile
                continue
            message = entry.body
            sid, srid, sequence = (
                message["parentId"],
                message["sourceRequestId"],
                message["sequence"],
            )
            rank = self._request_rank(sid, srid)
            message.setdefault("updatedBy", message.get("createdBy"))
            self._complete(message)
            self.store.delete("message", doc_id)
            self.store.put(
                "message",
                message_key(sid, srid, sequence),
                message,
                parent=sid,
                order=(rank, sequence),
            )
        for kind in ("session", "folder", "flag"):
            for entry in self.store.scan(kind):
                if kind == "session":
                    entry.body.setdefault("kind", "chat")
                    self.store.put("by-source", entry.id, {}, parent=entry.body["sourceSessionId"])
                self._complete(entry.body)
                parent = entry.body["parentId"] if kind == "flag" else ""
                self.store.put(kind, entry.id, entry.body, parent=parent)
        self.store.put("setting", "schema", {"version": SCHEMA})

    @staticmethod
    def _complete(doc: Doc) -> None:
        """Add the ``status`` and ``Created``/``Updated`` an older layout had not."""
        doc.setdefault("status", ACTIVE)
        if "Created" not in doc and doc.get("createdAt"):
            doc["Created"] = {"by": doc.get("createdBy"), "at": doc["createdAt"]}
        if "Updated" not in doc and doc.get("updatedAt"):
            doc["Updated"] = {"by": doc.get("updatedBy"), "at": doc["updatedAt"]}

    # ---- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: the size limit and planned faults first, then the routes.

        Parameters
        ----------
        scope : starlette.types.Scope
            The ASGI scope.
        receive : starlette.types.Receive
            The ASGI receive channel.
        send : starlette.types.Send
            The ASGI send channel.
        """
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4().hex[:16]}"

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        limit = self.max_body_size
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await drain(receive)
            await too_large(limit).response()(scope, receive, send_with_request_id)
            return
        receive = limited_receive(receive, limit)
        # Faults match the decoded path, as a test writes an id; routing below
        # uses the raw one.
        path: str = scope["path"]
        if not path.startswith(ADMIN_PREFIX + "/"):
            delay, fault = self.faults.take(scope["method"], path)
            if delay > 0:
                await anyio.sleep(delay)
            if fault is not None:
                content, media_type = fault.content()
                failure = Response(
                    content,
                    status_code=fault.status or 500,
                    headers=fault.headers,
                    media_type=media_type,
                )
                await failure(scope, receive, send_with_request_id)
                return
        await self.starlette(_route_on_raw_path(scope), receive, send_with_request_id)

    async def _on_api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def _on_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        text = f"{request.method} {request.url.path}: {exc.detail}"
        return JSONResponse({"message": text}, status_code=exc.status_code, headers=exc.headers)

    async def _on_crash(self, request: Request, exc: Exception) -> Response:
        # Only for a crash outside the routes (see `_answer_crashes`).
        return _crash(exc)

    def _routes(self) -> list[Route]:
        s = f"{API_PREFIX}/chats/sessions"
        m = s + "/{sid}/messages"
        f = f"{API_PREFIX}/chats/folders"
        # method, path, handler, authenticated, the query parameters it knows
        table: list[tuple[str, str, Handler, bool, tuple[str, ...]]] = [
            ("POST", f"{API_PREFIX}/login/oauth/token", self._issue_token, False, ()),
            ("POST", f"{API_PREFIX}/login/refresh", self._refresh_sso, False, ()),
            ("GET", f"{API_PREFIX}/login", self._login, False, _LOGIN),
            ("POST", s, self._create_session, True, ()),
            ("GET", s, self._list_sessions, True, _SESSION_FILTERS),
            ("GET", s + "/source/{source_id:path}", self._get_session_by_source, True, ()),
            ("GET", s + "/{sid}", self._get_session, True, ()),
            ("PATCH", s + "/{sid}", self._update_session, True, ()),
            ("DELETE", s + "/{sid}", self._delete_session, True, ()),
            ("POST", m, self._create_message, True, ()),
            ("GET", m, self._list_messages, True, ("startKey",)),
            ("GET", m + "/{srid}", self._get_message, True, ("sequence", "componentType")),
            ("PATCH", m + "/{srid}", self._update_message, True, ("sequence",)),
            ("DELETE", m + "/{srid}", self._delete_message, True, ("sequence",)),
            (
                "GET",
                m + "/{srid}/flag",
                self._get_message_flags,
                True,
                ("sequence", "componentType"),
            ),
            (
                "POST",
                m + "/{srid}/flag",
                self._add_flag,
                True,
                ("sequence", "type", "componentType"),
            ),
            (
                "DELETE",
                m + "/{srid}/flag",
                self._remove_flag,
                True,
                ("sequence", "type", "componentType"),
            ),
            ("GET", f"{API_PREFIX}/chats/flags", self._list_flags, True, ("type", "startKey")),
            ("POST", f, self._create_folder, True, ()),
            ("GET", f, self._list_folders, True, _FOLDER_FILTERS),
            ("GET", f + "/{fid}", self._get_folder, True, ()),
            ("PATCH", f + "/{fid}", self._update_folder, True, ()),
            ("DELETE", f + "/{fid}", self._delete_folder, True, ()),
            ("POST", "/api/chat", self.assistant.chat, True, ()),
            ("POST", "/api/cancel", self.assistant.cancel, True, ()),
            ("GET", f"{ADMIN_PREFIX}/health", self._admin_health, False, ()),
            ("GET", f"{ADMIN_PREFIX}/faults", self._admin_list_faults, True, ()),
            ("POST", f"{ADMIN_PREFIX}/faults", self._admin_plan_fault, True, ()),
            ("DELETE", f"{ADMIN_PREFIX}/faults", self._admin_clear_faults, True, ()),
            ("POST", f"{ADMIN_PREFIX}/reset", self._admin_reset, True, ()),
        ]
        return [
            Route(
                path,
                _answer_crashes(self._endpoint(handler, f"{method} {path}", auth, params)),
                methods=[method],
            )
            for method, path, handler, auth, params in table
        ]

    def _endpoint(
        self, handler: Handler, route: str, authenticated: bool, params: Collection[str]
    ) -> Handler:
        """Wrap a handler: the token check, then the path and the query, read strictly."""

        async def endpoint(request: Request) -> Response:
            if authenticated:
                request.state.user = self._authenticate(request)
            if request.scope.get(_RAW_ROUTING):
                path_params = request.scope.get("path_params", {})
                request.scope["path_params"] = {
                    name: decode_path(value, name) for name, value in path_params.items()
                }
            request.state.query = Query(
                request.scope.get("query_string", b""), params, route, repeatable=("name",)
            )
            return await handler(request)

        return endpoint

    def _authenticate(self, request: Request) -> str:
        """Return the user a request's bearer token stands for, or raise a 401."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)")
        if _same(token, self.token):
            return self.user
        issued = self.store.get("token", token)
        if issued is None:
            raise ApiError(401, "invalid token")
        if float(issued["expiresAt"]) <= time.time():
            raise ApiError(401, "token expired")
        return str(issued["user"])

    # ---- request helpers -------------------------------------------------------

    @staticmethod
    def _query(request: Request) -> Query:
        query: Query = request.state.query
        return query

    @staticmethod
    def _user(request: Request) -> str:
        return str(request.state.user)

    def _page(self, entries: Iterable[Entry]) -> Response:
        """Answer one page of a listing: ``{"Items": [...], "lastKey": ...}``.

        Reads one item more than the page holds (to know whether another page
        follows) and no further. Keys are the store's: the next page holds what
        comes after the last item of this one, so deleting items between page
        requests neither skips nor repeats any.
        """
        read = list(islice(entries, self.page_size + 1))
        page = read[: self.page_size]
        body: Doc = {"Items": [entry.body for entry in page]}
        if len(read) > len(page):
            body["lastKey"] = encode_key(page[-1].key)
        return JSONResponse(body)

    def _scan(self, request: Request, kind: str, *, parent: str | None = None) -> Iterator[Entry]:
        after = decode_key(self._query(request).get("startKey"))
        return self.store.scan(kind, parent=parent, after=after, batch=self.page_size + 1)

    @staticmethod
    def _names(query: Query) -> tuple[list[str], bool]:
        """Return the ``name`` filter and whether it can match (only with ``exactMatch=true``)."""
        names, exact = query.getlist("name"), query.boolean("exactMatch")
        return names, exact or not names

    @staticmethod
    def _operations(body: Any, allowed: Collection[str]) -> list[tuple[str, Any]]:
        """Read a data-operations PATCH body: ``{"data": [{"operation": "update", ...}]}``."""
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise ApiError(
                400,
                'the body must be {"data": [{"operation": "update", '
                '"attribute": ..., "newValue": ...}]}',
            )
        changes = []
        for index, op in enumerate(data):
            if not isinstance(op, dict) or op.get("operation") != "update":
                raise invalid(f"data[{index}].operation", "must be 'update'")
            attribute = op.get("attribute")
            if attribute not in allowed:
                raise invalid(f"data[{index}].attribute", f"must be one of {sorted(allowed)}")
            if "newValue" not in op:
                raise invalid(f"data[{index}].newValue", "is required")
            changes.append((str(attribute), op["newValue"]))
        return changes

    # ---- authentication ----------------------------------------------------------

    def _issue(self, user: str) -> str:
        token = f"jwt-{secrets.token_urlsafe(24)}"
        self.store.put(
            "token", token, {"user": user, "expiresAt": time.time() + self.token_lifetime}
        )
        return token

    async def _issue_token(self, request: Request) -> Response:
        """``POST /login/oauth/token``: OAuth2 client credentials, form-encoded."""
        media_type = request.headers.get("content-type", "").split(";", 1)[0]
        if media_type.strip().lower() != "application/x-www-form-urlencoded":
            raise ApiError(400, "the token request must be form-encoded")
        form = read_form(await request.body())
        if form.get("grant_type") != "client_credentials":
            raise invalid("grant_type", "must be client_credentials")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self._credentials.clients.get(client_id)
        if not client_id or expected is None or not _same(expected, secret):
            raise ApiError(401, "invalid client credentials")
        return JSONResponse(
            {
                "access_token": self._issue(client_id),
                "expires_in": int(self.token_lifetime),
                "token_type": "Bearer",
            }
        )

    def _known_email(self, query: Query) -> str:
        email = query.get("email", required=True) or ""
        if "@" not in email:
            raise invalid("email", "is not an e-mail address")
        if email.lower() not in self.sso_emails:
            raise ApiError(404, "this e-mail has no access to Albert")
        return email

    async def _login(self, request: Request) -> Response:
        """``GET /login``: the SSO e-mail check, and the browser login of the SDK.

        ``?email=`` answers 302 for an e-mail in ``sso_emails``, 404 for any
        other. ``?source=sdk&email=...&port=N[&state=S]`` logs the user in at
        once and redirects the browser to
        ``http://localhost:N/?token=<refresh token>[&state=S]``.
        """
        query = self._query(request)
        email = self._known_email(query)
        if query.get("source") != "sdk":
            return RedirectResponse(
                f"{API_PREFIX}/login/sso?{urlencode({'email': email})}", status_code=302
            )
        port = query.get("port", required=True) or ""
        valid = port.isascii() and port.isdigit() and len(port) <= 5  # int() refuses 4300 digits
        if not valid or not 1 <= int(port) <= 65535:
            raise invalid("port", "must be a port number")
        callback = {"token": self.issue_refresh_token(email)}
        state = query.get("state")
        if state is not None:
            callback["state"] = state
        return RedirectResponse(
            f"http://localhost:{int(port)}/?{urlencode(callback)}", status_code=302
        )

    async def _refresh_sso(self, request: Request) -> Response:
        """``POST /login/refresh``: trade an SSO refresh token for one JWT per tenant.

        The refresh token is rotated: the answer carries the next one, and the
        one sent stops working.
        """
        body = json_object(await read_json(request))
        refresh = body.get("refreshtoken")
        holder = self.store.get("refresh", refresh) if isinstance(refresh, str) else None
        if holder is None or not isinstance(refresh, str):
            raise ApiError(401, "invalid refresh token")
        self.store.delete("refresh", refresh)
        email = str(holder["email"])
        following = self.issue_refresh_token(email)
        return JSONResponse(
            [
                {
                    "tenantId": tenant,
                    "jwt": self._issue(email),
                    "exp": int(self.token_lifetime),
                    "refreshToken": following,
                }
                for tenant in self.tenants
            ]
        )

    # ---- sessions --------------------------------------------------------------------

    def _session(self, sid: str) -> Doc:
        session = self.store.get("session", sid)
        if session is None:
            raise ApiError(404, f"chat session {sid!r} not found")
        return session

    def _existing_folder(self, fid: str | None, field: str) -> str | None:
        if fid is not None and self.store.get("folder", fid) is None:
            raise invalid(field, f"names no folder ({fid!r})")
        return fid

    async def _create_session(self, request: Request) -> Response:
        """``POST /chats/sessions``: a new session with a server-assigned id.

        ``kind`` defaults to ``chat``; ``automationId`` and ``automationRunId``
        are kept when given.
        """
        body = json_object(await read_json(request))
        session: Doc = {
            "id": new_id("ses"),
            "name": text_field(body, "name"),
            "sourceSessionId": text_field(body, "sourceSessionId"),
            "parentId": self._existing_folder(optional_text(body, "parentId"), "parentId"),
            "kind": choice(body.get("kind") or "chat", "kind", SESSION_KINDS),
        }
        for field in ("automationId", "automationRunId"):
            value = optional_text(body, field)
            if value is not None:
                session[field] = value
        session.update(audit_fields(self._user(request), timestamp()))
        self.store.put("session", session["id"], session)
        self.store.put("by-source", session["id"], {}, parent=session["sourceSessionId"])
        return JSONResponse(session, status_code=201)

    async def _list_sessions(self, request: Request) -> Response:
        """``GET /chats/sessions``: by ``name`` (with ``exactMatch=true``) and the other filters."""
        query = self._query(request)
        names, matchable = self._names(query)
        kind = query.get("kind")
        if kind is not None:
            choice(kind, "kind", SESSION_KINDS)
        wanted = {
            field: value
            for field in ("parentId", "kind", "automationId", "createdBy", "updatedBy")
            if (value := query.get(field)) is not None
        }
        entries = self._scan(request, "session")
        if not matchable:
            return self._page(())

        def matches(session: Doc) -> bool:
            if names and session.get("name") not in names:
                return False
            return all(session.get(field) == value for field, value in wanted.items())

        return self._page(entry for entry in entries if matches(entry.body))

    async def _get_session(self, request: Request) -> Response:
        """``GET /chats/sessions/{id}``."""
        return JSONResponse(self._session(request.path_params["sid"]))

    async def _get_session_by_source(self, request: Request) -> Response:
        """``GET /chats/sessions/source/{sourceSessionId}``: the oldest session with that source."""
        source = request.path_params["source_id"]
        oldest = next(self.store.scan("by-source", parent=source, batch=1), None)
        session = None if oldest is None else self.store.get("session", oldest.id)
        if session is None:
            raise ApiError(404, f"no chat session has sourceSessionId {source!r}")
        return JSONResponse(session)

    async def _update_session(self, request: Request) -> Response:
        """``PATCH /chats/sessions/{id}``: data operations on ``name`` and ``parentId``."""
        changes = self._operations(await read_json(request), ("name", "parentId"))
        # No await from here on: nothing can change or delete the session before it is put.
        session = self._session(request.path_params["sid"])
        for attribute, value in changes:
            probe = {attribute: value}
            if attribute == "name":
                session["name"] = text_field(probe, "name")
            else:
                session["parentId"] = self._existing_folder(
                    optional_text(probe, "parentId"), "parentId"
                )
        touch(session, self._user(request))
        self.store.put("session", session["id"], session)
        return Response(status_code=204)

    async def _delete_session(self, request: Request) -> Response:
        """``DELETE /chats/sessions/{id}``: the session, its messages and their flags."""
        sid = request.path_params["sid"]
        if not self.store.delete("session", sid):
            raise ApiError(404, f"chat session {sid!r} not found")
        self.store.delete("by-source", sid)
        for kind in ("message", "request", "flag"):
            self.store.delete_children(kind, sid)
        return Response(status_code=204)

    # ---- messages ----------------------------------------------------------------

    def _request_rank(self, sid: str, srid: str) -> int:
        """Return the place of a request in its session, making it if it is new."""
        key = request_key(sid, srid)
        found = self.store.entry("request", key)
        if found is not None:
            return found.key[0]
        return self.store.put("request", key, {"sourceRequestId": srid}, parent=sid)[0]

    def _components(self, sid: str, srid: str) -> Iterator[Entry]:
        """Yield the components of a request, by sequence."""
        found = self.store.entry("request", request_key(sid, srid))
        if found is None:
            return iter(())
        rank = found.key[0]
        scan = self.store.scan("message", parent=sid, start=(rank, ""), batch=16)
        return takewhile(lambda entry: entry.key[0] == rank, scan)

    def _messages(self, request: Request, *, sequence_required: bool) -> list[Doc]:
        """Return the messages a request addresses (session, sourceRequestId, sequence, type)."""
        sid = request.path_params["sid"]
        self._session(sid)
        srid = request.path_params["srid"]
        query = self._query(request)
        sequence = query.get("sequence", required=sequence_required)
        component = query.get("componentType")
        if component is not None:
            choice(component, "componentType", COMPONENT_TYPES)
        if sequence is not None:
            one = self.store.get("message", message_key(sid, srid, sequence_field(sequence)))
            found = [] if one is None else [one]
        else:
            found = [entry.body for entry in self._components(sid, srid)]
        found = [m for m in found if component is None or m["componentType"] == component]
        if not found:
            where = f"sequence {sequence!r}" if sequence is not None else "any sequence"
            kind = f" of type {component!r}" if component is not None else ""
            raise ApiError(404, f"no message {srid!r}{kind} at {where} in chat session {sid!r}")
        return found

    def _put_message(self, message: Doc) -> None:
        sid, srid = message["parentId"], message["sourceRequestId"]
        self.store.put("message", message_key(sid, srid, message["sequence"]), message, parent=sid)

    def add_message(
        self, session_id: str, body: Mapping[str, Any], *, user: str | None = None
    ) -> Doc:
        """Store a message as ``POST .../messages`` would, without HTTP (to seed data fast).

        Parameters
        ----------
        session_id : str
            The session.
        body : Mapping[str, Any]
            The create body: ``sourceRequestId``, ``sequence``, ``componentType``,
            ``userType``, ``role``, ``Content`` and any optional field.
        user : str | None, optional
            Who creates it (default: the static token's user).

        Returns
        -------
        Doc
            The stored message.

        Raises
        ------
        ApiError
            As the route answers: 404 for an unknown session, 400 for a bad
            field, 409 for a taken (request id, sequence).
        """
        session = self._session(session_id)
        fields = message_fields(dict(body))
        srid, sequence = fields["sourceRequestId"], fields["sequence"]
        message_id = message_key(session_id, srid, sequence)
        if self.store.get("message", message_id) is not None:
            raise ApiError(
                409,
                f"chat session {session_id!r} already has a message {srid!r} "
                f"at sequence {sequence!r}",
            )
        now = timestamp()
        message: Doc = {"id": new_id("msg"), "parentId": session_id, **fields}
        message.update(audit_fields(user or self.user, now))
        rank = self._request_rank(session_id, srid)
        self.store.put("message", message_id, message, parent=session_id, order=(rank, sequence))
        session["lastMessageAt"] = now
        self.store.put("session", session_id, session)
        return message

    async def _create_message(self, request: Request) -> Response:
        """``POST .../messages``: a component at the sequence it names; the answer omits Content."""
        sid = request.path_params["sid"]
        body = json_object(await read_json(request))
        # No await from here on: a session deleted meanwhile answers 404, a
        # taken sequence 409, and the session put back is the current one.
        message = self.add_message(sid, body, user=self._user(request))
        created = {key: value for key, value in message.items() if key != "Content"}
        return JSONResponse(created, status_code=201)

    async def _list_messages(self, request: Request) -> Response:
        """``GET .../messages``: one page; requests in creation order, components by sequence."""
        sid = request.path_params["sid"]
        self._session(sid)
        return self._page(self._scan(request, "message", parent=sid))

    async def _get_message(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}?sequence=[&componentType=]``."""
        return JSONResponse(self._messages(request, sequence_required=True)[0])

    async def _update_message(self, request: Request) -> Response:
        """``PATCH .../messages/{sourceRequestId}?sequence=``: data operations on ``Content``."""
        changes = self._operations(await read_json(request), ("Content",))
        # No await from here on: nothing can change or delete the message before it is put.
        message = self._messages(request, sequence_required=True)[0]
        for _, value in changes:
            message["Content"] = content_field(value)
        touch(message, self._user(request))
        self._put_message(message)
        return Response(status_code=204)

    async def _delete_message(self, request: Request) -> Response:
        """``DELETE .../messages/{sourceRequestId}?sequence=``: the message and its flags.

        The request goes with its last component: a component sent later
        under the same ``sourceRequestId`` starts it anew, at the end.
        """
        message = self._messages(request, sequence_required=True)[0]
        sid, srid = message["parentId"], message["sourceRequestId"]
        self.store.delete("message", message_key(sid, srid, message["sequence"]))
        for kind in FLAG_TYPES:
            self.store.delete("flag", f"{message['id']}/{kind}")
        if next(self._components(sid, srid), None) is None:
            self.store.delete("request", request_key(sid, srid))
        return Response(status_code=204)

    # ---- flags ---------------------------------------------------------------------------

    def _flag_type(self, request: Request) -> str:
        kind = self._query(request).get("type", required=True)
        return choice(kind, "type", FLAG_TYPES)

    async def _get_message_flags(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}/flag[?sequence=]``: the flags set on a message."""
        messages = self._messages(request, sequence_required=False)
        set_flags: list[tuple[Order, str]] = []
        for message in messages:
            for kind in FLAG_TYPES:
                flag = self.store.entry("flag", f"{message['id']}/{kind}")
                if flag is not None:
                    set_flags.append((flag.key, kind))
        kinds = list(dict.fromkeys(kind for _, kind in sorted(set_flags)))
        return JSONResponse(
            {
                "sourceRequestId": messages[0]["sourceRequestId"],
                "total": len(kinds),
                "flags": kinds,
            }
        )

    async def _add_flag(self, request: Request) -> Response:
        """``POST .../messages/{sourceRequestId}/flag?sequence=&type=[&componentType=]``.

        Setting a flag that is set leaves it as it is (the call is idempotent).
        """
        kind = self._flag_type(request)
        message = self._messages(request, sequence_required=True)[0]
        flag_id = f"{message['id']}/{kind}"
        flag = self.store.get("flag", flag_id)
        if flag is None:
            flag = {
                "sourceRequestId": message["sourceRequestId"],
                "id": message["id"],
                "parentId": message["parentId"],
                "type": kind,
                "componentType": message["componentType"],
                "sequence": message["sequence"],
                kind: True,
                **audit_fields(self._user(request), timestamp()),
            }
            self.store.put("flag", flag_id, flag, parent=message["parentId"])
        return JSONResponse(flag, status_code=201)

    async def _remove_flag(self, request: Request) -> Response:
        """``DELETE .../messages/{sourceRequestId}/flag?sequence=&type=[&componentType=]``."""
        kind = self._flag_type(request)
        message = self._messages(request, sequence_required=True)[0]
        if not self.store.delete("flag", f"{message['id']}/{kind}"):
            raise ApiError(404, f"message {message['sourceRequestId']!r} has no {kind!r} flag")
        return Response(status_code=204)

    async def _list_flags(self, request: Request) -> Response:
        """``GET /chats/flags?type=``: one page of the flags of a type, oldest first."""
        kind = self._flag_type(request)
        entries = self._scan(request, "flag")
        return self._page(entry for entry in entries if entry.body["type"] == kind)

    # ---- folders --------------------------------------------------------------------------

    def _folder(self, fid: str) -> Doc:
        folder = self.store.get("folder", fid)
        if folder is None:
            raise ApiError(404, f"chat folder {fid!r} not found")
        return folder

    async def _create_folder(self, request: Request) -> Response:
        """``POST /chats/folders``: ``name``, optional ``type`` and ``parentId``.

        The type defaults to ``child`` under a parent and ``root`` otherwise.
        """
        body = json_object(await read_json(request))
        name = text_field(body, "name")
        parent = self._existing_folder(optional_text(body, "parentId"), "parentId")
        kind = body.get("type")
        if kind is None:
            kind = "child" if parent else "root"
        kind = choice(kind, "type", FOLDER_TYPES)
        if kind == "root" and parent is not None:
            raise invalid("parentId", "must be null for a root folder")
        folder: Doc = {
            "id": new_id("fld"),
            "name": name,
            "type": kind,
            "parentId": parent,
            "sequence": [],
            **audit_fields(self._user(request), timestamp()),
        }
        self.store.put("folder", folder["id"], folder)
        return JSONResponse(folder, status_code=201)

    async def _list_folders(self, request: Request) -> Response:
        """``GET /chats/folders``: by ``name`` (with ``exactMatch=true``)."""
        names, matchable = self._names(self._query(request))
        entries = self._scan(request, "folder")
        if not matchable:
            return self._page(())
        return self._page(e for e in entries if not names or e.body.get("name") in names)

    async def _get_folder(self, request: Request) -> Response:
        """``GET /chats/folders/{id}``."""
        return JSONResponse(self._folder(request.path_params["fid"]))

    async def _update_folder(self, request: Request) -> Response:
        """``PATCH /chats/folders/{id}``: data operations on ``name`` and ``sequence``.

        ``sequence`` is the list of the folder's children ids in order.
        """
        changes = self._operations(await read_json(request), ("name", "sequence"))
        # No await from here on: nothing can change or delete the folder before it is put.
        folder = self._folder(request.path_params["fid"])
        for attribute, value in changes:
            if attribute == "name":
                folder["name"] = text_field({"name": value}, "name")
            elif isinstance(value, list) and all(isinstance(v, str) and v for v in value):
                folder["sequence"] = value
            else:
                raise invalid("sequence", "must be a list of ids")
        touch(folder, self._user(request))
        self.store.put("folder", folder["id"], folder)
        return Response(status_code=204)

    async def _delete_folder(self, request: Request) -> Response:
        """``DELETE /chats/folders/{id}``: its sessions and sub-folders lose their parent."""
        fid = request.path_params["fid"]
        if not self.store.delete("folder", fid):
            raise ApiError(404, f"chat folder {fid!r} not found")
        for kind in ("session", "folder"):
            for entry in self.store.scan(kind):
                if entry.body.get("parentId") == fid:
                    self.store.put(kind, entry.id, {**entry.body, "parentId": None})
        return Response(status_code=204)

    # ---- the emulator's own routes ----------------------------------------------------------

    async def _admin_health(self, request: Request) -> Response:
        """``GET /_emulator/health``: 200 once the emulator serves (no token needed)."""
        return JSONResponse({"status": "ok", "pageSize": self.page_size})

    async def _admin_list_faults(self, request: Request) -> Response:
        """``GET /_emulator/faults``: the faults still planned."""
        return JSONResponse({"Items": [fault.describe() for fault in self.faults.planned]})

    async def _admin_plan_fault(self, request: Request) -> Response:
        """``POST /_emulator/faults``: plan a fault (see `FaultInjector.plan`)."""
        try:
            fault = self.faults.plan(json_object(await read_json(request)))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return JSONResponse(fault.describe(), status_code=201)

    async def _admin_clear_faults(self, request: Request) -> Response:
        """``DELETE /_emulator/faults``: forget every planned fault."""
        self.faults.clear()
        return Response(status_code=204)

    async def _admin_reset(self, request: Request) -> Response:
        """``POST /_emulator/reset``: delete all data (see `reset`)."""
        self.reset()
        return Response(status_code=204)


def create_app(**options: Any) -> EmulatorApp:
    """Return a new emulator.

    Parameters
    ----------
    **options : Any
        The options of `EmulatorApp` (``db_path``, ``token``, ``page_size``, ...).

    Returns
    -------
    EmulatorApp
        The emulator, an ASGI app.
    """
    return EmulatorApp(**options)


def _content_length(scope: Scope) -> int | None:
    """Return the ``Content-Length`` a request declares, if it is a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # The ASGI server already refused a malformed one; never int() 4300 digits.
            return int(text) if text.isdigit() and len(text) <= 19 else None
    return None


#: Marks a scope routed by `_route_on_raw_path`, whose path parameters are still encoded.
_RAW_ROUTING = "albert.routed_on_raw_path"

#: What may stay as it is in a path segment (RFC 3986 pchar), but ``/`` and ``%``.
_SEGMENT_SAFE = "!$&'()*+,;=:@~"


def _route_on_raw_path(scope: Scope) -> Scope:
    """Return the scope with a ``path`` in which an encoded ``/`` stays inside its segment.

    ASGI servers decode ``%2F`` in ``path``, which would split an id such as
    ``run/42`` into two segments. Routing on the raw path, each segment
    re-encoded the same way (``/`` and ``%`` only), keeps it one; the route's
    parameters are decoded (strictly, as UTF-8) by `EmulatorApp._endpoint`.
    """
    raw: bytes | None = scope.get("raw_path")
    if not raw:
        return scope
    raw_path = raw.split(b"?", 1)[0]
    # Bytes throughout: a server that passes raw UTF-8 through must not see it garbled.
    segments = (quote(unquote_to_bytes(part), safe=_SEGMENT_SAFE) for part in raw_path.split(b"/"))
    return {**scope, "path": "/".join(segments), _RAW_ROUTING: True}


def _answer_crashes(endpoint: Handler) -> Handler:
    """Answer an unexpected exception of ``endpoint`` with a JSON 500, and log it.

    Raised on, Starlette would send the 500 and then re-raise it to the
    server, which closes the connection: the client's next request on that
    keep-alive connection would fail.
    """

    async def answered(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (ApiError, HTTPException):
            raise  # answered by their handlers
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it: not a crash
        except Exception as exc:
            _crash_log.exception("Exception in ASGI application")
            return _crash(exc)

    return answered
