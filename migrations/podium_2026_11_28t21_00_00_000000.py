"""Team registration (issue 9): profiles, teams, seats, the team's timeline, registration rules,
past winners, materials and sent reminders.

- ``profile``: one per account (``"user"`` unique).
- ``team_member_seat``: one held seat (invited or confirmed) per person per track among students.
- ``team_member_person``: one live seat (invited, requested or confirmed) per address per team.
- ``registration_rules_scope``: one rule set per contest and one per track.
- ``material_version``: one row per team, stage, kind and version number.
- ``reminder_sent_key``: one reminder of a kind per team, whatever the job queue redelivers.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "team registration: profiles, teams, seats, rules, past winners, materials, reminders"

TABLES = (
    """
    CREATE TABLE profile (
        id {serial},
        "user" INTEGER NOT NULL UNIQUE REFERENCES podium_user (id) ON DELETE CASCADE,
        name_native VARCHAR(200) NOT NULL DEFAULT '',
        name_latin VARCHAR(200) NOT NULL DEFAULT '',
        institution INTEGER REFERENCES institution (id) ON DELETE SET NULL,
        study_status VARCHAR(20) NOT NULL DEFAULT 'other',
        graduation_year INTEGER,
        birth_date DATE,
        country VARCHAR(2) NOT NULL DEFAULT '',
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE team (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        track INTEGER NOT NULL REFERENCES track (id) ON DELETE RESTRICT,
        name VARCHAR(100) NOT NULL,
        entry_title VARCHAR(200) NOT NULL DEFAULT '',
        leader INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        institution INTEGER REFERENCES institution (id) ON DELETE SET NULL,
        region VARCHAR(100) NOT NULL DEFAULT '',
        country VARCHAR(2) NOT NULL DEFAULT '',
        join_code VARCHAR(16) NOT NULL UNIQUE,
        status VARCHAR(20) NOT NULL DEFAULT 'forming',
        review_note VARCHAR(2000) NOT NULL DEFAULT '',
        reviewed_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        reviewed_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        completed_at TIMESTAMPTZ,
        withdrawn_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE team_member (
        id {serial},
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        track INTEGER NOT NULL REFERENCES track (id) ON DELETE RESTRICT,
        "user" INTEGER REFERENCES podium_user (id) ON DELETE CASCADE,
        email VARCHAR(255) NOT NULL,
        role VARCHAR(20) NOT NULL,
        position INTEGER NOT NULL DEFAULT 0,
        state VARCHAR(20) NOT NULL,
        joined_via VARCHAR(20) NOT NULL,
        token_hash VARCHAR(64) UNIQUE,
        locale VARCHAR(5) NOT NULL DEFAULT 'zh',
        invited_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        expires_at TIMESTAMPTZ,
        confirmed_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE team_event (
        id {serial},
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        kind VARCHAR(40) NOT NULL,
        actor INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        data JSON NOT NULL DEFAULT '{{}}',
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE registration_rules (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        track INTEGER REFERENCES track (id) ON DELETE CASCADE,
        rules JSON NOT NULL DEFAULT '{{}}',
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE past_winner (
        id {serial},
        organization INTEGER NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        email VARCHAR(255) NOT NULL,
        "user" INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        name VARCHAR(200) NOT NULL DEFAULT '',
        edition VARCHAR(80) NOT NULL DEFAULT '',
        prize VARCHAR(40) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE material (
        id {serial},
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        kind VARCHAR(20) NOT NULL,
        version INTEGER NOT NULL,
        storage_key VARCHAR(200),
        file_name VARCHAR(255) NOT NULL DEFAULT '',
        content_type VARCHAR(100) NOT NULL DEFAULT '',
        size BIGINT NOT NULL DEFAULT 0,
        sha256 VARCHAR(64) NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        uploaded_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE reminder_sent (
        id {serial},
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        kind VARCHAR(80) NOT NULL,
        sent_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
)

INDEXES = (
    "CREATE INDEX team_event_idx ON team (event)",
    "CREATE INDEX team_track ON team (track)",
    "CREATE INDEX team_leader ON team (leader)",
    "CREATE INDEX team_institution ON team (institution)",
    "CREATE INDEX team_region ON team (event, region)",
    "CREATE INDEX team_country ON team (event, country)",
    "CREATE INDEX team_status ON team (event, status)",
    "CREATE INDEX team_member_team ON team_member (team)",
    'CREATE INDEX team_member_user ON team_member ("user")',
    "CREATE INDEX team_member_email ON team_member (email)",
    """
    CREATE UNIQUE INDEX team_member_seat ON team_member (track, "user")
    WHERE role IN ('leader', 'member') AND state IN ('invited', 'confirmed') AND "user" IS NOT NULL
    """,
    """
    CREATE UNIQUE INDEX team_member_person ON team_member (team, email)
    WHERE state IN ('invited', 'requested', 'confirmed')
    """,
    "CREATE INDEX team_event_team ON team_event (team)",
    "CREATE UNIQUE INDEX registration_rules_scope ON registration_rules (event, COALESCE(track, 0))",
    "CREATE INDEX past_winner_organization ON past_winner (organization, email)",
    "CREATE UNIQUE INDEX material_version ON material (team, stage, kind, version)",
    "CREATE UNIQUE INDEX reminder_sent_key ON reminder_sent (team, kind)",
)


async def forwards_sql() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    for sql in (*(t.format(serial=serial) for t in TABLES), *INDEXES):
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
