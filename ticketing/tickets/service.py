"""Tickets: the rules of ticket types, issuing, revoking, reissuing, transferring and mailing
tickets, and the events' signing keys.

Every change is validate → write in one transaction → audit entry (``ticketing.<kind>``) → answer.
What no race may break is held by unique indexes: one type number per event (``ticket_type_number``),
one valid ticket per account and type (``ticket_live_holder``) and per address and type for people
without an account (``ticket_live_guest``). Issuing in bulk inserts with ``ON CONFLICT DO NOTHING``,
so issuing twice, or twice at once (a role granted while the organizer issues in bulk, two workers
running the safety-net job), makes each ticket once. A ticket's code changes (reissue, transfer)
under the ticket's row lock, and the old serial goes to ``ticket_revoked_code`` in the same
transaction, so a scan of the old code is refused as ``revoked`` from the commit on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backend import audit, policy
from backend.db import fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError, FieldChecks, NotFound
from backend.events.tables import Event
from backend.i18n import localized
from backend.mail.service import queue_email
from backend.policy import Action, Principal, TicketContext
from backend.settings import get_settings
from backend.teams.mail import event_name, locale_of
from backend.teams.tables import ADVISOR_ROLES, STUDENT_ROLES
from ticketing import codes, keys
from ticketing.tables import ParticipantKind, SigningKey, Ticket, TicketStatus, TicketType
from ticketing.tickets.schemas import (
    HolderIn,
    IssuedOut,
    IssueMissingIn,
    SigningKeyOut,
    TicketIn,
    TicketOut,
    TicketsPage,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePatch,
    TransferIn,
)

# Who is eligible for a ticket of each kind without being named one by one: confirmed members or
# advisors of approved teams (or complete ones where the contest approves no teams), and holders of
# the event's roles. Guests, speakers and visitors are issued by organizers or imported.
TEAM_KINDS = {ParticipantKind.team_member.value: STUDENT_ROLES, ParticipantKind.advisor.value: ADVISOR_ROLES}
ROLE_KINDS = {
    ParticipantKind.judge.value: ("judge",),
    ParticipantKind.staff.value: ("checkin_staff", "organizer"),
    ParticipantKind.exhibitor_staff.value: ("exhibitor",),
}
KIND_OF_ROLE = {role: kind for kind, roles in ROLE_KINDS.items() for role in roles}
BATCH = 500  # rows per INSERT when issuing in bulk

_TICKET_COLUMNS = (
    "t.id, t.event, t.ticket_type, t.serial, t.code, t.key_id, t.holder, t.holder_name, t.holder_latin,"
    " t.holder_email, t.institution, t.team, t.source, t.status, t.valid_from, t.valid_until, t.flags,"
    " t.issued_at, t.revoked_at, y.number, y.kind, y.colour, y.name_zh, y.name_en, y.name_ru"
)
_TICKET_FROM = "FROM ticket t JOIN ticket_type y ON y.id = t.ticket_type"
_ACCOUNTS = (
    "SELECT u.id, u.email, u.display_name, p.name_native, p.name_latin, i.name_zh, i.name_en"
    ' FROM podium_user u LEFT JOIN profile p ON p."user" = u.id'
    " LEFT JOIN institution i ON i.id = p.institution WHERE u.active AND u.id IN ({ids})"
)
_TEAM_PEOPLE = (
    'SELECT m."user" AS person, m.team, t.status, t.track FROM team_member m JOIN team t ON t.id = m.team'
    " WHERE t.event = {} AND m.state = 'confirmed' AND m.\"user\" IS NOT NULL"
    " AND m.role IN ({roles}) AND t.status IN ('approved', 'complete')"
)
_ROLE_PEOPLE = 'SELECT DISTINCT "user" AS person FROM role_grant WHERE event = {} AND role IN ({roles})'


# Access -----------------------------------------------------------------------------------------


async def event_access(principal: Principal, event_id: int, action: Action = Action.manage_tickets) -> dict:
    """The event's row, once the policy allows ``action`` in it (404 for an event the caller may not
    see, 403 when refused)."""
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    policy.require(principal, action, context)
    row = await Event.select().where(Event.id == event_id).first()
    assert row is not None
    return row


async def _ticket_row(ticket_id: int) -> dict[str, Any]:
    row = await fetch_one(f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM} WHERE t.id = {{}}", ticket_id)
    if row is None:
        raise NotFound("Ticket")
    return row


async def ticket_access(principal: Principal, ticket_id: int, action: Action = Action.view_ticket) -> dict:
    """The ticket's row (with its type's columns), once the policy allows ``action``: ``view_ticket``
    (its holder and the event's organizers; anyone else finds nothing) or ``manage_tickets``."""
    row = await _ticket_row(ticket_id)
    context = await policy.event_context(principal, row["event"])
    if context is None:
        raise NotFound("Ticket")
    policy.require(principal, Action.view_ticket, context, ticket=TicketContext(row["holder"]))
    if action is not Action.view_ticket:  # its holder sees it but may not change it: 403
        policy.require(principal, action, context)
    return row


async def _changed(
    actor_id: int | None, event_id: int, kind: str, target: str, target_id: int | None, **data
):
    await audit.record(actor_id, f"ticketing.{kind}", target, target_id, event_id=event_id, data=data)


# Ticket types -----------------------------------------------------------------------------------


def _type_name(row: dict[str, Any], locale: str) -> str:
    """A ticket type's name in ``locale`` (or the fallback languages), else its number."""
    return localized(row, "name", locale) or str(row["number"])


def _type_out(row: dict[str, Any], locale: str, issued: int = 0) -> TicketTypeOut:
    return TicketTypeOut(
        id=row["id"],
        event_id=row["event"],
        number=row["number"],
        kind=row["kind"],
        name=_type_name(row, locale),
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        name_ru=row["name_ru"],
        colour=row["colour"],
        auto_issue=row["auto_issue"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        issued=issued,
    )


async def list_types(principal: Principal, event_id: int, locale: str = "en") -> list[TicketTypeOut]:
    """The event's ticket types by number, each with its count of valid tickets."""
    await event_access(principal, event_id)
    return await types_of(event_id, locale)


async def types_of(event_id: int, locale: str = "en") -> list[TicketTypeOut]:
    rows = await fetch_all(
        "SELECT y.*, (SELECT COUNT(*) FROM ticket t WHERE t.ticket_type = y.id AND t.status = 'valid')"
        " AS issued FROM ticket_type y WHERE y.event = {} ORDER BY y.number",
        event_id,
    )
    return [_type_out(r, locale, r["issued"]) for r in rows]


def _validity(event: dict[str, Any], valid_from: dt.date | None, valid_until: dt.date | None) -> tuple:
    return valid_from or event["starts_on"], valid_until or event["ends_on"]


def _check_type(event: dict[str, Any], values: dict[str, Any]) -> None:
    checks = FieldChecks()
    if not any((values.get(f"name_{loc}") or "").strip() for loc in ("zh", "en", "ru")):
        checks.add("name_required", "Give a name in at least one language", "name_en", "required")
    first, last = _validity(event, values.get("valid_from"), values.get("valid_until"))
    if first is not None and last is not None:
        if last < first:
            checks.add(
                "invalid_validity",
                "A ticket cannot stop being valid before it starts",
                "valid_until",
                "must not be before the first valid day",
            )
        elif (last - first).days + 1 > codes.MAX_VALID_DAYS or first < codes.EPOCH:
            checks.add(
                "invalid_validity",
                "A ticket is valid for at most {days} days from 2020 on",
                "valid_until",
                "must be at most {days} days after the first valid day",
                days=codes.MAX_VALID_DAYS,
            )
    checks.raise_if_any()


async def create_type(
    principal: Principal, event_id: int, data: TicketTypeIn, locale: str = "en"
) -> TicketTypeOut:
    """Add a ticket type to the event (its number unique there: 409 ``ticket_type_number_taken``)."""
    event = await event_access(principal, event_id)
    values = msgspec.structs.asdict(data)
    values["kind"] = data.kind.value
    _check_type(event, values)
    async with transaction():
        row = TicketType(event=event_id, **values)
        await row.save()
        await _changed(principal.id, event_id, "type_created", "ticket_type", row.id, number=data.number)
    created = await TicketType.select().where(TicketType.id == row.id).first()
    return _type_out(created, locale)


async def _type_in_event(type_id: int) -> dict[str, Any]:
    row = await TicketType.select().where(TicketType.id == type_id).first()
    if row is None:
        raise NotFound("Ticket type")
    return row


async def update_type(
    principal: Principal, type_id: int, data: TicketTypePatch, locale: str = "en"
) -> TicketTypeOut:
    """Change a ticket type; its number and kind only while no ticket of it exists. New validity
    dates reach existing tickets when they are reissued."""
    found = await _type_in_event(type_id)
    event = await event_access(principal, found["event"])
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "kind" in changes:
        changes["kind"] = ParticipantKind(changes["kind"]).value
    async with transaction():
        row = await locked_row(TicketType, type_id)
        if row is None:
            raise NotFound("Ticket type")
        _check_type(event, {**row, **changes})
        carried = [k for k in ("number", "kind") if k in changes and changes[k] != row[k]]
        if carried and await Ticket.exists().where(Ticket.ticket_type == type_id):
            raise Conflict(
                "ticket_type_in_use",
                "Tickets of this type exist: its number and kind are printed in their codes",
                fields=dict.fromkeys(carried, "cannot change once tickets are issued"),
            )
        if changes:
            await TicketType.update(changes).where(TicketType.id == type_id)
        await _changed(
            principal.id, row["event"], "type_changed", "ticket_type", type_id, fields=sorted(changes)
        )
    types = await types_of(row["event"], locale)
    return next(t for t in types if t.id == type_id)


async def delete_type(principal: Principal, type_id: int) -> None:
    """Remove a ticket type that has never had a ticket (409 ``ticket_type_in_use`` otherwise)."""
    found = await _type_in_event(type_id)
    await event_access(principal, found["event"])
    async with transaction():
        row = await locked_row(TicketType, type_id)
        if row is None:
            raise NotFound("Ticket type")
        if await Ticket.exists().where(Ticket.ticket_type == type_id):
            raise Conflict("ticket_type_in_use", "Tickets of this type exist; revoke them instead")
        await TicketType.delete().where(TicketType.id == type_id)
        await _changed(
            principal.id, row["event"], "type_deleted", "ticket_type", type_id, number=row["number"]
        )


# Issuing ----------------------------------------------------------------------------------------


@dataclass
class Holder:
    """Who a new ticket is for, with the names copied onto it."""

    user_id: int | None
    name: str
    latin: str
    email: str
    institution: str
    team_id: int | None = None


class Signer:
    """Signs the codes of one event's new tickets with its current key (read once per batch)."""

    def __init__(self, event_id: int, key_id: int, private_key: bytes) -> None:
        self.event_id, self.key_id, self.private_key = event_id, key_id, private_key

    @classmethod
    async def of(cls, event_id: int) -> Signer:
        key_id, private = await keys.signing_key(event_id)
        return cls(event_id, key_id, private)

    def sign(self, type_row: dict[str, Any], first: dt.date, last: dt.date, flags: int) -> tuple[str, str]:
        return keys.sign_new(
            self.event_id,
            self.key_id,
            self.private_key,
            type_row["kind"],
            type_row["number"],
            first,
            last,
            codes.Flag(flags),
        )


def _ticket_validity(event: dict[str, Any], type_row: dict[str, Any]) -> tuple[dt.date, dt.date]:
    first, last = _validity(event, type_row["valid_from"], type_row["valid_until"])
    if first is None or last is None or not 1 <= (last - first).days + 1 <= codes.MAX_VALID_DAYS:
        raise Conflict(
            "invalid_validity",
            "The ticket type's validity ({first} to {last}) cannot be signed into a code: give it at most {days} days",
            params={"first": first, "last": last, "days": codes.MAX_VALID_DAYS},
        )
    return first, last


_INSERT = (
    "INSERT INTO ticket (event, ticket_type, serial, code, key_id, holder, holder_name, holder_latin,"
    " holder_email, institution, team, source, status, valid_from, valid_until, flags, issued_by) VALUES "
)
_ROW = "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'valid', {}, {}, {}, {})"


async def _insert(
    event: dict[str, Any],
    type_row: dict[str, Any],
    holders: Sequence[Holder],
    source: str,
    actor_id: int | None,
    signer: Signer,
    flags: int = 0,
) -> list[int]:
    """Insert a valid ticket of ``type_row`` for each of ``holders`` who lacks one (the unique
    indexes decide, so concurrent issuers make each ticket once); the new tickets' ids."""
    first, last = _ticket_validity(event, type_row)
    made: list[int] = []
    for start in range(0, len(holders), BATCH):
        args: list[Any] = []
        rows = []
        for h in holders[start : start + BATCH]:
            serial, code = signer.sign(type_row, first, last, flags)
            args += [
                event["id"], type_row["id"], serial, code, signer.key_id, h.user_id, h.name, h.latin,
                h.email, h.institution, h.team_id, source, first, last, flags, actor_id,
            ]  # fmt: skip
            rows.append(_ROW)
        sql = _INSERT + ", ".join(rows) + " ON CONFLICT DO NOTHING RETURNING id"
        made += [r["id"] for r in await fetch_all(sql, *args)]
    return made


async def _accounts(user_ids: Iterable[int]) -> dict[int, Holder]:
    """The holders for accounts: names from the profile (the account's display name otherwise),
    the institution's name from the directory."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = []
    for start in range(0, len(ids), 5000):  # PostgreSQL takes at most 32,767 parameters
        chunk = ids[start : start + 5000]
        rows += await fetch_all(_ACCOUNTS.replace("{ids}", ", ".join("{}" for _ in chunk)), *chunk)
    return {
        r["id"]: Holder(
            user_id=r["id"],
            name=(r["name_native"] or r["display_name"] or r["email"])[:200],
            latin=(r["name_latin"] or "")[:200],
            email=r["email"][:255],
            institution=(r["name_zh"] or r["name_en"] or "")[:300],
        )
        for r in rows
    }


async def _team_people(event_id: int, kind: str, team_id: int | None = None) -> dict[int, int]:
    """Confirmed people of the kind's roles in the event's approved teams (or complete ones where the
    contest approves none), as user id → team id."""
    from backend.teams.review import approval_required

    roles = TEAM_KINDS[kind]
    marks = ", ".join("{}" for _ in roles)
    sql = _TEAM_PEOPLE.replace("{roles}", marks) + (" AND t.id = {}" if team_id is not None else "")
    rows = await fetch_all(sql, event_id, *roles, *((team_id,) if team_id is not None else ()))
    approval: dict[int, bool] = {}
    people = {}
    for r in rows:
        if r["status"] == "complete":
            if r["track"] not in approval:
                approval[r["track"]] = await approval_required(event_id, r["track"])
            if approval[r["track"]]:
                continue
        people[r["person"]] = r["team"]
    return people


async def _role_people(event_id: int, kind: str, user_id: int | None = None) -> set[int]:
    roles = ROLE_KINDS[kind]
    marks = ", ".join("{}" for _ in roles)
    sql = _ROLE_PEOPLE.replace("{roles}", marks) + (' AND "user" = {}' if user_id is not None else "")
    rows = await fetch_all(sql, event_id, *roles, *((user_id,) if user_id is not None else ()))
    return {r["person"] for r in rows}


async def eligible(
    event_id: int, kind: str, *, team_id: int | None = None, user_id: int | None = None
) -> list[Holder]:
    """Everyone who should hold a ticket of ``kind`` in the event (for ``team_id`` or ``user_id``
    only, when given), sorted by account."""
    if kind in TEAM_KINDS:
        teams = await _team_people(event_id, kind, team_id)
        if user_id is not None:
            teams = {u: t for u, t in teams.items() if u == user_id}
        people = await _accounts(teams)
        for person, holder in people.items():
            holder.team_id = teams[person]
    elif kind in ROLE_KINDS and team_id is None:
        people = await _accounts(await _role_people(event_id, kind, user_id))
    else:
        return []
    return [people[k] for k in sorted(people)]


async def _issue_missing_of_type(
    event: dict[str, Any],
    type_row: dict[str, Any],
    actor_id: int | None,
    source: str,
    *,
    team_id: int | None = None,
    user_id: int | None = None,
) -> tuple[int, int]:
    people = await eligible(event["id"], type_row["kind"], team_id=team_id, user_id=user_id)
    if not people:
        return 0, 0
    held = {
        r["holder"]
        for r in await Ticket.select(Ticket.holder).where(
            (Ticket.ticket_type == type_row["id"]) & (Ticket.status == TicketStatus.valid.value)
        )
    }
    wanted = [p for p in people if p.user_id not in held]
    made = (
        await _insert(event, type_row, wanted, source, actor_id, await Signer.of(event["id"]))
        if wanted
        else []
    )
    return len(made), len(people) - len(made)


async def issue_missing(principal: Principal | None, event_id: int, data: IssueMissingIn) -> IssuedOut:
    """Issue a ticket to every eligible person lacking one (see :class:`IssueMissingIn`); idempotent.
    ``principal`` ``None`` is the system (the safety-net job)."""
    if principal is not None:
        event = await event_access(principal, event_id)
    else:
        event = await Event.select().where(Event.id == event_id).first()
        if event is None:
            raise NotFound("Event")
    query = TicketType.select().where(TicketType.event == event_id)
    if data.ticket_type is not None:
        query = query.where(TicketType.id == data.ticket_type)
    if data.kind is not None:
        query = query.where(TicketType.kind == data.kind.value)
    if data.ticket_type is None and data.kind is None:
        query = query.where(TicketType.auto_issue.eq(True))
    types = await query.order_by(TicketType.number)
    if data.ticket_type is not None and not types:
        raise DomainError(
            "unknown_ticket_type", "The event has no such ticket type", fields={"ticket_type": "unknown"}
        )
    issued = already = 0
    actor_id = principal.id if principal is not None else None
    async with transaction():
        for type_row in types:
            made, had = await _issue_missing_of_type(
                event, type_row, actor_id, "organizer" if principal is not None else "auto"
            )
            issued, already = issued + made, already + had
        if issued or principal is not None:
            await _changed(
                actor_id, event_id, "tickets_issued", "event", event_id, issued=issued,
                types=[t["number"] for t in types],
            )  # fmt: skip
    return IssuedOut(issued=issued, already=already)


async def _holder_of(data: HolderIn, event_id: int) -> Holder:
    """The holder a body names: an account (names from its profile unless given) or a person
    without one (a name and an address are required)."""
    email = (data.email or "").strip()
    if data.user_id is not None:
        people = await _accounts([data.user_id])
        if data.user_id not in people:
            raise DomainError("unknown_user", "No such user", fields={"user_id": "unknown"})
        found = people[data.user_id]
        return Holder(
            user_id=data.user_id,
            name=data.name_native.strip() or found.name,
            latin=data.name_latin.strip() or found.latin,
            email=email or found.email,
            institution=data.institution.strip() or found.institution,
        )
    checks = FieldChecks()
    if not data.name_native.strip():
        checks.add(
            "holder_required",
            "Name the holder: an account, or a name and an e-mail address",
            "name_native",
            "required",
        )
    if not email:
        checks.add(
            "holder_required",
            "Name the holder: an account, or a name and an e-mail address",
            "email",
            "required",
        )
    checks.raise_if_any()
    return Holder(None, data.name_native.strip(), data.name_latin.strip(), email, data.institution.strip())


async def _type_of_event(event_id: int, type_id: int, field: str = "ticket_type") -> dict[str, Any]:
    row = await TicketType.select().where((TicketType.id == type_id) & (TicketType.event == event_id)).first()
    if row is None:
        raise DomainError(
            "unknown_ticket_type", "The event has no such ticket type", fields={field: "unknown"}
        )
    return row


async def issue_ticket(principal: Principal, event_id: int, data: TicketIn, locale: str = "en") -> TicketOut:
    """Issue one ticket; a holder who already has a valid ticket of the type is refused (409
    ``ticket_held``)."""
    event = await event_access(principal, event_id)
    type_row = await _type_of_event(event_id, data.ticket_type)
    holder = await _holder_of(data, event_id)
    flags = int(codes.Flag.attention) if data.attention else 0
    async with transaction():
        made = await _insert(
            event, type_row, [holder], "organizer", principal.id, await Signer.of(event_id), flags
        )
        if not made:
            raise Conflict(
                "ticket_held",
                "The holder already has a valid ticket of this type",
                fields={"ticket_type": "taken"},
            )
        await _changed(principal.id, event_id, "ticket_issued", "ticket", made[0], type=type_row["number"])
    return ticket_out(await _ticket_row(made[0]), locale)


# CSV import -------------------------------------------------------------------------------------

CSV_COLUMNS = ("name_native", "name_latin", "email", "institution", "type")
MAX_IMPORT_ROWS = 50_000


def parse_csv(text: str, type_numbers: dict[int, dict[str, Any]]) -> list[tuple[Holder, dict[str, Any]]]:
    """Every row of an import as (holder, ticket type), or ``import_rows_invalid`` naming each wrong
    row and column (``rows[<line>].<column>``, the file's line number): nothing is written then."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("name_native", "email", "type") if c not in header]
    if missing:
        raise DomainError(
            "invalid_csv",
            "The file lacks the column(s) {columns}; expected {expected}",
            fields={"csv": "missing columns"},
            params={"columns": ", ".join(missing), "expected": ",".join(CSV_COLUMNS)},
        )
    reader.fieldnames = header
    problems: dict[str, str] = {}
    parsed: list[tuple[Holder, dict[str, Any]]] = []
    seen: dict[tuple[int, str], int] = {}
    for row in reader:
        line = reader.line_num
        if line > MAX_IMPORT_ROWS + 1:
            raise DomainError(
                "spreadsheet_too_large",
                "An import takes at most {rows} rows",
                params={"rows": MAX_IMPORT_ROWS},
            )
        values = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
        if not any(values.values()):
            continue
        try:
            holder = msgspec.convert(
                {k: values[k] for k in ("name_native", "name_latin", "institution")}
                | {"email": values["email"] or None},
                HolderIn,
            )
        except msgspec.ValidationError as exc:
            where = str(exc).rpartition("$.")[2].rstrip("`") or "row"
            problems[f"rows[{line}].{where}"] = "is invalid"
            continue
        type_row = type_numbers.get(int(values["type"])) if values["type"].isdigit() else None
        if not values["name_native"]:
            problems[f"rows[{line}].name_native"] = "required"
        if not values["email"]:
            problems[f"rows[{line}].email"] = "required"
        if type_row is None:
            problems[f"rows[{line}].type"] = "is not the number of a ticket type of the event"
        if problems:
            continue
        key = (type_row["id"], values["email"].lower())
        if key in seen:
            problems[f"rows[{line}].email"] = "is repeated in the file for the same ticket type"
            continue
        seen[key] = line
        parsed.append(
            (
                Holder(None, holder.name_native, holder.name_latin, values["email"], holder.institution),
                type_row,
            )
        )
    if problems:
        raise DomainError(
            "import_rows_invalid",
            "Rows of the file are wrong; nothing was imported: {problems}",
            fields=dict(list(problems.items())[:50]),
        )
    if not parsed:
        raise DomainError("invalid_csv", "The file has a header but no rows", fields={"csv": "no rows"})
    return parsed


async def import_csv(principal: Principal, event_id: int, text: str) -> IssuedOut:
    """Issue tickets to the people of a CSV file (see :func:`parse_csv`): every row is checked
    first, and a person who already holds a valid ticket of the type (same address) is skipped, so
    importing the same file again issues nothing."""
    event = await event_access(principal, event_id)
    numbers = {r["number"]: r for r in await TicketType.select().where(TicketType.event == event_id)}
    rows = parse_csv(text, numbers)
    issued = 0
    async with transaction():
        signer = await Signer.of(event_id)
        by_type: dict[int, list[Holder]] = {}
        for holder, type_row in rows:
            by_type.setdefault(type_row["number"], []).append(holder)
        for number, holders in by_type.items():
            issued += len(await _insert(event, numbers[number], holders, "import", principal.id, signer))
        await _changed(
            principal.id, event_id, "tickets_imported", "event", event_id, rows=len(rows), issued=issued
        )
    return IssuedOut(issued=issued, already=len(rows) - issued)


# One ticket -------------------------------------------------------------------------------------


def ticket_out(row: dict[str, Any], locale: str = "en") -> TicketOut:
    return TicketOut(
        id=row["id"],
        event_id=row["event"],
        ticket_type_id=row["ticket_type"],
        type_number=row["number"],
        type_name=_type_name(row, locale),
        kind=row["kind"],
        colour=row["colour"],
        serial=row["serial"],
        code=row["code"],
        key_id=row["key_id"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        holder_latin=row["holder_latin"],
        holder_email=row["holder_email"],
        institution=row["institution"],
        team_id=row["team"],
        source=row["source"],
        status=row["status"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        attention=bool(row["flags"] & codes.Flag.attention),
        issued_at=row["issued_at"],
        revoked_at=row["revoked_at"],
    )


async def get_ticket(principal: Principal, ticket_id: int, locale: str = "en") -> TicketOut:
    """One ticket, for its holder and the event's organizers."""
    return ticket_out(await ticket_access(principal, ticket_id), locale)


async def my_tickets(principal: Principal, locale: str = "en") -> list[TicketOut]:
    """The caller's own tickets, newest first."""
    rows = await fetch_all(
        f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM} WHERE t.holder = {{}} ORDER BY t.status DESC, t.id DESC",
        principal.id,
    )
    return [ticket_out(r, locale) for r in rows]


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filters(
    event_id: int, query: str | None, type_id: int | None, status: str | None
) -> tuple[str, list[Any]]:
    where, args = ["t.event = {}"], [event_id]
    if query:
        where.append(
            "(LOWER(t.holder_name) LIKE {} ESCAPE '\\' OR LOWER(t.holder_latin) LIKE {} ESCAPE '\\'"
            " OR LOWER(t.holder_email) LIKE {} ESCAPE '\\' OR LOWER(t.institution) LIKE {} ESCAPE '\\'"
            " OR t.serial = {})"
        )
        args += [_like(query)] * 4 + [query.strip().lower()]
    if type_id is not None:
        where.append("t.ticket_type = {}")
        args.append(type_id)
    if status is not None:
        where.append("t.status = {}")
        args.append(status)
    return " AND ".join(where), args


async def list_tickets(
    principal: Principal,
    event_id: int,
    *,
    query: str | None = None,
    type_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    locale: str = "en",
) -> TicketsPage:
    """The event's tickets, found by holder name, address, institution or serial, by type, by status."""
    await event_access(principal, event_id)
    where, args = _filters(event_id, query, type_id, status)
    total = await fetch_one(f"SELECT COUNT(*) AS n {_TICKET_FROM} WHERE {where}", *args)
    rows = await fetch_all(
        f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM} WHERE {where} ORDER BY t.id LIMIT {{}} OFFSET {{}}",
        *args,
        limit,
        offset,
    )
    return TicketsPage(items=[ticket_out(r, locale) for r in rows], total=total["n"] if total else 0)


async def export_rows(principal: Principal, event_id: int, locale: str = "en") -> list[TicketOut]:
    """Every ticket of the event, for the exports."""
    await event_access(principal, event_id)
    return await event_tickets(event_id, locale)


async def event_tickets(event_id: int, locale: str = "en") -> list[TicketOut]:
    """Every ticket of the event by id (the operator's export: no caller to check)."""
    rows = await fetch_all(
        f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM} WHERE t.event = {{}} ORDER BY t.id", event_id
    )
    return [ticket_out(r, locale) for r in rows]


async def _locked_valid(ticket_id: int) -> dict[str, Any]:
    row = await locked_row(Ticket, ticket_id)
    if row is None:
        raise NotFound("Ticket")
    if row["status"] != TicketStatus.valid.value:
        raise Conflict("ticket_revoked", "The ticket is revoked; issue a new one")
    return row


async def revoke_ticket(principal: Principal, ticket_id: int, locale: str = "en") -> TicketOut:
    """Revoke a ticket: its code is refused as ``revoked`` from now on (409 if already revoked)."""
    row = await ticket_access(principal, ticket_id, Action.manage_tickets)
    async with transaction():
        done = await fetch_all(
            "UPDATE ticket SET status = 'revoked', revoked_at = {} WHERE id = {} AND status = 'valid'"
            " RETURNING serial",
            utcnow(),
            ticket_id,
        )
        if not done:
            raise Conflict("ticket_revoked", "The ticket is already revoked")
        await _revoke_serial(ticket_id, row["event"], done[0]["serial"], "revoked")
        await _changed(principal.id, row["event"], "ticket_revoked", "ticket", ticket_id)
    return ticket_out(await _ticket_row(ticket_id), locale)


async def _revoke_serial(ticket_id: int, event_id: int, serial: str, reason: str) -> None:
    await fetch_all(
        "INSERT INTO ticket_revoked_code (ticket, event, serial, reason, revoked_at) VALUES ({}, {}, {}, {}, {})"
        " ON CONFLICT DO NOTHING",
        ticket_id,
        event_id,
        serial,
        reason,
        utcnow(),
    )


async def _new_code(ticket_id: int, changes: dict[str, Any], reason: str) -> dict[str, Any]:
    """Under the ticket's lock: sign a new code for it (its type's current validity), keep the old
    serial as revoked for ``reason``, and write ``changes`` with it."""
    row = await _locked_valid(ticket_id)
    event = await Event.select().where(Event.id == row["event"]).first()
    type_row = await TicketType.select().where(TicketType.id == row["ticket_type"]).first()
    first, last = _ticket_validity(event, type_row)
    signer = await Signer.of(row["event"])
    serial, code = signer.sign(type_row, first, last, row["flags"])
    await Ticket.update(
        {
            Ticket.serial: serial,
            Ticket.code: code,
            Ticket.key_id: signer.key_id,
            Ticket.valid_from: first,
            Ticket.valid_until: last,
            Ticket.issued_at: utcnow(),
            **{getattr(Ticket, k): v for k, v in changes.items()},
        }
    ).where(Ticket.id == ticket_id)
    await _revoke_serial(ticket_id, row["event"], row["serial"], reason)
    return row


async def reissue_ticket(principal: Principal, ticket_id: int, locale: str = "en") -> TicketOut:
    """Give a valid ticket a new serial and code (a lost or copied ticket): the old code is refused as
    ``revoked`` from the commit on."""
    await ticket_access(principal, ticket_id, Action.manage_tickets)
    async with transaction():
        row = await _new_code(ticket_id, {}, "reissued")
        await _changed(principal.id, row["event"], "ticket_reissued", "ticket", ticket_id)
    return ticket_out(await _ticket_row(ticket_id), locale)


async def transfer_ticket(
    principal: Principal, ticket_id: int, data: TransferIn, locale: str = "en"
) -> TicketOut:
    """Give a valid ticket to another holder with a new code; the old code is refused as
    ``revoked``. A new holder who already has a valid ticket of the type is refused (409)."""
    found = await ticket_access(principal, ticket_id, Action.manage_tickets)
    holder = await _holder_of(data, found["event"])
    changes = {
        "holder": holder.user_id,
        "holder_name": holder.name,
        "holder_latin": holder.latin,
        "holder_email": holder.email,
        "institution": holder.institution,
        "team": None,
    }
    async with transaction():
        row = await _new_code(ticket_id, changes, "transferred")
        await _changed(
            principal.id, row["event"], "ticket_transferred", "ticket", ticket_id,
            from_user=row["holder"], to_user=holder.user_id,
        )  # fmt: skip
    return ticket_out(await _ticket_row(ticket_id), locale)


# Mail -------------------------------------------------------------------------------------------

_SUBJECT = {
    "zh": "您的入场券：{event}",
    "en": "Your ticket: {event}",
    "ru": "Ваш билет: {event}",
}
_BODY = {
    "zh": (
        "{name}，您好：\n\n这是您参加「{event}」的入场券（{type}），有效期 {first} 至 {last}。\n"
        "打开下面的链接查看二维码并下载胸牌：\n{link}\n\n"
        "如无法出示二维码，可在入口报出以下票码：\n{code}\n"
    ),
    "en": (
        "Hello {name},\n\nHere is your ticket ({type}) to {event}, valid from {first} to {last}.\n"
        "Open this link to see its QR code and download your badge:\n{link}\n\n"
        "If you cannot show the QR code, the gate can type this code:\n{code}\n"
    ),
    "ru": (
        "Здравствуйте, {name}!\n\nВаш билет ({type}) на «{event}» действителен с {first} по {last}.\n"
        "QR-код и бейдж — по ссылке:\n{link}\n\n"
        "Если QR-код показать не получается, на входе можно ввести код:\n{code}\n"
    ),
}


async def _mail(row: dict[str, Any], event: dict[str, Any], locale: str) -> bool:
    to = row["holder_email"]
    if not to:
        return False
    values = {
        "name": row["holder_name"] or row["holder_latin"],
        "event": event_name(event, locale),
        "type": _type_name(row, locale),
        "first": row["valid_from"].isoformat(),
        "last": row["valid_until"].isoformat(),
        "link": f"{get_settings().base_url.rstrip('/')}/tickets/{row['id']}",
        "code": row["code"],
    }
    await queue_email(to, _SUBJECT[locale].format(**values), _BODY[locale].format(**values))
    return True


async def mail_ticket(principal: Principal, ticket_id: int) -> bool:
    """Mail a valid ticket to its holder (through the outbox, in the holder's language): whether a
    mail was queued (not without an address)."""
    row = await ticket_access(principal, ticket_id, Action.manage_tickets)
    if row["status"] != TicketStatus.valid.value:
        raise Conflict("ticket_revoked", "The ticket is revoked; issue a new one")
    event = await Event.select().where(Event.id == row["event"]).first()
    user = (
        await fetch_one("SELECT locale FROM podium_user WHERE id = {}", row["holder"])
        if row["holder"]
        else None
    )
    async with transaction():
        mailed = await _mail(row, event, locale_of(user["locale"] if user else None, "zh"))
        await _changed(principal.id, row["event"], "ticket_mailed", "ticket", ticket_id, mailed=mailed)
    return mailed


# Signing keys -----------------------------------------------------------------------------------


async def list_keys(principal: Principal, event_id: int) -> list[SigningKeyOut]:
    """The event's signing keys, newest first, each with how many valid tickets it signed."""
    await event_access(principal, event_id)
    return await _keys(event_id)


async def _keys(event_id: int) -> list[SigningKeyOut]:
    rows = await fetch_all(
        "SELECT k.key_id, k.public_key, k.created_at, k.retired_at, (SELECT COUNT(*) FROM ticket t"
        " WHERE t.event = k.event AND t.key_id = k.key_id AND t.status = 'valid') AS tickets"
        " FROM ticket_signing_key k WHERE k.event = {} ORDER BY k.key_id DESC",
        event_id,
    )
    live = [r["key_id"] for r in rows if r["retired_at"] is None]
    signing = max(live) if live else None
    return [
        SigningKeyOut(
            key_id=r["key_id"],
            public_key=r["public_key"],
            created_at=r["created_at"],
            retired_at=r["retired_at"],
            signing=r["key_id"] == signing,
            tickets=r["tickets"],
        )
        for r in rows
    ]


async def rotate_key(principal: Principal, event_id: int) -> SigningKeyOut:
    """Make a new signing key for the event: new codes use it, codes of older keys stay valid."""
    await event_access(principal, event_id)
    async with transaction():
        await locked_row(Event, event_id)
        key_id = await keys.rotate(event_id)
        await _changed(principal.id, event_id, "key_rotated", "ticket_signing_key", None, key_id=key_id)
    return next(k for k in await _keys(event_id) if k.key_id == key_id)


async def retire_key(principal: Principal, event_id: int, key_id: int) -> SigningKeyOut:
    """Retire a key: every code it signed stops verifying (reissue its tickets first). 409 when it is
    already retired."""
    await event_access(principal, event_id)
    async with transaction():
        await locked_row(Event, event_id)
        exists = await SigningKey.exists().where(
            (SigningKey.event == event_id) & (SigningKey.key_id == key_id)
        )
        if not exists:
            raise NotFound("Signing key")
        if not await keys.retire(event_id, key_id):
            raise Conflict("key_retired", "The signing key is already retired")
        await _changed(principal.id, event_id, "key_retired", "ticket_signing_key", None, key_id=key_id)
    return next(k for k in await _keys(event_id) if k.key_id == key_id)


# Automatic issue --------------------------------------------------------------------------------


async def _auto_types(event_id: int, kinds: Iterable[str]) -> list[dict[str, Any]]:
    return await TicketType.select().where(
        (TicketType.event == event_id) & TicketType.auto_issue.eq(True) & TicketType.kind.is_in(list(kinds))
    )


async def issue_for_team(event_id: int, team_id: int) -> int:
    """After a team's registration completes: tickets of the event's automatic team-member and
    advisor types for its confirmed people who lack one. The number issued."""
    types = await _auto_types(event_id, TEAM_KINDS)
    if not types:
        return 0
    event = await Event.select().where(Event.id == event_id).first()
    issued = 0
    async with transaction():
        for type_row in types:
            issued += (await _issue_missing_of_type(event, type_row, None, "registration", team_id=team_id))[
                0
            ]
        if issued:
            await _changed(None, event_id, "tickets_issued", "team", team_id, issued=issued)
    return issued


async def issue_for_role(event_id: int, user_id: int, role: str) -> int:
    """After a role is granted: a ticket of the event's automatic type of the role's kind (judge,
    staff, exhibitor staff) when the person lacks one. The number issued."""
    kind = KIND_OF_ROLE.get(role)
    types = await _auto_types(event_id, [kind]) if kind else []
    if not types:
        return 0
    event = await Event.select().where(Event.id == event_id).first()
    issued = 0
    async with transaction():
        for type_row in types:
            issued += (await _issue_missing_of_type(event, type_row, None, "role", user_id=user_id))[0]
        if issued:
            await _changed(None, event_id, "tickets_issued", "user", user_id, issued=issued, role=role)
    return issued


async def auto_issue_everywhere() -> dict[str, int]:
    """The safety net: every event with an automatic ticket type that is not over gets whatever is
    missing (a listener that failed, a change made outside the services)."""
    rows = await fetch_all(
        "SELECT DISTINCT y.event FROM ticket_type y JOIN event e ON e.id = y.event"
        " WHERE y.auto_issue AND e.status IN ('open', 'running') ORDER BY y.event"
    )
    issued = 0
    for r in rows:
        issued += (await issue_missing(None, r["event"], IssueMissingIn())).issued
    return {"events": len(rows), "issued": issued}
