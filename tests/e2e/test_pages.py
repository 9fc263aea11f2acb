"""The pages in a real Chromium: login and logout, the language switch, keyboard use, small and
large screens, labels and contrast, against ``podium serve`` on the embedded default with the demo.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ORGANIZER = "organizer@podium.example"  # Li Na, account language zh
CHECKIN = "checkin@podium.example"  # Zhou Kai, account language zh

# Luminance contrast of every visible text against the first opaque background behind it (WCAG 1.4.3).
LOW_CONTRAST_JS = """() => {
  const parse = (c) => { const p = c.match(/[\\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width === 0 || box.right <= 0 || box.left >= innerWidth) continue;
    const [a, b] = [lum(parse(style.color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
  }
  return bad;
}"""

# Boxes whose content is wider than they are: text sticking out, or columns hidden in a side scroller
# (visually hidden text, clipped on purpose for screen readers, does not count).
OVERFLOWING_JS = """() => [...document.querySelectorAll("main, main *")]
  .filter((el) => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
  .filter((el) => { for (let e = el; e; e = e.parentElement) if (getComputedStyle(e).clipPath !== "none") return false; return true; })
  .map((el) => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""

# Form controls without an accessible name, and labels pointing nowhere.
UNLABELLED_JS = """() => {
  const text = (ids) => (ids || "").split(/\\s+/).map((id) => document.getElementById(id)?.textContent || "").join(" ");
  const bad = [];
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
    const name = el.getAttribute("aria-label") || text(el.getAttribute("aria-labelledby"))
      || [...el.labels].map((l) => l.textContent).join(" ") || (el.tagName === "BUTTON" ? el.textContent : "");
    if (!name.trim()) bad.push(el.outerHTML.slice(0, 120));
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) bad.push(label.outerHTML.slice(0, 120));
  }
  return bad;
}"""


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()


def html_lang(page: Page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_server_runs_on_the_embedded_default(server):
    health = httpx.get(f"{server.url}/healthz").json()
    assert health == {"status": "ok", "database": "ok", "redis": "not configured", "jobs": "in-process"}
    assert (server.data_dir / "podium.sqlite").stat().st_size > 0


def test_login_lands_on_the_page_given_by_next(page):
    page.goto("/me")  # a page that needs a login sends the browser to the form
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))

    page.get_by_label("E-mail").fill(ORGANIZER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.locator("main dl")).to_contain_text(ORGANIZER)
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Li Na · 李娜")
    # the organizer's account language (zh) now applies, and the page lists their roles
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main")).to_contain_text("组织者")


def test_wrong_password_shows_an_error_announced_to_assistive_technology(page):
    page.goto("/login?next=/me")
    log_in(page, ORGANIZER, "not-the-password")

    alert = page.get_by_role("alert")
    expect(alert).to_have_text("The e-mail or password is wrong.")
    for field in ("#email", "#password"):
        expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
        expect(page.locator(field)).to_have_attribute("aria-describedby", "login-error")
    expect(page.locator("#email")).to_have_value(ORGANIZER)
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("#email")).to_be_focused()

    log_in(page, ORGANIZER)  # the next target survived the failed attempt
    expect(page).to_have_url(re.compile(r"/me$"))


def test_logout_ends_the_session(page):
    page.goto("/login?next=/me")
    log_in(page, ORGANIZER)
    expect(page).to_have_url(re.compile(r"/me$"))

    page.get_by_role("button", name="退出").click()  # the organizer's pages are in Chinese

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("nav.site-nav")).to_contain_text("Log in")  # anonymous again: the browser's English
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))


def test_language_switch_changes_text_and_lang_and_persists_in_a_cookie(new_context):
    page = new_context(locale="zh-CN").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("活动")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Events")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Events · Podium")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "false")

    page.get_by_role("button", name="Русский").click()
    expect(page.locator("h1")).to_have_text("Мероприятия")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator(".skip-link")).to_have_text("Перейти к содержанию")

    page.locator(".card h2 a").first.click()  # another page, same language
    expect(page).to_have_url(re.compile(r"/events/[a-z0-9-]*[a-z-][a-z0-9-]*$"))  # the event's slug
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("nav.site-nav")).to_contain_text("Войти")
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("Войти")
    expect(page.get_by_label("Пароль")).to_be_visible()
    assert {c["name"]: c["value"] for c in page.context.cookies()}["podium_lang"] == "ru"


def test_language_switch_keeps_where_the_login_was_heading(page):
    page.goto("/login?next=/me")
    page.get_by_role("button", name="Русский").click()

    expect(page.locator("h1")).to_have_text("Войти")
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))
    log_in(page, ORGANIZER)
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.locator("h1")).to_have_text("Мой профиль")  # the cookie beats the account's zh


def test_language_chosen_while_logged_in_follows_the_account(new_context):
    first = new_context(locale="zh-CN").new_page()
    first.goto("/login?next=/me")
    log_in(first, CHECKIN)
    expect(first.locator("h1")).to_have_text("我的账户")
    first.get_by_role("button", name="Русский").click()
    expect(first.locator("h1")).to_have_text("Мой профиль")

    # another browser, no language cookie, a Chinese browser language: the account's choice wins
    second = new_context(locale="zh-CN").new_page()
    second.goto("/login?next=/me")
    expect(second.locator("h1")).to_have_text("登录")
    log_in(second, CHECKIN)
    expect(second.locator("h1")).to_have_text("Мой профиль")
    expect(second.locator("html")).to_have_attribute("lang", "ru")
    second.goto("/")
    expect(second.locator("h1")).to_have_text("Мероприятия")

    second.get_by_role("button", name="中文").click()  # leave the demo account as it was
    expect(second.locator("h1")).to_have_text("活动")


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
        return {id: el.id, cls: el.className, tag: el.tagName, text: el.textContent.trim(),
                outline: style.outlineStyle, outlineColor: style.outlineColor, outlineWidth: parseFloat(style.outlineWidth),
                visible: box.width > 0 && box.left >= 0 && box.right <= innerWidth && box.top >= 0}; }"""
    )


def contrast(color: str, background: tuple[int, int, int]) -> float:
    def luminance(rgb) -> float:
        def channel(v: float) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    a, b = luminance([float(v) for v in re.findall(r"[\d.]+", color)[:3]]), luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("path", ["/", "/login"])
def test_tab_reaches_the_skip_link_first_and_it_moves_to_the_content(page, path):
    page.goto(path)
    page.keyboard.press("Tab")

    skip = focused(page)
    assert "skip-link" in skip["cls"]
    assert skip["visible"], "the skip link must show when it has focus"
    assert skip["outline"] != "none"
    assert skip["outlineWidth"] >= 2
    # the focus ring must stand out from the white header and the grey page (WCAG 1.4.11: 3:1)
    assert contrast(skip["outlineColor"], (255, 255, 255)) >= 3
    assert contrast(skip["outlineColor"], (0xF3, 0xF5, 0xF8)) >= 3

    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"


def test_login_form_works_with_the_keyboard_alone(page):
    page.goto("/login?next=/me")
    seen = []
    for _ in range(20):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now)
        assert now["visible"], now
        assert now["outline"] != "none", f"no visible focus on {now}"
        if now["id"] == "email":
            break
    assert seen[-1]["id"] == "email"
    assert "skip-link" in seen[0]["cls"]
    assert "English" in [s["text"] for s in seen], "the language switch is reachable by keyboard"

    page.keyboard.type(ORGANIZER)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    assert focused(page)["tag"] == "BUTTON"
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/me$"))
    # and out again: Tab to the logout button, press Space
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "退出":
            break
    assert focused(page)["text"] == "退出"
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("nav.site-nav")).to_contain_text("Log in")


def test_language_switch_works_with_the_keyboard(page):
    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "Русский":
            break
    assert focused(page)["text"] == "Русский"
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Мероприятия")
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def page_paths(page: Page) -> list[str]:
    """The front page, the login form and every published event, as an anonymous visitor sees them."""
    page.goto("/")
    events = page.locator(".card h2 a").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    assert len(events) >= 3
    return ["/", "/login", *events]


@pytest.mark.parametrize("width", [375, 1024])
def test_no_horizontal_scroll_and_everything_visible(new_context, width):
    context = new_context(width=width, height=700)
    page = context.new_page()
    paths = page_paths(page)
    for lang in ("zh", "en", "ru"):
        context.add_cookies([{"name": "podium_lang", "value": lang, "url": page.url}])
        for path in [*paths, "/login-failed"]:
            if path == "/login-failed":
                page.goto("/login")
                # one failure per address: five in a row would lock it (the per-account limit)
                log_in(page, f"nobody-{lang}-{width}@example.org", "wrong-password")
                expect(page.get_by_role("alert")).to_be_visible()
            else:
                page.goto(path)
            assert html_lang(page).startswith(lang)
            where = f"{path} in {lang} at {width} px"
            scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
            assert scroll <= inner, f"horizontal scroll on {where}: {scroll} > {inner}"
            assert page.evaluate(OVERFLOWING_JS) == [], f"content sticks out or scrolls sideways on {where}"
            controls = page.locator("header a, header button, main a, main input:visible, main button")
            for i in range(controls.count()):
                box = controls.nth(i).bounding_box()
                assert box is not None, where
                assert box["x"] >= 0, f"{where}: control cut off on the left"
                assert box["x"] + box["width"] <= inner + 0.5, f"{where}: control cut off on the right"
            for target in ("header button", "header nav a", "main input:visible", "main button"):
                for box in (c.bounding_box() for c in page.locator(target).all()):
                    assert min(box["height"], box["width"]) >= 24, f"{where}: {target} is too small to tap"
            expect(page.locator("nav.site-nav")).to_be_visible()
            expect(page.locator("form.language-switch")).to_be_visible()
            if path.startswith("/login"):
                for field in ("#email", "#password", "main form button[type=submit]"):
                    expect(page.locator(field)).to_be_in_viewport()


@pytest.mark.parametrize("width", [375, 1024])
def test_logged_in_pages_fit_the_screen(new_context, width):
    page = new_context(width=width, locale="ru-RU").new_page()
    page.goto("/login?next=/me")
    log_in(page, ORGANIZER)
    expect(page).to_have_url(re.compile(r"/me$"))
    for path in ("/me", "/"):
        page.goto(path)
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"horizontal scroll on {path} at {width} px"
        expect(page.locator("nav.site-nav")).to_be_visible()
        expect(page.get_by_role("button", name="退出")).to_be_in_viewport()


def test_every_form_control_has_a_label_and_text_has_contrast(new_context):
    page = new_context(locale="zh-CN").new_page()
    paths = page_paths(page)
    checked = 0
    for path in paths:
        page.goto(path)
        assert page.evaluate(UNLABELLED_JS) == [], path
        assert page.evaluate(LOW_CONTRAST_JS) == [], path
        assert page.locator("h1").count() == 1, path
        checked += page.locator("input:not([type=hidden]), button").count()
    page.goto("/login")
    log_in(page, ORGANIZER, "wrong-password")  # the error state has its own colours
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.evaluate(LOW_CONTRAST_JS) == []
    log_in(page, ORGANIZER)
    for path in ("/me", "/"):
        page.goto(path)
        assert page.evaluate(UNLABELLED_JS) == [], path
        assert page.evaluate(LOW_CONTRAST_JS) == [], path
    assert checked >= 3 * len(paths)  # the language buttons at least, on every page


def test_unknown_event_shows_an_error_page(page):
    response = page.goto("/events/999999")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("alert")).to_have_text("Event not found")
    page.get_by_role("link", name="Podium").click()
    expect(page).to_have_url(re.compile(r"/$"))


FORUM = "/events/china-asean-cbec-forum-2027"  # the demo forum, by its slug


@pytest.mark.parametrize("width", [375, 1024])
@pytest.mark.parametrize(
    ("locale", "venue", "opening"),
    [
        ("zh-CN", "贵阳国际生态会议中心", "2027年8月24日 09:00–10:30"),
        ("en-US", "Guiyang International Eco-Conference Center", "Aug 24, 2027, 09:00–10:30"),
        (
            "ru-RU",
            "Гуйянский международный экологический конференц-центр",
            "24 авг. 2027\u202fг., 09:00–10:30",
        ),
    ],
)
def test_event_page_by_slug_shows_sessions_with_their_end_in_the_readers_language(
    new_context, width, locale, venue, opening
):
    page = new_context(locale=locale, width=width).new_page()
    response = page.goto(FORUM)
    assert response is not None
    assert response.status == 200
    expect(page.locator(".facts dd").nth(1)).to_have_text(venue)
    first = page.locator("table.stack tbody tr").first
    expect(first.locator("td").first).to_have_text(opening)
    expect(first.locator("time").nth(1)).to_have_attribute("datetime", "2027-08-24T02:30:00+00:00")
    expect(first.locator("th .description")).to_be_visible()  # the session's description
    scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert scroll <= inner, f"horizontal scroll at {width} px"
    assert page.evaluate(OVERFLOWING_JS) == []
    assert_axe_clean(page, f"{FORUM} in {locale} at {width} px")


def test_event_page_by_id_is_the_same_page(page):
    page.goto(FORUM)
    title = page.locator("h1").text_content()
    event_id = httpx.get(
        f"{page.url.split('/events/')[0]}/api/v1/events/by-slug/china-asean-cbec-forum-2027"
    ).json()["id"]
    page.goto(f"/events/{event_id}")
    expect(page.locator("h1")).to_have_text(title or "")
