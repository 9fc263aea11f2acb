"""Twenty uploads of the same material at once get versions 1..20, no gap and no duplicate, on
PostgreSQL and on SQLite (a real ``podium serve --workers 2`` each, as in test_concurrency)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.test_concurrency import N, admin, new_contest, server, statuses  # noqa: F401
from tests.integration.test_materials import pdf

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("server", ["postgresql", "sqlite"], indirect=True, scope="module"),
]


async def test_twenty_uploads_at_once_get_versions_one_to_twenty(server, admin):  # noqa: F811
    event_id = await new_contest(admin, tracks=1, stages=1)
    track_id = (await admin.get(f"/api/v1/events/{event_id}/tracks")).json()[0]["id"]
    stage_id = (await admin.get(f"/api/v1/events/{event_id}/stages")).json()[0]["id"]
    await server.execute(
        "INSERT INTO team (event, track, name, join_code) VALUES (?, ?, 'Racers', ?)",
        event_id,
        track_id,
        f"RACE{event_id}",
    )
    team_id = await server.value("SELECT id FROM team WHERE event = ?", event_id)
    url = f"/api/v1/teams/{team_id}/stages/{stage_id}/materials/business_plan"
    responses = await asyncio.gather(
        *(
            admin.post(url, files={"file": (f"plan-{i}.pdf", pdf(str(i).encode()), "application/pdf")})
            for i in range(N)
        )
    )
    assert statuses(responses) == {201: N}, [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["version"] for r in responses) == list(range(1, N + 1))
    rows = await server.rows(
        "SELECT version, storage_key FROM material WHERE team = ? ORDER BY version", team_id
    )
    assert [r[0] for r in rows] == list(range(1, N + 1))
    for i, response in enumerate(responses):  # each version holds its own file
        download = await admin.get(response.json()["download_url"])
        assert download.content == pdf(str(i).encode())
    audit = await server.value(
        "SELECT count(*) FROM audit_entry WHERE action = 'team.material_submitted' AND target_id = ?", team_id
    )
    assert audit == N
