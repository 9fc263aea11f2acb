"""The scanner page's API answer: who is scanning and on which check-in lists."""

from __future__ import annotations

import msgspec


class ScannerListOut(msgspec.Struct):
    """A check-in list the caller may scan on, with its event."""

    id: int
    name: str
    kind: str
    event: int
    event_name: str
    time_zone: str


class ScannerOut(msgspec.Struct):
    """The caller as a scanner: a device (``device`` its name, ``gate`` its gate) or a person
    (``device`` null), and the lists it may scan on, by event then list order."""

    device: str | None
    gate: str
    lists: list[ScannerListOut]
