"""The audit log becomes append-only: the actor is kept as a plain id with its e-mail (copied from
the old foreign key, which is dropped, so deleting a user no longer touches the log), and triggers
refuse UPDATE and DELETE of audit rows on both engines. TRUNCATE stays possible (tests reset with it).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T15:41:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only audit log"

MESSAGE = "audit_entry is append-only"

COPY_ACTOR = """
UPDATE audit_entry SET actor_id = actor,
    actor_email = (SELECT email FROM podium_user WHERE podium_user.id = audit_entry.actor)
WHERE actor IS NOT NULL
"""

POSTGRES = [
    f"""
    CREATE FUNCTION podium_audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION podium_audit_entry_append_only()
    """,
]

SQLITE = [
    f"""
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]


async def copy_actor_and_add_triggers():
    engine = engine_finder()
    await engine.run_ddl(COPY_ACTOR)
    for statement in POSTGRES if isinstance(engine, PostgresEngine) else SQLITE:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(copy_actor_and_add_triggers)
    manager.drop_column(
        table_class_name="AuditEntry",
        tablename="audit_entry",
        column_name="actor",
        db_column_name="actor",
        schema=None,
    )
    return manager
