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
``redis://127.0.0.1:6379/14``, not flushed). Progress on stderr, a Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("PODIUM_BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
REDIS_URL = os.environ.get("PODIUM_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def admin_sql(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed() -> None:
    """Runs inside a child process whose environment points at the scratch database."""
    import datetime as dt

    from backend.accounts import service as accounts
    from backend.accounts.schemas import TokenIn, UserIn
    from backend.db import connection_pool
    from backend.events.tables import Event
    from backend.organizations.tables import Organization
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
        organization = Organization(slug="bench", kind="alliance", name_en="Bench")
        await organization.save()
        event = Event(
            organization=organization.id,
            slug="bench-contest",
            kind="contest",
            status="open",
            name_en="Benchmark contest",
            starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2027, 7, 25),
            time_zone="Asia/Shanghai",
        )
        await event.save()
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


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], ready_url: str, log_path: Path) -> Iterator[int]:
    """Start a server in its own process group, wait until ``ready_url`` answers, stop it at the end."""
    import httpx

    with log_path.open("w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited; see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} did not answer; see {log_path}")
            time.sleep(0.3)
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
    latencies.sort()
    return {
        "rps": len(latencies) / duration,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": float(errors),
    }


def run_httpx(url: str, headers: dict[str, str], connections: int, duration: int) -> dict[str, float]:
    """The fallback load generator, in its own process like wrk."""
    command = [sys.executable, "-m", "bench.requests", "--load", url, "--connections", str(connections)]
    command += ["--duration", str(duration), "--headers", json.dumps(headers)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(output)


def profile(pid: int, seconds: int, load: collections.abc.Callable[[], object]) -> list[str]:
    """Sample the server's workers with py-spy during ``load``; the heaviest frames, as Markdown."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return ["(py-spy is not installed: `.venv/bin/pip install py-spy`)"]
    out = Path(tempfile.mkdtemp()) / "stacks.txt"
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "200"]
    command += ["--duration", str(seconds), "--output", str(out), "--nonblocking"]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    load()
    recorder.wait()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r" \((.*?)(:\d+)?\)$", r" (\1)", f) for f in stack.split(";")[1:]]
        if not frames:
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    short = lambda f: f.replace(str(ROOT) + "/", "").replace(str(Path(sys.prefix)) + "/lib/", "")  # noqa: E731
    lines = [f"{total} samples of the podium workers.", "", "| inclusive | self | frame |", "|---:|---:|---|"]
    frames = sorted(set(inclusive), key=lambda f: -inclusive[f])[:40]
    for frame in frames:
        lines.append(
            f"| {100 * inclusive[frame] / total:.1f} % | {100 * own[frame] / total:.1f} % | `{short(frame)}` |"
        )
    lines += ["", "Heaviest self time:", "", "| self | frame |", "|---:|---|"]
    for frame, n in own.most_common(15):
        lines.append(f"| {100 * n / total:.1f} % | `{short(frame)}` |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="server processes of each app")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--profile", type=int, default=0, help="py-spy the podium workers for N seconds")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
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

    name = f"podium_bench_{os.getpid()}"
    data_dir = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env |= {
        "PODIUM_DATABASE_URL": f"{PG_SERVER}/{name}",
        "PODIUM_REDIS_URL": REDIS_URL,
        "PODIUM_DATA_DIR": str(data_dir),
        "PODIUM_SECRET_KEY": secrets.token_urlsafe(48),
        "BENCH_FLOOR_DSN": f"{PG_SERVER}/{name}",
    }
    bin_dir = Path(sys.executable).parent
    load = run_wrk if shutil.which("wrk") else run_httpx
    log(f"Scratch database {name}; load from {'wrk' if load is run_wrk else 'httpx (wrk not installed)'}")
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        subprocess.run([bin_dir / "podium", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
        seeded = json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.requests", "--seed"],
                env=env,
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout
        )
        from bench.floor import prepare

        asyncio.run(prepare(env["BENCH_FLOOR_DSN"]))
        podium_port, floor_port = free_port(), free_port()
        podium_cmd = [
            str(bin_dir / "podium"),
            "serve",
            "--workers",
            str(args.workers),
            "--port",
            str(podium_port),
        ]
        floor_cmd = [
            str(bin_dir / "uvicorn"),
            "bench.floor:create_app",
            "--factory",
            "--port",
            str(floor_port),
        ]
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
        results: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
        with (
            server(podium_cmd, env, f"{base}/healthz", data_dir / "podium.log") as podium_pid,
            server(floor_cmd, env, f"{floor_base}/floor", data_dir / "floor.log"),
        ):
            for url, headers in targets.values():
                load(url, headers, args.connections, 2)  # warm-up: pools, caches
            for round_ in range(1, args.rounds + 1):
                for target, (url, headers) in targets.items():
                    result = load(url, headers, args.connections, args.duration)
                    results[target].append(result)
                    log(
                        f"round {round_} {target}: {result['rps']:.0f}/s p50 {result['p50']:.1f} ms "
                        f"p99 {result['p99']:.1f} ms errors {result['errors']:.0f}"
                    )
            profile_lines: list[str] = []
            if args.profile:
                url, headers = targets["read"]
                profile_lines = profile(
                    podium_pid, args.profile, lambda: load(url, headers, args.connections, args.profile - 2)
                )
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"Date {time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"Python {platform.python_version()}; {args.workers} worker processes per app, "
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
            f"| {i + 1} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {f['rps']:.0f} | {f['p50']:.1f} ms "
            f"| {f['p99']:.1f} ms | {h['rps']:.0f} | {h['p99']:.1f} ms | {ratios[-1]:.2f} |"
        )
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    print()
    print(
        f"Median read / floor: **{median(ratios):.2f}**; median read p99 "
        f"{median(r['p99'] for r in results['read']):.1f} ms; non-2xx responses: {errors:.0f}."
    )
    if profile_lines:
        print()
        print("\n".join(profile_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
