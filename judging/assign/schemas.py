"""The assignment API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from backend.schemas import PRINTABLE, PositiveInt, Struct

PerEntry = Annotated[int, msgspec.Meta(ge=1, le=50)]
Seed = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500, pattern=PRINTABLE)]


class RunIn(Struct):
    """An engine run: ``per_entry`` judges per entry (default: the stage's setting), ``seed`` for a
    reproducible draw (default: random), ``cross_track_share`` of each entry's judges from other
    tracks when judges are tied to tracks (default 0.2)."""

    per_entry: PerEntry | None = None
    seed: Seed | None = None
    cross_track_share: Share | None = None


class RunOut(Struct):
    """A run and the engine's report: ``load_min``/``load_max``/``load_spread``, ``conflicts``,
    ``components`` and ``algebraic_connectivity`` (λ₂) of the judge–entry graph, ``cross_track_share``,
    ``pair_probability_bound``, ``loads`` (``{judge id: entries}``), ``histogram`` (``{load: judges}``)."""

    id: int
    stage: int
    status: str
    per_entry: int
    seed: int
    report: dict[str, Any]
    created_at: dt.datetime
    published_at: dt.datetime | None = None


class PublishIn(Struct):
    """``accept_warnings``: publish although the assignment has conflicts or a split graph."""

    accept_warnings: bool = False


class AssignmentIn(Struct):
    entry: PositiveInt
    judge: PositiveInt


class AssignmentOut(Struct):
    id: int
    stage: int
    stage_entry: int
    judge: int
    run: int | None
    state: str
    source: str


class RecuseIn(Struct):
    """Why you abstain from this entry (3 to 500 characters); organizers read it."""

    reason: Reason


class RecuseOut(Struct):
    """The recused assignment and the judge who took the entry over (``null``: nobody could; the
    organizers see the entry as short of judges)."""

    recused: AssignmentOut
    replacement: AssignmentOut | None


class EntryJudgeOut(Struct):
    assignment: int
    judge: int
    name: str
    source: str
    submitted: bool


class EntryAssignmentsOut(Struct):
    id: int
    label: str
    team: str
    title: str
    track: int
    status: str
    judges: list[EntryJudgeOut]
    short: bool


class JudgeLoadOut(Struct):
    id: int
    name: str
    capacity: int | None
    load: int


class RecusalOut(Struct):
    assignment: int
    entry: int
    label: str
    judge: int
    name: str
    reason: str
    at: dt.datetime | None


class HealthOut(Struct):
    """The assignment as it stands: pairs in conflict, components of the judge–entry graph, entries
    short of judges."""

    conflicts: int
    components: int
    short: int


class StageAssignmentsOut(Struct):
    status: str
    per_entry: int
    published_at: dt.datetime | None
    entries: list[EntryAssignmentsOut]
    judges: list[JudgeLoadOut]
    recusals: list[RecusalOut]
    health: HealthOut
