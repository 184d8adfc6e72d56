"""The emulator's ASGI app: every chat endpoint of the API contract, over a `Store`."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from albert.resources.chats import ChatComponentType, ChatFlagType
from albert.testing.faults import FaultInjector
from albert.testing.store import Doc, Store

__all__ = ["EmulatorApp", "create_app"]

API = "/api/v3"
Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An error answer: status and JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EmulatorApp:
    """The emulator: a Starlette app, its store, its credentials and its faults.

    Parameters
    ----------
    store : Store | None, optional
        Where to keep data (default: a new in-memory store).
    token : str | None, optional
        The static bearer token accepted on every call (default: a random one).
    client_credentials : dict[str, str] | None, optional
        Client id to secret, accepted by the token endpoint.
    page_size : int, optional
        Items per page of every listing (default 50).
    user : str, optional
        The user id written as ``createdBy``/``updatedBy``.

    Attributes
    ----------
    app : starlette.applications.Starlette
        The ASGI app to serve.
    faults : FaultInjector
        Plan failures and delays with ``faults.fail_next(...)`` / ``faults.add_latency(...)``.
    refresh_tokens : dict[str, str]
        SSO refresh token to tenant id, accepted by the refresh endpoint.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        token: str | None = None,
        client_credentials: dict[str, str] | None = None,
        page_size: int = 50,
        user: str = "usr-local",
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.store = store or Store()
        self.token = token or f"local-{secrets.token_urlsafe(16)}"
        self.client_credentials = dict(client_credentials or {})
        self.refresh_tokens: dict[str, str] = {}
        self.page_size = page_size
        self.user = user
        self.faults = FaultInjector()
        self.app = Starlette(routes=self._routes())
        self.app.state.emulator = self

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI connection (the emulator is itself an ASGI app)."""
        await self.app(scope, receive, send)

    # ---- plumbing -------------------------------------------------------

    def _routes(self) -> list[Route]:
        s = f"{API}/chats/sessions"
        m = s + "/{sid}/messages"
        table: list[tuple[str, str, Handler, bool]] = [
            ("POST", f"{API}/login/oauth/token", self.issue_token, False),
            ("POST", f"{API}/login/refresh", self.refresh_sso, False),
            ("GET", f"{API}/login", self.check_email, False),
            ("POST", s, self.create_session, True),
            ("GET", s, self.list_sessions, True),
            ("GET", s + "/source/{source_id}", self.get_session_by_source, True),
            ("GET", s + "/{sid}", self.get_session, True),
            ("PATCH", s + "/{sid}", self.update_session, True),
            ("DELETE", s + "/{sid}", self.delete_session, True),
            ("POST", m, self.create_message, True),
            ("GET", m, self.list_messages, True),
            ("GET", m + "/{srid}", self.get_message, True),
            ("PATCH", m + "/{srid}", self.update_message, True),
            ("DELETE", m + "/{srid}", self.delete_message, True),
            ("GET", m + "/{srid}/flag", self.get_message_flags, True),
            ("POST", m + "/{srid}/flag", self.add_flag, True),
            ("DELETE", m + "/{srid}/flag", self.remove_flag, True),
            ("GET", f"{API}/chats/flags", self.list_flags, True),
            ("POST", f"{API}/chats/folders", self.create_folder, True),
            ("GET", f"{API}/chats/folders", self.list_folders, True),
            ("GET", f"{API}/chats/folders/{{fid}}", self.get_folder, True),
            ("PATCH", f"{API}/chats/folders/{{fid}}", self.update_folder, True),
            ("DELETE", f"{API}/chats/folders/{{fid}}", self.delete_folder, True),
        ]
        return [
            Route(path, self._wrap(handler, authenticated), methods=[method])
            for method, path, handler, authenticated in table
        ]

    def _wrap(self, handler: Handler, authenticated: bool) -> Handler:
        async def endpoint(request: Request) -> Response:
            request_id = uuid.uuid4().hex
            delay, fault = self.faults.take(request.method, request.url.path)
            if delay:
                await asyncio.sleep(delay)
            if fault is not None:
                response: Response = JSONResponse(
                    fault.body, status_code=fault.status or 500, headers=fault.headers
                )
            else:
                try:
                    if authenticated:
                        self._authenticate(request)
                    response = await handler(request)
                except ApiError as exc:
                    response = JSONResponse({"message": exc.message}, status_code=exc.status)
            response.headers["x-request-id"] = request_id
            return response

        return endpoint

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing bearer token")
        if token == self.token:
            return
        issued = self.store.get("token", token)
        if issued is None or issued["expires_at"] < datetime.now(timezone.utc).timestamp():
            raise ApiError(401, "invalid or expired token")

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from exc

    @staticmethod
    def _require(body: Any, *fields: str) -> Doc:
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        missing = [f for f in fields if not isinstance(body.get(f), str) or not body[f]]
        if missing:
            raise ApiError(400, f"missing or invalid field(s): {', '.join(missing)}")
        return body

    def _page(self, request: Request, items: list[Doc]) -> Response:
        raw = request.query_params.get("startKey", "0")
        if not raw.isdigit():
            raise ApiError(400, "startKey is not a key this server issued")
        start = int(raw)
        body: Doc = {"Items": items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            body["lastKey"] = str(start + self.page_size)
        return JSONResponse(body)

    @staticmethod
    def _name_filter(request: Request, docs: list[Doc]) -> list[Doc]:
        names = request.query_params.getlist("name")
        if not names:
            return docs
        if request.query_params.get("exactMatch") == "true":
            return [d for d in docs if d.get("name") in names]
        lowered = [n.lower() for n in names]
        return [d for d in docs if any(n in str(d.get("name", "")).lower() for n in lowered)]

    @staticmethod
    def _operations(body: Any, allowed: set[str]) -> list[tuple[str, Any]]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise ApiError(400, 'body must be {"data": [{"operation", "attribute", "newValue"}]}')
        changes = []
        for op in data:
            if not isinstance(op, dict) or op.get("operation") != "update":
                raise ApiError(400, "only the 'update' operation is supported")
            if op.get("attribute") not in allowed:
                raise ApiError(400, f"attribute {op.get('attribute')!r} cannot be updated")
            changes.append((op["attribute"], op.get("newValue")))
        return changes

    # ---- authentication -------------------------------------------------

    def _issue(self, lifetime: float) -> str:
        token = f"jwt-{secrets.token_urlsafe(24)}"
        expires = datetime.now(timezone.utc).timestamp() + lifetime
        self.store.put("token", token, {"expires_at": expires})
        return token

    async def issue_token(self, request: Request) -> Response:
        """``POST /login/oauth/token``: client credentials, form-encoded."""
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "grant_type must be client_credentials")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or self.client_credentials.get(str(client_id)) != secret:
            raise ApiError(401, "invalid client credentials")
        return JSONResponse(
            {"access_token": self._issue(3600), "expires_in": 3600, "token_type": "Bearer"}
        )

    async def refresh_sso(self, request: Request) -> Response:
        """``POST /login/refresh``: an SSO refresh token for one JWT per tenant."""
        body = await self._json(request)
        refresh = body.get("refreshtoken") if isinstance(body, dict) else None
        tenant = self.refresh_tokens.get(str(refresh))
        if tenant is None:
            raise ApiError(401, "invalid refresh token")
        return JSONResponse(
            [{"tenantId": tenant, "jwt": self._issue(3600), "exp": 3600, "refreshToken": refresh}]
        )

    async def check_email(self, request: Request) -> Response:
        """``GET /login?email=``: 302 for a known user (every e-mail here)."""
        if not request.query_params.get("email"):
            raise ApiError(400, "email is required")
        return Response(status_code=302, headers={"location": "/sso"})

    # ---- sessions -------------------------------------------------------

    def _session(self, sid: str) -> Doc:
        session = self.store.get("session", sid)
        if session is None:
            raise ApiError(404, f"chat session {sid!r} not found")
        return session

    async def create_session(self, request: Request) -> Response:
        """``POST /chats/sessions``."""
        body = self._require(await self._json(request), "name", "sourceSessionId")
        session = {
            **body,
            "id": self.store.new_id("ses"),
            "createdBy": self.user,
            "updatedBy": self.user,
            "createdAt": _now(),
        }
        session.setdefault("parentId", None)
        self.store.put("session", session["id"], session)
        return JSONResponse(session, status_code=201)

    async def list_sessions(self, request: Request) -> Response:
        """``GET /chats/sessions`` with name/createdBy/updatedBy filters."""
        docs = self._name_filter(request, self.store.all("session"))
        for param in ("createdBy", "updatedBy"):
            value = request.query_params.get(param)
            if value is not None:
                docs = [d for d in docs if d.get(param) == value]
        return self._page(request, docs)

    async def get_session(self, request: Request) -> Response:
        """``GET /chats/sessions/{id}``."""
        return JSONResponse(self._session(request.path_params["sid"]))

    async def get_session_by_source(self, request: Request) -> Response:
        """``GET /chats/sessions/source/{sourceSessionId}``."""
        source = request.path_params["source_id"]
        for session in self.store.all("session"):
            if session.get("sourceSessionId") == source:
                return JSONResponse(session)
        raise ApiError(404, f"no chat session with sourceSessionId {source!r}")

    async def update_session(self, request: Request) -> Response:
        """``PATCH /chats/sessions/{id}``: data operations on name and parentId."""
        session = self._session(request.path_params["sid"])
        for attribute, value in self._operations(await self._json(request), {"name", "parentId"}):
            if (
                attribute == "parentId"
                and value is not None
                and not self.store.get("folder", value)
            ):
                raise ApiError(400, f"folder {value!r} does not exist")
            session[attribute] = value
        session["updatedBy"] = self.user
        self.store.put("session", session["id"], session)
        return Response(status_code=204)

    async def delete_session(self, request: Request) -> Response:
        """``DELETE /chats/sessions/{id}``: the session and its messages."""
        sid = request.path_params["sid"]
        if not self.store.delete("session", sid):
            raise ApiError(404, f"chat session {sid!r} not found")
        self.store.delete_children("message", sid)
        self.store.delete_children("flag", sid)
        return Response(status_code=204)

    # ---- messages -------------------------------------------------------

    def _message(self, request: Request) -> Doc:
        sid = request.path_params["sid"]
        self._session(sid)
        srid = request.path_params["srid"]
        sequence = request.query_params.get("sequence")
        component = request.query_params.get("componentType")
        for message in self.store.all("message", parent=sid):
            if message["sourceRequestId"] != srid:
                continue
            if sequence is not None and message["sequence"] != sequence:
                continue
            if component is not None and message["componentType"] != component:
                continue
            return message
        raise ApiError(404, f"message {srid!r} (sequence {sequence}) not found in {sid!r}")

    async def create_message(self, request: Request) -> Response:
        """``POST .../messages``: sequenced per session; the response omits Content."""
        sid = request.path_params["sid"]
        session = self._session(sid)
        body = self._require(
            await self._json(request), "sourceRequestId", "componentType", "userType", "role"
        )
        if "Content" not in body:
            raise ApiError(400, "missing field: Content")
        if body["componentType"] not in {c.value for c in ChatComponentType}:
            raise ApiError(400, f"unknown componentType {body['componentType']!r}")
        sequence = f"{self.store.next_count(f'sequence:{sid}'):03d}"
        message = {**body, "id": self.store.new_id("msg"), "parentId": sid, "sequence": sequence}
        message["createdAt"] = _now()
        self.store.put("message", f"{sid}/{message['id']}", message, parent=sid)
        session["lastMessageAt"] = message["createdAt"]
        self.store.put("session", sid, session)
        created = {k: v for k, v in message.items() if k != "Content"}  # the real server's quirk
        return JSONResponse(created, status_code=201)

    async def list_messages(self, request: Request) -> Response:
        """``GET .../messages``: oldest first."""
        sid = request.path_params["sid"]
        self._session(sid)
        return self._page(request, self.store.all("message", parent=sid))

    async def get_message(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}?sequence=``."""
        if "sequence" not in request.query_params:
            raise ApiError(400, "sequence is required")
        return JSONResponse(self._message(request))

    async def update_message(self, request: Request) -> Response:
        """``PATCH .../messages/{sourceRequestId}?sequence=``: data operations on Content."""
        if "sequence" not in request.query_params:
            raise ApiError(400, "sequence is required")
        message = self._message(request)
        for _, value in self._operations(await self._json(request), {"Content"}):
            if not isinstance(value, (str, dict)):
                raise ApiError(400, "Content must be a string or an object")
            message["Content"] = value
        self.store.put(
            "message", f"{message['parentId']}/{message['id']}", message, parent=message["parentId"]
        )
        return Response(status_code=204)

    async def delete_message(self, request: Request) -> Response:
        """``DELETE .../messages/{sourceRequestId}?sequence=``."""
        if "sequence" not in request.query_params:
            raise ApiError(400, "sequence is required")
        message = self._message(request)
        self.store.delete("message", f"{message['parentId']}/{message['id']}")
        return Response(status_code=204)

    # ---- flags ----------------------------------------------------------

    def _flag_type(self, request: Request) -> str:
        kind = request.query_params.get("type")
        if kind not in {t.value for t in ChatFlagType}:
            raise ApiError(400, f"type must be one of {[t.value for t in ChatFlagType]}")
        return kind

    def _flag_doc(self, message: Doc, kind: str) -> Doc:
        return {
            "sourceRequestId": message["sourceRequestId"],
            "id": message["id"],
            "parentId": message["parentId"],
            "type": kind,
            "componentType": message["componentType"],
            "sequence": message["sequence"],
            kind: True,
        }

    async def get_message_flags(self, request: Request) -> Response:
        """``GET .../messages/{sourceRequestId}/flag``."""
        message = self._message(request)
        kinds = [
            f["type"]
            for f in self.store.all("flag", parent=message["parentId"])
            if f["id"] == message["id"]
        ]
        return JSONResponse(
            {"sourceRequestId": message["sourceRequestId"], "total": len(kinds), "flags": kinds}
        )

    async def add_flag(self, request: Request) -> Response:
        """``POST .../messages/{sourceRequestId}/flag?sequence=&type=``: idempotent."""
        kind = self._flag_type(request)
        if "sequence" not in request.query_params:
            raise ApiError(400, "sequence is required")
        message = self._message(request)
        flag = self._flag_doc(message, kind)
        self.store.put("flag", f"{message['id']}/{kind}", flag, parent=message["parentId"])
        return JSONResponse(flag, status_code=201)

    async def remove_flag(self, request: Request) -> Response:
        """``DELETE .../messages/{sourceRequestId}/flag?sequence=&type=``."""
        kind = self._flag_type(request)
        message = self._message(request)
        if not self.store.delete("flag", f"{message['id']}/{kind}"):
            raise ApiError(404, f"message has no {kind!r} flag")
        return Response(status_code=204)

    async def list_flags(self, request: Request) -> Response:
        """``GET /chats/flags?type=``."""
        kind = self._flag_type(request)
        return self._page(request, [f for f in self.store.all("flag") if f["type"] == kind])

    # ---- folders --------------------------------------------------------

    def _folder(self, fid: str) -> Doc:
        folder = self.store.get("folder", fid)
        if folder is None:
            raise ApiError(404, f"chat folder {fid!r} not found")
        return folder

    async def create_folder(self, request: Request) -> Response:
        """``POST /chats/folders``."""
        body = self._require(await self._json(request), "name")
        folder = {**body, "id": self.store.new_id("fld"), "createdBy": self.user}
        folder.setdefault("type", "root" if not body.get("parentId") else "child")
        folder.setdefault("parentId", None)
        folder.setdefault("sequence", [])
        self.store.put("folder", folder["id"], folder)
        return JSONResponse(folder, status_code=201)

    async def list_folders(self, request: Request) -> Response:
        """``GET /chats/folders`` with name filters."""
        return self._page(request, self._name_filter(request, self.store.all("folder")))

    async def get_folder(self, request: Request) -> Response:
        """``GET /chats/folders/{id}``."""
        return JSONResponse(self._folder(request.path_params["fid"]))

    async def update_folder(self, request: Request) -> Response:
        """``PATCH /chats/folders/{id}``: data operations on name and sequence."""
        folder = self._folder(request.path_params["fid"])
        for attribute, value in self._operations(await self._json(request), {"name", "sequence"}):
            if attribute == "sequence" and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise ApiError(400, "sequence must be a list of ids")
            folder[attribute] = value
        self.store.put("folder", folder["id"], folder)
        return Response(status_code=204)

    async def delete_folder(self, request: Request) -> Response:
        """``DELETE /chats/folders/{id}``."""
        fid = request.path_params["fid"]
        if not self.store.delete("folder", fid):
            raise ApiError(404, f"chat folder {fid!r} not found")
        return Response(status_code=204)


def create_app(**options: Any) -> EmulatorApp:
    """Return a new emulator; the options are those of `EmulatorApp`."""
    return EmulatorApp(**options)
