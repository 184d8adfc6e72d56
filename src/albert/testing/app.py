"""The emulator's ASGI app: every endpoint of the Albert chat API contract, over a `Store`.

Semantics follow the API contract: server-assigned ids, per-session message
sequences (``"000"``, ``"001"``, ...) with the real server's quirk of leaving
``Content`` out of a message create response, name filters, key-based
pagination (``Items``/``lastKey``, ``startKey``), folders, per-message flags,
data-operations PATCH bodies, the token endpoints, a bearer-token check,
JSON error bodies and an ``x-request-id`` header on every response.
Private routes under ``/_emulator`` plan faults and reset the data.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, unquote, unquote_to_bytes, urlencode

import anyio

from albert.resources.chats import (
    ChatComponentType,
    ChatFlagType,
    ChatFolderType,
    ChatRole,
    ChatUserType,
)
from albert.testing._extra import missing_extra
from albert.testing.assistant_backend import AssistantBackend
from albert.testing.faults import FaultInjector
from albert.testing.store import Doc, Entry, Store, open_store

try:
    from starlette.applications import Starlette
    from starlette.datastructures import MutableHeaders
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route
    from starlette.types import Message, Receive, Scope, Send
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    error = missing_extra(exc)
    if error is None:
        raise
    raise error from exc

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "ApiError", "EmulatorApp", "create_app"]

#: Where the API lives.
API_PREFIX = "/api/v3"
#: The emulator's own routes (faults, reset, health): not part of the Albert API.
ADMIN_PREFIX = "/_emulator"

#: Where a crash is logged: uvicorn's error log, as uvicorn logs the crashes it
#: sees itself (it prints them with their traceback when it serves the app).
_crash_log = logging.getLogger("uvicorn.error")

#: The client id and secret the token endpoint accepts unless told otherwise.
DEFAULT_CLIENT_ID = "albert-local"
DEFAULT_CLIENT_SECRET = "albert-local-secret"
#: Items in a page of a listing unless told otherwise.
DEFAULT_PAGE_SIZE = 50

Handler = Callable[[Request], Awaitable[Response]]

_MESSAGE_OPTIONAL: dict[str, tuple[type, ...]] = {
    "componentId": (str,),
    "parentRequestId": (str,),
    "spanId": (str,),
    "branchIndex": (int,),
    "isVisible": (bool,),
    "displayFeedbackComponent": (bool,),
    "value": (list,),
}


class ApiError(Exception):
    """An error answer: a status and a JSON body ``{"message": ..., ["errors": ...]}``.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What went wrong, for people.
    errors : Any, optional
        Details (the fields at fault), sent as ``errors``.
    """

    def __init__(self, status: int, message: str, *, errors: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def response(self) -> Response:
        """Return the error as a JSON response.

        Returns
        -------
        starlette.responses.Response
            Status `status`, body ``{"message": ...}`` (plus ``errors`` if any).
        """
        body: Doc = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _invalid(field: str, problem: str) -> ApiError:
    return ApiError(400, f"{field} {problem}", errors=[{"field": field, "message": problem}])


def _object(body: Any) -> Doc:
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _text(body: Doc, field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "is required and must be a non-empty string")
    return value


def _optional_text(body: Doc, field: str) -> str | None:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise _invalid(field, "must be a non-empty string or null")
    return value


def _choice(value: Any, field: str, choices: Iterable[str]) -> str:
    allowed = list(choices)
    if value not in allowed:
        raise _invalid(field, f"must be one of {allowed}, got {value!r}")
    return str(value)


def _values(enum: Iterable[Any]) -> list[str]:
    return [str(member.value) for member in enum]


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time (any characters, unlike ``compare_digest`` on str)."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _non_finite(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _crash(exc: Exception) -> Response:
    message = f"the emulator failed: {type(exc).__name__}: {exc}"
    return JSONResponse({"message": message}, status_code=500)


def _content(value: Any) -> str | Doc:
    if isinstance(value, (str, dict)):
        return value
    raise _invalid("Content", "must be a string or a JSON object")


class EmulatorApp:
    """A local emulator of the Albert chat API: an ASGI app with its store, credentials and faults.

    Serve it with any ASGI server (`albert.testing.LocalAlbert` runs it with
    uvicorn on 127.0.0.1), or talk to it in-process through
    ``httpx.ASGITransport(app=emulator)`` (an async transport: for
    ``AsyncAlbert``; the sync ``Albert`` needs `LocalAlbert`).

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
        Client id to secret, accepted by the token endpoint (default
        ``{"albert-local": "albert-local-secret"}``).
    page_size : int, optional
        Items per page of every listing (default 50).
    user : str, optional
        The user id of the static token, written as ``createdBy``/``updatedBy``.
    token_lifetime : float, optional
        Seconds the tokens issued by the token endpoints live (default 3600).
    tenants : Sequence[str], optional
        The tenants an SSO login gets a token for (default ``("tnt-local",)``).
    sso_emails : Collection[str] | None, optional
        The e-mails that may log in with SSO; ``None`` (the default): any.

    Attributes
    ----------
    store : Store
        The data.
    token : str
        The static bearer token.
    faults : FaultInjector
        Plan failures and delays: ``faults.fail_next(...)``, ``faults.add_latency(...)``.
    starlette : starlette.applications.Starlette
        The routes (this object wraps them to add faults and request ids).
    client_credentials : dict[str, str]
        Client id to secret, for the token endpoint.
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
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        db_path: str | os.PathLike[str] | None = None,
        token: str | None = None,
        client_credentials: Mapping[str, str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        user: str = "usr-local",
        token_lifetime: float = 3600.0,
        tenants: Sequence[str] = ("tnt-local",),
        sso_emails: Collection[str] | None = None,
    ) -> None:
        if store is not None and db_path is not None:
            raise ValueError("give either store or db_path, not both")
        if token_lifetime <= 0:
            raise ValueError(f"token_lifetime must be positive, got {token_lifetime}")
        if not tenants:
            raise ValueError("tenants must name at least one tenant")
        self.store: Store = store if store is not None else open_store(db_path)
        self.page_size = page_size
        self.token = self._static_token(token)
        self.client_credentials = dict(
            {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
            if client_credentials is None
            else client_credentials
        )
        self.user = user
        self.token_lifetime = float(token_lifetime)
        self.tenants = tuple(tenants)
        self._sso_emails = None if sso_emails is None else {e.lower() for e in sso_emails}
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
    def page_size(self) -> int:
        """Items per page of every listing; may be changed while serving."""
        return self._page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"page_size must be at least 1, got {value}")
        self._page_size = value

    def _static_token(self, token: str | None) -> str:
        remembered = self.store.get("setting", "token")
        if token is None:
            token = remembered["value"] if remembered else f"local-{secrets.token_urlsafe(16)}"
        if not token:
            raise ValueError("token must not be empty")
        self.store.put("setting", "token", {"value": token})
        return token

    def reset(self) -> None:
        """Delete every session, message, folder, flag and issued token; keep the static token."""
        self.store.clear()
        self.store.put("setting", "token", {"value": self.token})

    def close(self) -> None:
        """Close the store (a SQLite file is then complete on disk)."""
        self.store.close()

    def issue_refresh_token(self, email: str = "user@example.com") -> str:
        """Return a new SSO refresh token, as a browser login would give one.

        Parameters
        ----------
        email : str, optional
            Whose token it is (their ``createdBy``).

        Returns
        -------
        str
            A refresh token that ``POST /api/v3/login/refresh`` accepts once.
        """
        refresh = f"rt-{secrets.token_urlsafe(24)}"
        self.store.put("refresh", refresh, {"email": email})
        return refresh

    # ---- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: planned faults first, then the routes.

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
        table: list[tuple[str, str, Handler, bool]] = [
            ("POST", f"{API_PREFIX}/login/oauth/token", self._issue_token, False),
            ("POST", f"{API_PREFIX}/login/refresh", self._refresh_sso, False),
            ("GET", f"{API_PREFIX}/login", self._login, False),
            ("POST", s, self._create_session, True),
            ("GET", s, self._list_sessions, True),
            ("GET", s + "/source/{source_id:path}", self._get_session_by_source, True),
            ("GET", s + "/{sid}", self._get_session, True),
            ("PATCH", s + "/{sid}", self._update_session, True),
            ("DELETE", s + "/{sid}", self._delete_session, True),
            ("POST", m, self._create_message, True),
            ("GET", m, self._list_messages, True),
            ("GET", m + "/{srid}", self._get_message, True),
            ("PATCH", m + "/{srid}", self._update_message, True),
            ("DELETE", m + "/{srid}", self._delete_message, True),
            ("GET", m + "/{srid}/flag", self._get_message_flags, True),
            ("POST", m + "/{srid}/flag", self._add_flag, True),
            ("DELETE", m + "/{srid}/flag", self._remove_flag, True),
            ("GET", f"{API_PREFIX}/chats/flags", self._list_flags, True),
            ("POST", f, self._create_folder, True),
            ("GET", f, self._list_folders, True),
            ("GET", f + "/{fid}", self._get_folder, True),
            ("PATCH", f + "/{fid}", self._update_folder, True),
            ("DELETE", f + "/{fid}", self._delete_folder, True),
            ("POST", "/api/chat", self.assistant.chat, True),
            ("POST", "/api/cancel", self.assistant.cancel, True),
            ("GET", f"{ADMIN_PREFIX}/health", self._admin_health, False),
            ("GET", f"{ADMIN_PREFIX}/faults", self._admin_list_faults, True),
            ("POST", f"{ADMIN_PREFIX}/faults", self._admin_plan_fault, True),
            ("DELETE", f"{ADMIN_PREFIX}/faults", self._admin_clear_faults, True),
            ("POST", f"{ADMIN_PREFIX}/reset", self._admin_reset, True),
        ]
        return [
            Route(
                path,
                _answer_crashes(
                    _decode_path_params(self._guard(handler) if authenticated else handler)
                ),
                methods=[method],
            )
            for method, path, handler, authenticated in table
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            request.state.user = self._authenticate(request)
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
    async def _json(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise ApiError(400, "a JSON body is required")
        try:
            # NaN and Infinity (or 1e309) could be stored but never sent back as JSON.
            return json.loads(raw, parse_constant=_non_finite, parse_float=_finite)
        except RecursionError:
            raise ApiError(400, "the body is not valid JSON: nested too deeply") from None
        except ValueError as exc:
            raise ApiError(400, f"the body is not valid JSON: {exc}") from None

    @staticmethod
    def _query(request: Request, name: str, *, required: bool = False) -> str | None:
        value = request.query_params.get(name)
        if value is None and required:
            raise _invalid(name, "is a required query parameter")
        if value is not None and not value:
            raise _invalid(name, "must not be empty")
        return value

    @staticmethod
    def _user(request: Request) -> str:
        return str(request.state.user)

    def _page(self, request: Request, entries: list[Entry]) -> Response:
        """Answer one page of a listing: ``{"Items": [...], "lastKey": ...}``.

        Keys are the store's positions: the next page holds what comes after
        the last item of this one, so deleting items between page requests
        neither skips nor repeats any.
        """
        start = request.query_params.get("startKey")
        if start is not None:
            # Keys are 64-bit integers: at most 19 digits (and int() refuses 4300).
            if not (start.isascii() and start.isdigit() and len(start) <= 19):
                raise _invalid("startKey", "is not a key this server issued")
            entries = [entry for entry in entries if entry.key > int(start)]
        page = entries[: self.page_size]
        body: Doc = {"Items": [entry.body for entry in page]}
        if len(entries) > len(page):
            body["lastKey"] = str(page[-1].key)
        return JSONResponse(body)

    @staticmethod
    def _filter_by_name(request: Request, entries: list[Entry]) -> list[Entry]:
        exact = request.query_params.get("exactMatch", "false").lower()
        if exact not in ("true", "false"):
            raise _invalid("exactMatch", "must be true or false")
        names = request.query_params.getlist("name")
        if not names:
            return entries
        if exact == "true":
            return [e for e in entries if e.body.get("name") in names]
        wanted = [n.casefold() for n in names]
        return [
            e for e in entries if any(w in str(e.body.get("name", "")).casefold() for w in wanted)
        ]

    @staticmethod
    def _filter_by_author(request: Request, entries: list[Entry]) -> list[Entry]:
        for param in ("createdBy", "updatedBy"):
            value = request.query_params.get(param)
            if value is not None:
                entries = [e for e in entries if e.body.get(param) == value]
        return entries

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
                raise _invalid(f"data[{index}].operation", "must be 'update'")
            attribute = op.get("attribute")
            if attribute not in allowed:
                raise _invalid(f"data[{index}].attribute", f"must be one of {sorted(allowed)}")
            if "newValue" not in op:
                raise _invalid(f"data[{index}].newValue", "is required")
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
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "the token request is not UTF-8") from None
        form = {k: v[-1] for k, v in parse_qs(text).items()}
        if form.get("grant_type") != "client_credentials":
            raise _invalid("grant_type", "must be client_credentials")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self.client_credentials.get(client_id)
        if not client_id or expected is None or not _same(expected, secret):
            raise ApiError(401, "invalid client credentials")
        return JSONResponse(
            {
                "access_token": self._issue(client_id),
                "expires_in": int(self.token_lifetime),
                "token_type": "Bearer",
            }
        )

    def _known_email(self, request: Request) -> str:
        email = self._query(request, "email", required=True) or ""
        if "@" not in email:
            raise _invalid("email", "is not an e-mail address")
        if self._sso_emails is not None and email.lower() not in self._sso_emails:
            raise ApiError(404, "this e-mail has no access to Albert")
        return email

    async def _login(self, request: Request) -> Response:
        """``GET /login``: the SSO e-mail check, and the browser login of the SDK.

        ``?email=`` answers 302 for a known user, 404 for an unknown one.
        ``?source=sdk&email=...&port=N`` logs the user in at once and redirects
        the browser to ``http://localhost:N/?token=<refresh token>``.
        """
        email = self._known_email(request)
        if request.query_params.get("source") != "sdk":
            query = urlencode({"email": email})
            return RedirectResponse(f"{API_PREFIX}/login/sso?{query}", status_code=302)
        port = self._query(request, "port", required=True) or ""
        valid = port.isascii() and port.isdigit() and len(port) <= 5  # int() refuses 4300 digits
        if not valid or not 1 <= int(port) <= 65535:
            raise _invalid("port", "must be a port number")
        refresh = self.issue_refresh_token(email)
        return RedirectResponse(
            f"http://localhost:{int(port)}/?{urlencode({'token': refresh})}", status_code=302
        )

    async def _refresh_sso(self, request: Request) -> Response:
        """``POST /login/refresh``: trade an SSO refresh token for one JWT per tenant.

        The refresh token is rotated: the answer carries the next one, and the
        one sent stops working.
        """
        body = _object(await self._json(request))
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
            raise _invalid(field, f"names no folder ({fid!r})")
        return fid

    async def _create_session(self, request: Request) -> Response:
        """``POST /chats/sessions``: a new session with a server-assigned id."""
        body = _object(await self._json(request))
        now, user = _now(), self._user(request)
        session: Doc = {
            "id": _new_id("ses"),
            "name": _text(body, "name"),
            "sourceSessionId": _text(body, "sourceSessionId"),
            "parentId": self._existing_folder(_optional_text(body, "parentId"), "parentId"),
            "createdBy": user,
            "updatedBy": user,
            "createdAt": now,
            "updatedAt": now,
        }
        self.store.put("session", session["id"], session)
        return JSONResponse(session, status_code=201)

    async def _list_sessions(self, request: Request) -> Response:
        """``GET /chats/sessions``: by ``name``/``exactMatch``/``createdBy``/``updatedBy``."""
        entries = self._filter_by_name(request, self.store.scan("session"))
        return self._page(request, self._filter_by_author(request, entries))

    async def _get_session(self, request: Request) -> Response:
        """``GET /chats/sessions/{id}``."""
        return JSONResponse(self._session(request.path_params["sid"]))

    async def _get_session_by_source(self, request: Request) -> Response:
        """``GET /chats/sessions/source/{sourceSessionId}``: the oldest session with that source."""
        source = request.path_params["source_id"]
        for session in self.store.all("session"):
            if session.get("sourceSessionId") == source:
                return JSONResponse(session)
        raise ApiError(404, f"no chat session has sourceSessionId {source!r}")

    async def _update_session(self, request: Request) -> Response:
        """``PATCH /chats/sessions/{id}``: data operations on ``name`` and ``parentId``."""
        changes = self._operations(await self._json(request), ("name", "parentId"))
        # No await from here on: nothing can change or delete the session before it is put.
        session = self._session(request.path_params["sid"])
        for attribute, value in changes:
            probe = {attribute: value}
            if attribute == "name":
                session["name"] = _text(probe, "name")
            else:
                session["parentId"] = self._existing_folder(
                    _optional_text(probe, "parentId"), "parentId"
                )
        session["updatedBy"], session["updatedAt"] = self._user(request), _now()
        self.store.put("session", session["id"], session)
        return Response(status_code=204)

    async def _delete_session(self, request: Request) -> Response:
        """``DELETE /chats/sessions/{id}``: the session, its messages and their flags."""
        sid = request.path_params["sid"]
        if not self.store.delete("session", sid):
            raise ApiError(404, f"chat session {sid!r} not found")
        self.store.delete_children("message", sid)
        self.store.delete_children("flag", sid)
        return Response(status_code=204)

    # ---- messages ----------------------------------------------------------------

    def _messages(self, request: Request, *, sequence_required: bool) -> list[Doc]:
        """Return the messages a request addresses (session, sourceRequestId, sequence, type)."""
        sid = request.path_params["sid"]
        self._session(sid)
        srid = request.path_params["srid"]
        sequence = self._query(request, "sequence", required=sequence_required)
        component = self._query(request, "componentType")
        if component is not None:
            _choice(component, "componentType", _values(ChatComponentType))
        found = [
            message
            for message in self.store.all("message", parent=sid)
            if message["sourceRequestId"] == srid
            and (sequence is None or message["sequence"] == sequence)
            and (component is None or message["componentType"] == component)
        ]
        if not found:
            where = f"sequence {sequence!r}" if sequence is not None else "any sequence"
            raise ApiError(404, f"no message {srid!r} at {where} in chat session {sid!r}")
        return found

    def _put_message(self, message: Doc) -> None:
        sid = message["parentId"]
        self.store.put("message", f"{sid}/{message['id']}", message, parent=sid)

    async def _create_message(self, request: Request) -> Response:
        """``POST .../messages``: the next sequence of the session; the answer omits ``Content``."""
        sid = request.path_params["sid"]
        body = _object(await self._json(request))
        # No await from here on: a session deleted meanwhile answers 404, and
        # the one put back below is the current one.
        session = self._session(sid)
        if "Content" not in body:
            raise _invalid("Content", "is required")
        message: Doc = {
            "sourceRequestId": _text(body, "sourceRequestId"),
            "componentType": _choice(
                body.get("componentType"), "componentType", _values(ChatComponentType)
            ),
            "userType": _choice(body.get("userType"), "userType", _values(ChatUserType)),
            "role": _choice(body.get("role"), "role", _values(ChatRole)),
            "Content": _content(body["Content"]),
        }
        for field, types in _MESSAGE_OPTIONAL.items():
            if body.get(field) is None:
                continue
            value = body[field]
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise _invalid(field, f"must be of type {types[0].__name__}")
            message[field] = value
        now = _now()
        message.update(
            id=_new_id("msg"),
            parentId=sid,
            sequence=f"{self.store.next_value(f'sequence:{sid}'):03d}",
            createdBy=self._user(request),
            createdAt=now,
            updatedAt=now,
        )
        self._put_message(message)
        session["lastMessageAt"] = now
        self.store.put("session", sid, session)
        created = {key: value for key, value in message.items() if key != "Content"}
        return JSONResponse(created, status_code=201)

    async def _list_messages(self, request: Request) -> Response:
        """``GET .../messages``: one page of the session's messages, oldest first."""
        sid = request.path_params["sid"]
        self._session(sid)
        return self._page(request, self.store.scan("message", parent=sid))

    async def _get_message(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}?sequence=[&componentType=]``."""
        return JSONResponse(self._messages(request, sequence_required=True)[0])

    async def _update_message(self, request: Request) -> Response:
        """``PATCH .../messages/{sourceRequestId}?sequence=``: data operations on ``Content``."""
        changes = self._operations(await self._json(request), ("Content",))
        # No await from here on: nothing can change or delete the message before it is put.
        message = self._messages(request, sequence_required=True)[0]
        for _, value in changes:
            message["Content"] = _content(value)
        message["updatedAt"] = _now()
        self._put_message(message)
        return Response(status_code=204)

    async def _delete_message(self, request: Request) -> Response:
        """``DELETE .../messages/{sourceRequestId}?sequence=``: the message and its flags."""
        message = self._messages(request, sequence_required=True)[0]
        sid = message["parentId"]
        self.store.delete("message", f"{sid}/{message['id']}")
        for kind in _values(ChatFlagType):
            self.store.delete("flag", f"{message['id']}/{kind}")
        return Response(status_code=204)

    # ---- flags ---------------------------------------------------------------------------

    def _flag_type(self, request: Request) -> str:
        kind = self._query(request, "type", required=True)
        return _choice(kind, "type", _values(ChatFlagType))

    async def _get_message_flags(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}/flag[?sequence=]``: the flags set on a message."""
        messages = self._messages(request, sequence_required=False)
        ids = {message["id"] for message in messages}
        sid = messages[0]["parentId"]
        kinds: list[str] = []
        for flag in self.store.all("flag", parent=sid):
            if flag["id"] in ids and flag["type"] not in kinds:
                kinds.append(flag["type"])
        return JSONResponse(
            {
                "sourceRequestId": messages[0]["sourceRequestId"],
                "total": len(kinds),
                "flags": kinds,
            }
        )

    async def _add_flag(self, request: Request) -> Response:
        """``POST .../messages/{sourceRequestId}/flag?sequence=&type=[&componentType=]``.

        Setting a flag that is set leaves it set (the call is idempotent).
        """
        kind = self._flag_type(request)
        message = self._messages(request, sequence_required=True)[0]
        flag = {
            "sourceRequestId": message["sourceRequestId"],
            "id": message["id"],
            "parentId": message["parentId"],
            "type": kind,
            "componentType": message["componentType"],
            "sequence": message["sequence"],
            kind: True,
        }
        self.store.put("flag", f"{message['id']}/{kind}", flag, parent=message["parentId"])
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
        entries = [entry for entry in self.store.scan("flag") if entry.body["type"] == kind]
        return self._page(request, entries)

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
        body = _object(await self._json(request))
        name = _text(body, "name")
        parent = self._existing_folder(_optional_text(body, "parentId"), "parentId")
        kind = body.get("type")
        if kind is None:
            kind = ChatFolderType.CHILD.value if parent else ChatFolderType.ROOT.value
        kind = _choice(kind, "type", _values(ChatFolderType))
        if kind == ChatFolderType.ROOT.value and parent is not None:
            raise _invalid("parentId", "must be null for a root folder")
        now, user = _now(), self._user(request)
        folder: Doc = {
            "id": _new_id("fld"),
            "name": name,
            "type": kind,
            "parentId": parent,
            "sequence": [],
            "createdBy": user,
            "updatedBy": user,
            "createdAt": now,
            "updatedAt": now,
        }
        self.store.put("folder", folder["id"], folder)
        return JSONResponse(folder, status_code=201)

    async def _list_folders(self, request: Request) -> Response:
        """``GET /chats/folders``: by ``name``/``exactMatch``/``createdBy``/``updatedBy``."""
        entries = self._filter_by_name(request, self.store.scan("folder"))
        return self._page(request, self._filter_by_author(request, entries))

    async def _get_folder(self, request: Request) -> Response:
        """``GET /chats/folders/{id}``."""
        return JSONResponse(self._folder(request.path_params["fid"]))

    async def _update_folder(self, request: Request) -> Response:
        """``PATCH /chats/folders/{id}``: data operations on ``name`` and ``sequence``.

        ``sequence`` is the list of the folder's children ids in order.
        """
        changes = self._operations(await self._json(request), ("name", "sequence"))
        # No await from here on: nothing can change or delete the folder before it is put.
        folder = self._folder(request.path_params["fid"])
        for attribute, value in changes:
            if attribute == "name":
                folder["name"] = _text({"name": value}, "name")
            elif isinstance(value, list) and all(isinstance(v, str) and v for v in value):
                folder["sequence"] = value
            else:
                raise _invalid("sequence", "must be a list of ids")
        folder["updatedBy"], folder["updatedAt"] = self._user(request), _now()
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
            fault = self.faults.plan(_object(await self._json(request)))
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


#: Marks a scope routed by `_route_on_raw_path`, whose path parameters are still encoded.
_RAW_ROUTING = "albert.routed_on_raw_path"

#: What may stay as it is in a path segment (RFC 3986 pchar), but ``/`` and ``%``.
_SEGMENT_SAFE = "!$&'()*+,;=:@~"


def _route_on_raw_path(scope: Scope) -> Scope:
    """Return the scope with a ``path`` in which an encoded ``/`` stays inside its segment.

    ASGI servers decode ``%2F`` in ``path``, which would split an id such as
    ``run/42`` into two segments. Routing on the raw path, each segment
    re-encoded the same way (``/`` and ``%`` only), keeps it one; the route's
    parameters are decoded by `_decode_path_params`.
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


def _decode_path_params(endpoint: Handler) -> Handler:
    async def decoded(request: Request) -> Response:
        if request.scope.get(_RAW_ROUTING):
            params = request.scope.get("path_params", {})
            request.scope["path_params"] = {name: unquote(value) for name, value in params.items()}
        return await endpoint(request)

    return decoded
