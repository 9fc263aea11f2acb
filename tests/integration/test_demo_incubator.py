"""The demo's incubator, loaded into a small copy of the demo contest on PostgreSQL (44 teams ranked by
a published online review, the demo's incubator people and mentors) instead of the whole ``podium
demo``: what the other areas' browser tests log in to find (the demo contract of issue 12's plan),
the reminders the reminder job would have sent recorded as sent (the job finds none to send), and a
second load that changes nothing."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

from backend.accounts import passwords
from backend.accounts.tables import Role, RoleGrant, User
from backend.db import fetch_all
from backend.demo.incubator import (
    COHORT_NAME,
    FOUNDER,
    MANAGER,
    MENTORS,
    PEOPLE,
    PROGRAMME_SLUG,
    REMINDER_DAYS,
    REVIEW_TIERS,
    STARTUPS,
    VIEWER,
    load_incubator,
    month_start,
    today,
)
from backend.demo.load import CONTEST, TRACKS, _event, _organization
from backend.events.tables import EventStatus, Stage, StageLevel, Track
from backend.settings import get_settings
from backend.teams.tables import Team, TeamMember
from incubator.reminders.service import Outcome, remind
from judging.tables import RankingRun, StageEntry, StageJudging, StageResult
from tests.integration.conftest import PASSWORD

TEAMS = 44  # four more than the prizes
INCUBATION_TABLES = [
    "incubation_programme", "incubation_programme_role", "incubation_cohort", "incubation_startup",
    "incubation_founder", "incubation_mentor", "incubation_mentor_cohort", "incubation_mentor_link",
    "incubation_office_hour", "incubation_booking", "incubation_meeting", "incubation_private_note",
    "incubation_action_item", "incubation_milestone", "incubation_support_promise",
    "incubation_support_delivery", "incubation_evidence", "incubation_report_schedule",
    "incubation_report_period", "incubation_custom_metric", "incubation_report", "incubation_report_version",
    "incubation_reminder_sent", "outbox_email", "prize_tier", "award", "audit_entry",
]  # fmt: skip


async def _small_demo() -> tuple[int, dict[str, int], list[int]]:
    """The demo contest with its online review published: team ``i`` placed ``i + 1``, each a leader
    and a confirmed member (the first team also an advisor, and a member invited who never
    answered); the organizer, the incubator's people and the mentors. Returns the contest, the
    accounts by e-mail and the teams in ranking order."""
    contest = await _event(CONTEST, EventStatus.open, await _organization())
    tracks = []
    for code, zh, en, ru in TRACKS:
        track = Track(event=contest, code=code, name_zh=zh, name_en=en, name_ru=ru)
        await track.save()
        tracks.append(track.id)
    review = Stage(event=contest, position=1, level=StageLevel.school.value)
    await review.save()
    await Stage(event=contest, position=2, level=StageLevel.province.value).save()
    emails = ["organizer@podium.example", *(p["email"] for p in PEOPLE), *MENTORS]
    emails += [f"{who}{i:03d}@podium.example" for i in range(TEAMS) for who in ("lead", "member")]
    emails.append("advisor@podium.example")
    hashed = passwords.hash_password(PASSWORD)
    await User.insert(*(User.account(e, hashed, e.split("@")[0], "en" if "1" in e else "zh") for e in emails))
    ids = {r["email"]: r["id"] for r in await User.select(User.id, User.email)}
    await RoleGrant(user=ids["organizer@podium.example"], role=Role.organizer.value, event=contest).save()
    run = RankingRun(stage=review.id, status="done")
    await run.save()
    await StageJudging(stage=review.id, event=contest, status="published", published_run=run.id).save()
    await Team.insert(
        *(
            Team(
                event=contest,
                track=tracks[i % len(tracks)],
                name=f"Team {i:03d}",
                entry_title=f"Venture {i}",
                leader=ids[f"lead{i:03d}@podium.example"],
                join_code=f"J{i:03d}",
                status="approved",
            )
            for i in range(TEAMS)
        )
    )
    rows = await Team.select(Team.id, Team.track).order_by(Team.id)
    teams = [r["id"] for r in rows]
    members = []
    for i, team in enumerate(rows):
        seats = [("lead", "leader", "confirmed"), ("member", "member", "confirmed")]
        if i == 0:
            seats += [("advisor", "university_advisor", "confirmed"), ("invitee", "member", "invited")]
        members += [
            TeamMember(
                team=team["id"],
                event=contest,
                track=team["track"],
                user=ids.get(f"{who}{i:03d}@podium.example") or ids.get(f"{who}@podium.example"),
                email=f"{who}{i:03d}@podium.example",
                role=role,
                position=k,
                state=state,
                joined_via="import",
            )
            for k, (who, role, state) in enumerate(seats)
        ]
    await TeamMember.insert(*members)
    await StageEntry.insert(
        *(
            StageEntry(stage=review.id, event=contest, team=t["id"], track=t["track"], label=f"E{i}")
            for i, t in enumerate(rows)
        )
    )
    entries = await StageEntry.select(StageEntry.id, StageEntry.track).order_by(StageEntry.id)
    await StageResult.insert(
        *(
            StageResult(run=run.id, stage_entry=e["id"], track=e["track"], rank=i + 1, score=9 - i / 10)
            for i, e in enumerate(entries)
        )
    )
    return contest, ids, teams


async def _state() -> dict[str, object]:
    counts = {}
    for table in INCUBATION_TABLES:
        counts[table] = (await fetch_all(f"SELECT count(*) AS n FROM {table}"))[0]["n"]  # noqa: S608
    return counts


async def test_the_demo_incubator_keeps_the_demo_contract(db):
    contest, ids, teams = await _small_demo()
    started = time.monotonic()
    await load_incubator({"contest": contest}, ids)
    seconds = time.monotonic() - started
    day = today()

    # The online review's three prize tiers, given in the published order: 40 prize winners.
    awards = await fetch_all(
        "SELECT a.team, p.code FROM award a JOIN prize_tier p ON p.id = a.tier ORDER BY a.rank, a.team"
    )
    assert [a["team"] for a in awards] == teams[:STARTUPS]
    assert Counter(a["code"] for a in awards) == {t.code: t.size for t in REVIEW_TIERS}

    # The programme of the demo's alliance, its manager and viewer, and the cohort of the 40 winners.
    (programme,) = await fetch_all("SELECT * FROM incubation_programme WHERE slug = {}", PROGRAMME_SLUG)
    roles = await fetch_all(
        'SELECT u.email, r.role FROM incubation_programme_role r JOIN podium_user u ON u.id = r."user"'
    )
    assert {(r["email"], r["role"]) for r in roles} == {(MANAGER, "manager"), (VIEWER, "viewer")}
    (cohort,) = await fetch_all("SELECT * FROM incubation_cohort WHERE programme = {}", programme["id"])
    assert cohort["name"] == COHORT_NAME
    assert cohort["starts_on"] == month_start(day, -18)
    startups = await fetch_all("SELECT * FROM incubation_startup ORDER BY id")
    assert [s["team"] for s in startups] == teams[:STARTUPS]
    assert {(s["cohort"], s["source_event"], s["admitted_via"]) for s in startups} == {
        (cohort["id"], contest, "results")
    }
    assert (startups[0]["prize"], startups[-1]["prize"]) == ("校赛一等奖", "优秀奖")
    assert Counter(s["status"] for s in startups) == {"active": STARTUPS - 3, "closed": 3}
    assert all(s["closed_on"] is not None for s in startups if s["status"] == "closed")

    # Founders: the teams' confirmed students, the leader as lead; founder@ leads the first startup.
    founders = await fetch_all(
        'SELECT f.startup, f.role, u.email FROM incubation_founder f JOIN podium_user u ON u.id = f."user"'
    )
    people = {
        s["id"]: {(re.sub(r"\d+@.*", "", f["email"]), f["role"]) for f in founders if f["startup"] == s["id"]}
        for s in startups
    }
    first = startups[0]["id"]
    assert people[first] == {("founder@podium.example", "lead"), ("lead", "founder"), ("member", "founder")}
    assert all(people[s["id"]] == {("lead", "lead"), ("member", "founder")} for s in startups[1:])

    # The calendar: monthly periods from the cohort's start to six months ahead, 18 of them over.
    periods = await fetch_all("SELECT * FROM incubation_report_period ORDER BY starts_on")
    assert len(periods) == 25
    assert sum(p["ends_on"] < day for p in periods) == 18
    assert all(p["due_on"] == p["ends_on"] + dt.timedelta(days=10) for p in periods)
    (schedule,) = await fetch_all("SELECT * FROM incubation_report_schedule")
    assert (schedule["frequency"], schedule["due_days"]) == ("monthly", 10)

    # Reports of the periods due: most on time, some late, about one in ten missing.
    rows = await fetch_all(
        "SELECT startup, period, submitted_at, graduate_jobs, jobs_created FROM incubation_report"
    )
    reports = {(r["startup"], r["period"]): r for r in rows}
    status: Counter[str] = Counter()
    for s in startups:
        for p in periods:
            if p["due_on"] >= day or (s["closed_on"] and p["due_on"] >= s["closed_on"]):
                assert (s["id"], p["id"]) not in reports
                continue
            report = reports.get((s["id"], p["id"]))
            if report is None:
                status["missing"] += 1
            else:
                status["late" if report["submitted_at"].date() > p["due_on"] else "on time"] += 1
                assert (report["graduate_jobs"] or 0) <= (report["jobs_created"] or 0)
    total = sum(status.values())
    assert status["on time"] > total * 0.7
    assert 0.05 * total < status["late"] < 0.2 * total
    assert 0.05 * total < status["missing"] < 0.15 * total
    versions = await fetch_all("SELECT count(*) AS n FROM incubation_report_version")
    assert versions[0]["n"] == len(reports)

    # Every reminder the job would have sent is recorded: for each period, active startup and day
    # reached, whenever the report was not in by then.
    sent = {
        (r["period"], r["startup"], r["days"])
        for r in await fetch_all("SELECT * FROM incubation_reminder_sent")
    }
    expected = set()
    for s in startups:
        for p in periods:
            for days in REMINDER_DAYS:
                on = p["due_on"] + dt.timedelta(days=days)
                report = reports.get((s["id"], p["id"]))
                if on > day or (s["closed_on"] and on >= s["closed_on"]):
                    continue
                if report is None or report["submitted_at"].date() > on:
                    expected.add((p["id"], s["id"], days))
    assert sent == expected

    # founder@'s latest due report is missing; its reminders are in the outbox with the form's link.
    latest = [p for p in periods if p["due_on"] < day][-1]
    assert (first, latest["id"]) not in reports
    mails = await fetch_all("SELECT * FROM outbox_email WHERE to_address = {} ORDER BY id", FOUNDER)
    reached = [d for d in REMINDER_DAYS if latest["due_on"] + dt.timedelta(days=d) <= day]
    assert len(mails) == len(reached) >= 2
    link = f"/incubator/startups/{first}/reports/{latest['id']}"
    assert all(link in m["body_text"] and m["status"] == "queued" for m in mails)
    outbox = await fetch_all("SELECT body_text FROM outbox_email")
    assert all(re.search(r"/incubator/startups/\d+/reports/\d+", m["body_text"]) for m in outbox)

    # Mentors: the directory, mentor01@ one to one with founder@'s startup (20 h), mentor02@ with the
    # whole cohort (5 h each); hours used are the meetings' minutes, within the budgets.
    directory = await fetch_all(
        'SELECT m.id, u.email FROM incubation_mentor m JOIN podium_user u ON u.id = m."user" WHERE m.active'
    )
    mentor = {r["email"]: r["id"] for r in directory}
    assert set(mentor) == set(MENTORS)
    links = await fetch_all("SELECT * FROM incubation_mentor_link")
    one = [link for link in links if link["mentor"] == mentor[MENTORS[0]]]
    assert [(link["startup"], link["budget_minutes"], link["via_cohort"]) for link in one] == [
        (first, 1200, None)
    ]
    (connection,) = await fetch_all("SELECT * FROM incubation_mentor_cohort")
    connected = (connection["mentor"], connection["cohort"], connection["minutes_per_startup"])
    assert connected == (mentor[MENTORS[1]], cohort["id"], 300)
    cohort_links = [link for link in links if link["via_cohort"] == connection["id"]]
    assert sorted(link["startup"] for link in cohort_links) == [s["id"] for s in startups]
    used = await fetch_all(
        "SELECT l.id, l.used_minutes, l.budget_minutes, COALESCE(SUM(m.minutes), 0) AS logged"
        " FROM incubation_mentor_link l LEFT JOIN incubation_meeting m ON m.startup = l.startup"
        " AND m.mentor = l.mentor GROUP BY l.id, l.used_minutes, l.budget_minutes"
    )
    # (with hours left for the browser tests to log meetings)
    assert all(r["used_minutes"] == r["logged"] <= r["budget_minutes"] * 0.6 for r in used)
    assert one[0]["used_minutes"] >= 12 * 30  # about monthly meetings

    # Meetings with shared notes, the mentor's private notes (theirs), action items open and done.
    meetings = await fetch_all(
        "SELECT m.id, m.held_at, m.shared_notes, m.created_by, n.author, n.body FROM incubation_meeting m"
        " LEFT JOIN incubation_private_note n ON n.meeting = m.id"
    )
    assert all(m["shared_notes"] and m["held_at"].date() < day for m in meetings)
    noted = [m for m in meetings if m["body"]]
    assert len(meetings) > len(noted) > 20
    assert all(m["author"] == m["created_by"] for m in noted)
    assert {m["held_at"].year * 12 + m["held_at"].month for m in meetings} >= {
        d.year * 12 + d.month for d in (month_start(day, -15), month_start(day, -2))
    }
    items = await fetch_all("SELECT done_at, due_on FROM incubation_action_item")
    assert {i["done_at"] is None for i in items} == {True, False}

    # Office hours next week, free but one.
    slots = await fetch_all(
        "SELECT o.starts_at, o.mentor, b.id AS booking FROM incubation_office_hour o"
        " LEFT JOIN incubation_booking b ON b.slot = o.id AND b.status = 'booked'"
    )
    now = dt.datetime.now(dt.UTC)
    assert all(now < s["starts_at"] < now + dt.timedelta(days=15) for s in slots)
    assert any(s["mentor"] == mentor[MENTORS[0]] and s["booking"] is None for s in slots)
    assert sum(s["booking"] is not None for s in slots) == 1

    # Milestones (some overdue), support with gaps, the custom metric.
    overdue = await fetch_all(
        "SELECT count(*) AS n FROM incubation_milestone WHERE due_on < {} AND state IN ('planned', 'in_progress')",
        day,
    )
    assert overdue[0]["n"] > 0
    gaps = await fetch_all(
        "SELECT p.id, p.quantity - COALESCE(SUM(d.quantity), 0) AS gap, p.due_on FROM incubation_support_promise p"
        " LEFT JOIN incubation_support_delivery d ON d.promise = p.id GROUP BY p.id, p.quantity, p.due_on"
    )
    assert any(g["gap"] > 0 and g["due_on"] < day for g in gaps)
    assert any(g["gap"] == 0 for g in gaps)
    assert all(g["gap"] >= 0 for g in gaps)
    (metric,) = await fetch_all("SELECT * FROM incubation_custom_metric")
    assert (metric["key"], metric["question"]) == ("cross_border_orders", "sales")

    # The reminder job, run now, finds every reminder due already sent.
    state = await _state()
    assert await remind(get_settings().base_url) == Outcome(sent=0, skipped=0, mails=0)

    # A second load changes nothing.
    await load_incubator({"contest": contest}, ids)
    assert await _state() == state
    print(f"the demo's incubator loaded in {seconds:.2f} s")
    assert seconds < 10
