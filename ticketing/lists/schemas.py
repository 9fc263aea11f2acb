"""The check-in lists and devices API's bodies and answers (msgspec). Types and bounds live here;
what the rules mean (windows in order, a venue list of the same event) is ``ticketing.rules`` and the
service's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from backend.schemas import ID_MAX, PRINTABLE, PositiveInt, Struct
from ticketing import rules

Kind = Literal["gate", "session", "meal", "booth"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PRINTABLE)]
Gate = Annotated[str, msgspec.Meta(max_length=100, pattern=PRINTABLE)]
Position = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
IdOrZero = Annotated[int, msgspec.Meta(ge=0, le=ID_MAX)]  # 0 clears the reference
Count = Annotated[int, msgspec.Meta(ge=1, le=rules.MAX_COUNT)]
TypeNumber = Annotated[int, msgspec.Meta(ge=1, le=rules.MAX_TYPE_NUMBER)]
LocalTime = Annotated[
    str,
    msgspec.Meta(
        min_length=16,
        max_length=19,
        description="A local date and time of the event, e.g. 2027-09-01T09:00",
        examples=["2027-09-01T09:00"],
    ),
]


class WindowIn(Struct):
    """When the list admits: from ``opens`` (included) to ``closes`` (excluded), the event's local time."""

    opens: LocalTime
    closes: LocalTime


class RulesIn(Struct, kw_only=True):
    """A list's rules (``ticketing.rules.ListRules``); every field may be left out for its default:
    every ticket type, whenever the ticket is valid, one entry per ticket."""

    types: Annotated[list[TypeNumber], msgspec.Meta(min_length=1, max_length=200)] | None = None
    windows: Annotated[list[WindowIn], msgspec.Meta(max_length=rules.MAX_WINDOWS)] = msgspec.field(
        default_factory=list
    )
    entries_total: Count | None = 1
    entries_per_day: Count | None = None
    reentry_after_exit: bool = False
    capacity: Count | None = None
    after_list: PositiveInt | None = None


class ListIn(Struct, kw_only=True):
    """A new check-in list: a gate, a session (optionally the event's session it counts), a meal or a
    fair booth, with its rules."""

    name: Name
    kind: Kind = "gate"
    session_id: PositiveInt | None = None
    rules: RulesIn = msgspec.field(default_factory=RulesIn)
    position: Position = 0


class ListPatch(Struct, kw_only=True):
    """A change of a list: the fields given change (``session_id`` 0 clears it; ``rules`` replaces the
    rules as a whole)."""

    name: Name | None = None
    kind: Kind | None = None
    session_id: IdOrZero | None = None
    rules: RulesIn | None = None
    position: Position | None = None


class ListOut(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    name: str
    kind: str
    session_id: int | None
    session: str  # the session's title ("" without one)
    rules: dict[str, Any]  # ticketing.rules.ListRules.to_json(): every key present
    mode: str  # once, daily or counted: how admissions are counted (ListRules.slot_mode)
    inside: int
    position: int
    devices: int  # live devices that scan on it
    created_at: dt.datetime
    archived_at: dt.datetime | None


class SessionListsOut(msgspec.Struct, kw_only=True):
    created: list[ListOut]


class DeviceIn(Struct, kw_only=True):
    """A new scanning device: its name, the gate its admissions show and the lists it may scan."""

    name: Name
    gate: Gate = ""
    lists: Annotated[list[PositiveInt], msgspec.Meta(min_length=1, max_length=200)]


class DevicePatch(Struct, kw_only=True):
    """A change of a device: the fields given change (``lists`` replaces its lists as a whole)."""

    name: Name | None = None
    gate: Gate | None = None
    lists: Annotated[list[PositiveInt], msgspec.Meta(min_length=1, max_length=200)] | None = None


class DeviceListOut(msgspec.Struct, kw_only=True):
    id: int
    name: str


class DeviceOut(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    name: str
    gate: str
    lists: list[DeviceListOut]
    created_at: dt.datetime
    last_seen_at: dt.datetime | None  # last contact (to the minute)
    revoked_at: dt.datetime | None


class DeviceCreatedOut(msgspec.Struct, kw_only=True):
    """A new device with its token, shown this once (only its SHA-256 is kept): the enrolment link
    opens the scanner already signed in as the device; its QR code is the same link."""

    device: DeviceOut
    token: str
    enrol_url: str
    qr_svg: str
