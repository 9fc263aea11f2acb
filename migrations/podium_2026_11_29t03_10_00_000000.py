"""Badge runs rendered by batches (issue 11): ``badge_run_batch`` records each batch a run has
counted, unique per run and first ticket, so a batch job delivered twice moves the run's progress
once; and ``badge_run.started_at``, so a run whose worker died is claimed again."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-29T03:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticketing: badge run batches, counted once"


async def forwards_sql() -> None:
    engine = engine_finder()
    serial = (
        "SERIAL PRIMARY KEY" if isinstance(engine, PostgresEngine) else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    await engine.run_ddl(
        f"""
        CREATE TABLE badge_run_batch (
            id {serial},
            run INTEGER NOT NULL REFERENCES badge_run (id) ON DELETE CASCADE,
            first_ticket INTEGER NOT NULL,
            tickets INTEGER NOT NULL
        )
        """
    )
    await engine.run_ddl("CREATE UNIQUE INDEX badge_run_batch_first ON badge_run_batch (run, first_ticket)")
    await engine.run_ddl("ALTER TABLE badge_run ADD COLUMN started_at TIMESTAMPTZ")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
