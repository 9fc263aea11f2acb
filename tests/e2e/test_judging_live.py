"""The live final in a real Chromium: the organizer prepares the rooms, puts the first team on stage,
and a mark a judge submits appears on the control page without a reload (pushed through the app's
channels); the room screen and the judge's room page; zh, en and ru, on a phone (375 px) and a tablet
(1024 px), axe-core (WCAG 2.1 AA) clean throughout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from backend.security import CSRF_COOKIE, CSRF_HEADER
from tests.e2e.conftest import ROOT
from tests.e2e.test_workspace import LOCALES, check
from tests.integration.conftest import PASSWORD

pytestmark = pytest.mark.e2e

# Run in a child process on the server's own SQLite file: a live final of its own contest.
SEED = """
import asyncio, json, sys
from backend.piccolo_app import use_database
from backend.settings import get_settings
from tests.integration.test_judging_live import live_world

async def main():
    use_database(get_settings())
    live = await live_world(rooms=1, teams_per_room=2, judges_per_room=3, slug=sys.argv[1])
    room = live.rooms[0]
    print(json.dumps({
        "event": live.world.event, "stage": live.stage, "room": room,
        "organizer": live.world.email(live.world.organizer),
        "judges": [live.world.email(j) for j in live.judges[room]], "judge_ids": live.judges[room],
        "entries": live.entries[room],
    }))

asyncio.run(main())
"""


def seed_final(server, slug: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_DATABASE_URL", "PODIUM_REDIS_URL")}
    env["PODIUM_DATA_DIR"] = str(server.data_dir)
    done = subprocess.run(
        [sys.executable, "-c", SEED, slug], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def judge_submits(server, email: str, room: int, marks: dict) -> None:
    """What the judge's tablet does: log in, read the room's team on stage and its assignment, submit."""
    with httpx.Client(base_url=server.url) as client:
        client.get("/healthz")
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        assert (
            client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
        )
        assignment = client.get(f"/api/v1/judge/rooms/{room}").json()["assignment_id"]
        answer = client.put(
            f"/api/v1/judge/assignments/{assignment}/sheet",
            json={"marks": marks, "nonce": uuid.uuid4().hex},
        )
        assert answer.status_code == 200, answer.text


def log_in(page, email: str) -> None:
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375), ("ru", 1024)])
def test_a_submitted_mark_appears_on_the_control_page(new_context, server, lang, width):
    t = translations(lang)
    final = seed_final(server, f"live-{lang}-{width}")
    control = f"/workspace/events/{final['event']}/judging/stages/{final['stage']}/live"
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    page.goto(f"/login?next={control}")
    log_in(page, final["organizer"])
    expect(page).to_have_url(re.compile(re.escape(control) + "$"))
    check(page, "the live final before preparing", width)

    page.locator("[data-prepare]").click()
    room = page.locator(f"section[data-room='{final['room']}']")
    expect(room.locator("[data-step=start-pitch]")).to_be_visible()
    room.locator("[data-step=start-pitch]").click()
    expect(room.locator("[data-phase]")).to_have_text(t.gettext("Pitch"))
    expect(room.locator("[data-timer]")).to_have_text(re.compile(r"^[78]:\d\d$"))
    expect(room.locator(f"tr[data-entry='{final['entries'][0]}']")).to_have_class(re.compile("live-on-stage"))
    check(page, "a room with its first team on stage", width)

    judge_submits(server, final["judges"][0], final["room"], {"market": 30, "product": 20, "team": 12.5})
    mark = room.locator("[data-marks] li").first
    expect(mark).to_contain_text("Judge 1")
    expect(mark).to_contain_text("22.125")  # 0.4 × 30 + 0.35 × 20 + 0.25 × 12.5
    expect(room.locator(f"tr[data-entry='{final['entries'][0]}'] [data-sheets]")).to_have_text("1")
    check(page, "a mark pushed to the control page", width)

    # the judge's room page: the team on stage and the link to score it
    judge = new_context(locale=LOCALES[lang], width=375, height=800).new_page()
    judge.context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    judge.goto(f"/login?next=/judge/rooms/{final['room']}")
    log_in(judge, final["judges"][1])
    expect(judge.locator("[data-current]")).to_contain_text("F-0001")
    expect(judge.locator("[data-score-link] a")).to_have_attribute("href", re.compile(r"^/judge#a\d+$"))
    check(judge, "a judge's room", 375)

    # the room screen: the team on stage and the clock in large type
    page.goto(f"/live/rooms/{final['room']}/screen")
    expect(page.locator("[data-current]")).to_have_text("Team 1")
    expect(page.locator("[data-timer]")).to_have_text(re.compile(r"^[78]:\d\d$"))
    check(page, "the room screen", width)
