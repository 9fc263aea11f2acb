"""Check-in lists and scanning devices (ticketing.lists) on PostgreSQL: the API with its field-level
refusals, who may do what and the ways around it, races settled by the database (20 concurrent
creates of one name, 20 concurrent "a list per session"), the rules' counting mode frozen once a list
has admissions, devices whose revocation is refused at once, the workspace pages' forms and the
``podium devices`` / ``podium checkin`` commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from backend.accounts.tables import ApiToken, Role, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from backend.cli import build_parser
from backend.events.tables import Event, EventSession
from tests.integration.ticketing_world import DEVICE_TOKEN, build_world
from ticketing.commands import checkin as checkin_commands
from ticketing.device_tokens import device_for_token
from ticketing.tables import Checkin, CheckinList, Device, DeviceList

ZONE = ZoneInfo("Asia/Shanghai")
RULES = {
    "types": [1],
    "windows": [{"opens": "2027-09-01T09:00", "closes": "2027-09-01T12:00"}],
    "entries_total": None,
    "entries_per_day": 2,
    "reentry_after_exit": True,
    "capacity": 40,
}


async def _as(make_client, user_id: int):
    """A client with a bearer token of the user's (no password to hash per client)."""
    token = f"pdm_lists_{user_id}"
    await ApiToken(user=user_id, name="test", token_hash=token_digest(token)).save()
    client = await make_client()
    client.headers["authorization"] = f"Bearer {token}"
    return client


async def _clients(make_client, world):
    return await _as(make_client, world.organizer), await _as(make_client, world.staff)


async def _other_event(world) -> dict[str, int]:
    """A second event of the world's organization with its own organizer, gate list and device."""
    event = Event(
        organization=world.organization,
        slug="elsewhere-2027",
        kind="fair",
        status="running",
        name_en="Elsewhere",
        starts_on=dt.date(2027, 9, 1),
        ends_on=dt.date(2027, 9, 3),
        time_zone="Asia/Shanghai",
    )
    await event.save()
    organizer = User.account("organizer@elsewhere.example", "!", "Elsewhere", "en")
    await organizer.save()
    await RoleGrant(user=organizer.id, role=Role.organizer.value, event=event.id).save()
    gate = CheckinList(event=event.id, name="gate", kind="gate", rules={})
    await gate.save()
    device = Device(event=event.id, name="Theirs", token_hash=token_digest("pdv_elsewhere"))
    await device.save()
    await DeviceList(device=device.id, checkin_list=gate.id).save()
    return {"event": event.id, "organizer": organizer.id, "gate": gate.id, "device": device.id}


async def test_lists_are_made_read_and_changed_with_their_rules(make_client, db):
    world = await build_world()
    organizer, staff = await _clients(make_client, world)
    base = f"/api/v1/events/{world.event}/checkin/lists"

    made = await organizer.post(
        base, json={"name": " Hall B ", "kind": "session", "rules": RULES, "position": 2}
    )
    assert made.status_code == 201, made.text
    hall = made.json()
    assert (hall["name"], hall["kind"], hall["mode"], hall["inside"]) == ("Hall B", "session", "counted", 0)
    assert hall["rules"] == {**RULES, "after_list": None}
    listed = (await staff.get(base)).json()  # check-in staff read the lists
    assert [x["name"] for x in listed] == ["gate", "hall", "Hall B"]
    assert [x["devices"] for x in listed] == [1, 1, 0]
    assert [x["mode"] for x in listed] == ["once", "counted", "counted"]

    venue = world.lists["gate"]
    changed = await organizer.patch(
        f"/api/v1/checkin/lists/{hall['id']}", json={"rules": {"after_list": venue}, "position": 5}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rules"]["after_list"] == venue
    assert changed.json()["rules"]["entries_total"] == 1  # replaced as a whole: the defaults again
    assert changed.json()["mode"] == "counted"
    row = await CheckinList.select(CheckinList.rules).where(CheckinList.id == hall["id"]).first()
    stored = json.loads(row["rules"]) if isinstance(row["rules"], str) else row["rules"]
    assert stored == changed.json()["rules"]  # every key stored, as the scan path reads it

    archived = await organizer.post(f"/api/v1/checkin/lists/{hall['id']}/archive")
    assert archived.json()["archived_at"] is not None
    again = await organizer.post(f"/api/v1/checkin/lists/{hall['id']}/archive")
    assert (again.status_code, again.json()["code"]) == (409, "list_archived")
    restored = await organizer.post(f"/api/v1/checkin/lists/{hall['id']}/restore")
    assert restored.json()["archived_at"] is None
    kinds = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.action.like("ticketing.list%"))
        .order_by(AuditEntry.id)
    ]
    assert kinds == [
        "ticketing.list_created",
        "ticketing.list_changed",
        "ticketing.list_archived",
        "ticketing.list_restored",
    ]


async def test_bad_rules_are_refused_naming_each_field(make_client, db):
    world = await build_world()
    other = await _other_event(world)
    organizer, _ = await _clients(make_client, world)
    base = f"/api/v1/events/{world.event}/checkin/lists"
    before = await CheckinList.count()

    response = await organizer.post(
        base,
        json={
            "name": "Bad",
            "rules": {
                "types": [1, 7],
                "windows": [
                    {"opens": "2027-09-01T12:00", "closes": "2027-09-01T09:00"},
                    {"opens": "2027-09-01 09:00", "closes": "2027-09-01T10:00"},
                ],
            },
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["fields"] == {
        "rules.windows[0].closes": "must be after opens",
        "rules.windows[1].opens": "must be a local date and time such as 2027-09-01T09:00",
    }
    wrong_refs = await organizer.post(
        base, json={"name": "Bad", "rules": {"types": [1, 7], "after_list": other["gate"]}}
    )
    assert wrong_refs.json()["fields"] == {
        "rules.types[1]": "is not a ticket type number of this event",
        "rules.after_list": "must be another check-in list of this event",
    }
    typed = await organizer.post(
        base, json={"name": "", "kind": "bar", "rules": {"capacity": 0, "types": "1"}}
    )
    assert typed.status_code == 400
    assert set(typed.json()["fields"]) == {"name", "kind", "rules.capacity", "rules.types"}
    session = await organizer.post(base, json={"name": "S", "session_id": 999_999})
    assert session.json()["fields"] == {"session_id": "is not a session of this event"}
    taken = await organizer.post(base, json={"name": "gate"})
    assert (taken.status_code, taken.json()["code"], taken.json()["fields"]) == (
        409,
        "list_name_taken",
        {"name": "taken"},
    )
    itself = await organizer.patch(
        f"/api/v1/checkin/lists/{world.lists['gate']}", json={"rules": {"after_list": world.lists["gate"]}}
    )
    assert itself.json()["fields"] == {"rules.after_list": "must be another check-in list of this event"}
    assert await CheckinList.count() == before


async def test_who_may_do_what_and_no_way_around_it(make_client, db):
    world = await build_world()
    other = await _other_event(world)  # its own organizer, list and device
    organizer, staff = await _clients(make_client, world)
    outsider = await _as(make_client, world.outsider)
    foreign = await _as(make_client, other["organizer"])
    device = await make_client()
    device.headers["authorization"] = f"Bearer {DEVICE_TOKEN}"
    base = f"/api/v1/events/{world.event}/checkin"
    gate = world.lists["gate"]
    audits = await AuditEntry.count()

    assert (await staff.post(f"{base}/lists", json={"name": "Mine"})).status_code == 403
    assert (await staff.patch(f"/api/v1/checkin/lists/{gate}", json={"name": "Mine"})).status_code == 403
    assert (await staff.get(f"{base}/devices")).status_code == 403
    assert (await outsider.get(f"{base}/lists")).status_code == 403
    # Another event's organizer reaches this event's objects by id: refused, nothing changes.
    assert (await foreign.patch(f"/api/v1/checkin/lists/{gate}", json={"name": "Mine"})).status_code == 403
    assert (await foreign.post(f"/api/v1/checkin/devices/{world.device}/revoke")).status_code == 403
    assert (await foreign.post(f"{base}/devices", json={"name": "X", "lists": [gate]})).status_code == 403
    # ... and cannot give their own device this event's list.
    theirs = await foreign.patch(f"/api/v1/checkin/devices/{other['device']}", json={"lists": [gate]})
    assert theirs.json()["fields"] == {"lists[0]": "is not an open check-in list of this event"}
    # A device's token reaches none of this (it is not a person's token).
    for method, url in (("GET", f"{base}/lists"), ("POST", f"/api/v1/checkin/devices/{world.device}/revoke")):
        refused = await device.request(method, url)
        assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    # The pages: a list of another event under this event's path is not found.
    page = await organizer.post(
        f"/workspace/events/{world.event}/ticketing/lists/{other['gate']}/archive",
        headers={"accept": "text/html"},
    )
    assert page.status_code == 404
    assert await AuditEntry.count() == audits
    assert (await CheckinList.select(CheckinList.name).where(CheckinList.id == gate).first())[
        "name"
    ] == "gate"


async def test_twenty_concurrent_creates_of_one_name_make_one_list(make_client, db):
    world = await build_world()
    organizer, _ = await _clients(make_client, world)
    url = f"/api/v1/events/{world.event}/checkin/lists"
    answers = await asyncio.gather(*(organizer.post(url, json={"name": "Meals"}) for _ in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 19
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"list_name_taken"}
    assert await CheckinList.count().where(CheckinList.name == "Meals") == 1


async def test_a_list_per_session_once_even_when_asked_twenty_times_at_once(make_client, db):
    world = await build_world(kind="forum")
    sessions = [
        EventSession(
            event=world.event,
            title_en=title,
            title_zh="开幕" if title == "Opening" else "",
            room="A1",
            starts_at=dt.datetime(2027, 9, 1, hour, tzinfo=ZONE),
            ends_at=dt.datetime(2027, 9, 1, hour + 1, tzinfo=ZONE),
            capacity=capacity,
        )
        for title, hour, capacity in (("Opening", 9, 120), ("Panel", 11, 0), ("gate", 14, 0))
    ]
    for s in sessions:
        await s.save()
    organizer, _ = await _clients(make_client, world)
    url = f"/api/v1/events/{world.event}/checkin/session-lists"
    answers = await asyncio.gather(*(organizer.post(url) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    created = [x for a in answers for x in a.json()["created"]]
    assert sorted(x["session_id"] for x in created) == sorted(s.id for s in sessions)
    by_session = {x["session_id"]: x for x in created}
    opening = by_session[sessions[0].id]
    assert (opening["name"], opening["kind"], opening["session"], opening["mode"]) == (
        "Opening",
        "session",
        "Opening",
        "counted",
    )
    assert opening["rules"]["capacity"] == 120
    assert opening["rules"]["reentry_after_exit"] is True
    assert opening["rules"]["windows"] == [{"opens": "2027-09-01T08:30", "closes": "2027-09-01T10:00"}]
    panel = by_session[sessions[1].id]
    assert (panel["mode"], panel["rules"]["capacity"]) == ("once", None)
    assert by_session[sessions[2].id]["name"] == "gate (2)"  # the gate list has the session's title
    assert await CheckinList.count().where(CheckinList.session.is_not_null()) == 3
    assert await AuditEntry.count().where(AuditEntry.action == "ticketing.session_lists_created") == 1


async def test_a_list_with_admissions_keeps_its_way_of_counting(make_client, db):
    world = await build_world()
    organizer, _ = await _clients(make_client, world)
    gate = world.lists["gate"]
    url = f"/api/v1/checkin/lists/{gate}"
    daily = {"rules": {"entries_total": None, "entries_per_day": 1}}
    # Before any admission the list may switch to once a day, and back.
    assert (await organizer.patch(url, json=daily)).json()["mode"] == "daily"
    assert (await organizer.patch(url, json={"rules": {}})).json()["mode"] == "once"
    await Checkin(
        checkin_list=gate,
        event=world.event,
        ticket=world.tickets[0],
        status="admitted",
        slot=0,
        actor="u1",
        nonce="n1",
    ).save()
    refused = await organizer.patch(url, json=daily)
    assert (refused.status_code, refused.json()["code"]) == (409, "list_mode_locked")
    assert (await organizer.patch(url, json={"rules": {"capacity": 500, "reentry_after_exit": True}})).json()[
        "mode"
    ] == "counted"
    assert (await organizer.patch(url, json={"rules": {"types": [1]}})).json()["mode"] == "once"


async def test_devices_get_a_token_once_and_a_revoked_one_is_refused_at_once(make_client, db):
    world = await build_world()
    organizer, _ = await _clients(make_client, world)
    base = f"/api/v1/events/{world.event}/checkin/devices"
    made = await organizer.post(
        base,
        json={
            "name": "Phone 7",
            "gate": " North gate ",
            "lists": [world.lists["hall"], world.lists["gate"], world.lists["hall"]],
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    token = body["token"]
    assert re.fullmatch(r"pdv_[A-Za-z0-9_-]{43}", token)
    assert body["enrol_url"] == f"http://127.0.0.1:8000/scan#device={token}" or body["enrol_url"].endswith(
        f"/scan#device={token}"
    )
    assert body["qr_svg"].startswith("<?xml") or "<svg" in body["qr_svg"]
    device = body["device"]
    assert (device["name"], device["gate"]) == ("Phone 7", "North gate")
    assert sorted(x["id"] for x in device["lists"]) == sorted([world.lists["hall"], world.lists["gate"]])
    stored = await Device.select().where(Device.id == device["id"]).first()
    assert stored["token_hash"] == token_digest(token)  # only the digest is kept
    assert token not in str(await AuditEntry.select(AuditEntry.data))
    listed = (await organizer.get(base)).json()
    assert [d["name"] for d in listed] == ["Phone 7", "Scanner 1"]
    assert "token" not in listed[0]

    cache = make_client.app.state.get("principals")
    principal = await device_for_token(token, cache)
    assert principal is not None
    assert principal.device.gate == "North gate"
    scanner = await make_client()
    scanner.headers["authorization"] = f"Bearer {token}"
    bundle_url = f"/api/v1/checkin/lists/{world.lists['gate']}/offline"
    assert (await scanner.get(bundle_url)).status_code == 200
    assert await device_for_token(token, cache) is not None  # cached now

    moved = await organizer.patch(
        f"/api/v1/checkin/devices/{device['id']}", json={"lists": [world.lists["hall"]], "gate": "Hall door"}
    )
    assert [x["id"] for x in moved.json()["lists"]] == [world.lists["hall"]]
    assert (await scanner.get(bundle_url)).status_code == 404  # no longer its list, at once
    revoked = await organizer.post(f"/api/v1/checkin/devices/{device['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert (await scanner.get(f"/api/v1/checkin/lists/{world.lists['hall']}/offline")).status_code == 401
    twice = await organizer.post(f"/api/v1/checkin/devices/{device['id']}/revoke")
    assert (twice.status_code, twice.json()["code"]) == (409, "device_revoked")
    late = await organizer.patch(f"/api/v1/checkin/devices/{device['id']}", json={"name": "Back"})
    assert late.json()["code"] == "device_revoked"
    bad = await organizer.post(base, json={"name": "X", "lists": [world.lists["gate"], 999_999]})
    assert bad.json()["fields"] == {"lists[1]": "is not an open check-in list of this event"}
    await organizer.post(f"/api/v1/checkin/lists/{world.lists['hall']}/archive")
    archived = await organizer.post(base, json={"name": "X", "lists": [world.lists["hall"]]})
    assert archived.json()["fields"] == {"lists[0]": "is not an open check-in list of this event"}
    assert await DeviceList.count().where(DeviceList.device == device["id"]) == 1


async def test_the_pages_make_lists_and_devices_from_their_forms(make_client, db):
    world = await build_world()
    organizer = await make_client(world.email(world.organizer))
    html = {"accept": "text/html"}
    page = f"/workspace/events/{world.event}/ticketing/lists"
    shown = await organizer.get(page, headers=html)
    assert shown.status_code == 200
    assert "hall" in shown.text
    assert "Capacity 100" in shown.text
    csrf = organizer.cookies.get("podium_csrf")
    form = {
        "_csrf_token": csrf,
        "name": "Lunch",
        "kind": "meal",
        "types": ["1", "2"],
        "opens_1": "2027-09-01T11:30",
        "closes_1": "2027-09-01T13:30",
        "entries_total": "",
        "entries_per_day": "1",
        "after_list": str(world.lists["gate"]),
        "position": "3",
    }
    made = await organizer.post(page, data=form, headers=html)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == f"{page}?done=list-added"
    lunch = await CheckinList.select().where(CheckinList.name == "Lunch").first()
    assert lunch["kind"] == "meal"
    listed = (await organizer.get(f"/api/v1/checkin/lists/{lunch['id']}")).json()
    assert listed["rules"] == {
        "types": [1, 2],
        "windows": [{"opens": "2027-09-01T11:30", "closes": "2027-09-01T13:30"}],
        "entries_total": None,
        "entries_per_day": 1,
        "reentry_after_exit": False,
        "capacity": None,
        "after_list": world.lists["gate"],
    }
    # A refused form: the page again, the values kept, the message next to the input of row 2.
    bad = {
        **form,
        "name": "Dinner",
        "opens_1": "2027-09-01T19:00",
        "closes_1": "2027-09-01T18:00",
        "capacity": "0",
    }
    refused = await organizer.post(page, data=bad, headers=html)
    assert refused.status_code in (400, 422)
    text = refused.text
    assert 'id="list-new-closes_1-error"' in text
    assert 'id="list-new-capacity-error"' in text
    assert 'value="Dinner"' in text
    assert await CheckinList.count().where(CheckinList.name == "Dinner") == 0
    saved = await organizer.post(
        f"{page}/{lunch['id']}", data={**form, "name": "Lunch hall", "types": ["2"]}, headers=html
    )
    assert saved.status_code == 303
    assert (await organizer.get(f"/api/v1/checkin/lists/{lunch['id']}")).json()["rules"]["types"] == [2]

    devices = f"/workspace/events/{world.event}/ticketing/devices"
    created = await organizer.post(
        devices,
        data={"_csrf_token": csrf, "name": "Tablet", "gate": "Gate 9", "lists": [str(lunch["id"])]},
        headers=html,
    )
    assert created.status_code == 200
    token = re.search(r'id="device-token">(pdv_[^<]+)<', created.text).group(1)
    assert f"/scan#device={token}" in created.text
    assert "<svg" in created.text
    device = await Device.select().where(Device.token_hash == token_digest(token)).first()
    assert token not in (await organizer.get(devices, headers=html)).text  # shown once
    gone = await organizer.post(f"{devices}/{device['id']}/revoke", data={"_csrf_token": csrf}, headers=html)
    assert gone.status_code == 303
    assert await device_for_token(token) is None
    no_lists = await organizer.post(devices, data={"_csrf_token": csrf, "name": "Empty"}, headers=html)
    assert no_lists.status_code == 400
    assert 'id="device-new-lists-error"' in no_lists.text


async def test_the_commands_create_a_device_and_print_the_lists(db, capsys):
    world = await build_world()
    event = await Event.select(Event.slug).where(Event.id == world.event).first()
    parser = build_parser()

    async def run(*argv: str) -> tuple[int, str, str]:
        args = parser.parse_args(argv)
        assert args.handler in (checkin_commands.cmd_devices_create, checkin_commands.cmd_checkin_lists)
        command = (
            checkin_commands.devices_create if args.command == "devices" else checkin_commands.checkin_lists
        )
        code = await command(args)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await run(
        "devices",
        "create",
        "--event",
        event["slug"],
        "--list",
        "gate",
        "--list",
        str(world.lists["hall"]),
        "--gate",
        "Gate 5",
    )
    assert code == 0, err
    principal = await device_for_token(out.strip())
    assert principal is not None
    assert principal.device.lists == frozenset({world.lists["gate"], world.lists["hall"]})
    assert (principal.device.gate, principal.display_name) == ("Gate 5", "Scanner at Gate 5")
    assert "enrolment link" in err
    code, out, err = await run("checkin", "lists", str(world.event))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "KIND", "MODE"]
    assert lines[1].split()[:6] == [str(world.lists["gate"]), "gate", "gate", "once", "0", "2"]
    assert "capacity 100" in lines[2]
    assert (await run("devices", "create", "--event", "nope", "--list", "gate"))[0] == 2
    missing = await run("devices", "create", "--event", event["slug"], "--list", "nowhere")
    assert missing[0] == 2
    assert "nowhere" in missing[2]
