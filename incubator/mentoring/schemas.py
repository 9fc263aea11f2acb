"""The mentoring API's bodies and answers (msgspec): the mentor directory, connections with their
hour budgets, office-hour slots and bookings. Bounds live here; the rules (a slot in the future, no
overlap, a connected mentor, the cancellation window) are the service's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.accounts.tables import User
from backend.schemas import PRINTABLE, PositiveInt, Struct, email_type

Text200 = Annotated[str, msgspec.Meta(max_length=200, pattern=PRINTABLE)]
Text300 = Annotated[str, msgspec.Meta(max_length=300, pattern=PRINTABLE)]
Availability = Annotated[str, msgspec.Meta(max_length=500, pattern=PRINTABLE)]
Bio = Annotated[str, msgspec.Meta(max_length=5000, pattern=PRINTABLE)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=PRINTABLE)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=30)]
Languages = Annotated[
    str,
    msgspec.Meta(
        max_length=50, pattern=PRINTABLE, description="Language codes separated by spaces: zh en ru"
    ),
]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=60_000, description="Minutes of the mentor's time")]
Email = email_type(User.email)


class MentorIn(Struct, kw_only=True):
    """A person (the e-mail of an existing account) added to the programme's mentor directory."""

    email: Email
    headline: Text200 = ""
    bio: Bio = ""
    expertise: Tags = msgspec.field(default_factory=list)
    languages: Languages = ""
    availability: Availability = ""


class MentorPatch(Struct, kw_only=True):
    """A change of a mentor's profile: the fields given change. ``active`` is the managers' (an
    inactive mentor keeps their history but mentors no one and offers no slot)."""

    headline: Text200 | None = None
    bio: Bio | None = None
    expertise: Tags | None = None
    languages: Languages | None = None
    availability: Availability | None = None
    active: bool | None = None


class MentorOut(msgspec.Struct, kw_only=True):
    id: int
    programme_id: int
    user_id: int
    name: str
    headline: str
    bio: str
    expertise: list[str]
    languages: list[str]
    availability: str
    active: bool
    open_slots: int  # future slots not cancelled nor booked


class LinkIn(Struct, kw_only=True):
    """Connect the mentor one-to-one to a startup of the programme with a budget of minutes."""

    startup_id: PositiveInt
    budget_minutes: Minutes = 600


class CohortLinkIn(Struct, kw_only=True):
    """Connect the mentor one-to-many to a cohort: every startup in it (and every one admitted
    later) gets ``minutes_per_startup`` of the mentor's time."""

    cohort_id: PositiveInt
    minutes_per_startup: Minutes = 600


class LinkPatch(Struct, kw_only=True):
    budget_minutes: Minutes


class LinkOut(msgspec.Struct, kw_only=True):
    """A mentor connected to a startup, with the hour budget: minutes budgeted, used, left."""

    id: int
    mentor_id: int
    mentor_name: str
    mentor_active: bool
    startup_id: int
    startup_name: str
    via_cohort: int | None  # the one-to-many connection it comes from
    budget_minutes: int
    used_minutes: int
    left_minutes: int


class CohortLinkOut(msgspec.Struct, kw_only=True):
    id: int
    mentor_id: int
    mentor_name: str
    cohort_id: int
    cohort_name: str
    minutes_per_startup: int
    startups: int  # links made through it


class ConnectionsOut(msgspec.Struct, kw_only=True):
    """A mentor's connections: one-to-one and through cohorts (``links``), and the cohorts."""

    links: list[LinkOut]
    cohorts: list[CohortLinkOut]


class SlotIn(Struct, kw_only=True):
    """An office-hour slot: in the future, at most 8 hours, with the time zone offset."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    place: Text300 = ""


class BookingOut(msgspec.Struct, kw_only=True):
    id: int
    slot_id: int
    startup_id: int
    startup_name: str
    mentor_id: int
    mentor_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    topic: str
    status: str
    booked_by: int | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancellable: bool  # may the caller cancel it now (founders: until the cancellation window)


class SlotOut(msgspec.Struct, kw_only=True):
    id: int
    mentor_id: int
    mentor_name: str
    programme_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    cancelled_at: dt.datetime | None
    booking: BookingOut | None  # its live booking (the slot's mentor sees it; founders see their own)


class BookingIn(Struct, kw_only=True):
    """Book an open slot of a mentor connected to the startup."""

    slot_id: PositiveInt
    topic: Text300 = ""
