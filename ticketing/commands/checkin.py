"""``podium devices create --event EVENT --list LIST [--list LIST ...] [--name NAME] [--gate GATE]``
(prints the new device's token on standard output, its enrolment link on standard error) and
``podium checkin lists EVENT`` (the event's check-in lists with their rules). ``EVENT`` is an event's
id or slug, ``LIST`` a list's id or name in that event."""

from __future__ import annotations

import argparse
import sys

from backend.commands import run_async


async def _event_id(text: str) -> int | None:
    from backend.events.tables import Event

    where = Event.id == int(text) if text.isdigit() else Event.slug == text
    row = await Event.select(Event.id).where(where).first()
    return row["id"] if row else None


async def _list_id(event_id: int, text: str) -> int | None:
    from ticketing.tables import CheckinList

    where = CheckinList.event == event_id
    by_name = await CheckinList.select(CheckinList.id).where(where & (CheckinList.name == text)).first()
    if by_name is not None:
        return by_name["id"]
    if text.isdigit():
        by_id = await CheckinList.select(CheckinList.id).where(where & (CheckinList.id == int(text))).first()
        if by_id is not None:
            return by_id["id"]
    return None


async def devices_create(args: argparse.Namespace) -> int:
    """``podium devices create``, with the database open."""
    from backend.errors import DomainError
    from backend.settings import get_settings
    from ticketing.lists import service
    from ticketing.lists.schemas import DeviceIn

    event_id = await _event_id(args.event)
    if event_id is None:
        print(f"No event {args.event!r}", file=sys.stderr)
        return 2
    lists = []
    for text in args.list:
        list_id = await _list_id(event_id, text)
        if list_id is None:
            print(f"The event has no check-in list {text!r}", file=sys.stderr)
            return 2
        lists.append(list_id)
    name = args.name or f"Scanner at {args.gate or 'the gate'}"
    try:
        created = await service.create_device(
            None,
            event_id,
            DeviceIn(name=name, gate=args.gate or "", lists=lists),
            get_settings().base_url,
        )
    except DomainError as exc:
        problems = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        print(f"{exc.detail}{': ' + problems if problems else ''}", file=sys.stderr)
        return 2
    device = created.device
    names = ", ".join(x.name for x in device.lists)
    print(
        f"Device {device.id} {device.name!r} on {names}; enrolment link: {created.enrol_url}",
        file=sys.stderr,
    )
    print(created.token)
    return 0


def cmd_devices_create(args: argparse.Namespace) -> int:
    return run_async(lambda: devices_create(args))


def _rules_text(item: object) -> str:
    rules = item.rules  # type: ignore[attr-defined]
    parts = []
    if rules["types"] is not None:
        parts.append("types " + ",".join(str(n) for n in rules["types"]))
    for window in rules["windows"]:
        parts.append(f"{window['opens'].replace('T', ' ')}–{window['closes'].replace('T', ' ')}")
    total = rules["entries_total"]
    parts.append("no entry limit" if total is None else "once" if total == 1 else f"{total} entries")
    if rules["entries_per_day"] is not None:
        parts.append(f"{rules['entries_per_day']} a day")
    if rules["reentry_after_exit"]:
        parts.append("re-entry after exit")
    if rules["capacity"] is not None:
        parts.append(f"capacity {rules['capacity']}")
    if rules["after_list"] is not None:
        parts.append(f"after list {rules['after_list']}")
    return "; ".join(parts)


async def checkin_lists(args: argparse.Namespace) -> int:
    """``podium checkin lists``, with the database open."""
    from ticketing.lists import service

    event_id = await _event_id(args.event)
    if event_id is None:
        print(f"No event {args.event!r}", file=sys.stderr)
        return 2
    lists = await service.list_lists(None, event_id)
    if not lists:
        print("No check-in lists", file=sys.stderr)
        return 0
    rows = [("ID", "NAME", "KIND", "MODE", "INSIDE", "DEVICES", "RULES")]
    for x in lists:
        name = x.name + (" (archived)" if x.archived_at else "")
        rows.append((str(x.id), name, x.kind, x.mode, str(x.inside), str(x.devices), _rules_text(x)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return 0


def cmd_checkin_lists(args: argparse.Namespace) -> int:
    return run_async(lambda: checkin_lists(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``podium devices`` and ``podium checkin``."""
    p = subparsers.add_parser("devices", help="an event's scanning devices")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("create", help="register a scanning device and print its token")
    q.add_argument("--event", required=True, help="the event's id or slug")
    q.add_argument(
        "--list", required=True, action="append", help="a check-in list's name or id (repeat for several)"
    )
    q.add_argument("--name", help="the device's name (default: after its gate)")
    q.add_argument("--gate", help="what its admissions show, e.g. 'Gate 3'")
    q.set_defaults(handler=cmd_devices_create)

    p = subparsers.add_parser("checkin", help="an event's check-in")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("lists", help="print the event's check-in lists and their rules")
    q.add_argument("event", help="the event's id or slug")
    q.set_defaults(handler=cmd_checkin_lists)
