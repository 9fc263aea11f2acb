"""The checks each judging and ticketing area's catalogue test makes: which of the area's texts have no Chinese or
Russian translation, and which translations lost or gained a placeholder (``{name}`` or
``%(name)s``): a lost one prints a hole, a gained one raises a KeyError when filled."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po

from backend.i18n import translations

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("zh", "ru")
PLACEHOLDERS = (r"{\w+}", r"%\(\w+\)s")
TEMPLATE_TEXT = re.compile(r"""_\((["'])(.*?)\1\)""")


def template_ids(paths: Iterable[Path]) -> set[str]:
    """The msgids the templates at ``paths`` translate with ``_("...")``."""
    return {m[1] for path in paths for m in TEMPLATE_TEXT.findall(path.read_text())}


def untranslated(locale: str, ids: Iterable[str]) -> list[str]:
    """The ``ids`` the locale's catalogues leave in English."""
    t = translations(locale)
    return sorted(i for i in ids if t.gettext(i) == i)


def placeholders_changed(locale: str, ids: Iterable[str]) -> list[str]:
    """The ``ids`` whose translation in the locale has other placeholders than the msgid."""
    t = translations(locale)
    return sorted(i for i in ids if _differ(i, t.gettext(i)))


def faults(locale: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Both checks at once: equal to :data:`NO_FAULTS` when every id is translated and keeps its
    placeholders."""
    ids = set(ids)
    return {
        "untranslated": untranslated(locale, ids),
        "placeholders changed": placeholders_changed(locale, ids),
    }


NO_FAULTS: dict[str, list[str]] = {"untranslated": [], "placeholders changed": []}


def catalogue_placeholders_changed(locale: str, domain: str) -> list[str]:
    """The msgids of one catalogue file (``judging_scoring``...) whose translation has other
    placeholders than the msgid."""
    path = ROOT / "backend/translations" / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as f:
        return [m.id for m in read_po(f, locale=locale) if m.id and _differ(m.id, m.string)]


def area_faults(locale: str, ids: Iterable[str], catalogue: str) -> dict[str, list[str]]:
    """:func:`faults` of an area's ``ids``, and the msgids of its own catalogue file (``ticketing_lists``...)
    whose translation changed placeholders: equal to :data:`AREA_NO_FAULTS` when all is well."""
    return faults(locale, ids) | {
        "catalogue placeholders changed": catalogue_placeholders_changed(locale, catalogue)
    }


AREA_NO_FAULTS: dict[str, list[str]] = NO_FAULTS | {"catalogue placeholders changed": []}


def _differ(message: str, text: str) -> bool:
    return any(set(re.findall(p, text)) != set(re.findall(p, message)) for p in PLACEHOLDERS)
