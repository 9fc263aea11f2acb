"""An event ready for check-in, built straight into the tables: what every ticketing test starts from.

``await build_world()`` makes an organization and one event (a running ``fair`` by default, dates
2027-09-01 to 2027-09-03 in Asia/Shanghai) with:

- accounts: an organizer (whole event), a check-in staff member, an outsider with no role, and
  ``holders`` people holding visitor tickets (the first ``with_accounts`` of them with an account,
  the rest a name and an address only, like visitors imported in bulk);
- ticket types ``visitor`` (number 1) and ``exhibitor_staff`` (number 2), and the event's first
  signing key (made by the first signed ticket);
- check-in lists: ``gate`` (admits each ticket once) and ``hall`` (a session list, entries and
  exits, capacity ``hall_capacity``), plus whatever ``lists`` adds (name → rules dict);
- a scanning device on every list, at ``Gate 3``, whose token is :data:`DEVICE_TOKEN`.

Every account's password is :data:`tests.integration.conftest.PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from backend.accounts import passwords
from backend.accounts.tables import Role, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.events.tables import Event
from backend.organizations.tables import Organization
from tests.integration.conftest import PASSWORD
from ticketing import keys
from ticketing.tables import CheckinList, Device, DeviceList, Ticket, TicketType

DEVICE_TOKEN = "pdv_world-device-token"
STARTS, ENDS = dt.date(2027, 9, 1), dt.date(2027, 9, 3)


@dataclass
class World:
    organization: int = 0
    event: int = 0
    organizer: int = 0
    staff: int = 0
    outsider: int = 0
    types: dict[str, int] = field(default_factory=dict)  # kind → ticket type id
    tickets: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # per ticket
    holders: list[int | None] = field(default_factory=list)  # per ticket: the account, if any
    lists: dict[str, int] = field(default_factory=dict)  # name → check-in list id
    device: int = 0
    emails: dict[int, str] = field(default_factory=dict)  # user id → e-mail

    def email(self, user_id: int) -> str:
        return self.emails[user_id]


async def _user(world: World, email: str, name: str, hashed: str) -> int:
    user = User.account(email, hashed, name, "en")
    await user.save()
    world.emails[user.id] = email
    return user.id


async def issue(
    world: World, kind: str = "visitor", *, holder: int | None = None, name: str = "", email: str = ""
) -> tuple[int, str]:
    """One more valid ticket of the world's event, signed like the service signs them: (id, code)."""
    type_row = await TicketType.select().where(TicketType.id == world.types[kind]).first()
    serial, code, key_id = await keys.sign_ticket(world.event, kind, type_row["number"], STARTS, ENDS)
    ticket = Ticket(
        event=world.event,
        ticket_type=type_row["id"],
        serial=serial,
        code=code,
        key_id=key_id,
        holder=holder,
        holder_name=name,
        holder_latin=name,
        holder_email=email,
        valid_from=STARTS,
        valid_until=ENDS,
        source="organizer",
    )
    await ticket.save()
    return ticket.id, code


async def build_world(
    *,
    kind: str = "fair",
    holders: int = 6,
    with_accounts: int = 3,
    hall_capacity: int = 100,
    lists: dict[str, dict[str, Any]] | None = None,
    slug: str = "checkin-2027",
) -> World:
    """The world described in the module docstring (the database is expected empty)."""
    world = World()
    hashed = passwords.hash_password(PASSWORD)
    organization = Organization(slug=f"org-{slug}", kind="alliance", name_en="Alliance")
    await organization.save()
    world.organization = organization.id
    event = Event(
        organization=organization.id,
        slug=slug,
        kind=kind,
        status="running",
        name_en="Check-in fair",
        name_zh="签到招聘会",
        starts_on=STARTS,
        ends_on=ENDS,
        time_zone="Asia/Shanghai",
    )
    await event.save()
    world.event = event.id
    world.organizer = await _user(world, "organizer@checkin.example", "Organizer", hashed)
    world.staff = await _user(world, "staff@checkin.example", "Gate staff", hashed)
    world.outsider = await _user(world, "outsider@checkin.example", "Outsider", hashed)
    await RoleGrant.insert(
        RoleGrant(user=world.organizer, role=Role.organizer.value, event=event.id),
        RoleGrant(user=world.staff, role=Role.checkin_staff.value, event=event.id),
    )
    for number, (type_kind, name_en, name_zh) in enumerate(
        (("visitor", "Visitor", "观众"), ("exhibitor_staff", "Exhibitor", "参展商")), start=1
    ):
        ticket_type = TicketType(
            event=event.id, number=number, kind=type_kind, name_en=name_en, name_zh=name_zh
        )
        await ticket_type.save()
        world.types[type_kind] = ticket_type.id
    for i in range(holders):
        name = f"Visitor {i + 1}"
        email = f"visitor{i + 1}@checkin.example"
        holder = await _user(world, email, name, hashed) if i < with_accounts else None
        ticket_id, code = await issue(world, holder=holder, name=name, email=email)
        world.tickets.append(ticket_id)
        world.codes.append(code)
        world.holders.append(holder)
    wanted = {
        "gate": {"kind": "gate", "rules": {}},
        "hall": {"kind": "session", "rules": {"entries_total": None, "capacity": hall_capacity}},
        **{name: {"kind": "gate", "rules": rules} for name, rules in (lists or {}).items()},
    }
    for position, (name, spec) in enumerate(wanted.items()):
        row = CheckinList(
            event=event.id, name=name, kind=spec["kind"], rules=spec["rules"], position=position
        )
        await row.save()
        world.lists[name] = row.id
    device = Device(event=event.id, name="Scanner 1", gate="Gate 3", token_hash=token_digest(DEVICE_TOKEN))
    await device.save()
    world.device = device.id
    await DeviceList.insert(*(DeviceList(device=device.id, checkin_list=i) for i in world.lists.values()))
    return world
