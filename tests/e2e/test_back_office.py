"""The back office in a real Chromium: a platform admin logged in on the site opens ``/admin/`` and
sees the tables with no second login; the site's login is the back office's login too; the end
of the site session sends the open admin app back to the site's login; an organizer gets a clear
403 page pointing at the workspace, usable at phone and tablet widths and clean under axe.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ADMIN = "admin@podium.example"
ORGANIZER = "organizer@podium.example"  # Li Na, account language zh
JUDGE = "judge@podium.example"


def log_in(page: Page, email: str, next: str = "/me") -> None:
    page.goto(f"/login?next={next}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()


def expect_tables(page: Page) -> None:
    """Piccolo Admin's app is showing its tables (its sidebar lists them), not a login form."""
    expect(page.get_by_role("heading", name="Welcome to Podium back office")).to_be_visible(timeout=15000)
    for table in ("podium_user", "event", "audit_entry"):
        expect(page.locator(f"a[href='#/{table}/']").first).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)


def test_a_platform_admin_logged_in_on_the_site_opens_the_back_office_without_a_second_login(page):
    log_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/me$"))

    page.locator("nav.site-nav a[href='/admin/']").click()  # the header's "Back office" link

    expect(page).to_have_url(re.compile(r"/admin/"))
    expect_tables(page)


def test_the_site_login_is_the_back_offices_login(page):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/$"))

    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/admin/"))
    expect_tables(page)


def test_ending_the_site_session_sends_the_open_back_office_to_the_site_login(new_context):
    context = new_context()
    admin_tab = context.new_page()
    log_in(admin_tab, ADMIN, next="/admin/")
    expect_tables(admin_tab)

    site_tab = context.new_page()  # log out of the site in another tab
    site_tab.goto("/me")
    site_tab.locator("form[action='/logout'] button").click()
    expect(site_tab).to_have_url(re.compile(r"/$"))

    admin_tab.locator("a[href='#/podium_user/']").first.click()  # the app's next API call: 401

    # the app's own login form is never shown: the site's login, coming back to the same table
    expect(admin_tab).to_have_url(re.compile(r"/login\?next=%2Fadmin%2F%23%2Fpodium_user%2F$"), timeout=10000)
    admin_tab.locator("#email").fill(ADMIN)
    admin_tab.locator("#password").fill(DEMO_PASSWORD)
    admin_tab.locator("main form button[type=submit]").click()
    expect(admin_tab).to_have_url(re.compile(r"/admin/#/podium_user/$"))
    expect(admin_tab.get_by_text(ADMIN).first).to_be_visible()


def test_the_back_offices_logout_ends_the_site_session(page):
    log_in(page, ADMIN, next="/admin/")
    expect_tables(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure you want to logout?"

    page.get_by_text(ADMIN).first.click()  # the app's user menu
    page.get_by_text("Log out").first.click()

    expect(page).to_have_url(re.compile(r"/login\?next=/admin/$"), timeout=10000)
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))


@pytest.mark.parametrize("width", [375, 1024])
def test_an_organizer_gets_a_clear_403_page_pointing_at_the_workspace(new_context, width):
    page = new_context(width=width).new_page()
    log_in(page, ORGANIZER)

    response = page.goto("/admin/")

    assert response is not None
    assert response.status == 403
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # Li Na's account language
    expect(page.locator("h1")).to_have_text("后台仅供平台管理员使用")
    expect(page.locator("[role=alert]")).to_contain_text(ORGANIZER)
    workspace = page.get_by_role("link", name="进入工作台")
    expect(workspace).to_have_attribute("href", "/workspace")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert_axe_clean(page, f"the back office's 403 page at {width} px")

    workspace.focus()  # reachable by keyboard
    expect(workspace).to_be_focused()


def test_a_judge_gets_the_403_page_without_a_workspace_link(new_context):
    page = new_context().new_page()
    log_in(page, JUDGE)
    page.get_by_role("button", name="English").click()  # the language switch works on this page too

    response = page.goto("/admin/")

    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("The back office is for platform admins")
    expect(page.locator("a[href='/workspace']")).to_have_count(0)
    assert_axe_clean(page, "the back office's 403 page for a judge")
