"""The assignment area's pure parts: the institution codes given to the engine, the plain-language
reading of its connectivity, and its catalogues (every text of its page and every refusal of its
service translated, placeholders kept)."""

from __future__ import annotations

import random

import pytest

from backend.i18n import translations
from judging.assign.pages import WELL_LINKED, connectivity_reading
from judging.assign.service import _institution_codes
from tests.integration.test_error_messages import _message_ids
from tests.unit.catalogues import LOCALES, ROOT, catalogue_placeholders_changed, template_ids, untranslated

TEMPLATES = sorted((ROOT / "backend/templates/judging/assign").glob("*.jinja"))


def test_institution_codes_keep_equal_institutions_equal_and_none_alone():
    rng = random.Random(5)
    for _ in range(200):
        entries = [rng.choice([None, 3, 7, 1_000_000]) for _ in range(rng.randint(0, 12))]
        judges = [rng.choice([None, 3, 7, 42]) for _ in range(rng.randint(0, 8))]
        entry_codes, judge_codes = _institution_codes(entries, judges)
        people = list(zip(entries + judges, entry_codes + judge_codes, strict=True))
        for a, code_a in people:
            for b, code_b in people:
                if a is not None and a == b:
                    assert code_a == code_b
                if a != b:
                    assert code_a != code_b
        nobody = [code for institution, code in people if institution is None]
        assert len(nobody) == len(set(nobody))
        assert all(0 <= code < len(people) + 4 for _, code in people)


def test_the_connectivity_reading_follows_the_report():
    split = connectivity_reading({"components": 2, "algebraic_connectivity": 0.0})
    weak = connectivity_reading({"components": 1, "algebraic_connectivity": WELL_LINKED / 2})
    strong = connectivity_reading({"components": 1, "algebraic_connectivity": 0.9})
    assert "separate groups" in split
    assert "few shared entries" in weak
    assert "whole stage" in strong
    assert connectivity_reading({"components": 1, "algebraic_connectivity": None}) == weak


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_the_area_is_translated(locale):
    t = translations(locale)
    ids = template_ids(TEMPLATES)
    ids |= {
        connectivity_reading(r)
        for r in ({"components": 2}, {"algebraic_connectivity": 0}, {"algebraic_connectivity": 1})
    }
    ids |= _message_ids(ROOT / "judging/assign/service.py")[0]
    assert untranslated(locale, ids) == []
    for kind in ("institution", "declared", "advisor"):
        assert t.pgettext("conflict of interest", kind) != kind


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_keeps_every_placeholder(locale):
    assert catalogue_placeholders_changed(locale, "judging_assign") == []
