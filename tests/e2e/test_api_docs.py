"""The API documentation at ``/schema`` in a real Chromium whose network ends at 127.0.0.1, as for a
user who cannot reach CDNs or web fonts (mainland China): it renders from Podium's own copy of
Swagger UI, nothing is requested elsewhere, nothing fails in the console, it passes axe, it works at
phone width, and "Try it out" really calls the API (with the CSRF header for a logged-in browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from backend.app import SWAGGER_UI_VERSION
from tests.e2e.axe import assert_axe_clean
from tests.e2e.test_pages import ORGANIZER, log_in

pytestmark = pytest.mark.e2e

VENDOR = f"/static/vendor/swagger-ui-{SWAGGER_UI_VERSION}/"
LOAD_TIMEOUT = 30_000
SLOW_TIMEOUT = 15_000
# Half a screen down, then two frames for Swagger UI to render the rows now in view: false at the end.
SCROLL_HALF_A_SCREEN = """() => new Promise((resolve) => {
  const before = window.scrollY;
  window.scrollBy(0, window.innerHeight / 2);
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(window.scrollY !== before)));
})"""


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    """Swagger UI renders every operation in the browser's main thread: on a loaded machine a click
    or an expectation can take longer than the 5 s our own pages get."""
    expect.set_options(timeout=SLOW_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default


@dataclass
class Offline:
    """A page whose requests to any host but 127.0.0.1 are aborted and recorded, with its console."""

    page: Page
    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open_docs(self) -> None:
        # 1.7 MB of JavaScript to parse: more time than a page of ours on a busy machine
        self.page.goto("/schema", timeout=LOAD_TIMEOUT)
        expect(self.page.locator("#operations-auth-Login")).to_be_visible(timeout=LOAD_TIMEOUT)

    def operation(self, element_id: str) -> Locator:
        """The operation ``#operations-<tag>-<operationId>``, scrolled to. Once the document lists 150
        tags and operations or more, Swagger UI renders only the rows near the viewport (its virtualized
        list), so an operation further down exists in the page only after scrolling to it, as a reader
        does."""
        operation = self.page.locator(f"#{element_id}")
        self.page.evaluate("window.scrollTo(0, 0)")
        while not operation.count() and self.page.evaluate(SCROLL_HALF_A_SCREEN):
            pass
        expect(operation).to_have_count(1)  # not found from the top of the page to its end
        operation.scroll_into_view_if_needed()
        return operation

    def assert_stayed_home(self) -> None:
        assert not self.blocked, f"requests left the machine: {self.blocked}"
        assert not self.errors, f"console errors: {self.errors}"


def offline(context: BrowserContext) -> Offline:
    page = context.new_page()
    page.set_default_timeout(SLOW_TIMEOUT)
    seen = Offline(page)

    def route(route: Route) -> None:
        url = route.request.url
        seen.requested.append(url)
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            seen.blocked.append(url)
            route.abort()

    context.route("**/*", route)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    return seen


@pytest.fixture
def docs(new_context) -> Iterator[Offline]:
    seen = offline(new_context())
    yield seen
    seen.assert_stayed_home()


def test_the_page_names_no_other_host(server):
    page = httpx.get(f"{server.url}/schema")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text)
    assert not re.search(r"fonts\.googleapis|cdn\.|unpkg|jsdelivr", page.text)
    assert f'src="{VENDOR}swagger-ui-bundle.js"' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert httpx.get(f"{server.url}{VENDOR}{asset}").status_code == 200

    document = httpx.get(f"{server.url}/schema/openapi.json")  # the machine-readable document stays
    assert document.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert "/api/v1/auth/login" in document.json()["paths"]


def test_the_documentation_renders_with_the_network_cut_off(docs):
    docs.open_docs()
    page = docs.page

    expect(page.get_by_role("heading", level=1)).to_contain_text("Podium API")
    expect(page.locator("#operations-auth-Login")).to_contain_text("/api/v1/auth/login")
    expect(docs.operation("operations-events-ListEvents")).to_contain_text("ListEvents")
    # from Podium's own copy, and the document from Podium itself
    paths = [urlsplit(url).path for url in docs.requested]
    assert f"{VENDOR}swagger-ui-bundle.js" in paths
    assert f"{VENDOR}swagger-ui.css" in paths
    assert "/schema/openapi.json" in paths
    assert_axe_clean(page, "/schema")

    # an operation opened: its parameters, responses and the error body are documented
    operation = docs.operation("operations-events-ListEvents")
    operation.locator("button.opblock-summary-control").click()
    expect(operation.locator(".parameters")).to_contain_text("limit")
    expect(operation.locator(".responses-table")).to_contain_text("200")
    assert_axe_clean(page, "/schema with ListEvents open")


def test_the_browser_itself_refuses_other_hosts_on_the_docs_page(docs):
    docs.open_docs()

    refused = docs.page.evaluate(
        """() => new Promise((resolve) => {
          document.addEventListener("securitypolicyviolation", (e) => resolve(e.blockedURI), {once: true});
          fetch("https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css").catch(() => {});
        })"""
    )

    assert refused.startswith("https://cdn.jsdelivr.net/")
    assert not docs.blocked  # refused by the page's policy before it reached the network
    assert docs.errors
    assert all("Content Security Policy" in e or "Failed to fetch" in e for e in docs.errors), docs.errors
    docs.errors.clear()


def test_try_it_out_calls_the_api_from_the_page(docs):
    docs.open_docs()
    page = docs.page
    operation = docs.operation("operations-events-ListEvents")
    operation.locator("button.opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    assert_axe_clean(page, "/schema trying ListEvents out")

    operation.get_by_role("button", name="Execute").click()

    response = operation.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_have_text("200")
    expect(response.locator(".response-col_description")).to_contain_text('"items"')
    page.mouse.move(0, 0)  # off the Execute button just clicked, so its hover state is not what is checked
    expect(operation.locator(".btn.execute")).to_have_css("background-color", "rgb(26, 103, 181)")
    assert_axe_clean(page, "/schema with a response")


def test_a_logged_in_browser_sends_the_csrf_header_from_the_docs(docs):
    page = docs.page
    page.goto("/login?next=/me")
    log_in(page, ORGANIZER)
    expect(page).to_have_url(re.compile(r"/me$"))
    # without the header the session's own POST is refused, so a 2xx below means the page sent it
    refused = page.context.request.post("/api/v1/auth/logout", fail_on_status_code=False)
    assert refused.status == 403

    docs.open_docs()
    operation = page.locator("#operations-auth-Logout")
    operation.locator("button.opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    expect(operation.locator(".live-responses-table .response .response-col_status")).to_have_text(
        re.compile(r"^20\d$")
    )
    page.goto("/me")  # the session really ended
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))


def test_the_documentation_is_usable_at_phone_width(new_context):
    docs = offline(new_context(width=375, height=740))
    docs.open_docs()
    page = docs.page

    # nothing wider than the screen: no sideways scrolling of the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    login = page.locator("#operations-auth-Login")
    box = login.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 375
    expect(page.get_by_role("button", name="Authorize")).to_be_in_viewport()

    login.locator("button.opblock-summary-control").focus()  # the keyboard opens an operation
    page.keyboard.press("Enter")
    expect(login.locator(".opblock-body")).to_be_visible()
    expect(login.locator(".opblock-body")).to_contain_text("email")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_axe_clean(page, "/schema at 375 px")
    docs.assert_stayed_home()
