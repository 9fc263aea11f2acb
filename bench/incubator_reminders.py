"""Report reminders for 10,000 startups (issue 12): one run of the reminder job, then two at once.

Run: ``make bench-reminders`` (``.venv/bin/python -m bench.incubator_reminders [--startups 10000]``).
It creates a scratch PostgreSQL database (dropped at the end) and seeds straight into it a programme
of ``--startups`` startups in cohorts of 40, two founders each, reporting monthly with reminders 7
and 1 days before the due date and 3 and 10 after; a year of history (12 past periods: 95 % of the
reports filed, the reminders of each recorded as the job would have sent them) and the current
period, due tomorrow, whose week-before reminder went out, except to every tenth startup (the
worker was down). So the measured run sends every startup the day-before reminder (two mails
each) and records every tenth one's missed week-before reminder as skipped.

Each measured run is ``incubator.reminders.service.remind`` in a process of its own (as an arq
worker runs it), timed inside that process from the call to its return (the transaction committed):
first one alone, then, after the reminders and mails it made are deleted, two processes started
together and released at the same instant. After each: every reminder recorded once and every mail
in the outbox once (no address with the same subject twice). Target: ≤ 10 s, exactly once.
Settings as in ``bench.harness``. Progress on stderr, a Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from bench import harness

COHORT = 40
PAST = 12  # monthly periods before the current one

# Bulk rows in SQL (generate_series), each statement with the names of its parameters ($1, $2 ...).
_BULK = (
    (
        """INSERT INTO organization (slug, kind, name_en) VALUES ('bench-alliance', 'alliance', 'Bench alliance')""",
        (),
    ),
    (
        """INSERT INTO incubation_programme (organization, slug, name_en, name_zh, name_ru)
SELECT id, 'bench-incubator', 'Bench incubator', '基准孵化器', 'Тестовый инкубатор' FROM organization""",
        (),
    ),
    (
        """INSERT INTO incubation_cohort (programme, name, starts_on, ends_on, places)
SELECT (SELECT id FROM incubation_programme), 'Cohort ' || g, $2::date - 400, $2::date + 400, $3
FROM generate_series(1, ($1::int + $3::int - 1) / $3::int) g""",
        ("startups", "today", "cohort"),
    ),
    (
        """INSERT INTO incubation_report_schedule (cohort, frequency, starts_on, ends_on, due_days, reminder_days)
SELECT id, 'monthly', $1::date - 400, $1::date + 400, 10, '[-7, -1, 3, 10]' FROM incubation_cohort""",
        ("today",),
    ),
    (
        """INSERT INTO podium_user (username, email, password, display_name, active, admin, superuser, locale,
    email_confirmed_at)
SELECT 'founder' || g || '@bench.example', 'founder' || g || '@bench.example', '!', 'Founder ' || g, TRUE, FALSE,
    FALSE, (ARRAY['zh', 'en', 'ru'])[1 + g % 3], CURRENT_TIMESTAMP
FROM generate_series(1, 2 * $1) g""",
        ("startups",),
    ),
    (
        """INSERT INTO incubation_startup (programme, cohort, name, status)
SELECT (SELECT id FROM incubation_programme), (SELECT min(id) FROM incubation_cohort) + (g - 1) / $2,
    'Startup ' || g, 'active'
FROM generate_series(1, $1) g""",
        ("startups", "cohort"),
    ),
    (
        """INSERT INTO incubation_founder (startup, "user", role)
SELECT s.id, u.id, CASE WHEN u.id % 2 = 1 THEN 'lead' ELSE 'founder' END
FROM incubation_startup s
JOIN podium_user u ON u.email IN ('founder' || (2 * s.id - 1) || '@bench.example', 'founder' || (2 * s.id) || '@bench.example')""",
        (),
    ),
    (
        """INSERT INTO incubation_report_period (cohort, label, starts_on, ends_on, due_on)
SELECT c.id, 'P' || k, $1::date - 40 - 30 * ($2 - k), $1::date - 10 - 30 * ($2 - k), $1::date + 1 - 30 * ($2 - k)
FROM incubation_cohort c CROSS JOIN generate_series(0, $2) k""",
        ("today", "past"),
    ),
    (
        """INSERT INTO incubation_report (period, startup, version, answers, revenue, headcount)
SELECT p.id, s.id, 1, '{}', 1000, 3
FROM incubation_report_period p JOIN incubation_startup s ON s.cohort = p.cohort
WHERE p.due_on < $1::date AND (s.id * 7 + p.id) % 20 <> 0""",
        ("today",),
    ),
    (
        # the past periods' reminders: before the due date to everyone, after it to those who never filed
        """INSERT INTO incubation_reminder_sent (period, startup, days, sent_at)
SELECT p.id, s.id, d, p.due_on + d
FROM incubation_report_period p JOIN incubation_startup s ON s.cohort = p.cohort
CROSS JOIN unnest(ARRAY[-7, -1, 3, 10]) d
WHERE p.due_on < $1::date AND (d < 0 OR NOT EXISTS (
    SELECT 1 FROM incubation_report r WHERE r.period = p.id AND r.startup = s.id))""",
        ("today",),
    ),
    (
        # the current period's week-before reminder, missed by every tenth startup
        """INSERT INTO incubation_reminder_sent (period, startup, days, sent_at)
SELECT p.id, s.id, -7, p.due_on - 7
FROM incubation_report_period p JOIN incubation_startup s ON s.cohort = p.cohort
WHERE p.due_on > $1::date AND s.id % 10 <> 0""",
        ("today",),
    ),
)


async def seed(startups: int, out: Path) -> None:
    """Runs in a child process whose environment points at the scratch database."""
    import asyncpg

    from backend.db import utcnow
    from backend.settings import get_settings

    today = utcnow().date()
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        async with conn.transaction():
            values = {"startups": startups, "today": today, "cohort": COHORT, "past": PAST}
            for statement, keys in _BULK:
                await conn.execute(statement, *(values[k] for k in keys))
        await conn.execute("ANALYZE")
        counts = {
            table: await conn.fetchval(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - constant names
            for table in ("incubation_startup", "incubation_report", "incubation_reminder_sent")
        }
    finally:
        await conn.close()
    out.write_text(json.dumps(counts | {"today": today.isoformat()}))  # noqa: ASYNC240


def run(out: Path, start_at: float) -> int:
    """One run of the job in this process, released at ``start_at`` (a wall-clock time), timed."""
    from backend import domain, tasks
    from backend.commands import run_async
    from backend.settings import get_settings
    from incubator.reminders import service

    async def timed() -> int:
        queue = await tasks.queue_for(get_settings(), domain.jobs())  # the mails' flush job goes to Redis
        previous = tasks.install(queue)
        try:
            await asyncio.sleep(max(0.0, start_at - time.time()))
            started = time.time()
            outcome = await service.remind(get_settings().base_url)
            ended = time.time()
        finally:
            tasks.install(previous)
            await queue.close()
        figures = {"started": started, "ended": ended, "sent": outcome.sent, "skipped": outcome.skipped}
        out.write_text(json.dumps(figures | {"mails": outcome.mails}))  # noqa: ASYNC240
        return 0

    return run_async(timed)


async def check(database_url: str) -> dict:
    """What the runs left: reminders recorded today, mails, and mails the same as another."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return {
            "recorded": await conn.fetchval(
                "SELECT COUNT(*) FROM incubation_reminder_sent WHERE sent_at > now() - interval '1 hour'"
            ),
            "mails": await conn.fetchval("SELECT COUNT(*) FROM outbox_email"),
            "duplicates": await conn.fetchval(
                "SELECT COUNT(*) FROM (SELECT to_address, subject FROM outbox_email"
                " GROUP BY to_address, subject HAVING COUNT(*) > 1) d"
            ),
        }
    finally:
        await conn.close()


async def reset(database_url: str) -> None:
    """Forget what a measured run made, so the next finds the same work."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM incubation_reminder_sent WHERE sent_at > now() - interval '1 hour'")
        await conn.execute("DELETE FROM outbox_email")
        await conn.execute("VACUUM ANALYZE incubation_reminder_sent")
    finally:
        await conn.close()


def runs(db: harness.Scratch, count: int) -> list[dict]:
    """``count`` processes each running the job once, released together once all have started."""
    start_at = time.time() + 12  # every process has imported Podium and opened its pool by then
    outs = [db.data_dir / f"run{i}.json" for i in range(count)]
    command = [sys.executable, "-m", "bench.incubator_reminders", "--start-at", str(start_at), "--run"]
    procs = [subprocess.Popen([*command, str(out)], env=db.env, cwd=harness.ROOT) for out in outs]
    for proc in procs:
        if proc.wait(120) != 0:
            raise RuntimeError("a run failed")
    return [json.loads(out.read_text()) for out in outs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--startups", type=int, default=10_000)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.startups, Path(args.seed)))
        return 0
    if args.run:
        return run(Path(args.run), args.start_at)

    with harness.scratch("podium_bench_reminders", f"{args.startups} startups") as db:
        started = time.perf_counter()
        seeded = db.seed("bench.incubator_reminders", "--startups", str(args.startups))
        harness.log(f"seeded {seeded} in {time.perf_counter() - started:.1f} s")
        url = db.env["PODIUM_DATABASE_URL"]
        load = harness.load_average()
        [alone] = runs(db, 1)
        alone_check = asyncio.run(check(url))
        harness.log(f"one run: {alone}, {alone_check}")
        asyncio.run(reset(url))
        load_pair = harness.load_average()
        pair = runs(db, 2)
        pair_check = asyncio.run(check(url))
        harness.log(f"two runs at once: {pair}, {pair_check}")

    expected_sent = args.startups
    expected_skipped = args.startups // 10
    expected = {"recorded": expected_sent + expected_skipped, "mails": 2 * expected_sent, "duplicates": 0}
    pair_wall = max(r["ended"] for r in pair) - min(r["started"] for r in pair)
    overlap = min(r["ended"] for r in pair) - max(r["started"] for r in pair)
    alone_s = alone["ended"] - alone["started"]
    once = alone_check == expected and pair_check == expected
    once = once and sum(r["sent"] for r in pair) == expected_sent and alone["sent"] == expected_sent
    met = once and alone_s <= 10 and pair_wall <= 10

    print(
        f"{harness.machine()}; PostgreSQL; {seeded['incubation_startup']} startups in cohorts of {COHORT}, "
        f"2 founders each, {PAST} past monthly periods ({seeded['incubation_report']} reports, "
        f"{seeded['incubation_reminder_sent']} reminders recorded before the run); 1-minute load average "
        f"at the start: {load} (one run), {load_pair} (two at once)."
    )
    print()
    print(
        "| run | reminder job (call → committed) | reminders sent | skipped | mails queued | exactly once |"
    )
    print("|---|---:|---:|---:|---:|---|")
    print(
        f"| one alone | {alone_s:.2f} s | {alone['sent']} | {alone['skipped']} | {alone['mails']} "
        f"| {'yes' if alone_check == expected else f'NO: {alone_check}'} |"
    )
    for i, r in enumerate(pair, 1):
        print(
            f"| two at once: process {i} | {r['ended'] - r['started']:.2f} s | {r['sent']} | {r['skipped']} "
            f"| {r['mails']} | |"
        )
    print(
        f"| two at once: first start → last commit | {pair_wall:.2f} s (overlap {max(overlap, 0):.2f} s) "
        f"| {sum(r['sent'] for r in pair)} | {sum(r['skipped'] for r in pair)} | {sum(r['mails'] for r in pair)} "
        f"| {'yes' if pair_check == expected else f'NO: {pair_check}'} |"
    )
    print()
    print(f"Target: ≤ 10 s and each reminder and mail exactly once: {'met' if met else 'missed'}.")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
