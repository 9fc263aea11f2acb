"""The results API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from backend.schemas import PRINTABLE, PositiveInt, Struct, column_text
from judging.tables import StageEntry

AppealText = Annotated[str, msgspec.Meta(min_length=20, max_length=5000, pattern=PRINTABLE)]
AnswerText = Annotated[str, msgspec.Meta(min_length=1, max_length=5000, pattern=PRINTABLE)]
RereviewReason = column_text(StageEntry.rereview_reason, required=True)


class RankingRunOut(msgspec.Struct):
    """A ranking run: ``status`` queued → running → done (or failed, with ``error``); while it
    runs, ``progress`` (percent) and ``phase`` (loading, ranking, diagnostics, storing).
    ``provisional``: made while judges were still scoring; it cannot be published."""

    id: int
    stage: int
    status: str
    progress: int
    phase: str
    method: str
    provisional: bool
    error: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class RankingRunDetailOut(RankingRunOut):
    """A run with the engine's diagnostics (see the results page) and notes."""

    diagnostics: dict[str, Any] = {}
    notes: list[str] = []


class RankingResultOut(msgspec.Struct):
    """An entry's place in a run: ``rank`` over the stage and ``track_rank`` within its track (0:
    not ranked, e.g. no sheet); ``score ± se`` (``se`` None when the method estimates none);
    ``flags``: ``disagree``, ``near_cutoff``, ``too_few_judges``."""

    entry: int
    label: str
    team: int
    team_name: str
    entry_title: str
    track: int
    track_code: str
    institution: str
    region: str
    rank: int
    track_rank: int
    score: float | None
    se: float | None
    n_judges: int
    flags: list[str]


class RankingPublishIn(Struct):
    run: PositiveInt


class PublicationOut(msgspec.Struct):
    stage: int
    status: str
    published_run: int
    published_at: dt.datetime
    objection_ends_at: dt.datetime
    appeals_close_at: dt.datetime


class AppealIn(Struct):
    """A team's appeal: ``text`` of 20 to 5000 characters saying what is contested and why."""

    team: PositiveInt
    text: AppealText


class AppealAnswerIn(Struct):
    status: Literal["upheld", "dismissed"]
    answer: AnswerText


class AppealOut(msgspec.Struct):
    """An appeal; ``overdue``: still open after ``answer_due_at``."""

    id: int
    stage: int
    team: int
    team_name: str
    text: str
    status: str
    filed_at: dt.datetime
    answer_due_at: dt.datetime
    overdue: bool
    answer: str
    answered_at: dt.datetime | None


class RereviewIn(Struct):
    entry: PositiveInt
    reason: RereviewReason


class RereviewJudgeIn(Struct):
    judge: PositiveInt


class RereviewOut(msgspec.Struct):
    entry: int
    label: str
    team_name: str
    track_code: str
    reason: str
    requested_at: dt.datetime
    judges: int
