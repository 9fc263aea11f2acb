"""The judging set-up in a real Chromium: the demo's organizer opens the judging hub, writes a rubric
for a stage without one in the rubric editor (adding and removing criteria by keyboard, a refusal
shown at its field), and shows a judge's one-time tablet sign-in as a QR code; on a tablet (1024 px)
in English and on a phone (375 px) in Russian and Chinese, axe-core (WCAG 2.1 AA) clean throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

ORGANIZER = "organizer@podium.example"


def stages_of_the_judged_contest(page: Page) -> tuple[int, int, int]:
    """The demo contest whose first stage has judges: its id, that stage's, and a later stage's whose
    rubric nobody has scored with yet (none at first; the test's own afterwards)."""
    for contest in page.request.get("/api/v1/events?kind=contest").json()["items"]:
        stages = sorted(
            page.request.get(f"/api/v1/events/{contest['id']}/stages").json(), key=lambda s: s["position"]
        )
        judges = page.request.get(f"/api/v1/stages/{stages[0]['id']}/judges")
        if judges.status != 200 or not judges.json():
            continue
        for stage in stages[1:]:
            if page.request.get(f"/api/v1/stages/{stage['id']}/rubric").json()["locked_at"] is None:
                return contest["id"], stages[0]["id"], stage["id"]
    raise AssertionError("the demo has no contest with judges and a stage without a rubric")


def fill_criterion(row, code: str, name: str, *, maximum: str = "10", step: str = "0.5") -> None:
    row.locator("[data-field=code]").fill(code)
    row.locator("[data-field=weight]").fill("1")
    row.locator("[data-field=min]").fill("0")
    row.locator("[data-field=max]").fill(maximum)
    row.locator("[data-field=step]").fill(step)
    row.locator("[data-field='name.en']").fill(name)


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("ru", 375), ("zh", 375)])
def test_the_organizer_writes_a_rubric_and_signs_a_tablet_in(new_context, server, lang, width):
    t = translations(lang)
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, ORGANIZER, "/workspace")
    expect(page).to_have_url(re.compile(r"/workspace$"))
    contest, review, unscored = stages_of_the_judged_contest(page)

    # the hub: every stage with its state and counts
    page.goto(f"/workspace/events/{contest}/judging")
    expect(page.locator("table[aria-labelledby=stages-title] tbody tr").first).to_be_visible()
    check(page, "the judging hub", width)

    # the rubric editor of a stage nobody has scored yet (its earlier criteria removed first)
    page.goto(f"/workspace/events/{contest}/judging/stages/{unscored}")
    expect(page.locator(".subnav a[aria-current=page]")).to_have_text(t.gettext("Stage set-up"))
    rubric = page.locator("form[data-rubric]")
    rows = rubric.locator("[data-criterion]")
    while rows.count() > 1:
        rows.last.locator("[data-remove-criterion]").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator("[data-remove-criterion]")).to_be_disabled()  # a rubric keeps one
    fill_criterion(rows.nth(0), "idea", "Idea")
    add = rubric.locator("[data-add-criterion]")
    add.focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-field=code]")).to_be_focused()  # the new row takes the focus
    fill_criterion(rows.nth(1), "idea", "Team", maximum="10", step="3")  # a repeated code, a bad step
    rubric.locator("button[type=submit]").click()
    errors = rubric.locator("[data-errors]")
    expect(errors).to_be_visible()
    expect(errors).to_be_focused()
    code = rows.nth(1).locator("[data-field=code]")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#criterion-1-code-error")).to_have_text(t.gettext("is used by another criterion"))
    expect(rows.nth(1).locator("[data-field=step]")).to_have_attribute("aria-invalid", "true")
    check(page, "a refused rubric", width)
    # a third row, removed again by keyboard: the rows are renumbered
    add.focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(3)
    rows.nth(2).locator("[data-remove-criterion]").focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-field=code]")).to_have_attribute("name", "criteria[1].code")
    code.fill("team")
    rows.nth(1).locator("[data-field=step]").fill("1")
    rubric.locator("button[type=submit]").click()
    expect(page.locator("[data-status]")).to_have_text(t.gettext("The rubric is saved as a new version."))
    expect(page.locator("form[data-rubric] [data-criterion]")).to_have_count(2)
    saved = page.request.get(f"/api/v1/stages/{unscored}/rubric").json()
    assert [c["code"] for c in saved["criteria"]] == ["idea", "team"]
    assert saved["criteria"][0]["step"] == 0.5
    check(page, "the saved rubric", width)

    # a judge's tablet: a one-time sign-in shown as a QR code in a dialog
    page.goto(f"/workspace/events/{contest}/judging/stages/{review}")
    button = page.locator("[data-tablet]").first
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#tablet-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-tablet-qr] svg")).to_be_visible()
    expect(dialog.locator("[data-tablet-url]")).to_have_text(re.compile(r"/tablet/tab_"))
    box = dialog.locator("[data-tablet-qr] svg").bounding_box()
    assert box is not None
    assert box["width"] >= min(300, width - 80)
    check(page, "the tablet sign-in dialog", width)
    dialog.locator("[data-close-dialog]").click()
    expect(dialog).to_be_hidden()
