"""Twenty requests racing for the last place a contest's rules leave: the last seat of a team, the
last entry of an advisor, the last first-advisor entry. Exactly one wins, on PostgreSQL and SQLite
(real ``podium serve --workers 2`` servers, see ``test_concurrency``), and every loser gets the same
refusal naming the rule and its limit."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from backend.accounts.tokens import new_api_token
from tests.integration import test_concurrency as concurrency
from tests.integration.test_concurrency import N, new_contest, race, statuses, the_one_refusal

# The race servers (``podium serve --workers 2`` on each engine) and their admin, as in test_concurrency.
server = concurrency.server
admin = concurrency.admin

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("server", ["postgresql", "sqlite"], indirect=True, scope="module"),
]


async def _person(server, email: str) -> httpx.AsyncClient:
    """An account and a client holding a bearer token for it, written straight into the database
    (through the API each would cost a password hash or two)."""
    user_id = await server.value(
        "INSERT INTO podium_user (username, email, password, display_name, active, admin, superuser,"
        " email_confirmed_at) VALUES (?, ?, '!', ?, 1 = 1, 1 = 0, 1 = 0, CURRENT_TIMESTAMP) RETURNING id",
        email,
        email,
        email,
    )
    token, digest = new_api_token()
    await server.execute(
        'INSERT INTO api_token ("user", name, token_hash, scopes) VALUES (?, ?, ?, ?)',
        user_id,
        "race",
        digest,
        "read write",
    )
    client = httpx.AsyncClient(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"})
    client.cookies.set("podium_lang", "en")
    return client


async def _open_contest(server, admin, tracks: int) -> tuple[int, list[int]]:
    event_id = await new_contest(admin, tracks=tracks, stages=1)
    await server.execute("UPDATE event SET status = 'open' WHERE id = ?", event_id)
    ids = [t["id"] for t in (await admin.get(f"/api/v1/events/{event_id}/tracks")).json()]
    return event_id, ids


async def test_one_wins_the_last_seat_and_one_the_last_advisor_entries(server, admin):
    event_id, (t1, t2, t3) = await _open_contest(server, admin, tracks=3)
    await server.execute("UPDATE track SET team_min = 1, team_max = 2 WHERE id = ?", t1)
    await server.execute("UPDATE track SET entries_per_advisor_max = 1 WHERE id = ?", t2)
    rules = await admin.put(
        f"/api/v1/events/{event_id}/tracks/{t3}/registration-rules", json={"first_advisor_entries_max": 1}
    )
    assert rules.status_code == 200, rules.text
    leader = await _person(server, "leader@example.org")
    people = [await _person(server, f"p{i}@example.org") for i in range(N)]
    advisors = [await _person(server, f"a{i}@example.org") for i in (1, 2)]
    try:
        # The last seat: one place left, twenty join requests approved at once.
        team = (
            await leader.post(f"/api/v1/events/{event_id}/teams", json={"track_id": t1, "name": "Seat"})
        ).json()
        requests = [
            (await p.post("/api/v1/teams/join", json={"code": team["join_code"]})).json() for p in people
        ]
        assert {r["state"] for r in requests} == {"requested"}
        responses = await race(
            *[
                lambda seat_id=r["id"]: leader.post(f"/api/v1/teams/{team['id']}/seats/{seat_id}/approve")
                for r in requests
            ]
        )
        assert statuses(responses) == {200: 1, 409: N - 1}
        refusal = the_one_refusal(responses, 409)
        assert refusal["code"] == "team_full"
        assert refusal["detail"] == "The team is full: at most 2 members"
        held = await server.value(
            "SELECT count(*) FROM team_member WHERE team = ? AND state = 'confirmed'", team["id"]
        )
        assert held == 2
        assert await server.audit_count("team.join_approved") == 1

        # The advisor's last entry (at most 1 per advisor in track 2): twenty teams invite at once.
        teams = await asyncio.gather(
            *(
                p.post(f"/api/v1/events/{event_id}/teams", json={"track_id": t2, "name": f"E{i}"})
                for i, p in enumerate(people)
            )
        )
        assert {t.status_code for t in teams} == {201}
        invite = {"email": "a1@example.org", "role": "university_advisor"}
        responses = await race(
            *[
                lambda p=p, t=t: p.post(f"/api/v1/teams/{t.json()['id']}/seats", json=invite)
                for p, t in zip(people, teams, strict=True)
            ]
        )
        assert statuses(responses) == {201: 1, 409: N - 1}
        refusal = the_one_refusal(responses, 409)
        assert refusal["code"] == "advisor_entries_limit"
        assert "1 entries" in refusal["detail"]
        seats = await server.value(
            "SELECT count(*) FROM team_member WHERE email = ? AND state = 'invited'", "a1@example.org"
        )
        assert seats == 1

        # The first-advisor limit (1 in track 3), whatever the number of entries allowed.
        teams = [
            await p.post(f"/api/v1/events/{event_id}/teams", json={"track_id": t3, "name": f"F{i}"})
            for i, p in enumerate(people)
        ]
        invite = {"email": "a2@example.org", "role": "enterprise_advisor"}
        responses = await race(
            *[
                lambda p=p, t=t: p.post(f"/api/v1/teams/{t.json()['id']}/seats", json=invite)
                for p, t in zip(people, teams, strict=True)
            ]
        )
        assert statuses(responses) == {201: 1, 409: N - 1}
        assert the_one_refusal(responses, 409)["code"] == "first_advisor_limit"
        assert [r.json()["position"] for r in responses if r.status_code == 201] == [1]
    finally:
        for client in (leader, *people, *advisors):
            await client.aclose()


async def test_twenty_identical_requests_of_one_person_count_once(server, admin):
    """A double-clicking or retrying client: the same person sends the same request twenty times at
    once. One team is created, one join request is made; the others are told why, none fails."""
    event_id, (track, other_track) = await _open_contest(server, admin, tracks=2)
    person = await _person(server, "twice@example.org")
    leader = await _person(server, "other-leader@example.org")
    try:
        body = {"track_id": track, "name": "Twin"}
        responses = await race(*[lambda: person.post(f"/api/v1/events/{event_id}/teams", json=body)] * N)
        assert statuses(responses) == {201: 1, 409: N - 1}
        assert the_one_refusal(responses, 409)["code"] == "already_in_track"
        assert await server.value("SELECT count(*) FROM team WHERE event = ?", event_id) == 1

        team = (
            await leader.post(
                f"/api/v1/events/{event_id}/teams", json={"track_id": other_track, "name": "Open"}
            )
        ).json()
        responses = await race(
            *[lambda: person.post("/api/v1/teams/join", json={"code": team["join_code"]})] * N
        )
        assert statuses(responses) == {201: 1, 409: N - 1}
        assert the_one_refusal(responses, 409)["code"] == "already_in_team"
        requested = await server.value(
            "SELECT count(*) FROM team_member WHERE team = ? AND state = 'requested'", team["id"]
        )
        assert requested == 1
    finally:
        await person.aclose()
        await leader.aclose()


async def test_one_wins_the_last_entry_of_an_advisor_with_no_account(server, admin):
    """An advisor invited by an address that has no account has no row to lock: twenty teams
    inviting it at once queue on the address (PostgreSQL's advisory lock, SQLite's write lock), and
    only one invitation holds its single entry."""
    event_id, (track,) = await _open_contest(server, admin, tracks=1)
    await server.execute("UPDATE track SET entries_per_advisor_max = 1 WHERE id = ?", track)
    leaders = [await _person(server, f"l{i}@example.org") for i in range(N)]
    try:
        teams = await asyncio.gather(
            *(
                p.post(f"/api/v1/events/{event_id}/teams", json={"track_id": track, "name": f"N{i}"})
                for i, p in enumerate(leaders)
            )
        )
        assert {t.status_code for t in teams} == {201}
        invite = {"email": "Nobody@Example.org", "role": "university_advisor"}
        responses = await race(
            *[
                lambda p=p, t=t: p.post(f"/api/v1/teams/{t.json()['id']}/seats", json=invite)
                for p, t in zip(leaders, teams, strict=True)
            ]
        )
        assert statuses(responses) == {201: 1, 409: N - 1}
        assert the_one_refusal(responses, 409)["code"] == "advisor_entries_limit"
        seats = await server.value(
            "SELECT count(*) FROM team_member WHERE email = ? AND state = 'invited'", "nobody@example.org"
        )
        assert seats == 1
    finally:
        for client in leaders:
            await client.aclose()
