"""Schemathesis fuzzes every operation of the OpenAPI document at ``/schema/openapi.json``, valid and
invalid inputs alike, once as an anonymous browser-like client and once as a platform admin with
a bearer token. The contract (issue 2): never a 5xx, and every 4xx carries ``{code, detail, fields}``.

Schemathesis runs the app (and its lifespan, hence the PostgreSQL pool) in its own event-loop
thread; everything this module does to the database itself happens before that starts, and the
lifespan is shut down at the end so later tests get the engine back without a pool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi

from backend.accounts import service as accounts
from backend.accounts.schemas import TokenIn, UserIn
from backend.accounts.tables import Role, RoleGrant
from backend.app import create_app
from backend.db import engine
from backend.events.tables import Event, EventSession, Stage, Track
from backend.institutions.tables import Institution
from backend.organizations.tables import Organization
from backend.piccolo_app import APP_CONFIG
from backend.security import CSRF_COOKIE, CSRF_HEADER, load_principal
from backend.settings import get_settings

# Examples per operation and caller: 25 in ``make test`` (about 600 operation × caller pairs: a
# third of the suite's time at 50), more with ``make fuzz`` (``PODIUM_FUZZ_EXAMPLES``).
EXAMPLES_PER_OPERATION = int(os.environ.get("PODIUM_FUZZ_EXAMPLES", "25"))
ERROR_KEYS = {"code", "detail", "fields"}
# The admin and its token get ids far above what the seed data uses, so the fuzzer, which favours
# small ids, does not revoke the token or demote the admin it is running as.
ADMIN_ID = 900_001


async def _seed() -> str:
    """Something for ids 1, 2, ... to find: two events with tracks, stages, sessions, roles; the admin."""
    names = ", ".join(f'"{t._meta.tablename}"' for t in APP_CONFIG.table_classes)
    await engine().run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    member = await accounts.create_user(
        None, UserIn(email="member@example.org", password="member-password", display_name="Member")
    )
    organization = Organization(slug="fuzz", kind="alliance", name_en="Fuzz alliance")
    await organization.save()
    contest = Event(
        organization=organization.id,
        slug="fuzz-contest",
        kind="contest",
        status="open",
        name_en="Fuzz contest",
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 7, 25),
        time_zone="Asia/Shanghai",
    )
    forum = Event(
        organization=organization.id,
        slug="fuzz-forum",
        kind="forum",
        status="draft",
        name_en="Fuzz forum",
        starts_on=dt.date(2027, 8, 1),
        ends_on=dt.date(2027, 8, 2),
        time_zone="Europe/Moscow",
    )
    await Event.insert(contest, forum)
    await Track.insert(Track(event=contest.id, code="B2C", name_en="Retail", team_min=1, team_max=5))
    await Stage.insert(Stage(event=contest.id, position=1, level="school", name_en="School round"))
    await EventSession.insert(
        EventSession(
            event=forum.id,
            title_en="Opening",
            room="A1",
            starts_at=dt.datetime(2027, 8, 1, 9, tzinfo=dt.UTC),
            ends_at=dt.datetime(2027, 8, 1, 10, tzinfo=dt.UTC),
            capacity=100,
        )
    )
    await Institution.insert(
        Institution(
            name_zh="浙江工商大学", name_en="Zhejiang Gongshang University", kind="university", country="CN"
        )
    )
    await RoleGrant.insert(RoleGrant(user=member.id, role=Role.judge.value, event=contest.id))

    for table in ("podium_user", "api_token"):
        await engine().run_ddl(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ADMIN_ID - 1})")
    admin = await accounts.create_user(
        None,
        UserIn(
            email="fuzz-admin@example.org",
            password="fuzz-admin-password",
            display_name="Fuzz admin",
        ),
        platform_admin=True,
    )
    principal = await load_principal(admin.id, "token")
    assert principal is not None
    assert principal.is_platform_admin
    return (await accounts.create_token(principal, TokenIn(name="fuzzer", expires_in_days=1))).token


@pytest.fixture(scope="module")
def admin_token(postgres_database) -> str:
    return asyncio.run(_seed())


@pytest.fixture(scope="module")
def api_schema(admin_token):
    """The app's own OpenAPI document; the app stays up (lifespan started) until the module ends."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(get_settings()))
    yield schema
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def csrf_token(api_schema) -> str:
    """What a browser holds after its first page: the CSRF cookie, echoed in a header on writes."""
    with schemathesis_asgi.get_client(api_schema.app) as client:
        response = client.get("/healthz")
    token = response.cookies.get(CSRF_COOKIE)
    assert token
    return token


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation; Litestar builds the document without a database."""
    document = create_app(get_settings()).openapi_schema.to_schema()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


def check_response(case, response) -> None:
    reproduce = f"{case.operation.label}: {case.as_curl_command()}"
    assert response.status_code < 500, f"{response.status_code} {response.text[:500]}\n{reproduce}"
    if response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            pytest.fail(f"{response.status_code} is not JSON: {response.text[:500]}\n{reproduce}")
        assert isinstance(body, dict), reproduce
        assert set(body) == ERROR_KEYS, f"{body}\n{reproduce}"
        assert isinstance(body["code"], str), reproduce
        assert body["code"], reproduce
        assert isinstance(body["detail"], str), reproduce
        assert isinstance(body["fields"], dict), reproduce


def fuzz(schema, method: str, path: str, **call_kwargs) -> None:
    """Valid and invalid requests for one operation, a bounded number in all.

    Hypothesis drives ``operation.as_strategy`` directly: schemathesis 4.32's own pytest
    integration (``from_fixture(...).parametrize()``) sets ``node._nodeid``, which pytest 9 lacks.
    """
    operation = schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=cases)
    def run(case) -> None:
        check_response(case, case.call(**call_kwargs))

    run()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_anonymous_requests_get_4xx_error_bodies_never_5xx(api_schema, csrf_token, method, path):
    fuzz(
        api_schema,
        method,
        path,
        headers={CSRF_HEADER: csrf_token},
        cookies={CSRF_COOKIE: csrf_token},
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_platform_admin_requests_get_4xx_error_bodies_never_5xx(api_schema, admin_token, method, path):
    fuzz(api_schema, method, path, headers={"Authorization": f"Bearer {admin_token}"})
