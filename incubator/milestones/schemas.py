"""The milestones and support API's bodies and answers (msgspec). Quantities are decimals (sent as
JSON numbers or strings, answered as strings): what they may be (above zero, two decimals at most)
is checked by the service, which names the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec

from backend.schemas import PRINTABLE, Struct, column_text
from incubator.tables import Milestone, MilestoneState, SupportDelivery, SupportKind, SupportPromise

Title = column_text(Milestone.title, required=True)
Description = Annotated[str, msgspec.Meta(max_length=5000, pattern=PRINTABLE)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=PRINTABLE)]


class MilestoneIn(Struct, kw_only=True):
    """A new milestone of a startup (planned)."""

    title: Title
    description: Description = ""
    due_on: dt.date


class MilestonePatch(Struct, kw_only=True):
    """A change of a milestone: the fields given change. ``state`` moves planned → in_progress →
    achieved or dropped (planned may be dropped too; achieved and dropped are final); ``achieved_on``
    (today unless given, never in the future) goes with ``achieved``."""

    title: Title | None = None
    description: Description | None = None
    due_on: dt.date | None = None
    state: MilestoneState | None = None
    achieved_on: dt.date | None = None


class LinkIn(Struct, kw_only=True):
    """A link as evidence: an http(s) address."""

    url: Url


class EvidenceOut(msgspec.Struct, kw_only=True):
    """A link (``url``) or an uploaded file (``filename``, ``content_type``, ``size``, ``download_url``)."""

    id: int
    startup_id: int
    milestone_id: int | None
    delivery_id: int | None
    kind: str
    url: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    download_url: str | None = None
    added_by_id: int | None
    created_at: dt.datetime


class MilestoneOut(msgspec.Struct, kw_only=True):
    """A milestone; ``overdue`` when its due date has passed and it is neither achieved nor dropped."""

    id: int
    startup_id: int
    title: str
    description: str
    due_on: dt.date
    state: MilestoneState
    achieved_on: dt.date | None
    overdue: bool
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    evidence: list[EvidenceOut]


class PromiseIn(Struct, kw_only=True):
    """What the programme promises a startup: ``quantity`` (above zero) of ``unit`` by ``due_on``."""

    kind: SupportKind
    description: column_text(SupportPromise.description) = ""
    quantity: Decimal
    unit: column_text(SupportPromise.unit) = ""
    due_on: dt.date | None = None


class DeliveryIn(Struct, kw_only=True):
    """Part (or the rest) of a promise delivered: never more than is left of it."""

    quantity: Decimal
    delivered_on: dt.date
    note: column_text(SupportDelivery.note) = ""


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: int
    promise_id: int
    quantity: Decimal
    delivered_on: dt.date
    note: str
    recorded_by_id: int | None
    created_at: dt.datetime
    evidence: list[EvidenceOut]


class PromiseOut(msgspec.Struct, kw_only=True):
    """A promise with what was delivered of it: ``gap`` = ``quantity`` − ``delivered`` (0 once
    withdrawn); ``overdue`` when its due date has passed with a gap left."""

    id: int
    startup_id: int
    kind: SupportKind
    description: str
    quantity: Decimal
    unit: str
    due_on: dt.date | None
    withdrawn_at: dt.datetime | None
    promised_by_id: int | None
    created_at: dt.datetime
    delivered: Decimal
    gap: Decimal
    overdue: bool
    deliveries: list[DeliveryOut]


class GapLine(msgspec.Struct, kw_only=True):
    """The live promises of one kind and unit added up."""

    kind: SupportKind
    unit: str
    promised: Decimal
    delivered: Decimal
    gap: Decimal


class Gap(msgspec.Struct, kw_only=True):
    """A startup's support gap: its live (not withdrawn) promises, how many have a gap left, how many
    of those are overdue, and the totals per kind and unit."""

    promises: int
    open: int
    overdue: int
    lines: list[GapLine]


class SupportOut(msgspec.Struct, kw_only=True):
    startup_id: int
    promises: list[PromiseOut]
    gap: Gap
