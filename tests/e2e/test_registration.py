"""A whole team registration in the browser (issue 9): the leader signs up, confirms the e-mail from
the mail folder and registers a team with the wizard; a new member accepts the mailed invitation
(creating the account); a third person asks to join with the code and the leader approves; the
leader uploads a PDF with the progress bar; the team is complete. Every kind of page is checked with
axe (WCAG 2.1 AA) and for sideways scrolling: the leader at 375 px, the others at 1024 px. Each run
of the flow takes a pair of languages: (zh, en), (en, ru), (ru, zh), so every language is seen at
both widths without the whole cross product."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_axe_clean

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough secret"
CONTEST = "cbec-challenge-2027"
CONFIRM = re.compile(r"https?://[^\s]+(/confirm/acc_[A-Za-z0-9_-]+)")
INVITATION = re.compile(r"https?://[^\s]+(/team-invitations/tinv_[A-Za-z0-9_-]+)")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"% padding\n" * 20000 + b"trailer<<>>\nstartxref\n9\n%%EOF\n"
# (the leader's browser at 375 px, the others' at 1024 px): a different pair each day
LOCALES = [("zh-CN", "en-US"), ("en-US", "ru-RU"), ("ru-RU", "zh-CN")]


def mailed_link(mail_dir: Path, address: str, pattern: re.Pattern, timeout: float = 15) -> str:
    """The path of the link matching ``pattern`` in the newest message to ``address``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            found = pattern.search(message.get_body(("plain",)).get_content())
            if message["To"] == address and found:
                return found[1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} in {mail_dir}")


def checked(page: Page, width: int) -> None:
    assert_axe_clean(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def sign_up(page: Page, server, address: str, name: str, width: int) -> None:
    """Sign up, confirm the address from the mail folder and log in (landing on /teams)."""
    page.goto("/signup")
    page.locator("#email").fill(address)
    page.locator("#name_native").fill(name)
    page.locator("#name_latin").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.locator("input[name=terms]").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(mailed_link(server.data_dir / "mail", address, CONFIRM))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/login?next=/teams")
    page.locator("#email").fill(address)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/teams")
    checked(page, width)


@pytest.mark.parametrize(("small", "large"), LOCALES, ids=["zh-en", "en-ru", "ru-zh"])
def test_a_whole_registration(new_context, server, tmp_path, small, large):
    suffix = str(time.monotonic_ns())[-6:]
    leader = new_context(locale=small, width=375).new_page()
    sign_up(leader, server, f"leader{suffix}@example.org", "Leader", 375)

    # the wizard: track, names (a name over the limit is refused at its field), institution, create
    leader.locator(f"main a[href='/events/{CONTEST}/register']").click()
    leader.wait_for_url(f"**/events/{CONTEST}/register")
    checked(leader, 375)
    leader.locator("input[name=track_id]").first.check()
    leader.locator("main form button[type=submit]").click()
    leader.locator("#team-name").fill("N" * 17)
    leader.locator("main form button[type=submit]").click()
    expect(leader.locator("#team-name-error")).to_be_visible()
    expect(leader.locator("#team-name")).to_have_attribute("aria-invalid", "true")
    checked(leader, 375)
    leader.locator("#team-name").fill(f"Rocket {suffix}")
    leader.locator("#team-entry_title").fill("Cross-border pets")
    leader.locator("main form button[type=submit]").click()
    expect(leader.locator("input[name=step][value=create]")).to_be_attached()
    checked(leader, 375)
    leader.locator("main form button[type=submit]").click()
    leader.wait_for_url("**/invite?done=created")
    team_path = re.search(r"(/teams/\d+)/invite", leader.url)[1]
    checked(leader, 375)

    # step 4: invite a member by e-mail, who accepts from the mail and creates the account
    member_address = f"member{suffix}@example.org"
    leader.locator("#invite-email").fill(member_address)
    leader.locator("main form[action$='/seats'] button[type=submit]").click()
    leader.wait_for_url("**/invite?done=invited")
    member = new_context(locale=large, width=1024).new_page()
    member.goto(mailed_link(server.data_dir / "mail", member_address, INVITATION))
    checked(member, 1024)
    member.locator("#accept-display_name").fill("Member")
    member.locator("#accept-password").fill(PASSWORD)
    member.locator("#accept-password_again").fill(PASSWORD)
    member.locator("main form[action$='/accept'] button[type=submit]").click()
    member.wait_for_url(f"**{team_path}?done=joined")
    checked(member, 1024)

    # a third person asks to join with the code; the leader approves
    leader.goto(f"{team_path}/summary")
    checked(leader, 375)
    leader.goto(team_path)
    code = leader.locator("#join-code code").inner_text().strip()
    joiner = new_context(locale=large, width=1024).new_page()
    sign_up(joiner, server, f"joiner{suffix}@example.org", "Joiner", 1024)
    joiner.locator("#join-code").fill(code)
    joiner.locator("form[action='/teams/join'] button[type=submit]").click()
    joiner.wait_for_url("**/teams?done=requested")
    expect(joiner.locator("main .card h2")).to_have_text(f"Rocket {suffix}")  # no link: not in it yet
    checked(joiner, 1024)
    leader.goto(team_path)
    checked(leader, 375)
    leader.locator("#requests form[action$='/approve'] button").click()
    leader.wait_for_url(f"**{team_path}?done=approved*")
    expect(leader.locator("main .team-status.status-complete")).to_be_visible()

    # a PDF uploaded with the progress bar (an XMLHttpRequest reporting its progress)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(PDF)
    upload = leader.locator("form[data-upload]").first
    upload.locator("input[type=file]").set_input_files(str(pdf))
    with leader.expect_request(lambda r: r.method == "POST" and "/materials/" in r.url) as sent:
        upload.locator("button[type=submit]").click()
    assert sent.value.resource_type == "xhr"
    leader.wait_for_url(f"**{team_path}?done=uploaded*")
    expect(leader.locator("main a[href^='/api/v1/materials/']").first).to_have_text("plan.pdf")
    expect(leader.locator("main .team-status.status-complete")).to_be_visible()
    checked(leader, 375)

    # the withdrawal asks first (and is not done here)
    leader.goto(f"{team_path}/withdraw")
    checked(leader, 375)
    member.goto(team_path)
    expect(member.locator("main .team-status.status-complete")).to_be_visible()
    checked(member, 1024)
