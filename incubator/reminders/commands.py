"""``podium incubator remind [--today YYYY-MM-DD]``: send the report reminders due (what the hourly
job does), with a progress counter; safe to run beside the job. On the embedded default there is no
worker to run the job: run this command hourly from the system's scheduler instead."""

from __future__ import annotations

import argparse
import datetime as dt

from backend.commands import Progress, run_async


def cmd_remind(args: argparse.Namespace) -> int:
    from backend import domain, tasks
    from backend.settings import get_settings
    from incubator.reminders import service

    async def run() -> int:
        # the mails' flush job goes to the worker, or runs here on the embedded default
        queue = await tasks.queue_for(get_settings(), domain.jobs())
        previous = tasks.install(queue)
        try:
            outcome = await service.remind(get_settings().base_url, args.today, progress=Progress)
        finally:
            tasks.install(previous)
            await queue.close()
        print(f"{outcome.sent} reminders sent ({outcome.mails} mails), {outcome.skipped} skipped as late")
        return 0

    return run_async(run)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``podium incubator``."""
    p = subparsers.add_parser("incubator", help="the incubator")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("remind", help="mail the founders the report reminders due (idempotent)")
    q.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day to remind as of (default: today, UTC)",
    )
    q.set_defaults(handler=cmd_remind)
