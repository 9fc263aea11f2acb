"""Tickets and check-in (issue 11): ticket types, the events' signing keys, tickets and their revoked
codes, badge runs, check-in lists, scanning devices and their lists, and the append-only check-in log.

- ``ticket_type_number``: one type number per event (codes carry it).
- ``ticket_signing_key_id``: one key id per event (codes carry it).
- ``ticket_live_holder``: one valid ticket per account and ticket type, so issuing twice at once
  (a role granted while the organizer issues in bulk) makes one.
- ``checkin_list_name``: list names unique per event.
- ``checkin_device_list_pair``: a device once per list.
- ``checkin_admission``: one admitted entry per ticket, list and slot: exactly-once admission.
- ``checkin_nonce``: one scan per client and nonce: a retried scan finds its first answer.

On PostgreSQL, a device's token digest is sent on ``podium_auth`` whenever the device is revoked,
moved or deleted or its lists change, so every web process drops it from its token cache (as for API
tokens, migration 2026-11-28T17:00:00).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-29T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticketing: ticket types, signing keys, tickets, badges, check-in lists, devices, check-in log"

TABLES = (
    """
    CREATE TABLE ticket_type (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 65535),
        kind VARCHAR(20) NOT NULL,
        name_zh VARCHAR(100) NOT NULL DEFAULT '',
        name_en VARCHAR(100) NOT NULL DEFAULT '',
        name_ru VARCHAR(100) NOT NULL DEFAULT '',
        colour VARCHAR(7) NOT NULL DEFAULT '#1f6feb',
        auto_issue BOOLEAN NOT NULL DEFAULT FALSE,
        valid_from DATE,
        valid_until DATE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE ticket_signing_key (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        key_id INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 15),
        public_key VARCHAR(64) NOT NULL,
        private_key TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        retired_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE ticket (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        ticket_type INTEGER NOT NULL REFERENCES ticket_type (id) ON DELETE RESTRICT,
        serial VARCHAR(24) NOT NULL UNIQUE,
        code VARCHAR(200) NOT NULL,
        key_id INTEGER NOT NULL,
        holder INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        holder_name VARCHAR(200) NOT NULL DEFAULT '',
        holder_latin VARCHAR(200) NOT NULL DEFAULT '',
        holder_email VARCHAR(255) NOT NULL DEFAULT '',
        institution VARCHAR(300) NOT NULL DEFAULT '',
        team INTEGER REFERENCES team (id) ON DELETE SET NULL,
        source VARCHAR(20) NOT NULL DEFAULT 'organizer',
        status VARCHAR(20) NOT NULL DEFAULT 'valid',
        valid_from DATE NOT NULL,
        valid_until DATE NOT NULL,
        flags INTEGER NOT NULL DEFAULT 0,
        issued_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        issued_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        revoked_at TIMESTAMPTZ,
        CHECK (valid_from <= valid_until)
    )
    """,
    """
    CREATE TABLE ticket_revoked_code (
        id {serial},
        ticket INTEGER NOT NULL REFERENCES ticket (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        serial VARCHAR(24) NOT NULL UNIQUE,
        reason VARCHAR(20) NOT NULL,
        revoked_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
    )
    """,
    """
    CREATE TABLE badge_run (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        format VARCHAR(10) NOT NULL,
        status VARCHAR(20) NOT NULL DEFAULT 'queued',
        total INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        error VARCHAR(500) NOT NULL DEFAULT '',
        requested_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        finished_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE checkin_list (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        name VARCHAR(100) NOT NULL,
        kind VARCHAR(20) NOT NULL DEFAULT 'gate',
        session INTEGER REFERENCES event_session (id) ON DELETE SET NULL,
        rules JSON NOT NULL DEFAULT '{{}}',
        inside INTEGER NOT NULL DEFAULT 0,
        position INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        archived_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE checkin_device (
        id {serial},
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        name VARCHAR(100) NOT NULL,
        gate VARCHAR(100) NOT NULL DEFAULT '',
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        created_by INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        last_seen_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE checkin_device_list (
        id {serial},
        device INTEGER NOT NULL REFERENCES checkin_device (id) ON DELETE CASCADE,
        checkin_list INTEGER NOT NULL REFERENCES checkin_list (id) ON DELETE CASCADE
    )
    """,
    """
    CREATE TABLE checkin (
        id {serial},
        checkin_list INTEGER NOT NULL REFERENCES checkin_list (id) ON DELETE CASCADE,
        event INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        ticket INTEGER REFERENCES ticket (id) ON DELETE CASCADE,
        direction VARCHAR(10) NOT NULL DEFAULT 'entry',
        status VARCHAR(10) NOT NULL,
        reason VARCHAR(30),
        slot INTEGER,
        actor VARCHAR(20) NOT NULL,
        nonce VARCHAR(64) NOT NULL,
        device INTEGER REFERENCES checkin_device (id) ON DELETE SET NULL,
        staff INTEGER REFERENCES podium_user (id) ON DELETE SET NULL,
        gate VARCHAR(100) NOT NULL DEFAULT '',
        scanned_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        received_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
        offline BOOLEAN NOT NULL DEFAULT FALSE,
        offline_verdict VARCHAR(10),
        conflict BOOLEAN NOT NULL DEFAULT FALSE,
        code VARCHAR(1000) NOT NULL DEFAULT '',
        CHECK (status IN ('admitted', 'rejected')),
        CHECK ((status = 'admitted') = (reason IS NULL))
    )
    """,
)

INDEXES = (
    "CREATE INDEX ticket_type_event ON ticket_type (event)",
    "CREATE UNIQUE INDEX ticket_type_number ON ticket_type (event, number)",
    "CREATE INDEX ticket_signing_key_event ON ticket_signing_key (event)",
    "CREATE UNIQUE INDEX ticket_signing_key_id ON ticket_signing_key (event, key_id)",
    "CREATE INDEX ticket_event ON ticket (event)",
    "CREATE INDEX ticket_ticket_type ON ticket (ticket_type)",
    "CREATE INDEX ticket_holder ON ticket (holder)",
    """
    CREATE UNIQUE INDEX ticket_live_holder ON ticket (ticket_type, holder)
    WHERE status = 'valid' AND holder IS NOT NULL
    """,
    "CREATE INDEX ticket_revoked_code_ticket ON ticket_revoked_code (ticket)",
    "CREATE INDEX ticket_revoked_code_event ON ticket_revoked_code (event)",
    "CREATE INDEX badge_run_event ON badge_run (event)",
    "CREATE INDEX checkin_list_event ON checkin_list (event)",
    "CREATE UNIQUE INDEX checkin_list_name ON checkin_list (event, name)",
    "CREATE INDEX checkin_device_event ON checkin_device (event)",
    "CREATE UNIQUE INDEX checkin_device_list_pair ON checkin_device_list (device, checkin_list)",
    "CREATE INDEX checkin_device_list_list ON checkin_device_list (checkin_list)",
    "CREATE INDEX checkin_event ON checkin (event)",
    "CREATE INDEX checkin_list_received ON checkin (checkin_list, received_at)",
    "CREATE INDEX checkin_ticket_list ON checkin (ticket, checkin_list)",
    """
    CREATE UNIQUE INDEX checkin_admission ON checkin (checkin_list, ticket, slot)
    WHERE status = 'admitted' AND direction = 'entry'
    """,
    "CREATE UNIQUE INDEX checkin_nonce ON checkin (actor, nonce)",
)

POSTGRES = (
    """
    CREATE OR REPLACE FUNCTION podium_auth_device_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('podium_auth', OLD.token_hash);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER podium_auth_device_changed AFTER UPDATE OF revoked_at, event, gate, name, token_hash
    ON checkin_device FOR EACH ROW WHEN (
        OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.event IS DISTINCT FROM NEW.event
        OR OLD.gate IS DISTINCT FROM NEW.gate OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
    ) EXECUTE FUNCTION podium_auth_device_changed()
    """,
    """
    CREATE TRIGGER podium_auth_device_deleted AFTER DELETE ON checkin_device
    FOR EACH ROW EXECUTE FUNCTION podium_auth_device_changed()
    """,
    """
    CREATE OR REPLACE FUNCTION podium_auth_device_lists_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed RECORD;
    BEGIN
        IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
        PERFORM pg_notify('podium_auth', d.token_hash) FROM checkin_device d WHERE d.id = changed.device;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER podium_auth_device_lists_changed AFTER INSERT OR UPDATE OR DELETE ON checkin_device_list
    FOR EACH ROW EXECUTE FUNCTION podium_auth_device_lists_changed()
    """,
)


async def forwards_sql() -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    for sql in (*(t.format(serial=serial) for t in TABLES), *INDEXES, *(POSTGRES if postgres else ())):
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
