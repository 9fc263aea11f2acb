"""Deactivating a user ends their sessions and tokens for good, whoever writes ``active``."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T15:38:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "deactivation trigger: bump auth_epoch, revoke tokens"

POSTGRES = (
    """
    CREATE OR REPLACE FUNCTION podium_user_deactivated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.auth_epoch := OLD.auth_epoch + 1;
        UPDATE api_token SET revoked_at = now() WHERE "user" = NEW.id AND revoked_at IS NULL;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER podium_user_deactivated BEFORE UPDATE OF active ON podium_user
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION podium_user_deactivated()
    """,
)

SQLITE = (
    """
    CREATE TRIGGER podium_user_deactivated AFTER UPDATE OF active ON podium_user
    FOR EACH ROW WHEN OLD.active AND NOT NEW.active
    BEGIN
        UPDATE podium_user SET auth_epoch = auth_epoch + 1 WHERE id = NEW.id;
        UPDATE api_token SET revoked_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
        WHERE "user" = NEW.id AND revoked_at IS NULL;
    END
    """,
)


async def create_trigger() -> None:
    engine = engine_finder()
    for sql in POSTGRES if isinstance(engine, PostgresEngine) else SQLITE:
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(create_trigger)
    return manager
