"""Scan throughput (issue 11): 64 scanners admitting tickets over HTTP against PostgreSQL, beside a
bare endpoint that does one single-statement conditional UPDATE per request on the same table.

Run: ``make bench-scanning`` (``.venv/bin/python -m bench.scanning [--rounds 3] [--duration 10]
[--workers 2] [--connections 64] [--tickets 150000] [--rate 0] [--profile 0]``). With ``--rate N`` the
load is open loop (N requests a second, each timed from when it was due): the latency a gate sees
below saturation, where the default closed loop measures throughput and a full queue's latency. Like ``bench.scoring``: a
scratch PostgreSQL database (dropped at the end), ``bench/scanning_app.py`` served by uvicorn with
two worker processes, load from httpx in a separate process (``bench.registration``'s generator).
The seed makes a running fair valid today in its time zone, one ticket type, ``--tickets`` signed
tickets, a gate list that admits each ticket once (the scan's hot path, ``ticketing.checkin.service``)
and a ``baseline`` list holding one pending (rejected) row per ticket, and 64 scanning devices on
both lists, each with its own token: scanner ``i mod 64`` sends request ``i``.

- ``baseline``: ``POST /api/v1/bench/checkin/baseline`` ``{"ticket", "list", "nonce"}``: the same
  device-token authentication and in-memory list check, then ONE conditional ``UPDATE checkin``
  turning the ticket's pending row into an admission (the floor of one durable write per scan);
- ``scan``: ``POST /api/v1/checkin/scan`` ``{"code", "list", "nonce"}`` with a new ticket each time:
  the code read, the rules checked, the ticket looked up by serial and admitted by one statement.

Targets: scans ≥ 0.8 × the baseline's requests per second, p99 ≤ 50 ms. Progress on stderr, a
Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from statistics import median

from bench import harness, registration
from bench.harness import cells, machine, print_profile, profile, round_arguments, rounds, scratch

SCANNERS = 64
KINDS = ("baseline", "scan")
TARGET_RATIO = 0.8
TARGET_P99_MS = 50.0


async def seed(tickets: int, out: Path) -> None:
    """Runs in a child process whose environment points at the scratch database."""
    import datetime as dt
    import secrets
    from zoneinfo import ZoneInfo

    import asyncpg

    from backend.accounts.tokens import token_digest
    from backend.db import connection_pool
    from backend.piccolo_app import use_database
    from backend.settings import get_settings
    from ticketing import codes, keys

    zone = "Asia/Shanghai"
    today = dt.datetime.now(ZoneInfo(zone)).date()
    starts, ends = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        organization = await conn.fetchval(
            "INSERT INTO organization (slug, kind, name_en) VALUES ('bench', 'alliance', 'Bench') RETURNING id"
        )
        event_id = await conn.fetchval(
            "INSERT INTO event (organization, slug, kind, status, name_en, starts_on, ends_on, time_zone) "
            "VALUES ($1, 'bench-fair', 'fair', 'running', 'Benchmark fair', $2, $3, $4) RETURNING id",
            organization,
            starts,
            ends,
            zone,
        )
        type_id = await conn.fetchval(
            "INSERT INTO ticket_type (event, number, kind, name_en, name_zh) "
            "VALUES ($1, 1, 'visitor', 'Visitor', '观众') RETURNING id",
            event_id,
        )
    finally:
        await conn.close()
    settings = get_settings()
    use_database(settings)
    async with connection_pool(settings):
        key_id, private = await keys.signing_key(event_id)
    records, seeded_codes = [], []
    for i in range(tickets):
        claims = codes.Claims(
            event_id=event_id,
            key_id=key_id,
            serial=secrets.token_bytes(codes.SERIAL_BYTES),
            kind="visitor",
            type_number=1,
            valid_from=starts,
            valid_until=ends,
        )
        code = codes.encode(claims, private)
        seeded_codes.append(code)
        records.append(
            (
                event_id,
                type_id,
                claims.serial_hex,
                code,
                key_id,
                f"访客 {i}",
                f"Visitor {i}",
                "visitor",
                starts,
                ends,
                now,
            )
        )
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        await conn.copy_records_to_table(
            "ticket",
            columns=[
                "event",
                "ticket_type",
                "serial",
                "code",
                "key_id",
                "holder_name",
                "holder_latin",
                "source",
                "valid_from",
                "valid_until",
                "issued_at",
            ],
            records=records,
        )
        lists = {}
        for name in ("gate", "baseline"):
            lists[name] = await conn.fetchval(
                "INSERT INTO checkin_list (event, name, kind, rules) VALUES ($1, $2, 'gate', '{}') RETURNING id",
                event_id,
                name,
            )
        ids = [
            r["id"] for r in await conn.fetch("SELECT id FROM ticket WHERE event = $1 ORDER BY id", event_id)
        ]
        # the baseline's pending rows: one per ticket, refused until its UPDATE admits it
        await conn.copy_records_to_table(
            "checkin",
            columns=[
                "checkin_list",
                "event",
                "ticket",
                "direction",
                "status",
                "reason",
                "actor",
                "nonce",
                "gate",
            ],
            records=[
                (
                    lists["baseline"],
                    event_id,
                    t,
                    "entry",
                    "rejected",
                    "not_allowed",
                    "bench",
                    f"pending-{t}",
                    "",
                )
                for t in ids
            ],
        )
        tokens = [f"pdv_bench_{i:02d}_{secrets.token_urlsafe(16)}" for i in range(SCANNERS)]
        devices = []
        for i, token in enumerate(tokens):
            devices.append(
                await conn.fetchval(
                    "INSERT INTO checkin_device (event, name, gate, token_hash) VALUES ($1, $2, $3, $4) RETURNING id",
                    event_id,
                    f"Scanner {i}",
                    f"Gate {i % 8 + 1}",
                    token_digest(token),
                )
            )
        await conn.executemany(
            "INSERT INTO checkin_device_list (device, checkin_list) VALUES ($1, $2)",
            [(d, lst) for d in devices for lst in lists.values()],
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    out.write_text(  # noqa: ASYNC240 - a seed, not a measurement
        json.dumps(
            {"event_id": event_id, "lists": lists, "tickets": ids, "codes": seeded_codes, "tokens": tokens}
        )
    )


def requests(spec: dict, seeded: dict, i: int) -> tuple[str, str, dict, str]:
    """The ``i``-th request of a kind: ticket ``i`` (each admitted once), scanner ``i mod 64``."""
    token = seeded["tokens"][i % SCANNERS]
    if spec["kind"] == "baseline":
        body = {"ticket": seeded["tickets"][i], "list": seeded["lists"]["baseline"], "nonce": f"b-{i:09d}"}
        return "POST", f"{spec['base']}/api/v1/bench/checkin/baseline", body, token
    body = {"code": seeded["codes"][i], "list": seeded["lists"]["gate"], "nonce": f"s-{i:09d}"}
    return "POST", f"{spec['base']}/api/v1/checkin/scan", body, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    round_arguments(parser, "app server processes", "py-spy the app under scans for N s", SCANNERS)
    parser.add_argument("--tickets", type=int, default=150_000, help="tickets (each request uses a new one)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="open loop: this many requests a second in all (default: closed loop)",
    )
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.tickets, Path(args.seed)))
        return 0
    if args.load:
        print(json.dumps(asyncio.run(registration._generate(json.loads(args.load), requests))))
        return 0

    with scratch("podium_bench", f"{args.tickets} tickets, {SCANNERS} scanning devices") as db:
        seeded = db.seed("bench.scanning", "--tickets", str(args.tickets))
        with serve_app(db, args.workers) as (base, app_pid):
            urls = {"baseline": "", "scan": ""}
            load = CpuLoad(
                registration.Load(
                    "bench.scanning", base, urls, db.seeded_path, args.connections, args.rate or None
                ),
                app_pid,
                db.name,
            )
            results, loadavg = rounds(KINDS, args.rounds, args.duration, load, _detail)
            peaks = registration.peak_rss_mib(app_pid)
            profile_lines = (
                profile(app_pid, args.profile, lambda: load("scan", args.profile - 2)) if args.profile else []
            )
            admitted = _admitted(db, seeded)
        exhausted = [k for k in KINDS if load.used[k] > len(seeded["tickets"])]

    print(
        f"{machine()}; {args.workers} app worker processes, {args.connections} scanners "
        f"(connections), {args.duration} s per run, load from httpx in a separate process"
        f"{f', open loop at {args.rate:g} requests a second' if args.rate else ', closed loop'}; "
        f"1-minute load average at each round's start: {', '.join(loadavg)}."
    )
    print()
    print(
        "| round | baseline req/s | p50 | p99 | CPU/req app + db | scans req/s | p50 | p99 | CPU/req app + db "
        "| scans / baseline | CPU baseline / scan |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios, cpu_ratios = [], []
    for i in range(args.rounds):
        b, s = results["baseline"][i], results["scan"][i]
        ratios.append(s["rps"] / b["rps"])
        cpu_ratios.append((b["app_ms"] + b["db_ms"]) / (s["app_ms"] + s["db_ms"]))
        print(
            f"| {i + 1} | {cells(b)} | {b['app_ms']:.2f} + {b['db_ms']:.2f} ms | {cells(s)} "
            f"| {s['app_ms']:.2f} + {s['db_ms']:.2f} ms | {ratios[-1]:.2f} | {cpu_ratios[-1]:.2f} |"
        )
    ratio, p99 = median(ratios), median(r["p99"] for r in results["scan"])
    met = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS
    print()
    print(
        f"- scans: median {median(r['rps'] for r in results['scan']):.0f}/s, **{ratio:.2f} × baseline**, "
        f"median p99 **{p99:.1f} ms** (targets ≥ {TARGET_RATIO} ×, ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'missed'})"
    )
    print(
        f"- admissions in the log: {admitted['scan']} scans, {admitted['baseline']} baseline updates "
        f"(requests sent: {load.sent['scan']} and {load.sent['baseline']})"
    )
    registration.print_totals(results, peaks, f"; ticket pool exhausted: {exhausted}" if exhausted else "")
    print_profile(profile_lines)
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (gone ones count 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class CpuLoad:
    """A run of load that also counts the CPU time the app's worker processes and the database's
    backends spent on it, per request: figures the shared machine's other load disturbs far less
    than requests per second (the server's capacity on a quiet machine follows from them)."""

    def __init__(self, load: registration.Load, app_pid: int, database: str) -> None:
        self.load, self.app_pid, self.database = load, app_pid, database
        self.used, self.sent = load.used, load.sent

    def _pids(self) -> tuple[list[int], list[int]]:
        app = [int(p) for p in Path(f"/proc/{self.app_pid}/task/{self.app_pid}/children").read_text().split()]
        backends = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if f" {self.database} " in (entry / "cmdline").read_bytes().decode(errors="replace"):
                        backends.append(int(entry.name))
        return app, backends

    def __call__(self, kind: str, duration: int) -> dict:
        app, backends = self._pids()
        before = _cpu_seconds(app), _cpu_seconds(backends)
        result = self.load(kind, duration)
        requests = max(sum(result["statuses"].values()), 1)  # answered, not only sent
        result["app_ms"] = (_cpu_seconds(app) - before[0]) * 1000 / requests
        # backends that ended meanwhile are not counted; the pools keep theirs open
        result["db_ms"] = (_cpu_seconds(backends) - before[1]) * 1000 / requests
        return result


def _detail(result: dict) -> str:
    return f"CPU per request: app {result['app_ms']:.2f} ms, database {result['db_ms']:.2f} ms; statuses {result['statuses']}"


def serve_app(db: harness.Scratch, workers: int) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """``bench/scanning_app.py`` served by uvicorn with ``workers`` processes: its base URL and pid."""
    return harness.serve_app("bench.scanning_app:create_app", db, workers)


def _admitted(db, seeded: dict) -> dict[str, int]:
    """The admissions each list holds at the end: every request admitted a new ticket."""
    import asyncpg

    async def count() -> dict[str, int]:
        conn = await asyncpg.connect(db.env["PODIUM_DATABASE_URL"])
        try:
            return {
                kind: await conn.fetchval(
                    "SELECT COUNT(*) FROM checkin WHERE checkin_list = $1 AND status = 'admitted'",
                    seeded["lists"]["gate" if kind == "scan" else "baseline"],
                )
                for kind in KINDS
            }
        finally:
            await conn.close()

    return asyncio.run(count())


if __name__ == "__main__":
    sys.exit(main())
