"""The judges' tablet page at tablet size with touch: a sheet scored online, two more offline (they
wait on the tablet), a reload while offline (the service worker opens the page, the outbox still
holds both), the network back (the outbox syncs): exactly three sheets stored, each once. Plus the
draft that survives a closed tab, the confirm step, and axe on every view."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import Page, expect

from backend.accounts import passwords
from backend.i18n import translations
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD

LOCALES = {"zh": "zh-CN", "ru": "ru-RU"}
JUDGE = "tablet-judge@podium.example"
CRITERIA = [
    {
        "code": "market",
        "weight": 0.6,
        "min": 0,
        "max": 10,
        "step": 1,
        "name": {"zh": "市场", "en": "Market", "ru": "Рынок"},
        "descriptor": {"zh": "市场分析", "en": "Market analysis", "ru": "Анализ рынка"},
    },
    {
        "code": "team",
        "weight": 0.4,
        "min": 0,
        "max": 5,
        "step": 0.5,
        "name": {"zh": "团队", "en": "Team", "ru": "Команда"},
        "descriptor": {"zh": "团队能力", "en": "Team strength", "ru": "Сильная команда"},
    },
]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(sep=" ")


@pytest.fixture(scope="module")
def scoring(server) -> dict:
    """A stage of the demo contest that is scoring, with a rubric, and a judge of three entries
    (written into the server's SQLite database: the tablet test needs no other area's pages)."""
    with closing(sqlite3.connect(server.data_dir / "podium.sqlite", timeout=30)) as db, db:
        event = db.execute("SELECT id FROM event WHERE kind = 'contest' ORDER BY id LIMIT 1").fetchone()[0]
        position = db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM stage WHERE event = ?", (event,)
        ).fetchone()[0]
        stage = db.execute(
            "INSERT INTO stage (event, position, level, name_en, name_zh, name_ru) VALUES (?, ?, 'final', ?, ?, ?)"
            " RETURNING id",
            (event, position, "Tablet review", "平板评审", "Оценка на планшете"),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO stage_judging (stage, event, status, assignment_published_at, updated_at)"
            " VALUES (?, ?, 'scoring', ?, ?)",
            (stage, event, _now(), _now()),
        )
        db.execute(
            "INSERT INTO rubric (stage, version, criteria, created_at) VALUES (?, 1, ?, ?)",
            (stage, json.dumps(CRITERIA), _now()),
        )
        judge = db.execute(
            "INSERT INTO podium_user (username, email, password, display_name, locale, active, admin, superuser,"
            " email_confirmed_at, created_at, auth_epoch) VALUES (?, ?, ?, 'Tablet Judge', 'en', 1, 0, 0, ?, ?, 0)"
            " RETURNING id",
            (JUDGE, JUDGE, passwords.hash_password(DEMO_PASSWORD), _now(), _now()),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO role_grant (\"user\", role, event, created_at) VALUES (?, 'judge', ?, ?)",
            (judge, event, _now()),
        )
        teams = db.execute(
            "SELECT id, track FROM team WHERE event = ? ORDER BY id LIMIT 3", (event,)
        ).fetchall()
        assignments = []
        for i, (team, track) in enumerate(teams):
            entry = db.execute(
                "INSERT INTO stage_entry (stage, event, team, track, label, position) VALUES (?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (stage, event, team, track, f"T-{i + 1:03d}", i),
            ).fetchone()[0]
            assignments.append(
                db.execute(
                    "INSERT INTO assignment (stage, stage_entry, judge, source) VALUES (?, ?, ?, 'manual') RETURNING id",
                    (stage, entry, judge),
                ).fetchone()[0]
            )
    return {
        "stage": stage,
        "judge": judge,
        "assignments": assignments,
        "db": server.data_dir / "podium.sqlite",
    }


def _sheets(scoring: dict) -> list[tuple[int, int, int]]:
    """(assignment, sheet version, number of versions) of the stage's sheets."""
    with closing(sqlite3.connect(scoring["db"], timeout=30)) as db:
        return db.execute(
            "SELECT s.assignment, s.version, (SELECT COUNT(*) FROM score_sheet_version v WHERE v.sheet = s.id)"
            " FROM score_sheet s WHERE s.stage = ? ORDER BY s.assignment",
            (scoring["stage"],),
        ).fetchall()


def _login(page: Page) -> None:
    page.goto("/login?next=/judge")
    page.locator("#email").fill(JUDGE)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/judge$"))
    expect(page.locator("main[data-ready=true]")).to_be_attached()


def _score(page: Page, assignment: int, market: int, team: float) -> None:
    """Open the entry from the queue, mark it with the steppers and the keyboard, confirm."""
    page.locator(f"a[data-assignment='{assignment}']").tap()
    expect(page.locator("#entry-title")).to_be_focused()
    for _ in range(market + 1):  # the first tap gives the lowest mark, 0
        page.get_by_role("button", name="Raise Market").tap()
    page.locator("#mark-team").fill(str(team))
    expect(page.locator("#sheet-total")).to_have_text(f"{0.6 * market + 0.4 * team:g}")
    page.get_by_role("button", name="Review and submit").tap()
    expect(page.locator("#sheet-confirm")).to_be_visible()
    expect(page.locator("#confirm-total")).to_have_text(f"{0.6 * market + 0.4 * team:g}")
    page.get_by_role("button", name="Submit this sheet").tap()


def test_a_judge_scores_online_and_offline_and_every_sheet_counts_once(browser, server, scoring):
    first, second, third = scoring["assignments"]
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1024, "height": 768}, has_touch=True, locale="en-US"
    )
    context.set_default_timeout(10000)
    try:
        page = context.new_page()
        _login(page)
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        expect(page.locator("#queue-progress-text")).to_have_text("0 of 3 scored")
        assert_axe_clean(page, "the tablet's queue")

        # online: saved at once
        _score(page, first, 7, 3.5)
        expect(page.locator("#entry-state")).to_have_text("Saved, version 1")
        assert_axe_clean(page, "the tablet's sheet")
        page.locator("#entry-back").tap()

        # offline: two more wait on the tablet
        context.set_offline(True)
        expect(page.locator("#tablet-network")).to_contain_text("Offline")
        for assignment in (second, third):
            _score(page, assignment, 5, 4)
            expect(page.locator("#entry-state")).to_have_text("Waiting to send")
            page.locator("#entry-back").tap()
        waiting = page.locator(".tablet-item[data-state=waiting]")
        expect(waiting).to_have_count(2)

        # a reload while offline: the service worker opens the page, the outbox still holds both
        page.reload()
        expect(page.locator("main[data-ready=true]")).to_be_attached()
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        expect(page.locator(".tablet-item[data-state=waiting]")).to_have_count(2)
        expect(page.locator(f".tablet-item[data-assignment='{first}']")).to_have_attribute(
            "data-state", "saved"
        )
        assert [row[0] for row in _sheets(scoring)] == [first]

        # the network is back: the outbox syncs
        context.set_offline(False)
        expect(page.locator(".tablet-item[data-state=saved]")).to_have_count(3)
        expect(page.locator("#queue-progress-text")).to_have_text("3 of 3 scored")
        assert _sheets(scoring) == [(first, 1, 1), (second, 1, 1), (third, 1, 1)]
        assert_axe_clean(page, "the tablet's queue, synced")
    finally:
        context.close()


def test_a_draft_survives_a_closed_tab_and_a_change_asks_why(browser, server, scoring):
    """Changes the first entry's sheet, which the test above submitted (the module's tests share the
    stage and run in order)."""
    first = scoring["assignments"][0]
    context = browser.new_context(
        base_url=server.url, viewport={"width": 375, "height": 740}, has_touch=True, locale="en-US"
    )
    context.set_default_timeout(10000)
    try:
        page = context.new_page()
        _login(page)
        page.locator(f"a[data-assignment='{first}']").tap()
        page.locator("#mark-market").fill("9")
        page.locator("#sheet-comment").fill("Better than I thought")
        expect(page.locator("#entry-state")).to_have_text("Draft")
        page.close()

        page = context.new_page()
        page.goto(f"/judge#a{first}")
        expect(page.locator("#mark-market")).to_have_value("9")
        expect(page.locator("#sheet-comment")).to_have_value("Better than I thought")
        assert_axe_clean(page, "the tablet's sheet at 375 px")
        # a submitted sheet changes only with a reason
        page.get_by_role("button", name="Review and submit").tap()
        expect(page.locator("#sheet-reason-error")).to_have_text("Say why you change the submitted sheet.")
        page.locator("#sheet-reason").fill("Re-read the business plan")
        page.get_by_role("button", name="Review and submit").tap()
        page.get_by_role("button", name="Submit this sheet").tap()
        expect(page.locator("#entry-state")).to_have_text("Saved, version 2")
        rows = {row[0]: row for row in _sheets(scoring)}
        assert rows[first][1:] == (2, 2)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "ru"])
def test_the_tablet_reads_in_chinese_and_russian_on_a_phone(browser, server, scoring, lang):
    t = translations(lang)
    context = browser.new_context(
        base_url=server.url, viewport={"width": 375, "height": 740}, has_touch=True, locale=LOCALES[lang]
    )
    context.set_default_timeout(10000)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    try:
        page = context.new_page()
        _login(page)
        expect(page.locator("#queue-title")).to_have_text(t.gettext("Your entries"))
        fits = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(fits), "the queue is wider than the phone"
        assert_axe_clean(page, f"the tablet's queue in {lang} at 375 px")
        page.locator(f"a[data-assignment='{scoring['assignments'][2]}']").tap()
        expect(page.locator("#sheet-review")).to_have_text(t.gettext("Review and submit"))
        increase = t.gettext("Raise {name}").replace("{name}", CRITERIA[0]["name"][lang])
        expect(page.get_by_role("button", name=increase)).to_be_visible()
        assert page.evaluate(fits), "the sheet is wider than the phone"
        assert_axe_clean(page, f"the tablet's sheet in {lang} at 375 px")
    finally:
        context.close()
