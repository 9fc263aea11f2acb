"""Page translations and the choice of a request's language.

Each locale's catalogue is every ``translations/<locale>/LC_MESSAGES/*.po`` file merged (one file per
area: ``messages.po`` for the core pages, others named after the domain that owns them), compiled in
memory at first use. A message id defined twice is an error, so two areas cannot silently disagree.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar import Request

from backend.settings import get_settings

LOCALES = ("zh", "en", "ru")
LANGUAGE_NAMES = {"zh": "中文", "en": "English", "ru": "Русский"}
HTML_LANG = {"zh": "zh-CN", "en": "en", "ru": "ru"}
LANG_COOKIE = "podium_lang"
CATALOGUES = Path(__file__).parent / "translations"


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    paths = sorted((CATALOGUES / locale / "LC_MESSAGES").glob("*.po"))
    if not paths:
        return Translations()  # English: the message ids are the English text
    catalog = Catalog(locale=locale)
    for path in paths:
        with path.open("rb") as f:
            for message in read_po(f, locale=locale):
                if not message.id:
                    continue
                if (
                    catalog.get(message.id, context=message.context) is not None
                ):  # "open" ≠ "open" as a status
                    raise ValueError(
                        f"{path.name}: {message.id!r} is already translated in another catalogue"
                    )
                catalog[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def accepted_languages(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header (primary subtags: ``zh-Hant-TW`` is ``zh``),
    by quality, then in the browser's order; ``q=0`` means "not this one", malformed entries are skipped."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if tag and 0 < quality <= 1:
            weighted.append((-quality, position, tag.replace("_", "-").split("-")[0].lower()))
    return [language for *_, language in sorted(weighted)]


def request_locale(request: Request) -> str:
    """Cookie, then the account's language, then the browser's, then the site default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    user = request.scope.get("user")
    if user is not None and user.locale in LOCALES:
        return user.locale
    for language in accepted_languages(request.headers.get("accept-language", "")):
        if language in LOCALES:
            return language
    return request.app.state.settings.default_locale


def _getter(row: object) -> Callable[[str], Any]:
    if isinstance(row, dict):
        return lambda key: row.get(key, "")
    return lambda key: getattr(row, key, "")


def localized_language(
    row: object, field: str, locale: str, fallback: Sequence[str] | None = None
) -> str | None:
    """The language whose text :func:`localized` shows (``None`` when no language has one), so a
    page can mark a text shown in another language than its own (``lang="en"``)."""
    get = _getter(row)
    order = get_settings().content_fallback if fallback is None else fallback
    for loc in (locale, *order):
        value = get(f"{field}_{loc}")
        if value and not value.isspace():
            return loc
    return None


def localized(row: object, field: str, locale: str, fallback: Sequence[str] | None = None) -> str:
    """``row.<field>_<locale>``, else the first text given in the ``fallback`` order of languages (by
    default the site's ``PODIUM_CONTENT_FALLBACK``, en → zh → ru unless the operator chose another);
    an empty text, or one of only spaces, counts as not given."""
    language = localized_language(row, field, locale, fallback)
    return "" if language is None else _getter(row)(f"{field}_{language}")
