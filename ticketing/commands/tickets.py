"""``podium tickets issue EVENT`` (every eligible person's missing ticket: of the automatic types, or
of ``--kind`` / ``--type``) and ``podium tickets export EVENT --out FILE.csv`` (columns
``ticket,holder,type,code``). ``EVENT`` is an event's id or slug."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from backend.commands import run_async
from ticketing.codes import KINDS  # the participant kinds without the tables: podium rank needs no piccolo


async def event_id_of(text: str) -> int | None:
    """The id of the event ``text`` names (its id or its slug), or ``None``."""
    from backend.events.tables import Event

    where = Event.id == int(text) if text.isdigit() else Event.slug == text
    row = await Event.select(Event.id).where(where).first()
    return row["id"] if row else None


def cmd_issue(args: argparse.Namespace) -> int:
    from backend.errors import DomainError
    from ticketing.tables import ParticipantKind, TicketType
    from ticketing.tickets import service
    from ticketing.tickets.schemas import IssueMissingIn

    async def run() -> int:
        event_id = await event_id_of(args.event)
        if event_id is None:
            print(f"No event {args.event!r}", file=sys.stderr)
            return 2
        type_id = None
        if args.type is not None:
            row = (
                await TicketType.select(TicketType.id)
                .where((TicketType.event == event_id) & (TicketType.number == args.type))
                .first()
            )
            if row is None:
                print(f"The event has no ticket type number {args.type}", file=sys.stderr)
                return 2
            type_id = row["id"]
        kind = ParticipantKind(args.kind) if args.kind else None
        try:
            result = await service.issue_missing(
                None, event_id, IssueMissingIn(ticket_type=type_id, kind=kind)
            )
        except DomainError as exc:
            print(exc.detail, file=sys.stderr)
            return 2
        print(f"{result.issued} issued, {result.already} already held")
        return 0

    return run_async(run)


def cmd_export(args: argparse.Namespace) -> int:
    from ticketing.tickets import exports, service

    async def run() -> int:
        event_id = await event_id_of(args.event)
        if event_id is None:
            print(f"No event {args.event!r}", file=sys.stderr)
            return 2
        tickets = await service.event_tickets(event_id)
        text = exports.csv_text(tickets, exports.BASIC_COLUMNS)
        await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
        print(f"{len(tickets)} tickets written to {args.out}", file=sys.stderr)
        return 0

    return run_async(run)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``podium tickets``."""
    p = subparsers.add_parser("tickets", help="an event's tickets")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("issue", help="issue every eligible person's missing ticket (idempotent)")
    q.add_argument("event", help="the event's id or slug")
    q.add_argument("--kind", choices=KINDS, help="every ticket type of this kind")
    q.add_argument("--type", type=int, metavar="NUMBER", help="this ticket type only")
    q.set_defaults(handler=cmd_issue)
    q = actions.add_parser("export", help="write the event's tickets as CSV (ticket,holder,type,code)")
    q.add_argument("event", help="the event's id or slug")
    q.add_argument("--out", required=True, metavar="FILE.csv")
    q.set_defaults(handler=cmd_export)
