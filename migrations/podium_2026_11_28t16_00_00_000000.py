from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an index for the policy's look-up of a caller's grants in an event"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)

    async def create_index():
        # backend.policy.event_context: WHERE user = ? AND event = ? on every guarded request
        await engine_finder().run_ddl(
            'CREATE INDEX IF NOT EXISTS role_grant_user_event ON role_grant ("user", event)'
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS role_grant_user_event")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
