"""The dashboards' texts are in Chinese and Russian: their own words (in the context ``dashboard``,
catalogue ``incubator_dashboards``) with the same placeholders, and the shared words their
templates take from ``incubator.po``."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from incubator.dashboards import impact
from tests.unit.catalogues import (
    LOCALES,
    PLACEHOLDERS,
    ROOT,
    catalogue_placeholders_changed,
    faults,
    template_ids,
)

TEMPLATES = sorted((ROOT / "backend/templates/incubator/dashboards").glob("*.jinja"))
SOURCES = [(ROOT / "incubator/dashboards" / name).read_text() for name in ("pages.py", "impact.py")]
OWN = {m[1] for path in TEMPLATES for m in re.findall(r"""\bd_\((["'])(.*?)\1\)""", path.read_text())}
OWN |= {i for text in SOURCES for i in re.findall(r'\bd_\(\s*"([^"]+)"', text)}
OWN |= {i for text in SOURCES for i in re.findall(r'pgettext\(\s*CONTEXT,\s*"([^"]+)"', text)}
OWN |= set(impact.SUPPORT_KINDS.values())
SHARED = template_ids(TEMPLATES) - OWN  # d_(...) ids are found by template_ids too


def test_the_texts_were_found():
    assert {"Survival rate", "Impact report", "Office space", "{hours} h", "Stalled startups"} <= OWN
    assert {"Revenue", "Jobs created", "Incubator"} <= SHARED


@pytest.mark.parametrize("locale", LOCALES)
def test_every_dashboard_text_is_translated(locale):
    t = translations(locale)
    untranslated = sorted(
        i for i in OWN if t.pgettext(impact.CONTEXT, i) == i and i not in ("PDF", "Excel (XLSX)")
    )
    changed = sorted(
        i
        for i in OWN
        if any(
            set(re.findall(p, i)) != set(re.findall(p, t.pgettext(impact.CONTEXT, i))) for p in PLACEHOLDERS
        )
    )
    assert (untranslated, changed) == ([], [])
    assert faults(locale, SHARED) == {"untranslated": [], "placeholders changed": []}
    assert catalogue_placeholders_changed(locale, "incubator_dashboards") == []
