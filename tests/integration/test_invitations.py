"""Roles by e-mail: invitations through the outbox, accepting them (with or without an account, once
under concurrency), who may invite whom, and the people search that never reaches the whole user base."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from backend.accounts.tables import Invitation, Role, RoleGrant, User
from backend.audit import AuditEntry
from backend.events.tables import Track
from backend.mail.tables import OutboxEmail
from tests.integration.conftest import PASSWORD


async def english(make_client, *args, **kwargs):
    """A client whose pages are in English (the accounts here read Chinese by default)."""
    client = await make_client(*args, **kwargs)
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


LINK = re.compile(r"https?://\S+/invitations/(inv_[A-Za-z0-9_-]+)")


async def _tracks(event_id: int) -> tuple[int, int]:
    a = Track(event=event_id, code="A", name_en="Track A")
    b = Track(event=event_id, code="B", name_en="Track B")
    await Track.insert(a, b)
    return a.id, b.id


async def _last_token(address: str) -> str:
    row = (
        await OutboxEmail.select(OutboxEmail.body_text)
        .where(OutboxEmail.to_address == address)
        .order_by(OutboxEmail.id, ascending=False)
        .first()
    )
    assert row is not None, f"no mail to {address}"
    return LINK.search(row["body_text"])[1]


async def _invite(client, event_id: int, email: str, **extra):
    return await client.post(f"/api/v1/events/{event_id}/invitations", json={"email": email, **extra})


async def test_an_invitation_reveals_nothing_and_creates_the_account_when_accepted(
    make_client, make_user, organizer
):
    _, event_id = organizer
    await make_user("known@example.org")
    org = await make_client("organizer@example.org")
    new = await _invite(org, event_id, "New.Person@Example.org", role="judge", locale="ru")
    known = await _invite(org, event_id, "known@example.org", role="judge")
    assert new.status_code == known.status_code == 201, (new.text, known.text)
    assert set(new.json()) == set(known.json())
    assert new.json()["email"] == "new.person@example.org"
    assert new.json()["status"] == "pending"
    mail = await OutboxEmail.select().where(OutboxEmail.to_address == "new.person@example.org").first()
    assert "Podium" in mail["body_text"]
    assert "14" in mail["body_text"]
    assert "Приглашение" in mail["subject"]  # the language the organizer chose
    token = await _last_token("new.person@example.org")
    # only the digest is stored
    assert not await Invitation.exists().where(Invitation.token_hash == token)

    anonymous = await make_client()
    missing = await anonymous.post("/api/v1/invitations/accept", json={"token": token})
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"display_name", "password"}
    accepted = await anonymous.post(
        "/api/v1/invitations/accept",
        json={"token": token, "display_name": "Новый судья", "password": PASSWORD},
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["new_account"] is True
    assert body["role"] == "judge"
    assert body["event_id"] == event_id
    user = (
        await User.select(User.id, User.locale, User.display_name)
        .where(User.email == "new.person@example.org")
        .first()
    )
    assert user["locale"] == "ru"
    assert user["display_name"] == "Новый судья"
    assert await RoleGrant.exists().where(
        (RoleGrant.user == user["id"]) & (RoleGrant.role == "judge") & (RoleGrant.event == event_id)
    )
    assert await AuditEntry.count().where(AuditEntry.action == "invitation.accept") == 1
    # the new account logs in, and the link is spent
    await make_client("new.person@example.org")
    again = await anonymous.post(
        "/api/v1/invitations/accept", json={"token": token, "display_name": "X", "password": PASSWORD}
    )
    assert (again.status_code, again.json()["code"]) == (410, "invitation_used")
    listed = (await org.get(f"/api/v1/events/{event_id}/invitations")).json()
    assert {i["email"]: i["status"] for i in listed} == {
        "new.person@example.org": "accepted",
        "known@example.org": "pending",
    }


async def test_an_existing_account_accepts_only_logged_in_as_the_invited_address(
    make_client, make_user, organizer
):
    _, event_id = organizer
    await make_user("known@example.org")
    await make_user("someone.else@example.org")
    org = await make_client("organizer@example.org")
    assert (await _invite(org, event_id, "known@example.org", role="mentor")).status_code == 201
    token = await _last_token("known@example.org")

    anonymous = await make_client()
    login_first = await anonymous.post(
        "/api/v1/invitations/accept", json={"token": token, "display_name": "Me", "password": PASSWORD}
    )
    assert (login_first.status_code, login_first.json()["code"]) == (401, "invitation_login_required")

    thief = await make_client("someone.else@example.org")
    stolen = await thief.post("/api/v1/invitations/accept", json={"token": token})
    assert (stolen.status_code, stolen.json()["code"]) == (403, "invitation_wrong_account")
    assert not await RoleGrant.exists().where(RoleGrant.role == "mentor")

    invited = await make_client("known@example.org")
    first = await invited.post("/api/v1/invitations/accept", json={"token": token})
    second = await invited.post("/api/v1/invitations/accept", json={"token": token})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json()["new_account"] is False
    assert await RoleGrant.count().where(RoleGrant.role == "mentor") == 1
    assert await AuditEntry.count().where(AuditEntry.action == "invitation.accept") == 1
    # someone else still cannot, even after it was accepted
    assert (await thief.post("/api/v1/invitations/accept", json={"token": token})).status_code == 403


async def test_twenty_concurrent_accepts_make_one_grant(make_client, make_user, organizer):
    _, event_id = organizer
    await make_user("judge@example.org")
    org = await make_client("organizer@example.org")
    await _invite(org, event_id, "judge@example.org", role="judge")
    await _invite(org, event_id, "fresh@example.org", role="judge")
    judge_token = await _last_token("judge@example.org")
    fresh_token = await _last_token("fresh@example.org")

    judge = await make_client("judge@example.org")
    answers = await asyncio.gather(
        *[judge.post("/api/v1/invitations/accept", json={"token": judge_token}) for _ in range(20)]
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["grant_id"] for a in answers}) == 1

    strangers = [await make_client() for _ in range(20)]
    body = {"token": fresh_token, "display_name": "Fresh", "password": PASSWORD}
    answers = await asyncio.gather(*[c.post("/api/v1/invitations/accept", json=body) for c in strangers])
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [410] * 19, [a.text for a in answers]
    assert await User.count().where(User.email == "fresh@example.org") == 1
    assert await RoleGrant.count().where(RoleGrant.role == "judge") == 2
    assert await AuditEntry.count().where(AuditEntry.action == "invitation.accept") == 2


async def test_who_may_invite(make_client, make_user, make_event, grant, organizer):
    _, event_id = organizer
    track_a, track_b = await _tracks(event_id)
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, event_id, track=track_a)
    other = await make_user("other@example.org")
    elsewhere = await make_event(slug="elsewhere", status="open")
    await grant(other, Role.organizer, elsewhere)
    judge = await make_user("judge@example.org")
    await grant(judge, Role.judge, event_id, track=track_a)

    # another event's organizer: the draft does not exist for it; an open event is refused
    foreign = await make_client("other@example.org")
    assert (await _invite(foreign, event_id, "x@example.org", role="judge")).status_code == 404
    own_org = await make_client("organizer@example.org")
    opened = await make_event(slug="opened", status="open")
    await grant(
        (await User.select(User.id).where(User.email == "organizer@example.org").first())["id"],
        Role.organizer,
        opened,
    )
    assert (await _invite(foreign, opened, "x@example.org", role="judge")).status_code == 403

    # a scoped admin invites inside its track only, never wider than itself
    client = await make_client("scoped@example.org")
    for scope in ({}, {"track_id": track_b}, {"region": "Zhejiang"}):
        refused = await _invite(client, event_id, "x@example.org", role="judge", **scope)
        assert refused.status_code == 403, (scope, refused.text)
    inside = await _invite(client, event_id, "x@example.org", role="judge", track_id=track_a)
    assert inside.status_code == 201
    # a judge may not invite at all (the draft does not even exist for it); a track of another event
    judge_client = await make_client("judge@example.org")
    assert (await _invite(judge_client, event_id, "y@example.org", role="judge")).status_code == 404
    await grant(judge, Role.judge, opened)
    assert (await _invite(judge_client, opened, "y@example.org", role="judge")).status_code == 403
    other_track = (await _tracks(opened))[0]
    wrong = await _invite(own_org, event_id, "y@example.org", role="judge", track_id=other_track)
    assert (wrong.status_code, wrong.json()["code"]) == (400, "unknown_track")
    org_admin = await _invite(own_org, event_id, "y@example.org", role="org_admin")
    assert org_admin.status_code == 400
    assert await Invitation.count() == 1
    assert await OutboxEmail.count() == 1


async def test_inviting_again_refreshes_the_pending_invitation(make_client, make_user, organizer):
    _, event_id = organizer
    org = await make_client("organizer@example.org")
    first = await _invite(org, event_id, "twice@example.org", role="judge")
    old_token = await _last_token("twice@example.org")
    second = await _invite(org, event_id, "twice@example.org", role="judge")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await Invitation.count() == 1
    assert await OutboxEmail.count() == 2
    new_token = await _last_token("twice@example.org")
    assert new_token != old_token
    assert (
        await (await make_client()).post("/api/v1/invitations/accept", json={"token": old_token})
    ).status_code == 404
    # another role for the same address is another invitation
    assert (await _invite(org, event_id, "twice@example.org", role="mentor")).json()["id"] != first.json()[
        "id"
    ]
    # an address that already holds the role there: 409
    holder = await make_user("holder@example.org")
    await RoleGrant.insert(RoleGrant(user=holder, role="judge", event=event_id))
    taken = await _invite(org, event_id, "holder@example.org", role="judge")
    assert (taken.status_code, taken.json()["code"]) == (409, "role_exists")


async def test_revoke_resend_and_expiry(make_client, organizer):
    _, event_id = organizer
    org = await make_client("organizer@example.org")
    anonymous = await make_client()
    body = {"display_name": "Late", "password": PASSWORD}

    invitation = (await _invite(org, event_id, "late@example.org", role="judge")).json()
    token = await _last_token("late@example.org")
    resent = await org.post(f"/api/v1/events/{event_id}/invitations/{invitation['id']}/resend")
    assert resent.status_code == 200
    assert await OutboxEmail.count() == 2
    assert (
        await anonymous.post("/api/v1/invitations/accept", json={"token": token, **body})
    ).status_code == 404
    token = await _last_token("late@example.org")

    await Invitation.update({Invitation.expires_at: dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}).where(
        Invitation.id == invitation["id"]
    )
    expired = await anonymous.post("/api/v1/invitations/accept", json={"token": token, **body})
    assert (expired.status_code, expired.json()["code"]) == (410, "invitation_expired")
    assert (await org.get(f"/api/v1/events/{event_id}/invitations")).json()[0]["status"] == "expired"
    # an expired invitation can be sent again
    await org.post(f"/api/v1/events/{event_id}/invitations/{invitation['id']}/resend")
    token = await _last_token("late@example.org")

    revoked = await org.delete(f"/api/v1/events/{event_id}/invitations/{invitation['id']}")
    assert revoked.status_code == 204
    refused = await anonymous.post("/api/v1/invitations/accept", json={"token": token, **body})
    assert (refused.status_code, refused.json()["code"]) == (410, "invitation_revoked")
    again = await org.delete(f"/api/v1/events/{event_id}/invitations/{invitation['id']}")
    assert (again.status_code, again.json()["code"]) == (409, "invitation_closed")
    assert (
        await org.post(f"/api/v1/events/{event_id}/invitations/{invitation['id']}/resend")
    ).status_code == 409
    assert not await User.exists().where(User.email == "late@example.org")
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert [a for a in actions if a.startswith("invitation.")] == [
        "invitation.create",
        "invitation.resend",
        "invitation.resend",
        "invitation.revoke",
    ]


async def test_a_scoped_admin_sees_and_manages_only_invitations_inside_its_scope(
    make_client, make_user, grant, organizer
):
    _, event_id = organizer
    track_a, track_b = await _tracks(event_id)
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, event_id, track=track_a)
    org = await make_client("organizer@example.org")
    inside = (await _invite(org, event_id, "a@example.org", role="judge", track_id=track_a)).json()
    outside = (await _invite(org, event_id, "b@example.org", role="judge", track_id=track_b)).json()
    client = await make_client("scoped@example.org")
    listed = (await client.get(f"/api/v1/events/{event_id}/invitations")).json()
    assert [i["id"] for i in listed] == [inside["id"]]
    path = f"/api/v1/events/{event_id}/invitations"
    assert (await client.delete(f"{path}/{outside['id']}")).status_code == 404
    assert (await client.post(f"{path}/{outside['id']}/resend")).status_code == 404
    assert (await client.post(f"{path}/{inside['id']}/resend")).status_code == 200
    assert (await client.delete(f"{path}/{inside['id']}")).status_code == 204
    # an invitation of another event is not found through this one
    assert (await org.delete(f"/api/v1/events/999/invitations/{outside['id']}")).status_code == 404


async def test_people_search_finds_only_the_people_of_the_callers_events(
    make_client, make_user, make_event, grant, organizer
):
    organizer_id, event_id = organizer
    track_a, track_b = await _tracks(event_id)
    second = await make_event(slug="second")
    await grant(organizer_id, Role.organizer, second)
    judge_a = await make_user("alice@example.org", name="Alice Judge")
    judge_b = await make_user("bob@example.org", name="Bob Judge")
    mentor = await make_user("carol@example.org", name="Carol Mentor")
    await make_user("stranger@example.org", name="Stranger Judge")
    await grant(judge_a, Role.judge, event_id, track=track_a)
    await grant(judge_b, Role.judge, event_id, track=track_b)
    await grant(mentor, Role.mentor, second)
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, event_id, track=track_a)

    org = await make_client("organizer@example.org")
    found = (await org.get(f"/api/v1/events/{event_id}/people", params={"q": "judge"})).json()
    assert {p["email"] for p in found} == {"alice@example.org", "bob@example.org"}
    everyone = (await org.get(f"/api/v1/events/{event_id}/people")).json()
    assert "carol@example.org" in {p["email"] for p in everyone}  # from the organizer's other event
    assert "stranger@example.org" not in {p["email"] for p in everyone}
    assert (await org.get(f"/api/v1/events/{event_id}/people", params={"q": "%"})).json() == []

    client = await make_client("scoped@example.org")
    mine = (await client.get(f"/api/v1/events/{event_id}/people")).json()
    assert {p["email"] for p in mine} <= {"alice@example.org", "scoped@example.org"}
    assert "alice@example.org" in {p["email"] for p in mine}

    judge = await make_client("alice@example.org")  # the draft does not exist for a judge
    assert (await judge.get(f"/api/v1/events/{event_id}/people")).status_code == 404
    assert (await (await make_client()).get(f"/api/v1/events/{event_id}/people")).status_code == 401


async def test_organization_roles_by_e_mail(make_client, make_user, make_organization, admin):
    """An organization admin invites another admin or organizer of the organization; the admin of
    another organization and the organization's mere organizers cannot."""
    organization = await make_organization()
    elsewhere = await make_organization("elsewhere")
    boss = await make_user("boss@example.org")
    await RoleGrant.insert(RoleGrant(user=boss, role="org_admin", organization=organization))
    runner = await make_user("runner@example.org")
    await RoleGrant.insert(RoleGrant(user=runner, role="organizer", organization=organization))
    stranger = await make_user("stranger@example.org")
    await RoleGrant.insert(RoleGrant(user=stranger, role="org_admin", organization=elsewhere))
    path = f"/api/v1/organizations/{organization}/invitations"
    body = {"email": "deputy@example.org", "role": "org_admin"}
    for email in ("stranger@example.org", "runner@example.org"):
        refused = await (await make_client(email)).post(path, json=body)
        assert refused.status_code == 403, (email, refused.text)
    assert (await (await make_client()).post(path, json=body)).status_code == 401
    client = await make_client("boss@example.org")
    wrong = await client.post(path, json={**body, "role": "judge"})
    assert wrong.status_code == 400
    created = await client.post(path, json=body)
    assert created.status_code == 201
    assert created.json()["organization_id"] == organization
    assert created.json()["event_id"] is None
    assert await Invitation.count() == 1

    token = await _last_token("deputy@example.org")
    accepted = await (await make_client()).post(
        "/api/v1/invitations/accept", json={"token": token, "display_name": "Deputy", "password": PASSWORD}
    )
    assert accepted.status_code == 201
    assert accepted.json()["organization_id"] == organization
    assert await RoleGrant.exists().where(
        (RoleGrant.organization == organization) & (RoleGrant.role == "org_admin") & RoleGrant.event.is_null()
    )
    deputy = await make_client("deputy@example.org")
    assert (await deputy.get(path)).status_code == 200  # now an admin of the organization itself
    listed = (await client.get(path)).json()
    assert [i["status"] for i in listed] == ["accepted"]
    assert (await client.delete(f"{path}/{listed[0]['id']}")).status_code == 409
    # the organization's page offers the form; its invitations page lists them
    page = await client.get(f"/workspace/organizations/{organization}", headers={"accept": "text/html"})
    assert 'id="org-invite-email"' in page.text
    listing = await client.get(
        f"/workspace/organizations/{organization}/invitations", headers={"accept": "text/html"}
    )
    assert "deputy@example.org" in listing.text
    other = f"/api/v1/organizations/{elsewhere}/invitations/{listed[0]['id']}"
    assert (await (await make_client("stranger@example.org")).delete(other)).status_code == 404


async def test_the_people_page(make_client, make_user, grant, organizer):
    """The event's "People and roles" page: invite (with every wrong field reported), find someone of
    the organizer's events and grant a role, withdraw and revoke; a scoped admin is offered its track
    only and sees nothing outside it."""
    _, event_id = organizer
    track_a, track_b = await _tracks(event_id)
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, event_id, track=track_a)
    judge = await make_user("judy@example.org", name="Judy Judge")
    await grant(judge, Role.judge, event_id, track=track_b)
    html = {"accept": "text/html"}
    path = f"/workspace/events/{event_id}/people"
    org = await english(make_client, "organizer@example.org")

    bad = await org.post(
        f"{path}/invitations", data={"email": "not an address", "role": "nobody"}, headers=html
    )
    assert bad.status_code == 400
    assert 'id="invite-email-error"' in bad.text
    assert 'id="invite-role-error"' in bad.text
    assert 'value="not an address"' in bad.text  # what was typed stays
    sent = await org.post(
        f"{path}/invitations",
        data={"email": "Pat@Example.org", "role": "mentor", "track_id": str(track_b)},
        headers=html,
    )
    assert sent.status_code == 303
    shown = await org.get(sent.headers["location"], headers=html)
    assert "pat@example.org" in shown.text
    assert "The invitation was sent." in shown.text
    invitation_id = (await Invitation.select(Invitation.id).first())["id"]

    found = await org.get(path, params={"q": "judy"}, headers=html)
    assert "Judy Judge" in found.text
    granted = await org.post(
        f"{path}/roles",
        data={"user_id": str(judge), "role": "mentor", "track_id": "", "q": "judy"},
        headers=html,
    )
    assert granted.status_code == 303
    assert await RoleGrant.exists().where((RoleGrant.user == judge) & (RoleGrant.role == "mentor"))

    client = await english(make_client, "scoped@example.org")
    page = await client.get(path, headers=html)
    assert page.status_code == 200
    assert "pat@example.org" not in page.text  # an invitation to track B
    assert f'<option value="{track_b}"' not in page.text
    assert f'<option value="{track_a}"' in page.text
    outside = await client.post(f"{path}/invitations/{invitation_id}/revoke", headers=html)
    assert outside.status_code == 404
    widen = await client.post(
        f"{path}/invitations", data={"email": "x@example.org", "role": "judge"}, headers=html
    )
    assert widen.status_code == 403

    withdrawn = await org.post(f"{path}/invitations/{invitation_id}/revoke", headers=html)
    assert withdrawn.status_code == 303
    again = await org.post(f"{path}/invitations/{invitation_id}/revoke", headers=html)
    assert again.status_code == 409
    assert "already revoked" in again.text
    judge_grant = (
        await RoleGrant.select(RoleGrant.id)
        .where((RoleGrant.user == judge) & (RoleGrant.role == "judge"))
        .first()
    )
    assert (await org.post(f"{path}/roles/{judge_grant['id']}/revoke", headers=html)).status_code == 303
    assert not await RoleGrant.exists().where((RoleGrant.user == judge) & (RoleGrant.role == "judge"))
