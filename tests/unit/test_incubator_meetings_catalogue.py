"""The meetings pages' texts, the meetings service's refusals and field messages and the export's
header are all translated into Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from incubator.meetings import pages, service
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids

TEMPLATES = sorted((ROOT / "backend/templates/incubator/meetings").glob("*.jinja"))
SERVICE = (ROOT / "incubator/meetings/service.py").read_text()
PAGES = (ROOT / "incubator/meetings/pages.py").read_text()
STRING = r'"([^"]+)"'
SERVICE_IDS = set(re.findall(r'(?:Conflict|Forbidden)\(\s*(?:"\w+",\s*)?' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'(?:problems\[f?"[^"]+"\] = |fields=\{"\w+": )' + STRING, SERVICE))
SERVICE_IDS |= {service.NOT_AUTHOR, service.NOT_KEEPER, *service.EXPORT_HEADER}
PAGE_IDS = set(pages.DONE.values()) | set(pages.LABELS.values()) | set(pages.SIDES.values())
PAGE_IDS |= set(re.findall(r"(?:Message|t\.gettext)\(" + STRING, PAGES))
IDS = template_ids(TEMPLATES) | SERVICE_IDS | PAGE_IDS


def test_the_texts_were_found():
    assert {"Log a meeting", "Private notes", "My open action items"} <= IDS
    assert {
        "Only {left} minutes of the mentor's hours with this startup are left",
        "is not a founder of this startup",
    } <= SERVICE_IDS
    assert {"The meeting was logged.", "Nobody in particular", "is not a valid date and time"} <= PAGE_IDS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_meetings_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_meetings") == AREA_NO_FAULTS


@pytest.mark.parametrize("locale", LOCALES)
def test_the_objects_not_found_are_named(locale):
    t = translations(locale)
    assert all(t.pgettext("object", name) != name for name in ("Meeting", "Action item"))
