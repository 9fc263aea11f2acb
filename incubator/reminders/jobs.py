"""The hourly report reminders (arq cron). Workers may run it at once, and a run may be cut short:
the service sends each reminder once all the same."""

from __future__ import annotations

import dataclasses
from typing import Any

from arq.cron import cron

from incubator.reminders import service


async def send_report_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    """Every report reminder due today and not sent yet."""
    return dataclasses.asdict(await service.remind(ctx["settings"].base_url))


REPORT_REMINDERS = cron(send_report_reminders, minute={41}, run_at_startup=True)  # hourly, and on start
