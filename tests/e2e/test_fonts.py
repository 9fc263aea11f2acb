"""Chinese pages draw Chinese: the machine has a CJK font (``make test`` installs fonts-noto-cjk
through ``scripts/ensure-chromium.sh``) and Chromium really draws a zh heading with it, not with
empty boxes from a Latin fallback. Chromium reports through DevTools which platform font drew each
glyph of the heading, which fails as soon as the font is missing. ``backend.fonts`` (badges and
certificates) picks the same family as the browser.
"""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from backend import fonts

pytestmark = pytest.mark.e2e

INSTALL_HINT = "run `bash scripts/ensure-chromium.sh` (it installs fonts-noto-cjk)"


def test_a_font_for_chinese_is_installed():
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True
    ).stdout
    assert listed.strip(), f"fc-list :lang=zh finds no font: {INSTALL_HINT}"


def test_a_chinese_heading_is_drawn_with_the_cjk_font(new_context, tmp_path):
    context = new_context(locale="zh-CN")
    page = context.new_page()
    page.goto("/")
    heading = page.locator("main h1")
    expect(heading).to_have_text("活动")

    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "main h1"})["nodeId"]
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]

    # every glyph of 活动 came from a CJK font installed on the machine (not a web font)
    cjk = [f for f in used if "CJK" in f["familyName"]]
    assert cjk, f"the heading was drawn with {used}, no CJK font: {INSTALL_HINT}"
    assert sum(f["glyphCount"] for f in cjk) == len("活动"), used
    assert not any(f["isCustomFont"] for f in cjk)
    # pictures drawn by the service use the same family as the browser
    assert fonts.cjk_font().family in {f["familyName"] for f in cjk}

    # and the screenshot has ink where the heading is: not the same picture as the heading made invisible
    drawn = heading.screenshot(path=str(tmp_path / "zh-heading.png"))
    heading.evaluate("(h) => { h.style.color = 'transparent'; }")
    assert heading.screenshot() != drawn
