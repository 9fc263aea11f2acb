"""Who is calling, and may they? Cookie sessions for pages, bearer tokens for API clients and
scanning devices, CSRF for cookie-authenticated writes, and the guards every endpoint declares.

Sessions are kept in Litestar's store (Redis when configured, a file store otherwise) under a random
id that is replaced at every login, so a planted cookie cannot be promoted to a logged-in session
(Litestar's own session middleware keeps the id across logins).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.stores.base import Store
from litestar.types import Receive, Scope, Send

from backend.accounts.tables import ApiToken, Role, RoleGrant, User
from backend.db import utcnow
from backend.errors import Forbidden
from backend.policy import Principal

SESSION_COOKIE = "podium_session"
SESSION_MAX_AGE = 14 * 24 * 3600
CSRF_COOKIE = "podium_csrf"
CSRF_HEADER = "x-podium-csrf"
TOKEN_PREFIX = "pdm_"  # noqa: S105 - a marker, not a secret


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    """A fresh bearer token and the digest that is stored in its place."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


async def load_principal(user_id: int, via: str) -> Principal | None:
    row = (
        await User.select(User.id, User.email, User.display_name, User.locale, User.superuser, User.active)
        .where(User.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    return Principal(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        is_platform_admin=row["superuser"],
        via=via,
    )


class SessionStore:
    """Login sessions: random id in an HttpOnly cookie, user id in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, user_id: int) -> str:
        session_id = secrets.token_urlsafe(32)
        await self.store.set(f"session:{session_id}", str(user_id), expires_in=SESSION_MAX_AGE)
        return session_id

    async def user_id(self, session_id: str) -> int | None:
        if not session_id or len(session_id) > 100:
            return None
        raw = await self.store.get(f"session:{session_id}", renew_for=SESSION_MAX_AGE)
        return int(raw) if raw else None

    async def destroy(self, session_id: str | None) -> None:
        if session_id:
            await self.store.delete(f"session:{session_id}")


async def start_session(request: Request, response: Response, user_id: int) -> None:
    """Replace any session the browser had with a new one for this user."""
    sessions: SessionStore = request.app.state.sessions
    await sessions.destroy(request.cookies.get(SESSION_COOKIE))
    session_id = await sessions.create(user_id)
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.production,
        path="/",
    )


async def end_session(request: Request, response: Response) -> None:
    sessions: SessionStore = request.app.state.sessions
    await sessions.destroy(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to a :class:`Principal` or ``None``; guards decide what anonymous callers may do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Use 'Authorization: Bearer <token>'")
            principal = await principal_for_token(token.strip())
            if principal is None:
                raise NotAuthorizedException("The token is unknown, expired or revoked")
            return AuthenticationResult(user=principal, auth="token")
        session_id = connection.cookies.get(SESSION_COOKIE)
        if session_id:
            sessions: SessionStore = connection.app.state.sessions
            user_id = await sessions.user_id(session_id)
            if user_id is not None:
                principal = await load_principal(user_id, "session")
                if principal is not None:
                    return AuthenticationResult(user=principal, auth="session")
        return AuthenticationResult(user=None, auth=None)


async def principal_for_token(token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    now = utcnow()
    row = (
        await ApiToken.select(ApiToken.id, ApiToken.user, ApiToken.expires_at, ApiToken.revoked_at)
        .where(ApiToken.token_hash == token_digest(token))
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return await load_principal(row["user"], "token")


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, skipped for bearer-token requests: browsers never attach
    an ``Authorization`` header on their own, so those requests cannot be forged cross-site."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"authorization" and value[:7].lower() == b"bearer ":
                    await self.app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


# Guards ---------------------------------------------------------------------------------------


def current(connection: ASGIConnection) -> Principal:
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Log in first")
    return user


def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    current(connection)


def requires_platform_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not current(connection).is_platform_admin:
        raise Forbidden("Only platform admins may do this")


async def has_event_role(principal: Principal, event_id: int, roles: tuple[Role, ...]) -> bool:
    if principal.is_platform_admin:
        return True
    return await RoleGrant.exists().where(
        (RoleGrant.user == principal.id)
        & (RoleGrant.event == event_id)
        & RoleGrant.role.is_in([r.value for r in roles])
    )


def requires_event_role(*roles: Role) -> Any:
    """A guard: the caller holds one of ``roles`` in the event named by the ``event_id`` path parameter."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = current(connection)
        event_id = connection.path_params.get("event_id")
        if not isinstance(event_id, int) or not await has_event_role(principal, event_id, roles):
            raise Forbidden(f"You need the {' or '.join(r.value for r in roles)} role in this event")

    return guard


requires_organizer = requires_event_role(Role.organizer)
