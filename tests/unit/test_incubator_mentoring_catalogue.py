"""The mentoring pages' texts, the service's refusals and field messages and the objects its 404s
name are all translated into Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids

TEMPLATES = sorted((ROOT / "backend/templates/incubator/mentoring").glob("*.jinja"))
SERVICE = (ROOT / "incubator/mentoring/service.py").read_text()
STRING = r'"([^"]+)"'
# The service's English message ids: refusals' details, the field messages they carry, the objects.
SERVICE_IDS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r"Forbidden\(\s*" + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'_refuse\(\s*principal,\s*context,\s*"[^"]+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'(?:fields=\{"\w+": |_invalid\("\w+", )' + STRING, SERVICE))
SERVICE_IDS |= {
    m[1]
    for m in re.findall(r'checks\.add\(\s*"\w+",\s*("[^"]+"|INVALID_INPUT),\s*"\w+",\s*' + STRING, SERVICE)
}
SERVICE_IDS |= {m.strip('"') for m in re.findall(r'checks\.add\(\s*"\w+",\s*("[^"]+"),', SERVICE)}
OBJECTS = set(re.findall(r"(?:NotFound|_refuse\(principal, context,)\(?\s*" + STRING, SERVICE))
IDS = template_ids(TEMPLATES) | SERVICE_IDS


def test_the_texts_were_found():
    assert {"Offer an office hour", "Minutes left", "Times are %(zone)s time."} <= IDS
    assert {"You already offer a slot overlapping this time", "overlaps another of your slots"} <= SERVICE_IDS
    assert {"The budget cannot go below the {used} minutes already used", "in the past"} <= SERVICE_IDS
    assert {"Mentor", "Mentor connection", "Office-hour slot", "Booking"} <= OBJECTS
    assert len(SERVICE_IDS) >= 20


@pytest.mark.parametrize("locale", LOCALES)
def test_every_mentoring_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_mentoring") == AREA_NO_FAULTS
    t = translations(locale)
    assert [word for word in sorted(OBJECTS) if t.pgettext("object", word) == word] == []
