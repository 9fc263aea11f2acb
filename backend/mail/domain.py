"""The e-mail outbox and its delivery jobs."""

from __future__ import annotations

from arq import cron

from backend.domain import Domain
from backend.mail.jobs import FLUSH_EVERY, deliver_email, flush_outbox


def _admin_views() -> list:
    from piccolo_admin.endpoints import TableConfig

    from backend.mail.tables import OutboxEmail

    columns = [OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.status]
    return [TableConfig(OutboxEmail, visible_columns=columns)]


DOMAIN = Domain(
    name="mail",
    tables=("backend.mail.tables",),
    jobs=(deliver_email, flush_outbox),
    cron_jobs=(cron(flush_outbox, second=set(range(0, 60, FLUSH_EVERY)), run_at_startup=True),),
    admin_views=_admin_views,
)
