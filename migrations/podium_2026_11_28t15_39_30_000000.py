"""What the services used to check by hand, the database now enforces (on both engines).

- one track per code in an event, one stage per position in an event;
- one role grant per user, role, event and scope, a missing (NULL) scope counting as equal;
- an admin session dies with its user (PostgreSQL: a foreign key; SQLite cannot add one to an
  existing table, so a trigger does the same cascade).

``event.slug`` and the user's ``email`` and ``username`` are already UNIQUE since the initial
schema, and every ForeignKey column is already a real foreign key on both engines (Piccolo turns
SQLite's ``PRAGMA foreign_keys`` on for each connection).

Rows that would break the new indexes are repaired first, so the migration applies on top of a
database written before it: exact duplicate grants are dropped, stage positions are renumbered
1..n in their current order, and a duplicate track code gets its track id appended.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T15:39:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique tracks, stage positions and role grants; admin sessions follow their user"

REPAIR = (
    """
    DELETE FROM role_grant WHERE id NOT IN (
        SELECT min(id) FROM role_grant
        GROUP BY "user", role, COALESCE(event, 0), COALESCE(track, 0), COALESCE(region, ''), COALESCE(institution, 0)
    )
    """,
    # The window is computed in full before any row changes (UPDATE ... FROM: SQLite 3.33+).
    """
    UPDATE stage SET position = numbered.n
    FROM (SELECT id, row_number() OVER (PARTITION BY event ORDER BY position, id) AS n FROM stage) AS numbered
    WHERE stage.id = numbered.id AND stage.position <> numbered.n
    """,
    """
    UPDATE track SET code = substr(code, 1, 28) || '-' || id
    WHERE id NOT IN (SELECT min(id) FROM track GROUP BY event, code)
    """,
    "DELETE FROM podium_admin_session WHERE user_id NOT IN (SELECT id FROM podium_user)",
)

# The names are the keys of backend.db's constraint registry: keep them in step.
INDEXES = (
    "CREATE UNIQUE INDEX track_event_code ON track (event, code)",
    "CREATE UNIQUE INDEX stage_event_position ON stage (event, position)",
    """
    CREATE UNIQUE INDEX role_grant_scope ON role_grant
    ("user", role, COALESCE(event, 0), COALESCE(track, 0), COALESCE(region, ''), COALESCE(institution, 0))
    """,
)

POSTGRES = (
    """
    ALTER TABLE podium_admin_session ADD CONSTRAINT podium_admin_session_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES podium_user (id) ON DELETE CASCADE
    """,
)

SQLITE = (
    """
    CREATE TRIGGER podium_admin_session_user_deleted AFTER DELETE ON podium_user
    FOR EACH ROW BEGIN
        DELETE FROM podium_admin_session WHERE user_id = OLD.id;
    END
    """,
)


async def enforce() -> None:
    engine = engine_finder()
    extra = POSTGRES if isinstance(engine, PostgresEngine) else SQLITE
    for sql in (*REPAIR, *INDEXES, *extra):
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(enforce)
    return manager
