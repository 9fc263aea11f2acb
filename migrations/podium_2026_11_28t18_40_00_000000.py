"""Content in three languages: every text of an event that participants read is given in zh, en and ru.

- ``event``: ``edition_zh/en/ru`` (80 characters), ``venue_zh/en/ru`` (300) and ``description_zh/en/ru``
  (4000) replace the single columns ``edition`` (40) and ``venue`` (300);
- ``track``, ``stage`` and ``event_session``: ``description_zh/en/ru`` (2000 each).

Existing data is kept: each non-empty ``venue`` and ``edition`` is copied into the column of the
language its script shows (any Chinese character: zh; else any Cyrillic letter: ru; else en), and the
other two stay empty. Pages fall back to the text in another language when the reader's is empty
(``PODIUM_CONTENT_FALLBACK``), so every reader sees what they saw before, and an organizer adds the
translations where they are missing. Then the old columns are dropped (SQLite 3.35 or later).

Backwards: ``edition`` and ``venue`` come back holding the first non-empty of en, zh, ru (cut to their
old lengths); the new columns are dropped.
"""

from __future__ import annotations

import re

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-28T18:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "event texts in zh, en and ru: edition, venue, descriptions of events, tracks, stages, sessions"

LANGUAGES = ("zh", "en", "ru")
# (table, column, length) of every new per-language column
COLUMNS = (
    ("event", "edition", 80),
    ("event", "venue", 300),
    ("event", "description", 4000),
    ("track", "description", 2000),
    ("stage", "description", 2000),
    ("event_session", "description", 2000),
)
OLD_LENGTHS = {"edition": 40, "venue": 300}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")


def language_of(text: str) -> str:
    """The language whose column a text of unknown language goes into, by the script it is written in."""
    if _HAN.search(text):
        return "zh"
    if _CYRILLIC.search(text):
        return "ru"
    return "en"


async def forwards_sql() -> None:
    engine = engine_finder()
    for table, column, length in COLUMNS:
        for language in LANGUAGES:
            await engine.run_ddl(
                f"ALTER TABLE {table} ADD COLUMN {column}_{language} VARCHAR({length}) NOT NULL DEFAULT ''"
            )
    rows = await engine.run_querystring(
        QueryString("SELECT id, edition, venue FROM event WHERE edition <> '' OR venue <> ''")
    )
    for row in rows:
        for column in OLD_LENGTHS:
            text = row[column] or ""
            if text:
                await engine.run_querystring(
                    QueryString(
                        f"UPDATE event SET {column}_{language_of(text)} = {{}} WHERE id = {{}}",  # noqa: S608 - names from this module
                        text,
                        row["id"],
                    )
                )
    for column in OLD_LENGTHS:
        await engine.run_ddl(f"ALTER TABLE event DROP COLUMN {column}")


async def backwards_sql() -> None:
    engine = engine_finder()
    for column, length in OLD_LENGTHS.items():
        await engine.run_ddl(f"ALTER TABLE event ADD COLUMN {column} VARCHAR({length}) NOT NULL DEFAULT ''")
        first = f"COALESCE(NULLIF({column}_en, ''), NULLIF({column}_zh, ''), {column}_ru)"
        await engine.run_ddl(f"UPDATE event SET {column} = SUBSTR({first}, 1, {length})")  # noqa: S608
    for table, column, _ in COLUMNS:
        for language in LANGUAGES:
            await engine.run_ddl(f"ALTER TABLE {table} DROP COLUMN {column}_{language}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    manager.add_raw_backwards(backwards_sql)
    return manager
