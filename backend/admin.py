"""Piccolo Admin at ``/admin``: the platform admins' back office, built once per process.

It logs in with the same accounts (``User`` extends Piccolo's ``BaseUser``); only users with the
``admin`` flag, i.e. platform admins, get in. Organizers manage their events through the API and
pages instead: Piccolo Admin has no per-row permissions, so it would show them every event.

Each domain declares its views (``Domain.admin_views``); every write through the back office is
audited (:class:`AuditedAdmin`), and append-only tables are shown read-only
(:func:`backend.admin_views.read_only`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import audit
from backend.accounts.tables import AdminSession, User
from backend.audit import Actor, acting_as
from backend.db import transaction
from backend.domain import installed

_WRITES = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_TABLE_ROUTE = re.compile(r"^/api/tables/(?P<table>[^/]+)/(?:(?P<row>[^/]+)/)?$")


def views() -> list[type[Table] | TableConfig]:
    """Every domain's back-office views, in the registry's order."""
    return [view for domain in installed() for view in domain.admin_views()]


@lru_cache(maxsize=1)
def _secret_columns() -> dict[str, set[str]]:
    """Per table, the columns whose values the audit entry masks."""
    tables = [v.table_class if isinstance(v, TableConfig) else v for v in views()]
    return {t._meta.tablename: {c._meta.name for c in t._meta.secret_columns} for t in tables}


class AuditedAdmin:
    """Audits the back office: each write (``/api/...``) runs in one transaction together with one
    audit entry naming the admin, the table, the row and the changed fields (secret columns masked);
    logins, failed logins and logouts are audited like the rest of Podium's.

    Piccolo Admin's hooks run before the write and before a new row has its id, so the entry is
    written here instead, once the admin has answered: a 2xx answer (or a refused login) commits
    with its entry, any other answer rolls back. The answer is held until the commit, so the back
    office never reports a change that did not happen.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in _WRITES
            or not (path.startswith("/api/") or path in (_LOGIN, _LOGOUT))
        ):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        held: list[Message] = []

        async def keep_body() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def hold(message: Message) -> None:
            held.append(message)

        request = Request(scope)
        async with transaction() as tx:
            actor_id = await AdminSession.get_user_id(request.cookies.get("id", ""))
            await self.app(scope, keep_body, hold)
            entry = await _entry(request, actor_id, bytes(body), held)
            if entry is None:
                await tx.rollback()
            else:
                actor_id, action, target_type, target_id, data = entry
                client = scope.get("client")
                actor = Actor(
                    id=actor_id, client_address=client[0][:100] if client else None, channel="admin"
                )
                with acting_as(actor):
                    await audit.record(actor_id, action, target_type, target_id, data=data)
        for message in held:
            await send(message)


_LOGIN, _LOGOUT = "/public/login/", "/public/logout/"
Entry = tuple[int | None, str, str, int | None, dict[str, Any]]


async def _entry(request: Request, actor_id: int | None, body: bytes, held: list[Message]) -> Entry | None:
    """The audit entry for the back office's answer, or ``None`` when nothing happened."""
    status = held[0]["status"] if held else 500
    path, method = request.scope["path"], request.method
    if path == _LOGIN and status == 401:
        tried = _json(body)
        email = str(tried.get("username", ""))[:255] if isinstance(tried, dict) else ""
        return None, "auth.login_failed", "user", None, {"email": email}
    if not 200 <= status < 300:
        return None
    if path == _LOGIN:  # the new session's cookie names the user who logged in
        cookies = [v.decode("latin-1") for k, v in held[0]["headers"] if k == b"set-cookie"]
        token = next((c.split(";")[0][3:] for c in cookies if c.startswith("id=")), "")
        user_id = await AdminSession.get_user_id(token)
        return user_id, "auth.login", "user", user_id, {}
    if path == _LOGOUT:
        return actor_id, "auth.logout", "user", actor_id, {}
    route = _TABLE_ROUTE.match(path)
    if route is None:  # a back-office action that is not a table write (e.g. change password)
        return actor_id, "admin.request", "admin", None, {"method": method, "path": path}
    table, row = route["table"], route["row"]
    verb = _WRITES[method]
    data: dict[str, Any] = {}
    if verb in ("create", "replace", "update"):
        secrets = _secret_columns().get(table, set())
        sent = _json(body)
        fields = sent if isinstance(sent, dict) else {}
        data["fields"] = {k: "(secret)" if k in secrets else v for k, v in fields.items()}
    if verb == "create":
        answer = _json(b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body"))
        created = answer[0] if isinstance(answer, list) and answer else answer
        row = str(created.get("id", "")) if isinstance(created, dict) else None
    elif row is None:  # DELETE on the collection: rows chosen by a filter
        data["filter"] = request.url.query
    return actor_id, f"admin.{verb}", table, int(row) if row and row.isdigit() else None, data


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


@lru_cache(maxsize=1)
def admin_app(production: bool, site_name: str = "Podium back office") -> ASGIApp:
    return AuditedAdmin(
        create_admin(
            tables=views(),
            auth_table=User,
            session_table=AdminSession,
            site_name=site_name,
            production=production,
        )
    )
