"""The database announces every change that ends or alters a bearer token's caller: each web process
keeps a cache of token → principal (``backend.security.PrincipalCache``) and drops entries on these
notifications, so no write path (the API, the back office, a script, another trigger) can forget to.

Channel ``podium_auth``; payload: a token's ``token_hash`` when its revocation, expiry or scopes change
or it is deleted, ``user:<id>`` when a user's ``active``, ``auth_epoch``, ``superuser``, ``email``,
``display_name`` or ``locale`` change or the user is deleted. The deactivation trigger (migration
2026-11-28T15:38:14) revokes the user's tokens, so deactivation sends both kinds. PostgreSQL delivers
them when the writing transaction commits, never for a rollback. PostgreSQL only: SQLite is one
process and caches nothing.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify podium_auth when a token or a user's credentials change"

_TOKEN_COLUMNS = ("revoked_at", "expires_at", "scopes", "token_hash", '"user"')
_USER_COLUMNS = ("active", "auth_epoch", "superuser", "email", "display_name", "locale")


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


POSTGRES = (
    """
    CREATE OR REPLACE FUNCTION podium_auth_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('podium_auth', OLD.token_hash);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER podium_auth_token_changed AFTER UPDATE OF {", ".join(_TOKEN_COLUMNS)} ON api_token
    FOR EACH ROW WHEN ({_changed(_TOKEN_COLUMNS)}) EXECUTE FUNCTION podium_auth_token_changed()
    """,
    """
    CREATE TRIGGER podium_auth_token_deleted AFTER DELETE ON api_token
    FOR EACH ROW EXECUTE FUNCTION podium_auth_token_changed()
    """,
    """
    CREATE OR REPLACE FUNCTION podium_auth_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('podium_auth', 'user:' || OLD.id);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER podium_auth_user_changed AFTER UPDATE OF {", ".join(_USER_COLUMNS)} ON podium_user
    FOR EACH ROW WHEN ({_changed(_USER_COLUMNS)}) EXECUTE FUNCTION podium_auth_user_changed()
    """,
    """
    CREATE TRIGGER podium_auth_user_deleted AFTER DELETE ON podium_user
    FOR EACH ROW EXECUTE FUNCTION podium_auth_user_changed()
    """,
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS podium_auth_token_changed ON api_token",
    "DROP TRIGGER IF EXISTS podium_auth_token_deleted ON api_token",
    "DROP TRIGGER IF EXISTS podium_auth_user_changed ON podium_user",
    "DROP TRIGGER IF EXISTS podium_auth_user_deleted ON podium_user",
    "DROP FUNCTION IF EXISTS podium_auth_token_changed()",
    "DROP FUNCTION IF EXISTS podium_auth_user_changed()",
)


async def create_triggers() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):  # SQLite: one process, no cache, nothing to announce
        for sql in POSTGRES:
            await engine.run_ddl(sql)


async def drop_triggers() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        for sql in POSTGRES_DROP:
            await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(create_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
