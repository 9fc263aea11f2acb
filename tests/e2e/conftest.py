"""A real Podium for the browser: ``podium demo`` then ``podium serve`` in a subprocess, on the
embedded default (a fresh SQLite file in a temporary data directory, jobs in-process, no Redis),
driven by Debian's Chromium through Playwright (never ``playwright install``).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "podium-demo"
SECRET_KEY = "e2e-secret-key-that-is-long-enough-0123456789"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _podium(*args: str) -> list[str]:
    return [sys.executable, "-m", "backend", *args]


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """``podium demo`` + ``podium serve`` on a free port, as ``make demo`` does; stopped at the end."""
    data_dir = tmp_path_factory.mktemp("podium-e2e")
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_DATABASE_URL", "PODIUM_REDIS_URL")}
    env.update(PODIUM_DATA_DIR=str(data_dir), PODIUM_SECRET_KEY=SECRET_KEY, PODIUM_LOGIN_RATE_LIMIT="1000")
    demo = subprocess.run(_podium("demo"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr[-3000:]
    # The demo queues ~2,300 mails (results, assignments, complete teams). The server's in-process
    # sweeper would write them out while the tests run, one SQLite write after another, and logins
    # then wait on the database's only write lock past the browser's timeouts. No test reads the
    # demo's own mails (those that read mail read what they cause), so they count as sent.
    with sqlite3.connect(data_dir / "podium.sqlite") as database:
        database.execute(
            "UPDATE outbox_email SET status = 'sent', sent_at = CURRENT_TIMESTAMP WHERE status = 'queued'"
        )

    port = _free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _podium("serve", "--host", "127.0.0.1", "--port", str(port)),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"podium serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"podium serve did not answer /healthz in 30 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Server(url=url, data_dir=data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Package-scoped on purpose: Playwright's sync API keeps an event loop running in this thread,
    which the async tests and ``asyncio.run`` in the other packages cannot share."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser, server: Server) -> Iterator:
    """``new_context(locale=..., width=...)``: a fresh browser profile (no cookies) on the server."""
    contexts: list[BrowserContext] = []

    def factory(locale: str = "en-US", width: int = 1024, height: int = 800) -> BrowserContext:
        context = browser.new_context(
            base_url=server.url, locale=locale, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(5000)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A page in a fresh English-speaking browser at 1024 px."""
    return new_context().new_page()
