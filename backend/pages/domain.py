"""The pages people use in a browser (the front page, login, event pages, the account page)."""

from __future__ import annotations

from litestar import Router

from backend.domain import Domain
from backend.pages.controllers import LoginPageController, PageController
from backend.security import LoginRateLimitMiddleware

DOMAIN = Domain(
    name="pages",
    routes=(
        Router(path="/", route_handlers=[LoginPageController], middleware=[LoginRateLimitMiddleware()]),
        PageController,
    ),
)
