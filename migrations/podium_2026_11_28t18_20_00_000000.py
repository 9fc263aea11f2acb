"""Invitations: a role offered to an e-mail address, accepted through a mailed link (see
``backend.accounts.invitations``). Raw SQL, the same on both engines but for the id column.

The partial unique index keeps one pending invitation (neither accepted nor revoked) per address,
role and scope, a missing (NULL) scope counting as equal, like ``role_grant_scope``.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T18:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invitations: roles offered by e-mail"

TABLE = """
CREATE TABLE invitation (
    id {id},
    email VARCHAR(255) NOT NULL DEFAULT '',
    role VARCHAR(20) NOT NULL DEFAULT '',
    event INTEGER REFERENCES event (id) ON DELETE CASCADE ON UPDATE CASCADE DEFAULT NULL,
    track INTEGER REFERENCES track (id) ON DELETE CASCADE ON UPDATE CASCADE DEFAULT NULL,
    region VARCHAR(100) DEFAULT NULL,
    institution INTEGER REFERENCES institution (id) ON DELETE CASCADE ON UPDATE CASCADE DEFAULT NULL,
    organization INTEGER REFERENCES organization (id) ON DELETE CASCADE ON UPDATE CASCADE DEFAULT NULL,
    locale VARCHAR(5) NOT NULL DEFAULT 'zh',
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    invited_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL ON UPDATE CASCADE DEFAULT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at TIMESTAMPTZ DEFAULT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ DEFAULT NULL,
    accepted_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL ON UPDATE CASCADE DEFAULT NULL,
    revoked_at TIMESTAMPTZ DEFAULT NULL
)
"""

INDEXES = (
    "CREATE INDEX invitation_event ON invitation (event)",
    "CREATE INDEX invitation_organization ON invitation (organization)",
    """
    CREATE UNIQUE INDEX invitation_pending ON invitation
    (email, role, COALESCE(event, 0), COALESCE(organization, 0), COALESCE(track, 0), COALESCE(region, ''), COALESCE(institution, 0))
    WHERE accepted_at IS NULL AND revoked_at IS NULL
    """,
)


async def create_table() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    await engine.run_ddl(
        TABLE.format(id="SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL")
    )
    for sql in INDEXES:
        await engine.run_ddl(sql)


async def drop_table() -> None:
    await engine_finder().run_ddl("DROP TABLE IF EXISTS invitation")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(create_table)
    manager.add_raw_backwards(drop_table)
    return manager
