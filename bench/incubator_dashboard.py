"""The programme dashboard over 1,000 startups × 36 monthly reports (issue 12).

Run: ``make bench-incubator-dashboard`` (``.venv/bin/python -m bench.incubator_dashboard
[--startups 1000] [--requests 100]``). It creates a scratch PostgreSQL database (dropped at the end)
and seeds straight into it a programme of ``--startups`` startups in cohorts of 40 (85 % operating,
5 % graduated, 7 % closed, 3 % withdrawn), each with 36 past monthly periods of which 95 % are
reported (every metric, some late), 12 meetings, 5 milestones, 3 support promises (two of them
partly delivered), 20 mentors and a manager with an API token.

Then, in a process of its own (the app in process, requests through its ASGI interface as a client
would send them, one at a time): ``GET /api/v1/incubator/programmes/{id}/dashboard`` as the manager
(``--requests`` times after 5 to warm up), the same for a cohort and for one startup, and the
service call alone (the three queries and the access check, no HTTP). Target: the programme
dashboard's p95 ≤ 300 ms. Settings as in ``bench.harness``. Progress on stderr, a Markdown report
on stdout.
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
MONTHS = 36

# Bulk rows in SQL (generate_series), each statement with the names of its parameters ($1, $2 ...).
_BULK = (
    (
        "INSERT INTO organization (slug, kind, name_en) VALUES ('bench-alliance', 'alliance', 'Bench alliance')",
        (),
    ),
    (
        """INSERT INTO incubation_programme (organization, slug, name_en, name_zh, name_ru)
SELECT id, 'bench-incubator', 'Bench incubator', '基准孵化器', 'Тестовый инкубатор' FROM organization""",
        (),
    ),
    (
        """INSERT INTO incubation_cohort (programme, name, starts_on, ends_on, places)
SELECT (SELECT id FROM incubation_programme), 'Cohort ' || g,
    (date_trunc('month', $2::date) - make_interval(months => $4))::date, $2::date + 400, $3
FROM generate_series(1, ($1::int + $3::int - 1) / $3::int) g""",
        ("startups", "today", "cohort", "months"),
    ),
    (
        """INSERT INTO incubation_report_period (cohort, label, starts_on, ends_on, due_on)
SELECT c.id, to_char(m, 'YYYY-MM'), m::date, (m + interval '1 month' - interval '1 day')::date,
    (m + interval '1 month' + interval '9 days')::date
FROM incubation_cohort c CROSS JOIN generate_series(
    date_trunc('month', $1::date) - make_interval(months => $2), date_trunc('month', $1::date) - interval '1 month',
    interval '1 month') m""",
        ("today", "months"),
    ),
    (
        """INSERT INTO podium_user (username, email, password, display_name, active, admin, superuser, locale,
    email_confirmed_at)
SELECT 'user' || g || '@bench.example', 'user' || g || '@bench.example', '!', 'User ' || g, TRUE, FALSE, FALSE,
    'en', CURRENT_TIMESTAMP
FROM generate_series(0, 20) g""",
        (),
    ),
    (
        """INSERT INTO incubation_programme_role (programme, "user", role)
SELECT (SELECT id FROM incubation_programme), id, 'manager' FROM podium_user WHERE email = 'user0@bench.example'""",
        (),
    ),
    (
        """INSERT INTO incubation_mentor (programme, "user", expertise)
SELECT (SELECT id FROM incubation_programme), id, '[]' FROM podium_user WHERE email <> 'user0@bench.example'""",
        (),
    ),
    (
        """INSERT INTO incubation_startup (programme, cohort, name, status, closed_on)
SELECT (SELECT id FROM incubation_programme), (SELECT min(id) FROM incubation_cohort) + (g - 1) / $2,
    'Startup ' || g,
    CASE WHEN g % 100 < 85 THEN 'active' WHEN g % 100 < 90 THEN 'graduated' WHEN g % 100 < 97 THEN 'closed'
         ELSE 'withdrawn' END,
    CASE WHEN g % 100 >= 90 THEN $3::date - (g % 300) END
FROM generate_series(1, $1) g""",
        ("startups", "cohort", "today"),
    ),
    (
        """INSERT INTO incubation_report (period, startup, version, answers, revenue, cross_border_gmv,
    funding_raised, headcount, jobs_created, graduate_jobs, customers, patents, custom, first_submitted_at,
    submitted_at)
SELECT p.id, s.id, 1, '{"sales": true}', (s.id * 37 + p.id * 11) % 100000 / 100.0 + 500,
    (s.id * 13 + p.id * 7) % 50000 / 100.0, CASE WHEN (s.id + p.id) % 20 = 0 THEN 100000 END,
    3 + (s.id + p.id) % 12, (s.id + p.id) % 3, LEAST(1, (s.id + p.id) % 3), (s.id * p.id) % 500, 0, '{}',
    p.due_on + ((s.id + p.id) % 15 - 10), p.due_on + ((s.id + p.id) % 15 - 10)
FROM incubation_report_period p JOIN incubation_startup s ON s.cohort = p.cohort
WHERE (s.id * 7 + p.id) % 20 <> 0""",
        (),
    ),
    (
        """INSERT INTO incubation_meeting (startup, mentor, held_at, minutes, topics, attendees)
SELECT s.id, (SELECT min(id) FROM incubation_mentor) + s.id % 20, now() - make_interval(days => (s.id * 3 + k * 90) % 1080),
    30 + k * 5, '[]', '[]'
FROM incubation_startup s CROSS JOIN generate_series(1, 12) k""",
        (),
    ),
    (
        """INSERT INTO incubation_milestone (startup, title, due_on, state)
SELECT s.id, 'Milestone ' || k, $1::date + (k * 60 - 180),
    (ARRAY['planned', 'in_progress', 'achieved', 'dropped'])[1 + (s.id + k) % 4]
FROM incubation_startup s CROSS JOIN generate_series(1, 5) k""",
        ("today",),
    ),
    (
        """INSERT INTO incubation_support_promise (startup, kind, quantity, unit, due_on)
SELECT s.id, (ARRAY['office_space', 'cloud_credits', 'training_hours'])[k], 10 * k,
    (ARRAY['m2', 'credits', 'hours'])[k], $1::date + (k * 90 - 180)
FROM incubation_startup s CROSS JOIN generate_series(1, 3) k""",
        ("today",),
    ),
    (
        """INSERT INTO incubation_support_delivery (promise, quantity, delivered_on)
SELECT sp.id, sp.quantity / 3, $1::date - 30 * d
FROM incubation_support_promise sp CROSS JOIN generate_series(1, 2) d WHERE sp.id % 3 <> 0""",
        ("today",),
    ),
)


async def seed(startups: int, out: Path) -> None:
    """Runs in a child process whose environment points at the scratch database."""
    import asyncpg

    from backend.accounts.tokens import new_api_token
    from backend.db import utcnow
    from backend.settings import get_settings

    today = utcnow().date()
    token, digest = new_api_token()
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        async with conn.transaction():
            values = {"startups": startups, "today": today, "cohort": COHORT, "months": MONTHS}
            for statement, keys in _BULK:
                await conn.execute(statement, *(values[k] for k in keys))
            await conn.execute(
                """INSERT INTO api_token ("user", name, token_hash, scopes)
                   SELECT id, 'bench', $1, 'read write' FROM podium_user WHERE email = 'user0@bench.example'""",
                digest,
            )
        await conn.execute("ANALYZE")
        counts = {
            table: await conn.fetchval(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - constant names
            for table in (
                "incubation_startup",
                "incubation_report",
                "incubation_meeting",
                "incubation_support_delivery",
            )
        }
        ids = {
            "programme": await conn.fetchval("SELECT id FROM incubation_programme"),
            "cohort": await conn.fetchval("SELECT min(id) FROM incubation_cohort"),
            "startup": await conn.fetchval("SELECT min(id) FROM incubation_startup"),
            "manager": await conn.fetchval("SELECT id FROM podium_user WHERE email = 'user0@bench.example'"),
        }
    finally:
        await conn.close()
    out.write_text(json.dumps(counts | ids | {"token": token}))  # noqa: ASYNC240


def run(seeded: dict, requests: int, out: Path) -> int:
    """The measured requests, in this process: the app in process, one request at a time."""
    import httpx

    from backend.app import create_app
    from backend.commands import run_async
    from backend.policy import Principal
    from backend.settings import get_settings
    from incubator.dashboards import service

    async def timed() -> int:
        app = create_app(get_settings())
        figures: dict[str, list[float]] = {}
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            headers = {"authorization": f"Bearer {seeded['token']}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                for name, path in (
                    ("programme", f"programmes/{seeded['programme']}/dashboard"),
                    ("cohort", f"cohorts/{seeded['cohort']}/dashboard"),
                    ("startup", f"startups/{seeded['startup']}/dashboard"),
                ):
                    times = []
                    for i in range(requests + 5):
                        started = time.perf_counter()
                        answer = await client.get(f"/api/v1/incubator/{path}")
                        elapsed = time.perf_counter() - started
                        if answer.status_code != 200:
                            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
                        if i >= 5:
                            times.append(elapsed)
                    figures[name] = times
                    if name == "programme":
                        figures["admitted"] = [answer.json()["totals"]["admitted"]]
            manager = Principal(seeded["manager"], "user0@bench.example", "Manager", "en", False, "token")
            times = []
            for i in range(requests + 5):
                started = time.perf_counter()
                await service.scope_dashboard(manager, seeded["programme"])
                if i >= 5:
                    times.append(time.perf_counter() - started)
            figures["service"] = times
        out.write_text(json.dumps(figures))  # noqa: ASYNC240
        return 0

    return run_async(timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--startups", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.startups, Path(args.seed)))
        return 0
    if args.run:
        return run(json.loads(Path(args.run).with_suffix(".in").read_text()), args.requests, Path(args.run))

    with harness.scratch("podium_bench_dashboard", f"{args.startups} startups") as db:
        started = time.perf_counter()
        seeded = db.seed("bench.incubator_dashboard", "--startups", str(args.startups))
        harness.log(f"seeded {seeded} in {time.perf_counter() - started:.1f} s")
        out = db.data_dir / "run.json"
        out.with_suffix(".in").write_text(json.dumps(seeded))
        load = harness.load_average()
        command = [
            sys.executable,
            "-m",
            "bench.incubator_dashboard",
            "--requests",
            str(args.requests),
            "--run",
        ]
        subprocess.run([*command, str(out)], env=db.env, cwd=harness.ROOT, check=True)
        load_after = harness.load_average()
        figures = json.loads(out.read_text())

    def ms(values: list[float], share: float) -> str:
        return f"{1000 * harness.percentile(values, share):.0f} ms"

    p95 = 1000 * harness.percentile(figures["programme"], 0.95)
    met = p95 <= 300 and figures["admitted"] == [args.startups]
    print(
        f"{harness.machine()}; PostgreSQL; {seeded['incubation_startup']} startups in cohorts of {COHORT}, "
        f"{MONTHS} monthly periods each ({seeded['incubation_report']} reports), "
        f"{seeded['incubation_meeting']} meetings, {seeded['incubation_support_delivery']} support deliveries; "
        f"{args.requests} requests each, one at a time, after 5 to warm up; 1-minute load average "
        f"{load} at the start, {load_after} at the end."
    )
    print()
    print("| read | p50 | p95 | max |")
    print("|---|---:|---:|---:|")
    for name, title in (
        ("programme", "programme dashboard (HTTP)"),
        ("cohort", "cohort dashboard, 40 startups (HTTP)"),
        ("startup", "startup dashboard (HTTP)"),
        ("service", "programme dashboard, service call alone"),
    ):
        values = figures[name]
        print(f"| {title} | {ms(values, 0.5)} | {ms(values, 0.95)} | {1000 * max(values):.0f} ms |")
    print()
    print(f"Target: the programme dashboard's p95 ≤ 300 ms: {'met' if met else 'missed'}.")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
