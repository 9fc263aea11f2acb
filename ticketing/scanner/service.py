"""Which check-in lists a scanner may use: a device's own lists, or for a person the lists of every
event where the policy allows them ``scan_tickets`` (check-in staff, whole-event organizers)."""

from __future__ import annotations

from backend.accounts.tables import Role
from backend.db import fetch_all
from backend.i18n import localized
from backend.policy import Action, Outcome, Principal, decide, event_context, my_organization_ids
from ticketing.scanner.schemas import ScannerListOut, ScannerOut

MAX_LISTS = 500

_LISTS_SQL = (
    "SELECT l.id, l.name, l.kind, l.event, e.name_zh, e.name_en, e.name_ru, e.time_zone"
    " FROM checkin_list l JOIN event e ON e.id = l.event"
    " WHERE l.archived_at IS NULL AND l.event IN ({events}) ORDER BY l.event, l.position, l.id"
)


async def _candidate_events(principal: Principal) -> list[int]:
    """Events where the person might scan: their check-in staff and organizer grants, the events of
    their organizations; for a platform admin, every event that is running."""
    if principal.is_platform_admin:
        rows = await fetch_all("SELECT id FROM event WHERE status = 'running'")
        return [r["id"] for r in rows]
    rows = await fetch_all(
        'SELECT DISTINCT event FROM role_grant WHERE "user" = {} AND event IS NOT NULL AND role IN ({}, {})',
        principal.id,
        Role.checkin_staff.value,
        Role.organizer.value,
    )
    ids = {r["event"] for r in rows}
    organizations = await my_organization_ids(principal)
    for organization in organizations:
        rows = await fetch_all("SELECT id FROM event WHERE organization = {}", organization)
        ids.update(r["id"] for r in rows)
    return sorted(ids)


async def scanner(principal: Principal, locale: str) -> ScannerOut:
    """The caller as a scanner and the lists it may scan on."""
    device = principal.device
    if device is not None:
        events = [device.event_id]
        allowed_lists: frozenset[int] | None = device.lists
    else:
        events = []
        for event_id in await _candidate_events(principal):
            context = await event_context(principal, event_id)
            if context is not None and decide(principal, Action.scan_tickets, context) is Outcome.allowed:
                events.append(event_id)
        allowed_lists = None
    lists: list[ScannerListOut] = []
    if events:
        marks = ", ".join("{}" for _ in events)
        for row in await fetch_all(_LISTS_SQL.format(events=marks), *events):
            if allowed_lists is not None and row["id"] not in allowed_lists:
                continue
            lists.append(
                ScannerListOut(
                    id=row["id"],
                    name=row["name"],
                    kind=row["kind"],
                    event=row["event"],
                    event_name=localized(dict(row), "name", locale),
                    time_zone=row["time_zone"],
                )
            )
            if len(lists) >= MAX_LISTS:
                break
    return ScannerOut(
        device=principal.display_name if device is not None else None,
        gate=device.gate if device is not None else "",
        lists=lists,
    )
