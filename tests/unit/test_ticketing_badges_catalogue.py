"""The badges page's texts (its template, its notices, statuses and formats) and the badges
service's refusals are all translated into Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import pytest

from backend.i18n import translations
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids
from ticketing.badges.pages import DONE, FORMAT_NAMES, STATUS

TEMPLATE = ROOT / "backend/templates/ticketing/badges/badges.html.jinja"
IDS = (
    template_ids([TEMPLATE])
    | set(DONE.values())
    | set(STATUS.values())
    | set(FORMAT_NAMES.values())
    | {"Choose a badge format", "The badges are still being rendered; wait for the run to finish"}
)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_badges_text_is_translated(locale):
    assert area_faults(locale, IDS, "ticketing_badges") == AREA_NO_FAULTS
    assert translations(locale).pgettext("object", "Badge run") != "Badge run"
