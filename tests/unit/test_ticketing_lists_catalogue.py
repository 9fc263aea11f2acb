"""The check-in lists and devices pages' texts, the lists service's refusals and the rules' messages
(what a scanner shows at the gate, and the field messages of refused rules) are all translated into
Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids
from ticketing import rules
from ticketing.lists import pages, service

TEMPLATES = sorted((ROOT / "backend/templates/ticketing/lists").glob("*.jinja"))
SERVICE = (ROOT / "ticketing/lists/service.py").read_text()
PAGES = (ROOT / "ticketing/lists/pages.py").read_text()
# The service's English message ids: refusals' details and the field messages they carry.
STRING = r'"([^"]+)"'
SERVICE_IDS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(
    re.findall(r'(?:problems\[f?"[^"]+"\] = |fields=\{"\w+": |_invalid\(\{[^:{}]+: )' + STRING, SERVICE)
)
SERVICE_IDS |= set(re.findall(r'f"lists\[\{i\}\]", ' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r"detail = \(?\s*" + STRING + " if archive else " + STRING, SERVICE)[0])
SERVICE_IDS.add(service._MODE_LOCKED)
SUMMARY_IDS = set(re.findall(r"t\.gettext\(" + STRING + r"\)", PAGES))
PAGE_IDS = (
    set(pages.DONE.values())
    | set(pages.LABELS.values())
    | set(pages.KIND_NAMES.values())
    | set(pages.MODE_NAMES.values())
    | SUMMARY_IDS
)
IDS = template_ids(TEMPLATES) | PAGE_IDS | SERVICE_IDS | set(rules.MESSAGES) | set(rules.FIELD_MESSAGES)


def test_the_texts_were_found():
    assert {"Scanning devices", "Re-entry after an exit", "Opens at {time}", "must be after opens"} <= IDS
    assert {"is not a session of this event", "The device is revoked; register a new one"} <= SERVICE_IDS
    assert {"The check-in list is already archived", "The check-in list is not archived"} <= SERVICE_IDS
    assert {"Every ticket type", "Capacity {capacity}", "No venue list"} <= SUMMARY_IDS
    assert len(SERVICE_IDS) >= 10


@pytest.mark.parametrize("locale", LOCALES)
def test_every_lists_text_is_translated(locale):
    assert area_faults(locale, IDS, "ticketing_lists") == AREA_NO_FAULTS
