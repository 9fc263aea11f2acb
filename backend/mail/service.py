"""Queue mail in the outbox and deliver it: through SMTP when configured, otherwise as ``.eml``
files in the mail folder (development), so nothing is ever sent by accident from a laptop."""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from backend.db import transaction, utcnow
from backend.mail.tables import OutboxEmail, OutboxStatus
from backend.settings import Settings
from backend.tasks import TaskQueue

LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5


async def queue_email(queue: TaskQueue, to: str, subject: str, body: str) -> int:
    """Write the message to the outbox and ask a worker to deliver it; returns the outbox id."""
    async with transaction():
        row = OutboxEmail(to_address=to, subject=subject, body_text=body)
        await row.save()
    await queue.enqueue("deliver_email", row.id, job_id=f"mail:{row.id}")
    return row.id


def build_message(settings: Settings, row: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row["to_address"]
    msg["Subject"] = row["subject"]
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{row['id']}", domain="podium")
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


async def deliver(settings: Settings, outbox_id: int) -> str:
    """Claim and send one message; safe to run twice (arq delivers at least once)."""
    now = utcnow()
    claimed = (
        await OutboxEmail.update(
            {
                OutboxEmail.status: OutboxStatus.sending.value,
                OutboxEmail.claimed_at: now,
                OutboxEmail.attempts: OutboxEmail.attempts + 1,
            }
        )
        .where(
            (OutboxEmail.id == outbox_id)
            & (
                (OutboxEmail.status == OutboxStatus.queued.value)
                | (
                    (OutboxEmail.status == OutboxStatus.sending.value)
                    & (OutboxEmail.claimed_at < now - LEASE)
                )
            )
        )
        .returning(*OutboxEmail.all_columns())
    )
    if not claimed:
        return "skipped"
    row = claimed[0]
    msg = build_message(settings, row)
    try:
        if settings.smtp_host:
            await asyncio.to_thread(_send_smtp, settings, msg)
        else:
            await asyncio.to_thread(_write_file, settings, row["id"], msg)
    except (OSError, smtplib.SMTPException) as exc:
        status = OutboxStatus.failed if row["attempts"] >= MAX_ATTEMPTS else OutboxStatus.queued
        await OutboxEmail.update(
            {OutboxEmail.status: status.value, OutboxEmail.last_error: f"{type(exc).__name__}: {exc}"[:2000]}
        ).where(OutboxEmail.id == outbox_id)
        return status.value
    await OutboxEmail.update(
        {
            OutboxEmail.status: OutboxStatus.sent.value,
            OutboxEmail.sent_at: utcnow(),
            OutboxEmail.last_error: "",
        }
    ).where(OutboxEmail.id == outbox_id)
    return "sent"


async def pending_ids(limit: int = 500) -> list[int]:
    """Messages still to deliver: queued ones (retries) and claims whose lease ran out."""
    now = utcnow()
    rows = (
        await OutboxEmail.select(OutboxEmail.id)
        .where(
            (OutboxEmail.status == OutboxStatus.queued.value)
            | ((OutboxEmail.status == OutboxStatus.sending.value) & (OutboxEmail.claimed_at < now - LEASE))
        )
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    return [r["id"] for r in rows]
