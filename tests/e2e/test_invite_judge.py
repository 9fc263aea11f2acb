"""The acceptance test of issue 8: the organization admin creates a contest with two tracks and three
stages in the workspace pages, invites a judge by e-mail, the judge accepts the invitation from the
mail folder and sees the event on /me. Every page on the way is checked with axe (WCAG 2.1 AA), at
1024 px for the organizer and 375 px for the judge.
"""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ORG_ADMIN = "alliance@podium.example"
JUDGE = "new.judge@example.org"
LINK = re.compile(r"https?://[^\s]+(/invitations/inv_[A-Za-z0-9_-]+)")


def log_in(page: Page, address: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(address)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def reveal(page: Page, field_id: str) -> None:
    """Open the folded "Add ..." section holding the input ``field_id``, as a person would."""
    if not page.locator(f"#{field_id}").is_visible():
        page.locator(f"details:has(#{field_id}) > summary").click()


def submit(page: Page, field_id: str) -> None:
    """Submit the form holding the input ``field_id``."""
    page.locator(f"form:has(#{field_id}) button[type=submit]").click()
    page.wait_for_load_state()


def invitation_link(mail_dir: Path, address: str, timeout: float = 15) -> str:
    """The path of the invitation link in the newest message to ``address`` in the mail folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address:
                found = LINK.search(message.get_body(("plain",)).get_content())
                assert found, message.get_body(("plain",)).get_content()
                return found[1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} in {mail_dir}")


def test_an_organization_admin_sets_up_a_contest_and_invites_a_judge_who_accepts(new_context, server):
    admin = new_context(locale="en-US", width=1024).new_page()
    # the demo's organization admin reads Chinese; this test reads the English pages
    admin.context.add_cookies([{"name": "podium_lang", "value": "en", "url": server.url}])
    log_in(admin, ORG_ADMIN)

    # a contest in the organization
    admin.goto("/workspace/events/new")
    assert_axe_clean(admin)
    organization = admin.locator("#event-organization_id")
    if organization.count():
        organization.select_option(index=1)
    admin.locator("#event-kind").select_option("contest")
    admin.locator("#event-slug").fill("invitation-cup-2027")
    admin.locator("#event-name_en").fill("Invitation Cup 2027")
    admin.locator("#event-starts_on").fill("2027-05-01")
    admin.locator("#event-ends_on").fill("2027-07-01")
    submit(admin, "event-slug")
    expect(admin).to_have_url(re.compile(r"/workspace/events/\d+"))
    event_id = int(re.search(r"/workspace/events/(\d+)", admin.url)[1])

    # two tracks and three stages
    admin.goto(f"/workspace/events/{event_id}/structure")
    for code, name in (("A", "Cross-border B2C"), ("B", "Cross-border B2B")):
        reveal(admin, "track-new-code")
        admin.locator("#track-new-code").fill(code)
        admin.locator("#track-new-name_en").fill(name)
        submit(admin, "track-new-code")
        expect(admin.locator("main")).to_contain_text(name)
    for name in ("School round", "Province round", "National final"):
        reveal(admin, "stage-new-name_en")
        admin.locator("#stage-new-name_en").fill(name)
        submit(admin, "stage-new-name_en")
        expect(admin.locator("main")).to_contain_text(name)
    assert_axe_clean(admin)

    # opened (published): a judge sees no draft, on /me either
    admin.goto(f"/workspace/events/{event_id}")
    admin.get_by_role("button", name="Open the event").click()
    expect(admin.locator("main")).to_contain_text("The event is open")

    # the judge is invited by e-mail from the event's people page
    admin.get_by_role("navigation", name="Event workspace").get_by_role(
        "link", name="People and roles"
    ).click()
    expect(admin).to_have_url(re.compile(rf"/workspace/events/{event_id}/people"))
    assert_axe_clean(admin)
    admin.locator("#invite-email").fill(JUDGE)
    admin.locator("#invite-role").select_option("judge")
    admin.locator("#invite-locale").select_option("en")
    submit(admin, "invite-email")
    expect(admin.locator("[role=status]").first).to_contain_text("The invitation was sent.")
    expect(admin.get_by_role("region", name="Invitations")).to_contain_text(JUDGE)
    assert_axe_clean(admin)

    # the judge opens the link from the mail folder on a phone, creates the account and lands on /me
    path = invitation_link(server.data_dir / "mail", JUDGE)
    judge = new_context(locale="en-US", width=375, height=740).new_page()
    judge.goto(path)
    expect(judge.locator("h1")).to_have_text("Invitation")
    expect(judge.locator("main")).to_contain_text("Invitation Cup 2027")
    assert_axe_clean(judge)
    judge.locator("#display_name").fill("Professor Xu")
    judge.locator("#password").fill("a judge's own secret")
    judge.locator("#password_again").fill("a judge's own secret")
    submit(judge, "display_name")
    expect(judge).to_have_url(re.compile(r"/me\?done=invitation"))
    main = judge.locator("main")
    expect(main).to_contain_text("You accepted the invitation.")
    expect(main).to_contain_text("Invitation Cup 2027")
    expect(main).to_contain_text("Scoring opens when the organizer assigns entries to you.")
    assert_axe_clean(judge)
    assert judge.evaluate("document.documentElement.scrollWidth") <= 375

    # the link is spent; the organizer sees the invitation accepted and the judge in the roles
    judge.goto(path)
    expect(judge.locator("main")).to_contain_text("You accepted this invitation.")
    admin.goto(f"/workspace/events/{event_id}/people")
    expect(admin.get_by_role("region", name="Invitations")).to_contain_text("Accepted")
    assert_axe_clean(admin)


def test_me_and_the_people_page_in_chinese_and_russian_at_both_widths(new_context, server):
    for locale, width in (("zh", 375), ("ru", 1024)):
        page = new_context(width=width).new_page()
        page.context.add_cookies([{"name": "podium_lang", "value": locale, "url": server.url}])
        log_in(page, ORG_ADMIN)
        page.goto("/me")
        assert_axe_clean(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto("/workspace")
        event_link = page.locator("main a[href^='/workspace/events/']").first
        href = event_link.get_attribute("href")
        event_id = re.search(r"/workspace/events/(\d+)", href)[1]
        page.goto(f"/workspace/events/{event_id}/people?q=a")
        assert_axe_clean(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
