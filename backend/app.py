"""The composition root: ``create_app(settings)`` wires routes, auth, CSRF, rate limits,
templates, stores, the job queue and the admin mount."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
from litestar import Litestar, Request, Response, Router, asgi, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from litestar.types import Receive, Scope, Send
from redis.asyncio import Redis

from backend import db
from backend.accounts.controllers import (
    AuthController,
    LoginController,
    RoleController,
    UserController,
    login_rate_limit,
)
from backend.admin import admin_app
from backend.errors import exception_handler
from backend.events.controllers import EventController, SessionController, StageController, TrackController
from backend.institutions.controllers import InstitutionController
from backend.mail.jobs import FLUSH_EVERY
from backend.pages.controllers import LoginPageController, PageController
from backend.request_context import AuditContextMiddleware
from backend.security import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthMiddleware,
    SessionStore,
    TokenAwareCSRFMiddleware,
)
from backend.settings import Settings, get_settings
from backend.tasks import InlineQueue, install, queue_for
from backend.worker import JOBS

HERE = Path(__file__).parent
logger = logging.getLogger("podium")


class HealthOut(msgspec.Struct):
    status: str
    database: str
    redis: str
    jobs: str


@get("/healthz", operation_id="Health", tags=["system"])
async def health(request: Request) -> Response[HealthOut]:
    """Whether the database and Redis answer; 503 when one does not."""
    state = request.app.state
    database = redis = "ok"
    try:
        await db.ping()
    except Exception as exc:
        database = f"error: {type(exc).__name__}"
    if state.settings.redis_url:
        try:
            await state.redis.ping()
        except Exception as exc:
            redis = f"error: {type(exc).__name__}"
    else:
        redis = "not configured"
    ok = database == "ok" and redis in ("ok", "not configured")
    body = HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        redis=redis,
        jobs="arq" if state.settings.redis_url else "in-process",
    )
    return Response(body, status_code=200 if ok else 503)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        root_store = RedisStore(redis, namespace="podium")
        session_store = root_store.with_namespace("sessions")
        rate_store = root_store.with_namespace("rate_limit")
    else:
        session_store = FileStore(settings.data_dir / "sessions")
        rate_store = MemoryStore()

    @asgi("/admin", is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        await admin_app(settings.production)(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with db.connection_pool(settings):
            app.state.queue = await queue_for(settings, JOBS)
            previous_queue = install(app.state.queue)
            sweeper = None
            if isinstance(app.state.queue, InlineQueue):
                sweeper = asyncio.create_task(_sweep_outbox(app.state.queue))
            try:
                yield
            finally:
                if sweeper is not None:
                    sweeper.cancel()
                install(previous_queue)
                await app.state.queue.close()
                if redis is not None:
                    await redis.aclose()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.production,
        cookie_samesite="lax",
        exclude=["^/admin"],
    )
    limited = Router(
        path="/",
        route_handlers=[LoginController, LoginPageController],
        middleware=[login_rate_limit(settings.login_rate_limit).middleware],
    )
    app = Litestar(
        route_handlers=[
            limited,
            AuthController,
            UserController,
            RoleController,
            InstitutionController,
            EventController,
            TrackController,
            StageController,
            SessionController,
            PageController,
            health,
            admin,
            create_static_files_router(
                path="/static", directories=[HERE / "static"], include_in_schema=False
            ),
        ],
        middleware=[
            DefineMiddleware(AuthMiddleware, exclude=["^/static", "^/admin", "^/schema"]),
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf),
            AuditContextMiddleware,
        ],
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        exception_handlers={Exception: exception_handler},
        stores={"sessions": session_store, "rate_limit": rate_store},
        state=State(
            {
                "settings": settings,
                "sessions": SessionStore(session_store),
                "redis": root_store._redis if settings.redis_url else None,
            }
        ),
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Podium API",
            version="1",
            description="Contests, forums, fairs and incubation. Errors are {code, detail, fields}.",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token (pdm_...)"),
                    "session": SecurityScheme(
                        type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie"
                    ),
                }
            ),
            security=[{"bearer": []}, {"session": []}],
        ),
        request_max_body_size=2 * 1024 * 1024,
        debug=False,
    )
    return app


async def _sweep_outbox(queue: InlineQueue, every: float = FLUSH_EVERY) -> None:
    """In embedded mode nothing else retries mail, so the web process does it."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await queue.enqueue("flush_outbox")
