"""Check-in lists and scanning devices: one function per change, each validate → write in one
transaction → audit (``ticketing.<kind>``) → answer.

A list's rules are read by :meth:`ticketing.rules.ListRules.from_json` (every wrong field named as
``rules.<field>``), then checked against the event (ticket type numbers of the event, a venue list of
the same event). List names are unique per event (the index ``checkin_list_name``); lists are archived,
never deleted, because the check-in log refers to them. Creating a list per session locks the event's
row, so two organizers pressing the button at once make each session's list once.

A device's token is made here and shown once (only its SHA-256 is stored). Revoking a device or
changing it is one conditional UPDATE; after the commit the device is dropped from this process's
token cache (:func:`ticketing.access.forget_device`) so its next scan here is refused at once; other
processes hear it from the database's ``podium_auth`` notification. Every change of a list drops the
scan path's copy of it in this process (:func:`ticketing.checkin.service.forget_list`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec
import qrcode
import qrcode.image.svg

from backend import audit, policy
from backend.accounts.tokens import token_digest
from backend.db import fetch_all, locked_row, on_commit, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, NotFound
from backend.events.tables import Event, EventSession
from backend.policy import Action, Principal
from backend.schemas import has_visible_text
from ticketing import rules
from ticketing.access import forget_device, new_device_token
from ticketing.lists.schemas import (
    DeviceCreatedOut,
    DeviceIn,
    DeviceListOut,
    DeviceOut,
    DevicePatch,
    ListIn,
    ListOut,
    ListPatch,
    RulesIn,
)
from ticketing.tables import CheckinList, Device, DeviceList, TicketType

if TYPE_CHECKING:
    from backend.security import PrincipalCache

SESSION_NAME_MAX = 100


def _forget_list(list_id: int) -> None:
    from ticketing.checkin.service import forget_list  # the scan path's per-process copy

    forget_list(list_id)


async def _event(principal: Principal | None, event_id: int, action: Action) -> None:
    """Refuse unless the caller may ``action`` in the event; ``None`` is the operator at the command
    line (``podium devices create``), who may do everything in an event that exists."""
    if principal is None:
        if not await Event.exists().where(Event.id == event_id):
            raise NotFound("Event")
        return
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    policy.require(principal, action, context)


async def _changed(
    principal: Principal | None, event_id: int, action: str, target: str, target_id: int, **data: Any
) -> None:
    actor = principal.id if principal is not None else None
    await audit.record(actor, f"ticketing.{action}", target, target_id, event_id=event_id, data=data)


def _invalid(fields: dict[str, str]) -> DomainError:
    return DomainError("validation_error", INVALID_INPUT, status_code=422, fields=fields)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return value or {}


def stored_rules(row: dict[str, Any]) -> rules.ListRules:
    """The rules of a list row (as stored; rules written by hand that no longer read are the
    defaults, which admit each ticket once)."""
    try:
        return rules.ListRules.from_json(_json(row["rules"]))
    except (rules.RulesError, ValueError):
        return rules.ListRules()


# Lists ------------------------------------------------------------------------------------------


def _title(row: dict[str, Any], locale: str) -> str:
    titles = {code: row.get(f"title_{code}") or "" for code in ("zh", "en", "ru")}
    return titles.get(locale) or titles["en"] or titles["zh"] or titles["ru"]


_LIST_SQL = """
SELECT l.id, l.event, l.name, l.kind, l.session, l.rules, l.inside, l.position, l.created_at,
       l.archived_at, s.title_zh, s.title_en, s.title_ru,
       (SELECT COUNT(*) FROM checkin_device_list dl JOIN checkin_device d ON d.id = dl.device
         WHERE dl.checkin_list = l.id AND d.revoked_at IS NULL) AS devices
FROM checkin_list l LEFT JOIN event_session s ON s.id = l.session
WHERE l.event = {} AND ({} = 0 OR l.id = {})
ORDER BY l.archived_at IS NOT NULL, l.position, l.name, l.id
"""


def _list_out(row: dict[str, Any], locale: str) -> ListOut:
    list_rules = stored_rules(row)
    return ListOut(
        id=row["id"],
        event_id=row["event"],
        name=row["name"],
        kind=row["kind"],
        session_id=row["session"],
        session=_title(row, locale) if row["session"] is not None else "",
        rules=list_rules.to_json(),
        mode=list_rules.slot_mode(),
        inside=row["inside"],
        position=row["position"],
        devices=int(row["devices"]),
        created_at=row["created_at"],
        archived_at=row["archived_at"],
    )


async def _lists(event_id: int, locale: str, list_id: int = 0) -> list[ListOut]:
    return [_list_out(r, locale) for r in await fetch_all(_LIST_SQL, event_id, list_id, list_id)]


async def list_lists(
    principal: Principal | None, event_id: int, locale: str = "en", *, archived: bool = True
) -> list[ListOut]:
    """The event's check-in lists in their order (archived ones last, unless left out)."""
    await _event(principal, event_id, Action.scan_tickets)
    found = await _lists(event_id, locale)
    return found if archived else [x for x in found if x.archived_at is None]


async def list_row(list_id: int) -> dict[str, Any]:
    row = await CheckinList.select().where(CheckinList.id == list_id).first()
    if row is None:
        raise NotFound("Check-in list")
    return row


async def get_list(principal: Principal | None, list_id: int, locale: str = "en") -> ListOut:
    row = await list_row(list_id)
    await _event(principal, row["event"], Action.scan_tickets)
    return (await _lists(row["event"], locale, list_id))[0]


async def event_sessions(event_id: int, locale: str = "en") -> list[tuple[str, str]]:
    """The event's sessions as (id, title) choices, in time order."""
    rows = await EventSession.select().where(EventSession.event == event_id).order_by(EventSession.starts_at)
    return [(str(r["id"]), _title(r, locale) or f"#{r['id']}") for r in rows]


async def check_rules(data: RulesIn, event_id: int, list_id: int | None = None) -> rules.ListRules:
    """The rules of ``data``, or 422 naming each wrong field as ``rules.<field>``: what
    :meth:`ListRules.from_json` refuses, type numbers the event has no ticket type for, a venue list
    that is not another list of the event."""
    try:
        parsed = rules.ListRules.from_json(msgspec.to_builtins(data))
    except rules.RulesError as exc:
        raise _invalid(
            {f"rules.{k}" if k != "rules" else "rules": v for k, v in exc.fields.items()}
        ) from None
    problems: dict[str, str] = {}
    if parsed.types is not None:
        numbers = {
            r["number"]
            for r in await TicketType.select(TicketType.number).where(TicketType.event == event_id)
        }
        for i, number in enumerate(data.types or []):
            if number not in numbers:
                problems[f"rules.types[{i}]"] = "is not a ticket type number of this event"
    if parsed.after_list is not None:
        venue = await CheckinList.select(CheckinList.event).where(CheckinList.id == parsed.after_list).first()
        if venue is None or venue["event"] != event_id or parsed.after_list == list_id:
            problems["rules.after_list"] = "must be another check-in list of this event"
    if problems:
        raise _invalid(problems)
    return parsed


async def _check_session(event_id: int, session_id: int | None, field: str = "session_id") -> None:
    if session_id is not None and not await EventSession.exists().where(
        (EventSession.id == session_id) & (EventSession.event == event_id)
    ):
        raise _invalid({field: "is not a session of this event"})


def _check_name(name: str) -> str:
    name = name.strip()
    if not has_visible_text(name):
        raise _invalid({"name": "must contain visible text"})
    return name


async def _check_name_free(event_id: int, name: str, list_id: int | None = None) -> None:
    where = (CheckinList.event == event_id) & (CheckinList.name == name)
    if list_id is not None:
        where &= CheckinList.id != list_id
    if await CheckinList.exists().where(where):
        raise Conflict(
            "list_name_taken", "The event has a check-in list with this name", fields={"name": "taken"}
        )


async def create_list(
    principal: Principal | None, event_id: int, data: ListIn, locale: str = "en"
) -> ListOut:
    """Add a check-in list to the event (its name unique in the event)."""
    await _event(principal, event_id, Action.manage_checkin)
    name = _check_name(data.name)
    await _check_session(event_id, data.session_id)
    list_rules = await check_rules(data.rules, event_id)
    async with transaction():
        await _check_name_free(event_id, name)
        row = CheckinList(
            event=event_id,
            name=name,
            kind=data.kind,
            session=data.session_id,
            rules=list_rules.to_json(),
            position=data.position,
        )
        await row.save()
        await _changed(
            principal,
            event_id,
            "list_created",
            "checkin_list",
            row.id,
            name=name,
            kind=data.kind,
            rules=row.rules,
        )
    return (await _lists(event_id, locale, row.id))[0]


_MODE_LOCKED = (
    "The list has admissions: its rules may no longer switch between counting once a day and"
    " counting otherwise, or tickets could be let in twice"
)


async def update_list(
    principal: Principal | None, list_id: int, data: ListPatch, locale: str = "en"
) -> ListOut:
    """Change a list's name, kind, session, rules or place. Rules are replaced as a whole; while the
    list has admissions they may not move into or out of once-a-day counting (the slots of its
    earlier admissions would no longer mean the same)."""
    row = await list_row(list_id)
    event_id = row["event"]
    await _event(principal, event_id, Action.manage_checkin)
    changes: dict[str, Any] = {}
    if data.name is not None:
        changes["name"] = _check_name(data.name)
    if data.kind is not None:
        changes["kind"] = data.kind
    if data.session_id is not None:
        session_id = data.session_id or None
        await _check_session(event_id, session_id)
        changes["session"] = session_id
    new_rules: rules.ListRules | None = None
    if data.rules is not None:
        new_rules = await check_rules(data.rules, event_id, list_id)
        changes["rules"] = new_rules.to_json()
    if data.position is not None:
        changes["position"] = data.position
    async with transaction():
        current = await locked_row(CheckinList, list_id)
        if current is None:
            raise NotFound("Check-in list")
        if "name" in changes:
            await _check_name_free(event_id, changes["name"], list_id)
        if new_rules is not None:
            old_mode, new_mode = stored_rules(current).slot_mode(), new_rules.slot_mode()
            daily_switch = old_mode != new_mode and "daily" in (old_mode, new_mode)
            if daily_switch and await fetch_all(
                "SELECT 1 FROM checkin WHERE checkin_list = {} AND slot IS NOT NULL LIMIT 1", list_id
            ):
                raise Conflict(
                    "list_mode_locked", _MODE_LOCKED, fields={"rules": "changes how admissions count"}
                )
        if "rules" in changes and _json(current["rules"]) == changes["rules"]:
            del changes["rules"]
        changed = {k: v for k, v in changes.items() if k == "rules" or current[k] != v}
        if changed:
            await CheckinList.update({getattr(CheckinList, k): v for k, v in changed.items()}).where(
                CheckinList.id == list_id
            )
            await _changed(principal, event_id, "list_changed", "checkin_list", list_id, changes=changed)
            on_commit(_after_list_change(list_id))
    return (await _lists(event_id, locale, list_id))[0]


def _after_list_change(list_id: int):
    async def callback() -> None:
        _forget_list(list_id)

    return callback


async def _set_archived(principal: Principal | None, list_id: int, archive: bool, locale: str) -> ListOut:
    row = await list_row(list_id)
    event_id = row["event"]
    await _event(principal, event_id, Action.manage_checkin)
    async with transaction():
        if archive:
            moved = (
                await CheckinList.update({CheckinList.archived_at: utcnow()})
                .where((CheckinList.id == list_id) & CheckinList.archived_at.is_null())
                .returning(CheckinList.id)
            )
        else:
            moved = (
                await CheckinList.update({CheckinList.archived_at: None})
                .where((CheckinList.id == list_id) & CheckinList.archived_at.is_not_null())
                .returning(CheckinList.id)
            )
        if not moved:
            detail = (
                "The check-in list is already archived" if archive else "The check-in list is not archived"
            )
            raise Conflict("list_archived", detail)
        action = "list_archived" if archive else "list_restored"
        await _changed(principal, event_id, action, "checkin_list", list_id, name=row["name"])
        on_commit(_after_list_change(list_id))
    return (await _lists(event_id, locale, list_id))[0]


async def archive_list(principal: Principal | None, list_id: int, locale: str = "en") -> ListOut:
    """Archive a list: scanners no longer see it; its log stays."""
    return await _set_archived(principal, list_id, True, locale)


async def restore_list(principal: Principal | None, list_id: int, locale: str = "en") -> ListOut:
    """Bring an archived list back."""
    return await _set_archived(principal, list_id, False, locale)


def _session_list_name(session: dict[str, Any], taken: set[str]) -> str:
    base = _title(session, "en").strip()[:SESSION_NAME_MAX] or f"Session {session['id']}"
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name = base[: SESSION_NAME_MAX - len(suffix)] + suffix
        n += 1
    return name


SESSION_OPENS_BEFORE = dt.timedelta(minutes=30)


def session_rules(session: dict[str, Any], tz: dt.tzinfo) -> rules.ListRules:
    """A session's list: open from half an hour before it starts until it ends (the event's local
    time); with a capacity, entries and exits are counted against the room's seats and a person who
    left may come back; without one, each ticket enters once."""
    opens = (session["starts_at"] - SESSION_OPENS_BEFORE).astimezone(tz).replace(tzinfo=None)
    closes = session["ends_at"].astimezone(tz).replace(tzinfo=None)
    windows = (rules.Window(opens, closes),) if closes > opens else ()
    if session["capacity"]:
        return rules.ListRules(windows=windows, reentry_after_exit=True, capacity=session["capacity"])
    return rules.ListRules(windows=windows)


async def create_session_lists(
    principal: Principal | None, event_id: int, locale: str = "en"
) -> list[ListOut]:
    """A list for every session of the event that has none: kind ``session``, named after it, one
    entry per ticket, the session's capacity (if it has one) as the list's. Idempotent: a second call
    creates nothing; concurrent calls queue on the event's row."""
    await _event(principal, event_id, Action.manage_checkin)
    created: list[int] = []
    async with transaction():
        event = await locked_row(Event, event_id)
        tz = ZoneInfo(event["time_zone"]) if event else dt.UTC
        sessions = (
            await EventSession.select()
            .where(EventSession.event == event_id)
            .order_by(EventSession.starts_at)
            .order_by(EventSession.id)
        )
        existing = await CheckinList.select(CheckinList.name, CheckinList.session).where(
            CheckinList.event == event_id
        )
        covered = {r["session"] for r in existing if r["session"] is not None}
        taken = {r["name"] for r in existing}
        for position, session in enumerate(sessions, start=100):
            if session["id"] in covered:
                continue
            name = _session_list_name(session, taken)
            taken.add(name)
            list_rules = session_rules(session, tz)
            row = CheckinList(
                event=event_id,
                name=name,
                kind="session",
                session=session["id"],
                rules=list_rules.to_json(),
                position=position,
            )
            await row.save()
            created.append(row.id)
        if created:
            await _changed(principal, event_id, "session_lists_created", "event", event_id, lists=created)
    wanted = set(created)
    return [x for x in await _lists(event_id, locale) if x.id in wanted]


# Devices ----------------------------------------------------------------------------------------

_DEVICE_SQL = """
SELECT d.id, d.event, d.name, d.gate, d.created_at, d.last_seen_at, d.revoked_at,
       l.id AS list_id, l.name AS list_name
FROM checkin_device d
LEFT JOIN checkin_device_list dl ON dl.device = d.id
LEFT JOIN checkin_list l ON l.id = dl.checkin_list
WHERE d.event = {} AND ({} = 0 OR d.id = {})
ORDER BY d.revoked_at IS NOT NULL, d.name, d.id, l.position, l.name
"""


async def _devices(event_id: int, device_id: int = 0) -> list[DeviceOut]:
    found: dict[int, DeviceOut] = {}
    for r in await fetch_all(_DEVICE_SQL, event_id, device_id, device_id):
        device = found.get(r["id"])
        if device is None:
            device = found[r["id"]] = DeviceOut(
                id=r["id"],
                event_id=r["event"],
                name=r["name"],
                gate=r["gate"],
                lists=[],
                created_at=r["created_at"],
                last_seen_at=r["last_seen_at"],
                revoked_at=r["revoked_at"],
            )
        if r["list_id"] is not None:
            device.lists.append(DeviceListOut(id=r["list_id"], name=r["list_name"]))
    return list(found.values())


async def list_devices(principal: Principal | None, event_id: int) -> list[DeviceOut]:
    """The event's scanning devices with their lists and last contact (revoked ones last)."""
    await _event(principal, event_id, Action.manage_checkin)
    return await _devices(event_id)


async def _check_device_lists(event_id: int, wanted: list[int]) -> list[int]:
    rows = await CheckinList.select(CheckinList.id).where(
        (CheckinList.event == event_id) & CheckinList.archived_at.is_null() & CheckinList.id.is_in(wanted)
    )
    live = {r["id"] for r in rows}
    checks = FieldChecks()
    for i, list_id in enumerate(wanted):
        if list_id not in live:
            checks.add(
                "validation_error", INVALID_INPUT, f"lists[{i}]", "is not an open check-in list of this event"
            )
    checks.raise_if_any(422)
    return list(dict.fromkeys(wanted))


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an SVG image (black on white, scalable)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    text = buffer.getvalue().decode()
    return text[text.index("<svg") :]  # inline in a page: no XML declaration


def enrol_url(base_url: str, token: str) -> str:
    """The scanner page signed in as the device: the token travels in the fragment, which no server
    and no log sees; the page keeps it and removes it from the address."""
    return f"{base_url.rstrip('/')}/scan#device={token}"


async def create_device(
    principal: Principal | None, event_id: int, data: DeviceIn, base_url: str
) -> DeviceCreatedOut:
    """Register a scanning device on lists of the event; its token is in this answer only."""
    await _event(principal, event_id, Action.manage_checkin)
    name = _check_name(data.name)
    gate = data.gate.strip()
    lists = await _check_device_lists(event_id, data.lists)
    token = new_device_token()
    async with transaction():
        row = Device(
            event=event_id,
            name=name,
            gate=gate,
            token_hash=token_digest(token),
            created_by=principal.id if principal else None,
        )
        await row.save()
        await DeviceList.insert(*(DeviceList(device=row.id, checkin_list=x) for x in lists))
        await _changed(
            principal, event_id, "device_created", "checkin_device", row.id, name=name, gate=gate, lists=lists
        )
    url = enrol_url(base_url, token)
    device = (await _devices(event_id, row.id))[0]
    return DeviceCreatedOut(device=device, token=token, enrol_url=url, qr_svg=qr_svg(url))


async def device_row(device_id: int) -> dict[str, Any]:
    row = await Device.select().where(Device.id == device_id).first()
    if row is None:
        raise NotFound("Device")
    return row


def _revoked() -> Conflict:
    return Conflict("device_revoked", "The device is revoked; register a new one")


def _forget_after_commit(cache: PrincipalCache | None, token_hash: str) -> None:
    async def callback() -> None:
        forget_device(cache, token_hash)

    on_commit(callback)


async def update_device(
    principal: Principal | None, device_id: int, data: DevicePatch, cache: PrincipalCache | None = None
) -> DeviceOut:
    """Rename a device, change its gate or replace its lists (a revoked device no longer changes)."""
    row = await device_row(device_id)
    event_id = row["event"]
    await _event(principal, event_id, Action.manage_checkin)
    changes: dict[str, Any] = {}
    if data.name is not None:
        changes["name"] = _check_name(data.name)
    if data.gate is not None:
        changes["gate"] = data.gate.strip()
    lists = await _check_device_lists(event_id, data.lists) if data.lists is not None else None
    async with transaction():
        current = await locked_row(Device, device_id)
        if current is None:
            raise NotFound("Device")
        if current["revoked_at"] is not None:
            raise _revoked()
        changed = {k: v for k, v in changes.items() if current[k] != v}
        if changed:
            await Device.update({getattr(Device, k): v for k, v in changed.items()}).where(
                Device.id == device_id
            )
        if lists is not None:
            had = [
                r["checkin_list"]
                for r in await DeviceList.select(DeviceList.checkin_list).where(
                    DeviceList.device == device_id
                )
            ]
            if set(had) != set(lists):
                await DeviceList.delete().where(DeviceList.device == device_id)
                await DeviceList.insert(*(DeviceList(device=device_id, checkin_list=x) for x in lists))
                changed["lists"] = lists
        if changed:
            await _changed(
                principal, event_id, "device_changed", "checkin_device", device_id, changes=changed
            )
            _forget_after_commit(cache, current["token_hash"])
    return (await _devices(event_id, device_id))[0]


async def revoke_device(
    principal: Principal | None, device_id: int, cache: PrincipalCache | None = None
) -> DeviceOut:
    """Revoke a device's token: its next scan is refused (at once in this process, within a moment in
    the others)."""
    row = await device_row(device_id)
    event_id = row["event"]
    await _event(principal, event_id, Action.manage_checkin)
    async with transaction():
        moved = (
            await Device.update({Device.revoked_at: utcnow()})
            .where((Device.id == device_id) & Device.revoked_at.is_null())
            .returning(Device.token_hash)
        )
        if not moved:
            raise _revoked()
        await _changed(principal, event_id, "device_revoked", "checkin_device", device_id, name=row["name"])
        _forget_after_commit(cache, moved[0]["token_hash"])
    return (await _devices(event_id, device_id))[0]
