from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.organizations.tables import Organization


class EventKind(StrEnum):
    contest = "contest"
    forum = "forum"
    fair = "fair"
    training = "training"


class EventStatus(StrEnum):
    draft = "draft"
    open = "open"
    running = "running"
    closed = "closed"
    archived = "archived"


class StageLevel(StrEnum):
    school = "school"
    province = "province"
    national = "national"
    online_review = "online_review"
    final = "final"


class Event(Table):
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20, choices=EventKind)
    slug = Varchar(length=80, unique=True)
    # Every text a participant reads is given per language (zh, en, ru); pages show the reader's,
    # falling back in the order of PODIUM_CONTENT_FALLBACK (backend.i18n.localized).
    name_zh = Varchar(length=300, default="")
    name_en = Varchar(length=300, default="")
    name_ru = Varchar(length=300, default="")
    edition_zh = Varchar(length=80, default="")
    edition_en = Varchar(length=80, default="")
    edition_ru = Varchar(length=80, default="")
    venue_zh = Varchar(length=300, default="")
    venue_en = Varchar(length=300, default="")
    venue_ru = Varchar(length=300, default="")
    description_zh = Varchar(length=4000, default="")
    description_en = Varchar(length=4000, default="")
    description_ru = Varchar(length=4000, default="")
    starts_on = Date()
    ends_on = Date()
    time_zone = Varchar(length=64, default="Asia/Shanghai")
    status = Varchar(length=20, choices=EventStatus, default=EventStatus.draft.value, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Track(Table):
    """A contest track; team sizes and advisor limits apply to every team in it."""

    event = ForeignKey(Event, on_delete=OnDelete.cascade)
    code = Varchar(length=40)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    name_ru = Varchar(length=200, default="")
    description_zh = Varchar(length=2000, default="")
    description_en = Varchar(length=2000, default="")
    description_ru = Varchar(length=2000, default="")
    team_min = Integer(default=3)
    team_max = Integer(default=5)
    university_advisors_max = Integer(default=2)
    enterprise_advisors_max = Integer(default=2)
    entries_per_advisor_max = Integer(default=4)


class Stage(Table):
    """An ordered round of a contest (school → province → national, or online review → final)."""

    event = ForeignKey(Event, on_delete=OnDelete.cascade)
    position = Integer()
    level = Varchar(length=20, choices=StageLevel)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    name_ru = Varchar(length=200, default="")
    description_zh = Varchar(length=2000, default="")
    description_en = Varchar(length=2000, default="")
    description_ru = Varchar(length=2000, default="")
    submission_deadline = Timestamptz(null=True, default=None)
    judging_deadline = Timestamptz(null=True, default=None)


class EventSession(Table):
    """A scheduled session of a forum, fair or training, in a room with a capacity."""

    event = ForeignKey(Event, on_delete=OnDelete.cascade)
    title_zh = Varchar(length=300, default="")
    title_en = Varchar(length=300, default="")
    title_ru = Varchar(length=300, default="")
    description_zh = Varchar(length=2000, default="")
    description_en = Varchar(length=2000, default="")
    description_ru = Varchar(length=2000, default="")
    room = Varchar(length=100, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    capacity = Integer(default=0)
