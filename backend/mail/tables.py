from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class OutboxEmail(Table):
    """One message to deliver. A worker claims it (queued → sending, ``attempts`` + 1) before
    sending, so a job delivered twice by arq sends once. ``lease_until`` is when others may take
    the row over: the sending worker keeps pushing it forward while it sends; on a queued row it
    is the grace left to the job enqueued at commit, or the back-off after a failed send."""

    to_address = Varchar(length=255)
    subject = Varchar(length=300)
    body_text = Text()
    status = Varchar(length=10, choices=OutboxStatus, default=OutboxStatus.queued.value, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    claimed_at = Timestamptz(null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
