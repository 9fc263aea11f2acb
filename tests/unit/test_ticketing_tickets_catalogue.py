"""The tickets pages' texts (the hub, the tickets page, the holders' pages, the kinds of participant
and the hub's links) and the tickets service's refusals are all translated into Chinese and Russian,
with the same placeholders."""

from __future__ import annotations

import re

import pytest

from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids
from ticketing.tickets.pages import KIND_NAMES

TEMPLATES = sorted((ROOT / "backend/templates/ticketing/tickets").glob("*.jinja"))
SERVICE = (ROOT / "ticketing/tickets/service.py").read_text()
PAGES = (ROOT / "ticketing/tickets/pages.py").read_text()
# The service's English message ids: details of its refusals and the field messages they carry.
REFUSALS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*"([^"]+)"', SERVICE))
FIELD_MESSAGES = {
    m
    for pair in re.findall(r'checks\.add\(\s*"\w+",\s*"([^"]+)",\s*"\w+",\s*"([^"]+)"', SERVICE)
    for m in pair
}
FIELD_MESSAGES |= set(re.findall(r'problems\[f"[^"]+"\] = "([^"]+)"', SERVICE))
HUB_LINKS = {
    text for link in re.findall(r'\("\w+", f?"[^"]+", "([^"]+)", "([^"]+)"\)', PAGES) for text in link
}
IDS = (template_ids(TEMPLATES) | set(KIND_NAMES.values()) | REFUSALS | FIELD_MESSAGES | HUB_LINKS) - {
    "E-mail"  # Russian writes it the same
}


def test_the_texts_were_found():
    assert {"Ticket types", "Visitor", "The holder already has a valid ticket of this type"} <= IDS
    assert {"Offline conflicts", "must not be before the first valid day"} <= IDS
    assert len(REFUSALS) >= 10
    assert len(HUB_LINKS) == 14


@pytest.mark.parametrize("locale", LOCALES)
def test_every_tickets_text_is_translated(locale):
    assert area_faults(locale, IDS, "ticketing_tickets") == AREA_NO_FAULTS
