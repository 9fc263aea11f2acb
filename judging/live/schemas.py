"""The live final API's bodies and answers."""

from __future__ import annotations

import msgspec

from backend.schemas import PositiveInt, Struct


class StepIn(Struct):
    """``entry``: the team to put on stage (``start-pitch`` only); by default the team already
    called, else the first of the running order with no sheet."""

    entry: PositiveInt | None = None


class PrepareWarning(msgspec.Struct):
    entry: int
    judges: int
    min_judges: int


class PrepareOut(msgspec.Struct):
    """The rooms are prepared: scoring is open; ``warnings`` lists teams left with fewer judges than
    the stage's minimum (conflicts of interest, a room with too few judges)."""

    stage_id: int
    status: str
    assignments_created: int
    entries: int
    warnings: list[PrepareWarning]


class RoomRef(msgspec.Struct):
    id: int
    name: str
    room: str


class TimerOut(msgspec.Struct):
    """The phase's clock: it ends at ``started_at + duration_s`` (no duration: it does not count
    down); ``server_now`` lets a screen correct its own clock."""

    phase: str
    started_at: str | None
    duration_s: int | None
    server_now: str


class RoomEntryOut(msgspec.Struct):
    """A team in the running order; ``team`` is ``null`` for judges of an anonymous stage."""

    id: int
    label: str
    title: str
    team: str | None
    position: int
    status: str
    judges: int
    sheets: int
    complete: bool


class RoomOut(msgspec.Struct):
    panel: RoomRef
    stage_id: int
    event_id: int
    status: str
    anonymous: bool
    phase: str
    current_entry: RoomEntryOut | None
    timer: TimerOut
    entries: list[RoomEntryOut]
    result: RoomResultOut | None  # the team on stage's, once every judge is in


class JudgeRoomOut(msgspec.Struct):
    """A judge's view of their room: ``assignment_id`` is their sheet's assignment for the team on stage."""

    panel: RoomRef
    stage_id: int
    judge_id: int
    phase: str
    timer: TimerOut
    current_entry: RoomEntryOut | None
    assignment_id: int | None


class ResultDetail(msgspec.Struct):
    """``score`` as exact decimal text; ``dropped``: per criterion, the judges whose highest or lowest
    mark was dropped; ``fallback``: why the plain mean was used (``too_few_to_trim``,
    ``below_min_judges``), else ``null``."""

    score: str
    method: str
    n_sheets: int
    dropped: dict[str, dict[str, list[int]]]
    fallback: str | None


class RoomResultOut(ResultDetail):
    entry: int


class EntryResultOut(msgspec.Struct):
    entry: int
    judges: int
    sheets: int
    complete: bool
    result: ResultDetail | None
