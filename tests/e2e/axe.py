"""axe-core in the browser tests: WCAG 2.1 A and AA rules, from the project's own copy of axe-core
(``tests/e2e/vendor/axe-core-<version>/``, from the npm package, MPL-2.0), so nothing is fetched at
test time.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[str]:
    """Run axe on the page as it is now; one line per violation (rule, impact, the first nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(
            " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
            for n in v["nodes"][:3]
        )
        for v in result["violations"]
    ]


def assert_axe_clean(page: Page, where: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, f"axe (WCAG 2.1 AA) on {where or page.url}:\n" + "\n".join(violations)
