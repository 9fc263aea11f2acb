"""The set-up API's bodies and answers (msgspec). Bounds live here; rules across fields (a rubric's
steps, a stage's state) are the service's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.accounts.schemas import Email
from backend.schemas import ID_MAX, PRINTABLE, PositiveInt, Struct
from judging.engine.ranking import METHODS

Method = Literal["mean", "median", "trimmed", "zscore", "percentile", "offset", "affine", "auto"]
assert set(Method.__args__) == set(METHODS), "Method must list judging.engine.ranking.METHODS"


Trim = Annotated[int, msgspec.Meta(ge=0, le=5)]
JudgeCount = Annotated[int, msgspec.Meta(ge=1, le=50)]
PerEntry = Annotated[int, msgspec.Meta(ge=1, le=20)]
Seconds = Annotated[int, msgspec.Meta(ge=60, le=3600)]
Places = Annotated[int, msgspec.Meta(ge=0, le=4)]
ObjectionDays = Annotated[int, msgspec.Meta(ge=0, le=30)]
AppealDays = Annotated[int, msgspec.Meta(ge=0, le=60)]
AnswerDays = Annotated[int, msgspec.Meta(ge=1, le=90)]
Position = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
Capacity = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
IdOrZero = Annotated[int, msgspec.Meta(ge=0, le=ID_MAX)]  # 0 clears the reference
Text100 = Annotated[str, msgspec.Meta(max_length=100, pattern=PRINTABLE)]
Text500 = Annotated[str, msgspec.Meta(max_length=500, pattern=PRINTABLE)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000, pattern=PRINTABLE)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PRINTABLE)]


class SettingsIn(Struct, kw_only=True):
    """A change of a stage's judging settings: the fields given change, the others keep their value.
    ``judges_per_entry``, ``anonymous`` and ``live`` change only while the stage is being set up;
    ``method`` until the ranking is published."""

    method: Method | None = None
    trim_high: Trim | None = None
    trim_low: Trim | None = None
    min_judges: JudgeCount | None = None
    judges_per_entry: PerEntry | None = None
    anonymous: bool | None = None
    live: bool | None = None
    pitch_seconds: Seconds | None = None
    questions_seconds: Seconds | None = None
    round_places: Places | None = None
    objection_working_days: ObjectionDays | None = None
    appeal_days: AppealDays | None = None
    appeal_answer_days: AnswerDays | None = None


class SettingsOut(msgspec.Struct, kw_only=True):
    stage_id: int
    event_id: int
    status: str
    method: str
    trim_high: int
    trim_low: int
    min_judges: int
    judges_per_entry: int
    anonymous: bool
    live: bool
    pitch_seconds: int
    questions_seconds: int
    round_places: int
    objection_working_days: int
    appeal_days: int
    appeal_answer_days: int
    assignment_published_at: dt.datetime | None
    locked_at: dt.datetime | None
    published_at: dt.datetime | None


class Texts(Struct, kw_only=True):
    zh: Text2000 = ""
    en: Text2000 = ""
    ru: Text2000 = ""


# A mark's bound: far beyond any rubric, near enough that Decimal arithmetic on it stays exact.
BOUND = 1_000_000


class CriterionIn(Struct, kw_only=True):
    """One criterion: ``code`` (``[a-z][a-z0-9_]{0,39}``, unique in the rubric), ``weight`` (0..1000,
    some criterion above 0), marks from ``min`` to ``max`` in steps of ``step`` (which divides the
    range exactly), a name in at least one language (at most 200 characters) and a descriptor."""

    code: Annotated[str, msgspec.Meta(max_length=40, pattern=PRINTABLE)]
    weight: Annotated[float, msgspec.Meta(ge=0, le=1000)]
    min: Annotated[float, msgspec.Meta(ge=-BOUND, le=BOUND)]
    max: Annotated[float, msgspec.Meta(ge=-BOUND, le=BOUND)]
    step: Annotated[float, msgspec.Meta(gt=0, le=BOUND)] = 1
    name: Texts
    descriptor: Texts = msgspec.field(default_factory=Texts)


class RubricIn(Struct, kw_only=True):
    criteria: Annotated[list[CriterionIn], msgspec.Meta(min_length=1, max_length=20)]


class RubricOut(msgspec.Struct, kw_only=True):
    """A rubric version (``id`` is ``None`` and ``version`` 0 before the stage has one)."""

    id: int | None
    stage_id: int
    version: int
    criteria: list[dict]
    created_at: dt.datetime | None
    locked_at: dt.datetime | None


class PanelIn(Struct, kw_only=True):
    name: Name
    room: Text100 = ""
    position: Position = 0


class PanelPatch(Struct, kw_only=True):
    name: Name | None = None
    room: Text100 | None = None
    position: Position | None = None


class PanelOut(msgspec.Struct, kw_only=True):
    id: int
    stage_id: int
    name: str
    room: str
    position: int
    entries: int
    judges: int


EntryStatusName = Literal["active", "withdrawn", "disqualified"]


class EntryPatch(Struct, kw_only=True):
    """Move an entry to a room (``panel_id``; 0 takes it out of its room), set its place in the
    running order, or change its status (``reason`` goes into the audit trail)."""

    panel_id: IdOrZero | None = None
    position: Position | None = None
    status: EntryStatusName | None = None
    reason: Text500 = ""


class EntryOut(msgspec.Struct, kw_only=True):
    id: int
    stage_id: int
    team_id: int
    team: str
    entry_title: str
    institution: str
    region: str
    track: str
    label: str
    panel_id: int | None
    panel: str
    position: int
    status: str
    source: str


class EntriesPage(msgspec.Struct, kw_only=True):
    items: list[EntryOut]
    total: int


class SeedOut(msgspec.Struct, kw_only=True):
    added: int


class JudgeIn(Struct, kw_only=True):
    """A judge by account (``user_id``) or by e-mail; an address without the event's judge role is
    sent the role's invitation instead (202). ``institution_id`` defaults to their profile's."""

    user_id: PositiveInt | None = None
    email: Email | None = None
    institution_id: PositiveInt | None = None
    panel_id: PositiveInt | None = None
    capacity: Capacity | None = None


class JudgePatch(Struct, kw_only=True):
    """Change a judge's institution, room or capacity; 0 clears the field (no institution, no room,
    no cap)."""

    institution_id: IdOrZero | None = None
    panel_id: IdOrZero | None = None
    capacity: Capacity | None = None


class JudgeOut(msgspec.Struct, kw_only=True):
    user_id: int
    stage_id: int
    name: str
    email: str
    institution_id: int | None
    institution: str
    panel_id: int | None
    capacity: int | None
    assignments: int
    sheets: int


class InvitedOut(msgspec.Struct, kw_only=True):
    invited: bool
    email: str


class ConflictIn(Struct, kw_only=True):
    """A declared conflict of interest: of ``user_id`` (default: yourself) with an institution or a
    team, and why."""

    user_id: PositiveInt | None = None
    institution_id: PositiveInt | None = None
    team_id: PositiveInt | None = None
    reason: Text500 = ""


class ConflictOut(msgspec.Struct, kw_only=True):
    id: int
    event_id: int
    user_id: int
    judge: str
    institution_id: int | None
    institution: str
    team_id: int | None
    team: str
    reason: str
    declared_by: int | None
    created_at: dt.datetime


class TabletSignInOut(msgspec.Struct, kw_only=True):
    url: str
    expires_at: dt.datetime
    qr_svg: str
