from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.events.tables import Event, EventKind, EventSession, Stage, StageLevel, Track
from backend.schemas import PositiveInt, SmallCount, Struct, column_text

Slug = column_text(Event.slug, min_length=2, pattern=r"^[a-z0-9][a-z0-9-]*$")
TimeZone = column_text(Event.time_zone, min_length=1, pattern=r"^[A-Za-z0-9_+\-/]+$")
EventName = column_text(Event.name_en)
Edition = column_text(Event.edition_en)
Venue = column_text(Event.venue_en)
EventDescription = column_text(Event.description_en)
Code = column_text(Track.code, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
TrackName = column_text(Track.name_en)
StageName = column_text(Stage.name_en)
SessionTitle = column_text(EventSession.title_en)
# One length for the descriptions of tracks, stages and sessions (their columns agree).
Description = column_text(Track.description_en)
Room = column_text(EventSession.room)
TeamSize = Annotated[int, msgspec.Meta(ge=1, le=50)]
AdvisorCount = Annotated[int, msgspec.Meta(ge=0, le=20)]


class EventIn(Struct):
    """A new event. Its texts are given per language (``_zh``, ``_en``, ``_ru``): readers see their
    language's, or the next one of the site's fallback order (``PODIUM_CONTENT_FALLBACK``) that is given.
    The name is required in at least one language."""

    organization_id: PositiveInt
    kind: EventKind
    slug: Slug
    starts_on: dt.date
    ends_on: dt.date
    name_zh: EventName = ""
    name_en: EventName = ""
    name_ru: EventName = ""
    edition_zh: Edition = ""
    edition_en: Edition = ""
    edition_ru: Edition = ""
    venue_zh: Venue = ""
    venue_en: Venue = ""
    venue_ru: Venue = ""
    description_zh: EventDescription = ""
    description_en: EventDescription = ""
    description_ru: EventDescription = ""
    time_zone: TimeZone = "Asia/Shanghai"


class EventPatch(Struct):
    starts_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    ends_on: dt.date | msgspec.UnsetType = msgspec.UNSET
    name_zh: EventName | msgspec.UnsetType = msgspec.UNSET
    name_en: EventName | msgspec.UnsetType = msgspec.UNSET
    name_ru: EventName | msgspec.UnsetType = msgspec.UNSET
    edition_zh: Edition | msgspec.UnsetType = msgspec.UNSET
    edition_en: Edition | msgspec.UnsetType = msgspec.UNSET
    edition_ru: Edition | msgspec.UnsetType = msgspec.UNSET
    venue_zh: Venue | msgspec.UnsetType = msgspec.UNSET
    venue_en: Venue | msgspec.UnsetType = msgspec.UNSET
    venue_ru: Venue | msgspec.UnsetType = msgspec.UNSET
    description_zh: EventDescription | msgspec.UnsetType = msgspec.UNSET
    description_en: EventDescription | msgspec.UnsetType = msgspec.UNSET
    description_ru: EventDescription | msgspec.UnsetType = msgspec.UNSET
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
    edition_zh: str
    edition_en: str
    edition_ru: str
    venue_zh: str
    venue_en: str
    venue_ru: str
    description_zh: str
    description_en: str
    description_ru: str
    time_zone: str


class TrackIn(Struct):
    code: Code
    name_zh: TrackName = ""
    name_en: TrackName = ""
    name_ru: TrackName = ""
    description_zh: Description = ""
    description_en: Description = ""
    description_ru: Description = ""
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
    description_zh: str
    description_en: str
    description_ru: str
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
    description_zh: Description = ""
    description_en: Description = ""
    description_ru: Description = ""
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
    description_zh: str
    description_en: str
    description_ru: str
    submission_deadline: dt.datetime | None
    judging_deadline: dt.datetime | None


class SessionIn(Struct):
    starts_at: dt.datetime
    ends_at: dt.datetime
    title_zh: SessionTitle = ""
    title_en: SessionTitle = ""
    title_ru: SessionTitle = ""
    description_zh: Description = ""
    description_en: Description = ""
    description_ru: Description = ""
    room: Room = ""
    capacity: SmallCount = 0


class SessionOut(msgspec.Struct):
    id: int
    event_id: int
    title_zh: str
    title_en: str
    title_ru: str
    description_zh: str
    description_en: str
    description_ru: str
    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
