"""Whether the header shows the "Workspace" link: for platform admins and for anyone holding an
organizer or organization admin role. One small indexed query per page a logged-in person opens
(pages only: the API and static files are left alone)."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from backend.accounts.tables import RoleGrant
from backend.policy import ORG_ADMIN, ORGANIZER

STATE_KEY = "workspace_link"


async def has_workspace(user_id: int) -> bool:
    return await RoleGrant.exists().where(
        (RoleGrant.user == user_id) & RoleGrant.role.is_in([ORGANIZER, ORG_ADMIN])
    )


class WorkspaceLinkMiddleware:
    """Sets ``request.state.workspace_link`` for the page templates (``base.html.jinja``). Runs
    inside the authentication middleware, which sets ``scope["user"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user") if scope["type"] == "http" else None
        if (
            user is not None
            and scope["method"] == "GET"
            and not scope["path"].startswith(("/api/", "/static/", "/schema", "/admin"))
        ):
            link = user.is_platform_admin or await has_workspace(user.id)
            scope.setdefault("state", {})[STATE_KEY] = link
        await self.app(scope, receive, send)
