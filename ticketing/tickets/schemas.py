"""The tickets API's bodies and answers (msgspec). Bounds live here; rules across fields (validity
dates, a holder given once) are the service's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.schemas import PRINTABLE, PositiveInt, Struct, column_text, email_type
from ticketing.tables import ParticipantKind, Ticket, TicketType

TypeNumber = Annotated[int, msgspec.Meta(ge=1, le=65535)]
COLOUR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
Colour = Annotated[str, msgspec.Meta(min_length=7, max_length=7, pattern=COLOUR_PATTERN)]
TypeName = column_text(TicketType.name_en)
HolderName = column_text(Ticket.holder_name)
HolderLatin = column_text(Ticket.holder_latin)
Institution = column_text(Ticket.institution)
HolderEmail = email_type(Ticket.holder_email)
CsvText = Annotated[str, msgspec.Meta(min_length=1, max_length=4_000_000)]
Status = Literal["valid", "revoked"]


class TicketTypeIn(Struct, kw_only=True):
    """A new ticket type. ``number`` is what codes carry (unique in the event); ``valid_from`` and
    ``valid_until`` (local dates) default to the event's first and last day."""

    number: TypeNumber
    kind: ParticipantKind
    name_zh: TypeName = ""
    name_en: TypeName = ""
    name_ru: TypeName = ""
    colour: Colour = "#1f6feb"
    auto_issue: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class TicketTypePatch(Struct, kw_only=True):
    """A change of a ticket type: the fields given change. The number and the kind change only while
    no ticket of the type exists (printed codes carry them)."""

    number: TypeNumber | msgspec.UnsetType = msgspec.UNSET
    kind: ParticipantKind | msgspec.UnsetType = msgspec.UNSET
    name_zh: TypeName | msgspec.UnsetType = msgspec.UNSET
    name_en: TypeName | msgspec.UnsetType = msgspec.UNSET
    name_ru: TypeName | msgspec.UnsetType = msgspec.UNSET
    colour: Colour | msgspec.UnsetType = msgspec.UNSET
    auto_issue: bool | msgspec.UnsetType = msgspec.UNSET
    valid_from: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: dt.date | msgspec.UnsetType | None = msgspec.UNSET


class TicketTypeOut(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    number: int
    kind: str
    name: str
    name_zh: str
    name_en: str
    name_ru: str
    colour: str
    auto_issue: bool
    valid_from: dt.date | None
    valid_until: dt.date | None
    issued: int  # valid tickets of the type


class HolderIn(Struct, kw_only=True):
    """Who holds a ticket: an account (``user_id``; its profile gives the names unless given here) or
    a person without one (``name_native`` and ``email`` at least)."""

    user_id: PositiveInt | None = None
    name_native: HolderName = ""
    name_latin: HolderLatin = ""
    email: HolderEmail | None = None
    institution: Institution = ""


class TicketIn(HolderIn, kw_only=True):
    """One ticket to issue: its type and its holder; ``attention`` makes the gate notice the holder."""

    ticket_type: PositiveInt
    attention: bool = False


class TransferIn(HolderIn, kw_only=True):
    """The ticket's new holder: the old code stops working, a new one is signed."""


class IssueMissingIn(Struct, kw_only=True):
    """Issue a ticket to every eligible person who lacks one: of one type, or of every type of one
    kind, or (neither given) of every type marked ``auto_issue``."""

    ticket_type: PositiveInt | None = None
    kind: ParticipantKind | None = None


class IssuedOut(msgspec.Struct, kw_only=True):
    issued: int  # new tickets
    already: int  # eligible people who already held one


class ImportIn(Struct, kw_only=True):
    """A CSV file of people without accounts (visitors, guests): columns ``name_native``,
    ``name_latin``, ``email``, ``institution``, ``type`` (the ticket type's number)."""

    csv: CsvText


class TicketOut(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    ticket_type_id: int
    type_number: int
    type_name: str
    kind: str
    colour: str
    serial: str
    code: str
    key_id: int
    holder_id: int | None
    holder_name: str
    holder_latin: str
    holder_email: str
    institution: str
    team_id: int | None
    source: str
    status: str
    valid_from: dt.date
    valid_until: dt.date
    attention: bool
    issued_at: dt.datetime
    revoked_at: dt.datetime | None


class TicketsPage(msgspec.Struct, kw_only=True):
    items: list[TicketOut]
    total: int


class SigningKeyOut(msgspec.Struct, kw_only=True):
    key_id: int
    public_key: str  # 32 raw bytes in hex
    created_at: dt.datetime
    retired_at: dt.datetime | None
    signing: bool  # the key new codes are signed with
    tickets: int  # valid tickets whose code it signed


class MailedOut(msgspec.Struct, kw_only=True):
    mailed: bool


Query = Annotated[str, msgspec.Meta(max_length=100, pattern=PRINTABLE)]
