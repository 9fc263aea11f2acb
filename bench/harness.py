"""The harness the HTTP benchmarks share (``bench.requests``, ``registration``, ``scoring``,
``live_final``, ``ranking_job``): a scratch PostgreSQL database with Podium's tables and the
environment pointing at it, servers in their own process groups, rounds of load, percentiles, the
report's machine line, py-spy profiles, and the rows every seed starts with.

Settings: ``PODIUM_BENCH_POSTGRES`` (server, default ``postgresql://root@127.0.0.1:5432``) and
``PODIUM_BENCH_REDIS`` (default ``redis://127.0.0.1:6379/14``, not flushed).
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.events.tables import Event

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("PODIUM_BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
REDIS_URL = os.environ.get("PODIUM_BENCH_REDIS", "redis://127.0.0.1:6379/14")
BIN = Path(sys.executable).parent

# The rubric of the judging benchmarks: three weighted criteria, one of them in half points.
CRITERIA = [
    {"code": "market", "weight": 0.4, "min": 0, "max": 40, "step": 1, "name": {"en": "Market"}},
    {"code": "product", "weight": 0.35, "min": 0, "max": 35, "step": 1, "name": {"en": "Product"}},
    {"code": "team", "weight": 0.25, "min": 0, "max": 25, "step": 0.5, "name": {"en": "Team"}},
]


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


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` (0.5 the median, 1.0 the maximum) of ``values``, nearest rank below."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def machine() -> str:
    """The start of every report's first line: the date, the cores, the processor, Python."""
    return (
        f"Date {time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"Python {platform.python_version()}"
    )


def cells(result: dict) -> str:
    """A run's requests per second, p50 and p99, as cells of a report's table."""
    return f"{result['rps']:.0f} | {result['p50']:.1f} ms | {result['p99']:.1f} ms"


def round_arguments(
    parser: argparse.ArgumentParser, workers: str, profile: str, connections: int = 64
) -> None:
    """The options of a benchmark run in rounds of load (``workers`` and ``profile``: the help of
    ``--workers`` and ``--profile``), and the hidden ``--load`` that runs its load generator in a child
    process."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help=workers)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--profile", type=int, default=0, help=profile)
    parser.add_argument("--load", help=argparse.SUPPRESS)


def load_average() -> str:
    """The machine's 1-minute load average, as ``/proc/loadavg`` writes it."""
    return Path("/proc/loadavg").read_text().split()[0]


@dataclass
class Scratch:
    """A scratch database with Podium's tables, a data folder, and the environment pointing at both."""

    name: str
    env: dict[str, str]
    data_dir: Path

    @property
    def seeded_path(self) -> Path:
        return self.data_dir / "seeded.json"

    def seed(self, module: str, *args: str) -> dict:
        """Run ``python -m module --seed FILE *args`` on the scratch database; what it wrote to FILE."""
        command = [sys.executable, "-m", module, "--seed", str(self.seeded_path), *args]
        subprocess.run(command, env=self.env, check=True, cwd=ROOT)
        return json.loads(self.seeded_path.read_text())

    def podium_serve(self, port: int, log_name: str = "app.log") -> contextlib.AbstractContextManager[int]:
        """``podium serve`` (one worker process) on ``port``, ready once its ``/healthz`` answers."""
        command = [str(BIN / "podium"), "serve", "--port", str(port)]
        return server(command, self.env, f"http://127.0.0.1:{port}/healthz", self.data_dir / log_name)


@contextlib.contextmanager
def scratch(prefix: str, note: str) -> Iterator[Scratch]:
    """Create the database ``{prefix}_{pid}`` and migrate it; drop it and the data folder at the end.
    Logs ``note`` beside the database's name first."""
    name = f"{prefix}_{os.getpid()}"
    data_dir = Path(tempfile.mkdtemp(prefix=prefix.replace("_", "-") + "-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env |= {
        "PODIUM_DATABASE_URL": f"{PG_SERVER}/{name}",
        "PODIUM_REDIS_URL": REDIS_URL,
        "PODIUM_DATA_DIR": str(data_dir),
        "PODIUM_SECRET_KEY": secrets.token_urlsafe(48),
    }
    log(f"Scratch database {name}; {note}")
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        subprocess.run([BIN / "podium", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
        yield Scratch(name, env, data_dir)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(data_dir, ignore_errors=True)


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


@contextlib.contextmanager
def serve_app(factory: str, db: Scratch, workers: int) -> Iterator[tuple[str, int]]:
    """The app ``factory`` (``module:function``) served by uvicorn with ``workers`` processes on a free
    port, against ``db``: its base URL and pid (the server's log is ``app.log`` in its data)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "uvicorn"), factory, "--factory", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    with server(command, db.env, f"{base}/healthz", db.data_dir / "app.log") as pid:
        yield base, pid


def rounds(
    kinds: collections.abc.Iterable[str],
    count: int,
    duration: int,
    load: Callable[[str, int], dict],
    detail: Callable[[dict], str] = lambda r: f"statuses {r['statuses']}",
) -> tuple[dict[str, list[dict]], list[str]]:
    """``load(kind, 2)`` of each kind to warm up (pools, caches), then ``count`` rounds of
    ``load(kind, duration)`` of every kind in turn, each logged with ``detail``. The results per kind,
    and the 1-minute load average at each round's start."""
    kinds = list(kinds)
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    loadavg: list[str] = []
    for kind in kinds:
        load(kind, 2)
    for round_ in range(1, count + 1):
        loadavg.append(load_average())
        for kind in kinds:
            result = load(kind, duration)
            results[kind].append(result)
            log(
                f"round {round_} {kind}: {result['rps']:.0f}/s p50 {result['p50']:.1f} ms "
                f"p99 {result['p99']:.1f} ms {detail(result)}"
            )
    return results, loadavg


def profile(pid: int, seconds: int, load: Callable[[], object]) -> list[str]:
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


def print_profile(lines: list[str]) -> None:
    """The profile's table at the end of a report, if one was taken."""
    if lines:
        print()
        print("\n".join(lines))


# Seeds: they run in a child process whose environment points at the scratch database, inside
# ``backend.db.connection_pool``.


async def bench_event(slug: str, status: str, name_en: str, **fields: object) -> Event:
    """The organization ``bench`` and its contest ``slug`` (1 March to 25 July 2027)."""
    import datetime as dt

    from backend.events.tables import Event
    from backend.organizations.tables import Organization

    organization = Organization(slug="bench", kind="alliance", name_en="Bench")
    await organization.save()
    event = Event(
        organization=organization.id,
        slug=slug,
        kind="contest",
        status=status,
        name_en=name_en,
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 7, 25),
        **fields,
    )
    await event.save()
    return event


async def account(email: str, display_name: str | None = None) -> int:
    """A confirmed account (English, unusable password) named after its address unless told."""
    from backend.accounts.tables import User

    user = User.account(email, "-", display_name or email.split("@")[0], "en")
    await user.save()
    return user.id


async def api_token(user_id: int) -> str:
    """A new read-write bearer token of the account."""
    from backend.accounts.tables import ApiToken
    from backend.accounts.tokens import new_api_token

    plain, digest = new_api_token()
    await ApiToken(user=user_id, name="bench", token_hash=digest, scopes="read write").save()
    return plain


async def organizer(event_id: int, display_name: str | None = None) -> str:
    """``organizer@bench.example``, organizer of the event; its bearer token."""
    from backend.accounts.tables import RoleGrant

    user = await account("organizer@bench.example", display_name)
    await RoleGrant(user=user, role="organizer", event=event_id).save()
    return await api_token(user)
