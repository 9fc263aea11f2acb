"""The page language: the ``podium_lang`` cookie, then the account's language, then the browser's
``Accept-Language`` (by quality, then order), then the site default."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.i18n import LANG_COOKIE, request_locale


def request(
    accept: str | None = None, cookie: str | None = None, account: str | None = None, default: str = "en"
) -> SimpleNamespace:
    """The parts of a Litestar request that ``request_locale`` reads."""
    return SimpleNamespace(
        cookies={LANG_COOKIE: cookie} if cookie is not None else {},
        headers={"accept-language": accept} if accept is not None else {},
        scope={"user": SimpleNamespace(locale=account) if account is not None else None},
        app=SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(default_locale=default))),
    )


def test_the_cookie_wins_over_the_account_and_the_browser():
    assert request_locale(request(accept="en", cookie="ru", account="zh")) == "ru"


@pytest.mark.parametrize("cookie", ["", "de", "EN", "zh-CN", "ru; Path=/", "en\x00"])
def test_an_invalid_cookie_is_ignored(cookie):
    assert request_locale(request(accept="en", cookie=cookie, account="ru")) == "ru"
    assert request_locale(request(accept="ru", cookie=cookie)) == "ru"
    assert request_locale(request(cookie=cookie, default="zh")) == "zh"


def test_the_account_wins_over_the_browser_and_an_unknown_account_language_is_ignored():
    assert request_locale(request(accept="en", account="ru")) == "ru"
    assert request_locale(request(accept="en", account="de")) == "en"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("zh-Hant-TW", "zh"),
        ("zh_CN", "zh"),
        ("EN-gb", "en"),
        # the quality decides, not the order
        ("en-GB;q=0.8, ru;q=0.9", "ru"),
        ("de, en;q=0.2, zh-CN;q=0.5", "zh"),
        ("en;q=0.5,ru", "ru"),
        ("en; q=0.4, ru ;Q=0.6", "ru"),
        # equal qualities keep the browser's order
        ("en;q=0.8, ru;q=0.8", "en"),
        ("ru, en", "ru"),
        # q=0 means "not this language"
        ("en;q=0, ru;q=0.1", "ru"),
        # only the primary subtag counts: Rusyn (rue) is not Russian, nor is "english" English
        ("rue, en;q=0.5", "en"),
        ("english, ru;q=0.1", "ru"),
        # languages Podium does not speak are passed over
        ("fr-FR, de;q=0.9, ru;q=0.1", "ru"),
        # malformed entries are skipped, the rest still counts
        ("en;q=high, ru;q=0.3", "ru"),
        ("en;q=2, ru;q=0.3", "ru"),
        (",,;q=1,  , ru", "ru"),
    ],
)
def test_the_browser_languages_are_taken_by_quality_then_order(accept, expected):
    assert request_locale(request(accept=accept, default="en" if expected != "en" else "zh")) == expected


@pytest.mark.parametrize("accept", [None, "", "fr, de;q=0.5", "*", "en;q=0", "ru;q=0.000", "q=1"])
def test_the_site_default_when_nothing_else_chooses(accept):
    assert request_locale(request(accept=accept, default="ru")) == "ru"
    assert request_locale(request(accept=accept, default="zh")) == "zh"
