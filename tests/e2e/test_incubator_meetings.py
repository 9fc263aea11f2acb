"""The demo's mentor logs a meeting with an action item, in a real Chromium: ``mentor01@`` opens the
meetings tab of ``founder@``'s startup, fills the log form (founders present, shared and private
notes, an action item for the founders), sees the meeting and the open action item, and reads their
private notes on the meeting's page; ``founder@`` finds the action item in their own list and marks
it done, never seeing the private notes. On a phone (375 px) in Chinese and at 1024 px in Russian;
axe-core (WCAG 2.1 AA) clean, every control labelled, nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

MENTOR, FOUNDER = "mentor01@podium.example", "founder@podium.example"


def founders_startup(server) -> tuple[int, int]:
    """The startup ``founder@`` leads, and the minutes ``mentor01@`` has left with it (the demo's
    database, read as it is)."""
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        row = database.execute(
            """SELECT s.id, l.budget_minutes - l.used_minutes FROM incubation_startup s
               JOIN incubation_founder f ON f.startup = s.id JOIN podium_user u ON u.id = f."user"
               JOIN incubation_mentor_link l ON l.startup = s.id
               JOIN incubation_mentor m ON m.id = l.mentor JOIN podium_user mu ON mu.id = m."user"
               WHERE u.email = ? AND f.role = 'lead' AND mu.email = ?""",
            (FOUNDER, MENTOR),
        ).fetchone()
    assert row is not None, "the demo's founder@ leads a startup that mentor01@ mentors"
    return row[0], row[1]


def browser_page(new_context, server, lang: str, width: int) -> Page:
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    return context.new_page()


@pytest.mark.parametrize(("lang", "width"), [("zh", 375), ("ru", 1024)])
def test_the_demos_mentor_logs_a_meeting_with_an_action_item(new_context, server, lang, width):
    t = translations(lang)
    startup, left = founders_startup(server)
    assert left >= 20, "the demo leaves mentor01@ some of their hours with founder@'s startup"
    marker = uuid.uuid4().hex[:8]
    shared, private, task = f"Shared {marker}", f"Private {marker}", f"Task {marker}"

    page = browser_page(new_context, server, lang, width)
    log_in(page, MENTOR, "/me")
    page.wait_for_url("**/me")
    page.goto(f"/incubator/startups/{startup}/meetings")
    expect(page.get_by_role("heading", name=t.gettext("Log a meeting"))).to_be_visible()
    check(page, f"the meetings tab ({lang}, {width} px)", width)

    yesterday = dt.date.today() - dt.timedelta(days=1)
    page.locator("#meeting-held_at").fill(f"{yesterday.isoformat()}T10:00")
    page.locator("#meeting-minutes").fill("10")
    page.locator("#meeting-topics").fill("pricing, logistics")
    page.locator("#meeting-attendees input[type=checkbox]").first.check()
    page.locator("#meeting-shared_notes").fill(shared)
    page.locator("#meeting-private_notes").fill(private)
    page.locator("#meeting-item_0_title").fill(task)
    page.locator("#meeting-item_0_side").select_option("founders")
    page.locator("#meeting-item_0_due").fill((yesterday + dt.timedelta(days=14)).isoformat())
    page.get_by_role("button", name=t.gettext("Log the meeting")).click()
    page.wait_for_url("**/meetings?done=meeting-logged")
    expect(page.get_by_role("status")).to_have_text(t.gettext("The meeting was logged."))
    expect(page.locator(".action-items").get_by_text(task)).to_be_visible()
    meeting = page.locator("section[aria-labelledby=meetings-title] li.item").filter(has_text=shared)
    expect(meeting).to_have_count(1)
    assert private not in page.content()
    check(page, f"the meetings tab after logging ({lang}, {width} px)", width)

    meeting.locator("h3 a").click()
    expect(page.locator("p.notes.private")).to_have_text(private)
    expect(page.locator(".action-items").get_by_text(task)).to_be_visible()
    check(page, f"the meeting's page ({lang}, {width} px)", width)

    founder = browser_page(new_context, server, lang, width)
    log_in(founder, FOUNDER, "/incubator/action-items")
    founder.wait_for_url("**/incubator/action-items")
    item = founder.locator("li.item").filter(has_text=task)
    expect(item).to_have_count(1)
    check(founder, f"the founder's action items ({lang}, {width} px)", width)
    item.get_by_role("button", name=t.gettext("Mark done")).click()
    founder.wait_for_url("**/incubator/action-items?done=item-done")
    expect(founder.locator("li.item").filter(has_text=task)).to_have_count(0)
    founder.goto(f"/incubator/startups/{startup}/meetings")
    expect(founder.get_by_text(shared)).to_be_visible()
    assert private not in founder.content()
