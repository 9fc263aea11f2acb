"""Queue mail in the outbox and deliver it: through SMTP when configured, otherwise as ``.eml``
files in the mail folder (development), so nothing is ever sent by accident from a laptop.

Delivery guarantees, in order of what can go wrong:

- The outbox row is written in the caller's transaction and its job is handed to the queue only
  after that transaction commits, so a rolled-back change sends nothing and a job never sees a
  row that does not exist yet.
- A worker claims a row (queued → sending, ``attempts`` + 1) in one conditional UPDATE, so a job
  delivered twice sends once. While it sends, it renews ``lease_until`` every
  :data:`HEARTBEAT`; a claim whose lease ran out (a crashed worker) is taken over by
  ``flush_outbox``, which runs every ``FLUSH_EVERY`` seconds: takeover within
  ``LEASE + FLUSH_EVERY`` (15 s) of the crash.
- A delivery that has started runs to its end even when its job is cancelled (arq cancels jobs on
  SIGTERM and then waits for them): the message is sent and recorded, or recorded as failed,
  never left ``sending`` after SMTP took it.
- Not closable: a worker killed (SIGKILL, power loss) after the SMTP server accepted a message
  and before the ``sent`` UPDATE commits leaves it ``sending``, and the takeover sends it again.
  The window is one SMTP QUIT and one UPDATE (about a millisecond); the Message-ID is the same on
  every attempt (:func:`message_id`), so receivers that deduplicate by it see one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import parseaddr
from typing import NamedTuple

from backend import tasks
from backend.db import fetch_all, on_commit, transaction, utcnow
from backend.mail.tables import OutboxEmail, OutboxStatus
from backend.settings import Settings

LEASE = dt.timedelta(seconds=10)
HEARTBEAT = LEASE / 3
JOB_GRACE = dt.timedelta(seconds=20)  # a new row waits this long for its job, then the flush takes it
RETRY_AFTER = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5

logger = logging.getLogger("podium.mail")


async def queue_email(to: str, subject: str, body: str) -> int:
    """Write the message to the outbox in the caller's transaction (or its own) and have it
    delivered once that transaction commits; returns the outbox id."""
    async with transaction():
        row = OutboxEmail(to_address=to, subject=subject, body_text=body, lease_until=utcnow() + JOB_GRACE)
        await row.save()
        on_commit(functools.partial(tasks.enqueue, "deliver_email", row.id, job_id=f"mail:{row.id}"))
    return row.id


class Message(NamedTuple):
    to: str
    subject: str
    body: str


BULK_ROWS = 1000  # messages per INSERT: 3,000 parameters, well within the drivers' limits
# Hand-written: the ORM's insert of a thousand rows costs half a second of building the query.
_BULK_INSERT = "INSERT INTO outbox_email (to_address, subject, body_text) VALUES "


async def queue_emails(
    messages: Sequence[Message], progress: Callable[[int], None] | None = None
) -> list[int]:
    """Write many messages to the outbox in the caller's transaction (or its own), a multi-row INSERT
    per :data:`BULK_ROWS`, and have ONE ``flush_outbox`` job deliver them once it commits, instead of
    a job per message; returns the outbox ids. The rows are due at once (no lease), so the periodic
    flush takes over whatever that job leaves. ``progress`` is told how many are written so far."""
    ids: list[int] = []
    if not messages:
        return ids
    async with transaction():
        for start in range(0, len(messages), BULK_ROWS):
            chunk = messages[start : start + BULK_ROWS]
            sql = _BULK_INSERT + ", ".join(["({}, {}, {})"] * len(chunk)) + " RETURNING id"
            inserted = await fetch_all(sql, *(value for message in chunk for value in message))
            ids += [r["id"] for r in inserted]
            if progress is not None:
                progress(len(ids))
        on_commit(functools.partial(tasks.enqueue, "flush_outbox", job_id=f"mail:flush:{ids[0]}"))
    return ids


def message_id(settings: Settings, row: dict) -> str:
    """The same for every attempt at one outbox row, unique across databases by its creation time."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "podium.localhost"
    return f"<outbox.{row['id']}.{row['created_at']:%Y%m%d%H%M%S%f}@{domain}>"


def build_message(settings: Settings, row: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row["to_address"]
    msg["Subject"] = row["subject"]
    msg["Message-ID"] = message_id(settings, row)
    msg.set_content(row["body_text"])
    return msg


def _send_smtp(settings: Settings, msg: EmailMessage) -> None:
    assert settings.smtp_host is not None
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, context=context, timeout=30
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        client.send_message(msg)


def _write_file(settings: Settings, row_id: int, msg: EmailMessage) -> None:
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    (settings.mail_dir / f"{row_id:08d}.eml").write_bytes(bytes(msg))


def _lease_expired(now: dt.datetime):
    return OutboxEmail.lease_until.is_null() | (OutboxEmail.lease_until < now)


async def deliver(settings: Settings, outbox_id: int) -> str:
    """Claim and send one message; safe to run twice (arq delivers at least once).

    When the job is cancelled mid-delivery, the delivery still finishes (an SMTP exchange is
    bounded by its 30 s timeout) and the cancellation is raised after it.
    """
    delivery = asyncio.ensure_future(_claim_and_send(settings, outbox_id))
    try:
        return await asyncio.shield(delivery)
    except asyncio.CancelledError:
        while not delivery.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({delivery})
        if delivery.exception() is not None:
            logger.error("delivery of outbox %s failed", outbox_id, exc_info=delivery.exception())
        raise


async def _claim_and_send(settings: Settings, outbox_id: int) -> str:
    now = utcnow()
    claimed = (
        await OutboxEmail.update(
            {
                OutboxEmail.status: OutboxStatus.sending.value,
                OutboxEmail.claimed_at: now,
                OutboxEmail.lease_until: now + LEASE,
                OutboxEmail.attempts: OutboxEmail.attempts + 1,
            }
        )
        .where(
            (OutboxEmail.id == outbox_id)
            & (
                (OutboxEmail.status == OutboxStatus.queued.value)
                | ((OutboxEmail.status == OutboxStatus.sending.value) & _lease_expired(now))
            )
        )
        .returning(*OutboxEmail.all_columns())
    )
    if not claimed:
        return "skipped"
    row = claimed[0]
    heartbeat = asyncio.create_task(_keep_lease(outbox_id, row["attempts"]))
    try:
        return await _send_and_record(settings, row)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def _send_and_record(settings: Settings, row: dict) -> str:
    msg = build_message(settings, row)
    try:
        if settings.smtp_host:
            await asyncio.to_thread(_send_smtp, settings, msg)
        else:
            await asyncio.to_thread(_write_file, settings, row["id"], msg)
    except (OSError, smtplib.SMTPException) as exc:
        status = OutboxStatus.failed if row["attempts"] >= MAX_ATTEMPTS else OutboxStatus.queued
        await OutboxEmail.update(
            {
                OutboxEmail.status: status.value,
                OutboxEmail.lease_until: utcnow() + RETRY_AFTER,
                OutboxEmail.last_error: f"{type(exc).__name__}: {exc}"[:2000],
            }
        ).where(_held(row["id"], row["attempts"]))
        return status.value
    await OutboxEmail.update(
        {
            OutboxEmail.status: OutboxStatus.sent.value,
            OutboxEmail.sent_at: utcnow(),
            OutboxEmail.lease_until: None,
            OutboxEmail.last_error: "",
        }
    ).where(OutboxEmail.id == row["id"])
    return "sent"


def _held(outbox_id: int, attempt: int):
    """Still this claim: the attempt number fences off a worker whose lease was taken over."""
    return (
        (OutboxEmail.id == outbox_id)
        & (OutboxEmail.status == OutboxStatus.sending.value)
        & (OutboxEmail.attempts == attempt)
    )


async def _keep_lease(outbox_id: int, attempt: int) -> None:
    """Push the lease forward while the message is being sent."""
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            await OutboxEmail.update({OutboxEmail.lease_until: utcnow() + LEASE}).where(
                _held(outbox_id, attempt)
            )
        except Exception:
            logger.warning("could not renew the lease on outbox %s", outbox_id, exc_info=True)


async def pending_ids(limit: int = 500) -> list[int]:
    """Messages due for the flush: queued ones whose job or back-off time is over, and claims
    whose lease ran out."""
    rows = (
        await OutboxEmail.select(OutboxEmail.id)
        .where(
            OutboxEmail.status.is_in([OutboxStatus.queued.value, OutboxStatus.sending.value])
            & _lease_expired(utcnow())
        )
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    return [r["id"] for r in rows]
