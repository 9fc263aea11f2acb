"""The scan API's bodies and answers (a contract scanners rely on: fields are only ever added)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.schemas import ID_MAX, Struct

# A client's nonce: made once per scan and sent again with every retry of it.
Nonce = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# What the camera or the keyboard wedge read: anything (garbage is answered "invalid", not 422).
CodeText = Annotated[str, msgspec.Meta(max_length=1000)]
ListId = Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]
SYNC_MAX = 500


class ScanIn(Struct):
    """One scan: the code read, the list it is scanned on, the client's ``nonce`` (a retry sends the
    same one and gets the first answer), the direction, and for a scan made offline the time it was
    made and what the device answered then."""

    code: CodeText
    list: ListId
    nonce: Nonce
    direction: Literal["entry", "exit"] = "entry"
    scanned_at: dt.datetime | None = None
    offline_verdict: Literal["admitted", "rejected"] | None = None


class SyncIn(Struct):
    """Scans made offline, in the order they were made (at most 500 per upload)."""

    scans: Annotated[list[ScanIn], msgspec.Meta(max_length=SYNC_MAX)]


class TicketOut(msgspec.Struct):
    holder: str
    type: str
    kind: str
    attention: bool


class PreviousOut(msgspec.Struct):
    """The earlier admission that makes this scan a second one."""

    gate: str
    at: dt.datetime


class ScanOut(msgspec.Struct):
    """The answer at the gate. ``reason`` is null when admitted, else one of ``already_checked_in``,
    ``invalid``, ``revoked``, ``wrong_event``, ``not_allowed``, ``outside_time``, ``capacity``;
    ``message`` says it in the caller's language; ``replayed``: this answers a retried nonce."""

    status: str
    reason: str | None
    message: str
    ticket: TicketOut | None
    previous: PreviousOut | None
    scanned_at: dt.datetime
    replayed: bool = False


class SyncOut(msgspec.Struct):
    results: list[ScanOut]


class ConflictOut(msgspec.Struct):
    """An offline admission the server would have refused: the ticket may have entered twice."""

    id: int
    list: int
    list_name: str
    ticket: int | None
    holder: str
    reason: str
    gate: str
    scanned_at: dt.datetime
    received_at: dt.datetime
    previous: PreviousOut | None
