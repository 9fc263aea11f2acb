"""Score-sheet submission under load (issue 10, benchmark 1): 64 judges submitting sheets over HTTP
against PostgreSQL + Redis, beside the registration benchmark's baseline (one INSERT and its audit
entry through the same login, guard and transaction) in the same run.

Run: ``make bench-scoring`` (``.venv/bin/python -m bench.scoring [--rounds 3] [--duration 10]
[--workers 2] [--connections 64] [--per-judge 1000] [--profile 0]``). Like ``bench.registration``,
whose seed, load generator and baseline app it reuses: a scratch PostgreSQL database (dropped at the
end), ``bench/registration_app.py`` served by uvicorn, load from httpx in a separate process. The
seed adds a scoring stage to the registration benchmark's contest: its 2,000 teams as entries, a
rubric of three criteria (already locked by an earlier sheet, as during a real review), and
``--per-judge`` assignments for each of the 64 judges (the registration seed's ``create`` accounts,
with their bearer tokens; the baseline uses as many tokens, so both pay the same token lookups).

Request ``i`` is judge ``i mod 64``'s: each nonce is new, and each assignment gets a new sheet and then
a change (with its reason), alternately. Targets: ≥ 0.5 × the baseline's requests per second, p99 ≤
50 ms. Progress on stderr, a Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from statistics import median

from bench import registration
from bench.harness import CRITERIA, cells, machine, print_profile, profile, round_arguments, rounds, scratch

JUDGES = 64
KINDS = ("baseline", "sheet")
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


async def seed(per_judge: int, out: Path) -> None:
    """Runs in a child process whose environment points at the scratch database, after the
    registration seed wrote ``out``: the scoring stage, its entries and the judges' assignments."""
    import datetime as dt

    import asyncpg

    from backend.settings import get_settings

    seeded = json.loads(out.read_text())  # noqa: ASYNC240 - a seed, not a measurement
    now = dt.datetime.now(dt.UTC)
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        event_id = seeded["event_id"]
        stage = await conn.fetchval(
            "INSERT INTO stage (event, position, level, name_en) VALUES ($1, 1, 'online_review', 'Review') "
            "RETURNING id",
            event_id,
        )
        await conn.execute(
            "INSERT INTO stage_judging (stage, event, status, assignment_published_at, updated_at) "
            "VALUES ($1, $2, 'scoring', $3, $3)",
            stage,
            event_id,
            now,
        )
        await conn.execute(
            "INSERT INTO rubric (stage, version, criteria, created_at, locked_at) VALUES ($1, 1, $2, $3, $3)",
            stage,
            json.dumps(CRITERIA),
            now,
        )
        await conn.execute(
            "INSERT INTO stage_entry (stage, event, team, track, label, created_at) "
            "SELECT $1, t.event, t.id, t.track, 'E-' || t.id, $2 FROM team t WHERE t.event = $3",
            stage,
            now,
            event_id,
        )
        entries = [
            r["id"]
            for r in await conn.fetch("SELECT id FROM stage_entry WHERE stage = $1 ORDER BY id", stage)
        ]
        judges = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM podium_user WHERE email LIKE 'create%@bench.example' ORDER BY id LIMIT $1",
                JUDGES,
            )
        ]
        per_judge = min(per_judge, len(entries))
        await conn.copy_records_to_table(
            "assignment",
            columns=["stage", "stage_entry", "judge", "state", "source", "recusal_reason", "created_at"],
            records=[
                (stage, entries[(j * 31 + k) % len(entries)], judge, "active", "engine", "", now)
                for j, judge in enumerate(judges)
                for k in range(per_judge)
            ],
        )
        rows = await conn.fetch("SELECT id, judge FROM assignment WHERE stage = $1 ORDER BY id", stage)
    finally:
        await conn.close()
    by_judge: dict[int, list[int]] = {judge: [] for judge in judges}
    for row in rows:
        by_judge[row["judge"]].append(row["id"])
    # the judges' tokens are the registration seed's "create" tokens, in the order of their accounts
    seeded["sheet"] = seeded["create"][:JUDGES]
    seeded["assignments"] = [by_judge[judge] for judge in judges]
    out.write_text(json.dumps(seeded))  # noqa: ASYNC240


def requests(spec: dict, seeded: dict, i: int) -> tuple[str, str, dict, str]:
    """The ``i``-th request: the baseline's as in the registration benchmark; a sheet is judge
    ``i mod 64``'s, a new sheet or a change of it alternately, always with a new nonce."""
    if spec["kind"] != "sheet":
        return registration.request_for(spec, seeded, i)
    judge, turn = i % JUDGES, i // JUDGES
    mine = seeded["assignments"][judge]
    assignment = mine[(turn // 2) % len(mine)]
    marks = {"market": i % 41, "product": i % 36, "team": (i % 51) / 2}
    body = {"marks": marks, "nonce": f"bench-{i:010d}", "comment": "", "reason": "second look"}
    return "PUT", f"{spec['base']}/api/v1/judge/assignments/{assignment}/sheet", body, seeded["sheet"][judge]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    round_arguments(parser, "app server processes", "py-spy the app under submissions for N s", JUDGES)
    parser.add_argument("--per-judge", type=int, default=1000, help="assignments per judge")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.per_judge, Path(args.seed)))
        return 0
    if args.load:
        print(json.dumps(asyncio.run(registration._generate(json.loads(args.load), requests))))
        return 0

    with scratch("podium_bench", f"{JUDGES} judges with {args.per_judge} assignments each") as db:
        db.seed("bench.registration", "--pool", str(JUDGES))
        seeded = db.seed("bench.scoring", "--per-judge", str(args.per_judge))
        with registration.serve_app(db, args.workers) as (base, app_pid):
            urls = {"baseline": f"{base}/api/v1/bench/events/{seeded['event_id']}/rows", "sheet": ""}
            load = registration.Load("bench.scoring", base, urls, db.seeded_path, args.connections)
            results, loadavg = rounds(KINDS, args.rounds, args.duration, load)
            peaks = registration.peak_rss_mib(app_pid)
            profile_lines = (
                profile(app_pid, args.profile, lambda: load("sheet", args.profile - 2))
                if args.profile
                else []
            )

    print(
        f"{machine()}; {args.workers} app worker processes, {args.connections} "
        f"judges (connections), {args.duration} s per run, load from httpx in a separate process; "
        f"1-minute load average at each round's start: {', '.join(loadavg)}."
    )
    print()
    print("| round | baseline req/s | p50 | p99 | sheets req/s | p50 | p99 | sheets / baseline |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for i in range(args.rounds):
        b, s = results["baseline"][i], results["sheet"][i]
        ratios.append(s["rps"] / b["rps"])
        print(f"| {i + 1} | {cells(b)} | {cells(s)} | {ratios[-1]:.2f} |")
    ratio, p99 = median(ratios), median(r["p99"] for r in results["sheet"])
    met = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS
    print()
    print(
        f"- sheets: median {median(r['rps'] for r in results['sheet']):.0f}/s, **{ratio:.2f} × baseline**, "
        f"median p99 **{p99:.1f} ms** (targets ≥ {TARGET_RATIO} ×, ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'missed'})"
    )
    registration.print_totals(results, peaks)
    print_profile(profile_lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
