"""Team registration over HTTP: creating a team, invitations (with and without an account), join
codes and the leader's approval, completeness, hand-over, leaving, withdrawal, and every refusal of
the contest's rules with its code, field and limit, in English and Chinese."""

from __future__ import annotations

import datetime as dt
import json
import re
from unittest.mock import ANY

import pytest
from argon2 import PasswordHasher

from backend import tasks
from backend.accounts import passwords
from backend.accounts.tables import Profile, Role, User
from backend.audit import AuditEntry
from backend.errors import DomainError
from backend.events.schemas import TrackIn
from backend.events.tables import Track
from backend.institutions.tables import Institution
from backend.mail.tables import OutboxEmail
from backend.policy import Principal
from backend.teams import jobs, service
from backend.teams.schemas import ImportedTeam
from backend.teams.tables import PastWinner, Team, TeamEvent, TeamMember

LINK = re.compile(r"https?://\S+/team-invitations/(tinv_[A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Fast argon2 hashes for the many accounts here (the rules do not depend on the hash's cost)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
async def contest(make_event, make_user, grant):
    """An open contest with a track of 2 to 3 members, 1 university and 1 enterprise advisor, at most
    2 entries per advisor; its organizer. Returns (event id, track id, organizer id)."""
    event_id = await make_event(status="open")
    track = Track(
        event=event_id,
        code="A",
        name_en="Track A",
        team_min=2,
        team_max=3,
        university_advisors_max=1,
        enterprise_advisors_max=1,
        entries_per_advisor_max=2,
    )
    await track.save()
    organizer_id = await make_user("organizer@example.org")
    await grant(organizer_id, Role.organizer, event_id)
    return event_id, track.id, organizer_id


def english(client):
    """Answers in English (the accounts here read Chinese by default)."""
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


async def people(make_user, make_client, *names: str):
    """Logged-in clients (English answers) for accounts ``name@example.org``."""
    clients = []
    for name in names:
        await make_user(f"{name}@example.org")
        clients.append(english(await make_client(f"{name}@example.org")))
    return clients


async def last_token(address: str) -> str:
    row = (
        await OutboxEmail.select(OutboxEmail.body_text)
        .where(OutboxEmail.to_address == address)
        .order_by(OutboxEmail.id, ascending=False)
        .first()
    )
    assert row is not None, f"no mail to {address}"
    return LINK.search(row["body_text"])[1]


async def create(client, event_id, track_id, name="Alpha", **extra):
    return await client.post(
        f"/api/v1/events/{event_id}/teams", json={"track_id": track_id, "name": name, **extra}
    )


def refused(response, status: int, code: str, **params):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    for value in params.values():
        assert str(value) in body["detail"], body
    return body


async def test_a_whole_registration(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, bob = await people(make_user, make_client, "lead", "bob")
    created = await create(lead, event_id, track_id, entry_title="Solar kiosks")
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["status"] == "forming"
    assert team["leader_id"]
    assert len(team["join_code"]) == 8
    team_id = team["id"]

    # Bob asks with the code; the leader is mailed and approves.
    joined = await bob.post("/api/v1/teams/join", json={"code": team["join_code"].lower()})
    assert joined.status_code == 201, joined.text
    assert joined.json()["state"] == "requested"
    assert await OutboxEmail.exists().where(OutboxEmail.to_address == "lead@example.org")
    hidden = await bob.get(f"/api/v1/teams/{team_id}")
    assert hidden.status_code == 404  # not in the team yet
    approved = await lead.post(f"/api/v1/teams/{team_id}/seats/{joined.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "confirmed"

    # An advisor without an account is invited, and accepts by creating one.
    invited = await lead.post(
        f"/api/v1/teams/{team_id}/seats",
        json={"email": "Prof@Example.org", "role": "university_advisor", "locale": "en"},
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["position"] == 1
    detail = (await lead.get(f"/api/v1/teams/{team_id}")).json()
    assert detail["status"] == "forming"
    assert [u["code"] for u in detail["unmet"]] == ["invitations_pending"]
    token = await last_token("prof@example.org")
    anonymous = await make_client()
    view = await anonymous.get(f"/api/v1/team-invitations/{token}")
    assert view.json()["status"] == "pending"
    assert view.json()["has_account"] is False
    accepted = await anonymous.post(
        f"/api/v1/team-invitations/{token}/accept",
        json={"display_name": "Prof", "password": "long password 1"},
    )
    assert accepted.status_code == 200, accepted.text
    again = await anonymous.post(f"/api/v1/team-invitations/{token}/accept", json={})
    assert again.json()["code"] == "invitation_used"

    detail = (await bob.get(f"/api/v1/teams/{team_id}")).json()
    assert detail["status"] == "complete"
    assert detail["unmet"] == []
    assert detail["join_code"] is None  # members see the team, not its code
    kinds = [t["kind"] for t in detail["timeline"]]
    assert kinds == [
        "created",
        "join_requested",
        "join_approved",
        "completed",  # two members, no advisor required
        "invited",
        "incomplete",  # the invitation is pending
        "member_confirmed",
        "completed",
    ]
    subjects = [r["subject"] for r in await OutboxEmail.select(OutboxEmail.subject)]
    complete = [s for s in subjects if s.endswith(("is complete", "报名信息已完整"))]
    assert len(complete) == 2 + 3  # each time, to each confirmed person, in their language
    assert "The team Alpha is complete" in complete  # the advisor's account took the invitation's English
    assert await AuditEntry.count().where(AuditEntry.action.like("team.%")) == len(kinds)

    mine = (await bob.get("/api/v1/teams/mine")).json()
    assert [(t["id"], t["my_role"], t["my_state"]) for t in mine] == [(team_id, "member", "confirmed")]

    # Hand-over, then the old leader leaves: the team is too small again.
    bob_id = (await User.select(User.id).where(User.email == "bob@example.org").first())["id"]
    handed = await lead.post(f"/api/v1/teams/{team_id}/leader", json={"user_id": bob_id})
    assert handed.status_code == 200
    assert handed.json()["leader_id"] == bob_id
    assert (await lead.post(f"/api/v1/teams/{team_id}/leave")).status_code == 204
    detail = (await bob.get(f"/api/v1/teams/{team_id}")).json()
    assert detail["status"] == "forming"
    assert [u["code"] for u in detail["unmet"]] == ["team_too_small"]

    # Withdrawal is final and frees the seats.
    withdrawn = await bob.post(f"/api/v1/teams/{team_id}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    refused(await bob.post(f"/api/v1/teams/{team_id}/withdraw"), 409, "team_withdrawn")
    assert (await create(bob, event_id, track_id, name="Beta")).status_code == 201


async def test_the_team_size_and_the_one_team_per_track_rules(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, a, _b, c = await people(make_user, make_client, "lead", "a", "b", "c")
    team = (await create(lead, event_id, track_id)).json()
    for person in ("a", "b"):
        r = await lead.post(f"/api/v1/teams/{team['id']}/seats", json={"email": f"{person}@example.org"})
        assert r.status_code == 201, r.text
    full = await lead.post(f"/api/v1/teams/{team['id']}/seats", json={"email": "c@example.org"})
    body = refused(full, 409, "team_full", limit=3)
    assert "at most 3" in body["detail"]
    refused(await c.post("/api/v1/teams/join", json={"code": team["join_code"]}), 409, "team_full")
    # a holds an invitation in this track: a second team there is refused
    refused(await create(a, event_id, track_id, name="Other"), 409, "already_in_track")
    refused(await create(lead, event_id, track_id, name="Again"), 409, "already_in_track")
    # inviting the same address twice
    again = await lead.post(f"/api/v1/teams/{team['id']}/seats", json={"email": "lead@example.org"})
    assert again.status_code == 409
    assert again.json()["code"] in ("already_in_team", "team_full")


async def test_refusals_name_the_rule_in_english_and_chinese(make_user, make_client, contest):
    event_id, track_id, _organizer_id = contest
    (lead,) = await people(make_user, make_client, "lead")
    organizer = english(await make_client("organizer@example.org"))
    rules = await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules", json={"team_name_max": 5, "entry_title_max": 8}
    )
    assert rules.status_code == 200, rules.text
    long = await create(lead, event_id, track_id, name="Far too long", entry_title="A title too long")
    body = refused(long, 400, "team_name_too_long")
    assert set(body["fields"]) == {"name", "entry_title"}
    assert "at most 5 characters" in body["fields"]["name"]
    lead.cookies.set("podium_lang", "zh", domain="podium.test")
    zh = (await create(lead, event_id, track_id, name="Far too long")).json()
    assert zh["code"] == "team_name_too_long"
    assert "5" in zh["detail"]
    assert "characters" not in zh["detail"]


async def test_registration_window_and_member_lock(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, a = await people(make_user, make_client, "lead", "a")
    organizer = english(await make_client("organizer@example.org"))
    now = dt.datetime.now(dt.UTC)
    future = (now + dt.timedelta(days=1)).isoformat()
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules", json={"registration_opens_at": future}
    )
    refused(await create(lead, event_id, track_id), 409, "registration_not_open")
    past = (now - dt.timedelta(days=1)).isoformat()
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules",
        json={"registration_closes_at": past, "member_changes_lock_at": future},
    )
    refused(await create(lead, event_id, track_id), 409, "registration_closed")
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules", json={"member_changes_lock_at": future}
    )
    team = (await create(lead, event_id, track_id)).json()
    await organizer.put(
        f"/api/v1/events/{event_id}/tracks/{track_id}/registration-rules",
        json={"member_changes_lock_at": past},
    )
    locked = await lead.post(f"/api/v1/teams/{team['id']}/seats", json={"email": "a@example.org"})
    refused(locked, 409, "member_changes_locked")
    refused(
        await a.post("/api/v1/teams/join", json={"code": team["join_code"]}), 409, "member_changes_locked"
    )
    bad = await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules",
        json={"registration_opens_at": future, "registration_closes_at": past},
    )
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"registration_closes_at": "must be after the opening"}


async def test_eligibility_rules(make_user, make_client, make_organization, contest):
    event_id, track_id, _ = contest
    old, grad, winner, lead = await people(make_user, make_client, "old", "grad", "winner", "lead")
    organizer = english(await make_client("organizer@example.org"))
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules",
        json={
            "age_max": 35,
            "age_reference_date": "2027-01-01",
            "statuses": ["student", "graduate"],
            "graduated_within_years": 3,
            "exclude_past_prizes": ["gold"],
        },
    )
    ids = {r["email"]: r["id"] for r in await User.select(User.id, User.email)}
    refused(await create(old, event_id, track_id), 409, "profile_incomplete")
    await Profile.insert(
        Profile(user=ids["old@example.org"], birth_date=dt.date(1980, 1, 1), study_status="student"),
        Profile(
            user=ids["grad@example.org"],
            birth_date=dt.date(2000, 1, 1),
            study_status="graduate",
            graduation_year=2001,
        ),
        Profile(user=ids["winner@example.org"], birth_date=dt.date(2001, 1, 1), study_status="student"),
        Profile(user=ids["lead@example.org"], birth_date=dt.date(2002, 1, 1), study_status="teacher"),
    )
    refused(await create(old, event_id, track_id), 409, "age_limit", limit=35)
    refused(await create(grad, event_id, track_id), 409, "graduated_too_long_ago", limit=3)
    refused(await create(lead, event_id, track_id), 409, "study_status_not_eligible")
    await PastWinner(organization=await make_organization(), email="winner@example.org", prize="gold").save()
    refused(await create(winner, event_id, track_id), 409, "past_winner", prize="gold")


async def test_institution_rules(make_user, make_client, contest):
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    organizer = english(await make_client("organizer@example.org"))
    abroad = Institution(name_en="Abroad U", kind="university", country="RU", region="Moscow")
    firm = Institution(name_en="Firm", kind="enterprise", country="CN", region="Beijing")
    home = Institution(name_en="Home U", kind="university", country="CN", region="Beijing")
    await Institution.insert(abroad, firm, home)
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules",
        json={"countries": ["CN"], "institution_kinds": ["university"]},
    )
    refused(await create(lead, event_id, track_id), 400, "institution_required")
    refused(await create(lead, event_id, track_id, institution_id=abroad.id), 409, "institution_not_eligible")
    refused(await create(lead, event_id, track_id, institution_id=firm.id), 409, "institution_not_eligible")
    made = await create(lead, event_id, track_id, institution_id=home.id)
    assert made.status_code == 201
    assert made.json()["region"] == "Beijing"
    assert made.json()["country"] == "CN"


async def test_advisor_limits(make_user, make_client, make_event, contest):
    event_id, track_id, _ = contest
    leads = await people(make_user, make_client, "l1", "l2", "l3")
    await make_user("prof@example.org")
    teams = [(await create(c, event_id, track_id, name=f"T{i}")).json()["id"] for i, c in enumerate(leads)]
    first = await leads[0].post(
        f"/api/v1/teams/{teams[0]}/seats", json={"email": "prof@example.org", "role": "university_advisor"}
    )
    assert first.status_code == 201
    refused(
        await leads[0].post(
            f"/api/v1/teams/{teams[0]}/seats", json={"email": "x@example.org", "role": "university_advisor"}
        ),
        409,
        "advisors_full",
        limit=1,
    )
    second = await leads[1].post(
        f"/api/v1/teams/{teams[1]}/seats", json={"email": "prof@example.org", "role": "enterprise_advisor"}
    )
    assert second.status_code == 201
    refused(
        await leads[2].post(
            f"/api/v1/teams/{teams[2]}/seats",
            json={"email": "prof@example.org", "role": "university_advisor"},
        ),
        409,
        "advisor_entries_limit",
        limit=2,
    )


async def test_first_advisor_limit_and_positions(make_user, make_client, contest):
    event_id, track_id, _organizer_id = contest
    await Track.update({Track.entries_per_advisor_max: 5, Track.university_advisors_max: 2}).where(
        Track.id == track_id
    )
    leads = await people(make_user, make_client, "l1", "l2", "l3")
    teams = [(await create(c, event_id, track_id, name=f"T{i}")).json()["id"] for i, c in enumerate(leads)]
    for client, team_id in zip(leads[:2], teams[:2], strict=True):
        r = await client.post(
            f"/api/v1/teams/{team_id}/seats", json={"email": "prof@example.org", "role": "university_advisor"}
        )
        assert r.status_code == 201
        assert r.json()["position"] == 1
    third = f"/api/v1/teams/{teams[2]}/seats"
    refused(
        await leads[2].post(third, json={"email": "prof@example.org", "role": "university_advisor"}),
        409,
        "first_advisor_limit",
        limit=2,
    )
    other = await leads[2].post(third, json={"email": "other@example.org", "role": "university_advisor"})
    assert other.json()["position"] == 1
    taken = await leads[2].post(
        third, json={"email": "prof@example.org", "role": "university_advisor", "position": 1}
    )
    body = refused(taken, 409, "advisor_position_taken")
    assert body["fields"] == {"position": "is taken"}
    second = await leads[2].post(third, json={"email": "prof@example.org", "role": "university_advisor"})
    assert second.status_code == 201
    assert second.json()["position"] == 2


async def test_invitations_answer_once_and_only_to_the_invited_address(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, a, b = await people(make_user, make_client, "lead", "a", "b")
    team_id = (await create(lead, event_id, track_id)).json()["id"]
    await lead.post(f"/api/v1/teams/{team_id}/seats", json={"email": "a@example.org"})
    token = await last_token("a@example.org")
    refused(await b.post(f"/api/v1/team-invitations/{token}/accept"), 403, "invitation_wrong_account")
    anonymous = await make_client()
    refused(
        await anonymous.post(f"/api/v1/team-invitations/{token}/accept", json={}),
        401,
        "invitation_login_required",
    )
    accepted = await a.post(f"/api/v1/team-invitations/{token}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "confirmed"
    assert (await a.post(f"/api/v1/team-invitations/{token}/accept")).json() == accepted.json()
    refused(await a.post(f"/api/v1/team-invitations/{token}/decline"), 410, "invitation_used")
    # declined, revoked, expired
    await lead.post(f"/api/v1/teams/{team_id}/seats", json={"email": "b@example.org"})
    token_b = await last_token("b@example.org")
    assert (await b.post(f"/api/v1/team-invitations/{token_b}/decline")).json()["state"] == "declined"
    refused(await b.post(f"/api/v1/team-invitations/{token_b}/accept"), 410, "invitation_used")
    seat = (await lead.post(f"/api/v1/teams/{team_id}/seats", json={"email": "c@example.org"})).json()
    token_c = await last_token("c@example.org")
    assert (await lead.delete(f"/api/v1/teams/{team_id}/seats/{seat['id']}")).status_code == 204
    refused(
        await anonymous.post(f"/api/v1/team-invitations/{token_c}/accept", json={}), 410, "invitation_revoked"
    )
    seat = (await lead.post(f"/api/v1/teams/{team_id}/seats", json={"email": "d@example.org"})).json()
    await TeamMember.update({TeamMember.expires_at: dt.datetime.now(dt.UTC)}).where(
        TeamMember.id == seat["id"]
    )
    token_d = await last_token("d@example.org")
    assert (await anonymous.get(f"/api/v1/team-invitations/{token_d}")).json()["status"] == "expired"
    refused(
        await anonymous.post(f"/api/v1/team-invitations/{token_d}/accept", json={}), 410, "invitation_expired"
    )
    assert (await anonymous.get("/api/v1/team-invitations/tinv_unknown")).status_code == 404


async def test_who_may_do_what_to_a_team(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, member, stranger = await people(make_user, make_client, "lead", "member", "stranger")
    team = (await create(lead, event_id, track_id)).json()
    team_id = team["id"]
    seat = (await member.post("/api/v1/teams/join", json={"code": team["join_code"]})).json()
    await lead.post(f"/api/v1/teams/{team_id}/seats/{seat['id']}/approve")
    assert (await stranger.get(f"/api/v1/teams/{team_id}")).status_code == 404
    assert (await stranger.patch(f"/api/v1/teams/{team_id}", json={"name": "Mine"})).status_code == 404
    assert (await member.patch(f"/api/v1/teams/{team_id}", json={"name": "Mine"})).status_code == 403
    assert (await member.post(f"/api/v1/teams/{team_id}/withdraw")).status_code == 403
    assert (await member.post(f"/api/v1/teams/{team_id}/join-code")).status_code == 403
    organizer = english(await make_client("organizer@example.org"))
    seen = (await organizer.get(f"/api/v1/teams/{team_id}")).json()
    assert seen["join_code"] == team["join_code"]
    rotated = (await lead.post(f"/api/v1/teams/{team_id}/join-code")).json()
    assert rotated["join_code"] != team["join_code"]
    refused(
        await stranger.post("/api/v1/teams/join", json={"code": team["join_code"]}), 404, "invalid_join_code"
    )
    refused(await lead.post(f"/api/v1/teams/{team_id}/leave"), 409, "leader_cannot_leave")
    refused(
        await lead.post(f"/api/v1/teams/{team_id}/leader", json={"user_id": 999}),
        409,
        "leader_must_be_member",
    )
    renamed = await lead.patch(f"/api/v1/teams/{team_id}", json={"name": " Beta "})
    assert renamed.json()["name"] == "Beta"
    assert await TeamEvent.exists().where((TeamEvent.team == team_id) & (TeamEvent.kind == "renamed"))


async def test_unconfirmed_addresses_cannot_register(make_user, make_client, contest):
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    await User.update({User.email_confirmed_at: None}).where(User.email == "lead@example.org")
    refused(await create(lead, event_id, track_id), 403, "email_unconfirmed")
    assert not await Team.exists()


async def test_past_winners_and_rules_are_for_organizers(make_user, make_client, make_organization, contest):
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    organization_id = await make_organization()
    assert (await lead.put(f"/api/v1/events/{event_id}/registration-rules", json={})).status_code == 403
    assert (await lead.get(f"/api/v1/organizations/{organization_id}/past-winners")).status_code == 403
    added = await lead.post(
        f"/api/v1/organizations/{organization_id}/past-winners",
        json={"email": "x@example.org", "prize": "gold"},
    )
    assert added.status_code == 403
    rules = (await lead.get(f"/api/v1/events/{event_id}/tracks/{track_id}/registration-rules")).json()
    assert rules["effective"]["team_max"] == 3
    assert rules["effective"]["team_name_max"] == 16
    unknown = await lead.put(f"/api/v1/events/{event_id}/registration-rules", json={"nonsense": 1})
    assert unknown.status_code in (400, 403)


async def test_an_imported_team_confirms_accounts_and_invites_the_others(make_user, make_client, contest):
    event_id, track_id, organizer_id = contest
    (lead,) = await people(make_user, make_client, "lead")
    actor = Principal(organizer_id, "organizer@example.org", "Organizer", "en", False, "session")
    row = ImportedTeam(
        track_id=track_id,
        name="Imported",
        leader_email="Lead@example.org",
        member_emails=["new@example.org"],
        advisors=[("prof@example.org", "university_advisor")],
        locale="ru",
    )
    team_id = await service.import_team(actor, event_id, row)
    detail = (await lead.get(f"/api/v1/teams/{team_id}")).json()
    assert [(s["email"], s["role"], s["state"], s["joined_via"]) for s in detail["seats"]] == [
        ("lead@example.org", "leader", "confirmed", "import"),
        ("new@example.org", "member", "invited", "import"),
        ("prof@example.org", "university_advisor", "invited", "import"),
    ]
    assert detail["status"] == "forming"
    mail = (
        await OutboxEmail.select(OutboxEmail.subject)
        .where(OutboxEmail.to_address == "new@example.org")
        .first()
    )
    assert mail["subject"].startswith("Приглашение в команду")
    anonymous = await make_client()
    for address in ("new@example.org", "prof@example.org"):
        token = await last_token(address)
        accepted = await anonymous.post(
            f"/api/v1/team-invitations/{token}/accept",
            json={"display_name": address, "password": "long password 1"},
        )
        assert accepted.status_code == 200, accepted.text
    assert (await lead.get(f"/api/v1/teams/{team_id}")).json()["status"] == "complete"
    with pytest.raises(DomainError) as refused_again:
        await service.import_team(actor, event_id, row)
    assert refused_again.value.code == "already_in_track"


async def test_a_link_without_a_token_finds_no_seat(make_user, make_client, contest):
    """Seats without an invitation (the leader's) have no token: a malformed link must not find them."""
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    await create(lead, event_id, track_id)
    anonymous = await make_client()
    for token in ("0", "tinv_", "x" * 300):
        assert (await anonymous.get(f"/api/v1/team-invitations/{token}")).status_code in (400, 404)
        assert (await anonymous.post(f"/api/v1/team-invitations/{token}/decline")).status_code in (400, 404)
        accepted = await anonymous.post(
            f"/api/v1/team-invitations/{token}/accept",
            json={"display_name": "X", "password": "long password 1"},
        )
        assert accepted.status_code in (400, 404)


async def test_teams_per_person_across_tracks(make_user, make_client, contest):
    event_id, track_id, _ = contest
    practical = Track(event=event_id, code="P", name_en="Practical", team_min=1)
    other = Track(event=event_id, code="R", name_en="Regular too", team_min=1)
    await Track.insert(practical, other)
    (lead,) = await people(make_user, make_client, "lead")
    organizer = english(await make_client("organizer@example.org"))
    await organizer.put(
        f"/api/v1/events/{event_id}/tracks/{practical.id}/registration-rules",
        json={"track_category": "practical"},
    )
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules",
        json={"teams_per_person": "one_regular_one_practical"},
    )
    assert (await create(lead, event_id, track_id, name="Regular")).status_code == 201
    refused(
        await create(lead, event_id, other.id, name="Second"), 409, "already_in_category", category="regular"
    )
    assert (await create(lead, event_id, practical.id, name="Practical")).status_code == 201
    await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules", json={"teams_per_person": "one_per_contest"}
    )
    await Team.update({Team.status: "withdrawn"}).where(Team.name == "Practical")
    await TeamMember.update({TeamMember.state: "left"}).where(TeamMember.track == practical.id)
    refused(await create(lead, event_id, practical.id, name="Again"), 409, "already_in_contest")


async def test_a_change_of_members_after_review_drops_the_review(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, a, b = await people(make_user, make_client, "lead", "a", "b")
    team = (await create(lead, event_id, track_id)).json()
    for client in (a, b):
        seat = (await client.post("/api/v1/teams/join", json={"code": team["join_code"]})).json()
        await lead.post(f"/api/v1/teams/{team['id']}/seats/{seat['id']}/approve")
    await Team.update({Team.status: "approved"}).where(Team.id == team["id"])
    renamed = await lead.patch(f"/api/v1/teams/{team['id']}", json={"entry_title": "New title"})
    assert renamed.json()["status"] == "approved"  # names are not members: the review stands
    assert (await b.post(f"/api/v1/teams/{team['id']}/leave")).status_code == 204
    detail = (await lead.get(f"/api/v1/teams/{team['id']}")).json()
    assert detail["status"] == "complete"  # still two members: complete again, awaiting a new review
    assert [t["kind"] for t in detail["timeline"]][-3:] == ["member_left", "review_dropped", "completed"]
    assert detail["timeline"][-2]["data"] == {"previous": "approved"}


async def test_an_expired_invitation_frees_its_seat_at_the_next_change(make_user, make_client, contest):
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    team_id = (await create(lead, event_id, track_id)).json()["id"]
    seats = f"/api/v1/teams/{team_id}/seats"
    for person in ("a", "b"):
        await lead.post(seats, json={"email": f"{person}@example.org"})
    refused(await lead.post(seats, json={"email": "c@example.org"}), 409, "team_full")
    await TeamMember.update({TeamMember.expires_at: dt.datetime.now(dt.UTC)}).where(
        TeamMember.email == "a@example.org"
    )
    assert (await lead.post(seats, json={"email": "c@example.org"})).status_code == 201
    token = await last_token("a@example.org")
    anonymous = await make_client()
    assert (await anonymous.get(f"/api/v1/team-invitations/{token}")).json()["status"] == "expired"
    kinds = [t["kind"] for t in (await lead.get(f"/api/v1/teams/{team_id}")).json()["timeline"]]
    assert kinds[-2:] == ["invitation_expired", "invited"]


async def test_a_new_account_keeps_its_invitation_until_its_profile_meets_the_rules(
    make_user, make_client, contest
):
    """Accepting without an account creates it (confirmed) and keeps it even when the contest's
    rules need a profile first: the refusal names what to fill in, the invitation waits, and the
    same link accepts once the profile is complete."""
    event_id, track_id, _ = contest
    (lead,) = await people(make_user, make_client, "lead")
    team_id = (await create(lead, event_id, track_id)).json()["id"]
    organizer = english(await make_client("organizer@example.org"))
    ruled = await organizer.put(
        f"/api/v1/events/{event_id}/registration-rules", json={"age_max": 30, "statuses": ["student"]}
    )
    assert ruled.status_code == 200, ruled.text
    await lead.post(f"/api/v1/teams/{team_id}/seats", json={"email": "new@example.org", "locale": "en"})
    token = await last_token("new@example.org")
    anonymous = english(await make_client())

    first = await anonymous.post(
        f"/api/v1/team-invitations/{token}/accept",
        json={"display_name": "New", "password": "long password 1"},
    )
    body = refused(first, 409, "profile_incomplete")
    assert "birth_date, study_status" in body["detail"]
    account = (
        await User.select(User.id, User.email_confirmed_at).where(User.email == "new@example.org").first()
    )
    assert account is not None
    assert account["email_confirmed_at"] is not None
    view = (await anonymous.get(f"/api/v1/team-invitations/{token}")).json()
    assert (view["status"], view["has_account"]) == ("pending", True)
    refused(
        await anonymous.post(
            f"/api/v1/team-invitations/{token}/accept",
            json={"display_name": "New", "password": "long password 1"},
        ),
        401,
        "invitation_login_required",
    )

    new = english(await make_client("new@example.org", password="long password 1"))
    refused(await new.post(f"/api/v1/team-invitations/{token}/accept"), 409, "profile_incomplete")
    profile = {"name_native": "New", "name_latin": "New", "study_status": "graduate"}
    assert (await new.put("/api/v1/me/profile", json=profile)).status_code == 200
    body = refused(await new.post(f"/api/v1/team-invitations/{token}/accept"), 409, "profile_incomplete")
    assert "birth_date" in body["detail"]
    assert "study_status" not in body["detail"]
    profile |= {"birth_date": "2005-03-01", "study_status": "student"}
    assert (await new.put("/api/v1/me/profile", json=profile)).status_code == 200
    accepted = await new.post(f"/api/v1/team-invitations/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["state"], accepted.json()["user_id"]) == ("confirmed", account["id"])
    kinds = [t["kind"] for t in (await new.get(f"/api/v1/teams/{team_id}")).json()["timeline"]]
    assert kinds.count("member_confirmed") == 1


async def expire(email: str) -> None:
    await TeamMember.update({TeamMember.expires_at: dt.datetime.now(dt.UTC)}).where(
        (TeamMember.email == email) & (TeamMember.state == "invited")
    )


async def timeline(team_id: int) -> list[tuple[str, dict]]:
    rows = await TeamEvent.select(TeamEvent.kind, TeamEvent.data).where(TeamEvent.team == team_id)
    return [(r["kind"], r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])) for r in rows]


async def test_a_lapsed_invitation_does_not_block_its_person_elsewhere_in_the_track(
    make_user, make_client, contest
):
    """An overdue invitation held its seat (the track's unique seat) until its own team changed
    again; now the person creates, is invited to, accepts or is approved into another team, and the
    lapsed seat is freed on the way (recorded on its team, whose status is refreshed)."""
    event_id, track_id, _ = contest
    lead, lead2, lead3, bob, carol, dan = await people(
        make_user, make_client, "lead", "lead2", "lead3", "bob", "carol", "dan"
    )
    first = (await create(lead, event_id, track_id, name="First")).json()
    for name in ("bob", "carol"):
        await lead.post(f"/api/v1/teams/{first['id']}/seats", json={"email": f"{name}@example.org"})
        await expire(f"{name}@example.org")

    # Creating a team: bob's lapsed seat in First is freed.
    assert (await create(bob, event_id, track_id, name="Bobs")).status_code == 201
    invited = await lead.post(f"/api/v1/teams/{first['id']}/seats", json={"email": "dan@example.org"})
    assert invited.status_code == 201, invited.text  # the freed seat
    await expire("dan@example.org")
    assert ("invitation_expired", {"seat_id": ANY, "email": "bob@example.org"}) in await timeline(first["id"])
    # Being invited (with an account) and accepting: carol.
    second = (await create(lead2, event_id, track_id, name="Second")).json()
    invited = await lead2.post(f"/api/v1/teams/{second['id']}/seats", json={"email": "carol@example.org"})
    assert invited.status_code == 201, invited.text
    accepted = await carol.post(f"/api/v1/team-invitations/{await last_token('carol@example.org')}/accept")
    assert accepted.status_code == 200, accepted.text
    # Asking with the code and being approved: dan.
    third = (await create(lead3, event_id, track_id, name="Third")).json()
    asked = await dan.post("/api/v1/teams/join", json={"code": third["join_code"]})
    assert asked.status_code == 201, asked.text
    approved = await lead3.post(f"/api/v1/teams/{third['id']}/seats/{asked.json()['id']}/approve")
    assert approved.status_code == 200, approved.text

    states = await TeamMember.select(TeamMember.email, TeamMember.state).where(TeamMember.team == first["id"])
    assert {s["email"]: s["state"] for s in states if s["email"] != "lead@example.org"} == {
        "bob@example.org": "left",
        "carol@example.org": "left",
        "dan@example.org": "left",
    }
    expired = [data["email"] for kind, data in await timeline(first["id"]) if kind == "invitation_expired"]
    assert sorted(expired) == ["bob@example.org", "carol@example.org", "dan@example.org"]


async def test_the_hourly_job_frees_every_lapsed_invitation_once(make_user, make_client, contest):
    event_id, track_id, _ = contest
    lead, a = await people(make_user, make_client, "lead", "a")
    team = (await create(lead, event_id, track_id)).json()
    seat = (await a.post("/api/v1/teams/join", json={"code": team["join_code"]})).json()
    await lead.post(f"/api/v1/teams/{team['id']}/seats/{seat['id']}/approve")
    invited = await lead.post(f"/api/v1/teams/{team['id']}/seats", json={"email": "late@example.org"})
    assert invited.status_code == 201, invited.text
    assert (await Team.select(Team.status).where(Team.id == team["id"]).first())["status"] == "forming"
    await expire("late@example.org")

    assert await jobs.free_expired_invitations({}) == {"teams": 1}
    assert await jobs.free_expired_invitations({}) == {"teams": 0}  # run again, or delivered twice
    row = await Team.select(Team.status).where(Team.id == team["id"]).first()
    assert row["status"] == "complete"  # the lapsed invitation no longer keeps it from complete
    kinds = [kind for kind, _ in await timeline(team["id"])]
    assert kinds[-2:] == ["invitation_expired", "completed"]
    assert kinds.count("invitation_expired") == 1


async def test_a_change_of_the_rules_refreshes_the_teams_statuses(
    make_user, make_client, contest, monkeypatch
):
    """Rules changed after teams registered: a queued job recomputes every team of the contest that
    has not withdrawn (a rejection no longer stands where no one reviews; a smaller team size makes a
    complete team forming), each change in the team's timeline with its cause; run again, nothing."""
    event_id, track_id, _ = contest
    queued: list[tuple[str, tuple]] = []

    async def record(name, *args, job_id=None):
        queued.append((name, args))

    monkeypatch.setattr(tasks, "enqueue", record)
    lead, a, lead2, b = await people(make_user, make_client, "lead", "a", "lead2", "b")
    organizer = english(await make_client("organizer@example.org"))
    teams = []
    for leader, member, name in ((lead, a, "One"), (lead2, b, "Two")):
        team = (await create(leader, event_id, track_id, name=name)).json()
        seat = (await member.post("/api/v1/teams/join", json={"code": team["join_code"]})).json()
        await leader.post(f"/api/v1/teams/{team['id']}/seats/{seat['id']}/approve")
        teams.append(team["id"])
    await organizer.put(f"/api/v1/events/{event_id}/registration-rules", json={"approval_required": True})
    rejected = await organizer.post(
        f"/api/v1/teams/{teams[0]}/review", json={"decision": "reject", "note": "No"}
    )
    assert rejected.status_code == 200, rejected.text
    queued.clear()

    changed = await organizer.put(f"/api/v1/events/{event_id}/registration-rules", json={})
    assert changed.status_code == 200, changed.text
    assert queued == [("refresh_team_statuses", (event_id, None))]
    assert await jobs.refresh_team_statuses({}, *queued[0][1]) == {"checked": 2, "changed": 1}
    statuses = await Team.select(Team.id, Team.status).where(Team.event == event_id).order_by(Team.id)
    assert [s["status"] for s in statuses] == ["complete", "complete"]
    assert (await timeline(teams[0]))[-2:] == [
        ("review_dropped", {"previous": "rejected", "cause": "rules_changed"}),
        ("completed", {"cause": "rules_changed"}),
    ]

    # the track's team size is a rule too: changing it through the structure queues the same job
    queued.clear()
    tracks = (await organizer.get(f"/api/v1/events/{event_id}/tracks")).json()
    track = next(t for t in tracks if t["id"] == track_id)
    body = {k: v for k, v in track.items() if k in TrackIn.__struct_fields__} | {"team_min": 3}
    resized = await organizer.put(f"/api/v1/events/{event_id}/tracks/{track_id}", json=body)
    assert resized.status_code == 200, resized.text
    assert queued == [("refresh_team_statuses", (event_id, track_id))]
    assert await jobs.refresh_team_statuses({}, event_id, track_id) == {"checked": 2, "changed": 2}
    assert await jobs.refresh_team_statuses({}, event_id, track_id) == {"checked": 2, "changed": 0}
    for team_id in teams:
        assert (await timeline(team_id))[-1] == ("incomplete", {"cause": "rules_changed"})
