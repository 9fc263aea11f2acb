"""Fixtures for tests over HTTP against the real app, PostgreSQL and Redis.

``client`` drives the app in the test's own event loop through httpx's ASGI transport (Litestar's
test client runs another loop, which a PostgreSQL pool does not survive). Factories create
accounts and events through the services, as the API would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from backend.accounts import service as accounts
from backend.accounts.schemas import UserIn
from backend.accounts.tables import Role, RoleGrant
from backend.app import create_app
from backend.db import engine, fetch_one
from backend.events.tables import Event
from backend.organizations.tables import Organization
from backend.piccolo_app import APP_CONFIG
from backend.security import CSRF_COOKIE, CSRF_HEADER
from backend.settings import Settings, get_settings

PASSWORD = "correct horse battery"


_TABLES = [f'"{t._meta.tablename}"' for t in APP_CONFIG.table_classes]
_TRUNCATE = f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"
# The same in one round trip at a tenth of the cost (TRUNCATE makes new files for every table and
# index): DELETEs with triggers and foreign keys off for the transaction (the append-only audit log's
# trigger too, as TRUNCATE skips it), then each table's id sequence back to 1.
_DELETES = " ".join(f"DELETE FROM {name};" for name in _TABLES)  # noqa: S608  (the app's own tables)
_TABLE_LIST = ", ".join(f"'{name}'" for name in _TABLES)
_DELETE = f"""DO $$ BEGIN
PERFORM set_config('session_replication_role', 'replica', true);
{_DELETES}
PERFORM setval(d.objid::regclass, 1, false) FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND d.refobjid = ANY(ARRAY[{_TABLE_LIST}]::regclass[]);
END $$"""
_reset_sql: list[str] = []


async def empty_database() -> None:
    """Every table empty, its ids from 1 again; DELETE needs a superuser (``root`` here), else TRUNCATE."""
    if not _reset_sql:
        row = await fetch_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        _reset_sql.append(_DELETE if row and row["rolsuper"] else _TRUNCATE)
    await engine().run_ddl(_reset_sql[0])


@pytest.fixture
async def db(postgres_database, settings) -> None:
    """An empty database and an empty Redis database (sessions, rate limits, jobs) for each test."""
    await empty_database()
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture
def settings() -> Settings:
    return get_settings()


ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


_APPS: dict[str, Litestar] = {}


def app_for(settings: Settings) -> Litestar:
    """The app for ``settings``, built once per test process and started afresh by each test.

    Building it (routes, schemas, templates, the OpenAPI document) costs about 0.8 s of CPU, more
    than most tests; starting it (the pools, the queue, the token cache's LISTEN connection) is what
    each test needs of its own, as every test runs in an event loop of its own. Tests that change
    the settings get an app of their own settings, built once too."""
    key = repr(settings)
    if key not in _APPS:
        _APPS[key] = create_app(settings)
    return _APPS[key]


@pytest.fixture
async def make_client(db, settings) -> AsyncIterator[ClientFactory]:
    """Clients sharing one running app; ``await make_client(email)`` returns one logged in. The app
    starts with its cache of bearer tokens empty, as a new app would."""
    app = app_for(settings)
    if app.state.principals is not None:
        app.state.principals.clear()
    clients: list[httpx.AsyncClient] = []
    async with app.lifespan():

        async def factory(email: str | None = None, password: str = PASSWORD) -> httpx.AsyncClient:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium.test")
            clients.append(client)
            await prime_csrf(client)
            if email is not None:
                response = await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": password}
                )
                assert response.status_code == 200, response.text
            return client

        factory.app = app  # type: ignore[attr-defined]
        yield factory
        for client in clients:
            await client.aclose()


async def prime_csrf(client: httpx.AsyncClient) -> None:
    """Do what a browser does: fetch a page, then echo the CSRF cookie in a header."""
    await client.get("/healthz")
    client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:
    """An anonymous client."""
    return await make_client()


@pytest.fixture
def make_user(db) -> Callable[..., Awaitable[int]]:
    async def factory(
        email: str, *, platform_admin: bool = False, name: str | None = None, password: str = PASSWORD
    ) -> int:
        user = await accounts.create_user(
            None,
            UserIn(
                email=email,
                password=password,
                display_name=name or email.split("@")[0],
            ),
            platform_admin=platform_admin,
        )
        return user.id

    return factory


@pytest.fixture
async def admin(make_user, make_organization) -> int:
    """A platform admin, and the organization ``alliance`` (the first one: id 1) to create events in."""
    await make_organization("alliance")
    return await make_user("admin@example.org", platform_admin=True)


@pytest.fixture
def make_organization(db) -> Callable[..., Awaitable[int]]:
    async def factory(slug: str = "alliance", kind: str = "alliance") -> int:
        found = await Organization.select(Organization.id).where(Organization.slug == slug).first()
        if found is not None:
            return found["id"]
        organization = Organization(slug=slug, kind=kind, name_en=f"Organization {slug}")
        await organization.save()
        return organization.id

    return factory


@pytest.fixture
def make_event(make_organization) -> Callable[..., Awaitable[int]]:
    """An event of the organization ``organization`` (default: ``alliance``, created on first use)."""

    async def factory(
        slug: str = "cbec-2027",
        kind: str = "contest",
        status: str = "draft",
        organization: str = "alliance",
        **values: Any,
    ) -> int:
        event = Event(
            organization=await make_organization(organization),
            slug=slug,
            kind=kind,
            status=status,
            name_en=values.pop("name_en", f"Event {slug}"),
            starts_on=values.pop("starts_on", dt.date(2027, 3, 1)),
            ends_on=values.pop("ends_on", dt.date(2027, 7, 25)),
            time_zone=values.pop("time_zone", "Asia/Shanghai"),
            **values,
        )
        await event.save()
        return event.id

    return factory


@pytest.fixture
def grant(db) -> Callable[..., Awaitable[None]]:
    async def factory(user_id: int, role: Role, event_id: int, **scope: Any) -> None:
        await RoleGrant.insert(RoleGrant(user=user_id, role=role.value, event=event_id, **scope))

    return factory


@pytest.fixture
async def organizer(make_user, make_event, grant) -> tuple[int, int]:
    """(user id, event id) of an organizer and the draft contest they organize."""
    user_id = await make_user("organizer@example.org")
    event_id = await make_event()
    await grant(user_id, Role.organizer, event_id)
    return user_id, event_id


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every statement asyncpg sends from now on (each call of a connection's query methods; BEGIN
    and COMMIT go through ``execute``): what the tests pinning a hot path's round trips count."""
    queries: list[str] = []
    for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
        original = getattr(asyncpg.Connection, name)

        async def counted(self, query, *args, _original=original, **kwargs):
            queries.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, counted)
    return queries
