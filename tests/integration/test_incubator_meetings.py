"""Meeting logs over HTTP in the incubator world: a connected mentor logs, changes and deletes their
meetings with the hour budget debited by one conditional update (never overdrawn, also by 20 logs
at once), private notes reach their author only (every read path, page and export, as every kind of
caller), and action items are kept by both sides."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random

import httpx
import pytest
from piccolo_admin.endpoints import TableConfig

from backend import admin
from backend.accounts.tables import ApiToken, User
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from backend.errors import Conflict
from backend.policy import Principal
from incubator.meetings import service
from incubator.meetings.schemas import MeetingIn, MeetingPatch
from incubator.tables import ActionItem, Meeting, MentorLink, PrivateNote
from tests.integration.incubator_world import PRIVATE_NOTE, SHARED_NOTE, World, build_world

pytestmark = pytest.mark.usefixtures("db")

_TOKENS = itertools.count()
NEW_PRIVATE = "Suspect the CTO is leaving; do not tell the manager yet."


async def _client(make_client, world: World, who: str) -> httpx.AsyncClient:
    """A client with a bearer token of ``who`` (no password check per client)."""
    token = f"pdm_meet_{who}_{next(_TOKENS)}"
    await ApiToken(user=world.users[who], name="test", token_hash=token_digest(token)).save()
    client = await make_client()
    client.headers["authorization"] = f"Bearer {token}"
    return client


async def _world_with_admin() -> World:
    world = await build_world()
    admin = User.account("admin@incubator.example", "x", "Admin", "en", platform_admin=True)
    await admin.save()
    world.users["admin"] = admin.id
    return world


async def _used(world: World, who: str = "mentor") -> int:
    row = await MentorLink.select(MentorLink.used_minutes).where(
        (MentorLink.mentor == world.ids[who]) & (MentorLink.startup == world.ids["startup"])
    )
    return row[0]["used_minutes"]


def _meeting(world: World, minutes: int = 90, **extra) -> dict:
    return {
        "held_at": "2026-11-20T15:00:00+08:00",
        "minutes": minutes,
        "topics": ["pricing", " "],
        "attendees": [{"user": world.users["founder"]}, {"name": "An investor"}],
        "shared_notes": "Try a 9.9 price point on Ozon.",
        "private_notes": NEW_PRIVATE,
        "action_items": [
            {
                "title": "Send the Wildberries contract",
                "side": "founders",
                "owner_id": world.users["founder"],
            },
            {"title": "Introduce a logistics partner", "side": "mentor", "due_on": "2026-12-01"},
        ],
        **extra,
    }


async def test_a_mentor_logs_a_meeting_and_its_minutes_come_out_of_the_budget(make_client):
    world = await build_world()
    mentor = await _client(make_client, world, "mentor")
    before = await AuditEntry.count()
    response = await mentor.post(
        f"/api/v1/incubator/startups/{world.ids['startup']}/meetings", json=_meeting(world)
    )
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert meeting["private_notes"] == NEW_PRIVATE
    assert meeting["topics"] == ["pricing"]
    assert meeting["attendees"] == [
        {"user": world.users["founder"], "name": "Founder"},
        {"user": None, "name": "An investor"},
    ]
    assert {i["side"] for i in meeting["action_items"]} == {"founders", "mentor"}
    assert await _used(world) == 60 + 90
    entries = await AuditEntry.select().where(AuditEntry.id > 0).order_by(AuditEntry.id)
    assert len(entries) == before + 1
    assert entries[-1]["action"] == "incubator.meeting_logged"
    assert NEW_PRIVATE not in str(entries[-1]["data"])

    # 450 minutes are left: 451 is refused, with nothing written
    response = await mentor.post(
        f"/api/v1/incubator/startups/{world.ids['startup']}/meetings", json=_meeting(world, 451)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "budget_exceeded"
    assert "450" in response.json()["detail"]
    assert set(response.json()["fields"]) == {"minutes"}
    assert await _used(world) == 150
    assert await Meeting.count() == 2

    # edits debit the difference; an edit over the budget is refused; a deletion credits back
    url = f"/api/v1/incubator/meetings/{meeting['id']}"
    response = await mentor.patch(url, json={"minutes": 540, "private_notes": "rewritten"})
    assert response.status_code == 200, response.text
    assert response.json()["private_notes"] == "rewritten"
    assert await _used(world) == 600
    assert (await mentor.patch(url, json={"minutes": 541})).json()["code"] == "budget_exceeded"
    assert (await mentor.patch(url, json={"minutes": 30, "topics": ["exit"]})).json()["topics"] == ["exit"]
    assert await _used(world) == 90
    response = await mentor.delete(url)
    assert response.status_code == 204
    assert await _used(world) == 60
    assert not await PrivateNote.exists().where(PrivateNote.meeting == meeting["id"])
    assert await ActionItem.count().where(ActionItem.startup == world.ids["startup"]) == 3  # kept


async def test_only_the_author_changes_a_meeting_and_input_is_checked(make_client):
    world = await _world_with_admin()
    url = f"/api/v1/incubator/meetings/{world.ids['meeting']}"
    for who, status in (
        ("cohort_mentor", 403),
        ("founder", 403),
        ("manager", 403),
        ("admin", 403),
        ("other_founder", 404),
        ("viewer", 404),
        ("outsider", 404),
    ):
        client = await _client(make_client, world, who)
        assert (await client.patch(url, json={"minutes": 10})).status_code == status, who
        assert (await client.delete(url)).status_code == status, who
        logged = await client.post(
            f"/api/v1/incubator/startups/{world.ids['startup']}/meetings", json=_meeting(world, 10)
        )
        assert logged.status_code == (201 if who == "cohort_mentor" else status), who
    assert await _used(world) == 60

    mentor = await _client(make_client, world, "mentor")
    startup = f"/api/v1/incubator/startups/{world.ids['startup']}/meetings"
    response = await mentor.post(
        startup,
        json=_meeting(
            world,
            attendees=[{"user": world.users["other_founder"]}, {"name": " "}],
            action_items=[{"title": "x", "side": "mentor", "owner_id": world.users["founder"]}],
        ),
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {
        "attendees[0].user",
        "attendees[1].name",
        "action_items[0].owner_id",
    }
    naive = await mentor.post(startup, json=_meeting(world, held_at="2026-11-20T15:00:00"))
    assert naive.status_code in (400, 422)
    assert "held_at" in naive.json()["fields"]
    other = await mentor.post(
        f"/api/v1/incubator/startups/{world.ids['other_startup']}/meetings", json=_meeting(world, 10)
    )
    assert other.status_code == 404  # a startup the mentor is not connected to
    # the booking of the mentor's slot is logged once
    booked = _meeting(world, 30, booking_id=world.ids["booking"], attendees=[], action_items=[])
    assert (await mentor.post(startup, json=booked)).status_code == 201
    again = await mentor.post(startup, json=booked)
    assert again.status_code == 409
    assert again.json()["code"] == "meeting_logged"
    assert await _used(world) == 90


async def test_twenty_meetings_logged_at_once_never_overdraw_the_budget(make_client):
    world = await build_world()
    mentor = await _client(make_client, world, "mentor")
    url = f"/api/v1/incubator/startups/{world.ids['startup']}/meetings"
    body = _meeting(world, 60, action_items=[])
    answers = await asyncio.gather(*(mentor.post(url, json=body) for _ in range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 9 + [409] * 11  # 540 minutes were left
    assert await _used(world) == 600
    assert await Meeting.count() == 10


async def test_private_notes_reach_their_author_only(make_client):
    world = await _world_with_admin()
    startup, meeting = world.ids["startup"], world.ids["meeting"]
    reads = [
        f"/api/v1/incubator/startups/{startup}/meetings",
        f"/api/v1/incubator/meetings/{meeting}",
        f"/api/v1/incubator/startups/{startup}/meetings/export",
        f"/api/v1/incubator/startups/{startup}/action-items",
        "/api/v1/incubator/action-items",
        f"/incubator/startups/{startup}/meetings",
        f"/incubator/meetings/{meeting}",
        "/incubator/action-items",
    ]
    seen_shared = set()
    for who in (
        "founder",
        "cofounder",
        "manager",
        "org_admin",
        "cohort_mentor",
        "admin",
        "viewer",
        "outsider",
    ):
        client = await _client(make_client, world, who)
        for url in reads:
            response = await client.get(url)
            assert PRIVATE_NOTE not in response.text, (who, url)
            assert response.status_code in (200, 403, 404), (who, url, response.status_code)
            if SHARED_NOTE in response.text:
                seen_shared.add(who)
    assert seen_shared == {"founder", "cofounder", "manager", "org_admin", "cohort_mentor", "admin"}
    mentor = await _client(make_client, world, "mentor")
    for url in (*reads[:2], reads[6]):  # the meetings tab shows no notes in full
        response = await mentor.get(url)
        assert response.status_code == 200, url
        assert PRIVATE_NOTE in response.text, url
    export = await mentor.get(reads[2])
    assert export.status_code == 403  # the export is the managers'
    manager = await _client(make_client, world, "manager")
    export = await manager.get(reads[2])
    assert export.status_code == 200
    assert SHARED_NOTE in export.text
    assert "text/csv" in export.headers["content-type"]
    entries = await AuditEntry.select(AuditEntry.data)
    assert all(PRIVATE_NOTE not in str(e["data"]) for e in entries)


async def test_action_items_show_on_both_sides_until_done(make_client):
    world = await build_world()
    founder = await _client(make_client, world, "founder")
    mentor = await _client(make_client, world, "mentor")
    manager = await _client(make_client, world, "manager")
    items = f"/api/v1/incubator/startups/{world.ids['startup']}/action-items"
    response = await founder.post(
        items,
        json={
            "title": "Book the customs broker",
            "side": "mentor",
            "owner_id": world.users["mentor"],
            "due_on": "2026-12-10",
            "meeting_id": world.ids["meeting"],
        },
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["mentor_id"] == world.ids["mentor"]
    assert added["owner_name"] == "Mentor"
    assert (await manager.post(items, json={"title": "x"})).status_code == 403
    bad = await founder.post(items, json={"title": "x", "meeting_id": 10_000})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"meeting_id"}

    async def mine(client) -> set[int]:
        return {i["id"] for i in (await client.get("/api/v1/incubator/action-items")).json()}

    both = {world.ids["action_item"], added["id"]}
    assert await mine(founder) == both
    assert await mine(mentor) == both
    assert await mine(manager) == set()
    done = await mentor.patch(
        f"/api/v1/incubator/action-items/{world.ids['action_item']}", json={"done": True}
    )
    assert done.status_code == 200
    assert done.json()["done_at"] is not None
    assert done.json()["done_by"] == world.users["mentor"]
    assert await mine(founder) == {added["id"]}
    assert await mine(mentor) == {added["id"]}
    before = await AuditEntry.count()
    again = await mentor.patch(
        f"/api/v1/incubator/action-items/{world.ids['action_item']}", json={"done": True}
    )
    assert again.status_code == 200
    assert await AuditEntry.count() == before
    reopened = await founder.patch(
        f"/api/v1/incubator/action-items/{world.ids['action_item']}", json={"done": False}
    )
    assert reopened.json()["done_at"] is None
    assert await mine(mentor) == both
    listed = (await manager.get(items)).json()  # managers read them
    assert {i["id"] for i in listed} == both
    assert all(i["done_at"] is None for i in listed)
    refused = await manager.patch(f"/api/v1/incubator/action-items/{added['id']}", json={"done": True})
    assert refused.status_code == 403


async def test_the_pages_log_a_meeting_and_keep_action_items(make_client):
    world = await build_world()
    mentor = await _client(make_client, world, "mentor")
    tab = f"/incubator/startups/{world.ids['startup']}/meetings"
    page = await mentor.get(tab)
    assert page.status_code == 200
    assert "Log a meeting" in page.text
    assert '<td data-label="Left (minutes)">540</td>' in page.text  # the one-to-one budget's
    form = {
        "held_at": "2026-11-20T15:00",
        "minutes": "45",
        "topics": "pricing, Ozon",
        "attendees": str(world.users["founder"]),
        "guests": "An investor",
        "shared_notes": "Shared words",
        "private_notes": NEW_PRIVATE,
        "item_0_title": "Send the contract",
        "item_0_side": "founders",
        "item_0_owner": str(world.users["founder"]),
        "item_0_due": "2026-12-01",
        "item_1_title": "",
        "item_1_side": "mentor",
    }
    refused = await mentor.post(
        tab, data={**form, "minutes": "600", "item_0_owner": str(world.users["mentor"])}
    )
    assert refused.status_code == 422  # the owner is checked before the budget
    assert 'id="meeting-item_0_owner-error"' in refused.text
    over = await mentor.post(tab, data={**form, "minutes": "600"})
    assert over.status_code == 409
    assert "540 minutes" in over.text
    assert NEW_PRIVATE in over.text  # the author's own typing comes back to them
    logged = await mentor.post(tab, data=form)
    assert logged.status_code == 303
    assert await _used(world) == 105
    meeting = await Meeting.select(Meeting.id, Meeting.topics).order_by(Meeting.id, ascending=False).first()
    assert meeting["topics"] in (["pricing", "Ozon"], '["pricing", "Ozon"]')
    founder = await _client(make_client, world, "founder")
    shown = await founder.get(f"/incubator/meetings/{meeting['id']}")
    assert "Shared words" in shown.text
    assert NEW_PRIVATE not in shown.text
    assert "Change the meeting" not in shown.text
    item = await ActionItem.select(ActionItem.id).where(ActionItem.meeting == meeting["id"]).first()
    marked = await founder.post(
        f"/incubator/action-items/{item['id']}", data={"done": "1", "next": "/incubator/action-items"}
    )
    assert marked.status_code == 303
    assert marked.headers["location"].startswith("/incubator/action-items?done=item-done")
    mine = await founder.get("/incubator/action-items")
    assert "Send the contract" not in mine.text
    assert "Send the Ozon price list" in mine.text
    added = await founder.post(
        f"/incubator/startups/{world.ids['startup']}/action-items",
        data={"title": "Ship samples", "side": "founders"},
    )
    assert added.status_code == 303
    own = await mentor.get(f"/incubator/meetings/{meeting['id']}")
    assert f'name="attendees" value="{world.users["founder"]}" checked' in own.text
    assert 'value="An investor"' in own.text
    edit = await mentor.post(
        f"/incubator/meetings/{meeting['id']}",
        data={
            "held_at": "2026-11-20T16:00",
            "minutes": "30",
            "topics": "pricing",
            "attendees": str(world.users["cofounder"]),
            "guests": "A buyer, A banker",
            "shared_notes": "x",
            "private_notes": "y",
        },
    )
    assert edit.status_code == 303
    assert await _used(world) == 90
    edited = await service.get_meeting(_principal(world, "mentor"), meeting["id"])
    assert [a.name for a in edited.attendees] == ["Cofounder", "A buyer", "A banker"]
    assert edited.private_notes == "y"
    deleted = await mentor.post(f"/incubator/meetings/{meeting['id']}/delete")
    assert deleted.status_code == 303
    assert await _used(world) == 60


def _principal(world: World, who: str) -> Principal:
    return Principal(world.users[who], world.email(who), who, "en", False, "session")


async def test_the_used_minutes_are_always_those_of_the_meetings_logged():
    """Random logs, edits and deletions (some too long for what is left): each is refused exactly
    when it does not fit, saying how much is left, and the budget's used minutes always equal the
    minutes of the mentor's meetings with the startup."""
    world = await build_world()
    mentor, startup = _principal(world, "mentor"), world.ids["startup"]
    rng = random.Random(2026)
    live, refusals = {world.ids["meeting"]: 60}, 0
    for _ in range(16):  # service calls outside the app: a connection each, no pool
        used = sum(live.values())
        step = rng.choice(("log", "log", "edit", "delete") if live else ("log",))
        minutes = rng.randint(1, 300)
        meeting_id = rng.choice(sorted(live)) if live else 0
        if step == "log":
            fits = used + minutes <= 600
            change = service.log_meeting(
                mentor, startup, MeetingIn(held_at=dt.datetime.now(dt.UTC), minutes=minutes)
            )
        elif step == "edit":
            fits = used - live[meeting_id] + minutes <= 600
            change = service.update_meeting(mentor, meeting_id, MeetingPatch(minutes=minutes))
        else:
            fits = True
            change = service.delete_meeting(mentor, meeting_id)
        if not fits:
            with pytest.raises(Conflict) as refused:
                await change
            assert refused.value.code == "budget_exceeded"
            assert refused.value.params["left"] == 600 - used
            refusals += 1
        elif step == "delete":
            await change
            del live[meeting_id]
        else:
            live[(await change).id] = minutes
        assert await _used(world) == sum(live.values())
    assert refusals > 0


async def test_twenty_edits_of_one_meeting_at_once_keep_the_budget_exact(make_client):
    world = await build_world()
    mentor = await _client(make_client, world, "mentor")
    url = f"/api/v1/incubator/meetings/{world.ids['meeting']}"
    answers = await asyncio.gather(*(mentor.patch(url, json={"minutes": 30 + 20 * n}) for n in range(20)))
    assert {a.status_code for a in answers} <= {200, 409}
    final = (await Meeting.select(Meeting.minutes).where(Meeting.id == world.ids["meeting"]))[0]["minutes"]
    assert await _used(world) == final


async def test_the_back_office_shows_no_private_notes():
    """Platform admins read tables in the back office: the private notes' table is not one of them."""
    tables = {v.table_class if isinstance(v, TableConfig) else v for v in admin.views()}
    assert PrivateNote not in tables
