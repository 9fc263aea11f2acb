"""The institution picker on the account page, on a phone in Chinese: first without its script (the
search form brings back a short list), then as a combobox typed into, walked with the keyboard
(down, up, escape, enter), chosen and saved; axe-clean in both forms, the list open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

WIDTH = 375


def test_choose_an_institution_with_the_keyboard_on_a_phone_in_chinese(new_context, server):
    t = translations("zh")
    context = new_context(locale="zh-CN", width=WIDTH, height=800)
    context.add_cookies([{"name": "podium_lang", "value": "zh", "url": server.url}])
    context.route("**/static/institution-picker.js", lambda route: route.abort())  # as without JavaScript
    page = context.new_page()
    page.goto("/login?next=/me")
    page.locator("#email").fill("judge@podium.example")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me")
    page.locator("#institution_id-q").fill("浙江")
    page.locator("#institution_id-q").press("Enter")  # submits the search form, not the profile
    page.wait_for_url(re.compile(r"/me\?institution_q="))
    assert page.locator("select#institution_id option").count() >= 3  # "not chosen" and the matches
    assert_axe_clean(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    context.unroute("**/static/institution-picker.js")
    page.goto("/me")
    box = page.get_by_role("combobox", name=t.gettext("Your institution"))
    expect(page.locator("select#institution_id")).to_have_count(0)  # replaced by the combobox
    box.fill("浙江")
    listbox = page.locator("#institution_id-q-listbox")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#institution_id-count")).to_have_text(re.compile(r"^找到的院校或单位：\d+"))
    options = listbox.get_by_role("option")
    assert options.count() >= 2
    assert all("浙江" in text for text in options.all_inner_texts())

    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowUp")
    first = options.nth(0)
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(first).to_have_attribute("aria-selected", "true")
    assert_axe_clean(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")  # opens the list again
    expect(listbox).to_be_visible()
    box.press("ArrowDown")
    chosen = first.inner_text()
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(chosen)
    hidden = page.locator("form[action='/me/details'] input[type=hidden][name=institution_id]")
    expect(hidden).to_have_value(re.compile(r"^\d+$"))
    chosen_id = hidden.input_value()

    for field, text in (("#name_native", "评委"), ("#name_latin", "Ping Wei")):
        if not page.locator(field).input_value():
            page.locator(field).fill(text)
    page.locator("form[action='/me/details'] button[type=submit]").click()
    page.wait_for_url("**/me?done=details*")
    expect(page.get_by_role("combobox", name=t.gettext("Your institution"))).to_have_value(chosen)
    assert page.locator("input[type=hidden][name=institution_id]").input_value() == chosen_id
    assert_axe_clean(page)
