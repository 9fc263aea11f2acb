"""The participants' team pages: my teams, the registration wizard, the team's page per role, its
forms (Post/Redirect/Get; a refusal shown next to its field, in the reader's language), the
invitation link, the upload of a material without JavaScript, and CSRF."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from backend.accounts import passwords
from backend.accounts.tables import Role
from backend.events.tables import Stage, Track
from backend.mail.tables import OutboxEmail
from backend.security import CSRF_HEADER
from backend.teams.tables import RegistrationRules, Team, TeamMember

LINK = re.compile(r"https?://\S+/team-invitations/(tinv_[A-Za-z0-9_-]+)")
HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n9\n%%EOF\n"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
async def contest(make_event, make_user, grant):
    """An open contest (slug ``cbec-2027``) with a track of 2 to 3 members and one stage; its organizer.
    Returns (event id, track id, stage id)."""
    event_id = await make_event(status="open")
    track = Track(event=event_id, code="A", name_en="Track A", team_min=2, team_max=3)
    await track.save()
    stage = Stage(event=event_id, position=1, level="school", name_en="School round")
    await stage.save()
    organizer_id = await make_user("organizer@example.org")
    await grant(organizer_id, Role.organizer, event_id)
    return event_id, track.id, stage.id


async def browser(make_client, make_user, name: str, lang: str = "en"):
    """A logged-in client that posts forms as a browser does: the CSRF token in the form."""
    await make_user(f"{name}@example.org")
    client = await make_client(f"{name}@example.org")
    client.cookies.set("podium_lang", lang, domain="podium.test")
    token = client.headers.pop(CSRF_HEADER)
    client.csrf = token  # type: ignore[attr-defined]
    return client


def form(client, **values):
    return {"_csrf_token": client.csrf, **values}


async def register(client, track_id, name="Alpha", entry_title="Robots"):
    return await client.post(
        "/events/cbec-2027/register",
        data=form(client, step="create", track_id=str(track_id), name=name, entry_title=entry_title),
        headers=HTML,
    )


async def last_token(address: str) -> str:
    row = (
        await OutboxEmail.select(OutboxEmail.body_text)
        .where(OutboxEmail.to_address == address)
        .order_by(OutboxEmail.id, ascending=False)
        .first()
    )
    return LINK.search(row["body_text"])[1]


async def test_the_wizard_goes_step_by_step_and_shows_the_limits(make_client, make_user, contest):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    first = await leader.get("/events/cbec-2027/register", headers=HTML)
    assert first.status_code == 200
    assert "Step 1 of 5" in first.text
    assert "Teams of 2 to 3 members" in first.text
    no_track = await leader.post("/events/cbec-2027/register", data=form(leader, step="names"), headers=HTML)
    assert no_track.status_code == 400
    assert 'id="team-track_id-error"' in no_track.text
    names = await leader.post(
        "/events/cbec-2027/register", data=form(leader, step="names", track_id=str(track_id)), headers=HTML
    )
    assert "Step 2 of 5" in names.text
    assert "At most 16 characters." in names.text
    too_long = await leader.post(
        "/events/cbec-2027/register",
        data=form(leader, step="institution", track_id=str(track_id), name="A" * 17, entry_title="x"),
        headers=HTML,
    )
    assert too_long.status_code == 400
    assert "Step 2 of 5" in too_long.text
    assert re.search(r'id="team-name-error">may have at most 16 characters<', too_long.text)
    institution = await leader.post(
        "/events/cbec-2027/register",
        data=form(leader, step="institution", track_id=str(track_id), name="Alpha", entry_title="x"),
        headers=HTML,
    )
    assert "Step 3 of 5" in institution.text
    assert 'value="Alpha"' in institution.text
    created = await register(leader, track_id)
    assert created.status_code == 303
    team_id = (await Team.select(Team.id).first())["id"]
    assert created.headers["location"] == f"/teams/{team_id}/invite?done=created"
    invite = await leader.get(created.headers["location"], headers=HTML)
    assert "Step 4 of 5" in invite.text
    assert "Your team is registered" in invite.text
    summary = await leader.get(f"/teams/{team_id}/summary", headers=HTML)
    assert "Step 5 of 5" in summary.text
    assert "at least 2 confirmed members" in summary.text


async def test_a_refusal_of_the_rules_is_shown_at_its_field_in_the_readers_language(
    make_client, make_user, contest
):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader", lang="zh")
    assert (await register(leader, track_id)).status_code == 303
    again = await register(leader, track_id, name="Beta")
    assert again.status_code == 409
    assert "第 1 步" in again.text  # the Chinese page, its first step
    error = re.search(r'id="team-track_id-error">([^<]+)<', again.text)
    assert error is not None
    assert error[1] != "You are already in a team in this track"
    assert not await Team.exists().where(Team.name == "Beta")


async def test_invite_join_approve_and_the_team_page_per_role(make_client, make_user, contest):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    member = await browser(make_client, make_user, "member")
    joiner = await browser(make_client, make_user, "joiner")
    stranger = await browser(make_client, make_user, "stranger")
    await register(leader, track_id)
    team = await Team.select().first()
    page = f"/teams/{team['id']}"

    bad = await leader.post(f"{page}/seats", data=form(leader, email="not an address"), headers=HTML)
    assert bad.status_code == 400
    assert 'id="invite-email-error"' in bad.text
    sent = await leader.post(
        f"{page}/seats", data=form(leader, email="member@example.org", role="member"), headers=HTML
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(page)

    token = await last_token("member@example.org")
    offered = await member.get(f"/team-invitations/{token}", headers=HTML)
    assert offered.status_code == 200
    assert "Accept the invitation" in offered.text
    wrong = await stranger.get(f"/team-invitations/{token}", headers=HTML)
    assert wrong.status_code == 403
    accepted = await member.post(f"/team-invitations/{token}/accept", data=form(member), headers=HTML)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"{page}?done=joined"

    asked = await joiner.post("/teams/join", data=form(joiner, code=team["join_code"].lower()), headers=HTML)
    assert asked.status_code == 303
    unknown = await stranger.post("/teams/join", data=form(stranger, code="NOPE"), headers=HTML)
    assert unknown.status_code == 404
    assert 'id="join-code-error"' in unknown.text

    as_leader = await leader.get(page, headers=HTML)
    assert team["join_code"] in as_leader.text
    assert "Requests to join" in as_leader.text
    as_member = await member.get(page, headers=HTML)
    assert as_member.status_code == 200
    assert team["join_code"] not in as_member.text
    assert "Requests to join" not in as_member.text
    assert (await stranger.get(page, headers=HTML)).status_code == 404
    assert (await joiner.get(page, headers=HTML)).status_code == 404  # a request is no seat yet

    seat = await TeamMember.select(TeamMember.id).where(TeamMember.state == "requested").first()
    forbidden = await member.post(f"{page}/seats/{seat['id']}/approve", data=form(member), headers=HTML)
    assert forbidden.status_code == 403
    approved = await leader.post(f"{page}/seats/{seat['id']}/approve", data=form(leader), headers=HTML)
    assert approved.status_code == 303
    assert (await Team.select(Team.status).first())["status"] == "complete"
    full = await leader.get(page, headers=HTML)
    assert "Complete: every member and advisor has confirmed." in full.text
    assert "The team became complete." in full.text  # the timeline

    mine = await joiner.get("/teams", headers=HTML)
    assert "Alpha" in mine.text
    assert "Complete" in mine.text


async def test_the_leader_renames_the_team_within_the_limits_and_a_member_cannot(
    make_client, make_user, contest
):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    member = await browser(make_client, make_user, "member")
    await register(leader, track_id)
    page = f"/teams/{(await Team.select(Team.id).first())['id']}"
    await leader.post(
        f"{page}/seats", data=form(leader, email="member@example.org", role="member"), headers=HTML
    )
    token = await last_token("member@example.org")
    assert (
        await member.post(f"/team-invitations/{token}/accept", data=form(member), headers=HTML)
    ).status_code == 303

    shown = await leader.get(page, headers=HTML)
    assert f'action="{page}/names"' in shown.text
    assert 'id="names-name" name="name" type="text" value="Alpha"' in shown.text
    assert "At most 16 characters." in shown.text  # the contest's limits as hints
    renamed = await leader.post(
        f"{page}/names", data=form(leader, name="Beta", entry_title="Drones"), headers=HTML
    )
    assert renamed.status_code == 303
    assert renamed.headers["location"] == f"{page}?done=renamed#names"
    assert await Team.exists().where((Team.name == "Beta") & (Team.entry_title == "Drones"))

    leader.cookies.set("podium_lang", "ru", domain="podium.test")
    too_long = await leader.post(
        f"{page}/names", data=form(leader, name="B" * 17, entry_title="x"), headers=HTML
    )
    assert too_long.status_code == 400
    assert "Названия команды и работы" in too_long.text
    error = re.search(r'id="names-name-error">([^<]+)<', too_long.text)
    assert error is not None
    assert "16" in error[1]
    assert error[1] != "may have at most 16 characters"
    assert await Team.exists().where((Team.name == "Beta") & (Team.entry_title == "Drones"))

    as_member = await member.get(page, headers=HTML)
    assert f'action="{page}/names"' not in as_member.text
    refused = await member.post(f"{page}/names", data=form(member, name="Gamma"), headers=HTML)
    assert refused.status_code == 403
    forged = await leader.post(f"{page}/names", data={"name": "Gamma"}, headers=HTML)
    assert forged.status_code == 403
    assert not await Team.exists().where(Team.name == "Gamma")


async def test_a_pdf_uploads_without_javascript_and_a_disguised_file_is_refused_at_the_input(
    make_client, make_user, contest
):
    _, track_id, stage_id = contest
    leader = await browser(make_client, make_user, "leader")
    await register(leader, track_id)
    team_id = (await Team.select(Team.id).first())["id"]
    url = f"/teams/{team_id}/stages/{stage_id}/materials/business_plan"
    fake = await leader.post(
        url, data=form(leader), files={"file": ("plan.pdf", b"<html>", "application/pdf")}, headers=HTML
    )
    assert fake.status_code == 415
    assert re.search(rf'id="material-{stage_id}-business_plan-file-error" role="alert">[^<]+<', fake.text)
    saved = await leader.post(
        url, data=form(leader), files={"file": ("plan.pdf", PDF, "application/pdf")}, headers=HTML
    )
    assert saved.status_code == 303
    page = await leader.get(f"/teams/{team_id}", headers=HTML)
    assert "plan.pdf" in page.text
    assert "Version 1" in page.text
    link = await leader.post(
        f"/teams/{team_id}/stages/{stage_id}/materials/video_link",
        data=form(leader, url="ftp://example.org/v"),
        headers=HTML,
    )
    assert link.status_code == 400
    assert f'id="material-{stage_id}-video_link-url-error"' in link.text


async def test_withdraw_asks_first_and_every_form_needs_its_csrf_token(make_client, make_user, contest):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    await register(leader, track_id)
    team_id = (await Team.select(Team.id).first())["id"]
    confirm = await leader.get(f"/teams/{team_id}/withdraw", headers=HTML)
    assert "Yes, withdraw the team" in confirm.text
    assert (await Team.select(Team.status).first())["status"] == "forming"
    forged = await leader.post(f"/teams/{team_id}/withdraw", data={}, headers=HTML)
    assert forged.status_code == 403
    assert (await Team.select(Team.status).first())["status"] == "forming"
    done = await leader.post(f"/teams/{team_id}/withdraw", data=form(leader), headers=HTML)
    assert done.status_code == 303
    assert (await Team.select(Team.status).first())["status"] == "withdrawn"


async def test_an_invitation_creates_the_account_of_a_new_address(make_client, make_user, contest):
    _, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    await register(leader, track_id)
    team_id = (await Team.select(Team.id).first())["id"]
    await leader.post(
        f"/teams/{team_id}/seats", data=form(leader, email="new@example.org", role="member"), headers=HTML
    )
    token = await last_token("new@example.org")
    visitor = await make_client()
    csrf = visitor.headers.pop(CSRF_HEADER)
    shown = await visitor.get(f"/team-invitations/{token}", headers=HTML)
    assert "Create your account" in shown.text
    differ = await visitor.post(
        f"/team-invitations/{token}/accept",
        data={"_csrf_token": csrf, "display_name": "New", "password": "long enough 1", "password_again": "x"},
        headers=HTML,
    )
    assert differ.status_code == 400
    assert 'id="accept-password_again-error"' in differ.text
    created = await visitor.post(
        f"/team-invitations/{token}/accept",
        data={
            "_csrf_token": csrf,
            "display_name": "New",
            "password": "long enough 1",
            "password_again": "long enough 1",
        },
        headers=HTML,
    )
    assert created.status_code == 303
    assert (await visitor.get(f"/teams/{team_id}", headers=HTML)).status_code == 200
    assert (await visitor.get("/team-invitations/tinv_unknown", headers=HTML)).status_code == 404


async def test_a_new_account_completes_its_profile_then_accepts_from_the_same_link(
    make_client, make_user, contest
):
    """The contest's rules need a date of birth: creating the account from the link keeps it (and
    logs in), the page names what the profile lacks and the invitation waits; after the profile is
    filled in, the same link accepts."""
    event_id, track_id, _ = contest
    leader = await browser(make_client, make_user, "leader")
    await register(leader, track_id)
    team_id = (await Team.select(Team.id).first())["id"]
    await RegistrationRules(event=event_id, rules='{"age_max": 30}').save()
    await leader.post(
        f"/teams/{team_id}/seats", data=form(leader, email="new@example.org", role="member"), headers=HTML
    )
    token = await last_token("new@example.org")
    visitor = await make_client()
    visitor.cookies.set("podium_lang", "zh", domain="podium.test")
    csrf = visitor.headers.pop(CSRF_HEADER)
    password = "long enough 1"
    created = await visitor.post(
        f"/team-invitations/{token}/accept",
        data={"_csrf_token": csrf, "display_name": "New", "password": password, "password_again": password},
        headers=HTML,
    )
    assert created.status_code == 200, created.text
    assert "出生日期" in created.text  # what the profile lacks, in the reader's language
    assert 'href="/me#details-title"' in created.text
    assert (await TeamMember.select(TeamMember.state).where(TeamMember.email == "new@example.org").first())[
        "state"
    ] == "invited"
    shown = await visitor.get(f"/team-invitations/{token}", headers=HTML)  # logged in by the creation
    assert shown.status_code == 200
    assert "出生日期" in shown.text
    assert f"/team-invitations/{token}/accept" not in shown.text

    visitor.headers[CSRF_HEADER] = csrf
    profile = {"name_native": "New", "name_latin": "New", "birth_date": "2005-03-01"}
    assert (await visitor.put("/api/v1/me/profile", json=profile)).status_code == 200
    ready = await visitor.get(f"/team-invitations/{token}", headers=HTML)
    assert f"/team-invitations/{token}/accept" in ready.text
    accepted = await visitor.post(
        f"/team-invitations/{token}/accept", data={"_csrf_token": csrf}, headers=HTML
    )
    assert accepted.status_code == 303
    assert (await visitor.get(f"/teams/{team_id}", headers=HTML)).status_code == 200
