"""Organizations own events.

- table ``organization``;
- ``event.organization``: required. Events written before it are given to one organization,
  ``podium`` (an association), created only when such events exist;
- ``role_grant.organization``: an organization-level grant; a grant names exactly one of its event
  and its organization (PostgreSQL: NOT NULL and CHECK constraints; SQLite cannot add them to an
  existing table, so triggers refuse the same rows);
- the unique index ``role_grant_scope`` now tells organization-level grants apart.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T18:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "organizations own events; organization-level role grants"

TABLE = """
CREATE TABLE organization (
    id {serial},
    slug VARCHAR(80) NOT NULL UNIQUE,
    kind VARCHAR(20) NOT NULL DEFAULT '',
    name_zh VARCHAR(300) NOT NULL DEFAULT '',
    name_en VARCHAR(300) NOT NULL DEFAULT '',
    name_ru VARCHAR(300) NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""

COLUMNS = (
    "ALTER TABLE event ADD COLUMN organization INTEGER REFERENCES organization (id) ON DELETE RESTRICT",
    "ALTER TABLE role_grant ADD COLUMN organization INTEGER REFERENCES organization (id) ON DELETE CASCADE",
    "CREATE INDEX event_organization ON event (organization)",
    'CREATE INDEX role_grant_user_organization ON role_grant ("user", organization)',
)

BACKFILL = (
    """
    INSERT INTO organization (slug, kind, name_zh, name_en, name_ru)
    SELECT 'podium', 'association', 'Podium', 'Podium', 'Podium'
    WHERE EXISTS (SELECT 1 FROM event) AND NOT EXISTS (SELECT 1 FROM organization WHERE slug = 'podium')
    """,
    "UPDATE event SET organization = (SELECT id FROM organization WHERE slug = 'podium') WHERE organization IS NULL",
    "DELETE FROM role_grant WHERE event IS NULL",  # meant nothing before organizations
    "DROP INDEX role_grant_scope",
    """
    CREATE UNIQUE INDEX role_grant_scope ON role_grant
    ("user", role, COALESCE(event, 0), COALESCE(organization, 0), COALESCE(track, 0),
     COALESCE(region, ''), COALESCE(institution, 0))
    """,
)

POSTGRES = (
    "ALTER TABLE event ALTER COLUMN organization SET NOT NULL",
    """
    ALTER TABLE role_grant ADD CONSTRAINT role_grant_event_or_organization
    CHECK ((event IS NULL) <> (organization IS NULL))
    """,
)

_SQLITE_REFUSE = "SELECT RAISE(ABORT, 'CHECK constraint failed: {name}')"
SQLITE = tuple(
    f"""
    CREATE TRIGGER {name}_{when} BEFORE {verb} ON {table}
    FOR EACH ROW WHEN {condition} BEGIN {_SQLITE_REFUSE.format(name=name)}; END
    """
    for name, table, condition in (
        ("event_organization_required", "event", "NEW.organization IS NULL"),
        (
            "role_grant_event_or_organization",
            "role_grant",
            "(NEW.event IS NULL) = (NEW.organization IS NULL)",
        ),
    )
    for when, verb in (("insert", "INSERT"), ("update", "UPDATE"))
)


async def forwards_sql() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    for sql in (TABLE.format(serial=serial), *COLUMNS, *BACKFILL, *(POSTGRES if postgres else SQLITE)):
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
