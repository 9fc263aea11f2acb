"""Events, their life cycle, contest structure and sessions, with the guards around them."""

from __future__ import annotations

import asyncio
import datetime as dt

from backend.accounts.tables import Role
from backend.audit import AuditEntry
from backend.events.tables import Event, Stage, Track

CONTEST = {
    "organization_id": 1,
    "kind": "contest",
    "slug": "cbec-challenge-2027",
    "starts_on": "2027-03-01",
    "ends_on": "2027-07-25",
    "name_zh": "跨境电商挑战赛",
    "name_en": "Cross-Border E-Commerce Challenge",
    "venue_zh": "杭州",
    "venue_en": "Hangzhou",
    "description_ru": "Конкурс студенческих проектов",
}
EVENT_OUT = {
    "organization_id": 1,
    "kind": "contest",
    "slug": "cbec-challenge-2027",
    "status": "draft",
    "starts_on": "2027-03-01",
    "ends_on": "2027-07-25",
    "name_zh": "跨境电商挑战赛",
    "name_en": "Cross-Border E-Commerce Challenge",
    "name_ru": "",
    "edition_zh": "",
    "edition_en": "",
    "edition_ru": "",
    "venue_zh": "杭州",
    "venue_en": "Hangzhou",
    "venue_ru": "",
    "description_zh": "",
    "description_en": "",
    "description_ru": "Конкурс студенческих проектов",
    "time_zone": "Asia/Shanghai",
}
TRACK = {"code": "B2C", "name_en": "Cross-border retail", "team_min": 3, "team_max": 5}


async def test_platform_admin_creates_a_draft_event_with_an_audit_entry(make_client, admin):
    client = await make_client("admin@example.org")
    response = await client.post("/api/v1/events", json=CONTEST)
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], **EVENT_OUT}
    entry = (
        await AuditEntry.select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.event_id)
        .where(AuditEntry.action == "event.create")
        .first()
    )
    assert entry == {"actor_id": admin, "action": "event.create", "event_id": body["id"]}


async def test_only_the_organizations_admins_create_its_events(
    make_client, make_user, make_organization, organizer
):
    """An event organizer of the organization, or an admin of another one, cannot create events in it;
    its admin can, and an unknown organization is named as the field at fault."""
    alliance, elsewhere = await make_organization("alliance"), await make_organization("elsewhere")
    await make_user("orgadmin@example.org")
    await make_user("stranger@example.org")
    from backend.accounts.tables import RoleGrant, User

    ids = {r["email"]: r["id"] for r in await User.select(User.id, User.email)}
    await RoleGrant.insert(
        RoleGrant(user=ids["orgadmin@example.org"], role="org_admin", organization=alliance),
        RoleGrant(user=ids["stranger@example.org"], role="org_admin", organization=elsewhere),
    )
    for email in ("organizer@example.org", "stranger@example.org"):
        client = await make_client(email)
        response = await client.post(
            "/api/v1/events", json={**CONTEST, "organization_id": alliance, "slug": "other"}
        )
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), email
    assert await Event.count() == 1
    client = await make_client("orgadmin@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    unknown = await client.post("/api/v1/events", json={**CONTEST, "organization_id": 999, "slug": "x1"})
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["fields"]) == (
        400,
        "unknown_organization",
        {"organization_id": "unknown"},
    )
    created = await client.post(
        "/api/v1/events", json={**CONTEST, "organization_id": alliance, "slug": "ours"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["organization_id"] == alliance
    # the organization's admin runs it and sees the draft without any event-level grant
    assert (await client.post(f"/api/v1/events/{created.json()['id']}/open")).status_code in (200, 400)
    assert (await client.get(f"/api/v1/events/{created.json()['id']}")).status_code == 200


async def test_event_input_is_checked_field_by_field(make_client, admin):
    client = await make_client("admin@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    cases = [
        ({**CONTEST, "ends_on": "2027-02-01"}, "invalid_dates", "ends_on"),
        ({**CONTEST, "time_zone": "Mars/Olympus"}, "invalid_time_zone", "time_zone"),
        ({**CONTEST, "name_zh": "", "name_en": ""}, "name_required", "name_en"),
        ({**CONTEST, "slug": "Not A Slug"}, "validation_error", "slug"),
        ({**CONTEST, "kind": "party"}, "validation_error", "kind"),
        ({**CONTEST, "surprise": 1}, "validation_error", "surprise"),
    ]
    for payload, code, field in cases:
        response = await client.post("/api/v1/events", json=payload)
        assert response.status_code == 400, payload
        body = response.json()
        assert body["code"] == code, body
        assert any(field in key for key in body["fields"]), body
    assert await Event.count() == 0
    await client.post("/api/v1/events", json=CONTEST)
    taken = await client.post("/api/v1/events", json=CONTEST)
    assert (taken.status_code, taken.json()["code"], taken.json()["fields"]) == (
        409,
        "slug_taken",
        {"slug": "taken"},
    )


async def test_drafts_are_visible_only_to_their_organizers(make_client, organizer, make_user, make_event):
    _, draft = organizer
    public = await make_event(slug="open-forum", kind="forum", status="open")
    await make_user("stranger@example.org")
    anonymous = await make_client()
    stranger = await make_client("stranger@example.org")
    owner = await make_client("organizer@example.org")
    for client in (anonymous, stranger):
        assert (await client.get(f"/api/v1/events/{draft}")).status_code == 404
        listed = (await client.get("/api/v1/events")).json()
        assert [e["id"] for e in listed["items"]] == [public]
        assert listed["total"] == 1
    assert (await owner.get(f"/api/v1/events/{draft}")).json()["status"] == "draft"
    assert {e["id"] for e in (await owner.get("/api/v1/events")).json()["items"]} == {draft, public}


async def test_organizer_of_one_event_cannot_touch_another(make_client, organizer, make_event):
    other = await make_event(slug="someone-elses")
    client = await make_client("organizer@example.org")
    calls = [
        ("PATCH", f"/api/v1/events/{other}", {"venue_en": "Moscow"}),
        ("POST", f"/api/v1/events/{other}/tracks", TRACK),
        ("POST", f"/api/v1/events/{other}/open", None),
        ("GET", f"/api/v1/events/{other}/roles", None),
    ]
    for method, url, payload in calls:  # a draft of someone else's does not exist for this organizer
        response = await client.request(method, url, json=payload)
        assert response.status_code == 404, (method, url)
    await Event.update({Event.status: "open"}).where(Event.id == other)
    for method, url, payload in calls[:2] + calls[3:]:  # once published it is seen, but not theirs
        response = await client.request(method, url, json=payload)
        assert response.status_code == 403, (method, url)
    assert await Track.count() == 0
    assert (await Event.select(Event.venue_en).where(Event.id == other).first())["venue_en"] == ""


async def test_a_judge_is_not_an_organizer(make_client, make_user, make_event, grant):
    event = await make_event()
    judge = await make_user("judge@example.org")
    await grant(judge, Role.judge, event)
    client = await make_client("judge@example.org")
    assert (await client.post(f"/api/v1/events/{event}/tracks", json=TRACK)).status_code == 404  # a draft
    await Event.update({Event.status: "open"}).where(Event.id == event)
    assert (await client.post(f"/api/v1/events/{event}/tracks", json=TRACK)).status_code == 403


async def test_life_cycle_moves_forward_only(make_client, organizer, admin):
    _, event = organizer
    client = await make_client("organizer@example.org")
    premature = await client.post(f"/api/v1/events/{event}/open")
    assert (premature.status_code, premature.json()["code"]) == (400, "incomplete_structure")
    await client.post(f"/api/v1/events/{event}/tracks", json=TRACK)
    await client.post(f"/api/v1/events/{event}/stages", json={"level": "school"})
    statuses = []
    for action in ("open", "start", "close"):
        response = await client.post(f"/api/v1/events/{event}/{action}")
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
    assert statuses == ["open", "running", "closed"]
    again = await client.post(f"/api/v1/events/{event}/start")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert (await client.post(f"/api/v1/events/{event}/archive")).status_code == 403
    locked = await client.patch(f"/api/v1/events/{event}", json={"venue_en": "elsewhere"})
    assert (locked.status_code, locked.json()["code"]) == (409, "event_locked")
    admin_client = await make_client("admin@example.org")
    assert (await admin_client.post(f"/api/v1/events/{event}/archive")).json()["status"] == "archived"
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.event_id == event)
        .order_by(AuditEntry.id)
    ]
    assert actions == [
        "track.create",
        "stage.create",
        "event.open",
        "event.running",
        "event.closed",
        "event.archived",
    ]


async def test_concurrent_transitions_move_the_event_once(make_client, organizer):
    _, event = organizer
    await Track.insert(Track(event=event, code="A"))
    await Stage.insert(Stage(event=event, position=1, level="school"))
    clients = [await make_client("organizer@example.org") for _ in range(8)]
    responses = await asyncio.gather(*(c.post(f"/api/v1/events/{event}/open") for c in clients))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    assert await AuditEntry.count().where(AuditEntry.action == "event.open") == 1


async def test_tracks_are_validated_and_unique_per_event(make_client, organizer):
    _, event = organizer
    client = await make_client("organizer@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    created = await client.post(f"/api/v1/events/{event}/tracks", json=TRACK)
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "event_id": event,
        "code": "B2C",
        "name_zh": "",
        "name_en": "Cross-border retail",
        "name_ru": "",
        "description_zh": "",
        "description_en": "",
        "description_ru": "",
        "team_min": 3,
        "team_max": 5,
        "university_advisors_max": 2,
        "enterprise_advisors_max": 2,
        "entries_per_advisor_max": 4,
    }
    dup = await client.post(f"/api/v1/events/{event}/tracks", json=TRACK)
    assert (dup.status_code, dup.json()["code"]) == (409, "track_code_taken")
    bad = await client.post(f"/api/v1/events/{event}/tracks", json={**TRACK, "code": "X", "team_min": 6})
    assert (bad.status_code, bad.json()["fields"]) == (400, {"team_min": "above team_max"})
    track_id = created.json()["id"]
    updated = await client.put(f"/api/v1/events/{event}/tracks/{track_id}", json={**TRACK, "team_max": 4})
    assert updated.json()["team_max"] == 4
    assert (await client.get(f"/api/v1/events/{event}/tracks")).json()[0]["team_max"] == 4
    assert (await client.delete(f"/api/v1/events/{event}/tracks/{track_id}")).status_code == 204
    assert (await client.delete(f"/api/v1/events/{event}/tracks/{track_id}")).status_code == 404


async def test_stages_follow_the_funnel_and_their_deadlines(make_client, organizer):
    _, event = organizer
    client = await make_client("organizer@example.org")
    school = {
        "level": "school",
        "submission_deadline": "2027-03-31T18:00:00+08:00",
        "judging_deadline": "2027-04-10T18:00:00+08:00",
    }
    national = {"level": "national", "submission_deadline": "2027-07-10T18:00:00+08:00"}
    assert (await client.post(f"/api/v1/events/{event}/stages", json=school)).json()["position"] == 1
    assert (await client.post(f"/api/v1/events/{event}/stages", json=national)).json()["position"] == 2
    backwards = await client.post(f"/api/v1/events/{event}/stages", json={"level": "province"})
    assert (backwards.status_code, backwards.json()["code"]) == (400, "invalid_stage_order")
    early = await client.post(
        f"/api/v1/events/{event}/stages",
        json={"level": "final", "submission_deadline": "2027-07-01T00:00:00+08:00"},
    )
    assert early.json()["code"] == "invalid_deadlines"
    naive = await client.post(
        f"/api/v1/events/{event}/stages",
        json={"level": "final", "submission_deadline": "2027-08-01T00:00:00"},
    )
    assert naive.json()["code"] == "naive_datetime"
    stages = (await client.get(f"/api/v1/events/{event}/stages")).json()
    assert [(s["position"], s["level"]) for s in stages] == [(1, "school"), (2, "national")]
    await client.delete(f"/api/v1/events/{event}/stages/{stages[0]['id']}")
    assert [
        (s["position"], s["level"]) for s in (await client.get(f"/api/v1/events/{event}/stages")).json()
    ] == [(1, "national")]


async def test_sessions_belong_to_forums_within_their_dates(make_client, make_user, make_event, grant):
    user = await make_user("host@example.org")
    forum = await make_event(
        slug="forum", kind="forum", starts_on=dt.date(2027, 8, 24), ends_on=dt.date(2027, 8, 25)
    )
    contest = await make_event(slug="contest")
    await grant(user, Role.organizer, forum)
    await grant(user, Role.organizer, contest)
    client = await make_client("host@example.org")
    session = {
        "title_en": "Opening",
        "room": "Hall A",
        "capacity": 600,
        "starts_at": "2027-08-24T09:00:00+08:00",
        "ends_at": "2027-08-24T10:30:00+08:00",
    }
    created = await client.post(f"/api/v1/events/{forum}/sessions", json=session)
    assert created.status_code == 201
    assert created.json()["capacity"] == 600
    late = await client.post(
        f"/api/v1/events/{forum}/sessions",
        json={**session, "starts_at": "2027-08-26T09:00:00+08:00", "ends_at": "2027-08-26T10:00:00+08:00"},
    )
    assert late.json()["code"] == "outside_event_dates"
    # 23:30 UTC on the 23rd is 07:30 on the 24th in Shanghai: inside the event.
    utc = await client.post(
        f"/api/v1/events/{forum}/sessions",
        json={**session, "starts_at": "2027-08-23T23:30:00Z", "ends_at": "2027-08-24T00:30:00Z"},
    )
    assert utc.status_code == 201
    reversed_ = await client.post(
        f"/api/v1/events/{forum}/sessions", json={**session, "ends_at": "2027-08-24T08:00:00+08:00"}
    )
    assert reversed_.json()["code"] == "invalid_times"
    wrong = await client.post(f"/api/v1/events/{contest}/sessions", json=session)
    assert (wrong.status_code, wrong.json()["code"]) == (409, "wrong_event_kind")
    no_tracks = await client.post(f"/api/v1/events/{forum}/tracks", json=TRACK)
    assert no_tracks.json()["code"] == "wrong_event_kind"
    listed = (await client.get(f"/api/v1/events/{forum}/sessions")).json()
    assert [s["title_en"] for s in listed] == ["Opening", "Opening"]
