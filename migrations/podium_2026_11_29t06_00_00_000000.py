"""The incubator (issue 12): programmes, their roles and cohorts, startups and founders, mentors and
who they mentor, office hours and bookings, meetings with private notes apart, action items,
milestones, support promised and delivered, evidence, report schedules, periods, custom metrics,
reports and their versions, and the reminders sent.

Constraints (see ``incubator.tables``):

- ``incubation_startup_team_once``: a team is admitted once per programme;
- ``incubation_founder_pair``, ``incubation_mentor_pair``, ``incubation_mentor_link_pair``,
  ``incubation_mentor_cohort_pair``, ``incubation_programme_role_pair``: each once;
- ``incubation_booking_live``: one live booking per office-hour slot;
- ``used_minutes <= budget_minutes``: a mentor's hours with a startup are never overdrawn;
- ``incubation_report_once`` and ``incubation_report_version_number``: one report per period and
  startup, versions numbered once each;
- ``incubation_reminder_once``: each reminder sent once.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-29T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "incubator: programmes, cohorts, startups, mentors, meetings, milestones, support, reports"

_USER = "INTEGER REFERENCES podium_user (id) ON DELETE SET NULL"
_NOW = "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP"

TABLES = (
    f"""
    CREATE TABLE incubation_programme (
        id {{serial}},
        organization INTEGER NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        slug VARCHAR(80) NOT NULL UNIQUE,
        name_zh VARCHAR(200) NOT NULL DEFAULT '',
        name_en VARCHAR(200) NOT NULL DEFAULT '',
        name_ru VARCHAR(200) NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        currency VARCHAR(3) NOT NULL DEFAULT 'CNY',
        cancellation_hours INTEGER NOT NULL DEFAULT 24 CHECK (cancellation_hours BETWEEN 0 AND 720),
        stalled_weeks INTEGER NOT NULL DEFAULT 12 CHECK (stalled_weeks BETWEEN 1 AND 104),
        created_by {_USER},
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_programme_role (
        id {{serial}},
        programme INTEGER NOT NULL REFERENCES incubation_programme (id) ON DELETE CASCADE,
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        role VARCHAR(20) NOT NULL CHECK (role IN ('manager', 'viewer')),
        granted_by {_USER},
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_cohort (
        id {{serial}},
        programme INTEGER NOT NULL REFERENCES incubation_programme (id) ON DELETE CASCADE,
        name VARCHAR(100) NOT NULL,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        mode VARCHAR(10) NOT NULL DEFAULT 'hybrid' CHECK (mode IN ('online', 'offline', 'hybrid')),
        places INTEGER NOT NULL DEFAULT 40 CHECK (places BETWEEN 1 AND 100000),
        created_at {_NOW},
        CHECK (starts_on <= ends_on)
    )
    """,
    f"""
    CREATE TABLE incubation_startup (
        id {{serial}},
        programme INTEGER NOT NULL REFERENCES incubation_programme (id) ON DELETE CASCADE,
        cohort INTEGER NOT NULL REFERENCES incubation_cohort (id) ON DELETE RESTRICT,
        team INTEGER REFERENCES team (id) ON DELETE SET NULL,
        source_event INTEGER REFERENCES event (id) ON DELETE SET NULL,
        prize VARCHAR(200) NOT NULL DEFAULT '',
        admitted_via VARCHAR(20) NOT NULL DEFAULT 'direct'
            CHECK (admitted_via IN ('results', 'hand_picked', 'direct')),
        name VARCHAR(200) NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        sector VARCHAR(100) NOT NULL DEFAULT '',
        website VARCHAR(300) NOT NULL DEFAULT '',
        status VARCHAR(20) NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'graduated', 'closed', 'withdrawn')),
        closed_on DATE,
        mentors_see_operations BOOLEAN NOT NULL DEFAULT TRUE,
        mentors_see_financials BOOLEAN NOT NULL DEFAULT FALSE,
        admitted_by {_USER},
        admitted_at {_NOW},
        updated_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_founder (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        role VARCHAR(20) NOT NULL DEFAULT 'founder' CHECK (role IN ('lead', 'founder')),
        title VARCHAR(100) NOT NULL DEFAULT '',
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_mentor (
        id {{serial}},
        programme INTEGER NOT NULL REFERENCES incubation_programme (id) ON DELETE CASCADE,
        "user" INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        headline VARCHAR(200) NOT NULL DEFAULT '',
        bio TEXT NOT NULL DEFAULT '',
        expertise JSON NOT NULL DEFAULT '[]',
        languages VARCHAR(50) NOT NULL DEFAULT '',
        availability VARCHAR(500) NOT NULL DEFAULT '',
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_mentor_cohort (
        id {{serial}},
        mentor INTEGER NOT NULL REFERENCES incubation_mentor (id) ON DELETE CASCADE,
        cohort INTEGER NOT NULL REFERENCES incubation_cohort (id) ON DELETE CASCADE,
        minutes_per_startup INTEGER NOT NULL DEFAULT 600 CHECK (minutes_per_startup BETWEEN 0 AND 60000),
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_mentor_link (
        id {{serial}},
        mentor INTEGER NOT NULL REFERENCES incubation_mentor (id) ON DELETE CASCADE,
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        via_cohort INTEGER REFERENCES incubation_mentor_cohort (id) ON DELETE CASCADE,
        budget_minutes INTEGER NOT NULL DEFAULT 600 CHECK (budget_minutes BETWEEN 0 AND 60000),
        used_minutes INTEGER NOT NULL DEFAULT 0 CHECK (used_minutes >= 0),
        created_at {_NOW},
        CHECK (used_minutes <= budget_minutes)
    )
    """,
    f"""
    CREATE TABLE incubation_office_hour (
        id {{serial}},
        mentor INTEGER NOT NULL REFERENCES incubation_mentor (id) ON DELETE CASCADE,
        starts_at TIMESTAMPTZ NOT NULL,
        ends_at TIMESTAMPTZ NOT NULL,
        place VARCHAR(300) NOT NULL DEFAULT '',
        created_at {_NOW},
        cancelled_at TIMESTAMPTZ,
        CHECK (starts_at < ends_at)
    )
    """,
    f"""
    CREATE TABLE incubation_booking (
        id {{serial}},
        slot INTEGER NOT NULL REFERENCES incubation_office_hour (id) ON DELETE CASCADE,
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        booked_by {_USER},
        topic VARCHAR(300) NOT NULL DEFAULT '',
        status VARCHAR(20) NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
        created_at {_NOW},
        cancelled_at TIMESTAMPTZ,
        cancelled_by {_USER}
    )
    """,
    f"""
    CREATE TABLE incubation_meeting (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        mentor INTEGER NOT NULL REFERENCES incubation_mentor (id) ON DELETE CASCADE,
        booking INTEGER REFERENCES incubation_booking (id) ON DELETE SET NULL,
        held_at TIMESTAMPTZ NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
        topics JSON NOT NULL DEFAULT '[]',
        attendees JSON NOT NULL DEFAULT '[]',
        shared_notes TEXT NOT NULL DEFAULT '',
        created_by {_USER},
        created_at {_NOW},
        updated_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_private_note (
        id {{serial}},
        meeting INTEGER NOT NULL UNIQUE REFERENCES incubation_meeting (id) ON DELETE CASCADE,
        author INTEGER NOT NULL REFERENCES podium_user (id) ON DELETE CASCADE,
        body TEXT NOT NULL DEFAULT '',
        updated_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_action_item (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        meeting INTEGER REFERENCES incubation_meeting (id) ON DELETE SET NULL,
        mentor INTEGER REFERENCES incubation_mentor (id) ON DELETE SET NULL,
        title VARCHAR(300) NOT NULL,
        side VARCHAR(10) NOT NULL CHECK (side IN ('founders', 'mentor')),
        owner {_USER},
        due_on DATE,
        done_at TIMESTAMPTZ,
        done_by {_USER},
        created_by {_USER},
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_milestone (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        title VARCHAR(300) NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        due_on DATE NOT NULL,
        state VARCHAR(20) NOT NULL DEFAULT 'planned'
            CHECK (state IN ('planned', 'in_progress', 'achieved', 'dropped')),
        achieved_on DATE,
        created_by {_USER},
        created_at {_NOW},
        updated_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_support_promise (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        kind VARCHAR(20) NOT NULL CHECK (kind IN
            ('office_space', 'cloud_credits', 'training_hours', 'introductions', 'funding', 'other')),
        description VARCHAR(500) NOT NULL DEFAULT '',
        quantity NUMERIC(14, 2) NOT NULL CHECK (quantity > 0),
        unit VARCHAR(30) NOT NULL DEFAULT '',
        due_on DATE,
        promised_by {_USER},
        created_at {_NOW},
        withdrawn_at TIMESTAMPTZ
    )
    """,
    f"""
    CREATE TABLE incubation_support_delivery (
        id {{serial}},
        promise INTEGER NOT NULL REFERENCES incubation_support_promise (id) ON DELETE CASCADE,
        quantity NUMERIC(14, 2) NOT NULL CHECK (quantity > 0),
        delivered_on DATE NOT NULL,
        note VARCHAR(1000) NOT NULL DEFAULT '',
        recorded_by {_USER},
        created_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_evidence (
        id {{serial}},
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        milestone INTEGER REFERENCES incubation_milestone (id) ON DELETE CASCADE,
        delivery INTEGER REFERENCES incubation_support_delivery (id) ON DELETE CASCADE,
        kind VARCHAR(10) NOT NULL CHECK (kind IN ('link', 'file')),
        url VARCHAR(1000) NOT NULL DEFAULT '',
        storage_key VARCHAR(200) NOT NULL DEFAULT '',
        filename VARCHAR(255) NOT NULL DEFAULT '',
        content_type VARCHAR(100) NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        added_by {_USER},
        created_at {_NOW},
        CHECK ((milestone IS NULL) <> (delivery IS NULL))
    )
    """,
    f"""
    CREATE TABLE incubation_report_schedule (
        id {{serial}},
        cohort INTEGER NOT NULL UNIQUE REFERENCES incubation_cohort (id) ON DELETE CASCADE,
        frequency VARCHAR(10) NOT NULL DEFAULT 'monthly'
            CHECK (frequency IN ('monthly', 'quarterly', 'yearly', 'adhoc')),
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        due_days INTEGER NOT NULL DEFAULT 10 CHECK (due_days BETWEEN 0 AND 365),
        adhoc_dates JSON NOT NULL DEFAULT '[]',
        reminder_days JSON NOT NULL DEFAULT '[-7, -1, 3, 10]',
        updated_at {_NOW},
        CHECK (starts_on <= ends_on)
    )
    """,
    """
    CREATE TABLE incubation_report_period (
        id {serial},
        cohort INTEGER NOT NULL REFERENCES incubation_cohort (id) ON DELETE CASCADE,
        label VARCHAR(20) NOT NULL,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        due_on DATE NOT NULL,
        CHECK (starts_on <= ends_on)
    )
    """,
    """
    CREATE TABLE incubation_custom_metric (
        id {serial},
        programme INTEGER NOT NULL REFERENCES incubation_programme (id) ON DELETE CASCADE,
        key VARCHAR(40) NOT NULL,
        name_zh VARCHAR(200) NOT NULL DEFAULT '',
        name_en VARCHAR(200) NOT NULL DEFAULT '',
        name_ru VARCHAR(200) NOT NULL DEFAULT '',
        unit VARCHAR(30) NOT NULL DEFAULT '',
        financial BOOLEAN NOT NULL DEFAULT FALSE,
        question VARCHAR(40),
        position INTEGER NOT NULL DEFAULT 0,
        archived_at TIMESTAMPTZ
    )
    """,
    f"""
    CREATE TABLE incubation_report (
        id {{serial}},
        period INTEGER NOT NULL REFERENCES incubation_report_period (id) ON DELETE CASCADE,
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
        answers JSON NOT NULL DEFAULT '{{}}',
        revenue NUMERIC(16, 2) CHECK (revenue >= 0),
        recurring_revenue NUMERIC(16, 2) CHECK (recurring_revenue >= 0),
        cross_border_gmv NUMERIC(16, 2) CHECK (cross_border_gmv >= 0),
        funding_raised NUMERIC(16, 2) CHECK (funding_raised >= 0),
        headcount INTEGER CHECK (headcount >= 0),
        jobs_created INTEGER CHECK (jobs_created >= 0),
        graduate_jobs INTEGER CHECK (graduate_jobs >= 0),
        customers INTEGER CHECK (customers >= 0),
        patents INTEGER CHECK (patents >= 0),
        custom JSON NOT NULL DEFAULT '{{}}',
        first_submitted_at {_NOW},
        submitted_at {_NOW},
        submitted_by {_USER},
        CHECK (graduate_jobs IS NULL OR jobs_created IS NULL OR graduate_jobs <= jobs_created)
    )
    """,
    f"""
    CREATE TABLE incubation_report_version (
        id {{serial}},
        report INTEGER NOT NULL REFERENCES incubation_report (id) ON DELETE CASCADE,
        version INTEGER NOT NULL CHECK (version >= 1),
        answers JSON NOT NULL DEFAULT '{{}}',
        "values" JSON NOT NULL DEFAULT '{{}}',
        submitted_by {_USER},
        submitted_at {_NOW}
    )
    """,
    f"""
    CREATE TABLE incubation_reminder_sent (
        id {{serial}},
        period INTEGER NOT NULL REFERENCES incubation_report_period (id) ON DELETE CASCADE,
        startup INTEGER NOT NULL REFERENCES incubation_startup (id) ON DELETE CASCADE,
        days INTEGER NOT NULL,
        sent_at {_NOW}
    )
    """,
)

INDEXES = (
    "CREATE INDEX incubation_programme_organization ON incubation_programme (organization)",
    "CREATE INDEX incubation_programme_role_programme ON incubation_programme_role (programme)",
    'CREATE INDEX incubation_programme_role_user ON incubation_programme_role ("user")',
    'CREATE UNIQUE INDEX incubation_programme_role_pair ON incubation_programme_role (programme, "user", role)',
    "CREATE INDEX incubation_cohort_programme ON incubation_cohort (programme)",
    "CREATE UNIQUE INDEX incubation_cohort_name ON incubation_cohort (programme, name)",
    "CREATE INDEX incubation_startup_programme ON incubation_startup (programme)",
    "CREATE INDEX incubation_startup_cohort ON incubation_startup (cohort)",
    "CREATE INDEX incubation_startup_team ON incubation_startup (team)",
    "CREATE INDEX incubation_startup_status ON incubation_startup (status)",
    """
    CREATE UNIQUE INDEX incubation_startup_team_once ON incubation_startup (programme, team)
    WHERE team IS NOT NULL
    """,
    "CREATE INDEX incubation_founder_startup ON incubation_founder (startup)",
    'CREATE INDEX incubation_founder_user ON incubation_founder ("user")',
    'CREATE UNIQUE INDEX incubation_founder_pair ON incubation_founder (startup, "user")',
    "CREATE INDEX incubation_mentor_programme ON incubation_mentor (programme)",
    'CREATE INDEX incubation_mentor_user ON incubation_mentor ("user")',
    'CREATE UNIQUE INDEX incubation_mentor_pair ON incubation_mentor (programme, "user")',
    "CREATE INDEX incubation_mentor_cohort_mentor ON incubation_mentor_cohort (mentor)",
    "CREATE INDEX incubation_mentor_cohort_cohort ON incubation_mentor_cohort (cohort)",
    "CREATE UNIQUE INDEX incubation_mentor_cohort_pair ON incubation_mentor_cohort (mentor, cohort)",
    "CREATE INDEX incubation_mentor_link_mentor ON incubation_mentor_link (mentor)",
    "CREATE INDEX incubation_mentor_link_startup ON incubation_mentor_link (startup)",
    "CREATE UNIQUE INDEX incubation_mentor_link_pair ON incubation_mentor_link (mentor, startup)",
    "CREATE INDEX incubation_office_hour_mentor ON incubation_office_hour (mentor, starts_at)",
    "CREATE INDEX incubation_booking_slot ON incubation_booking (slot)",
    "CREATE INDEX incubation_booking_startup ON incubation_booking (startup)",
    "CREATE UNIQUE INDEX incubation_booking_live ON incubation_booking (slot) WHERE status = 'booked'",
    "CREATE INDEX incubation_meeting_startup ON incubation_meeting (startup, held_at)",
    "CREATE INDEX incubation_meeting_mentor ON incubation_meeting (mentor)",
    "CREATE UNIQUE INDEX incubation_meeting_booking ON incubation_meeting (booking) WHERE booking IS NOT NULL",
    "CREATE INDEX incubation_action_item_startup ON incubation_action_item (startup)",
    "CREATE INDEX incubation_action_item_meeting ON incubation_action_item (meeting)",
    "CREATE INDEX incubation_milestone_startup ON incubation_milestone (startup)",
    "CREATE INDEX incubation_support_promise_startup ON incubation_support_promise (startup)",
    "CREATE INDEX incubation_support_delivery_promise ON incubation_support_delivery (promise)",
    "CREATE INDEX incubation_evidence_startup ON incubation_evidence (startup)",
    "CREATE INDEX incubation_evidence_milestone ON incubation_evidence (milestone)",
    "CREATE INDEX incubation_evidence_delivery ON incubation_evidence (delivery)",
    "CREATE INDEX incubation_report_period_cohort ON incubation_report_period (cohort)",
    "CREATE INDEX incubation_report_period_due_on ON incubation_report_period (due_on)",
    "CREATE UNIQUE INDEX incubation_report_period_once ON incubation_report_period (cohort, starts_on)",
    "CREATE INDEX incubation_custom_metric_programme ON incubation_custom_metric (programme)",
    "CREATE UNIQUE INDEX incubation_custom_metric_key ON incubation_custom_metric (programme, key)",
    "CREATE INDEX incubation_report_period_idx ON incubation_report (period)",
    "CREATE INDEX incubation_report_startup ON incubation_report (startup)",
    "CREATE UNIQUE INDEX incubation_report_once ON incubation_report (startup, period)",
    "CREATE INDEX incubation_report_version_report ON incubation_report_version (report)",
    "CREATE UNIQUE INDEX incubation_report_version_number ON incubation_report_version (report, version)",
    "CREATE INDEX incubation_reminder_sent_period ON incubation_reminder_sent (period)",
    "CREATE INDEX incubation_reminder_sent_startup ON incubation_reminder_sent (startup)",
    "CREATE UNIQUE INDEX incubation_reminder_once ON incubation_reminder_sent (period, startup, days)",
)


async def forwards_sql() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    for sql in (*(t.replace("{serial}", serial) for t in TABLES), *INDEXES):
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
