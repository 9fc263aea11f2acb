"""The ticketing service's tables: ticket types, the events' signing keys, tickets and the codes they
no longer answer to, badge renders, check-in lists, scanning devices and the append-only check-in log.

The database holds what no race may break:

- one ticket type number per event (the number is what a signed code carries);
- one key id per event (codes name the key that signed them);
- one serial per ticket, across every event, and one live ticket per person and ticket type;
- one admission per ticket, list and *slot* (``checkin_admission``): the slot is 0 for a list that
  admits once, the day for once-a-day lists, and the entry's number where more entries are allowed, so
  no interleaving of concurrent scans admits a ticket twice;
- one answer per scanning client and nonce (``checkin_nonce``): a retried scan finds its first answer.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.events.tables import Event, EventSession
from backend.teams.tables import Team


class ParticipantKind(StrEnum):
    """Who a ticket type is for; also the class byte of a signed code (see ``ticketing.codes``)."""

    team_member = "team_member"
    advisor = "advisor"
    judge = "judge"
    guest = "guest"
    speaker = "speaker"
    exhibitor_staff = "exhibitor_staff"
    visitor = "visitor"
    staff = "staff"  # organizers, check-in staff and volunteers


class TicketType(Table, tablename="ticket_type"):
    """A kind of ticket of an event. ``number`` (1–65535, unique per event) is what codes carry.
    With ``auto_issue``, a person gets one when their registration completes (``team_member`` and
    ``advisor``: their team is approved) or when they are granted the matching role (``judge``,
    ``staff`` for check-in staff, ``exhibitor_staff`` for exhibitors). ``valid_from`` and
    ``valid_until`` (local dates) default to the event's dates; ``colour`` is the badge's band."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    kind = Varchar(length=20, choices=ParticipantKind)
    name_zh = Varchar(length=100, default="")
    name_en = Varchar(length=100, default="")
    name_ru = Varchar(length=100, default="")
    colour = Varchar(length=7, default="#1f6feb")
    auto_issue = Boolean(default=False)
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SigningKey(Table, tablename="ticket_signing_key"):
    """One of an event's Ed25519 key pairs. Codes are signed by the newest key that is not retired;
    a code verifies while its key is not retired. ``private_key`` is sealed with the server's secret
    (``ticketing.keys``) and never leaves the server; ``public_key`` is the 32 raw bytes in hex."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    key_id = Integer()  # 0–15: the four bits of a code's first byte
    public_key = Varchar(length=64)
    private_key = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class TicketStatus(StrEnum):
    valid = "valid"
    revoked = "revoked"


class Ticket(Table):
    """A person's ticket to an event. ``serial`` (96 random bits, hex) is what the code carries and
    what a scan looks up; reissuing or transferring gives a new serial and code and keeps the old
    serial in :class:`RevokedCode`. The holder is an account (``holder``) or, for people without one
    (visitors, guests imported in bulk), only a name and an address; the names are copied so a scan
    reads one row. ``valid_from`` / ``valid_until`` are local dates, signed into the code."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    ticket_type = ForeignKey(TicketType, null=False, on_delete=OnDelete.restrict, index=True)
    serial = Varchar(length=24, unique=True)
    code = Varchar(length=200)
    key_id = Integer()
    holder = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    holder_name = Varchar(length=200, default="")  # in native script
    holder_latin = Varchar(length=200, default="")
    holder_email = Varchar(length=255, default="")
    institution = Varchar(length=300, default="")
    team = ForeignKey(Team, null=True, default=None, on_delete=OnDelete.set_null)
    source = Varchar(length=20, default="organizer")  # registration, role, organizer, import
    status = Varchar(length=20, choices=TicketStatus, default=TicketStatus.valid.value)
    valid_from = Date()
    valid_until = Date()
    flags = Integer(default=0)  # ticketing.codes.Flag
    issued_at = Timestamptz(default=TimestamptzNow())
    issued_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    revoked_at = Timestamptz(null=True, default=None)


class RevokedCode(Table, tablename="ticket_revoked_code"):
    """A serial a ticket no longer answers to (reissued or transferred): a scan of the old code is
    refused as ``revoked``, and scanners carry these serials offline."""

    ticket = ForeignKey(Ticket, null=False, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    serial = Varchar(length=24, unique=True)
    reason = Varchar(length=20)  # reissued, transferred
    revoked_at = Timestamptz(default=TimestamptzNow())


class BadgeFormat(StrEnum):
    a6 = "a6"  # 105 × 148 mm
    label = "label"  # 4 × 3 inches


class BadgeRun(Table, tablename="badge_run"):
    """One rendering of an event's badges by the job queue: its progress as the organizer sees it."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    format = Varchar(length=10, choices=BadgeFormat)
    status = Varchar(length=20, default="queued")  # queued, running, done, failed
    total = Integer(default=0)
    done = Integer(default=0)
    error = Varchar(length=500, default="")
    requested_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)  # claimed by a worker (migration 03:10)
    finished_at = Timestamptz(null=True, default=None)


class ListKind(StrEnum):
    gate = "gate"
    session = "session"
    meal = "meal"
    booth = "booth"


class CheckinList(Table, tablename="checkin_list"):
    """Where tickets are checked: a gate, a session (``session``), a meal or a fair booth. ``rules``
    is what ``ticketing.rules.ListRules`` reads; ``inside`` counts who is in now (entries minus
    exits), the number a capacity rule compares, moved only under the list's row lock."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    kind = Varchar(length=20, choices=ListKind, default=ListKind.gate.value)
    session = ForeignKey(EventSession, null=True, default=None, on_delete=OnDelete.set_null)
    rules = JSON(default="{}")
    inside = Integer(default=0)
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    archived_at = Timestamptz(null=True, default=None)


class Device(Table, tablename="checkin_device"):
    """A scanning device of an event with its own bearer token (only the SHA-256 is kept), allowed
    on the lists of :class:`DeviceList`. ``gate`` is what its admissions show ("gate 3")."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    gate = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class DeviceList(Table, tablename="checkin_device_list"):
    device = ForeignKey(Device, null=False, on_delete=OnDelete.cascade)
    checkin_list = ForeignKey(CheckinList, null=False, on_delete=OnDelete.cascade, index=True)


class Direction(StrEnum):
    entry = "entry"
    exit = "exit"


class ScanStatus(StrEnum):
    admitted = "admitted"
    rejected = "rejected"


class Checkin(Table):
    """The append-only check-in log: every scan, admitted or not, as it was answered.

    ``actor`` is ``d<device id>`` or ``u<user id>``; with ``nonce`` it identifies the scan, so a retry
    is answered from its row. ``slot`` is set on admitted entries only (see the module docstring).
    ``scanned_at`` is the device's time (offline scans come later), ``received_at`` the server's.
    An offline scan is uploaded with what the device answered (``offline_verdict``); when the server
    would have refused it, the row says so and ``conflict`` is set: the organizer sees it.
    """

    checkin_list = ForeignKey(CheckinList, null=False, on_delete=OnDelete.cascade)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    ticket = ForeignKey(Ticket, null=True, default=None, on_delete=OnDelete.cascade)
    direction = Varchar(length=10, choices=Direction, default=Direction.entry.value)
    status = Varchar(length=10, choices=ScanStatus)
    reason = Varchar(length=30, null=True, default=None)
    slot = Integer(null=True, default=None)
    actor = Varchar(length=20)
    nonce = Varchar(length=64)
    device = ForeignKey(Device, null=True, default=None, on_delete=OnDelete.set_null)
    staff = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    gate = Varchar(length=100, default="")
    scanned_at = Timestamptz(default=TimestamptzNow())
    received_at = Timestamptz(default=TimestamptzNow())
    offline = Boolean(default=False)
    offline_verdict = Varchar(length=10, null=True, default=None)
    conflict = Boolean(default=False)
    code = Varchar(length=1000, default="")  # what was scanned, as the scan API takes it
