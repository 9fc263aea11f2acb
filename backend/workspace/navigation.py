"""Which of the header's own links a signed-in person sees: "Workspace" for platform admins and
anyone holding an organizer or organization admin role, and the domains' links
(``Domain.nav_links``, e.g. the incubator's for its people). One small indexed query each per page a
logged-in person opens (pages only: the API and static files are left alone)."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from backend import domain
from backend.accounts.tables import RoleGrant
from backend.policy import ORG_ADMIN, ORGANIZER

STATE_KEY = "workspace_link"
LINKS_KEY = "nav_links"  # the domains' links this person sees: [{"title", "href"}]


async def has_workspace(user_id: int) -> bool:
    return await RoleGrant.exists().where(
        (RoleGrant.user == user_id) & RoleGrant.role.is_in([ORGANIZER, ORG_ADMIN])
    )


class WorkspaceLinkMiddleware:
    """Sets ``request.state.workspace_link`` and ``nav_links`` for the page templates (``base.html.jinja``). Runs
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
            state = scope.setdefault("state", {})
            state[STATE_KEY] = link
            state[LINKS_KEY] = [
                {"title": nav.title, "href": nav.href}
                for nav in domain.nav_links()
                if user.is_platform_admin or await nav.shown(user.id)
            ]
        await self.app(scope, receive, send)
