"""Per-request context that code below the web layer needs without taking a request argument."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from backend.audit import Actor, acting_as


class AuditContextMiddleware:
    """Sets :data:`backend.audit.current_actor` from the authenticated caller (``scope["user"]``,
    so it must run inside the authentication middleware) and the client address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        client = scope.get("client")
        actor = Actor(
            id=user.id if user else None,
            email=user.email if user else None,
            client_address=client[0][:100] if client else None,
            channel=user.via if user else None,
            token_id=user.token_id if user else None,
        )
        with acting_as(actor):
            await self.app(scope, receive, send)
