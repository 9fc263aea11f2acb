"""Tickets of people without an account: one valid ticket per ticket type and e-mail address
(``ticket_live_guest``, case-insensitive), so importing the same list of visitors twice, or twice at
once, issues each ticket once (``ticket_live_holder`` does the same for accounts)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-29T03:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticketing: one valid ticket per ticket type and address for holders without an account"


async def forwards_sql() -> None:
    await engine_finder().run_ddl(
        "CREATE UNIQUE INDEX ticket_live_guest ON ticket (ticket_type, lower(holder_email))"
        " WHERE status = 'valid' AND holder IS NULL AND holder_email <> ''"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
