"""The demo's tickets and check-in, loaded into a small copy of the demo (its four events and sessions,
a finalist team, a judge, two exhibitors) on PostgreSQL, which costs a second instead of the whole
``podium demo`` (every browser test's server loads that one): codes that verify offline, lists whose
rules read, devices whose printed tokens work, a morning of scans that agrees with the lists' rules
and holds one offline conflict, and a second load that changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

from backend.accounts import passwords
from backend.accounts.tables import Profile, Role, RoleGrant, User
from backend.db import fetch_all
from backend.demo.load import (
    CONTEST,
    FAIR,
    FAIR_SESSIONS,
    FORUM,
    FORUM_SESSIONS,
    TRAINING,
    TRAINING_SESSIONS,
    _event,
    _organization,
    _sessions,
)
from backend.demo.ticketing import FINAL_DAY, device_tokens, load_ticketing
from backend.events.tables import EventStatus, Stage, StageLevel, Track
from backend.teams.tables import Team, TeamMember
from judging.tables import StageEntry, StageJudge
from tests.integration.conftest import PASSWORD
from ticketing import codes, keys, rules
from ticketing.device_tokens import device_for_token

CST = ZoneInfo("Asia/Shanghai")


async def _account(email: str, name: str) -> int:
    user = User.account(email, passwords.hash_password(PASSWORD), name, "zh")
    await user.save()
    return user.id


async def _small_demo() -> tuple[dict[str, int], dict[str, int]]:
    """The demo's events and sessions, its organizer and check-in staff, two exhibitors of the fair,
    one finalist team of the contest's live final (a leader, a member, an advisor) and its judge."""
    organization = await _organization()
    events = {
        name: await _event(values, EventStatus.open, organization)
        for name, values in (("contest", CONTEST), ("forum", FORUM), ("fair", FAIR), ("training", TRAINING))
    }
    for name, values, sessions in (
        ("forum", FORUM, FORUM_SESSIONS),
        ("fair", FAIR, FAIR_SESSIONS),
        ("training", TRAINING, TRAINING_SESSIONS),
    ):
        await _sessions(events[name], values, sessions)
    ids = {
        email: await _account(email, name)
        for email, name in (
            ("organizer@podium.example", "Li Na · 李娜"),
            ("checkin@podium.example", "Zhou Kai · 周凯"),
            ("judge@podium.example", "Prof. Wang Lei · 王磊"),
            ("leader@podium.example", "Chen Yu · 陈宇"),
            ("member@podium.example", "Member"),
            ("advisor@podium.example", "Advisor"),
            ("booth01@podium.example", "Exhibitor 01"),
            ("booth02@podium.example", "Exhibitor 02"),
        )
    }
    await Profile.insert(
        Profile(user=ids["member@podium.example"], name_native="学生 001-1", name_latin="Student 001-1")
    )
    await RoleGrant.insert(
        *(
            RoleGrant(user=ids[f"booth0{i}@podium.example"], role=Role.exhibitor.value, event=events["fair"])
            for i in (1, 2)
        ),
        RoleGrant(user=ids["checkin@podium.example"], role=Role.checkin_staff.value, event=events["fair"]),
    )
    contest = events["contest"]
    track = Track(event=contest, code="CBEC-B2C")
    await track.save()
    final = Stage(event=contest, position=2, level=StageLevel.province.value)
    await final.save()
    team = Team(
        event=contest, track=track.id, name="Finalists", leader=ids["leader@podium.example"], join_code="J1"
    )
    await team.save()
    for position, (email, role) in enumerate(
        (("leader", "leader"), ("member", "member"), ("advisor", "university_advisor"))
    ):
        user = ids[f"{email}@podium.example"]
        await TeamMember.insert(
            TeamMember(
                team=team.id, event=contest, track=track.id, user=user, email=f"{email}@podium.example",
                role=role, position=position, state="confirmed", joined_via="import",
            )
        )  # fmt: skip
    await StageEntry.insert(
        StageEntry(stage=final.id, event=contest, team=team.id, track=track.id, label="A1")
    )
    await StageJudge.insert(StageJudge(stage=final.id, user=ids["judge@podium.example"]))
    return events, ids


def _json(value: object) -> object:
    """A JSON column's value (the drivers give it as text)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


async def _state() -> dict[str, object]:
    """What the demo's ticketing left: every row count and the log's shape."""
    counts = {}
    for table in (
        "ticket_type",
        "ticket",
        "checkin_list",
        "checkin_device",
        "checkin_device_list",
        "checkin",
    ):
        counts[table] = (await fetch_all(f"SELECT count(*) AS n FROM {table}"))[0]["n"]  # noqa: S608
    inside = await fetch_all("SELECT id, inside FROM checkin_list ORDER BY id")
    return counts | {"inside": [r["inside"] for r in inside]}


async def test_the_demo_tickets_lists_devices_and_morning_of_scans(make_client):
    events, ids = await _small_demo()
    await load_ticketing(events, ids)
    state = await _state()

    # Tickets per event and type, each a code of its event that verifies offline during its validity.
    tickets = await fetch_all(
        "SELECT t.*, tt.kind, tt.number, e.slug FROM ticket t JOIN ticket_type tt ON tt.id = t.ticket_type"
        " JOIN event e ON e.id = t.event"
    )
    per_type = Counter((t["slug"], t["kind"]) for t in tickets)
    assert per_type[(CONTEST["slug"], "team_member")] == 2  # the leader and the member
    assert per_type[(CONTEST["slug"], "advisor")] == 1
    assert per_type[(CONTEST["slug"], "judge")] == 1
    assert per_type[(FAIR["slug"], "visitor")] == 300
    assert per_type[(FAIR["slug"], "exhibitor_staff")] == 4  # two booths, two staff each
    assert per_type[(FORUM["slug"], "speaker")] >= 5
    assert per_type[(TRAINING["slug"], "visitor")] > 0
    public = {e: await keys.live_public_keys(e) for e in events.values()}
    for t in tickets:
        verdict = codes.check(t["code"], t["event"], public[t["event"]], t["valid_from"])
        assert verdict.reason is None, (t["slug"], t["kind"], verdict)
        assert verdict.claims.serial_hex == t["serial"]
        assert verdict.claims.type_number == t["number"]
        assert verdict.claims.kind == t["kind"]
    finalists = [t for t in tickets if t["slug"] == CONTEST["slug"] and t["kind"] != "guest"]
    assert {t["valid_from"] for t in finalists} == {FINAL_DAY}
    member = next(t for t in tickets if t["holder"] == ids["member@podium.example"])
    assert (member["holder_name"], member["holder_latin"]) == ("学生 001-1", "Student 001-1")
    organizer = next(t for t in tickets if t["holder"] == ids["organizer@podium.example"])
    assert (organizer["holder_name"], organizer["holder_latin"]) == ("李娜", "Li Na")
    # The fair's crew passes are valid from the day of the load to the fair's, so the scanner can be
    # tried today (until the fair, while a code can carry that many days).
    today = dt.datetime.now(CST).date()
    crew = [t for t in tickets if t["slug"] == FAIR["slug"] and t["kind"] == "staff"]
    assert len(crew) == 2
    crew_today = 0 <= (FAIR["ends_on"] - today).days < codes.MAX_VALID_DAYS
    start = today if crew_today else FAIR["starts_on"]
    assert {(t["valid_from"], t["valid_until"]) for t in crew} == {(start, FAIR["ends_on"])}
    checks = {codes.check(t["code"], t["event"], public[t["event"]], today).reason for t in crew}
    assert checks == {None if crew_today else "outside_time"}

    # A gate list for each event but the training, a list per session, each with rules that read.
    lists = await fetch_all("SELECT l.*, e.slug FROM checkin_list l JOIN event e ON e.id = l.event")
    sessions = len(FORUM_SESSIONS) + len(FAIR_SESSIONS) + len(TRAINING_SESSIONS)
    assert Counter(row["kind"] for row in lists) == {"gate": 3, "session": sessions}
    assert all(row["session"] is not None for row in lists if row["kind"] == "session")
    parsed = {row["id"]: rules.ListRules.from_json(_json(row["rules"])) for row in lists}

    # Every printed token is a live device of its event, on that event's lists.
    slugs = {row["slug"]: row["event"] for row in lists} | {TRAINING["slug"]: events["training"]}
    tokens = device_tokens()
    assert len({token for *_, token in tokens}) == len(tokens) == state["checkin_device"]
    for slug, _, token in tokens:
        device = await device_for_token(token)
        assert device is not None
        assert device.device.event_id == slugs[slug]
        assert device.device.lists <= {row["id"] for row in lists if row["event"] == slugs[slug]}

    # The morning's log agrees with the lists' rules: one admission per slot (the database's unique
    # index), refusals with the reasons the rules give, exits only where they are recorded, the
    # counts of who is inside, and one offline conflict at the fair.
    log = await fetch_all("SELECT * FROM checkin ORDER BY scanned_at, id")
    assert {r["event"] for r in log} == {events["contest"], events["forum"], events["fair"]}
    reasons = Counter(r["reason"] for r in log if r["status"] == "rejected")
    assert set(reasons) == {"already_checked_in", "invalid", "not_allowed", "outside_time"}
    inside: Counter[int] = Counter()
    for r in log:
        list_rules = parsed[r["checkin_list"]]
        if r["direction"] == "exit":
            assert list_rules.records_exits()
        if r["status"] == "admitted" and list_rules.records_exits():
            inside[r["checkin_list"]] += 1 if r["direction"] == "entry" else -1
        if r["status"] == "admitted" and r["direction"] == "entry" and list_rules.slot_mode() != "counted":
            local = r["scanned_at"].astimezone(CST).replace(tzinfo=None)
            assert r["slot"] == rules.slot_of(list_rules, local)
    assert [inside[row["id"]] for row in sorted(lists, key=lambda row: row["id"])] == state["inside"]
    conflicts = [r for r in log if r["conflict"]]
    assert len(conflicts) == 1
    (conflict,) = conflicts
    assert conflict["event"] == events["fair"]
    assert (conflict["status"], conflict["reason"], conflict["offline"], conflict["offline_verdict"]) == (
        "rejected", "already_checked_in", True, "admitted",
    )  # fmt: skip
    first = [
        r for r in log if r["ticket"] == conflict["ticket"] and r["checkin_list"] == conflict["checkin_list"]
    ]
    assert [(r["status"], r["offline"]) for r in first] == [("admitted", True), ("rejected", True)]
    assert first[0]["device"] != conflict["device"]
    # The fair's gate fills over the morning: admissions in at least three hours.
    fair_gate = next(row["id"] for row in lists if row["event"] == events["fair"] and row["kind"] == "gate")
    hours = {r["scanned_at"].astimezone(CST).hour for r in log if r["checkin_list"] == fair_gate}
    assert len(hours) >= 3

    await load_ticketing(events, ids)
    assert await _state() == state

    # What the attendance page shows of the fair is the log's morning, the conflict included.
    staff = await make_client("checkin@podium.example")
    response = await staff.get(f"/api/v1/events/{events['fair']}/attendance")
    assert response.status_code == 200, response.text
    attendance = response.json()
    assert attendance["totals"]["conflicts"] == 1
    gate_counts = next(row for row in attendance["lists"] if row["id"] == fair_gate)
    admitted = [r for r in log if r["checkin_list"] == fair_gate and r["status"] == "admitted"]
    assert gate_counts["entries"] == len(admitted) > 0
    assert len({h["hour"] for h in attendance["hours"] if h["list"] == fair_gate}) >= 3

    # The North gate's printed token scans at the fair's gate today: a crew pass gets in once, then is
    # refused with where and when; a visitor's ticket is for the fair's day.
    north = next(token for slug, name, token in tokens if slug == FAIR["slug"] and "North" in name)
    scanner = await make_client()
    scanner.headers["Authorization"] = f"Bearer {north}"

    async def scan(code: str, nonce: str) -> dict[str, object]:
        answer = await scanner.post(
            "/api/v1/checkin/scan", json={"code": code, "list": fair_gate, "nonce": nonce}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = await scan(crew[0]["code"], "try-1")
    again = await scan(crew[0]["code"], "try-2")
    if crew_today:
        assert (first["status"], first["reason"]) == ("admitted", None)
        assert first["ticket"]["holder"] == crew[0]["holder_name"]
        assert (again["status"], again["reason"]) == ("rejected", "already_checked_in")
        assert again["previous"]["gate"] == "北门 · North gate"
    else:  # the fair is over (or more than 255 days away): the demo's dates are what they are
        assert first["reason"] == again["reason"] == "outside_time"
    visitor = next(t for t in tickets if t["slug"] == FAIR["slug"] and t["kind"] == "visitor")
    if today != FAIR["starts_on"]:
        assert (await scan(visitor["code"], "try-3"))["reason"] == "outside_time"
