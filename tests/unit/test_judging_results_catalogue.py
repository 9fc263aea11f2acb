"""The results area's catalogues: every text of its pages, pictures, exports and refusals is in zh
and ru, with its placeholders kept."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from judging.results import exports, pages
from tests.integration.test_error_messages import _message_ids
from tests.unit.catalogues import LOCALES, ROOT, catalogue_placeholders_changed, template_ids

TEMPLATES = ROOT / "backend/templates/judging/results"


def _area_ids() -> set[str]:
    ids = template_ids(TEMPLATES.glob("*.jinja"))
    source = (ROOT / "judging/results/pages.py").read_text()
    ids |= {m[1] for m in re.findall(r"""t\.gettext\(\s*(["'])(.*?)\1\s*\)""", source, re.S)}
    for table in (pages.DONE, pages.FLAGS, pages.PHASES, exports.SHEET_TITLES):
        ids |= set(table.values())
    ids |= {*exports.SHEET_HEADERS, *exports.SHEET_TAIL, *exports.RANKING_HEADERS, *exports.JUDGE_HEADERS}
    for module in ("service.py", "exports.py", "pages.py"):
        ids |= _message_ids(ROOT / "judging/results" / module)[0]
    return {i for i in ids if i.strip()}


def _catalogues(locale: str) -> dict[tuple[str | None, str], str]:
    messages = {}
    for path in (ROOT / "backend/translations" / locale / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as f:
            for m in read_po(f, locale=locale):
                if m.id and isinstance(m.id, str):
                    messages[(m.context, m.id)] = m.string
    return messages


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_the_area_is_translated(locale):
    known = _catalogues(locale)
    missing = sorted(i for i in _area_ids() if not known.get((None, i)))
    assert not missing, missing
    for word in ("Ranking run", "Appeal", "Entry"):
        assert known.get(("object", word)), word
    for word in pages.APPEAL_STATES.values():  # in their own context: an event is "Open" too
        assert known.get((pages.APPEAL_STATE, word)), word


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_keeps_every_placeholder(locale):
    assert catalogue_placeholders_changed(locale, "judging_results") == []
