"""The scoring API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from backend.schemas import PRINTABLE, Struct, column_text
from judging.tables import ScoreSheetVersion

COMMENT_MAX = 5000
# A client's nonce: made once per submission attempt and sent again with every retry of it.
Nonce = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
CriterionCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Comment = Annotated[str, msgspec.Meta(max_length=COMMENT_MAX, pattern=PRINTABLE)]
Reason = column_text(ScoreSheetVersion.reason)


class SheetIn(Struct):
    """A judge's marks for one entry (``{criterion code: mark}``, every criterion of the rubric),
    an optional comment, the client's ``nonce`` (a retry sends the same one and gets the first
    answer), and for a change of a submitted sheet the ``reason``."""

    marks: Annotated[dict[CriterionCode, float], msgspec.Meta(max_length=50)]
    nonce: Nonce
    comment: Comment = ""
    reason: Reason = ""


class SheetOut(msgspec.Struct):
    """A sheet as stored by one submission; ``replayed``: this answers a retried nonce, nothing changed."""

    sheet: int
    assignment: int
    version: int
    total: float
    marks: dict[str, Any]
    comment: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    replayed: bool = False


class VersionOut(msgspec.Struct):
    """One entry of a sheet's append-only log: what was submitted, by whom, when and why."""

    version: int
    marks: dict[str, Any]
    total: float
    comment: str
    reason: str
    author: int
    created_at: dt.datetime
    author_name: str | None = None  # organizers' view only
    client: str | None = None  # organizers' view only


class QueueItemOut(msgspec.Struct):
    """One of the judge's live assignments: the entry as the judge may see it and their sheet's state."""

    assignment: int
    stage: int
    stage_name: str
    stage_status: str
    deadline: dt.datetime | None
    label: str
    title: str
    team: str | None  # None in anonymous stages
    sheet_version: int | None  # None: not submitted yet
    total: float | None


class QueueOut(msgspec.Struct):
    items: list[QueueItemOut]
    done: int
    total: int


class CriterionOut(msgspec.Struct):
    code: str
    weight: float
    min: float
    max: float
    step: float
    name: dict[str, str]
    descriptor: dict[str, str]


class JudgeMaterialOut(msgspec.Struct):
    """A material of the entry's team for the stage: a file (``download_url``), a link or a text."""

    id: int
    kind: str
    version: int
    download_url: str | None = None
    url: str | None = None
    text: str | None = None


class JudgeAssignmentOut(msgspec.Struct):
    """Everything a judge needs to score one entry: never another judge's marks, and no team names in
    anonymous stages."""

    item: QueueItemOut
    rubric_version: int
    criteria: list[CriterionOut]
    sheet: SheetOut | None
    materials: list[JudgeMaterialOut]


class StageSheetOut(msgspec.Struct):
    """A current sheet as organizers see it."""

    sheet: int
    assignment: int
    stage_entry: int
    label: str
    team: int
    team_name: str
    judge: int
    judge_name: str
    version: int
    marks: dict[str, Any]
    total: float
    comment: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
