"""Report reminders: a reminder recorded without being sent (``skipped``) because a later one of the
same period was due by the time the job ran (the worker was down, the schedule was set up late), so
it never goes out late."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-29T06:60:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "incubator: reminders recorded as skipped"


async def forwards_sql() -> None:
    await engine_finder().run_ddl(
        "ALTER TABLE incubation_reminder_sent ADD COLUMN skipped BOOLEAN NOT NULL DEFAULT FALSE"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
