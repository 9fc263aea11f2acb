"""Every text of the advancement pages, the certificate and the advancement refusals is in Chinese
and Russian, with its placeholders kept."""

from __future__ import annotations

import re

import pytest

from backend.i18n import translations
from judging.advancement.pages import DONE, STATES
from tests.unit.catalogues import LOCALES, NO_FAULTS, ROOT, faults

SOURCES = [
    *sorted((ROOT / "backend/templates/judging/advancement").glob("*.jinja")),
    ROOT / "judging/advancement/documents.py",
]
GETTEXT = re.compile(r"""(?:\b_|gettext)\(\s*(["'])(.*?)(?<!\\)\1""")
# A refusal's detail (possibly split over two literals) and a field's message in the service.
REFUSAL = re.compile(r'(?:(?:Conflict|DomainError)\(\s*"\w+",|Forbidden\()\s*((?:"[^"]+"\s*)+)[,)]')
MESSAGE = re.compile(r'"(\{team\} does not fit[^"]*)"')
FIELD = re.compile(r'(?:fields=\{[^:]+|checks\.add\([^)]*?,\s*f?"[^"]+"): "([^"]+)"')
CHECK = re.compile(r'checks\.add\(\s*"\w+",\s*\w+,\s*f?"[^"]+",\s*"([^"]+)"')


def _joined(literals: str) -> str:
    return "".join(re.findall(r'"([^"]*)"', literals))


def message_ids() -> set[str]:
    ids = {m.group(2) for path in SOURCES for m in GETTEXT.finditer(path.read_text())}
    ids |= set(DONE.values())
    for name in ("service.py", "pages.py"):
        text = (ROOT / "judging/advancement" / name).read_text()
        ids |= {_joined(m) for m in REFUSAL.findall(text)}
        ids |= set(MESSAGE.findall(text)) | set(FIELD.findall(text)) | set(CHECK.findall(text))
    return {i for i in ids if i}


def test_the_sources_are_read():
    ids = message_ids()
    assert "Certificate of award" in ids
    assert "Valid certificate" in ids
    assert (
        "{team} (place {place}) ranks above a team in this list and still fits the quotas: recommend it first"
        in ids
    )
    assert "{team} does not fit: region {subject} has {used} of its {limit} places taken" in ids
    assert "is not a track of this contest" in ids
    assert "line {line} is not of the form name: number" in ids
    assert len(ids) > 80


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_is_translated_with_its_placeholders(locale):
    assert faults(locale, message_ids()) == NO_FAULTS


@pytest.mark.parametrize("locale", LOCALES)
def test_the_words_put_into_pages_and_refusals_are_translated(locale):
    t = translations(locale)
    words = [("recommendation state", s) for s in STATES.values()]
    words += [("recommendation state", s.lower()) for s in STATES.values()]
    words += [("object", o) for o in ("Recommendation", "Certificate")]
    assert [w for w in words if t.pgettext(*w) == w[1]] == []
