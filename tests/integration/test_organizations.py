"""Organizations: who creates them, their organization-level roles, and how those roles reach every
event of the organization and nothing outside it."""

from __future__ import annotations

from backend.accounts.tables import RoleGrant, User
from backend.audit import AuditEntry
from backend.events.tables import Event
from backend.organizations.tables import Organization

ALLIANCE = {
    "kind": "alliance",
    "slug": "cbec-alliance",
    "name_zh": "跨境电子商务产教融合联盟",
    "name_en": "Cross-Border E-Commerce Alliance",
}


def contest(organization_id: int, slug: str) -> dict:
    return {
        "organization_id": organization_id,
        "kind": "contest",
        "slug": slug,
        "name_en": slug,
        "starts_on": "2027-03-01",
        "ends_on": "2027-07-25",
    }


async def _user_ids() -> dict[str, int]:
    return {r["email"]: r["id"] for r in await User.select(User.id, User.email)}


async def test_platform_admins_create_organizations_and_give_them_an_admin(make_client, make_user, admin):
    await make_user("zhang@example.org")
    client = await make_client("admin@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    created = await client.post("/api/v1/organizations", json=ALLIANCE)
    assert created.status_code == 201, created.text
    organization = created.json()
    assert {k: organization[k] for k in ALLIANCE} == ALLIANCE
    taken = await client.post("/api/v1/organizations", json=ALLIANCE)
    assert (taken.status_code, taken.json()["code"], taken.json()["fields"]) == (
        409,
        "organization_slug_taken",
        {"slug": "taken"},
    )
    nameless = await client.post(
        "/api/v1/organizations", json={**ALLIANCE, "slug": "x2", "name_zh": "", "name_en": " "}
    )
    assert (nameless.status_code, nameless.json()["code"]) == (400, "name_required")
    zhang = (await _user_ids())["zhang@example.org"]
    granted = await client.post(
        f"/api/v1/organizations/{organization['id']}/roles", json={"user_id": zhang, "role": "org_admin"}
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["role"] == "org_admin"
    assert await AuditEntry.count().where(AuditEntry.action == "organization.create") == 1
    assert await AuditEntry.count().where(AuditEntry.action == "organization.role_grant") == 1

    zhang_client = await make_client("zhang@example.org")
    assert [o["slug"] for o in (await zhang_client.get("/api/v1/organizations")).json()] == ["cbec-alliance"]
    refused = await zhang_client.post("/api/v1/organizations", json={**ALLIANCE, "slug": "mine"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert not await Organization.exists().where(Organization.slug == "mine")


async def test_an_organization_admin_runs_every_event_of_its_organization_and_nothing_else(
    make_client, make_user, make_organization, make_event
):
    ours, theirs = await make_organization("ours"), await make_organization("theirs")
    their_draft = await make_event("their-draft", organization="theirs")
    await make_user("head@example.org")
    await make_user("runner@example.org")
    ids = await _user_ids()
    await RoleGrant.insert(
        RoleGrant(user=ids["head@example.org"], role="org_admin", organization=ours),
        RoleGrant(user=ids["runner@example.org"], role="organizer", organization=ours),
    )
    head = await make_client("head@example.org")
    created = await head.post("/api/v1/events", json=contest(ours, "ours-2027"))
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    # an organization-level organizer runs it without any event grant, but cannot create events
    runner = await make_client("runner@example.org")
    assert (await runner.get(f"/api/v1/events/{event_id}")).status_code == 200
    track = await runner.post(f"/api/v1/events/{event_id}/tracks", json={"code": "B2C"})
    assert track.status_code == 201, track.text
    assert (await runner.post("/api/v1/events", json=contest(ours, "runner-2027"))).status_code == 403
    assert (await runner.get(f"/api/v1/organizations/{ours}/roles")).status_code == 200
    assert (
        await runner.post(
            f"/api/v1/organizations/{ours}/roles",
            json={"user_id": ids["head@example.org"], "role": "organizer"},
        )
    ).status_code == 403
    # the other organization's draft does not exist for them; its events cannot be created by them
    for client in (head, runner):
        assert (await client.get(f"/api/v1/events/{their_draft}")).status_code == 404
        assert (
            await client.patch(f"/api/v1/events/{their_draft}", json={"venue_en": "X"})
        ).status_code == 404
        assert (await client.post("/api/v1/events", json=contest(theirs, "sneaky"))).status_code == 403
        assert (await client.get(f"/api/v1/organizations/{theirs}/roles")).status_code == 403
    listed = (await head.get(f"/api/v1/organizations/{ours}/events")).json()
    assert [e["slug"] for e in listed["items"]] == ["ours-2027"]
    public = (await (await make_client()).get(f"/api/v1/organizations/{ours}/events")).json()
    assert public["items"] == []  # a draft is not public
    assert await Event.count().where(Event.slug == "sneaky") == 0


async def test_organization_roles_cannot_be_misused(
    make_client, make_user, make_organization, make_event, grant
):
    from backend.accounts.tables import Role

    ours = await make_organization("ours")
    event_id = await make_event("ours-2027", organization="ours")
    await make_user("head@example.org")
    await make_user("stranger@example.org")
    await make_user("judge@example.org")
    ids = await _user_ids()
    await RoleGrant.insert(RoleGrant(user=ids["head@example.org"], role="org_admin", organization=ours))
    await grant(ids["judge@example.org"], Role.judge, event_id)
    head = await make_client("head@example.org")
    url = f"/api/v1/organizations/{ours}/roles"
    # nobody outside the organization's events can be named by id
    unknown = await head.post(url, json={"user_id": ids["stranger@example.org"], "role": "organizer"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_user")
    known = await head.post(url, json={"user_id": ids["judge@example.org"], "role": "organizer"})
    assert known.status_code == 201, known.text
    # org_admin is not an event role; a role outside the two is refused
    event_level = await head.post(
        f"/api/v1/events/{event_id}/roles", json={"user_id": ids["judge@example.org"], "role": "org_admin"}
    )
    assert (event_level.status_code, event_level.json()["code"]) == (400, "organization_role")
    odd = await head.post(url, json={"user_id": ids["judge@example.org"], "role": "judge"})
    assert (odd.status_code, odd.json()["code"]) == (400, "validation_error")
    # an admin cannot remove their own admin role (the organization would be left without one)
    mine = (await RoleGrant.select(RoleGrant.id).where(RoleGrant.user == ids["head@example.org"]).first())[
        "id"
    ]
    assert (await head.delete(f"{url}/{mine}")).status_code == 403
    # a grant of another organization is not found through this one
    theirs = await make_organization("theirs")
    other = RoleGrant(user=ids["stranger@example.org"], role="organizer", organization=theirs)
    await other.save()
    assert (await head.delete(f"{url}/{other.id}")).status_code == 404
    assert await RoleGrant.exists().where(RoleGrant.id == other.id)


async def test_the_database_holds_a_grant_to_an_event_or_an_organization(
    make_user, make_organization, make_event
):
    """Not both and not neither, whoever writes (constraints on PostgreSQL, triggers on SQLite)."""
    import pytest

    from backend.db import transaction

    ours = await make_organization("ours")
    event_id = await make_event("ours-2027", organization="ours")
    user = await make_user("someone@example.org")
    for bad in (
        RoleGrant(user=user, role="organizer"),
        RoleGrant(user=user, role="organizer", event=event_id, organization=ours),
    ):
        with pytest.raises(Exception, match="role_grant_event_or_organization"):
            async with transaction():
                await bad.save()
    with pytest.raises(Exception, match="organization"):
        await Event.update({Event.organization: None}).where(Event.id == event_id)
    assert await RoleGrant.count() == 0
