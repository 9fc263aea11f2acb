"""The programmes pages' texts (hub, programme, cohort, a startup's overview, the contest workspace's
incubation section) and the programmes service's refusals and field messages are all translated into
Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from incubator.programmes import pages
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids

TEMPLATES = sorted((ROOT / "backend/templates/incubator/programmes").glob("*.jinja"))
SERVICE = (ROOT / "incubator/programmes/service.py").read_text()
PAGES = (ROOT / "incubator/programmes/pages.py").read_text()
STRING = r'"([^"]+)"'
# The service's English message ids: refusals' details and the field messages they carry.
SERVICE_IDS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'(?:fields=\{\w*"?\w+"?: |_invalid\(\{"\w+": )' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'INVALID_INPUT,\s*f"[^"]+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(
    re.findall(r"NO_ACCOUNT = " + STRING, SERVICE) + re.findall(r'NO_ACCOUNT, f"[^"]+", ' + STRING, SERVICE)
)
PAGE_IDS = (
    set(pages.DONE.values())
    | set(pages.LABELS.values())
    | set(pages.MODES.values())
    | set(pages.VIA.values())
    | set(re.findall(r"t\.gettext\(" + STRING + r"\)", PAGES))
    | set(re.findall(r"Message\(" + STRING + r"\)", PAGES))
)
IDS = template_ids(TEMPLATES) | PAGE_IDS | SERVICE_IDS


def test_the_texts_were_found():
    assert {"My programmes", "Admit the winners", "In the contest", "Prize winners"} <= IDS
    assert {"The cohort has {left} places left of {places}: {wanted} startups do not fit"} <= SERVICE_IDS
    assert {"is not a prize tier this contest awarded", "has no account", "is not a contest"} <= SERVICE_IDS
    assert {"Lead founder", "Contest results"} <= PAGE_IDS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_programmes_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_programmes") == AREA_NO_FAULTS
