"""Twenty racing writes leave the data whole, on PostgreSQL and on SQLite.

The in-process test app is bound to the suite's PostgreSQL database, so each engine gets a real
``podium serve --workers 2`` here (a scratch PostgreSQL database, an SQLite file in a temporary
folder) and the requests race over HTTP. Every race must end with exactly the successes the rules
allow, the same 409 (or 404) body for every loser, no 500, no duplicate or missing rows, stage
positions 1..n, and one audit entry per success.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from backend.security import CSRF_COOKIE, CSRF_HEADER
from tests.conftest import PG_SERVER

N = 20
ADMIN = "admin@example.org"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str
    database_url: str

    async def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the server's database directly; ``?`` marks a parameter on both engines."""
        if self.database_url.startswith("postgresql"):
            conn = await asyncpg.connect(self.database_url)
            try:
                return [tuple(r) for r in await conn.fetch(_numbered(sql), *args)]
            finally:
                await conn.close()
        with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql, args).fetchall()

    async def execute(self, sql: str, *args: Any) -> None:
        if self.database_url.startswith("postgresql"):
            conn = await asyncpg.connect(self.database_url)
            try:
                await conn.execute(_numbered(sql), *args)
            finally:
                await conn.close()
        else:
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as conn:
                conn.execute(sql, args)

    async def value(self, sql: str, *args: Any) -> Any:
        return (await self.rows(sql, *args))[0][0]

    async def audit_count(self, action: str) -> int:
        return await self.value("SELECT count(*) FROM audit_entry WHERE action = ?", action)


def _numbered(sql: str) -> str:
    """``?`` parameters as PostgreSQL's ``$1, $2, ...``."""
    numbers = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


pytestmark = [
    pytest.mark.anyio,  # marked here, so anyio keeps the engine parameter (it re-creates unmarked items)
    pytest.mark.parametrize("server", ["postgresql", "sqlite"], indirect=True, scope="module"),
]


async def _warm_up(url: str) -> None:
    """Open the workers' database connections first, so the races are not queued behind that."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for response in await asyncio.gather(*(client.get("/healthz") for _ in range(2 * N))):
            assert response.status_code == 200


@dataclass
class _RaceServer:
    """A running ``podium serve --workers 2`` of this process, kept for the whole session."""

    server: Server
    proc: subprocess.Popen
    env: dict[str, str]
    log: Path

    def create_admin(self) -> None:
        created = subprocess.run(
            [sys.executable, "-m", "backend", "createadmin", "--email", ADMIN, "--password", PASSWORD],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr

    def empty_database(self) -> None:
        """Every table but the migrations' empty, ids from 1 again: the database a fresh server has."""
        url = self.server.database_url
        if url.startswith("postgresql"):
            asyncio.run(_pg_truncate(url))
            return
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        try:  # SQLite cannot switch triggers off (the audit log refuses DELETE): drop and re-create them
            conn.execute("BEGIN IMMEDIATE")
            triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'migration'"
                " AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for statement in (
                *(f'DROP TRIGGER "{name}"' for name, _ in triggers),
                *(f'DELETE FROM "{name}"' for (name,) in tables),  # noqa: S608  (the schema's own names)
                "DELETE FROM sqlite_sequence",
                *(sql for _, sql in triggers),
                "COMMIT",
            ):
                conn.execute(statement)
        finally:
            conn.close()

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.server.database_url.startswith("postgresql"):
            name = self.server.database_url.rsplit("/", 1)[1]
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_truncate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetchval(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'migration'"
        )
        await conn.execute("SET lock_timeout = '30s'")
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")  # row triggers do not fire
    finally:
        await conn.close()


def _start(engine: str, data_dir: Path) -> _RaceServer:
    if engine == "postgresql":
        name = f"podium_race_{os.getpid()}"
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        database_url = f"{PG_SERVER}/{name}"
    else:
        database_url = f"sqlite:///{data_dir / 'podium.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env.update(
        PODIUM_DATA_DIR=str(data_dir),
        PODIUM_DATABASE_URL=database_url,
        PODIUM_SECRET_KEY="race-test-secret-key-that-is-long-enough-0123",
        PODIUM_LOGIN_RATE_LIMIT="10000",
        PODIUM_DB_POOL_SIZE="10",
    )
    port = _free_port()
    log = data_dir / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve", "--migrate", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = _RaceServer(Server(f"http://127.0.0.1:{port}", database_url), proc, env, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{started.server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        asyncio.run(_warm_up(started.server.url))
    except BaseException:
        started.stop()
        raise
    return started


_race_servers: dict[str, _RaceServer] = {}  # this process's (one xdist worker's), by engine


@pytest.fixture(scope="module")
def server(request, tmp_path_factory) -> Iterator[Server]:
    """A migrated ``podium serve --workers 2`` with one platform admin, on the engine of the param.

    Starting one costs seconds, so each process starts one per engine on first use and keeps it for
    the session; each module gets its database as fresh (emptied, the admin created again).
    """
    started = _race_servers.get(request.param)
    seen = started.log.stat().st_size if started else 0  # what the server logged for other modules
    if started is None:
        started = _start(request.param, tmp_path_factory.mktemp(f"race-{request.param}"))
        _race_servers[request.param] = started
        request.config.add_cleanup(started.stop)
    else:
        started.empty_database()
    started.create_admin()
    yield started.server
    with started.log.open() as log:
        log.seek(seen)
        assert "Traceback" not in log.read()


@pytest.fixture
async def admin(server) -> Iterator[httpx.AsyncClient]:
    """The platform admin, logged in (session cookie and CSRF header)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        await client.get("/healthz")
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        response = await client.post("/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.cookies.set("podium_lang", "en")  # refusals are asserted in English
        yield client


_slugs = iter(range(1, 10_000))


async def organization_of(client: httpx.AsyncClient) -> int:
    """The caller's first organization, created on first use: events belong to one."""
    mine = (await client.get("/api/v1/organizations")).json()
    if mine:
        return mine[0]["id"]
    created = await client.post(
        "/api/v1/organizations", json={"kind": "alliance", "slug": "racers", "name_en": "Racers"}
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def new_contest(client: httpx.AsyncClient, tracks: int = 0, stages: int = 0) -> int:
    slug = f"race-{next(_slugs)}"
    response = await client.post(
        "/api/v1/events",
        json={
            "organization_id": await organization_of(client),
            "kind": "contest",
            "slug": slug,
            "name_en": slug,
            "starts_on": "2027-03-01",
            "ends_on": "2027-07-25",
        },
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    for i in range(tracks):
        created = await client.post(f"/api/v1/events/{event_id}/tracks", json={"code": f"T{i + 1}"})
        assert created.status_code == 201, created.text
    for _ in range(stages):
        created = await client.post(f"/api/v1/events/{event_id}/stages", json={"level": "school"})
        assert created.status_code == 201, created.text
    return event_id


async def race(*requests: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(r() for r in requests)))


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(Counter(r.status_code for r in responses))


def the_one_refusal(responses: list[httpx.Response], status: int) -> dict[str, Any]:
    """Every loser got the same answer, whichever check caught it; return that answer."""
    bodies = {json.dumps(r.json(), sort_keys=True) for r in responses if r.status_code == status}
    assert len(bodies) == 1, bodies
    return json.loads(bodies.pop())


async def positions(server: Server, event_id: int) -> list[int]:
    return [
        r[0]
        for r in await server.rows("SELECT position FROM stage WHERE event = ? ORDER BY position", event_id)
    ]


async def test_one_track_per_code(server, admin):
    event_id = await new_contest(admin)
    before = await server.audit_count("track.create")
    track = {"code": "B2C", "name_en": "Retail"}
    responses = await race(*[lambda: admin.post(f"/api/v1/events/{event_id}/tracks", json=track)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409) == {
        "code": "track_code_taken",
        "detail": "The event has a track with this code",
        "fields": {"code": "taken"},
    }
    assert await server.value("SELECT count(*) FROM track WHERE event = ?", event_id) == 1
    assert await server.audit_count("track.create") == before + 1


async def test_only_one_track_is_renamed_to_a_taken_code(server, admin):
    event_id = await new_contest(admin, tracks=N)
    ids = [t["id"] for t in (await admin.get(f"/api/v1/events/{event_id}/tracks")).json()]
    before = await server.audit_count("track.update")
    responses = await race(
        *[
            lambda track_id=track_id: admin.put(
                f"/api/v1/events/{event_id}/tracks/{track_id}", json={"code": "SAME"}
            )
            for track_id in ids
        ]
    )
    assert statuses(responses) == {200: 1, 409: N - 1}
    assert the_one_refusal(responses, 409)["code"] == "track_code_taken"
    codes = [r[0] for r in await server.rows("SELECT code FROM track WHERE event = ?", event_id)]
    assert len(codes) == len(set(codes)) == N
    assert codes.count("SAME") == 1
    assert await server.audit_count("track.update") == before + 1


async def test_stages_created_at_once_take_positions_one_to_n(server, admin):
    event_id = await new_contest(admin)
    before = await server.audit_count("stage.create")
    stage = {"level": "school"}
    responses = await race(*[lambda: admin.post(f"/api/v1/events/{event_id}/stages", json=stage)] * N)
    assert statuses(responses) == {201: N}
    assert sorted(r.json()["position"] for r in responses) == list(range(1, N + 1))
    assert await positions(server, event_id) == list(range(1, N + 1))
    assert await server.audit_count("stage.create") == before + N


async def test_stages_deleted_at_once_leave_positions_one_to_n(server, admin):
    event_id = await new_contest(admin, stages=8)
    stages = (await admin.get(f"/api/v1/events/{event_id}/stages")).json()
    doomed, kept = [s["id"] for s in stages[::2]], [s["id"] for s in stages[1::2]]
    before = await server.audit_count("stage.delete")
    responses = await race(
        *[
            lambda stage_id=stage_id: admin.delete(f"/api/v1/events/{event_id}/stages/{stage_id}")
            for stage_id in doomed * (N // len(doomed))
        ]
    )
    assert statuses(responses) == {204: len(doomed), 404: N - len(doomed)}
    assert the_one_refusal(responses, 404)["code"] == "not_found"
    rows = await server.rows("SELECT id, position FROM stage WHERE event = ? ORDER BY position", event_id)
    assert rows == [(stage_id, i) for i, stage_id in enumerate(kept, 1)]
    assert await server.audit_count("stage.delete") == before + len(doomed)


async def test_a_role_is_granted_once(server, admin):
    event_id = await new_contest(admin, tracks=1)
    user = await admin.post(
        "/api/v1/users",
        json={"email": f"judge-{event_id}@example.org", "password": PASSWORD, "display_name": "Judge"},
    )
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]
    before = await server.audit_count("role.grant")
    grant = {"user_id": user_id, "role": "judge"}  # no track, region or institution: NULL scopes
    responses = await race(*[lambda: admin.post(f"/api/v1/events/{event_id}/roles", json=grant)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409) == {
        "code": "role_exists",
        "detail": "The user already holds this role with this scope",
        "fields": {},
    }
    assert await server.value('SELECT count(*) FROM role_grant WHERE "user" = ?', user_id) == 1
    assert await server.audit_count("role.grant") == before + 1


async def test_an_event_slug_is_taken_once(server, admin):
    before = await server.audit_count("event.create")
    event = {
        "organization_id": await organization_of(admin),
        "kind": "forum",
        "slug": "one-slug",
        "name_en": "Forum",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-02",
    }
    responses = await race(*[lambda: admin.post("/api/v1/events", json=event)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409) == {
        "code": "slug_taken",
        "detail": "Another event uses this slug",
        "fields": {"slug": "taken"},
    }
    assert await server.value("SELECT count(*) FROM event WHERE slug = 'one-slug'") == 1
    assert await server.audit_count("event.create") == before + 1


async def test_an_organization_slug_is_taken_once(server, admin):
    before = await server.audit_count("organization.create")
    body = {"kind": "university", "slug": "one-university", "name_zh": "一所大学"}
    responses = await race(*[lambda: admin.post("/api/v1/organizations", json=body)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409) == {
        "code": "organization_slug_taken",
        "detail": "Another organization uses this slug",
        "fields": {"slug": "taken"},
    }
    assert await server.value("SELECT count(*) FROM organization WHERE slug = 'one-university'") == 1
    assert await server.audit_count("organization.create") == before + 1


async def test_an_organization_role_is_granted_once(server, admin):
    organization_id = await organization_of(admin)
    me = (await admin.get("/api/v1/auth/me")).json()["id"]
    before = await server.audit_count("organization.role_grant")
    body = {"user_id": me, "role": "organizer"}
    url = f"/api/v1/organizations/{organization_id}/roles"
    responses = await race(*[lambda: admin.post(url, json=body)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409)["code"] == "role_exists"
    assert await server.audit_count("organization.role_grant") == before + 1


async def test_an_email_gets_one_account(server, admin):
    before = await server.audit_count("user.create")
    user = {"email": "Twice@Example.org", "password": PASSWORD, "display_name": "Twice"}
    responses = await race(*[lambda: admin.post("/api/v1/users", json=user)] * N)
    assert statuses(responses) == {201: 1, 409: N - 1}
    assert the_one_refusal(responses, 409) == {
        "code": "email_taken",
        "detail": "An account with this e-mail exists",
        "fields": {"email": "taken"},
    }
    assert await server.value("SELECT count(*) FROM podium_user WHERE email = 'twice@example.org'") == 1
    assert await server.audit_count("user.create") == before + 1


async def test_a_contest_never_opens_without_a_track(server, admin):
    """Each contest has one track; opening it races deleting that track. One of the two wins."""
    events = [await new_contest(admin, tracks=1, stages=1) for _ in range(N // 2)]
    tracks = {e: (await admin.get(f"/api/v1/events/{e}/tracks")).json()[0]["id"] for e in events}
    opened_before = await server.audit_count("event.open")
    deleted_before = await server.audit_count("track.delete")
    requests = []
    for e in events:
        requests.append(lambda e=e: admin.post(f"/api/v1/events/{e}/open"))
        requests.append(lambda e=e: admin.delete(f"/api/v1/events/{e}/tracks/{tracks[e]}"))
    responses = await race(*requests)
    assert not [r.text for r in responses if r.status_code >= 500]
    for e, opening, deleting in zip(events, responses[::2], responses[1::2], strict=True):
        status = await server.value("SELECT status FROM event WHERE id = ?", e)
        left = await server.value("SELECT count(*) FROM track WHERE event = ?", e)
        if opening.status_code == 200:
            assert (status, left) == ("open", 1)
            assert (deleting.status_code, deleting.json()["code"]) == (409, "event_published")
        else:
            assert (status, left) == ("draft", 0)
            assert deleting.status_code == 204
            assert (opening.status_code, opening.json()["code"]) == (400, "incomplete_structure")
    opened = sum(r.status_code == 200 for r in responses[::2])
    assert await server.audit_count("event.open") == opened_before + opened
    assert await server.audit_count("track.delete") == deleted_before + len(events) - opened


async def test_the_database_itself_refuses_duplicates(server, admin):
    """Whatever writes (a service, the back office, a script), the unique indexes hold."""
    event_id = await new_contest(admin, tracks=1, stages=1)
    user = await admin.post(
        "/api/v1/users",
        json={"email": f"dup-{event_id}@example.org", "password": PASSWORD, "display_name": "Dup"},
    )
    grant = await admin.post(
        f"/api/v1/events/{event_id}/roles", json={"user_id": user.json()["id"], "role": "judge"}
    )
    assert grant.status_code == 201, grant.text
    duplicates = [
        "INSERT INTO track (event, code) SELECT event, code FROM track WHERE event = ?",
        "INSERT INTO stage (event, position, level) SELECT event, position, level FROM stage WHERE event = ?",
        'INSERT INTO role_grant ("user", role, event) SELECT "user", role, event FROM role_grant WHERE event = ?',
        "INSERT INTO event (organization, kind, slug) SELECT organization, kind, slug FROM event WHERE id = ?",
    ]
    for sql in duplicates:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
            await server.execute(sql, event_id)
