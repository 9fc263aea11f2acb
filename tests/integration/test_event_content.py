"""Content in three languages (issue 8, item 9): an event's texts in zh, en and ru through the API,
the pages' fallback order and default language, events reached by slug as well as by id (drafts
hidden there too), session end times, and the migration that keeps the old single-language texts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import importlib
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest import mock

import httpx
import pytest
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from backend.accounts.tables import Role, User
from backend.app import create_app
from backend.audit import AuditEntry
from backend.events.tables import Event, EventSession, Stage, Track
from backend.i18n import localized
from backend.settings import Settings, SettingsError
from tests.conftest import PG_SERVER, _admin
from tests.integration.conftest import prime_csrf

pytestmark = pytest.mark.anyio  # at collection, so anyio's backend parameter joins the parametrized ones

MIGRATION = "migrations.podium_2026_11_28t18_40_00_000000"

TEXTS = {
    "name_zh": "跨境电商挑战赛",
    "name_en": "Cross-Border E-Commerce Challenge",
    "name_ru": "Конкурс трансграничной электронной коммерции",
    "edition_zh": "第十七届",
    "edition_en": "17th",
    "edition_ru": "17-й",
    "venue_zh": "杭州国际博览中心",
    "venue_en": "Hangzhou International Expo Center",
    "venue_ru": "Ханчжоуский выставочный центр",
    "description_zh": "面向全国高校学生。\n三级晋级。",
    "description_en": "For college students.\nThree rounds.",
    "description_ru": "Для студентов вузов.\nТри этапа.",
}
CONTEST = {
    "organization_id": 1,
    "kind": "contest",
    "slug": "cbec-2027",
    "starts_on": "2027-03-01",
    "ends_on": "2027-07-25",
    **TEXTS,
}
DESCRIBED = {"description_zh": "零售", "description_en": "Retail", "description_ru": "Розница"}


def texts_of(page: str, tag: str) -> list[tuple[str, str | None]]:
    """(text, lang attribute) of each ``<tag>`` of a page whose content has no further markup."""
    pattern = rf"<{tag}(?P<attrs>[^>]*)>(?P<text>[^<]*)</{tag}>"
    found = []
    for match in re.finditer(pattern, page):
        lang = re.search(r'lang="([^"]+)"', match["attrs"])
        found.append((html.unescape(match["text"]).strip(), lang[1] if lang else None))
    return found


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page)[1]


@asynccontextmanager
async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of an app whose settings differ from the test run's by ``changes``."""
    app = create_app(dataclasses.replace(settings, **changes))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium.test") as client,
    ):
        await prime_csrf(client)
        yield client


# The API ---------------------------------------------------------------------------------------


async def test_every_text_of_an_event_round_trips_in_three_languages(make_client, admin):
    client = await make_client("admin@example.org")
    created = await client.post("/api/v1/events", json=CONTEST)
    assert created.status_code == 201, created.text
    event = created.json()
    assert {k: event[k] for k in TEXTS} == TEXTS
    assert not {"venue", "edition"} & set(event)  # the single-language fields are gone

    patched = await client.patch(
        f"/api/v1/events/{event['id']}", json={"venue_ru": "", "description_en": "Three rounds only."}
    )
    assert patched.status_code == 200, patched.text
    want = {**TEXTS, "venue_ru": "", "description_en": "Three rounds only."}
    for url in (f"/api/v1/events/{event['id']}", "/api/v1/events/by-slug/cbec-2027"):
        assert {k: v for k, v in (await client.get(url)).json().items() if k in TEXTS} == want
    entry = await AuditEntry.select(AuditEntry.data).where(AuditEntry.action == "event.update").first()
    assert json.loads(entry["data"]) == {"venue_ru": "", "description_en": "Three rounds only."}

    base = f"/api/v1/events/{event['id']}"
    track = await client.post(f"{base}/tracks", json={"code": "B2C", "name_en": "Retail", **DESCRIBED})
    stage = await client.post(f"{base}/stages", json={"level": "school", **DESCRIBED})
    assert (track.status_code, stage.status_code) == (201, 201), (track.text, stage.text)
    for listed in ((await client.get(f"{base}/tracks")).json(), (await client.get(f"{base}/stages")).json()):
        assert {k: listed[0][k] for k in DESCRIBED} == DESCRIBED
    changed = await client.put(
        f"{base}/tracks/{track.json()['id']}", json={"code": "B2C", "description_ru": "Только розница"}
    )
    assert (changed.json()["description_ru"], changed.json()["description_en"]) == ("Только розница", "")


async def test_sessions_carry_descriptions_in_three_languages(make_client, organizer, make_event, grant):
    user, _ = organizer
    forum = await make_event(
        slug="forum-2027", kind="forum", starts_on=dt.date(2027, 8, 24), ends_on=dt.date(2027, 8, 25)
    )
    await grant(user, Role.organizer, forum)
    client = await make_client("organizer@example.org")
    body = {
        "starts_at": "2027-08-24T09:00:00+08:00",
        "ends_at": "2027-08-24T10:30:00+08:00",
        "title_en": "Opening",
        **DESCRIBED,
    }
    created = await client.post(f"/api/v1/events/{forum}/sessions", json=body)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in DESCRIBED} == DESCRIBED
    replaced = await client.put(
        f"/api/v1/events/{forum}/sessions/{created.json()['id']}", json={**body, "description_zh": ""}
    )
    assert replaced.json()["description_zh"] == ""
    assert (await client.get(f"/api/v1/events/{forum}/sessions")).json()[0]["description_en"] == "Retail"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("", {**CONTEST, "description_en": "x" * 4001}, "description_en"),
        ("", {**CONTEST, "venue_zh": "馆" * 301}, "venue_zh"),
        ("", {**CONTEST, "edition_ru": "я" * 81}, "edition_ru"),
        ("", {**CONTEST, "description_ru": "bell \x07"}, "description_ru"),
        ("/{id}/tracks", {"code": "T", "description_zh": "长" * 2001}, "description_zh"),
        ("/{id}/stages", {"level": "school", "description_en": "x" * 2001}, "description_en"),
    ],
)
async def test_texts_longer_than_their_column_or_unprintable_are_refused(
    make_client, admin, make_event, path, body, field
):
    event = await make_event()
    client = await make_client("admin@example.org")
    response = await client.post("/api/v1/events" + path.format(id=event), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
    assert (await Event.count(), await Track.count(), await Stage.count()) == (1, 0, 0)


async def test_the_longest_texts_the_columns_hold_are_kept_whole(make_client, admin):
    client = await make_client("admin@example.org")
    longest = {"description_ru": "я" * 4000, "venue_zh": "馆" * 300, "edition_en": "e" * 80}
    created = await client.post("/api/v1/events", json={**CONTEST, **longest})
    assert created.status_code == 201, created.text
    row = await Event.select(*[getattr(Event, k) for k in longest]).first()
    assert row == longest


async def test_the_old_single_language_fields_are_refused_not_ignored(make_client, admin, make_event):
    client = await make_client("admin@example.org")
    response = await client.post("/api/v1/events", json={**CONTEST, "venue": "Hangzhou"})
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    event = await make_event(status="open")
    patched = await client.patch(f"/api/v1/events/{event}", json={"edition": "2027"})
    assert (patched.status_code, patched.json()["code"]) == (400, "validation_error")


async def test_a_slug_of_digits_alone_is_refused(make_client, admin):
    client = await make_client("admin@example.org")
    response = await client.post("/api/v1/events", json={**CONTEST, "slug": "2027"})
    assert response.status_code == 400
    assert response.json()["code"] == "slug_digits_only"
    assert set(response.json()["fields"]) == {"slug"}
    assert await Event.count() == 0
    assert (await client.post("/api/v1/events", json={**CONTEST, "slug": "2027-1"})).status_code == 201


# Slugs ---------------------------------------------------------------------------------------


async def test_an_event_is_reached_by_slug_and_by_id_on_the_api_and_its_page(client, make_event):
    event = await make_event(slug="cbec-2027", status="open", name_en="By Slug Challenge")
    by_id = (await client.get(f"/api/v1/events/{event}")).json()
    assert (await client.get("/api/v1/events/by-slug/cbec-2027")).json() == by_id
    pages = [await client.get(url) for url in (f"/events/{event}", "/events/cbec-2027")]
    assert [p.status_code for p in pages] == [200, 200]
    assert all(texts_of(p.text, "h1") == [("By Slug Challenge", None)] for p in pages)


@pytest.mark.parametrize(
    "reference", ["no-such-event", "CBEC-2027", "cbec_2027", "x" * 81, "99999999999999999999", "１"]
)
async def test_unknown_or_malformed_references_are_not_found_on_the_page(client, make_event, reference):
    await make_event(slug="cbec-2027", status="open")
    response = await client.get(f"/events/{reference}", headers={"accept": "text/html"})
    assert response.status_code == 404


@pytest.mark.parametrize(("slug", "status"), [("no-such-event", 404), ("Bad_Slug", 400), ("x" * 81, 400)])
async def test_the_api_answers_unknown_and_malformed_slugs_apart(client, make_event, slug, status):
    await make_event(slug="cbec-2027", status="open")
    response = await client.get(f"/api/v1/events/by-slug/{slug}")
    assert response.status_code == status
    assert response.json()["code"] == ("not_found" if status == 404 else "validation_error")


async def test_a_draft_stays_hidden_by_slug_as_by_id(make_client, make_user, organizer, make_event, grant):
    _, draft = organizer  # slug cbec-2027
    elsewhere = await make_event(slug="elsewhere-2027")
    await make_user("judge@example.org")
    await make_user("stranger@example.org")
    judge = await make_client("judge@example.org")
    await grant(await _user_id("judge@example.org"), Role.judge, draft)
    outsiders = [await make_client(), await make_client("stranger@example.org"), judge]
    for outsider in outsiders:
        for url in (
            "/api/v1/events/by-slug/cbec-2027",
            f"/api/v1/events/{draft}",
            "/events/cbec-2027",
            f"/events/{draft}",
        ):
            response = await outsider.get(url, headers={"accept": "text/html"} if url[1] == "e" else {})
            assert response.status_code == 404, url
        assert "Event cbec-2027" not in (await outsider.get("/events/cbec-2027")).text
    owner = await make_client("organizer@example.org")
    assert (await owner.get("/api/v1/events/by-slug/cbec-2027")).json()["status"] == "draft"
    assert (await owner.get("/events/cbec-2027")).status_code == 200
    assert (await owner.get("/api/v1/events/by-slug/elsewhere-2027")).status_code == 404  # not theirs
    assert (await owner.get(f"/events/{elsewhere}")).status_code == 404


async def _user_id(email: str) -> int:
    return (await User.select(User.id).where(User.email == email).first())["id"]


# Fallback order and default language -----------------------------------------------------------


async def _half_translated(make_event) -> int:
    """An open event: name in zh and ru only, venue in ru only, description in zh only."""
    return await make_event(
        slug="half-2027",
        status="open",
        name_en="",
        name_zh="半译赛事",
        name_ru="Наполовину переведённое",
        venue_ru="Москва",
        description_zh="只有中文说明。",
    )


async def test_pages_show_the_readers_language_then_the_fallback_order(client, make_event):
    await _half_translated(make_event)
    cases = {  # reader's language -> (name, its lang), venue, description as shown
        "zh": (("半译赛事", None), ("Москва", "ru"), ("只有中文说明。", None)),
        "ru": (("Наполовину переведённое", None), ("Москва", None), ("只有中文说明。", "zh-CN")),
        # English is missing: the default order en, zh, ru picks Chinese before Russian
        "en": (("半译赛事", "zh-CN"), ("Москва", "ru"), ("只有中文说明。", "zh-CN")),
    }
    for language, (name, venue, description) in cases.items():
        page = (await client.get("/events/half-2027", cookies={"podium_lang": language})).text
        assert html_lang(page).startswith(language)
        assert texts_of(page, "h1") == [name], language
        assert venue in texts_of(page, "dd"), language
        assert [t for t in texts_of(page, "p") if t[0] == description[0]] == [description], language
        home = (await client.get("/", cookies={"podium_lang": language})).text
        assert name in texts_of(home, "a"), language


async def test_the_operator_declares_another_fallback_order(db, settings, make_event):
    await _half_translated(make_event)
    async with app_client(settings, content_fallback=("ru", "zh", "en")) as client:
        page = (await client.get("/events/half-2027", cookies={"podium_lang": "en"})).text
    assert texts_of(page, "h1") == [("Наполовину переведённое", "ru")]
    assert ("只有中文说明。", "zh-CN") in texts_of(page, "p")  # no Russian description: Chinese next


async def test_an_api_client_gets_every_language_whatever_it_asks_for(client, make_event):
    event = await _half_translated(make_event)
    body = (await client.get(f"/api/v1/events/{event}", headers={"accept-language": "fr"})).json()
    assert (body["name_en"], body["name_zh"], body["venue_ru"]) == ("", "半译赛事", "Москва")


@pytest.mark.parametrize("accept", [None, "fr", "fr-FR, de;q=0.8", "*"])
async def test_a_browser_asking_for_a_language_podium_lacks_gets_english(client, accept):
    headers = {"accept-language": accept} if accept else {}
    page = await client.get("/", headers=headers)
    assert html_lang(page.text) == "en"
    assert texts_of(page.text, "h1") == [("Events", None)]


async def test_the_operator_chooses_another_default_language(db, settings):
    assert settings.default_locale == "en"  # the test run keeps the default
    async with app_client(settings, default_locale="ru") as client:
        unknown = await client.get("/", headers={"accept-language": "fr"})
        asked = await client.get("/", headers={"accept-language": "fr, zh;q=0.5"})
    assert (html_lang(unknown.text), texts_of(unknown.text, "h1")) == ("ru", [("Мероприятия", None)])
    assert html_lang(asked.text) == "zh-CN"  # a language Podium speaks still wins over the default


def test_the_defaults_are_english_first(tmp_path):
    settings = Settings.from_env({"PODIUM_DATA_DIR": str(tmp_path)})
    assert (settings.default_locale, settings.content_fallback) == ("en", ("en", "zh", "ru"))


@pytest.mark.parametrize(
    ("value", "order"),
    [("ru,zh,en", ("ru", "zh", "en")), (" ZH , ru ", ("zh", "ru", "en")), ("ru", ("ru", "en", "zh"))],
)
def test_the_fallback_order_is_read_and_completed(tmp_path, value, order):
    env = {"PODIUM_DATA_DIR": str(tmp_path), "PODIUM_CONTENT_FALLBACK": value}
    assert Settings.from_env(env).content_fallback == order


@pytest.mark.parametrize("value", ["fr", "en,en", "en,zh,ru,de", "en;zh", ",,"])
def test_a_bad_fallback_order_stops_the_start_naming_the_variable(tmp_path, value):
    env = {"PODIUM_DATA_DIR": str(tmp_path), "PODIUM_CONTENT_FALLBACK": value}
    with pytest.raises(SettingsError, match=r"^PODIUM_CONTENT_FALLBACK must be languages out of zh, en, ru"):
        Settings.from_env(env)


def test_a_text_of_only_spaces_counts_as_missing():
    row = {"venue_zh": "  ", "venue_en": "", "venue_ru": "Москва"}
    assert localized(row, "venue", "zh", ("en", "zh", "ru")) == "Москва"
    assert localized(row, "edition", "zh", ("en", "zh", "ru")) == ""


# Session times ---------------------------------------------------------------------------------


async def _forum_with_sessions(make_event, time_zone: str = "Asia/Shanghai") -> int:
    forum = await make_event(
        slug="forum-2027",
        kind="forum",
        status="open",
        starts_on=dt.date(2027, 8, 24),
        ends_on=dt.date(2027, 8, 25),
        time_zone=time_zone,
    )
    utc = dt.UTC
    await EventSession.insert(
        EventSession(
            event=forum,
            title_en="Opening",
            title_zh="开幕式",
            description_en="Welcome and keynotes",
            room="Hall A",
            starts_at=dt.datetime(2027, 8, 24, 1, 0, tzinfo=utc),
            ends_at=dt.datetime(2027, 8, 24, 2, 30, tzinfo=utc),
        ),
        EventSession(
            event=forum,
            title_en="Night hackathon",
            room="Lab",
            starts_at=dt.datetime(2027, 8, 24, 12, 0, tzinfo=utc),
            ends_at=dt.datetime(2027, 8, 25, 1, 0, tzinfo=utc),
        ),
    )
    return forum


def time_cells(page: str) -> list[str]:
    """The text of each session's time cell, markup removed."""
    cells = re.findall(r'<td data-label="[^"]*">(<time .*?)</td>', page)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells]


@pytest.mark.parametrize(
    ("language", "opening", "overnight"),
    [
        ("en", "Aug 24, 2027, 09:00–10:30", "Aug 24, 2027, 20:00 – Aug 25, 2027, 09:00"),
        ("zh", "2027年8月24日 09:00–10:30", "2027年8月24日 20:00 – 2027年8月25日 09:00"),
        # Russian keeps "2027 г." together with a narrow no-break space
        (
            "ru",
            "24 авг. 2027\u202fг., 09:00–10:30",
            "24 авг. 2027\u202fг., 20:00 – 25 авг. 2027\u202fг., 09:00",
        ),
    ],
)
async def test_sessions_show_their_end_time_in_the_events_time_zone(
    client, make_event, language, opening, overnight
):
    await _forum_with_sessions(make_event)
    page = (await client.get("/events/forum-2027", cookies={"podium_lang": language})).text
    assert time_cells(page) == [opening, overnight]
    assert '<time datetime="2027-08-24T02:30:00+00:00">' in page  # machine-readable end
    assert ("Welcome and keynotes", None if language == "en" else "en") in texts_of(page, "p")


async def test_session_times_follow_the_events_own_time_zone(client, make_event):
    await _forum_with_sessions(make_event, time_zone="Europe/Moscow")
    page = (await client.get("/events/forum-2027", cookies={"podium_lang": "en"})).text
    assert time_cells(page)[0] == "Aug 24, 2027, 04:00–05:30"


# The migration ---------------------------------------------------------------------------------

OLD_SCHEMA = (
    "CREATE TABLE event (id INTEGER PRIMARY KEY, edition VARCHAR(40) NOT NULL DEFAULT '', "
    "venue VARCHAR(300) NOT NULL DEFAULT '')",
    "CREATE TABLE track (id INTEGER PRIMARY KEY)",
    "CREATE TABLE stage (id INTEGER PRIMARY KEY)",
    "CREATE TABLE event_session (id INTEGER PRIMARY KEY)",
    "INSERT INTO event (id, edition, venue) VALUES (1, '第十七届', '杭州国际博览中心'), "
    "(2, '2027', 'Hangzhou Expo'), (3, '', 'Москва, ВДНХ'), (4, '', '')",
)


COLUMN_NAMES = {
    "sqlite": "SELECT name FROM pragma_table_info('event')",
    "postgresql": "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'event'",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def old_database(request, tmp_path) -> AsyncIterator[tuple[str, Engine]]:
    """An empty database of either engine, apart from the one the tests run on."""
    if request.param == "sqlite":
        yield request.param, SQLiteEngine(path=str(tmp_path / "old.sqlite"))
        return
    name = f"podium_content_migration_{os.getpid()}"
    await _admin(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield request.param, PostgresEngine(config={"dsn": f"{PG_SERVER}/{name}"})
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_migration_keeps_each_old_text_in_the_language_it_is_written_in(old_database):
    migration = importlib.import_module(MIGRATION)
    kind, engine = old_database
    for sql in OLD_SCHEMA:
        await engine.run_ddl(sql)
    columns = ", ".join(f"{c}_{lang}" for c in ("edition", "venue") for lang in ("zh", "en", "ru"))
    with mock.patch(f"{MIGRATION}.engine_finder", return_value=engine):
        await migration.forwards_sql()
        moved = await engine.run_ddl(f"SELECT id, {columns} FROM event ORDER BY id")  # noqa: S608
        described = await engine.run_ddl("SELECT description_en, description_ru FROM event_session")
        names = {r["name"] for r in await engine.run_ddl(COLUMN_NAMES[kind])}
        await migration.backwards_sql()
        back = await engine.run_ddl("SELECT id, edition, venue FROM event ORDER BY id")
    assert [{k: v for k, v in row.items() if v} for row in moved] == [
        {"id": 1, "edition_zh": "第十七届", "venue_zh": "杭州国际博览中心"},
        {"id": 2, "edition_en": "2027", "venue_en": "Hangzhou Expo"},
        {"id": 3, "venue_ru": "Москва, ВДНХ"},
        {"id": 4},
    ]
    assert described == []
    assert not names & {"venue", "edition"}
    assert {"description_zh", "description_en", "description_ru"} <= names
    assert [dict(row) for row in back] == [
        {"id": 1, "edition": "第十七届", "venue": "杭州国际博览中心"},
        {"id": 2, "edition": "2027", "venue": "Hangzhou Expo"},
        {"id": 3, "edition": "", "venue": "Москва, ВДНХ"},
        {"id": 4, "edition": "", "venue": ""},
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [("杭州", "zh"), ("Hangzhou 杭州", "zh"), ("Москва", "ru"), ("Hall A", "en"), ("2027", "en")],
)
def test_the_migration_tells_languages_by_their_script(text, language):
    assert importlib.import_module(MIGRATION).language_of(text) == language
