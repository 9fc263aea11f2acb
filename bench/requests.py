"""Request benchmark (issue 6): what an authenticated read costs next to a durable write.

Run: ``make bench-requests`` (``.venv/bin/python -m bench.requests [--rounds 3] [--duration 10]
[--workers 2] [--connections 64] [--profile 10]``). It creates a scratch PostgreSQL database (dropped
at the end), starts ``podium serve`` and the floor app (``bench/floor.py``, a bare Litestar endpoint
doing one durable conditional UPDATE per request on the same database), both with the same number of
uvicorn worker processes, and measures in alternating rounds:

- ``read``: ``GET /api/v1/events/{id}`` of a published event with a bearer token,
- ``floor``: the floor app,
- ``healthz``: ``GET /healthz`` of ``podium serve`` (a database ping and a Redis ping).

Load comes from ``wrk`` (Debian's package) when installed, else from an asyncio/httpx generator in a
separate process (weaker: it competes harder for the same cores). ``--profile N`` then samples the
podium workers with py-spy (``pip install py-spy``) for N seconds under the read load and prints where
the time goes. Settings: ``PODIUM_BENCH_POSTGRES`` (server, default
``postgresql://root@127.0.0.1:5432``) and ``PODIUM_BENCH_REDIS`` (default
``redis://127.0.0.1:6379/14``, not flushed), read by ``bench.harness``. Progress on stderr, a
Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from statistics import median

from bench.harness import (
    BIN,
    ROOT,
    bench_event,
    cells,
    free_port,
    machine,
    percentile,
    print_profile,
    profile,
    round_arguments,
    rounds,
    scratch,
    server,
)


async def seed() -> None:
    """Runs inside a child process whose environment points at the scratch database."""
    from backend.accounts import service as accounts
    from backend.accounts.schemas import TokenIn, UserIn
    from backend.db import connection_pool
    from backend.piccolo_app import use_database
    from backend.policy import Principal
    from backend.security import principal_for_token
    from backend.settings import get_settings

    use_database(get_settings())
    async with connection_pool(get_settings()):
        user = await accounts.create_user(
            None,
            UserIn(email="bench@example.org", password="bench-password-1", display_name="Bench"),  # noqa: S106
        )
        event = await bench_event("bench-contest", "open", "Benchmark contest", time_zone="Asia/Shanghai")
        me = Principal(
            id=user.id,
            email=user.email,
            display_name="Bench",
            locale="zh",
            is_platform_admin=False,
            via="session",
        )
        token = (await accounts.create_token(me, TokenIn(name="bench", expires_in_days=1))).token
        assert await principal_for_token(token) is not None
    print(json.dumps({"token": token, "event_id": event.id}))


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT[unit]


def run_wrk(url: str, headers: dict[str, str], connections: int, duration: int) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


async def _generate(url: str, headers: dict[str, str], connections: int, duration: float) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += response.status_code >= 400

        await asyncio.gather(*(worker() for _ in range(connections)))
    return {
        "rps": len(latencies) / duration,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "errors": float(errors),
    }


def run_httpx(url: str, headers: dict[str, str], connections: int, duration: int) -> dict[str, float]:
    """The fallback load generator, in its own process like wrk."""
    command = [sys.executable, "-m", "bench.requests", "--load", url, "--connections", str(connections)]
    command += ["--duration", str(duration), "--headers", json.dumps(headers)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    round_arguments(parser, "server processes of each app", "py-spy the podium workers for N seconds")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed())
        return 0
    if args.load:
        print(
            json.dumps(
                asyncio.run(_generate(args.load, json.loads(args.headers), args.connections, args.duration))
            )
        )
        return 0

    load = run_wrk if shutil.which("wrk") else run_httpx
    with scratch(
        "podium_bench", f"load from {'wrk' if load is run_wrk else 'httpx (wrk not installed)'}"
    ) as db:
        db.env["BENCH_FLOOR_DSN"] = db.env["PODIUM_DATABASE_URL"]
        seeded = json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.requests", "--seed"],
                env=db.env,
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout
        )
        from bench.floor import prepare

        asyncio.run(prepare(db.env["BENCH_FLOOR_DSN"]))
        podium_port, floor_port = free_port(), free_port()
        podium_cmd = [
            str(BIN / "podium"),
            "serve",
            "--workers",
            str(args.workers),
            "--port",
            str(podium_port),
        ]
        floor_cmd = [str(BIN / "uvicorn"), "bench.floor:create_app", "--factory", "--port", str(floor_port)]
        floor_cmd += ["--workers", str(args.workers), "--log-level", "info"]
        base, floor_base = f"http://127.0.0.1:{podium_port}", f"http://127.0.0.1:{floor_port}"
        targets = {
            "read": (
                f"{base}/api/v1/events/{seeded['event_id']}",
                {"Authorization": f"Bearer {seeded['token']}"},
            ),
            "floor": (f"{floor_base}/floor", {}),
            "healthz": (f"{base}/healthz", {}),
        }

        def run(target: str, duration: int) -> dict[str, float]:
            url, headers = targets[target]
            return load(url, headers, args.connections, duration)

        with (
            server(podium_cmd, db.env, f"{base}/healthz", db.data_dir / "podium.log") as podium_pid,
            server(floor_cmd, db.env, f"{floor_base}/floor", db.data_dir / "floor.log"),
        ):
            results, _ = rounds(
                targets, args.rounds, args.duration, run, lambda r: f"errors {r['errors']:.0f}"
            )
            profile_lines: list[str] = []
            if args.profile:
                profile_lines = profile(podium_pid, args.profile, lambda: run("read", args.profile - 2))

    print(
        f"{machine()}; {args.workers} worker processes per app, "
        f"{args.connections} connections, {args.duration} s per run, load from {'wrk' if load is run_wrk else 'httpx'}."
    )
    print()
    print("| round | read req/s | p50 | p99 | floor req/s | p50 | p99 | healthz req/s | p99 | read / floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for i in range(args.rounds):
        r, f, h = (results[t][i] for t in ("read", "floor", "healthz"))
        ratios.append(r["rps"] / f["rps"])
        print(
            f"| {i + 1} | {cells(r)} | {cells(f)} | {h['rps']:.0f} | {h['p99']:.1f} ms | {ratios[-1]:.2f} |"
        )
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    print()
    print(
        f"Median read / floor: **{median(ratios):.2f}**; median read p99 "
        f"{median(r['p99'] for r in results['read']):.1f} ms; non-2xx responses: {errors:.0f}."
    )
    print_profile(profile_lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
