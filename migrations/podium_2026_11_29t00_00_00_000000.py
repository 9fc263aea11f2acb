"""Judging service (issue 10): a stage's judging set-up, rubric versions, panels and rooms, entries,
judges, declared conflicts, assignment runs and assignments, score sheets with their append-only
version log, ranking runs and results, appeals, advancement rules and recommendations, prize tiers,
awards, certificates and one-time tablet sign-ins.

- ``rubric_version``: one version number per stage.
- ``stage_entry_team`` / ``stage_entry_label``: a team once per stage; labels unique per stage.
- ``stage_judge_person``: a judge once per stage.
- ``assignment_active``: one active assignment per judge and entry.
- ``score_sheet_version_number`` and ``score_sheet_version_nonce``: one version number per sheet and
  one client nonce per judge, so a retried submission is answered with its first result.
- ``appeal_team``: one appeal per team per stage.
- ``recommendation_live``: one live (recommended or accepted) recommendation per team into a stage.
- ``award_team``: one prize per team per stage; ``prize_tier_code``: tier codes unique per stage.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-29T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "judging: set-up, rubrics, panels, entries, judges, assignment, sheets, results, appeals, advancement, awards"

TABLES = (
    """
    CREATE TABLE rubric (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        criteria JSON NOT NULL DEFAULT '[]',
        created_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        locked_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE panel (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        name VARCHAR(100) NOT NULL,
        room VARCHAR(100) NOT NULL DEFAULT '',
        position INTEGER NOT NULL DEFAULT 0,
        current_entry INTEGER,
        phase VARCHAR(20) NOT NULL DEFAULT 'idle',
        phase_started_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE stage_entry (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        track INTEGER NOT NULL REFERENCES track (id) ON DELETE RESTRICT,
        label VARCHAR(20) NOT NULL,
        panel INTEGER REFERENCES panel (id) ON DELETE SET NULL,
        position INTEGER NOT NULL DEFAULT 0,
        status VARCHAR(20) NOT NULL DEFAULT 'active',
        source VARCHAR(20) NOT NULL DEFAULT 'registration',
        rereview_requested_at TIMESTAMPTZ,
        rereview_reason VARCHAR(500) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE stage_judge (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        panel INTEGER REFERENCES panel (id) ON DELETE SET NULL,
        institution INTEGER REFERENCES institution (id) ON DELETE SET NULL,
        capacity INTEGER,
        added_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        added_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE judge_conflict (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        institution INTEGER REFERENCES institution (id) ON DELETE CASCADE,
        team INTEGER REFERENCES team (id) ON DELETE CASCADE,
        reason VARCHAR(500) NOT NULL DEFAULT '',
        declared_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE assignment_run (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        status VARCHAR(20) NOT NULL DEFAULT 'draft',
        per_entry INTEGER NOT NULL DEFAULT 5,
        seed INTEGER NOT NULL DEFAULT 0,
        report JSON NOT NULL DEFAULT '{{}}',
        created_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        published_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE assignment (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        stage_entry INTEGER NOT NULL REFERENCES stage_entry (id) ON DELETE CASCADE,
        judge INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        run INTEGER REFERENCES assignment_run (id) ON DELETE SET NULL,
        state VARCHAR(20) NOT NULL DEFAULT 'active',
        source VARCHAR(20) NOT NULL DEFAULT 'engine',
        recusal_reason VARCHAR(500) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        ended_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE score_sheet (
        id {serial},
        assignment INTEGER NOT NULL UNIQUE REFERENCES assignment (id) ON DELETE CASCADE,
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        stage_entry INTEGER NOT NULL REFERENCES stage_entry (id) ON DELETE CASCADE,
        judge INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        rubric INTEGER NOT NULL REFERENCES rubric (id) ON DELETE RESTRICT,
        version INTEGER NOT NULL DEFAULT 1,
        marks JSON NOT NULL DEFAULT '{{}}',
        total DOUBLE PRECISION NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        submitted_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE score_sheet_version (
        id {serial},
        sheet INTEGER NOT NULL REFERENCES score_sheet (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        marks JSON NOT NULL DEFAULT '{{}}',
        total DOUBLE PRECISION NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        reason VARCHAR(500) NOT NULL DEFAULT '',
        author INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        nonce VARCHAR(64) NOT NULL,
        client VARCHAR(64) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE ranking_run (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        status VARCHAR(20) NOT NULL DEFAULT 'queued',
        progress INTEGER NOT NULL DEFAULT 0,
        phase VARCHAR(100) NOT NULL DEFAULT '',
        method VARCHAR(40) NOT NULL DEFAULT '',
        diagnostics JSON NOT NULL DEFAULT '{{}}',
        notes JSON NOT NULL DEFAULT '[]',
        error TEXT NOT NULL DEFAULT '',
        requested_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        requested_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE stage_judging (
        id {serial},
        stage INTEGER NOT NULL UNIQUE REFERENCES stage (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        status VARCHAR(20) NOT NULL DEFAULT 'setup',
        method VARCHAR(20) NOT NULL DEFAULT 'auto',
        trim_high INTEGER NOT NULL DEFAULT 1,
        trim_low INTEGER NOT NULL DEFAULT 1,
        min_judges INTEGER NOT NULL DEFAULT 3,
        judges_per_entry INTEGER NOT NULL DEFAULT 5,
        anonymous BOOLEAN NOT NULL DEFAULT FALSE,
        live BOOLEAN NOT NULL DEFAULT FALSE,
        pitch_seconds INTEGER NOT NULL DEFAULT 480,
        questions_seconds INTEGER NOT NULL DEFAULT 420,
        round_places INTEGER NOT NULL DEFAULT 2,
        objection_working_days INTEGER NOT NULL DEFAULT 5,
        appeal_days INTEGER NOT NULL DEFAULT 5,
        appeal_answer_days INTEGER NOT NULL DEFAULT 10,
        assignment_published_at TIMESTAMPTZ,
        locked_at TIMESTAMPTZ,
        published_at TIMESTAMPTZ,
        objection_ends_at TIMESTAMPTZ,
        appeals_close_at TIMESTAMPTZ,
        published_run INTEGER REFERENCES ranking_run (id) ON DELETE SET NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE stage_result (
        id {serial},
        run INTEGER NOT NULL REFERENCES ranking_run (id) ON DELETE CASCADE,
        stage_entry INTEGER NOT NULL REFERENCES stage_entry (id) ON DELETE CASCADE,
        track INTEGER NOT NULL REFERENCES track (id) ON DELETE CASCADE,
        rank INTEGER NOT NULL DEFAULT 0,
        track_rank INTEGER NOT NULL DEFAULT 0,
        score DOUBLE PRECISION,
        se DOUBLE PRECISION,
        n_judges INTEGER NOT NULL DEFAULT 0,
        flag VARCHAR(40) NOT NULL DEFAULT '',
        details JSON NOT NULL DEFAULT '{{}}'
    )
    """,
    """
    CREATE TABLE appeal (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        filed_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        text TEXT NOT NULL,
        filed_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        answer_due_at TIMESTAMPTZ NOT NULL,
        status VARCHAR(20) NOT NULL DEFAULT 'open',
        answer TEXT NOT NULL DEFAULT '',
        answered_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        answered_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE advancement_rules (
        id {serial},
        from_stage INTEGER NOT NULL UNIQUE REFERENCES stage (id) ON DELETE CASCADE,
        to_stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        rules JSON NOT NULL DEFAULT '{{}}',
        updated_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE recommendation (
        id {serial},
        from_stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        to_stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        stage_entry INTEGER NOT NULL REFERENCES stage_entry (id) ON DELETE CASCADE,
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        state VARCHAR(20) NOT NULL DEFAULT 'recommended',
        recommended_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        decided_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        decided_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE prize_tier (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        code VARCHAR(40) NOT NULL,
        name_zh VARCHAR(200) NOT NULL DEFAULT '',
        name_en VARCHAR(200) NOT NULL DEFAULT '',
        name_ru VARCHAR(200) NOT NULL DEFAULT '',
        size INTEGER NOT NULL,
        position INTEGER NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE TABLE award (
        id {serial},
        stage INTEGER NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        tier INTEGER NOT NULL REFERENCES prize_tier (id) ON DELETE RESTRICT,
        rank INTEGER NOT NULL DEFAULT 0,
        awarded_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        awarded_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE certificate (
        id {serial},
        award INTEGER NOT NULL REFERENCES award (id) ON DELETE CASCADE,
        team INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
        "user" INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        holder_name VARCHAR(200) NOT NULL,
        holder_name_latin VARCHAR(200) NOT NULL DEFAULT '',
        role VARCHAR(20) NOT NULL DEFAULT 'member',
        serial VARCHAR(32) NOT NULL UNIQUE,
        issued_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        revoked_at TIMESTAMPTZ,
        revoke_reason VARCHAR(500) NOT NULL DEFAULT ''
    )
    """,
    """
    CREATE TABLE tablet_sign_in (
        id {serial},
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        created_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ
    )
    """,
)

INDEXES = (
    "CREATE UNIQUE INDEX rubric_version ON rubric (stage, version)",
    "CREATE INDEX panel_stage ON panel (stage)",
    "CREATE UNIQUE INDEX panel_name ON panel (stage, name)",
    "CREATE UNIQUE INDEX stage_entry_team ON stage_entry (stage, team)",
    "CREATE UNIQUE INDEX stage_entry_label ON stage_entry (stage, label)",
    "CREATE INDEX stage_entry_event ON stage_entry (event)",
    "CREATE INDEX stage_entry_team_idx ON stage_entry (team)",
    "CREATE INDEX stage_entry_panel ON stage_entry (panel)",
    'CREATE UNIQUE INDEX stage_judge_person ON stage_judge (stage, "user")',
    'CREATE INDEX stage_judge_user ON stage_judge ("user")',
    "CREATE INDEX judge_conflict_event ON judge_conflict (event)",
    'CREATE INDEX judge_conflict_user ON judge_conflict ("user")',
    "CREATE INDEX assignment_run_stage ON assignment_run (stage)",
    "CREATE INDEX assignment_stage_judge ON assignment (stage, judge)",
    "CREATE INDEX assignment_stage_entry ON assignment (stage_entry)",
    "CREATE UNIQUE INDEX assignment_active ON assignment (stage_entry, judge) WHERE state = 'active'",
    "CREATE INDEX score_sheet_stage ON score_sheet (stage)",
    "CREATE INDEX score_sheet_stage_entry ON score_sheet (stage_entry)",
    "CREATE UNIQUE INDEX score_sheet_version_number ON score_sheet_version (sheet, version)",
    "CREATE UNIQUE INDEX score_sheet_version_nonce ON score_sheet_version (author, nonce)",
    "CREATE INDEX ranking_run_stage ON ranking_run (stage)",
    "CREATE INDEX stage_judging_event ON stage_judging (event)",
    "CREATE UNIQUE INDEX stage_result_entry ON stage_result (run, stage_entry)",
    "CREATE INDEX stage_result_stage_entry ON stage_result (stage_entry)",
    "CREATE INDEX appeal_stage ON appeal (stage)",
    "CREATE UNIQUE INDEX appeal_team ON appeal (stage, team)",
    "CREATE INDEX recommendation_from_stage ON recommendation (from_stage)",
    """
    CREATE UNIQUE INDEX recommendation_live ON recommendation (to_stage, team)
    WHERE state IN ('recommended', 'accepted')
    """,
    "CREATE INDEX prize_tier_stage ON prize_tier (stage)",
    "CREATE UNIQUE INDEX prize_tier_code ON prize_tier (stage, code)",
    "CREATE INDEX award_stage ON award (stage)",
    "CREATE UNIQUE INDEX award_team ON award (stage, team)",
    "CREATE INDEX certificate_award ON certificate (award)",
    'CREATE INDEX tablet_sign_in_user ON tablet_sign_in ("user")',
)


async def forwards_sql() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    for sql in (*(t.format(serial=serial) for t in TABLES), *INDEXES):
        await engine.run_ddl(sql)
    if postgres:  # a panel and its entries point at each other; SQLite cannot add the key afterwards
        await engine.run_ddl(
            "ALTER TABLE panel ADD CONSTRAINT panel_current_entry_fkey FOREIGN KEY (current_entry) "
            "REFERENCES stage_entry (id) ON DELETE SET NULL"
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
