from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.events.tables import EventKind, StageLevel
from backend.schemas import OptionalName, Slug, SmallCount, Struct

TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
TeamSize = Annotated[int, msgspec.Meta(ge=1, le=50)]
AdvisorCount = Annotated[int, msgspec.Meta(ge=0, le=20)]


class EventIn(Struct):
    kind: EventKind
    slug: Slug
    starts_on: dt.date
    ends_on: dt.date
    name_zh: OptionalName = ""
    name_en: OptionalName = ""
    name_ru: OptionalName = ""
    edition: OptionalName = ""
    venue: OptionalName = ""
    time_zone: TimeZone = "Asia/Shanghai"


class EventPatch(Struct):
    starts_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    ends_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    name_zh: OptionalName | msgspec.UnsetType = msgspec.UNSET
    name_en: OptionalName | msgspec.UnsetType = msgspec.UNSET
    name_ru: OptionalName | msgspec.UnsetType = msgspec.UNSET
    edition: OptionalName | msgspec.UnsetType = msgspec.UNSET
    venue: OptionalName | msgspec.UnsetType = msgspec.UNSET
    time_zone: TimeZone | msgspec.UnsetType = msgspec.UNSET


class EventOut(msgspec.Struct):
    id: int
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
    name_zh: OptionalName = ""
    name_en: OptionalName = ""
    name_ru: OptionalName = ""
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
    name_zh: OptionalName = ""
    name_en: OptionalName = ""
    name_ru: OptionalName = ""
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
    title_zh: OptionalName = ""
    title_en: OptionalName = ""
    title_ru: OptionalName = ""
    room: OptionalName = ""
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
