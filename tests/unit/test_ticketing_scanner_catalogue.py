"""The scanner page's texts (its template and the texts its script shows) are all translated into
Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import pytest

from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids
from ticketing.scanner.pages import SCRIPT_TEXTS

TEMPLATE = ROOT / "backend/templates/ticketing/scanner.html.jinja"
IDS = (template_ids([TEMPLATE]) | set(SCRIPT_TEXTS.values()) | {"Podium scanner", "Ticket scanner"}) - {
    "Podium"
}  # a name


@pytest.mark.parametrize("locale", LOCALES)
def test_every_scanner_text_is_translated(locale):
    assert area_faults(locale, IDS, "ticketing_scanner") == AREA_NO_FAULTS
