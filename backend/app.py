"""The composition root: ``create_app(settings)`` wires routes, auth, CSRF, rate limits,
templates, stores, the job queue and the admin mount."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader, State
from litestar.file_system import BaseLocalFileSystem
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope
from litestar.types.composite_types import PathType
from litestar.types.file_types import FileInfo
from redis.asyncio import ConnectionPool, Redis

from backend import db, domain
from backend.admin import mount as back_office
from backend.http_errors import document_error_responses, error_response, exception_handler_for
from backend.mail.jobs import FLUSH_EVERY
from backend.pages.controllers import error_page
from backend.piccolo_app import use_database
from backend.request_context import AuditContextMiddleware
from backend.schemas import JsonRequest, PathIntegersInRange
from backend.security import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthMiddleware,
    LoginLimiter,
    PrincipalCache,
    SessionStore,
    TokenAwareCSRFMiddleware,
)
from backend.settings import Settings, get_settings
from backend.tasks import InlineQueue, install, queue_for
from backend.workspace.navigation import WorkspaceLinkMiddleware
from judging.live.channels import room_channels

HERE = Path(__file__).parent
logger = logging.getLogger("podium")


SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


async def security_headers(message: Message, scope: Scope) -> None:
    """Every response of the app, the admin mount included: no framing, no sniffing, no referrer
    leaving the site. A header the response already sets is kept."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or [])
        present = {name.lower() for name, _ in headers}
        message["headers"] = headers + [h for h in SECURITY_HEADERS if h[0] not in present]


SWAGGER_UI_VERSION = "5.35.0"  # backend/static/vendor/swagger-ui-<version>/SOURCE.md


class ApiDocs(OpenAPIRenderPlugin):
    """``/schema``: Swagger UI from the project's own copy in ``backend/static/vendor/``, so the
    documentation renders where CDNs and web fonts cannot be reached (mainland China): no request
    leaves the site (``validatorUrl: null``; the icons are data URIs). "Try it out" sends the CSRF
    header for a logged-in browser; API clients use "Authorize" with a bearer token."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon='<link rel="icon" href="data:,">', style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        assets = f"/static/vendor/swagger-ui-{SWAGGER_UI_VERSION}"
        spec_url = self.get_openapi_json_route(request)
        settings = json.dumps({"spec": spec_url, "cookie": CSRF_COOKIE, "header": CSRF_HEADER})
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(openapi_schema["info"]["title"])}</title>
{self.favicon}
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<style>{API_DOCS_CSS}</style>
</head>
<body>
<main id="api-docs"><p>Loading the API documentation…</p></main>
<noscript><p>The API documentation needs JavaScript. The OpenAPI document:
<a href="{spec_url}">{spec_url}</a></p></noscript>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>{API_DOCS_JS.replace("SETTINGS", settings)}</script>
</body>
</html>
""".encode()


# The documentation loads from this site only, so the browser itself refuses anything else (Swagger UI
# styles elements inline; the start-up script is inline; its icons are data: URIs).
API_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)


def api_docs_router() -> Router:
    """``/schema`` (the page and the OpenAPI documents) with ``API_DOCS_CSP``; one per app."""
    return Router(
        "/schema",
        route_handlers=[],
        include_in_schema=False,
        response_headers=[ResponseHeader(name="content-security-policy", value=API_DOCS_CSP)],
    )


# Swagger UI's light badge and button colours fail WCAG 2.1 AA contrast (4.5:1): the same hues, darker.
API_DOCS_CSS = """
body { margin: 0; }
.swagger-ui .info .title small { background-color: #5e6571; }
.swagger-ui .info .title small.version-stamp { background-color: #4d7a00; }
.swagger-ui .btn.authorize { color: #1e7a4f; border-color: #1e7a4f; }
.swagger-ui .btn.authorize svg { fill: #1e7a4f; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #1e7a4f; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1a67b5; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #9a5a00; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #c92020; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0f7a63; }
.swagger-ui .json-schema-2020-12-expand-deep-button { color: #505050; }
.swagger-ui .btn.cancel { color: #c92020; border-color: #c92020; }
.swagger-ui .btn.execute { background-color: #1a67b5; border-color: #1a67b5; transition: none; }
.swagger-ui .download-contents { background: #5e6571; }
.swagger-ui .parameter__in, .swagger-ui .response-undocumented i { color: #595959; }
.swagger-ui .markdown code, .swagger-ui .renderedMarkdown code { color: #6a0dbd; }
"""

API_DOCS_JS = """
(function (settings) {
  var root = document.getElementById("api-docs");
  function csrfToken() {
    var prefix = settings.cookie + "=";
    var row = document.cookie.split("; ").find(function (c) { return c.indexOf(prefix) === 0; });
    return row ? decodeURIComponent(row.slice(prefix.length)) : null;
  }
  // Names Swagger UI leaves out for screen readers, given as its views appear.
  new MutationObserver(function () {
    root.querySelectorAll(".close-modal:not([aria-label])").forEach(function (e) { e.setAttribute("aria-label", "Close"); });
    root.querySelectorAll(".auth-btn-wrapper .authorize[aria-label]").forEach(function (e) { e.removeAttribute("aria-label"); });
    root.querySelectorAll("textarea.body-param__text:not([aria-label])").forEach(function (e) { e.setAttribute("aria-label", "Request body"); });
    root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (e) {
      e.setAttribute("aria-label", e.closest("tr").dataset.paramName);
    });
    root.querySelectorAll(".curl:not([tabindex]), .microlight:not([tabindex])").forEach(function (e) { e.setAttribute("tabindex", "0"); });
  }).observe(root, {childList: true, subtree: true});
  fetch(settings.spec, {credentials: "same-origin"})
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (spec) {
      delete spec.servers;  // requests go to this site; the server picker would offer nothing else
      SwaggerUIBundle({
        spec: spec,
        dom_id: "#api-docs",
        validatorUrl: null,
        syntaxHighlight: {theme: "obsidian"},  // agate, the default, fails contrast
        deepLinking: false,  // true puts a link inside each operation's toggle button (nested controls)
        requestInterceptor: function (request) {
          var token = csrfToken();
          if (token) request.headers[settings.header] = token;
          return request;
        },
      });
    })
    .catch(function (error) {
      root.textContent = "The API documentation could not be loaded (" + error.message + "). The OpenAPI document: " + settings.spec;
    });
})(SETTINGS);
"""


class StaticFiles(BaseLocalFileSystem):
    """A path that cannot name a file (a NUL byte, a name too long) names no file: 404, not 500."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except FileNotFoundError:
            raise
        except (ValueError, OSError) as exc:
            raise FileNotFoundError(str(path)) from exc


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
    use_database(settings)

    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        root_store = RedisStore(redis, namespace="podium")
        session_store = root_store.with_namespace("sessions")
    else:
        session_store = FileStore(settings.data_dir / "sessions")

    admin = back_office(settings)  # Piccolo Admin for platform admins, on the site session

    # PostgreSQL: bearer tokens are cached per process, dropped by the database's notifications.
    principals = PrincipalCache(settings.database_url) if settings.is_postgres else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if redis is not None:  # a pool of this start's own: its lock belongs to the loop it first ran in
            redis.connection_pool = ConnectionPool.from_url(settings.redis_url)
        async with db.connection_pool(settings):
            if principals is not None:
                await principals.start()
            app.state.queue = await queue_for(settings, domain.jobs())
            previous_queue = install(app.state.queue)
            sweeper = None
            if isinstance(app.state.queue, InlineQueue):
                sweeper = asyncio.create_task(_sweep_outbox(app.state.queue))
            try:
                yield
            finally:
                if principals is not None:
                    await principals.close()
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
    app = Litestar(
        route_handlers=[
            *domain.routes(),
            health,
            admin,
            create_static_files_router(
                path="/static",
                directories=[HERE / "static"],
                file_system=StaticFiles(),
                include_in_schema=False,
            ),
        ],
        middleware=[
            PathIntegersInRange,
            DefineMiddleware(AuthMiddleware, exclude=["^/static", "^/schema"]),
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf),
            AuditContextMiddleware,
            WorkspaceLinkMiddleware,
        ],
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        exception_handlers={Exception: exception_handler_for(error_page)},
        request_class=JsonRequest,
        before_send=[security_headers],
        stores={"sessions": session_store},
        # live finals' push between processes: Redis Pub/Sub when configured, in memory otherwise
        plugins=[room_channels(settings, redis)],
        state=State(
            {
                "settings": settings,
                "sessions": SessionStore(session_store, settings.session_lifetime_days * 24 * 3600),
                "login_limiter": LoginLimiter.from_settings(settings, redis),
                "redis": redis,
                "principals": principals,
            }
        ),
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            render_plugins=[ApiDocs(), YamlRenderPlugin()],
            openapi_router=api_docs_router(),
            title="Podium API",
            version="1",
            description=(
                "Contests, forums, fairs and incubation. Every error is `{code, detail, fields}` with a 4xx "
                "status: `code` is stable (the registry is in the Error response), `detail` and `fields` "
                "are for people, in the request's language (the `podium_lang` cookie, the account's "
                "language, then Accept-Language), and `fields` names every wrong field at once."
            ),
            components=Components(
                responses={"Error": error_response()},
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API token (pdm_...)"),
                    "session": SecurityScheme(
                        type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie"
                    ),
                },
            ),
            security=[{"bearer": []}, {"session": []}],
        ),
        request_max_body_size=2 * 1024 * 1024,
        debug=False,
    )
    document_error_responses(app)  # each operation lists the error answers it can really give
    return app


async def _sweep_outbox(queue: InlineQueue, every: float = FLUSH_EVERY) -> None:
    """In embedded mode nothing else retries mail, so the web process does it."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await queue.enqueue("flush_outbox")
