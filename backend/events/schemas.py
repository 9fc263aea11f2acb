from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.events.tables import Event, EventKind, EventSession, Stage, StageLevel, Track
from backend.schemas import PositiveInt, SmallCount, Struct, column_text

Slug = column_text(Event.slug, min_length=2, pattern=r"^[a-z0-9][a-z0-9-]*$")
TimeZone = column_text(Event.time_zone, min_length=1, pattern=r"^[A-Za-z0-9_+\-/]+$")
EventName = column_text(Event.name_en)
Edition = column_text(Event.edition)
Venue = column_text(Event.venue)
Code = column_text(Track.code, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
TrackName = column_text(Track.name_en)
StageName = column_text(Stage.name_en)
SessionTitle = column_text(EventSession.title_en)
Room = column_text(EventSession.room)
TeamSize = Annotated[int, msgspec.Meta(ge=1, le=50)]
AdvisorCount = Annotated[int, msgspec.Meta(ge=0, le=20)]


class EventIn(Struct):
    organization_id: PositiveInt
    kind: EventKind
    slug: Slug
    starts_on: dt.date
    ends_on: dt.date
    name_zh: EventName = ""
    name_en: EventName = ""
    name_ru: EventName = ""
    edition: Edition = ""
    venue: Venue = ""
    time_zone: TimeZone = "Asia/Shanghai"


class EventPatch(Struct):
    starts_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    ends_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    name_zh: EventName | msgspec.UnsetType = msgspec.UNSET
    name_en: EventName | msgspec.UnsetType = msgspec.UNSET
    name_ru: EventName | msgspec.UnsetType = msgspec.UNSET
    edition: Edition | msgspec.UnsetType = msgspec.UNSET
    venue: Venue | msgspec.UnsetType = msgspec.UNSET
    time_zone: TimeZone | msgspec.UnsetType = msgspec.UNSET


class EventOut(msgspec.Struct):
    id: int
    organization_id: int
    kind: str
    slug: str
    status: str
    starts_on: dt.date
    ends_on: dt.date
    name_zh: str
    name_en: str
    name_ru: str
    edition: str
    venue: str
    time_zone: str


class TrackIn(Struct):
    code: Code
    name_zh: TrackName = ""
    name_en: TrackName = ""
    name_ru: TrackName = ""
    team_min: TeamSize = 3
    team_max: TeamSize = 5
    university_advisors_max: AdvisorCount = 2
    enterprise_advisors_max: AdvisorCount = 2
    entries_per_advisor_max: Annotated[int, msgspec.Meta(ge=1, le=100)] = 4


class TrackOut(msgspec.Struct):
    id: int
    event_id: int
    code: str
    name_zh: str
    name_en: str
    name_ru: str
    team_min: int
    team_max: int
    university_advisors_max: int
    enterprise_advisors_max: int
    entries_per_advisor_max: int


class StageIn(Struct):
    level: StageLevel
    name_zh: StageName = ""
    name_en: StageName = ""
    name_ru: StageName = ""
    submission_deadline: dt.datetime | None = None
    judging_deadline: dt.datetime | None = None


class StageOut(msgspec.Struct):
    id: int
    event_id: int
    position: int
    level: str
    name_zh: str
    name_en: str
    name_ru: str
    submission_deadline: dt.datetime | None
    judging_deadline: dt.datetime | None


class SessionIn(Struct):
    starts_at: dt.datetime
    ends_at: dt.datetime
    title_zh: SessionTitle = ""
    title_en: SessionTitle = ""
    title_ru: SessionTitle = ""
    room: Room = ""
    capacity: SmallCount = 0


class SessionOut(msgspec.Struct):
    id: int
    event_id: int
    title_zh: str
    title_en: str
    title_ru: str
    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
