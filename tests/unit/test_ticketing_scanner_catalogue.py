"""The scanner page's texts (its template and the texts its script shows) are all translated into
Chinese and Russian, with the same placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.catalogues import LOCALES, NO_FAULTS, catalogue_placeholders_changed, faults, template_ids
from ticketing.scanner.pages import SCRIPT_TEXTS

TEMPLATE = Path(__file__).resolve().parents[2] / "backend/templates/ticketing/scanner.html.jinja"
IDS = (template_ids([TEMPLATE]) | set(SCRIPT_TEXTS.values()) | {"Podium scanner", "Ticket scanner"}) - {
    "Podium"
}  # a name


@pytest.mark.parametrize("locale", LOCALES)
def test_every_scanner_text_is_translated(locale):
    assert faults(locale, IDS) == NO_FAULTS
    assert catalogue_placeholders_changed(locale, "ticketing_scanner") == []
