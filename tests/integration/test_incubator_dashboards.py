"""The dashboards' arithmetic against a plain Python recomputation over random programmes (survival,
reporting compliance, stalled startups, sums of flows over all time and the last twelve months,
milestones and support), and who sees what: viewers and mentors the founders share nothing with
never get a startup's amounts, not from the API, the pages or the impact report."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from decimal import Decimal

import msgspec
import openpyxl

from backend.policy import Principal
from incubator.dashboards import impact, service
from incubator.tables import (
    Cohort,
    Meeting,
    Milestone,
    Programme,
    Report,
    ReportPeriod,
    Startup,
    SupportDelivery,
    SupportPromise,
)
from tests.integration.conftest import empty_database
from tests.integration.incubator_world import REVENUE, World, build_world

TODAY = dt.date(2027, 6, 15)
CENT = Decimal("0.01")
STATUSES = ("active", "active", "active", "graduated", "closed", "withdrawn")


def principal(user_id: int, admin: bool = False) -> Principal:
    return Principal(user_id, "p@example.org", "P", "en", admin, "session")


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), dt.UTC)


async def random_programme(world: World, rng: random.Random, startups: int) -> None:
    """Adds ``startups`` random startups to the world's cohort, with twelve more monthly periods and
    random reports, meetings, milestones, promises and deliveries (every edge the rules name: closed
    before a due date, reports filed on the due day's last minute and the next day's first, periods
    not yet due, over-delivered and withdrawn promises)."""
    cohort = world.ids["cohort"]
    await Cohort.update({Cohort.starts_on: dt.date(2026, 6, 1)}).where(Cohort.id == cohort)
    periods = list(await ReportPeriod.select().where(ReportPeriod.cohort == cohort))
    for month in range(12, 24):  # 2026-12 .. 2027-11
        start = dt.date(2026 + month // 12, month % 12 + 1, 1)
        end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1) - dt.timedelta(days=1)
        periods.append({"starts_on": start, "ends_on": end, "due_on": end + dt.timedelta(days=10)})
    await ReportPeriod.insert(
        *(
            ReportPeriod(
                cohort=cohort,
                label=f"{p['ends_on']:%Y-%m}",
                **{k: p[k] for k in ("starts_on", "ends_on", "due_on")},
            )
            for p in periods[3:]
        )
    )
    periods = list(await ReportPeriod.select().where(ReportPeriod.cohort == cohort))
    rows = []
    for n in range(startups):
        status = rng.choice(STATUSES)
        closed = TODAY - dt.timedelta(days=rng.randint(0, 300)) if status in ("closed", "withdrawn") else None
        rows.append(
            Startup(
                programme=world.ids["programme"],
                cohort=cohort,
                name=f"Random {n:02d}",
                status=status,
                closed_on=closed,
            )
        )
    await Startup.insert(*rows)
    ids = [r["id"] for r in await Startup.select(Startup.id).where(Startup.name.like("Random%"))]
    reports, meetings, milestones, promises = [], [], [], []
    for startup in ids:
        for period in periods:
            if rng.random() < 0.3:
                continue
            due = period["due_on"]
            first = rng.choice(
                [
                    at(due, 23, 59),
                    at(due + dt.timedelta(days=1)),
                    at(due - dt.timedelta(days=3), 8),
                    at(due + dt.timedelta(days=20), 9),
                ]
            )
            later = first + dt.timedelta(days=rng.choice([0, 0, 40, 200]))
            jobs = rng.randint(0, 3)
            reports.append(
                Report(
                    period=period["id"],
                    startup=startup,
                    first_submitted_at=first,
                    submitted_at=later,
                    revenue=Decimal(rng.randint(0, 10**7)) / 100 if rng.random() < 0.8 else None,
                    cross_border_gmv=Decimal(rng.randint(0, 10**6)) / 100 if rng.random() < 0.7 else None,
                    funding_raised=Decimal(rng.randint(0, 10**8)) / 100 if rng.random() < 0.1 else None,
                    headcount=rng.randint(1, 40),
                    jobs_created=jobs,
                    graduate_jobs=rng.randint(0, jobs),
                    customers=rng.randint(0, 500) if rng.random() < 0.9 else None,
                )
            )
        for _ in range(rng.randint(0, 3)):
            held = at(TODAY - dt.timedelta(days=rng.randint(0, 200)), rng.randint(0, 23))
            meetings.append(
                Meeting(
                    startup=startup,
                    mentor=world.ids["cohort_mentor"],
                    held_at=held,
                    minutes=rng.randint(15, 90),
                )
            )
        for _ in range(rng.randint(0, 3)):
            milestones.append(
                Milestone(
                    startup=startup,
                    title="M",
                    due_on=TODAY + dt.timedelta(days=rng.randint(-90, 90)),
                    state=rng.choice(("planned", "in_progress", "achieved", "dropped")),
                )
            )
        for _ in range(rng.randint(0, 3)):
            promises.append(
                SupportPromise(
                    startup=startup,
                    kind=rng.choice(("office_space", "cloud_credits", "training_hours")),
                    unit=rng.choice(("hours", "credits")),
                    quantity=Decimal(rng.randint(1, 40)),
                    due_on=rng.choice((None, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=30))),
                    withdrawn_at=at(TODAY) if rng.random() < 0.15 else None,
                )
            )
    for table, batch in (
        (Report, reports),
        (Meeting, meetings),
        (Milestone, milestones),
        (SupportPromise, promises),
    ):
        if batch:
            await table.insert(*batch)
    deliveries = [
        SupportDelivery(promise=p["id"], quantity=Decimal(rng.randint(1, 25)), delivered_on=TODAY)
        for p in await SupportPromise.select(SupportPromise.id)
        for _ in range(rng.randint(0, 2))
    ]
    if deliveries:
        await SupportDelivery.insert(*deliveries)


def on_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


async def recompute(programme: int, stalled_weeks: int) -> dict:
    """Every figure of the programme's dashboard, the plain way: each table read whole, in Python."""
    startups = {s["id"]: s for s in await Startup.select().where(Startup.programme == programme)}
    cohorts = {c["id"]: c for c in await Cohort.select()}
    periods = {p["id"]: p for p in await ReportPeriod.select()}
    reports = [r for r in await Report.select() if r["startup"] in startups]
    meetings = [m for m in await Meeting.select() if m["startup"] in startups]
    milestones = [m for m in await Milestone.select() if m["startup"] in startups]
    promises = [
        p for p in await SupportPromise.select() if p["startup"] in startups and p["withdrawn_at"] is None
    ]
    delivered: dict[int, Decimal] = defaultdict(Decimal)
    for d in await SupportDelivery.select():
        delivered[d["promise"]] += d["quantity"]
    since = service.year_before(TODAY)
    stalled_day = TODAY - dt.timedelta(weeks=stalled_weeks)
    figures = {}
    for sid, s in startups.items():
        mine = [r for r in reports if r["startup"] == sid]
        filed = {r["period"]: r for r in mine}
        due = [
            p
            for p in periods.values()
            if p["cohort"] == s["cohort"]
            and p["due_on"] < TODAY
            and (s["closed_on"] is None or p["due_on"] <= s["closed_on"])
        ]
        submitted = [p for p in due if p["id"] in filed]
        on_time = [p for p in submitted if on_day(filed[p["id"]]["first_submitted_at"]) <= p["due_on"]]
        held = [m for m in meetings if m["startup"] == sid]
        latest = max(mine, key=lambda r: (periods[r["period"]]["ends_on"], r["id"]), default=None)
        recent = at(stalled_day)
        stalled = (
            s["status"] == "active"
            and cohorts[s["cohort"]]["starts_on"] <= stalled_day
            and not any(m["held_at"] >= recent for m in held)
            and not any(r["submitted_at"] >= recent for r in mine)
        )

        def flow(key: str, last_year: bool = False, mine=mine) -> Decimal:
            return sum(
                (
                    r[key]
                    for r in mine
                    if r[key] is not None and (not last_year or periods[r["period"]]["ends_on"] > since)
                ),
                Decimal(0),
            )

        own = [p for p in promises if p["startup"] == sid]
        open_ = [p for p in own if delivered[p["id"]] < p["quantity"]]
        ms = [m for m in milestones if m["startup"] == sid]
        figures[sid] = {
            "status": s["status"],
            "stalled": stalled,
            "reports_due": len(due),
            "reports_submitted": len(submitted),
            "reports_on_time": len(on_time),
            "meetings": len(held),
            "meeting_minutes": sum(m["minutes"] for m in held),
            "milestones": len(ms),
            "milestones_achieved": sum(m["state"] == "achieved" for m in ms),
            "milestones_overdue": sum(
                m["due_on"] < TODAY and m["state"] in ("planned", "in_progress") for m in ms
            ),
            "promises": len(own),
            "promises_open": len(open_),
            "promises_overdue": sum(p["due_on"] is not None and p["due_on"] < TODAY for p in open_),
            "jobs_created": int(flow("jobs_created")),
            "graduate_jobs": int(flow("graduate_jobs")),
            "headcount": latest["headcount"] if latest else None,
            "customers": latest["customers"] if latest else None,
            **{
                key + suffix: flow(key, bool(suffix)).quantize(CENT)
                for key in ("revenue", "cross_border_gmv", "funding_raised")
                for suffix in ("", "_12m")
            },
        }
    contributors = {
        key + suffix: sum(
            any(
                r[key] is not None and (not suffix or periods[r["period"]]["ends_on"] > since)
                for r in reports
                if r["startup"] == sid
            )
            for sid in startups
        )
        for key in ("revenue", "cross_border_gmv", "funding_raised")
        for suffix in ("", "_12m")
    }
    period_contributors: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in reports:
        ends_on = periods[r["period"]]["ends_on"]
        for key in ("revenue", "cross_border_gmv", "funding_raised"):
            period_contributors[ends_on][key] += r[key] is not None
    by_period: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sid, s in startups.items():
        for p in periods.values():
            if p["cohort"] != s["cohort"] or p["ends_on"] >= TODAY:
                continue
            counts = by_period[p["ends_on"]]
            if p["due_on"] < TODAY and (s["closed_on"] is None or p["due_on"] <= s["closed_on"]):
                counts[0] += 1
                report = next((r for r in reports if r["startup"] == sid and r["period"] == p["id"]), None)
                if report:
                    counts[1] += 1
                    counts[2] += on_day(report["first_submitted_at"]) <= p["due_on"]
    support: dict[tuple[str, str], list] = {}
    for p in promises:
        line = support.setdefault((p["kind"], p["unit"]), [0, Decimal(0), Decimal(0), Decimal(0), 0])
        got = delivered[p["id"]]
        line[0] += 1
        line[1] += p["quantity"]
        line[2] += got
        line[3] += max(p["quantity"] - got, Decimal(0))
        line[4] += got < p["quantity"] and p["due_on"] is not None and p["due_on"] < TODAY
    return {
        "startups": figures,
        "periods": dict(by_period),
        "support": support,
        "contributors": contributors,
        "period_contributors": period_contributors,
    }


async def test_the_dashboard_adds_up_like_python(db):
    for world_seed in (1, 2, 3):  # three random programmes (parametrized async tests lose their values here)
        await empty_database()
        await adds_up(random.Random(world_seed))


async def adds_up(rng: random.Random) -> None:
    world = await build_world()
    await random_programme(world, rng, startups=12)
    weeks = rng.choice((4, 12, 30))
    await Programme.update({Programme.stalled_weeks: weeks}).where(Programme.id == world.ids["programme"])
    want = await recompute(world.ids["programme"], weeks)
    got = await service.scope_dashboard(
        principal(world.users["manager"]), world.ids["programme"], today=TODAY
    )
    assert {s.id for s in got.startups} == set(want["startups"])
    for row in got.startups:
        expected = want["startups"][row.id]
        assert {k: getattr(row, k) for k in expected} == expected, row.name
    figures = list(want["startups"].values())
    t = got.totals
    surviving = sum(f["status"] in ("active", "graduated") for f in figures)
    assert (t.admitted, t.surviving) == (len(figures), surviving)
    assert t.survival_percent == round(100 * surviving / len(figures), 1)
    due = sum(f["reports_due"] for f in figures)
    assert (t.reports_due, t.reports_submitted, t.reports_on_time) == (
        due,
        sum(f["reports_submitted"] for f in figures),
        sum(f["reports_on_time"] for f in figures),
    )
    assert t.on_time_percent == round(100 * t.reports_on_time / due, 1)
    assert t.stalled == sum(f["stalled"] for f in figures)
    assert t.revenue_12m == sum((f["revenue_12m"] for f in figures), Decimal(0))
    assert t.jobs_created == sum(f["jobs_created"] for f in figures)
    assert {p.ends_on: [p.reports_due, p.reports_submitted, p.reports_on_time] for p in got.periods} == want[
        "periods"
    ]
    assert sum(p.reports_due for p in got.periods) == t.reports_due
    assert {
        (s.kind, s.unit): [s.promises, s.promised, s.delivered, s.gap, s.overdue] for s in got.support
    } == want["support"]
    # the cohort's dashboard is the programme's narrowed to the cohort (the other one is empty); a
    # viewer reads the same totals but the amounts added up over fewer than three startups
    cohort = await service.cohort_dashboard(
        principal(world.users["viewer"]), world.ids["cohort"], today=TODAY
    )
    small = {k for k, n in want["contributors"].items() if n < service.MIN_GROUP}
    assert cohort.totals == msgspec.structs.replace(t, **dict.fromkeys(small))
    for viewed, managed in zip(cohort.periods, got.periods, strict=True):
        for key in ("revenue", "cross_border_gmv", "funding_raised"):
            few = want["period_contributors"][managed.ends_on][key] < service.MIN_GROUP
            assert getattr(viewed, key) == (None if few else getattr(managed, key))
    empty = await service.cohort_dashboard(
        principal(world.users["viewer"]), world.ids["empty_cohort"], today=TODAY
    )
    assert empty.totals.admitted == 0
    assert empty.totals.survival_percent is None
    assert not empty.startups


async def test_the_startup_dashboard_agrees_with_its_row_in_the_programme(db):
    world = await build_world()
    await random_programme(world, random.Random(7), startups=3)
    manager = principal(world.users["manager"])
    programme = await service.scope_dashboard(manager, world.ids["programme"], today=TODAY)
    for row in programme.startups:
        one = await service.startup_dashboard(manager, row.id, today=TODAY)
        assert one.figures == row
        reports = {r["period"]: r for r in await Report.select().where(Report.startup == row.id)}
        assert [p.ends_on for p in one.points] == sorted(p.ends_on for p in one.points)
        assert all(p.ends_on < TODAY for p in one.points)
        for point in one.points:
            report = reports.get(point.period_id)
            if report is None:
                assert point.submitted_at is None
                assert set(point.values.values()) == {None}
                continue
            assert point.on_time == (on_day(report["first_submitted_at"]) <= point.due_on)
            for key in ("revenue", "cross_border_gmv", "headcount", "jobs_created", "customers"):
                assert point.values[key] == report[key], key


async def other_report(world: World) -> None:
    """A report of ``other_startup``, so that no total is the seeded startup's own revenue."""
    await Report(
        period=world.ids["period_2"],
        startup=world.ids["other_startup"],
        revenue=Decimal("777.25"),
        jobs_created=1,
        first_submitted_at=at(dt.date(2026, 11, 2)),
        submitted_at=at(dt.date(2026, 11, 2)),
    ).save()


def amounts(dashboard) -> set[Decimal]:
    return {getattr(row, k) for row in dashboard.startups for k in service.FINANCIAL_FIGURES} - {None}


async def test_viewers_read_totals_but_no_startups_amounts(make_client):
    world = await build_world()
    await other_report(world)
    viewer = await make_client(world.email("viewer"))
    for path in (f"programmes/{world.ids['programme']}", f"cohorts/{world.ids['cohort']}"):
        answer = (await viewer.get(f"/api/v1/incubator/{path}/dashboard")).json()
        assert answer["financials_per_startup"] is False
        assert answer["totals"]["revenue"] is None  # two startups' revenue: withheld
        assert answer["totals"]["jobs_created"] == 4
        assert {p["revenue"] for p in answer["periods"]} == {None}
        assert all(row[k] is None for row in answer["startups"] for k in service.FINANCIAL_FIGURES)
        assert str(REVENUE) not in (await viewer.get(f"/incubator/{path}/dashboard")).text
    manager = await make_client(world.email("manager"))
    answer = (await manager.get(f"/api/v1/incubator/programmes/{world.ids['programme']}/dashboard")).json()
    assert {Decimal(r["revenue"]) for r in answer["startups"]} == {REVENUE, Decimal("777.25")}
    assert Decimal(answer["totals"]["revenue"]) == REVENUE + Decimal("777.25")
    page = await manager.get(f"/incubator/programmes/{world.ids['programme']}/dashboard")
    assert page.status_code == 200
    assert "12,000.50" in page.text


async def test_the_impact_report_hides_startups_amounts_from_viewers(make_client):
    world = await build_world()
    await other_report(world)
    viewer = await service.scope_dashboard(principal(world.users["viewer"]), world.ids["programme"])
    cells = {str(c) for _, header, rows in impact.sheets(viewer, "en") for row in rows for c in row}
    assert not {str(REVENUE), "777.25", str(REVENUE + Decimal("777.25"))} & cells
    manager = await service.scope_dashboard(principal(world.users["manager"]), world.ids["programme"])
    cells = {str(c) for _, header, rows in impact.sheets(manager, "en") for row in rows for c in row}
    assert {str(REVENUE), "777.25"} <= cells
    client = await make_client(world.email("viewer"))
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        answer = await client.get(
            f"/api/v1/incubator/programmes/{world.ids['programme']}/impact-report", params={"format": fmt}
        )
        assert answer.status_code == 200, answer.text[:200]
        assert answer.content.startswith(magic)
        assert "attachment" in answer.headers["content-disposition"]
    xlsx = await client.get(
        f"/api/v1/incubator/cohorts/{world.ids['cohort']}/impact-report", params={"format": "xlsx"}
    )
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    written = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row}
    assert "Silk Road Labs" in written  # the startups' rows are there, without their amounts
    assert not {str(REVENUE), "12000.5", "777.25"} & written


async def test_mentors_see_what_the_founders_share(make_client):
    world = await build_world()
    mentor = await make_client(world.email("mentor"))
    url = f"/api/v1/incubator/startups/{world.ids['startup']}/dashboard"
    answer = (await mentor.get(url)).json()  # operations shared by default, financials not
    assert answer["financials_hidden"] is True
    assert answer["operations_hidden"] is False
    assert {m["key"] for m in answer["metrics"]} >= {"headcount", "live_stores"}
    assert not {m["key"] for m in answer["metrics"]} & {"revenue", "cross_border_gmv", "funding_raised"}
    assert all(answer["figures"][k] is None for k in service.FINANCIAL_FIGURES)
    assert answer["figures"]["jobs_created"] == 3
    assert not any("revenue" in p["values"] for p in answer["points"])
    page = await mentor.get(f"/incubator/startups/{world.ids['startup']}/dashboard")
    assert page.status_code == 200
    assert "12,000.50" not in page.text
    assert "12000.5" not in page.text
    await Startup.update({Startup.mentors_see_operations: False, Startup.mentors_see_financials: True}).where(
        Startup.id == world.ids["startup"]
    )
    answer = (await mentor.get(url)).json()
    assert answer["operations_hidden"] is True
    assert answer["financials_hidden"] is False
    assert answer["figures"]["jobs_created"] is None
    assert answer["figures"]["revenue"] == str(REVENUE)
    assert {m["key"] for m in answer["metrics"]} == {
        "revenue",
        "recurring_revenue",
        "cross_border_gmv",
        "funding_raised",
    }
    founder = await make_client(world.email("founder"))
    assert (await founder.get(url)).json()["figures"]["revenue"] == str(REVENUE)
    # founders and mentors read no programme's dashboard; outsiders find nothing
    programme = f"/api/v1/incubator/programmes/{world.ids['programme']}/dashboard"
    assert (await founder.get(programme)).status_code == 403
    assert (await mentor.get(programme)).status_code == 403
    outsider = await make_client(world.email("outsider"))
    assert (await outsider.get(programme)).status_code == 404
    assert (await outsider.get(url)).status_code == 404
    viewer = await make_client(world.email("viewer"))
    assert (await viewer.get(url)).status_code == 404
