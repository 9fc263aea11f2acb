"""Per-request context that code below the web layer needs without taking a request argument."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from backend.accounts.tokens import forget_cached_credentials
from backend.audit import Actor, acting_as


class AuditContextMiddleware:
    """Sets :data:`backend.audit.current_actor` from the authenticated caller (``scope["user"]``,
    so it must run inside the authentication middleware) and the client address, and
    :data:`backend.accounts.tokens.forget_cached_credentials` to the app's token cache (if any)."""

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
        cache = scope["app"].state.get("principals")
        reset = forget_cached_credentials.set(cache.forget_user if cache is not None else None)
        try:
            with acting_as(actor):
                await self.app(scope, receive, send)
        finally:
            forget_cached_credentials.reset(reset)
