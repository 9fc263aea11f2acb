"""Role grants inside an event, and account management by platform admins."""

from __future__ import annotations

from backend.accounts.tables import Role, RoleGrant, User
from backend.events.tables import Event, Track


async def test_organizer_grants_and_revokes_scoped_roles(make_client, organizer, make_user, grant):
    organizer_id, event = organizer
    judge = await make_user("judge@example.org")
    await grant(judge, Role.mentor, event)  # someone who already takes part: organizers name only those
    track = await Track.insert(Track(event=event, code="B2C")).returning(Track.id)
    client = await make_client("organizer@example.org")
    response = await client.post(
        f"/api/v1/events/{event}/roles", json={"user_id": judge, "role": "judge", "track_id": track[0]["id"]}
    )
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k]
        for k in ("user_id", "user_email", "role", "event_id", "track_id", "region", "institution_id")
    } == {
        "user_id": judge,
        "user_email": "judge@example.org",
        "role": "judge",
        "event_id": event,
        "track_id": track[0]["id"],
        "region": None,
        "institution_id": None,
    }
    duplicate = await client.post(
        f"/api/v1/events/{event}/roles", json={"user_id": judge, "role": "judge", "track_id": track[0]["id"]}
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "role_exists")
    listed = (await client.get(f"/api/v1/events/{event}/roles")).json()
    assert sorted((g["user_id"], g["role"]) for g in listed) == sorted(
        [(organizer_id, "organizer"), (judge, "mentor"), (judge, "judge")]
    )
    assert (await client.delete(f"/api/v1/events/{event}/roles/{body['id']}")).status_code == 204
    assert await RoleGrant.count().where(RoleGrant.user == judge) == 1


async def test_grants_refuse_foreign_tracks_and_unknown_users(
    make_client, organizer, make_event, make_user, grant
):
    _, event = organizer
    other_event = await make_event(slug="other")
    foreign = await Track.insert(Track(event=other_event, code="X")).returning(Track.id)
    user = await make_user("someone@example.org")
    await grant(user, Role.mentor, event)
    client = await make_client("organizer@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    wrong_track = await client.post(
        f"/api/v1/events/{event}/roles", json={"user_id": user, "role": "judge", "track_id": foreign[0]["id"]}
    )
    assert (wrong_track.status_code, wrong_track.json()["fields"]) == (400, {"track_id": "unknown"})
    ghost = await client.post(f"/api/v1/events/{event}/roles", json={"user_id": 999999, "role": "judge"})
    assert ghost.json()["code"] == "unknown_user"
    bad_role = await client.post(f"/api/v1/events/{event}/roles", json={"user_id": user, "role": "emperor"})
    assert (bad_role.status_code, list(bad_role.json()["fields"])) == (400, ["role"])
    assert await RoleGrant.count().where(RoleGrant.user == user) == 1  # the mentor role only


async def test_a_grant_of_another_event_cannot_be_revoked_through_this_one(
    make_client, organizer, make_event, make_user, grant
):
    _, event = organizer
    other = await make_event(slug="other")
    victim = await make_user("victim@example.org")
    await grant(victim, Role.organizer, other)
    grant_id = (await RoleGrant.select(RoleGrant.id).where(RoleGrant.event == other).first())["id"]
    client = await make_client("organizer@example.org")
    assert (await client.delete(f"/api/v1/events/{event}/roles/{grant_id}")).status_code == 404
    assert (await client.delete(f"/api/v1/events/{other}/roles/{grant_id}")).status_code == 404  # a draft
    await Event.update({Event.status: "open"}).where(Event.id == other)
    assert (await client.delete(f"/api/v1/events/{other}/roles/{grant_id}")).status_code == 403
    assert await RoleGrant.exists().where(RoleGrant.id == grant_id)


async def test_platform_admin_manages_accounts(make_client, admin):
    client = await make_client("admin@example.org")
    created = await client.post(
        "/api/v1/users",
        json={"email": "New.Judge@Example.org", "password": "a long password", "display_name": "Judge"},
    )
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == "new.judge@example.org"
    taken = await client.post(
        "/api/v1/users",
        json={"email": "new.judge@example.org", "password": "another one!", "display_name": "X"},
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "email_taken")
    weak = await client.post(
        "/api/v1/users", json={"email": "w@example.org", "password": "short", "display_name": "W"}
    )
    assert (weak.status_code, list(weak.json()["fields"])) == (400, ["password"])
    page = (await client.get("/api/v1/users", params={"q": "judge"})).json()
    assert (page["total"], [u["email"] for u in page["items"]]) == (1, ["new.judge@example.org"])
    patched = await client.patch(f"/api/v1/users/{user['id']}", json={"active": False, "locale": "ru"})
    assert (patched.json()["active"], patched.json()["locale"]) == (False, "ru")
    stored = await User.select(User.password).where(User.id == user["id"]).first()
    assert stored["password"].startswith("$argon2id$")


async def test_admins_cannot_lock_themselves_out(make_client, admin):
    client = await make_client("admin@example.org")
    demote = await client.patch(f"/api/v1/users/{admin}", json={"is_platform_admin": False})
    assert demote.status_code == 400  # platform admin rights are not given or taken through the API
    assert "is_platform_admin" in demote.json()["fields"]
    deactivate = await client.patch(f"/api/v1/users/{admin}", json={"active": False})
    assert deactivate.json()["code"] == "cannot_deactivate_self"
    assert (await User.select(User.superuser, User.active).where(User.id == admin).first()) == {
        "superuser": True,
        "active": True,
    }


async def test_ordinary_users_cannot_manage_accounts_or_promote_themselves(make_client, make_user):
    me = await make_user("plain@example.org")
    client = await make_client("plain@example.org")
    assert (await client.get("/api/v1/users")).status_code == 403
    assert (await client.patch(f"/api/v1/users/{me}", json={"is_platform_admin": True})).status_code == 403
    assert (
        await client.post(
            "/api/v1/users",
            json={"email": "x@example.org", "password": "a long password", "display_name": "X"},
        )
    ).status_code == 403
    assert (await User.select(User.superuser).where(User.id == me).first())["superuser"] is False
