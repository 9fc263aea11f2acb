"""Self-service accounts (issue 9): the e-mail confirmation time, consents and one-time links.

- ``podium_user.email_confirmed_at``: NULL while a signed-up address is unconfirmed. Existing accounts
  count as confirmed since their creation; the ORM's default ("now") confirms every account made by
  an admin, an invitation, an import or a test, so only sign-up writes NULL.
- ``consent``: append-only history of consents (terms and each kind of sharing) with version, time and
  client address; the current state of a kind is its latest row.
- ``account_token``: one-time links (confirm the e-mail, reset the password); only the SHA-256 is kept.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T21:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "self-service accounts: e-mail confirmation, consents, one-time links"

STATEMENTS = (
    "ALTER TABLE podium_user ADD COLUMN email_confirmed_at TIMESTAMPTZ",
    "UPDATE podium_user SET email_confirmed_at = created_at",
    """
    CREATE TABLE consent (
        id {serial},
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        kind VARCHAR(30) NOT NULL,
        version VARCHAR(20) NOT NULL,
        granted BOOLEAN NOT NULL,
        client_address VARCHAR(45) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    'CREATE INDEX consent_user_kind ON consent ("user", kind, id)',
    """
    CREATE TABLE account_token (
        id {serial},
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        purpose VARCHAR(20) NOT NULL,
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ
    )
    """,
    'CREATE INDEX account_token_user ON account_token ("user", purpose)',
)


async def forwards_sql() -> None:
    engine = engine_finder()
    serial = (
        "SERIAL PRIMARY KEY" if isinstance(engine, PostgresEngine) else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    for sql in STATEMENTS:
        await engine.run_ddl(sql.format(serial=serial))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
