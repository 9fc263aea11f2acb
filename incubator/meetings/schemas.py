"""The meetings API's bodies and answers (msgspec): meeting logs, their action items, and the
mentor's private notes, which only their author's answers carry (``private_notes`` is ``None`` in
everyone else's)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.schemas import PRINTABLE, PositiveInt, Struct, column_text
from incubator.tables import ActionItem

Minutes = Annotated[int, msgspec.Meta(ge=1, le=1440, description="How long the meeting took, in minutes")]
Topic = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PRINTABLE)]
Topics = Annotated[list[Topic], msgspec.Meta(max_length=20)]
Notes = Annotated[str, msgspec.Meta(max_length=20_000, pattern=PRINTABLE)]
AttendeeName = Annotated[str, msgspec.Meta(max_length=200, pattern=PRINTABLE)]
ItemTitle = column_text(ActionItem.title, required=True)
Side = Literal["founders", "mentor"]
Aware = Annotated[
    dt.datetime, msgspec.Meta(tz=True, description="With its offset, e.g. 2027-03-01T15:00:00+08:00")
]


class AttendeeIn(Struct, kw_only=True):
    """Who was there: one of the startup's founders (``user``, their account id), or anyone else by
    ``name`` alone."""

    user: PositiveInt | None = None
    name: AttendeeName = ""


class ItemIn(Struct, kw_only=True):
    """An action item: who does it (``side``: the founders or the mentor; ``owner_id``: the person,
    a founder of the startup or the mentor) and by when."""

    title: ItemTitle
    side: Side = "founders"
    owner_id: PositiveInt | None = None
    due_on: dt.date | None = None


class ActionItemIn(ItemIn, kw_only=True):
    """An action item added to a startup's list, optionally tied to one of its meetings."""

    meeting_id: PositiveInt | None = None


class ActionItemPatch(Struct, kw_only=True):
    """Mark an action item done (or not done after all)."""

    done: bool


class MeetingIn(Struct, kw_only=True):
    """A meeting as its mentor logs it: its ``minutes`` are debited from the mentor's hour budget
    with the startup; ``private_notes`` are read by the mentor alone; ``booking_id`` is the
    office-hour booking it was (the mentor's, with this startup)."""

    held_at: Aware
    minutes: Minutes
    topics: Topics = msgspec.field(default_factory=list)
    attendees: Annotated[list[AttendeeIn], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    shared_notes: Notes = ""
    private_notes: Notes = ""
    booking_id: PositiveInt | None = None
    action_items: Annotated[list[ItemIn], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)


class MeetingPatch(Struct, kw_only=True):
    """A change of a meeting by its mentor: the fields given change (a change of ``minutes`` debits
    or credits the difference)."""

    held_at: Aware | None = None
    minutes: Minutes | None = None
    topics: Topics | None = None
    attendees: Annotated[list[AttendeeIn], msgspec.Meta(max_length=50)] | None = None
    shared_notes: Notes | None = None
    private_notes: Notes | None = None


class AttendeeOut(msgspec.Struct, kw_only=True):
    user: int | None
    name: str


class ActionItemOut(msgspec.Struct, kw_only=True):
    id: int
    startup_id: int
    startup_name: str
    meeting_id: int | None
    mentor_id: int | None
    title: str
    side: Side
    owner_id: int | None
    owner_name: str
    due_on: dt.date | None
    overdue: bool
    done_at: dt.datetime | None
    done_by: int | None
    created_at: dt.datetime


class MeetingOut(msgspec.Struct, kw_only=True):
    id: int
    startup_id: int
    mentor_id: int
    mentor_user_id: int
    mentor_name: str
    booking_id: int | None
    held_at: dt.datetime
    minutes: int
    topics: list[str]
    attendees: list[AttendeeOut]
    shared_notes: str
    action_items: list[ActionItemOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    private_notes: str | None = None  # the caller's own notes: None unless the caller logged it
