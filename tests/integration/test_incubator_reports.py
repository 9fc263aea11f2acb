"""Reports over HTTP in the incubator world: founders file and refile versioned reports whose due
metrics follow their answers, races between submissions lose nothing, mentors read only what the
founders share (never the hidden financials: not in any answer, page or export), managers read
the reports due and export them, schedules make their periods and keep the reported ones."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import random
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from backend.audit import AuditEntry
from incubator.reports import service
from incubator.tables import Report, ReportPeriod, ReportVersion, Startup
from tests.integration.incubator_world import REVENUE, World, build_world

TODAY = dt.date(2026, 11, 20)  # periods 2026-09 (reported on time), 2026-10 (missing), 2026-11 (not yet due)
API = "/api/v1/incubator"
NO = {"live_product": False, "sales": False, "recurring_revenue": False, "funding_round": False}
YES = {"live_product": True, "sales": True, "recurring_revenue": False, "funding_round": False}
BASE = {"headcount": 6, "jobs_created": 2, "graduate_jobs": 1, "patents": 0}
SALES = {**BASE, "customers": 50, "revenue": "20500.75", "cross_border_gmv": "9000", "live_stores": 4}


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(service, "today", lambda: TODAY)


@pytest.fixture
async def world(db) -> World:
    return await build_world()


async def as_(make_client, world: World, who: str):
    return await make_client(world.email(who))


def report_url(world: World, period: str = "period_2", startup: str = "startup") -> str:
    return f"{API}/startups/{world.ids[startup]}/reports/{world.ids[period]}"


async def test_a_founder_files_a_report_then_new_versions_and_every_version_is_kept(make_client, world):
    founder = await as_(make_client, world, "founder")
    url = report_url(world)
    blank = (await founder.get(url)).json()
    assert (blank["version"], blank["status"], blank["may_submit"]) == (0, "missing", True)
    assert {m["key"] for m in blank["metrics"] if m["due"]} == {
        "headcount",
        "jobs_created",
        "graduate_jobs",
        "patents",
    }
    first = await founder.put(url, json={"answers": NO, "values": BASE})
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["status"]) == (1, "late")  # filed after 2026-11-10
    second = await founder.put(url, json={"answers": YES, "values": SALES, "expected_version": 1})
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["version"] == 2
    shown = {m["key"]: m["value"] for m in body["metrics"]}
    assert shown["revenue"] == "20500.75"
    assert shown["live_stores"] == "4"
    assert shown["customers"] == "50"
    stale = await founder.put(url, json={"answers": NO, "values": BASE, "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "report_version_stale"
    assert "expected_version" in stale.json()["fields"]
    again = await founder.put(url, json={"answers": NO, "values": BASE})
    assert (again.status_code, again.json()["code"]) == (409, "report_exists")
    versions = (await founder.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["values"]["revenue"] == "20500.75"
    assert "revenue" not in versions[1]["values"]
    stored = (
        await Report.select(Report.revenue, Report.version)
        .where(Report.period == world.ids["period_2"])
        .first()
    )
    assert stored == {"revenue": Decimal("20500.75"), "version": 2}
    kinds = [
        e["action"]
        for e in await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.action == "incubator.report_submitted"
        )
    ]
    assert len(kinds) == 2
    audit = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == "incubator.report_submitted")
    assert "20500" not in str(audit)  # figures never go into the audit trail


async def test_the_due_metrics_follow_the_answers_and_every_fault_is_named(make_client, world):
    founder = await as_(make_client, world, "founder")
    url = report_url(world)
    wrong = await founder.put(
        url,
        json={
            "answers": {"live_product": True, "sales": True},
            "values": {
                "headcount": -1,
                "jobs_created": "2.5",
                "graduate_jobs": 1,
                "customers": None,
                "revenue": "10.001",
                "cross_border_gmv": "NaN",
                "rocket_fuel": 3,
            },
        },
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["fields"] == {
        "answers.recurring_revenue": "needs an answer",
        "answers.funding_round": "needs an answer",
        "values.rocket_fuel": "is not a metric of this programme",
        "values.revenue": "may have at most two decimals",
        "values.cross_border_gmv": "must be a number",
        "values.customers": "is due: give a value (0 if there is none)",
        "values.headcount": "must not be negative",
        "values.jobs_created": "must be a whole number",
        "values.patents": "is due: give a value (0 if there is none)",
        "values.live_stores": "is due: give a value (0 if there is none)",
    }
    more = await founder.put(url, json={"answers": NO, "values": {**BASE, "graduate_jobs": 3}})
    assert more.json()["fields"] == {"values.graduate_jobs": "must not exceed the jobs created"}
    # values of metrics the answers do not make due are dropped, not stored
    dropped = await founder.put(
        url, json={"answers": NO, "values": {**BASE, "revenue": "999", "live_stores": 2}}
    )
    assert dropped.status_code == 200, dropped.text
    stored = (
        await Report.select(Report.revenue, Report.custom)
        .where(Report.period == world.ids["period_2"])
        .first()
    )
    assert stored["revenue"] is None
    assert stored["custom"] in ({}, "{}")
    assert await Report.count().where(Report.period == world.ids["period_3"]) == 0
    assert await ReportVersion.count() == 2  # the seeded report's and this one


async def test_twenty_concurrent_resubmissions_lose_nothing(make_client, world):
    founder = await as_(make_client, world, "founder")
    url = report_url(world, "period")  # the seeded report, version 1

    def body(n: int, version: int) -> dict:
        return {"answers": NO, "values": {**BASE, "headcount": 100 + n}, "expected_version": version}

    answers = await asyncio.gather(*(founder.put(url, json=body(n, 1)) for n in range(20)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 19
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"report_version_stale"}

    async def until_filed(n: int) -> int:
        for _ in range(200):
            version = (await founder.get(url)).json()["version"]
            answer = await founder.put(url, json=body(n, version))
            if answer.status_code == 200:
                return answer.json()["version"]
            assert answer.json()["code"] == "report_version_stale", answer.text
        raise AssertionError("never filed")

    filed = await asyncio.gather(*(until_filed(n) for n in range(20, 40)))
    assert sorted(filed) == list(range(3, 23))
    versions = await ReportVersion.select(ReportVersion.version, ReportVersion.values).where(
        ReportVersion.report == world.ids["report"]
    )
    assert sorted(v["version"] for v in versions) == list(range(1, 23))  # consecutive, none lost
    headcounts = sorted(json.loads(v["values"])["headcount"] for v in versions if v["version"] > 1)
    winner = next(a for a in answers if a.status_code == 200).json()
    first_round = next(m["value"] for m in winner["metrics"] if m["key"] == "headcount")
    assert headcounts == sorted([int(first_round), *range(120, 140)])  # every submission kept once
    assert (await Report.select(Report.version).where(Report.id == world.ids["report"]).first())[
        "version"
    ] == 22


async def test_twenty_concurrent_first_submissions_make_one_report(make_client, world):
    founder = await as_(make_client, world, "founder")
    url = report_url(world, "period_3")
    answers = await asyncio.gather(
        *(founder.put(url, json={"answers": NO, "values": BASE}) for _ in range(20))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 19
    assert await Report.count().where(Report.period == world.ids["period_3"]) == 1
    assert await ReportVersion.count() == 2


def _leaks(text: str) -> bool:
    return any(figure in text for figure in ("12000.5", "12000,5", "12,000.5", "8000", "8,000"))


async def test_hidden_financials_never_reach_a_mentor(make_client, world):
    url = report_url(world, "period")
    startup = world.ids["startup"]
    cohort = world.ids["cohort"]
    for who in ("mentor", "cohort_mentor"):
        mentor = await as_(make_client, world, who)
        report = await mentor.get(url)
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["hidden"] == ["financials"]
        assert body["may_submit"] is False
        assert set(body["answers"]) == {"live_product"}  # "did you make sales" is financial too
        revenue = next(m for m in body["metrics"] if m["key"] == "revenue")
        assert (revenue["value"], revenue["hidden"], revenue["due"]) == (
            None,
            True,
            False,
        )  # no hint of sales
        assert next(m["value"] for m in body["metrics"] if m["key"] == "headcount") == "5"
        versions = await mentor.get(f"{url}/versions")
        assert set(versions.json()[0]["values"]) == {
            "customers",
            "headcount",
            "jobs_created",
            "graduate_jobs",
            "patents",
            "live_stores",
        }
        page = await mentor.get(
            f"/incubator/startups/{startup}/reports/{world.ids['period']}", headers={"accept": "text/html"}
        )
        assert page.status_code == 200
        for answer in (report, versions, page, await mentor.get(f"/incubator/startups/{startup}/reports")):
            assert not _leaks(answer.text), (who, answer.url)
        for refused in (f"{API}/cohorts/{cohort}/reports/export", f"{API}/cohorts/{cohort}/reports"):
            assert (await mentor.get(refused)).status_code == 403
        assert (
            await mentor.put(url, json={"answers": NO, "values": BASE, "expected_version": 1})
        ).status_code == 403
    # the founders share their financials, then hide their operations
    founder = await as_(make_client, world, "founder")
    shared = await founder.patch(
        f"{API}/startups/{startup}/sharing",
        json={"mentors_see_financials": True, "mentors_see_operations": False},
    )
    assert shared.json() == {
        "startup_id": startup,
        "mentors_see_operations": False,
        "mentors_see_financials": True,
    }
    mentor = await as_(make_client, world, "mentor")
    body = (await mentor.get(url)).json()
    assert body["hidden"] == ["operations"]
    assert set(body["answers"]) == {
        "sales",
        "recurring_revenue",
        "funding_round",
    }
    values = {m["key"]: m["value"] for m in body["metrics"]}
    assert values["revenue"] == str(REVENUE)
    assert values["headcount"] is None
    assert values["live_stores"] is None
    versions = (await mentor.get(f"{url}/versions")).json()
    assert set(versions[0]["values"]) == {"revenue", "cross_border_gmv"}
    # managers see everything but do not file or share for the founders
    manager = await as_(make_client, world, "manager")
    assert (await manager.get(url)).json()["hidden"] == []
    assert (
        await manager.patch(f"{API}/startups/{startup}/sharing", json={"mentors_see_financials": False})
    ).status_code == 403
    assert (
        await manager.put(url, json={"answers": NO, "values": BASE, "expected_version": 1})
    ).status_code == 403
    viewer = await as_(make_client, world, "viewer")
    assert (await viewer.get(url)).status_code == 404  # viewers read aggregates, never a file


async def test_managers_read_the_reports_due_and_export_them(make_client, world):
    await Startup.update({Startup.status: "closed", Startup.closed_on: dt.date(2026, 9, 20)}).where(
        Startup.id == world.ids["other_startup"]
    )
    manager = await as_(make_client, world, "manager")
    cohort = world.ids["cohort"]
    table = (await manager.get(f"{API}/cohorts/{cohort}/reports")).json()
    assert [p["label"] for p in table["periods"]] == ["2026-09", "2026-10", "2026-11"]
    rows = {r["startup"]: r["statuses"] for r in table["startups"]}
    assert rows == {
        "Silk Road Labs": ["on_time", "missing", "not_yet_due"],
        "Steppe Logistics": ["missing", "not_required", "not_required"],
    }
    assert table["counts"] == {"on_time": 1, "late": 0, "missing": 2, "not_yet_due": 1, "not_required": 2}
    export = await manager.get(f"{API}/cohorts/{cohort}/reports/export?format=csv")
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["Startup", "Startup's status", "Period"]
    assert "Live stores" in lines[0], str(lines[0])
    first = dict(zip(lines[0], lines[1], strict=True))
    assert (first["Period"], first["Standing"], first["Revenue"], first["Live stores"]) == (
        "2026-09",
        "On time",
        "12000.50",
        "3",
    )
    assert len(lines) == 7
    xlsx = await manager.get(f"{API}/cohorts/{cohort}/reports/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 7
    assert sheet.cell(1, 1).value == "Startup"
    founder = await as_(make_client, world, "founder")
    mine = (await founder.get(f"{API}/startups/{world.ids['startup']}/reports")).json()
    assert [(p["period"]["label"], p["status"], p["version"]) for p in mine["periods"]] == [
        ("2026-09", "on_time", 1), ("2026-10", "missing", 0), ("2026-11", "not_yet_due", 0)
    ]  # fmt: skip
    assert (await founder.get(f"{API}/cohorts/{cohort}/reports/export")).status_code == 403


async def test_a_schedule_makes_its_periods_and_keeps_the_reported_ones(make_client, world):
    manager = await as_(make_client, world, "manager")
    cohort = world.ids["cohort"]
    url = f"{API}/cohorts/{cohort}/schedule"
    wrong = await manager.put(
        url,
        json={
            "frequency": "adhoc",
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-01",
            "adhoc_dates": ["2027-01-01"],
            "reminder_days": [200],
        },
    )
    assert wrong.status_code == 400 or wrong.status_code == 422
    assert "reminder_days[0]" in str(wrong.json()["fields"]) or "reminder_days" in str(wrong.json()["fields"])
    wrong = await manager.put(
        url,
        json={
            "frequency": "adhoc",
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-01",
            "adhoc_dates": ["2027-01-01"],
        },
    )
    assert set(wrong.json()["fields"]) == {"ends_on", "adhoc_dates[0]"}
    quarterly = await manager.put(
        url,
        json={"frequency": "quarterly", "starts_on": "2026-09-01", "ends_on": "2027-08-31", "due_days": 15},
    )
    assert quarterly.status_code == 200, quarterly.text
    periods = quarterly.json()["periods"]
    # 2026-09 has a report: kept; the quarter 2026-Q3 (from 2026-09-01) would overlap it: left out
    assert [(p["label"], p["starts_on"], p["ends_on"], p["due_on"]) for p in periods] == [
        ("2026-09", "2026-09-01", "2026-09-30", "2026-10-10"),
        ("2026-Q4", "2026-10-01", "2026-12-31", "2027-01-15"),
        ("2027-Q1", "2027-01-01", "2027-03-31", "2027-04-15"),
        ("2027-Q2", "2027-04-01", "2027-06-30", "2027-07-15"),
        ("2027-Q3", "2027-07-01", "2027-08-31", "2027-09-15"),
    ]
    assert (await manager.get(url)).json()["reminder_days"] == [-7, -1, 3, 10]
    founder = await as_(make_client, world, "founder")
    future = next(p["id"] for p in periods if p["label"] == "2027-Q1")
    early = await founder.put(
        f"{API}/startups/{world.ids['startup']}/reports/{future}", json={"answers": NO, "values": BASE}
    )
    assert (early.status_code, early.json()["code"]) == (409, "period_not_open")
    assert (
        await founder.put(url, json={"starts_on": "2026-09-01", "ends_on": "2026-12-31"})
    ).status_code == 403
    empty = f"{API}/cohorts/{world.ids['empty_cohort']}/schedule"
    assert (await manager.get(empty)).json() is None


async def test_random_schedules_replace_each_other_without_overlaps(make_client, world):
    """Schedules saved one after another over a cohort with a report: the periods stay contiguous
    runs that never overlap, the reported period survives every change, each is due on time."""
    manager = await as_(make_client, world, "manager")
    url = f"{API}/cohorts/{world.ids['cohort']}/schedule"
    rng = random.Random(12)
    for _ in range(8):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(400))
        end = start + dt.timedelta(days=rng.randrange(1, 900))
        frequency = rng.choice(["monthly", "quarterly", "yearly", "adhoc"])
        dates = sorted({start + dt.timedelta(days=rng.randrange((end - start).days + 1)) for _ in range(5)})
        body = {
            "frequency": frequency,
            "starts_on": str(start),
            "ends_on": str(end),
            "due_days": rng.randrange(40),
        }
        if frequency == "adhoc":
            body["adhoc_dates"] = [str(d) for d in dates]
        answer = await manager.put(url, json=body)
        assert answer.status_code == 200, answer.text
        rows = (
            await ReportPeriod.select()
            .where(ReportPeriod.cohort == world.ids["cohort"])
            .order_by(ReportPeriod.starts_on)
        )
        assert world.ids["period"] in {r["id"] for r in rows}
        for a, b in itertools.pairwise(rows):
            assert a["ends_on"] < b["starts_on"], (body, a, b)
        for r in rows:
            assert r["starts_on"] <= r["ends_on"]
            if r["id"] != world.ids["period"]:
                assert r["due_on"] == r["ends_on"] + dt.timedelta(days=body["due_days"])


async def test_custom_metrics_are_added_changed_archived_and_asked_for(make_client, world):
    manager = await as_(make_client, world, "manager")
    url = f"{API}/programmes/{world.ids['programme']}/metrics"
    created = await manager.post(
        url, json={"key": "cross_border_orders", "name_en": "Orders shipped abroad", "question": "sales"}
    )
    assert created.status_code == 201, created.text
    metric = created.json()
    for key in ("cross_border_orders", "revenue"):
        taken = await manager.post(url, json={"key": key, "name_en": "Again"})
        assert (taken.status_code, taken.json()["code"]) == (409, "metric_key_taken")
    nameless = await manager.post(url, json={"key": "nameless", "name_en": "  "})
    assert nameless.status_code == 422
    badly_keyed = await manager.post(url, json={"key": "Orders-2", "name_en": "Orders"})
    assert badly_keyed.json()["fields"] == {"key": service.KEY_FORM}
    founder = await as_(make_client, world, "founder")
    form = (await founder.get(report_url(world))).json()
    assert "cross_border_orders" in {m["key"] for m in form["metrics"]}
    missing = await founder.put(report_url(world), json={"answers": YES, "values": SALES})
    assert missing.json()["fields"] == {
        "values.cross_border_orders": "is due: give a value (0 if there is none)"
    }
    archived = await manager.patch(
        f"{API}/metrics/{metric['id']}", json={"archived": True, "name_zh": "跨境订单"}
    )
    assert archived.json()["archived"] is True
    assert archived.json()["name_zh"] == "跨境订单"
    filed = await founder.put(report_url(world), json={"answers": YES, "values": SALES})
    assert filed.status_code == 200, filed.text
    listed = (await manager.get(url)).json()
    assert [m["key"] for m in listed] == ["live_stores", "cross_border_orders"]
    assert (await founder.get(url)).status_code == 403
    assert (await founder.post(url, json={"key": "mine", "name_en": "Mine"})).status_code == 403


async def test_the_pages_show_each_caller_what_they_may_see(make_client, world):
    startup, period, cohort = world.ids["startup"], world.ids["period"], world.ids["cohort"]
    html = {"accept": "text/html"}
    founder = await as_(make_client, world, "founder")
    tab = await founder.get(f"/incubator/startups/{startup}/reports", headers=html)
    assert tab.status_code == 200
    assert "mentors_see_financials" in tab.text
    assert "File the report" in tab.text
    form = await founder.get(f"/incubator/startups/{startup}/reports/{world.ids['period_2']}", headers=html)
    assert 'name="values.revenue"' in form.text
    assert 'name="answers.sales"' in form.text
    filed = await founder.get(f"/incubator/startups/{startup}/reports/{period}", headers=html)
    assert 'value="12000.50"' in filed.text
    assert 'name="expected_version" value="1"' in filed.text
    manager = await as_(make_client, world, "manager")
    due = await manager.get(f"/incubator/cohorts/{cohort}/reports", headers=html)
    assert due.status_code == 200
    assert "Steppe Logistics" in due.text
    assert "2026-11" in due.text
    assert "reports/export?format=xlsx" in due.text
    metrics = await manager.get(f"/incubator/programmes/{world.ids['programme']}/metrics", headers=html)
    assert "live_stores" in metrics.text
    assert "Add a metric" in metrics.text
    shown = await manager.get(f"/incubator/startups/{startup}/reports/{period}", headers=html)
    assert "12000.50" in shown.text
    assert 'name="values.revenue"' not in shown.text  # managers read, founders file
    viewer = await as_(make_client, world, "viewer")
    read_only = await viewer.get(f"/incubator/programmes/{world.ids['programme']}/metrics", headers=html)
    assert read_only.status_code == 200
    assert "Add a metric" not in read_only.text


async def test_a_period_not_begun_offers_no_form(make_client, world):
    manager = await as_(make_client, world, "manager")
    body = {"frequency": "monthly", "starts_on": "2026-09-01", "ends_on": "2027-02-28"}
    periods = (await manager.put(f"{API}/cohorts/{world.ids['cohort']}/schedule", json=body)).json()[
        "periods"
    ]
    later = next(p["id"] for p in periods if p["label"] == "2027-01")
    founder = await as_(make_client, world, "founder")
    page = await founder.get(
        f"/incubator/startups/{world.ids['startup']}/reports/{later}", headers={"accept": "text/html"}
    )
    assert "This period begins on" in page.text
    assert 'name="values.headcount"' not in page.text


async def test_a_schedule_replaced_while_reports_are_filed_loses_no_report(make_client, world):
    """The schedule's replacement and first submissions on the periods it drops, at once: each report
    is either filed and its period kept, or its founder is told the period is gone; never a report
    acknowledged and then deleted with its period."""
    manager = await as_(make_client, world, "manager")
    founders = [await as_(make_client, world, who) for who in ("founder", "other_founder")]
    startups = [world.ids["startup"], world.ids["other_startup"]]
    url = f"{API}/cohorts/{world.ids['cohort']}/schedule"
    monthly = {"frequency": "monthly", "starts_on": "2026-01-01", "ends_on": "2027-08-31"}
    quarterly = {**monthly, "frequency": "quarterly"}
    months = [f"2026-{m:02d}" for m in range(1, 9)]
    for _ in range(3):
        periods = {p["label"]: p["id"] for p in (await manager.put(url, json=monthly)).json()["periods"]}
        calls = [
            (periods[month], startup, client.put(
                f"{API}/startups/{startup}/reports/{periods[month]}", json={"answers": NO, "values": BASE}
            ))
            for month in months
            for client, startup in zip(founders, startups, strict=True)
        ]  # fmt: skip
        replaced, *filed = await asyncio.gather(manager.put(url, json=quarterly), *(c for *_, c in calls))
        assert replaced.status_code == 200, replaced.text
        for (period, startup, _), answer in zip(calls, filed, strict=True):
            kept = await ReportPeriod.exists().where(ReportPeriod.id == period)
            stored = await Report.exists().where((Report.period == period) & (Report.startup == startup))
            if answer.status_code == 200:  # acknowledged: kept
                assert stored
                assert kept
            elif answer.status_code == 404:  # the period went first
                assert not kept
            else:  # filed in an earlier round
                assert answer.json()["code"] == "report_exists"
                assert stored
                assert kept
