"""Exactly-once admission across processes (the issue's acceptance test): 1,000 tickets scanned by 8
concurrent scanners through TWO ``podium serve`` processes sharing the suite's PostgreSQL database,
at one list. Exactly 1,000 admissions, every other answer ``already_checked_in``, and the check-in log
agrees; a retry of any scan, sent to the other process, gets its first answer and writes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from backend.accounts.tokens import token_digest
from backend.db import fetch_all
from tests.integration.ticketing_world import build_world
from ticketing import codes, keys
from ticketing.tables import Device, DeviceList, Ticket

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 1000
SCANNERS = 8
REDIS_URL = os.environ.get("PODIUM_TEST_SCAN_REDIS", "redis://127.0.0.1:6379/7")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _servers(count: int) -> Iterator[list[str]]:
    """``count`` separate ``podium serve`` processes on the suite's database; their base URLs."""
    data_dir = Path(tempfile.mkdtemp(prefix="podium-scan-"))
    env = {**os.environ, "PODIUM_DATA_DIR": str(data_dir), "PODIUM_REDIS_URL": REDIS_URL}
    procs, urls = [], []
    try:
        for i in range(count):
            port = _free_port()
            with (data_dir / f"server{i}.log").open("w") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "backend", "serve", "--port", str(port)],
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=out,
                        start_new_session=True,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for proc, url in zip(procs, urls, strict=True):
            while True:
                assert proc.poll() is None, (data_dir / "server0.log").read_text()[-2000:]
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough to POST JSON and read the answer: a
    scanner of the test costs the test process a few tens of microseconds per request (an httpx
    client costs it about a millisecond, which 8,000 requests would turn into seconds)."""

    def __init__(self, url: str, token: str) -> None:
        self.host, self.port = url.removeprefix("http://").split(":")
        self.token = token

    async def __aenter__(self) -> _Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, int(self.port))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length))


async def _tickets(world, count: int) -> list[str]:
    """``count`` visitor tickets valid today in the event's time zone, signed as the service signs."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    key_id, private = await keys.signing_key(world.event)
    rows, texts = [], []
    for i in range(count):
        claims = codes.Claims(
            event_id=world.event,
            key_id=key_id,
            serial=os.urandom(codes.SERIAL_BYTES),
            kind="visitor",
            type_number=1,
            valid_from=today - dt.timedelta(days=1),
            valid_until=today + dt.timedelta(days=1),
        )
        text = codes.encode(claims, private)
        texts.append(text)
        rows.append(
            Ticket(
                event=world.event,
                ticket_type=world.types["visitor"],
                serial=claims.serial_hex,
                code=text,
                key_id=key_id,
                holder_name=f"Guest {i}",
                valid_from=claims.valid_from,
                valid_until=claims.valid_until,
            )
        )
    await Ticket.insert(*rows)
    return texts


async def test_a_thousand_tickets_eight_scanners_two_processes(db):
    world = await build_world(holders=0, with_accounts=0)
    gate = world.lists["gate"]
    texts = await _tickets(world, TICKETS)
    tokens = [f"pdv_acceptance_{k}" for k in range(SCANNERS)]
    devices = [
        Device(event=world.event, name=f"S{k}", gate=f"Gate {k}", token_hash=token_digest(t))
        for k, t in enumerate(tokens)
    ]
    await Device.insert(*devices)
    await DeviceList.insert(*(DeviceList(device=d.id, checkin_list=gate) for d in devices))

    with _servers(2) as urls:
        answers: dict[tuple[int, int], dict] = {}

        async def scanner(k: int) -> None:
            order = list(range(TICKETS))
            random.Random(k).shuffle(order)
            async with _Connection(urls[k % 2], tokens[k]) as connection:
                for i in order:
                    body = {"code": texts[i], "list": gate, "nonce": f"a{k}-{i}"}
                    status, answer = await connection.post("/api/v1/checkin/scan", body)
                    assert status == 200, answer
                    answers[(k, i)] = answer

        await asyncio.gather(*(scanner(k) for k in range(SCANNERS)))

        outcomes = Counter((a["status"], a["reason"]) for a in answers.values())
        assert outcomes == {
            ("admitted", None): TICKETS,
            ("rejected", "already_checked_in"): TICKETS * (SCANNERS - 1),
        }
        admitted_by_answer = Counter(i for (k, i), a in answers.items() if a["status"] == "admitted")
        assert admitted_by_answer == dict.fromkeys(range(TICKETS), 1)
        # every refusal names the admission that came first
        assert all(a["previous"] is not None for a in answers.values() if a["status"] == "rejected")

        log = await fetch_all(
            "SELECT status, COUNT(*) AS n, COUNT(DISTINCT ticket) AS tickets FROM checkin"
            " WHERE checkin_list = {} GROUP BY status",
            gate,
        )
        assert {r["status"]: (r["n"], r["tickets"]) for r in log} == {
            "admitted": (TICKETS, TICKETS),
            "rejected": (TICKETS * (SCANNERS - 1), TICKETS),
        }
        admitted_rows = await fetch_all(
            "SELECT c.actor, t.code FROM checkin c JOIN ticket t ON t.id = c.ticket"
            " WHERE c.checkin_list = {} AND c.status = 'admitted'",
            gate,
        )
        by_code = {text: i for i, text in enumerate(texts)}
        device_of = {d.id: k for k, d in enumerate(devices)}
        assert {(device_of[int(r["actor"][1:])], by_code[r["code"]]) for r in admitted_rows} == {
            key for key, a in answers.items() if a["status"] == "admitted"
        }

        # retries, each sent to the process the scanner did not use: the first answer, nothing written
        sample = random.Random(99).sample(sorted(answers), 80)
        async with httpx.AsyncClient(timeout=60) as client:
            for k, i in sample:
                response = await client.post(
                    f"{urls[(k + 1) % 2]}/api/v1/checkin/scan",
                    json={"code": texts[i], "list": gate, "nonce": f"a{k}-{i}"},
                    headers={"authorization": f"Bearer {tokens[k]}"},
                )
                assert response.json() == {**answers[(k, i)], "replayed": True}
        total = await fetch_all("SELECT COUNT(*) AS n FROM checkin WHERE checkin_list = {}", gate)
        assert total[0]["n"] == TICKETS * SCANNERS
