"""Team registration under load (issue 9): creating a team and joining one by code, each beside a
baseline that inserts one row per request through the same stack.

Run: ``make bench-registration`` (``.venv/bin/python -m bench.registration [--rounds 3]
[--duration 10] [--workers 2] [--connections 64] [--pool 20000]``). It creates a scratch PostgreSQL
database (dropped at the end), seeds an open contest, ``--pool`` accounts with bearer tokens for each
kind of request and 2,000 teams to join, and serves ``bench/registration_app.py``: ``backend.app.create_app``
plus one route mounted only there, the baseline (``POST /api/v1/bench/events/{id}/rows``: the same
login, policy guard, transaction and audit entry around one INSERT). Every request is a different
person (a surge of sign-ups, not one client repeating itself), so each pays for its token's first
lookup like a real one. Measured in alternating rounds:

- ``baseline``: the route above,
- ``create``: ``POST /api/v1/events/{id}/teams`` (the registration window, name limits, the person's
  other teams and eligibility, under the locks of ``backend.teams.rules.lock``),
- ``join``: ``POST /api/v1/teams/join`` with a team's code (the team's and the person's locks, the
  room left, the leader's mail queued in the outbox).

Load comes from an asyncio/httpx generator in a separate process (wrk cannot vary each request's
token and body without a script), reusing ``bench.requests``' servers, database and profiler.
The peak resident memory (``VmHWM``) of each app worker process is read from ``/proc`` at the
end. Settings as in ``bench.requests`` (``PODIUM_BENCH_POSTGRES``, ``PODIUM_BENCH_REDIS``; the
outbox's jobs stay queued in that Redis database, no worker runs). Progress on stderr, a Markdown
report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from bench.requests import PG_SERVER, REDIS_URL, ROOT, admin_sql, free_port, log, profile, server

TEAMS_TO_JOIN = 2000
KINDS = ("baseline", "create", "join")


async def seed(pool: int, out: Path) -> None:
    """Runs in a child process whose environment points at the scratch database: the contest, its
    track, ``pool`` accounts with tokens per kind, and the teams to join (copied in directly)."""
    import datetime as dt

    import asyncpg

    from backend.accounts.tokens import new_api_token
    from backend.settings import get_settings

    now = dt.datetime.now(dt.UTC)
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        organization = await conn.fetchval(
            "INSERT INTO organization (slug, kind, name_en) VALUES ('bench', 'alliance', 'Bench') RETURNING id"
        )
        event_id = await conn.fetchval(
            "INSERT INTO event (organization, slug, kind, status, name_en, starts_on, ends_on, time_zone) "
            "VALUES ($1, 'bench-contest', 'contest', 'open', 'Benchmark contest', $2, $3, 'Asia/Shanghai') "
            "RETURNING id",
            organization,
            dt.date(2027, 3, 1),
            dt.date(2027, 7, 25),
        )
        track_id = await conn.fetchval(
            "INSERT INTO track (event, code, name_en, team_min, team_max) VALUES ($1, 'A', 'Track A', 3, 5) "
            "RETURNING id",
            event_id,
        )
        await conn.execute(
            "CREATE TABLE bench_row (id BIGSERIAL PRIMARY KEY, event INTEGER NOT NULL, "
            "author INTEGER NOT NULL, name TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        seeded: dict = {"event_id": event_id, "track_id": track_id}
        for kind in (*KINDS, "leader"):
            count = TEAMS_TO_JOIN if kind == "leader" else pool
            emails = [f"{kind}{i}@bench.example" for i in range(count)]
            await conn.copy_records_to_table(
                "podium_user",
                columns=[
                    "username",
                    "password",
                    "email",
                    "display_name",
                    "active",
                    "admin",
                    "superuser",
                    "locale",
                    "created_at",
                    "auth_epoch",
                    "email_confirmed_at",
                ],
                records=[(e, "-", e, e.split("@")[0], True, False, False, "zh", now, 0, now) for e in emails],
            )
            users = await conn.fetch(
                "SELECT id, email FROM podium_user WHERE email LIKE $1 ORDER BY id", f"{kind}%@bench.example"
            )
            if kind == "leader":
                codes = [f"BENCH{i:05d}" for i in range(count)]
                await conn.copy_records_to_table(
                    "team",
                    columns=[
                        "event",
                        "track",
                        "name",
                        "entry_title",
                        "leader",
                        "region",
                        "country",
                        "join_code",
                        "status",
                        "review_note",
                        "created_at",
                        "updated_at",
                    ],
                    records=[
                        (event_id, track_id, f"J{i}", "", u["id"], "", "", code, "forming", "", now, now)
                        for i, (u, code) in enumerate(zip(users, codes, strict=True))
                    ],
                )
                await conn.execute(
                    'INSERT INTO team_member (team, event, track, "user", email, role, position, state, '
                    "joined_via, locale, created_at, confirmed_at) SELECT t.id, t.event, t.track, u.id, u.email, "
                    "'leader', 0, 'confirmed', 'creation', 'zh', now(), now() FROM team t "
                    "JOIN podium_user u ON u.id = t.leader"
                )
                seeded["codes"] = codes
                continue
            pairs = [new_api_token() for _ in users]
            await conn.copy_records_to_table(
                "api_token",
                columns=["user", "name", "token_hash", "created_at", "scopes"],
                records=[
                    (u["id"], "bench", digest, now, "read write")
                    for u, (_, digest) in zip(users, pairs, strict=True)
                ],
            )
            seeded[kind] = [token for token, _ in pairs]
    finally:
        await conn.close()
    out.write_text(json.dumps(seeded))  # noqa: ASYNC240


def body(kind: str, i: int, seeded: dict) -> dict:
    if kind == "create":
        return {"track_id": seeded["track_id"], "name": f"T{i}", "entry_title": "Load test"}
    if kind == "join":
        codes = seeded["codes"]
        return {"code": codes[i % len(codes)]}
    return {"code": f"R{i}"}


def request_for(spec: dict, seeded: dict, i: int) -> tuple[str, str, dict, str]:
    """The ``i``-th request of a run: its method, URL, JSON body and bearer token (the next token of
    the kind's pool)."""
    tokens = seeded[spec["kind"]]
    return "POST", spec["url"], body(spec["kind"], i, seeded), tokens[i % len(tokens)]


Requests = Callable[[dict, dict, int], tuple[str, str, dict, str]]


async def _generate(spec: dict, requests: Requests = request_for) -> dict:
    """Send ``requests(spec, seeded, i)`` for i from ``start`` on, from ``connections`` clients for
    ``duration`` s (other benchmarks pass their own requests, e.g. ``bench.scoring``)."""
    import httpx

    seeded = json.loads(Path(spec["seeded"]).read_text())  # noqa: ASYNC240 - before the clock starts
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    position = spec["start"]
    stop = time.monotonic() + spec["duration"]
    connections = spec["connections"]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal position
            while time.monotonic() < stop:
                i = position
                position += 1
                method, url, payload, token = requests(spec, seeded, i)
                headers = {"Authorization": f"Bearer {token}"}
                start = time.perf_counter()
                response = await client.request(method, url, json=payload, headers=headers)
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[response.status_code] += 1

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": float(sum(n for s, n in statuses.items() if s >= 300)),
        "statuses": {str(s): n for s, n in statuses.items()},
        "used": position - spec["start"],
    }


def run_load(spec: dict, module: str = "bench.registration") -> dict:
    """The generator, in its own process (``module`` runs it with its own requests)."""
    command = [sys.executable, "-m", module, "--load", json.dumps(spec)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(output)


def peak_rss_mib(pid: int) -> list[float]:
    """``VmHWM`` of each child of ``pid`` (uvicorn's worker processes), in MiB."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    peaks = []
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="app server processes")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool", type=int, default=20000, help="accounts per kind of request")
    parser.add_argument("--profile", type=int, default=0, help="py-spy the app under team creation for N s")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.pool, Path(args.seed)))
        return 0
    if args.load:
        print(json.dumps(asyncio.run(_generate(json.loads(args.load)))))
        return 0

    name = f"podium_bench_{os.getpid()}"
    data_dir = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env |= {
        "PODIUM_DATABASE_URL": f"{PG_SERVER}/{name}",
        "PODIUM_REDIS_URL": REDIS_URL,
        "PODIUM_DATA_DIR": str(data_dir),
        "PODIUM_SECRET_KEY": secrets.token_urlsafe(48),
    }
    bin_dir = Path(sys.executable).parent
    seeded_path = data_dir / "seeded.json"
    log(f"Scratch database {name}; seeding {args.pool} accounts per kind")
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    uptimes: list[str] = []
    try:
        subprocess.run([bin_dir / "podium", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
        command = [
            sys.executable,
            "-m",
            "bench.registration",
            "--seed",
            str(seeded_path),
            "--pool",
            str(args.pool),
        ]
        subprocess.run(command, env=env, check=True, cwd=ROOT)
        seeded = json.loads(seeded_path.read_text())
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app_cmd = [
            str(bin_dir / "uvicorn"),
            "bench.registration_app:create_app",
            "--factory",
            "--port",
            str(port),
        ]
        app_cmd += ["--workers", str(args.workers), "--log-level", "warning"]
        urls = {
            "baseline": f"{base}/api/v1/bench/events/{seeded['event_id']}/rows",
            "create": f"{base}/api/v1/events/{seeded['event_id']}/teams",
            "join": f"{base}/api/v1/teams/join",
        }
        used = dict.fromkeys(KINDS, 0)
        results: dict[str, list[dict]] = {k: [] for k in KINDS}

        def load(kind: str, duration: int) -> dict:
            spec = {"url": urls[kind], "kind": kind, "seeded": str(seeded_path), "start": used[kind]}
            result = run_load(spec | {"connections": args.connections, "duration": duration})
            used[kind] += result["used"]
            return result

        with server(app_cmd, env, f"{base}/healthz", data_dir / "app.log") as app_pid:
            for kind in KINDS:
                load(kind, 2)  # warm-up: pools, caches
            for round_ in range(1, args.rounds + 1):
                uptimes.append(Path("/proc/loadavg").read_text().split()[0])
                for kind in KINDS:
                    result = load(kind, args.duration)
                    results[kind].append(result)
                    log(
                        f"round {round_} {kind}: {result['rps']:.0f}/s p50 {result['p50']:.1f} ms "
                        f"p99 {result['p99']:.1f} ms statuses {result['statuses']}"
                    )
            peaks = peak_rss_mib(app_pid)
            profile_lines: list[str] = []
            if args.profile:
                profile_lines = profile(app_pid, args.profile, lambda: load("create", args.profile - 2))
        exhausted = [k for k in KINDS if used[k] > len(seeded[k])]
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"Date {time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"Python {platform.python_version()}; {args.workers} app worker processes, {args.connections} "
        f"connections, {args.duration} s per run, load from httpx in a separate process; "
        f"1-minute load average at each round's start: {', '.join(uptimes)}."
    )
    print()
    print(
        "| round | baseline req/s | p50 | p99 | create req/s | p50 | p99 | create / baseline "
        "| join req/s | p50 | p99 | join / baseline |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios: dict[str, list[float]] = {"create": [], "join": []}
    for i in range(args.rounds):
        b, c, j = (results[k][i] for k in KINDS)
        ratios["create"].append(c["rps"] / b["rps"])
        ratios["join"].append(j["rps"] / b["rps"])
        print(
            f"| {i + 1} | {b['rps']:.0f} | {b['p50']:.1f} ms | {b['p99']:.1f} ms "
            f"| {c['rps']:.0f} | {c['p50']:.1f} ms | {c['p99']:.1f} ms | {ratios['create'][-1]:.2f} "
            f"| {j['rps']:.0f} | {j['p50']:.1f} ms | {j['p99']:.1f} ms | {ratios['join'][-1]:.2f} |"
        )
    print()
    for kind in ("create", "join"):
        print(
            f"- {kind}: median {median(r['rps'] for r in results[kind]):.0f}/s, "
            f"**{median(ratios[kind]):.2f} × baseline**, median p99 "
            f"{median(r['p99'] for r in results[kind]):.1f} ms"
        )
    errors = {k: sum(r["errors"] for r in results[k]) for k in KINDS}
    print(f"- non-2xx responses: {errors}" + (f"; token pools exhausted: {exhausted}" if exhausted else ""))
    print(f"- peak RSS of the app worker processes: {', '.join(f'{p:.0f} MiB' for p in peaks)}")
    if profile_lines:
        print()
        print("\n".join(profile_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
