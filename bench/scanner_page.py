"""The scanner page's offline check of a code (issue 11: ≤ 5 ms in the page), in Debian's Chromium.

Run: ``make bench-scanner`` (``.venv/bin/python -m bench.scanner_page [--codes 500] [--rounds 3]``).

A ``podium serve`` on a scratch SQLite file serves the real page (``/scan``); the page's two API
reads (who scans where, and the list's offline bundle) are answered by the browser from a bundle made
here, as ``ticketing.checkin`` makes it: one event key, ``--codes`` visitor tickets valid today, each
holder's names sealed under the ticket's serial. Then ``window.PodiumScanner.checkLocal`` checks every
code, as the page does when the network is down: Base32, the claims, the Ed25519 signature with
WebCrypto, the holder's names decrypted (HKDF + AES-GCM), the revoked serials, the validity, the
list's rules and what this device already admitted (IndexedDB). Each round checks every code once;
the figure is the median and 95th percentile per code over all rounds (the first round, which imports
the key and warms the JIT, is reported apart). Beside it, in the same run, ``ticketing.codes.check``
in this process (the server's offline check, ≤ 1 ms). Progress on stderr, a Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from ticketing import codes
from ticketing.checkin.service import holder_index, seal_holder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
EVENT_ID, LIST_ID, TYPE_NUMBER = 7, 11, 1
TIME_ZONE = "Asia/Shanghai"


def make_bundle(count: int) -> tuple[dict, list[str], bytes]:
    """An offline bundle as ``GET /api/v1/checkin/lists/{id}/offline`` answers, and its codes."""
    private, public = codes.new_key()
    today = dt.datetime.now(dt.UTC).date()
    holders, issued = {}, []
    for i in range(count):
        claims = codes.Claims(
            event_id=EVENT_ID,
            key_id=0,
            serial=secrets.token_bytes(codes.SERIAL_BYTES),
            kind="visitor",
            type_number=TYPE_NUMBER,
            valid_from=today - dt.timedelta(days=1),
            valid_until=today + dt.timedelta(days=1),
        )
        issued.append(codes.encode(claims, private))
        record = {"name": f"访客 {i}", "latin": f"Visitor {i}", "institution": "Bench University"}
        holders[holder_index(claims.serial)] = seal_holder(claims.serial, record)
    bundle = {
        "event": {"id": EVENT_ID, "name": "Bench fair", "time_zone": TIME_ZONE},
        "list": {"id": LIST_ID, "name": "Gate", "kind": "gate", "rules": {}},
        "gate": "Gate 1",
        "keys": {"0": public.hex()},
        "revoked": [secrets.token_hex(12) for _ in range(200)],
        "types": {str(TYPE_NUMBER): {"name": "Visitor", "kind": "visitor", "colour": "#1f6feb"}},
        "holders": holders,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    return bundle, issued, public


def server_baseline(issued: list[str], public: bytes, rounds: int) -> list[float]:
    """``ticketing.codes.check`` per code, in ms (what the server does offline)."""
    today = dt.datetime.now(dt.UTC).date()
    timings = []
    for _ in range(rounds):
        for code in issued:
            started = time.perf_counter()
            verdict = codes.check(code, EVENT_ID, {0: public}, today)
            timings.append((time.perf_counter() - started) * 1000)
            assert verdict.reason is None, verdict
    return timings


CHECK_ALL = """async ([codes, list]) => {
  const times = [];
  for (const code of codes) {
    const started = performance.now();
    const answer = await window.PodiumScanner.checkLocal(code, list, "entry");
    times.push(performance.now() - started);
    if (answer.status !== "admitted" || !answer.ticket.holder) { throw new Error(JSON.stringify(answer)); }
  }
  return times;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    bundle, issued, public = make_bundle(args.codes)
    scanner = {
        "device": "Bench phone",
        "gate": "Gate 1",
        "lists": [
            {
                "id": LIST_ID,
                "name": "Gate",
                "kind": "gate",
                "event": EVENT_ID,
                "event_name": "Bench fair",
                "time_zone": TIME_ZONE,
            }
        ],
    }
    data_dir = Path(tempfile.mkdtemp(prefix="podium-bench-scanner-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_DATABASE_URL", "PODIUM_REDIS_URL")}
    env.update(PODIUM_DATA_DIR=str(data_dir), PODIUM_SECRET_KEY=secrets.token_urlsafe(40))
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "backend",
        "serve",
        "--migrate",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    harness.log(f"podium serve on {url} (SQLite in {data_dir})")
    with harness.server(command, env, f"{url}/healthz", data_dir / "server.log"), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=url)
        page.route("**/api/v1/checkin/scanner", lambda r: r.fulfill(json=scanner))
        page.route(f"**/api/v1/checkin/lists/{LIST_ID}/offline", lambda r: r.fulfill(json=bundle))
        page.goto("/scan#device=pdv_bench")
        page.wait_for_selector("main[data-ready=true]", state="attached", timeout=30000)
        ed25519 = page.evaluate(
            "crypto.subtle.importKey('raw', new Uint8Array(32), {name: 'Ed25519'}, false, ['verify'])"
            ".then(() => true, () => false)"
        )
        harness.log(f"WebCrypto Ed25519: {ed25519}; checking {args.codes} codes × {args.rounds} rounds")
        first = page.evaluate(CHECK_ALL, [issued, LIST_ID])
        later: list[float] = []
        for _ in range(args.rounds):
            later += page.evaluate(CHECK_ALL, [issued, LIST_ID])
        version = browser.version
        browser.close()
    server = server_baseline(issued, public, args.rounds)

    def row(name: str, values: list[float], target: str) -> str:
        q = statistics.quantiles(values, n=100)
        return f"| {name} | {statistics.median(values):.3f} | {q[94]:.3f} | {max(values):.3f} | {target} |"

    print(f"### Scanner page: offline check of a code ({harness.machine()}, Chromium {version})\n")
    print(f"{args.codes} codes, {args.rounds} rounds; load average {harness.load_average()}.\n")
    print("| check | median ms | p95 ms | max ms | target |")
    print("|---|---|---|---|---|")
    print(row("in the page, first round (key import, JIT)", first, ""))
    print(row("in the page, later rounds", later, "≤ 5 ms"))
    print(row("server, `ticketing.codes.check` (baseline)", server, "≤ 1 ms"))
    print()
    print(
        json.dumps(
            {"page_median_ms": statistics.median(later), "server_median_ms": statistics.median(server)}
        )
    )


if __name__ == "__main__":
    main()
