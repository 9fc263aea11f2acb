"""The public verification page of a certificate in the browser: valid, revoked and unknown, in
Chinese, English and Russian, on a phone (375 px) and a laptop (1024 px), with no axe-core (WCAG 2.1
AA) violation and no horizontal scrolling; the page shows the holder, prize and event, and nothing
of the team's people beyond the holder."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_axe_clean

VALID = "e2eValidSerial00000000"
REVOKED = "e2eRevokedSerial000000"


@pytest.fixture(scope="module")
def certificates(server) -> dict[str, str]:
    """A prize of the demo's first stage for one of its teams without a prize, and two certificates of its leader
    (one revoked), written straight into the server's database."""
    with closing(sqlite3.connect(server.data_dir / "podium.sqlite")) as db, db:
        team, event, leader = db.execute(
            "SELECT id, event, leader FROM team t WHERE leader IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM award a WHERE a.team = t.id) ORDER BY id LIMIT 1"
        ).fetchone()
        stage = db.execute(
            "SELECT id FROM stage WHERE event = ? ORDER BY position LIMIT 1", (event,)
        ).fetchone()[0]
        tier = db.execute(
            "INSERT INTO prize_tier (stage, code, name_zh, name_en, name_ru, size, position) "
            "VALUES (?, 'e2e-gold', '金奖', 'Gold award', 'Золотая премия', 1, 99) RETURNING id",
            (stage,),
        ).fetchone()[0]
        award = db.execute(
            "INSERT INTO award (stage, team, tier, rank, awarded_at) VALUES (?, ?, ?, 1, CURRENT_TIMESTAMP) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (stage, team, tier),
        ).fetchone()
        award = (
            award[0]
            if award
            else db.execute("SELECT id FROM award WHERE stage = ? AND team = ?", (stage, team)).fetchone()[0]
        )
        for serial, revoked in ((VALID, None), (REVOKED, "2027-07-01T10:00:00+00:00")):
            db.execute(
                'INSERT INTO certificate (award, team, "user", holder_name, holder_name_latin, role, serial, '
                "issued_at, revoked_at, revoke_reason) VALUES (?, ?, ?, '王小明', 'Wang Xiaoming', 'member', ?, "
                "'2027-06-30T10:00:00+00:00', ?, 'Secret reason')",
                (award, team, leader, serial, revoked),
            )
        email = db.execute("SELECT email FROM podium_user WHERE id = ?", (leader,)).fetchone()[0]
    return {"email": email}


@pytest.mark.parametrize("width", [375, 1024])
@pytest.mark.parametrize(
    ("locale", "valid", "revoked", "unknown", "prize"),
    [
        ("zh-CN", "有效证书", "已于", "未知证书", "金奖"),
        ("en-US", "Valid certificate", "Revoked on", "Unknown certificate", "Gold award"),
        ("ru-RU", "Действительный сертификат", "Отозван", "Неизвестный сертификат", "Золотая премия"),
    ],
)
def test_the_verification_page(new_context, certificates, width, locale, valid, revoked, unknown, prize):
    page = new_context(locale=locale, width=width).new_page()
    for serial, status, text in (
        (VALID, 200, valid),
        (REVOKED, 200, revoked),
        ("NoSuchSerial0000000000", 404, unknown),
    ):
        response = page.goto(f"/verify/{serial}")
        assert response is not None
        assert response.status == status
        expect(page.locator(".verify-result")).to_contain_text(text)
        if serial != "NoSuchSerial0000000000":
            expect(page.locator(".facts")).to_contain_text("王小明")
            expect(page.locator(".facts")).to_contain_text("Wang Xiaoming")
            expect(page.locator(".facts")).to_contain_text(prize)
        content = page.content()
        assert certificates["email"] not in content
        assert "Secret reason" not in content
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"horizontal scroll at {width} px"
        assert_axe_clean(page, f"/verify/{serial} in {locale} at {width} px")


def _published_stage(server) -> tuple[int, int]:
    with closing(sqlite3.connect(server.data_dir / "podium.sqlite")) as db:
        row = db.execute(
            "SELECT s.event, s.id FROM stage_judging j JOIN stage s ON s.id = j.stage "
            "WHERE j.status = 'published' ORDER BY s.id LIMIT 1"
        ).fetchone()
    assert row is not None, "the demo has a published stage"
    return row


@pytest.mark.parametrize("width", [375, 1024])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US", "ru-RU"])
def test_the_advancement_and_prizes_pages(new_context, server, certificates, width, locale):
    """The demo organizer's advancement page (rules, quota bars, the ranking to recommend from) and
    prizes page (tiers editor, awards, certificates), axe-clean and without horizontal scrolling."""
    event_id, stage_id = _published_stage(server)
    page = new_context(locale=locale, width=width).new_page()
    base = f"/workspace/events/{event_id}/judging/stages/{stage_id}"
    page.goto(f"/login?next={base}/advancement")
    page.locator("#email").fill("organizer@podium.example")
    page.locator("#password").fill("podium-demo")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{base}/advancement")
    lang = locale[:2]
    page.context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    for path in ("advancement", "prizes"):
        response = page.goto(f"{base}/{path}")
        assert response is not None
        assert response.status == 200
        expect(page.locator("h1")).to_be_visible()
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"horizontal scroll on {path} at {width} px"
        assert_axe_clean(page, f"{base}/{path} in {locale} at {width} px")
    page.goto(f"{base}/advancement")
    expect(page.locator("#rules-total")).to_be_visible()
    page.locator("#rules-total").focus()
    assert page.evaluate("document.activeElement.id") == "rules-total"
