"""Judging set-up under real concurrency (``podium serve --workers 2`` on PostgreSQL, see
``test_concurrency``): twenty simultaneous seeds of a stage enter each team once, under one label
each; twenty tablets using one sign-in code at once make exactly one session."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend.accounts.tokens import token_digest
from backend.security import CSRF_COOKIE, CSRF_HEADER
from tests.integration import test_concurrency as concurrency
from tests.integration.test_concurrency import N, new_contest, race, statuses

server = concurrency.server
admin = concurrency.admin

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("server", ["postgresql"], indirect=True, scope="module"),
]


async def running_stage(server, admin) -> tuple[int, int, int]:
    """A running contest with one track and one stage: its ids (event, track, stage)."""
    event_id = await new_contest(admin, tracks=1, stages=1)
    await server.execute("UPDATE event SET status = 'running' WHERE id = ?", event_id)
    stage = await server.value("SELECT id FROM stage WHERE event = ?", event_id)
    track = await server.value("SELECT id FROM track WHERE event = ?", event_id)
    return event_id, track, stage


async def test_twenty_simultaneous_seeds_enter_each_team_once(server, admin):
    event_id, track, stage = await running_stage(server, admin)
    for i in range(8):
        await server.execute(
            "INSERT INTO team (event, track, name, join_code, status) VALUES (?, ?, ?, ?, ?)",
            event_id,
            track,
            f"Seeded {i}",
            f"SEED{event_id:04d}{i:03d}",
            "approved" if i % 4 else "forming",  # six approved, two still forming
        )
    responses = await race(*[lambda: admin.post(f"/api/v1/stages/{stage}/entries/seed")] * N)
    assert statuses(responses) == {200: N}, [r.text for r in responses if r.status_code != 200]
    assert sorted(r.json()["added"] for r in responses) == [0] * (N - 1) + [6]
    rows = await server.rows("SELECT team, label FROM stage_entry WHERE stage = ?", stage)
    assert len(rows) == 6 == len({team for team, _ in rows}) == len({label for _, label in rows})
    assert await server.audit_count("judging.entries_seeded") == N


async def test_twenty_tablets_using_one_code_make_one_session(server, admin):
    event_id, _, stage = await running_stage(server, admin)
    judge = await server.value(
        "INSERT INTO podium_user (username, email, password, display_name, active, admin, superuser,"
        " email_confirmed_at) VALUES (?, ?, '!', 'Tablet judge', 1 = 1, 1 = 0, 1 = 0, CURRENT_TIMESTAMP)"
        " RETURNING id",
        f"tablet{event_id}@race.example",
        f"tablet{event_id}@race.example",
    )
    await server.execute(
        "INSERT INTO role_grant (\"user\", role, event) VALUES (?, 'judge', ?)", judge, event_id
    )
    await server.execute('INSERT INTO stage_judge (stage, "user") VALUES (?, ?)', stage, judge)
    made = await admin.post(f"/api/v1/stages/{stage}/judges/{judge}/tablet-sign-in")
    assert made.status_code == 201, made.text
    token = made.json()["url"].rsplit("/", 1)[1]
    tablets = []
    try:
        for _ in range(N):
            tablet = httpx.AsyncClient(base_url=server.url, timeout=60)
            await tablet.get("/healthz")
            tablet.headers[CSRF_HEADER] = tablet.cookies[CSRF_COOKIE]
            tablets.append(tablet)
        responses = await race(*[lambda t=t: t.post(f"/tablet/{token}", data={}) for t in tablets])
        assert statuses(responses) == {303: 1, 410: N - 1}
        me = [(await t.get("/api/v1/auth/me")).status_code for t in tablets]
        assert sorted(me) == [200] + [401] * (N - 1)
        used = await server.rows(
            "SELECT used_at FROM tablet_sign_in WHERE token_hash = ?", token_digest(token)
        )
        assert len(used) == 1
        assert isinstance(used[0][0], dt.datetime)
        assert await server.audit_count("judging.tablet_signed_in") == 1
    finally:
        for tablet in tablets:
            await tablet.aclose()
