"""Redirect targets taken from forms and query strings (``next``) never leave the site and never send a
login back to the login form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from backend.pages.controllers import login_url, safe_next, same_site

SITE = "https://podium.example/"

HOSTILE = [
    None,
    "",
    "evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "//evil.example",
    "///evil.example",
    "//evil.example/login?next=/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/events/1\\..\\..\\\\evil.example",
    # browsers drop tabs and newlines anywhere in a URL, so these are //evil.example
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    # a newline in a Location header would add headers of the attacker's choosing
    "/me\r\nSet-Cookie: podium_session=planted",
    "/\x00/evil.example",
    "/\x7f/evil.example",
]


def browser_resolves(target: str) -> str:
    """The host a browser goes to for ``Location: target`` (WHATWG URL parsing, in the cases above)."""
    cleaned = re.sub(r"[\t\n\r]", "", target).strip("\x00- ").replace("\\", "/")
    return urlsplit(urljoin(SITE, cleaned)).netloc


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_fall_back_to_the_front_page(target):
    assert same_site(target) == "/"
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/me",
        "/events/3",
        "/events/3?tab=stages&lang=ru#deadlines",
        "/events/3?next=//evil.example",  # a query string on this site is just a query string
        "/%2F%2Fevil.example",  # percent-encoded slashes stay a path on this site
        "/%5C%5Cevil.example",
        "/%09/evil.example",
        "/события/1",
    ],
)
def test_paths_on_this_site_are_kept(target):
    assert same_site(target) == target
    assert safe_next(target) == target
    assert browser_resolves(target) == "podium.example"


@pytest.mark.parametrize("target", [*HOSTILE, "/%2F%2Fevil.example", "/a/../b", "/events/3?x=//y"])
def test_wherever_a_target_leads_the_browser_stays_on_the_site(target):
    for checked in (same_site(target), safe_next(target)):
        assert browser_resolves(checked) == "podium.example", repr(target)


@pytest.mark.parametrize(
    "target",
    [
        "/login",
        "/login?next=/me",
        "/login?next=/login?next=/login",
        "/login#form",
        "/login/",
        "/login/?next=/me",
        "/./login",
        "/events/../login",
        "/%6Cogin",
        "/%2Flogin",
    ],
)
def test_a_login_never_returns_to_the_login_form(target):
    assert safe_next(target) == "/"
    assert same_site(target) == target  # the language switch may come back to the form


def test_pages_that_only_look_like_the_login_form_are_kept():
    for target in ("/logins", "/login-help", "/events/login", "/me?next=/login"):
        assert safe_next(target) == target


def test_login_url_carries_the_target_through_the_query_string():
    assert login_url("/") == "/login"
    assert login_url("/me") == "/login?next=/me"
    for target in ("/events/3?tab=stages&lang=ru#deadlines", "/события/1", "/a b/c+d%20e"):
        url = login_url(target)
        assert url.startswith("/login?next=/")
        assert parse_qs(urlsplit(url).query) == {"next": [target]}  # nothing is lost or added
        assert urlsplit(url).fragment == ""


@pytest.mark.parametrize("target", [*HOSTILE, "/login", "/login?next=/me", "/login/"])
def test_login_url_never_carries_a_hostile_target_or_a_loop(target):
    assert login_url(target) == "/login"
