"""Data export and erasure on request: the export holds what is mine (and only that); erasure
anonymises the account, logs it out everywhere and keeps what results and the audit must keep."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from backend.accounts.tables import AccountToken, ApiToken, Consent, Invitation, Profile, RoleGrant, User
from backend.audit import AuditEntry
from backend.events.tables import Stage, Track
from backend.teams.storage import storage
from backend.teams.tables import Material, Team, TeamEvent, TeamMember
from tests.integration.conftest import PASSWORD

ME = "leaving@example.org"


async def _team(event_id: int, track_id: int, leader: int | None, name: str, status: str = "forming") -> dict:
    team = Team(
        event=event_id, track=track_id, name=name, leader=leader, join_code=name[:8].upper(), status=status
    )
    await team.save()
    return {"id": team.id, "event": event_id}


async def _seat(team: dict, track_id: int, user: int | None, email: str, role: str, state: str) -> int:
    seat = TeamMember(
        team=team["id"],
        event=team["event"],
        track=track_id,
        user=user,
        email=email,
        role=role,
        state=state,
        joined_via="invitation",
    )
    await seat.save()
    return seat.id


async def _world(make_user, make_event):
    """Me with a profile, consents, a role, a confirmed seat, a pending invitation, a material."""
    me = await make_user(ME)
    other = await make_user("leader@example.org")
    event_id = await make_event(status="open")
    track = Track(event=event_id, code="A", name_en="A")
    await track.save()
    stage = Stage(event=event_id, level="school", position=1)
    await stage.save()
    await Profile(user=me, name_native="离开", name_latin="Li Kai", country="CN").save()
    await Consent(user=me, kind="terms", version="2026-11", granted=True).save()
    await RoleGrant(user=me, role="judge", event=event_id).save()
    await Invitation(
        email=ME,
        role="mentor",
        event=event_id,
        token_hash="x" * 64,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    ).save()
    mine = await _team(event_id, track.id, other, "Rockets")
    confirmed = await _seat(mine, track.id, me, ME, "member", "confirmed")
    await TeamEvent(team=mine["id"], kind="member_confirmed", actor=me, data={"seat_id": confirmed}).save()
    await TeamEvent(team=mine["id"], kind="renamed", actor=other, data={"name": "Rockets"}).save()
    pending_team = await _team(event_id, track.id, other, "Comets")
    pending = await _seat(pending_team, track.id, None, ME, "member", "invited")
    await Material(
        team=mine["id"], stage=stage.id, kind="summary", version=1, text="Our plan", uploaded_by=me
    ).save()

    async def pdf():
        yield b"%PDF-1.7 my plan %%EOF"

    stored = await storage().save(f"teams/{mine['id']}", pdf(), 1000)
    await Material(
        team=mine["id"],
        stage=stage.id,
        kind="business_plan",
        version=1,
        storage_key=stored.key,
        file_name="plan.pdf",
        content_type="application/pdf",
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by=me,
    ).save()
    return {
        "me": me,
        "event": event_id,
        "track": track.id,
        "confirmed": confirmed,
        "pending": pending,
        "team": mine,
    }


async def test_the_export_holds_my_data_and_nothing_of_others(make_client, make_user, make_event):
    world = await _world(make_user, make_event)
    client = await make_client(ME)
    response = await client.get("/api/v1/me/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}
    assert set(data) == {
        "account.json",
        "profile.json",
        "consents.json",
        "roles.json",
        "teams.json",
        "materials.json",
    }
    assert data["account.json"]["email"] == ME
    assert data["profile.json"]["name_latin"] == "Li Kai"
    assert [c["kind"] for c in data["consents.json"]] == ["terms"]
    assert [r["role"] for r in data["roles.json"]] == ["judge"]
    assert {s["id"] for s in data["teams.json"]["seats"]} == {world["confirmed"], world["pending"]}
    assert [line["kind"] for line in data["teams.json"]["timeline"]] == ["member_confirmed"]
    summary, plan = data["materials.json"]
    assert (summary["text"], summary["file"]) == ("Our plan", None)
    assert archive.read(plan["file"]) == b"%PDF-1.7 my plan %%EOF"  # the uploaded file itself
    assert "storage_key" not in plan
    assert "leader@example.org" not in response.content.decode("latin-1")


async def test_erasure_anonymises_the_account_and_keeps_what_must_stay(make_client, make_user, make_event):
    world = await _world(make_user, make_event)
    client = await make_client(ME)
    client.cookies.set("podium_lang", "en", domain="podium.test")
    token = (await client.post("/api/v1/auth/tokens", json={"name": "script"})).json()["token"]
    wrong = await client.post("/api/v1/me/erase", json={"password": "not my password"})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "wrong_password"
    assert wrong.json()["fields"] == {"password": "wrong"}

    erased = await client.post("/api/v1/me/erase", json={"password": PASSWORD})
    assert erased.status_code == 204, erased.text
    user = await User.select().where(User.id == world["me"]).first()
    anonymous = f"erased-{world['me']}@erased.invalid"
    assert (user["email"], user["username"], user["display_name"], user["active"]) == (
        anonymous,
        anonymous,
        "",
        False,
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401
    assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 0
    assert await AccountToken.count().where(AccountToken.used_at.is_null()) == 0
    assert not await Profile.exists().where(Profile.user == world["me"])
    assert await Consent.count().where(Consent.user == world["me"]) == 1  # evidence stays
    seats = {r["id"]: r for r in await TeamMember.select()}
    assert (seats[world["confirmed"]]["state"], seats[world["confirmed"]]["email"]) == (
        "confirmed",
        anonymous,
    )
    assert (seats[world["pending"]]["state"], seats[world["pending"]]["email"]) == ("left", anonymous)
    assert await Material.count().where(Material.uploaded_by == world["me"]) == 2
    assert await TeamEvent.exists().where(TeamEvent.kind == "seat_dropped_on_erasure")
    assert not await TeamMember.exists().where(TeamMember.email == ME)
    invitation = await Invitation.select().first()
    assert invitation["email"] == anonymous
    assert invitation["revoked_at"] is not None
    for password in (PASSWORD, "!erased"):
        login = await client.post("/api/v1/auth/login", json={"email": anonymous, "password": password})
        assert login.status_code == 401
    # the audit log keeps who did what, as it was: accountability outlives the account
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "account.erase") & (AuditEntry.actor_email == ME)
    )


async def test_a_leader_of_a_live_team_hands_over_first(make_client, make_user, make_event):
    world = await _world(make_user, make_event)
    led = await _team(world["event"], world["track"], world["me"], "Mine")
    client = await make_client(ME)
    refused = await client.post("/api/v1/me/erase", json={"password": PASSWORD})
    assert refused.status_code == 409
    assert refused.json()["code"] == "erasure_leads_team"
    assert await User.exists().where((User.id == world["me"]) & (User.email == ME) & User.active.eq(True))
    await Team.update({Team.status: "withdrawn"}).where(Team.id == led["id"])
    assert (await client.post("/api/v1/me/erase", json={"password": PASSWORD})).status_code == 204


async def test_the_account_endpoints_need_a_login(client):
    for method, path in (
        ("GET", "/api/v1/me/profile"),
        ("PUT", "/api/v1/me/profile"),
        ("GET", "/api/v1/me/consents"),
        ("POST", "/api/v1/me/consents"),
        ("GET", "/api/v1/me/export"),
        ("POST", "/api/v1/me/erase"),
    ):
        response = await client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)


async def test_the_erasure_form_asks_for_the_password_and_ends_the_session(make_client, make_user):
    await make_user(ME)
    client = await make_client(ME)
    client.cookies.set("podium_lang", "en", domain="podium.test")
    csrf = client.headers["X-Podium-CSRF"]
    wrong = await client.post("/me/erase", data={"_csrf_token": csrf, "password": "nope nope"})
    assert wrong.status_code == 400
    assert "The password is wrong." in wrong.text
    done = await client.post("/me/erase", data={"_csrf_token": csrf, "password": PASSWORD})
    assert done.status_code == 200
    assert "Your account was erased." in done.text
    assert (await client.get("/api/v1/auth/me")).status_code == 401
