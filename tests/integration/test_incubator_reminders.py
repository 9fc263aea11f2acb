"""Report reminders: only the founders of active startups without the period's report are mailed,
in their language, with the report's link; only the latest reminder due goes out (older ones are
recorded as skipped, never sent late); a run repeated, interrupted, or run twice at once (in one
process, and by two real workers) sends each reminder once.

The test world's cohort reports monthly: September 2026 due 2026-10-10 (``startup`` filed it),
October due 11-10, November due 12-10; reminders 7 and 1 days before, 3 and 10 days after.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend import tasks
from backend.accounts.tables import User
from backend.db import utcnow
from backend.mail.jobs import flush_outbox
from backend.mail.tables import OutboxEmail
from incubator.reminders import service
from incubator.reminders.service import remind
from incubator.tables import Founder, ReminderSent, Report, ReportPeriod, ReportSchedule, Startup
from tests.integration.incubator_world import World, build_world

pytestmark = pytest.mark.anyio

PODIUM = Path(sys.executable).parent / "podium"
BASE = "http://podium.test"


@pytest.fixture
async def world(db) -> World:
    return await build_world()


async def mails() -> list[dict]:
    return await OutboxEmail.select(
        OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body_text
    ).order_by(OutboxEmail.id)


async def sent_rows() -> set[tuple[int, int, int, bool]]:
    rows = await ReminderSent.select(
        ReminderSent.period, ReminderSent.startup, ReminderSent.days, ReminderSent.skipped
    )
    return {(r["period"], r["startup"], r["days"], r["skipped"]) for r in rows}


def link(world: World, startup: str, period: str) -> str:
    return f"{BASE}/incubator/startups/{world.ids[startup]}/reports/{world.ids[period]}"


async def test_founders_of_startups_without_the_report_get_the_latest_reminder_in_their_language(world):
    await User.update({User.locale: "ru"}).where(User.id == world.users["cofounder"])
    await User.update({User.locale: "zh"}).where(User.id == world.users["other_founder"])
    outcome = await remind(BASE, dt.date(2026, 11, 12))

    # September: startup filed it; other_startup gets its last reminder (+10, 2026-10-20), the three
    # before recorded as skipped. October: both get the day-before one, the week-before one skipped.
    sep, oct_, s, o = (
        world.ids["period"],
        world.ids["period_2"],
        world.ids["startup"],
        world.ids["other_startup"],
    )
    assert await sent_rows() == {
        (sep, o, -7, True),
        (sep, o, -1, True),
        (sep, o, 3, True),
        (sep, o, 10, False),
        (oct_, s, -7, True),
        (oct_, s, -1, False),
        (oct_, o, -7, True),
        (oct_, o, -1, False),
    }
    assert outcome == service.Outcome(sent=3, skipped=5, mails=4)
    by_address = collections.defaultdict(list)
    for mail in await mails():
        by_address[mail["to_address"]].append(mail)
    assert set(by_address) == {world.email(w) for w in ("founder", "cofounder", "other_founder")}
    [founder] = by_address[world.email("founder")]
    assert founder["subject"] == "Reminder: the 2026-10 report of Silk Road Labs is due on 2026-11-10"
    assert link(world, "startup", "period_2") in founder["body_text"]
    assert "Silk Road Incubator" in founder["body_text"]
    [cofounder] = by_address[world.email("cofounder")]
    assert cofounder["subject"].startswith("Напоминание: отчёт Silk Road Labs за 2026-10")
    assert "Инкубатор Шёлкового пути" in cofounder["body_text"]
    late, ahead = by_address[world.email("other_founder")]
    assert late["subject"] == "逾期：Steppe Logistics 的 2026-09 报告已于 2026-10-10 截止"
    assert link(world, "other_startup", "period") in late["body_text"]
    assert link(world, "other_startup", "period_2") in ahead["body_text"]


async def test_a_rerun_sends_nothing_more_and_a_report_or_a_closed_startup_stops_the_reminders(world):
    first = await remind(BASE, dt.date(2026, 11, 12))
    assert await remind(BASE, dt.date(2026, 11, 12)) == service.Outcome(0, 0, 0)
    assert await OutboxEmail.count() == first.mails

    # other_startup files October's report, startup closes: three days after the due date, no one
    # is reminded of October.
    await Report(period=world.ids["period_2"], startup=world.ids["other_startup"]).save()
    await Startup.update({Startup.status: "closed"}).where(Startup.id == world.ids["startup"])
    assert await remind(BASE, dt.date(2026, 11, 13)) == service.Outcome(0, 0, 0)
    await Startup.update({Startup.status: "active"}).where(Startup.id == world.ids["startup"])
    assert await remind(BASE, dt.date(2026, 11, 13)) == service.Outcome(sent=1, skipped=0, mails=2)
    assert await OutboxEmail.count() == first.mails + 2


async def test_run_daily_each_reminder_goes_out_on_its_day_and_a_past_schedule_is_not_mailed(world):
    day, sent_on = dt.date(2026, 10, 1), {}
    while day <= dt.date(2026, 10, 21):
        await remind(BASE, day)
        for row in await ReminderSent.select(ReminderSent.days, ReminderSent.skipped):
            sent_on.setdefault(row["days"], day)
            assert not row["skipped"]
        day += dt.timedelta(days=1)
    due = dt.date(2026, 10, 10)  # September's, which only other_startup has not filed
    assert sent_on == {d: due + dt.timedelta(days=d) for d in (-7, -1, 3, 10)}
    assert await ReminderSent.count() == 4
    assert await OutboxEmail.count() == 4

    # A cohort reporting since 2025 (periods set up today, after the fact): only what is recent goes out.
    await ReminderSent.delete(force=True)
    old = ReportPeriod(
        cohort=world.ids["cohort"],
        label="2025-12",
        starts_on=dt.date(2025, 12, 1),
        ends_on=dt.date(2025, 12, 31),
        due_on=dt.date(2026, 1, 10),
    )
    await old.save()
    assert await remind(BASE, dt.date(2026, 11, 12)) == service.Outcome(sent=3, skipped=5, mails=4)
    assert await ReminderSent.count().where(ReminderSent.period == old.id) == 0


async def test_random_schedules_and_run_days_send_the_latest_due_reminder_once_and_nothing_else(world):
    """Property: whatever the reminder days and whichever days the job runs on, each run records every
    reminder due whose period's latest due reminder is at most 30 days old, sends exactly that latest
    one (if not sent before) to the founders, skips the older ones, and nothing is recorded twice."""
    rng = random.Random(12)
    due = {
        world.ids[key]: r["due_on"]
        for key in ("period", "period_2", "period_3")
        for r in await ReportPeriod.select(ReportPeriod.due_on).where(ReportPeriod.id == world.ids[key])
    }
    founders = {world.ids["startup"]: 2, world.ids["other_startup"]: 1}
    filed = {(world.ids["period"], world.ids["startup"])}
    for _ in range(6):
        await ReminderSent.delete(force=True)
        await OutboxEmail.delete(force=True)
        days = sorted(rng.sample(range(-60, 121), rng.randint(1, 5)))
        await ReportSchedule.update({ReportSchedule.reminder_days: days}).where(
            ReportSchedule.cohort == world.ids["cohort"]
        )
        run_days = sorted(rng.sample(range(0, 200), rng.randint(1, 5)))
        recorded: set[tuple[int, int, int]] = set()
        for offset in run_days:
            today = dt.date(2026, 9, 1) + dt.timedelta(days=offset)
            outcome = await remind(BASE, today)
            rows = await ReminderSent.select().where(
                ReminderSent.id > (max((r[3] for r in recorded), default=0))
            )
            new = {(r["period"], r["startup"], r["days"], r["id"], r["skipped"]) for r in rows}
            expected_mails = 0
            for period, startup, d, _, skipped in new:
                reached = [x for x in days if due[period] + dt.timedelta(days=x) <= today]
                latest = max(reached)
                assert d in reached
                assert (period, startup) not in filed
                assert due[period] + dt.timedelta(days=latest) >= today - service.LATE_LIMIT
                assert skipped == (d != latest)
                expected_mails += 0 if skipped else founders[startup]
            assert outcome.mails == expected_mails == await OutboxEmail.count()
            await OutboxEmail.delete(force=True)
            recorded |= {(p, s, d, i) for p, s, d, i, _ in new}
            for period, on in due.items():
                reached = [x for x in days if on + dt.timedelta(days=x) <= today]
                if reached and on + dt.timedelta(days=max(reached)) >= today - service.LATE_LIMIT:
                    for startup in founders:
                        if (period, startup) not in filed:
                            assert any(r[:3] == (period, startup, max(reached)) for r in recorded)
        assert len({r[:3] for r in recorded}) == len(recorded) == await ReminderSent.count()


class Recorder:
    """A job queue that only notes what it is handed."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple, str | None]] = []

    async def enqueue(self, name: str, *args, job_id: str | None = None) -> None:
        self.jobs.append((name, args, job_id))

    async def close(self) -> None:
        pass


async def test_the_mails_are_handed_to_one_flush_on_commit_which_delivers_them(world, settings):
    recorder = Recorder()
    previous = tasks.install(recorder)
    try:
        await remind(BASE, dt.date(2026, 11, 12))
    finally:
        tasks.install(previous)
    first = await OutboxEmail.select(OutboxEmail.id).order_by(OutboxEmail.id).first()
    assert recorder.jobs == [("flush_outbox", (), f"mail:flush:{first['id']}")]  # not a job per mail
    assert await flush_outbox({"settings": settings}) == {"sent": 4}
    assert await OutboxEmail.count().where(OutboxEmail.status == "sent") == 4


async def test_an_interrupted_run_rolls_back_and_the_next_sends_once(world, monkeypatch):
    async def broken(messages, progress=None):
        raise RuntimeError("worker killed while queuing")

    monkeypatch.setattr(service, "queue_emails", broken)
    with pytest.raises(RuntimeError):
        await remind(BASE, dt.date(2026, 11, 12))
    assert await ReminderSent.count() == 0
    assert await OutboxEmail.count() == 0
    monkeypatch.undo()
    assert (await remind(BASE, dt.date(2026, 11, 12))).mails == 4
    assert await remind(BASE, dt.date(2026, 11, 12)) == service.Outcome(0, 0, 0)
    assert await OutboxEmail.count() == 4


async def crowd(world: World, startups: int, today: dt.date) -> None:
    """``startups`` more active startups of two founders each in the cohort, reporting monthly with
    October 2026 due ``today`` + 1 (so the day-before reminder is due)."""
    await ReportSchedule.update({ReportSchedule.reminder_days: [-7, -1, 3, 10]}).where(
        ReportSchedule.cohort == world.ids["cohort"]
    )
    await ReportPeriod.update({ReportPeriod.due_on: today + dt.timedelta(days=1)}).where(
        ReportPeriod.id == world.ids["period_2"]
    )
    await ReportPeriod.update({ReportPeriod.due_on: today + dt.timedelta(days=40)}).where(
        ReportPeriod.id == world.ids["period_3"]
    )
    await ReportPeriod.update({ReportPeriod.due_on: today - dt.timedelta(days=60)}).where(
        ReportPeriod.id == world.ids["period"]
    )
    password = (await User.select(User.password).where(User.id == world.users["founder"]).first())["password"]
    users = await User.insert(
        *(
            User.account(f"crowd{n}@incubator.example", password, f"Crowd {n}", "en")
            for n in range(2 * startups)
        )
    ).returning(User.id)
    rows = await Startup.insert(
        *(
            Startup(programme=world.ids["programme"], cohort=world.ids["cohort"], name=f"Crowd {n}")
            for n in range(startups)
        )
    ).returning(Startup.id)
    await Founder.insert(
        *(Founder(startup=r["id"], user=users[2 * n + k]["id"]) for n, r in enumerate(rows) for k in (0, 1))
    )


async def assert_each_mail_once(reminders: int, count: int) -> None:
    assert await ReminderSent.count() == reminders
    per_mail = collections.Counter((m["to_address"], m["subject"]) for m in await mails())
    assert sum(per_mail.values()) == count
    assert set(per_mail.values()) == {1}


async def test_runs_at_once_send_each_reminder_once(world):
    today = dt.date(2026, 11, 12)
    await crowd(world, 150, today)
    outcomes = await asyncio.gather(*(remind(BASE, today) for _ in range(4)))
    # October's day-before reminder for the 152 startups (the week-before one skipped): 303 founders.
    assert sum(o.sent for o in outcomes) == 152
    assert sum(o.skipped for o in outcomes) == 152
    assert sum(o.mails for o in outcomes) == 303
    await assert_each_mail_once(304, 303)


def start_worker(log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([str(PODIUM), "worker"], stdout=out, stderr=subprocess.STDOUT)


async def test_two_real_workers_at_once_send_each_reminder_once(world, tmp_path):
    """Two ``podium worker`` processes start together; each runs the job at start-up."""
    await crowd(world, 150, utcnow().date())
    log = tmp_path / "workers.log"
    workers = [start_worker(log) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120  # a worker starts in 2 s on a quiet machine, 20 s under load
        while log.read_text().count("send_report_reminders ●") < 2:  # both runs ended
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.to_thread(worker.wait, 30)
    await assert_each_mail_once(304, 303)


def test_the_command_on_the_embedded_sqlite_default(tmp_path):
    """``podium incubator remind`` with its progress, on SQLite (dates as text, ``json_each``), where the
    command is how reminders go (no worker runs the job)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env["PODIUM_DATA_DIR"] = str(tmp_path)

    def podium(*args: str) -> tuple[str, str]:
        done = subprocess.run([str(PODIUM), *args], capture_output=True, text=True, env=env, timeout=180)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip(), done.stderr

    podium("migrate")
    with sqlite3.connect(tmp_path / "podium.sqlite") as conn:
        for sql in (
            "INSERT INTO organization (id, slug) VALUES (1, 'o')",
            "INSERT INTO incubation_programme (id, organization, slug, name_en) VALUES (1, 1, 'p', 'Steppe')",
            "INSERT INTO incubation_cohort (id, programme, name, starts_on, ends_on)"
            " VALUES (1, 1, 'c', '2026-09-01', '2027-08-31')",
            "INSERT INTO incubation_report_schedule (cohort, starts_on, ends_on) VALUES (1, '2026-09-01', '2026-11-30')",
            "INSERT INTO incubation_report_period (id, cohort, label, starts_on, ends_on, due_on)"
            " VALUES (7, 1, '2026-10', '2026-10-01', '2026-10-31', '2026-11-10')",
            "INSERT INTO incubation_startup (id, programme, cohort, name) VALUES (3, 1, 1, 'Yurt')",
            "INSERT INTO podium_user (id, username, email, password, active, admin, superuser, locale)"
            " VALUES (5, 'f@x.example', 'f@x.example', '!', 1, 0, 0, 'ru')",
            'INSERT INTO incubation_founder (startup, "user") VALUES (3, 5)',
        ):
            conn.execute(sql)
    out, progress = podium("incubator", "remind", "--today", "2026-11-14")
    assert out == "1 reminders sent (1 mails), 2 skipped as late"
    assert "Queuing report reminders: 1/1 (100%)" in progress
    with sqlite3.connect(tmp_path / "podium.sqlite") as conn:
        [(to, subject, body)] = conn.execute(
            "SELECT to_address, subject, body_text FROM outbox_email"
        ).fetchall()
    assert (to, subject) == ("f@x.example", "Просрочено: отчёт Yurt за 2026-10 нужно было сдать 2026-11-10")
    assert "/incubator/startups/3/reports/7" in body
