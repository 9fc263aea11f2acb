"""Piccolo Admin at ``/admin``: the platform admins' back office, entered with the site's session.

There is one login, the site's (``/login``). The back office is mounted behind Podium's own
authentication (:class:`backend.security.AuthMiddleware`), and every request to it, the admin's API
calls included, is authenticated by the site session as a page is. So logging out of the site, the
session's end (idle or absolute lifetime) and deactivating the account (which bumps
``auth_epoch``) close the back office with the very next request; there is no second session to
forget. Piccolo Admin's own login, session table and password change are not used: its
authentication backend is replaced by :class:`SiteSession`, its login and change-password
endpoints answer 404, its logout ends the site session, and its single-page app sends the browser
to the site's login (and to ``/me`` for the password) instead of showing its own forms.

Who may enter is the policy's question (:data:`BACK_OFFICE`): platform admins. Anonymous
visitors are sent to the site's login and back (the admin's API answers 401); other users get a
403 page that points organizers at their workspace; bearer tokens are refused (403
``session_required``): the back office is a browser tool, and a token leaked from a script must
not open every table.

CSRF: Piccolo Admin's double-submit check (cookie ``csrftoken``, header ``X-CSRFToken``) guards
every write, the logout included, and in production also checks Origin/Referer against the host of
``PODIUM_BASE_URL``. The site's session cookie is SameSite=Lax besides, so a cross-site post does
not even carry it. Podium's own CSRF middleware stays out of the mount (the admin's app does not
send its header).

Each domain declares its views (``Domain.admin_views``). Every write through the back office is
audited (:class:`AuditedAdmin`); tables whose rows must follow the services' rules, and the
append-only audit log, are read-only (:func:`backend.admin_views.read_only`): a write to them
answers 405 before Piccolo Admin sees it, and writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, asgi
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import ASGIRouteHandler, BaseRouteHandler
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.utils.scope.state import ScopeState
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.csrf.middleware import CSRFMiddleware
from piccolo_api.session_auth.middleware import SessionsAuthBackend
from piccolo_api.shared.auth import User as AdminUser
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import audit, policy
from backend.accounts import service as accounts
from backend.accounts.tables import AdminSession, User
from backend.admin_views import READ_ONLY_DETAIL, read_only_tables
from backend.audit import Actor, acting_as, current_actor
from backend.db import transaction
from backend.domain import installed
from backend.errors import DomainError, Forbidden
from backend.guards import current
from backend.http_errors import exception_handler_for, wants_html
from backend.pages.controllers import login_url, page, same_site
from backend.policy import Action, Outcome, Principal
from backend.security import CSRF_COOKIE, end_session
from backend.settings import Settings

BACK_OFFICE = Action.manage_users
"""The policy's action for entering the back office. The back office edits accounts (and every
other editable table) directly, so only those who may manage accounts may enter: platform admins."""

PRINCIPAL = "podium.principal"
"""The scope key under which the back office finds the caller Podium's authentication let in."""

_WRITES = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_TABLE_ROUTE = re.compile(r"^/api/tables/(?P<table>[^/]+)/(?:(?P<row>[^/]+)/)?$")
_UNDER_TABLE = re.compile(r"^/api/tables/(?P<table>[^/]+)(?:/|$)")
_LOGIN, _LOGOUT, _CHANGE_PASSWORD = "/public/login/", "/public/logout/", "/api/change-password/"
NO_OWN_LOGIN = "The back office has no login of its own: log in to the site at /login?next=/admin/"
PASSWORD_ON_ME = "Change your password on your account page, /me"  # noqa: S105 - a message


def views() -> list[type[Table] | TableConfig]:
    """Every domain's back-office views, in the registry's order."""
    return [view for domain in installed() for view in domain.admin_views()]


@lru_cache(maxsize=1)
def _secret_columns() -> dict[str, set[str]]:
    """Per table, the columns whose values the audit entry masks."""
    tables = [v.table_class if isinstance(v, TableConfig) else v for v in views()]
    return {t._meta.tablename: {c._meta.name for c in t._meta.secret_columns} for t in tables}


@lru_cache(maxsize=1)
def _read_only() -> frozenset[str]:
    return read_only_tables(views())


# Who is calling: the site session, never Piccolo Admin's own -----------------------------------


class SiteSession(AuthenticationBackend):
    """Piccolo Admin's authentication backend, replaced: its user is the caller Podium's
    authentication found for this request (the site session) and the back office let in, loaded
    as the ``User`` row Piccolo Admin's endpoints read."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AdminUser]:
        principal: Principal | None = conn.scope.get(PRINCIPAL)
        if principal is None:
            raise AuthenticationError("Log in to the site first")
        user = await User.objects().where((User.id == principal.id) & (User.active == True)).first()  # noqa: E712
        if user is None:
            raise AuthenticationError("The account is deactivated")
        return AuthCredentials(["authenticated"]), AdminUser(user=user)


def _use_site_session(router: Any) -> None:
    """Swap Piccolo Admin's session backend (its ``id`` cookie and session table) for
    :class:`SiteSession`, keeping its middleware and its 401 answer."""
    for route in router.routes:
        if isinstance(route, Mount) and route.path == "/api":
            middleware = route.app
            if isinstance(middleware, AuthenticationMiddleware) and isinstance(
                middleware.backend, SessionsAuthBackend
            ):
                middleware.backend = SiteSession()
                return
    raise RuntimeError("Piccolo Admin's /api mount with its session authentication was not found")


# The single-page app goes to the site's login (and /me for the password) instead of its own forms.
_SITE_LOGIN_SCRIPT = """<script>
(function () {
  var base = location.pathname;
  function follow() {
    var hash = location.hash.replace(/^#/, "");
    if (hash.indexOf("/login") === 0) {
      var next = new URLSearchParams(hash.split("?")[1] || "").get("nextURL");
      var target = base + (next && next.charAt(0) === "/" ? "#" + next : "");
      location.replace("/login?next=" + encodeURIComponent(target));
    } else if (hash.indexOf("/change-password") === 0) {
      location.replace("/me");
    }
  }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      follow();
      return result;
    };
  });
  window.addEventListener("hashchange", follow);
  follow();
})();
</script>
"""


def _with_site_login(template: str) -> str:
    if "</head>" not in template:
        raise RuntimeError("Piccolo Admin's page has no </head> to add the site-login script to")
    return template.replace("</head>", _SITE_LOGIN_SCRIPT + "</head>", 1)


# Audited writes ---------------------------------------------------------------------------------


def _admin_actor(scope: Scope) -> Actor:
    """The caller as the audit log records back-office changes: channel ``admin``."""
    principal: Principal = scope[PRINCIPAL]
    context = current_actor.get() or Actor()
    return dataclasses.replace(
        context, id=principal.id, email=principal.email, channel="admin", token_id=None
    )


class AuditedAdmin:
    """Audits the back office: each write (``/api/...``) runs in one transaction together with one
    audit entry naming the admin, the table, the row and the changed fields (secret columns masked).

    Piccolo Admin's hooks run before the write and before a new row has its id, so the entry is
    written here instead, once the admin has answered: a 2xx answer commits with its entry, any
    other answer rolls back. The answer is held until the commit, so the back office never reports
    a change that did not happen.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _WRITES
            or not scope.get("path", "").startswith("/api/")
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

        request = StarletteRequest(scope)
        async with transaction() as tx:
            await self.app(scope, keep_body, hold)
            entry = await _entry(request, bytes(body), held)
            if entry is None:
                await tx.rollback()
            else:
                action, target_type, target_id, data = entry
                actor = _admin_actor(scope)
                with acting_as(actor):
                    await audit.record(actor.id, action, target_type, target_id, data=data)
        for message in held:
            await send(message)


Entry = tuple[str, str, int | None, dict[str, Any]]


async def _entry(request: StarletteRequest, body: bytes, held: list[Message]) -> Entry | None:
    """The audit entry for the back office's answer, or ``None`` when nothing happened."""
    status = held[0]["status"] if held else 500
    if not 200 <= status < 300:
        return None
    path, method = request.scope["path"], request.method
    route = _TABLE_ROUTE.match(path)
    if route is None:  # a back-office action that is not a table write
        return "admin.request", "admin", None, {"method": method, "path": path}
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
    return f"admin.{verb}", table, int(row) if row and row.isdigit() else None, data


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


# The mount: what is answered before Piccolo Admin, and the logout -------------------------------


async def _logout(scope: Scope, receive: Receive, send: Send) -> None:
    """Piccolo Admin's logout ends the site session (one login, one logout), audited as the site's."""
    request: Request = Request(scope, receive)
    response: Response = Response({"message": "logged out"})
    await end_session(request, response)
    with acting_as(_admin_actor(scope)):
        await accounts.record_logout(scope[PRINCIPAL])
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)


class BackOffice:
    """The app at ``/admin`` once the caller is let in: refuses what the back office does not do
    (its own login and password change: 404; writes to read-only tables: 405), ends the site
    session on its logout, and hands everything else to the audited Piccolo Admin."""

    def __init__(self, admin: ASGIApp, allowed_hosts: tuple[str, ...]) -> None:
        self.admin = AuditedAdmin(admin)
        self.logout = CSRFMiddleware(_logout, allowed_hosts=list(allowed_hosts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.admin(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        raw_path: bytes = scope.get("raw_path") or b""
        if path == "/" and raw_path and not raw_path.endswith(b"/"):  # /admin: its app's links are relative
            location = same_site(raw_path.decode("latin-1") + "/")
            await RedirectResponse(location, status_code=308)(scope, receive, send)
        elif path == _LOGIN:
            await JSONResponse({"detail": NO_OWN_LOGIN}, status_code=404)(scope, receive, send)
        elif path == _CHANGE_PASSWORD:
            await JSONResponse({"detail": PASSWORD_ON_ME}, status_code=404)(scope, receive, send)
        elif path == _LOGOUT and method == "POST":
            await self.logout(scope, receive, send)
        elif method in _WRITES and (table := _UNDER_TABLE.match(path)) and table["table"] in _read_only():
            await JSONResponse({"detail": READ_ONLY_DETAIL}, status_code=405)(scope, receive, send)
        else:
            await self.admin(scope, receive, send)


@lru_cache(maxsize=1)
def admin_app(
    production: bool, allowed_hosts: tuple[str, ...] = (), site_name: str = "Podium back office"
) -> ASGIApp:
    """Piccolo Admin over every domain's views, on the site session; built once per process."""
    router = create_admin(
        tables=views(),
        auth_table=User,
        session_table=AdminSession,  # required by Piccolo Admin; its endpoints that use it are refused
        site_name=site_name,
        production=production,
        allowed_hosts=list(allowed_hosts),
    )
    _use_site_session(router)
    router.template = _with_site_login(router.template)
    return BackOffice(router, allowed_hosts)


# Who may enter, in Litestar's terms --------------------------------------------------------------


class BackOfficeRefused(Forbidden):
    """A logged-in caller who is not a platform admin; ``organizer`` when they organize something
    (the refusal page points them at their workspace)."""

    def __init__(self, organizer: bool) -> None:
        super().__init__("The back office is for platform admins")
        self.organizer = organizer


async def _is_organizer(principal: Principal) -> bool:
    """Whether the caller organizes an event or holds a role in an organization (the workspace's)."""
    return bool(await policy.my_organization_ids(principal) or await policy.organized_event_ids(principal))


async def may_enter(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The back office's guard: a platform admin's site session, as the policy decides."""
    principal = current(connection)  # 401: browsers go to the site's login (:func:`login_first`)
    if principal.via != "session":
        raise DomainError(
            "session_required",
            "The back office takes the site's login session, not a bearer token",
            status_code=403,
        )
    if policy.decide(principal, BACK_OFFICE) is not Outcome.allowed:
        raise BackOfficeRefused(organizer=await _is_organizer(principal))


_json_error = exception_handler_for(None)


def _requested_path(request: Request) -> str:
    """The path the browser asked for: a mount's scope holds only the part below ``/admin``."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return same_site(raw.decode("latin-1").split("?")[0])


def login_first(request: Request, exc: NotAuthorizedException) -> Response:
    """401: browsers go to the site's login and come back to the back office; the admin's API
    calls get the usual ``{code, detail, fields}``."""
    if not wants_html(request):
        return _json_error(request, exc)
    return Redirect(login_url(_requested_path(request)), status_code=HTTP_303_SEE_OTHER)


def refusal_page(request: Request, exc: BackOfficeRefused) -> Response:
    """403: a page saying who the back office is for (and where an organizer works instead) for
    browsers; the usual ``{code, detail, fields}`` for the admin's API calls."""
    if not wants_html(request):
        return _json_error(request, exc)
    # Podium's CSRF middleware stays out of /admin: the header's forms (log out, language) take
    # the token the browser already holds, as the middleware itself would on a page.
    state = ScopeState.from_scope(request.scope)
    if request.cookies.get(CSRF_COOKIE):
        state.csrf_token = request.cookies[CSRF_COOKIE]
    template: Template = page(
        request,
        "back_office_refused.html.jinja",
        status_code=403,
        organizer=exc.organizer,
        error={"code": exc.code, "detail": exc.detail},
        here=_requested_path(request),
    )
    return template


def mount(settings: Settings) -> ASGIRouteHandler:
    """The ``/admin`` mount for ``create_app``: the guard, its refusal page and the back office."""
    host = urlsplit(settings.base_url).hostname
    allowed_hosts = (host,) if host else ()

    @asgi(
        "/admin",
        is_mount=True,
        copy_scope=True,
        include_in_schema=False,
        guards=[may_enter],
        exception_handlers={NotAuthorizedException: login_first, BackOfficeRefused: refusal_page},
    )
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        scope[PRINCIPAL] = scope["user"]  # type: ignore[literal-required]
        await admin_app(settings.production, allowed_hosts)(scope, receive, send)

    return admin
