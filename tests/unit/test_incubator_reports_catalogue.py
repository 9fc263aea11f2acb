"""The reports pages' texts, the service's refusals and field messages, the export's headers and
standings, and the objects its 404s name are all translated into Chinese and Russian, with the same
placeholders."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from incubator.reports import exports, pages
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids

TEMPLATES = sorted((ROOT / "backend/templates/incubator/reports").glob("*.jinja"))
SERVICE = (ROOT / "incubator/reports/service.py").read_text()
STRING = r'"([^"]+)"'
# The service's English message ids: refusals' details, the field messages (constants and inline).
SERVICE_IDS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r"^[A-Z_]+ = " + STRING + "$", SERVICE, re.MULTILINE))
SERVICE_IDS |= set(re.findall(r'fields=\{"\w+": ' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'INVALID_INPUT,\s*f?"[^"]+",\s*' + STRING, SERVICE))
OBJECTS = set(re.findall(r"NotFound\(" + STRING, SERVICE))
PAGE_IDS = set(pages.FREQUENCIES.values()) | set(exports.HEADERS) | set(exports.STANDING.values())
IDS = template_ids(TEMPLATES) | SERVICE_IDS | PAGE_IDS


def test_the_texts_were_found():
    assert {"File the report", "Reports due so far", "Report for %(period)s"} <= IDS
    assert {
        "The report is at version {current} now: reload it and submit again",
        "needs an answer",
    } <= SERVICE_IDS
    assert {"must lie within the schedule's dates", "must not exceed the jobs created"} <= SERVICE_IDS
    assert {"Period", "Custom metric"} <= OBJECTS
    assert len(SERVICE_IDS) >= 15


@pytest.mark.parametrize("locale", LOCALES)
def test_every_reports_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_reports") == AREA_NO_FAULTS
    t = translations(locale)
    assert [word for word in sorted(OBJECTS) if t.pgettext("object", word) == word] == []
