"""The badge jobs' own bookkeeping: which batches of a run are counted in its progress."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from ticketing.tables import BadgeRun


class BadgeRunBatch(Table, tablename="badge_run_batch"):
    """One batch of a badge run, counted once: a batch job delivered twice (arq delivers at least
    once) finds its row (unique ``(run, first_ticket)``) and does not move the progress again."""

    run = ForeignKey(BadgeRun, null=False, on_delete=OnDelete.cascade)
    first_ticket = Integer()
    tickets = Integer()  # how many tickets the batch counts
