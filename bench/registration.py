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
token and body without a script), with ``bench.harness``' servers, database and profiler.
The peak resident memory (``VmHWM``) of each app worker process is read from ``/proc`` at the
end. Settings as in ``bench.harness`` (``PODIUM_BENCH_POSTGRES``, ``PODIUM_BENCH_REDIS``; the
outbox's jobs stay queued in that Redis database, no worker runs). Progress on stderr, a Markdown
report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from bench import harness

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
    ``duration`` s (other benchmarks pass their own requests, e.g. ``bench.scoring``).

    Closed loop by default: each client sends its next request when its last one is answered, so the
    server's throughput sets the pace and latency includes the queue the clients keep full. With
    ``rate`` (requests a second in all), open loop: request n is due at ``n / rate`` s and its latency
    counts from then, so a slow answer delays no measurement (no coordinated omission)."""
    import httpx

    seeded = json.loads(Path(spec["seeded"]).read_text())  # noqa: ASYNC240 - before the clock starts
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    position = spec["start"]
    rate = spec.get("rate")
    connections = spec["connections"]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        began = time.perf_counter()
        stop = began + spec["duration"]

        async def worker() -> None:
            nonlocal position
            while True:
                i = position
                position += 1
                start = began + (i - spec["start"]) / rate if rate else time.perf_counter()
                if start >= stop:  # its index stays taken: each run's requests are new ones
                    return
                if rate:
                    await asyncio.sleep(max(0.0, start - time.perf_counter()))
                method, url, payload, token = requests(spec, seeded, i)
                headers = {"Authorization": f"Bearer {token}"}
                response = await client.request(method, url, json=payload, headers=headers)
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[response.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return {
        "rps": len(latencies) / elapsed,
        "p50": harness.percentile(latencies, 0.5),
        "p99": harness.percentile(latencies, 0.99),
        "errors": float(sum(n for s, n in statuses.items() if s >= 300)),
        "statuses": {str(s): n for s, n in statuses.items()},
        "used": position - spec["start"],
    }


def run_load(spec: dict, module: str = "bench.registration") -> dict:
    """The generator, in its own process (``module`` runs it with its own requests)."""
    command = [sys.executable, "-m", module, "--load", json.dumps(spec)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=harness.ROOT).stdout
    return json.loads(output)


class Load:
    """Runs of the load generator of ``module`` against ``urls[kind]``, each run of a kind going on
    from the request where its previous run stopped (``used``: each kind's next request)."""

    def __init__(
        self,
        module: str,
        base: str,
        urls: dict[str, str],
        seeded: Path,
        connections: int,
        rate: float | None = None,
    ) -> None:
        self.module, self.base, self.urls, self.seeded, self.connections = (
            module,
            base,
            urls,
            seeded,
            connections,
        )
        self.rate = rate  # open loop at this many requests a second (see _generate), else closed
        self.used = dict.fromkeys(urls, 0)  # indices taken (a closed loop's last ones are never sent)
        self.sent = dict.fromkeys(urls, 0)

    def __call__(self, kind: str, duration: int) -> dict:
        spec = {
            "url": self.urls[kind],
            "base": self.base,
            "kind": kind,
            "seeded": str(self.seeded),
            "start": self.used[kind],
            "rate": self.rate,
        }
        result = run_load(spec | {"connections": self.connections, "duration": duration}, self.module)
        self.used[kind] += result["used"]
        self.sent[kind] += sum(result["statuses"].values())
        return result


def serve_app(db: harness.Scratch, workers: int) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """``bench/registration_app.py`` served by uvicorn with ``workers`` processes: its base URL and pid."""
    return harness.serve_app("bench.registration_app:create_app", db, workers)


def print_totals(results: dict[str, list[dict]], peaks: list[float], note: str = "") -> None:
    """The last lines of the report: the non-2xx responses of each kind and the app's peak memory."""
    errors = {k: sum(r["errors"] for r in rs) for k, rs in results.items()}
    print(f"- non-2xx responses: {errors}" + note)
    print(f"- peak RSS of the app worker processes: {', '.join(f'{p:.0f} MiB' for p in peaks)}")


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
    harness.round_arguments(parser, "app server processes", "py-spy the app under team creation for N s")
    parser.add_argument("--pool", type=int, default=20000, help="accounts per kind of request")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.pool, Path(args.seed)))
        return 0
    if args.load:
        print(json.dumps(asyncio.run(_generate(json.loads(args.load)))))
        return 0

    with harness.scratch("podium_bench", f"seeding {args.pool} accounts per kind") as db:
        seeded = db.seed("bench.registration", "--pool", str(args.pool))
        with serve_app(db, args.workers) as (base, app_pid):
            urls = {
                "baseline": f"{base}/api/v1/bench/events/{seeded['event_id']}/rows",
                "create": f"{base}/api/v1/events/{seeded['event_id']}/teams",
                "join": f"{base}/api/v1/teams/join",
            }
            load = Load("bench.registration", base, urls, db.seeded_path, args.connections)
            results, uptimes = harness.rounds(KINDS, args.rounds, args.duration, load)
            peaks = peak_rss_mib(app_pid)
            profile_lines: list[str] = []
            if args.profile:
                profile_lines = harness.profile(
                    app_pid, args.profile, lambda: load("create", args.profile - 2)
                )
        exhausted = [k for k in KINDS if load.used[k] > len(seeded[k])]

    print(
        f"{harness.machine()}; {args.workers} app worker processes, {args.connections} "
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
            f"| {i + 1} | {harness.cells(b)} | {harness.cells(c)} | {ratios['create'][-1]:.2f} "
            f"| {harness.cells(j)} | {ratios['join'][-1]:.2f} |"
        )
    print()
    for kind in ("create", "join"):
        print(
            f"- {kind}: median {median(r['rps'] for r in results[kind]):.0f}/s, "
            f"**{median(ratios[kind]):.2f} × baseline**, median p99 "
            f"{median(r['p99'] for r in results[kind]):.1f} ms"
        )
    print_totals(results, peaks, f"; token pools exhausted: {exhausted}" if exhausted else "")
    harness.print_profile(profile_lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
