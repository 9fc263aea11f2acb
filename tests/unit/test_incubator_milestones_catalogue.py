"""The milestones and support tabs' texts, the service's refusals and field messages, the milestone
states put into messages and the objects it may not find are all translated into Chinese and
Russian, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from incubator.milestones import pages, service
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, ROOT, area_faults, template_ids

TEMPLATES = sorted((ROOT / "backend/templates/incubator/milestones").glob("*.jinja"))
SERVICE = (ROOT / "incubator/milestones/service.py").read_text()
STRING = r'"([^"]+)"'
SERVICE_IDS = set(re.findall(r'(?:Conflict|DomainError)\(\s*"\w+",\s*' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'fields=\{"\w+": ' + STRING, SERVICE))
SERVICE_IDS |= set(re.findall(r'checks\.add\(\s*"\w+",\s*"[^"]+",\s*(?:"\w+"|field),\s*' + STRING, SERVICE))
SERVICE_IDS |= {service.PLANNERS_ONLY, service.REMOVERS_ONLY}
PAGE_IDS = (
    set(pages.DONE.values())
    | set(pages.STATES.values())
    | set(pages.KINDS.values())
    | set(pages.LABELS.values())
)
IDS = template_ids(TEMPLATES) | PAGE_IDS | SERVICE_IDS
TERMS = {("milestone state", state) for state in pages.STATES} | {
    ("object", what) for what in ("Milestone", "Evidence", "Support promise", "Support delivery")
}


def test_the_texts_were_found():
    assert {"Add a milestone", "Support promised and delivered", "The gap by kind of support"} <= IDS
    assert {"must have at most two decimals", "Only {left} of the promise is left to deliver"} <= SERVICE_IDS
    assert {"A milestone that is {current} cannot become {wanted}", "cannot follow {current}"} <= SERVICE_IDS
    assert len(SERVICE_IDS) >= 12


@pytest.mark.parametrize("locale", LOCALES)
def test_every_milestones_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_milestones") == AREA_NO_FAULTS


@pytest.mark.parametrize("locale", LOCALES)
def test_the_states_and_objects_in_messages_are_translated(locale):
    t = translations(locale)
    assert [term for term in sorted(TERMS) if t.pgettext(*term) == term[1]] == []
