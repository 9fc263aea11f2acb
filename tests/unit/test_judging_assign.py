"""The assignment area's pure parts: the institution codes given to the engine, the plain-language
reading of its connectivity, and its catalogues (every text of its page and every refusal of its
service translated, placeholders kept)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from backend.i18n import translations
from judging.assign.pages import WELL_LINKED, connectivity_reading
from judging.assign.service import _institution_codes
from tests.integration.test_error_messages import _message_ids

ROOT = Path(__file__).resolve().parents[2]
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


def _template_ids() -> set[str]:
    return {m[1] for path in TEMPLATES for m in re.findall(r"""_\((["'])(.*?)\1\)""", path.read_text())}


@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_every_text_of_the_area_is_translated(locale):
    t = translations(locale)
    ids = _template_ids()
    ids |= {
        connectivity_reading(r)
        for r in ({"components": 2}, {"algebraic_connectivity": 0}, {"algebraic_connectivity": 1})
    }
    ids |= _message_ids(ROOT / "judging/assign/service.py")[0]
    missing = sorted(m for m in ids if t.gettext(m) == m)
    assert not missing, missing
    for kind in ("institution", "declared", "advisor"):
        assert t.pgettext("conflict of interest", kind) != kind


@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_the_catalogue_keeps_every_placeholder(locale):
    path = ROOT / "backend/translations" / locale / "LC_MESSAGES/judging_assign.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        for pattern in (r"{\w+}", r"%\(\w+\)s"):
            assert set(re.findall(pattern, message.string)) == set(re.findall(pattern, message.id)), (
                message.id
            )
