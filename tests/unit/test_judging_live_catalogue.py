"""Every text of the live final's pages, score sheet and refusals is in Chinese and Russian, with its
placeholders kept."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from judging.live.service import STEPS
from judging.tables import PanelPhase
from tests.unit.catalogues import LOCALES, NO_FAULTS, ROOT, faults

SOURCES = [
    *sorted((ROOT / "backend/templates/judging/live").glob("*.jinja")),
    ROOT / "judging/live/sheet.py",
]
GETTEXT = re.compile(r"""_\(\s*(["'])(.*?)(?<!\\)\1""")
REFUSAL = re.compile(r'(?:Conflict|DomainError)\(\s*"\w+",\s*"([^"]+)"')
FIELD = re.compile(r'fields=\{"\w+": "([^"]+)"')


def message_ids() -> set[str]:
    ids = {m.group(2) for path in SOURCES for m in GETTEXT.finditer(path.read_text())}
    service = (ROOT / "judging/live/service.py").read_text()
    ids |= set(REFUSAL.findall(service)) | set(FIELD.findall(service))
    return ids


def test_the_sources_are_read():
    ids = message_ids()
    assert "Start the pitch" in ids
    assert "Signature" in ids
    assert "The room is in the {phase} phase; the step {step} does not follow it" in ids
    assert len(ids) > 40


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_is_translated_with_its_placeholders(locale):
    assert faults(locale, message_ids()) == NO_FAULTS


@pytest.mark.parametrize("locale", LOCALES)
def test_the_words_put_into_refusals_are_translated(locale):
    t = translations(locale)
    words = [("room phase", p.value) for p in PanelPhase] + [("room step", s) for s in STEPS]
    words += [("object", o) for o in ("Room", "Step", "Entry")]
    words += [("judging state", s) for s in ("setup", "scoring", "locked", "published")]
    assert [w for w in words if t.pgettext(*w) == w[1]] == []
