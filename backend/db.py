"""Database engine selection, transactions and pool lifetime."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from backend.errors import Conflict
from backend.settings import Settings

logger = logging.getLogger("podium.db")


def engine_for(settings: Settings) -> Engine:
    """PostgreSQL when the URL says so, otherwise an SQLite file (created with its folder)."""
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=30)


_engine: Engine | None = None


def use(settings: Settings, tables: Iterable[type[Table]]) -> Engine:
    """Build the engine for ``settings`` and bind ``tables`` to it: what ``create_app``, the worker
    and the commands do once at start-up, so each owns its database instead of a global config."""
    global _engine
    _engine = engine_for(settings)
    for table in tables:
        table._meta.db = _engine
    return _engine


async def fetch_one(sql: str, *args: Any) -> dict[str, Any] | None:
    """One row of a hand-written query (``{}`` placeholders, the same SQL on both engines), for the
    hot paths run on every request, where the ORM's query building is most of the cost."""
    rows = await engine().run_querystring(QueryString(sql, *args))
    return rows[0] if rows else None


async def fetch_all(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Every row of a hand-written query (``{}`` placeholders, as :func:`fetch_one`), for reads the
    ORM cannot say or says slowly (joins, aggregates, window functions)."""
    return await engine().run_querystring(QueryString(sql, *args))


def engine() -> Engine:
    """The engine in use: the one :func:`use` bound, else Piccolo's configuration (its own tools)."""
    db = _engine or engine_finder()
    assert db is not None, "call backend.db.use(settings, tables) first, or set PICCOLO_CONF"
    return db


AfterCommit = Callable[[], Awaitable[None]]
_after_commit: contextvars.ContextVar[list[AfterCommit] | None] = contextvars.ContextVar(
    "podium_after_commit", default=None
)


@asynccontextmanager
async def transaction():
    """A write transaction that is safe under concurrency on both engines; yields Piccolo's.

    On SQLite a DEFERRED transaction fails at once with "database is locked" when two writers
    upgrade their locks; IMMEDIATE takes the write lock up front and makes writers queue instead.
    Nested inside another it joins the outer one (Piccolo treats it as a no-op), and the
    :func:`on_commit` callbacks of all of them run once the outermost one has committed.
    A write that breaks a unique or foreign key constraint rolls back and raises the 409 of
    :data:`UNIQUE_CONSTRAINTS` (see :func:`_constraint_errors`).
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        tx = db.transaction(transaction_type=TransactionType.immediate)
    else:
        tx = db.transaction()
    if db.current_transaction.get() is not None:
        async with _constraint_errors(), tx as joined:
            yield joined
        return
    callbacks: list[AfterCommit] = []
    token = _after_commit.set(callbacks)
    try:
        async with _constraint_errors(), tx as current:
            yield current
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            # The data is committed: the caller's write succeeded and must not look failed.
            logger.exception("after-commit callback %r failed", callback)


def on_commit(callback: AfterCommit) -> None:
    """Run ``await callback()`` after the current outermost :func:`transaction` commits.

    It is dropped when the transaction rolls back. It runs outside any transaction, in
    registration order; an exception is logged, not raised (the data is already committed), so
    work that must not be lost belongs in the transaction and the callback only speeds it up.
    """
    callbacks = _after_commit.get()
    if callbacks is None:
        raise RuntimeError("on_commit() needs an open backend.db.transaction()")
    callbacks.append(callback)


async def locked_row(table: type[Table], row_id: Any, *, by: Column | None = None) -> dict[str, Any] | None:
    """Read a row (by its primary key, or by the unique column ``by``) and keep concurrent writers
    of it waiting until the transaction ends.

    Take it before a check that spans rows (an event's tracks, its stage positions, its status),
    so the check still holds at commit. PostgreSQL: ``SELECT ... FOR NO KEY UPDATE``, the lock an
    UPDATE of the row takes (lockers queue behind each other and behind such UPDATEs, while inserts
    that merely reference the row go on). SQLite: a plain read, as the IMMEDIATE transaction
    already holds the database's only write lock.
    """
    db = engine()
    if db.current_transaction.get() is None:
        raise RuntimeError("locked_row() needs an open backend.db.transaction()")
    query = table.select().where((table._meta.primary_key if by is None else by) == row_id)
    if isinstance(db, PostgresEngine):
        query = query.lock_rows("NO KEY UPDATE")
    return await query.first()


# Constraint violations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """The answer to a write that breaks a unique constraint: ``code``, ``detail`` and the field."""

    code: str
    detail: str
    field: str | None = None

    def conflict(self) -> Conflict:
        return Conflict(self.code, self.detail, fields={self.field: "taken"} if self.field else None)


_EMAIL_TAKEN = Taken("email_taken", "An account with this e-mail exists", "email")

# Unique constraints and indexes by their PostgreSQL name (the migrations name them), each with
# the answer a client gets, whichever write runs into it.
UNIQUE_CONSTRAINTS: dict[str, Taken] = {
    "event_slug_key": Taken("slug_taken", "Another event uses this slug", "slug"),
    "organization_slug_key": Taken("organization_slug_taken", "Another organization uses this slug", "slug"),
    "podium_user_email_key": _EMAIL_TAKEN,
    "podium_user_username_key": _EMAIL_TAKEN,  # the username is the e-mail
    "track_event_code": Taken("track_code_taken", "The event has a track with this code", "code"),
    "role_grant_scope": Taken("role_exists", "The user already holds this role with this scope"),
    "material_version": Taken(
        "material_version_taken", "Another upload took this version at the same moment; retry"
    ),
    "team_member_seat": Taken("already_in_track", "You are already in a team in this track"),
    "team_member_person": Taken(
        "already_in_team", "This address already has a seat, an invitation or a request in this team", "email"
    ),
    # judging: the services check these under the stage's lock; the indexes are the backstop
    "assignment_active": Taken("assignment_exists", "The judge is already assigned to this entry", "judge"),
    "panel_name": Taken("panel_name_taken", "The stage has a room with this name", "name"),
    "stage_judge_person": Taken("judge_exists", "This person is already a judge of the stage"),
    "appeal_team": Taken("appeal_exists", "The team has already appealed against this stage's ranking"),
    # ticketing.tickets: bulk issues insert ON CONFLICT DO NOTHING; single writes meet these
    "ticket_type_number": Taken(
        "ticket_type_number_taken", "The event has a ticket type with this number", "number"
    ),
    "ticket_live_holder": Taken("ticket_held", "The holder already has a valid ticket of this type"),
    "ticket_live_guest": Taken("ticket_held", "The holder already has a valid ticket of this type", "email"),
    # ticketing.lists: the service checks names first; the index is the backstop
    "checkin_list_name": Taken("list_name_taken", "The event has a check-in list with this name", "name"),
    # incubator: the services check first where they can; the indexes hold under races
    "incubation_programme_slug_key": Taken(
        "programme_slug_taken", "Another programme uses this slug", "slug"
    ),
    "incubation_programme_role_pair": Taken("programme_role_exists", "The person already holds this role"),
    "incubation_cohort_name": Taken("cohort_name_taken", "The programme has a cohort with this name", "name"),
    "incubation_startup_team_once": Taken("team_admitted", "The team is already a startup of this programme"),
    "incubation_founder_pair": Taken("founder_exists", "The person is already a founder of this startup"),
    "incubation_mentor_pair": Taken(
        "mentor_exists", "The person is already in the programme's mentor directory"
    ),
    "incubation_mentor_cohort_pair": Taken(
        "mentor_connected", "The mentor is already connected to this cohort"
    ),
    "incubation_mentor_link_pair": Taken(
        "mentor_connected", "The mentor is already connected to this startup"
    ),
    "incubation_booking_live": Taken("slot_taken", "Someone else booked this slot first"),
    "incubation_meeting_booking": Taken(
        "meeting_logged", "The meeting of this booking is already logged", "booking"
    ),
    "incubation_report_schedule_cohort_key": Taken(
        "schedule_exists", "The cohort already has a report schedule"
    ),
    "incubation_report_period_once": Taken(
        "period_exists", "The cohort already reports on a period starting then"
    ),
    "incubation_custom_metric_key": Taken(
        "metric_key_taken", "The programme has a metric with this key", "key"
    ),
    "incubation_report_once": Taken(
        "report_exists", "This period's report exists: submit a new version of it"
    ),
    "incubation_report_version_number": Taken(
        "report_version_taken", "Another submission of this report came first; reload and submit again"
    ),
    "incubation_private_note_meeting_key": Taken(
        "private_note_exists", "The meeting already has private notes"
    ),
}
# SQLite names the columns of a column index, not the index: "table.a, table.b" → the name.
_SQLITE_COLUMNS = {
    "event.slug": "event_slug_key",
    "organization.slug": "organization_slug_key",
    "podium_user.email": "podium_user_email_key",
    "podium_user.username": "podium_user_username_key",
    "track.event, track.code": "track_event_code",
    "material.team, material.stage, material.kind, material.version": "material_version",
    "team_member.track, team_member.user": "team_member_seat",
    "team_member.team, team_member.email": "team_member_person",
    "assignment.stage_entry, assignment.judge": "assignment_active",
    "panel.stage, panel.name": "panel_name",
    'stage_judge.stage, stage_judge."user"': "stage_judge_person",
    "stage_judge.stage, stage_judge.user": "stage_judge_person",
    "appeal.stage, appeal.team": "appeal_team",
    "ticket_type.event, ticket_type.number": "ticket_type_number",
    "ticket.ticket_type, ticket.holder": "ticket_live_holder",
    "checkin_list.event, checkin_list.name": "checkin_list_name",
    "incubation_programme.slug": "incubation_programme_slug_key",
    'incubation_programme_role.programme, incubation_programme_role."user", incubation_programme_role.role': (
        "incubation_programme_role_pair"
    ),
    "incubation_programme_role.programme, incubation_programme_role.user, incubation_programme_role.role": (
        "incubation_programme_role_pair"
    ),
    "incubation_cohort.programme, incubation_cohort.name": "incubation_cohort_name",
    "incubation_startup.programme, incubation_startup.team": "incubation_startup_team_once",
    'incubation_founder.startup, incubation_founder."user"': "incubation_founder_pair",
    "incubation_founder.startup, incubation_founder.user": "incubation_founder_pair",
    'incubation_mentor.programme, incubation_mentor."user"': "incubation_mentor_pair",
    "incubation_mentor.programme, incubation_mentor.user": "incubation_mentor_pair",
    "incubation_mentor_cohort.mentor, incubation_mentor_cohort.cohort": "incubation_mentor_cohort_pair",
    "incubation_mentor_link.mentor, incubation_mentor_link.startup": "incubation_mentor_link_pair",
    "incubation_booking.slot": "incubation_booking_live",
    "incubation_meeting.booking": "incubation_meeting_booking",
    "incubation_report_schedule.cohort": "incubation_report_schedule_cohort_key",
    "incubation_report_period.cohort, incubation_report_period.starts_on": "incubation_report_period_once",
    "incubation_custom_metric.programme, incubation_custom_metric.key": "incubation_custom_metric_key",
    "incubation_report.startup, incubation_report.period": "incubation_report_once",
    "incubation_report_version.report, incubation_report_version.version": "incubation_report_version_number",
    "incubation_private_note.meeting": "incubation_private_note_meeting_key",
}
_SQLITE_VIOLATIONS = {
    "SQLITE_CONSTRAINT_UNIQUE",
    "SQLITE_CONSTRAINT_PRIMARYKEY",
    "SQLITE_CONSTRAINT_FOREIGNKEY",
}


def _sqlite_unique_index(exc: sqlite3.IntegrityError) -> str | None:
    """The name of the unique index an SQLite write broke, or ``None`` for another constraint.

    sqlite3 gives the error class (``sqlite_errorname``) but not the constraint, so its message is
    read here and nowhere else: "UNIQUE constraint failed: index 'name'" for an expression index,
    "UNIQUE constraint failed: table.a, table.b" for an index on columns.
    """
    prefix = "UNIQUE constraint failed: "
    message = str(exc)
    if exc.sqlite_errorname != "SQLITE_CONSTRAINT_UNIQUE" or not message.startswith(prefix):
        return None
    target = message.removeprefix(prefix)
    if target.startswith("index '") and target.endswith("'"):
        return target[len("index '") : -1]
    return _SQLITE_COLUMNS.get(target, target)


@asynccontextmanager
async def _constraint_errors() -> AsyncIterator[None]:
    """Turn a unique or foreign key violation into the 409 registered for the constraint.

    A violation the registry does not know (a row deleted meanwhile, through the back office)
    still gets a 409 with the generic ``conflict`` code, and a warning so it can be registered.
    """
    try:
        yield
    except (asyncpg.UniqueViolationError, asyncpg.ForeignKeyViolationError) as exc:
        raise _conflict(exc.constraint_name, exc) from exc
    except sqlite3.IntegrityError as exc:
        if exc.sqlite_errorname not in _SQLITE_VIOLATIONS:
            raise
        raise _conflict(_sqlite_unique_index(exc), exc) from exc


def _conflict(name: str | None, exc: Exception) -> Conflict:
    taken = UNIQUE_CONSTRAINTS.get(name or "")
    if taken is not None:
        return taken.conflict()
    logger.warning("constraint %s has no entry in UNIQUE_CONSTRAINTS: %s", name, exc)
    return Conflict("conflict", "The change clashes with data written at the same time; reload and retry")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _keep_session(connection: object) -> None:
    """asyncpg's pool otherwise sends a reset query (``RESET ALL; UNLISTEN *; CLOSE ALL; ...``) every
    time a connection goes back, a round trip per query; Podium keeps no session state (no SET,
    LISTEN, cursors or advisory locks), and an open transaction is still rolled back."""


@asynccontextmanager
async def connection_pool(settings: Settings) -> AsyncIterator[None]:
    """Open the PostgreSQL pool for the life of the app or worker (SQLite has none)."""
    db = engine()
    if isinstance(db, PostgresEngine) and settings.db_pool_size > 0:
        await db.start_connection_pool(min_size=1, max_size=settings.db_pool_size, reset=_keep_session)
        try:
            yield
        finally:
            await db.close_connection_pool()
    else:
        yield


async def ping() -> None:
    """Raise if the database does not answer a trivial query."""
    await engine().run_ddl("SELECT 1")
