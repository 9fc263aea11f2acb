"""Report reminders: the founders of every active startup that has not filed a period's report are
mailed on the days the cohort's schedule lists (``reminder_days``, relative to the due date).

Exactly once, by the database: one set-based ``INSERT ... SELECT ... ON CONFLICT DO NOTHING
RETURNING`` records every reminder due (``incubation_reminder_once`` is unique per period, startup
and day) and the outbox rows of those it returned are written in the same transaction. A run
repeated finds them recorded; a run interrupted rolls back both; a second run at the same time
waits on the first one's rows and, once it commits, skips them.

Never late: of a period's reminders due by now only the latest is sent; older ones not sent yet
(the worker was down, the schedule was set up later) are recorded as ``skipped``, so they never go
out. A period whose latest reminder day is more than :data:`LATE_LIMIT` ago is left alone: a
schedule set up in the past does not mail its whole history.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from backend.db import engine, fetch_all, transaction, utcnow
from backend.errors import fill
from backend.i18n import localized, translations
from backend.mail.service import Message, queue_emails
from backend.teams.mail import locale_of

LATE_LIMIT = dt.timedelta(days=30)

# The mails' texts (English message ids; incubator_reminders.po translates them).
SUBJECT_AHEAD = "Reminder: the {period} report of {startup} is due on {due}"
SUBJECT_LATE = "Overdue: the {period} report of {startup} was due on {due}"
BODY_AHEAD = (
    "Hello,\n\nThe {programme} programme awaits the {period} report of {startup} by {due}.\n\n"
    "Fill it in here:\n{link}\n"
)
BODY_LATE = (
    "Hello,\n\nThe {period} report of {startup} for the {programme} programme was due on {due} "
    "and has not been submitted yet.\n\nPlease submit it here:\n{link}\n"
)

ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class Outcome:
    sent: int  # reminders sent now
    skipped: int  # reminders recorded as skipped now
    mails: int  # mails queued (one per founder of each reminder sent)


def _postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def _integers(json_sql: str, alias: str) -> str:
    """A table ``alias`` of the elements of a JSON array (column ``value``, cast it to an integer)."""
    if _postgres():
        return f"json_array_elements_text(CAST({json_sql} AS json)) AS {alias}(value)"
    return f"json_each({json_sql}) AS {alias}"


def _plus_days(date_sql: str, days_sql: str) -> str:
    if _postgres():
        return f"({date_sql} + {days_sql})"
    return f"date({date_sql}, {days_sql} || ' days')"


def _record_sql() -> str:
    """Every reminder due (a period's days reached, for each active startup of its cohort without a
    report), recorded once; ordered, so two runs at once take the unique index's entries in the same
    order and the second waits instead of deadlocking."""
    offset = "CAST(o.value AS INTEGER)"
    return f"""
    WITH due AS (
        SELECT DISTINCT p.id AS period, p.cohort, p.due_on, {offset} AS days
        FROM incubation_report_period p
        JOIN incubation_report_schedule s ON s.cohort = p.cohort
        CROSS JOIN {_integers("s.reminder_days", "o")}
        WHERE {_plus_days("p.due_on", offset)} <= {{}}
    ), latest AS (
        SELECT period, MAX(days) AS days FROM due GROUP BY period
    )
    INSERT INTO incubation_reminder_sent (period, startup, days, skipped)
    SELECT d.period, st.id, d.days, d.days <> l.days
    FROM due d
    JOIN latest l ON l.period = d.period
    JOIN incubation_startup st ON st.cohort = d.cohort
    WHERE st.status = 'active'
        AND {_plus_days("d.due_on", "l.days")} >= {{}}
        AND NOT EXISTS (SELECT 1 FROM incubation_report r WHERE r.period = d.period AND r.startup = st.id)
        AND NOT EXISTS (
            SELECT 1 FROM incubation_reminder_sent x
            WHERE x.period = d.period AND x.startup = st.id AND x.days = d.days
        )
    ORDER BY d.period, st.id, d.days
    ON CONFLICT (period, startup, days) DO NOTHING
    RETURNING id, skipped
    """  # noqa: S608 - constant fragments; every value is a parameter


def _recipients_sql() -> str:
    """The founders (active accounts) of the startups of the reminders whose ids are given as a JSON
    array, with what their mail says."""
    return f"""
    SELECT r.days, r.startup, r.period, st.name AS startup_name, p.label, p.due_on,
        g.name_zh, g.name_en, g.name_ru, u.email, u.locale
    FROM {_integers("{}", "i")}
    JOIN incubation_reminder_sent r ON r.id = CAST(i.value AS INTEGER)
    JOIN incubation_startup st ON st.id = r.startup
    JOIN incubation_programme g ON g.id = st.programme
    JOIN incubation_report_period p ON p.id = r.period
    JOIN incubation_founder f ON f.startup = st.id
    JOIN podium_user u ON u.id = f."user"
    WHERE u.active AND u.email <> ''
    ORDER BY r.id, u.id
    """  # noqa: S608 - constant fragments; every value is a parameter


def report_link(base_url: str, startup_id: int, period_id: int) -> str:
    return f"{base_url}/incubator/startups/{startup_id}/reports/{period_id}"


def reminder_text(
    locale: str, *, startup: str, programme: str, label: str, due_on: dt.date, days: int, link: str
) -> tuple[str, str]:
    """A reminder's subject and body in ``locale``: ``days`` after the due date (negative: before)."""
    gettext = translations(locale).gettext
    values = {
        "period": label,
        "startup": startup,
        "programme": programme,
        "due": due_on.isoformat(),
        "link": link,
    }
    subject, body = (SUBJECT_LATE, BODY_LATE) if days > 0 else (SUBJECT_AHEAD, BODY_AHEAD)
    return fill(gettext(subject), values), fill(gettext(body), values)


def reminder_message(base_url: str, row: Mapping[str, Any]) -> Message:
    locale = locale_of(row["locale"])
    due = row["due_on"]
    subject, body = reminder_text(
        locale,
        startup=row["startup_name"],
        programme=localized(dict(row), "name", locale),  # the drivers' rows are records
        label=row["label"],
        due_on=due if isinstance(due, dt.date) else dt.date.fromisoformat(due),  # SQLite: text
        days=row["days"],
        link=report_link(base_url, row["startup"], row["period"]),
    )
    return Message(row["email"], subject, body)


async def remind(
    base_url: str, today: dt.date | None = None, progress: ProgressFactory | None = None
) -> Outcome:
    """Send every report reminder due by ``today`` (UTC's today by default) not sent yet, in one
    transaction; ``progress(label, total)`` returns a counter told how many mails are queued."""
    today = today or utcnow().date()
    oldest = today - LATE_LIMIT
    postgres = _postgres()
    dates = (today, oldest) if postgres else (today.isoformat(), oldest.isoformat())
    async with transaction():
        recorded = await fetch_all(_record_sql(), *dates)
        sent = [r["id"] for r in recorded if not r["skipped"]]
        rows = await fetch_all(_recipients_sql(), json.dumps(sent)) if sent else []
        messages = [reminder_message(base_url, row) for row in rows]
        counter = progress("Queuing report reminders", len(messages)) if progress else None
        await queue_emails(messages, progress=counter)
    return Outcome(sent=len(sent), skipped=len(recorded) - len(sent), mails=len(messages))
