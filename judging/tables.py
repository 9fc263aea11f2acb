"""The judging service's tables: a stage's judging set-up, its entries, judges and assignment, the
score sheets with their append-only version log, ranking runs and their results, publication and
appeals, advancement under quotas, prize tiers, awards and certificates.

The database holds what no race may break: one judging set-up per stage, one rubric version number
per stage, one entry per team per stage, one active assignment per judge and entry, one sheet per
assignment, one version number per sheet, one client nonce per judge (a retried submission finds its
first answer), one appeal per team per stage, one live recommendation per team into a stage, one
award per team per stage and one serial per certificate. Rules that span rows (quotas, the rubric
lock, the stage's state) are checked by the services under a lock on the row they hang from.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from backend.accounts.tables import User
from backend.events.tables import Event, Stage, Track
from backend.institutions.tables import Institution
from backend.teams.tables import Team


class JudgingStatus(StrEnum):
    setup = "setup"  # rubric, judges, rooms and assignment are prepared; judges see nothing yet
    scoring = "scoring"  # the assignment is published: judges score their entries
    locked = "locked"  # no sheet may change; rankings run on a frozen set of sheets
    published = "published"  # a ranking is public: the objection period and appeals run


class StageJudging(Table):
    """How one stage is judged. ``method`` is an engine method (``judging.engine.ranking.METHODS``);
    an entry with fewer than ``min_judges`` submitted sheets is ranked by the plain mean and flagged.
    ``live`` stages are finals in rooms (:class:`Panel`) with a pitch and a questions timer."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, unique=True)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=20, choices=JudgingStatus, default=JudgingStatus.setup.value)
    method = Varchar(length=20, default="auto")
    trim_high = Integer(default=1)
    trim_low = Integer(default=1)
    min_judges = Integer(default=3)
    judges_per_entry = Integer(default=5)
    anonymous = Boolean(default=False)
    live = Boolean(default=False)
    pitch_seconds = Integer(default=480)
    questions_seconds = Integer(default=420)
    round_places = Integer(default=2)
    objection_working_days = Integer(default=5)
    appeal_days = Integer(default=5)  # appeals are filed within this many days of publication
    appeal_answer_days = Integer(default=10)  # and answered within this many days of filing
    assignment_published_at = Timestamptz(null=True, default=None)
    locked_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    objection_ends_at = Timestamptz(null=True, default=None)
    appeals_close_at = Timestamptz(null=True, default=None)
    published_run = ForeignKey(
        LazyTableReference("RankingRun", module_path="judging.tables"), null=True, on_delete=OnDelete.set_null
    )
    updated_at = Timestamptz(default=TimestamptzNow())


class Rubric(Table):
    """One version of a stage's rubric; the stage uses its highest version. ``criteria`` is a list of
    ``{"code", "weight", "min", "max", "step", "name": {zh, en, ru}, "descriptor": {zh, en, ru}}``.
    A version is frozen (``locked_at``) by the first submitted sheet; after that no new version."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade)
    version = Integer()
    criteria = JSON(default="[]")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    locked_at = Timestamptz(null=True, default=None)


class PanelPhase(StrEnum):
    idle = "idle"  # no team on stage
    pitch = "pitch"  # the team presents (``StageJudging.pitch_seconds``)
    questions = "questions"  # the judges ask (``StageJudging.questions_seconds``)
    scoring = "scoring"  # the judges submit their marks
    closed = "closed"  # the room's running order is done


class Panel(Table):
    """A panel of judges; in a live final, a room with its running order and the team on stage."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    room = Varchar(length=100, default="")
    position = Integer(default=0)
    current_entry = ForeignKey(
        LazyTableReference("StageEntry", module_path="judging.tables"), null=True, on_delete=OnDelete.set_null
    )
    phase = Varchar(length=20, choices=PanelPhase, default=PanelPhase.idle.value)
    phase_started_at = Timestamptz(null=True, default=None)


class EntryStatus(StrEnum):
    active = "active"
    withdrawn = "withdrawn"  # the team withdrew: kept for the record, never ranked
    disqualified = "disqualified"


class EntrySource(StrEnum):
    registration = "registration"  # the first stage: every approved or complete team
    advancement = "advancement"  # accepted from the previous stage's recommendations
    manual = "manual"  # added by an organizer


class StageEntry(Table):
    """A team in a stage. ``label`` is the code anonymous judges see instead of names; ``panel`` and
    ``position`` are a live final's room and running order."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade, index=True)
    track = ForeignKey(Track, null=False, on_delete=OnDelete.restrict)
    label = Varchar(length=20)
    panel = ForeignKey(Panel, null=True, on_delete=OnDelete.set_null, index=True)
    position = Integer(default=0)
    status = Varchar(length=20, choices=EntryStatus, default=EntryStatus.active.value)
    source = Varchar(length=20, choices=EntrySource, default=EntrySource.registration.value)
    rereview_requested_at = Timestamptz(null=True, default=None)
    rereview_reason = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class StageJudge(Table):
    """A judge of a stage (the person holds the event's ``judge`` role). ``institution`` is where
    they work, for conflicts of interest; ``capacity`` caps their entries (empty: balanced)."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    panel = ForeignKey(Panel, null=True, on_delete=OnDelete.set_null)
    institution = ForeignKey(Institution, null=True, on_delete=OnDelete.set_null)
    capacity = Integer(null=True, default=None)
    added_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    added_at = Timestamptz(default=TimestamptzNow())


class JudgeConflict(Table):
    """A declared conflict of interest: the judge must not judge this institution's teams (or this
    team). Declared by the judge or recorded by an organizer, with the reason."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    institution = ForeignKey(Institution, null=True, on_delete=OnDelete.cascade)
    team = ForeignKey(Team, null=True, on_delete=OnDelete.cascade)
    reason = Varchar(length=500, default="")
    declared_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class RunStatus(StrEnum):
    draft = "draft"
    published = "published"
    discarded = "discarded"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class AssignmentRun(Table):
    """One run of the assignment engine over a stage: its report (loads, conflicts, components,
    λ₂) shown to the organizer before the assignment is published."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=20, choices=RunStatus, default=RunStatus.draft.value)
    per_entry = Integer(default=5)
    seed = Integer(default=0)
    report = JSON(default="{}")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)


class AssignmentState(StrEnum):
    active = "active"
    recused = "recused"  # the judge abstained, with a reason; the entry was reassigned
    removed = "removed"  # taken away by an organizer (or replaced by a new engine run)


class AssignmentSource(StrEnum):
    engine = "engine"
    manual = "manual"
    reassignment = "reassignment"  # replaces a recused judge
    rereview = "rereview"  # an extra judge for an entry whose judges disagree


class Assignment(Table):
    """A judge's duty to score one entry. Judges see only active assignments of a stage whose
    assignment is published."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade)
    stage_entry = ForeignKey(StageEntry, null=False, on_delete=OnDelete.cascade, index=True)
    judge = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    run = ForeignKey(AssignmentRun, null=True, on_delete=OnDelete.set_null)
    state = Varchar(length=20, choices=AssignmentState, default=AssignmentState.active.value)
    source = Varchar(length=20, choices=AssignmentSource, default=AssignmentSource.engine.value)
    recusal_reason = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


class ScoreSheet(Table):
    """The current state of one judge's sheet for one entry (one per assignment); every submission
    or change also appends a :class:`ScoreSheetVersion`, which is the record."""

    assignment = ForeignKey(Assignment, null=False, on_delete=OnDelete.cascade, unique=True)
    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    stage_entry = ForeignKey(StageEntry, null=False, on_delete=OnDelete.cascade, index=True)
    judge = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    rubric = ForeignKey(Rubric, null=False, on_delete=OnDelete.restrict)
    version = Integer(default=1)
    marks = JSON(default="{}")  # {criterion code: mark}
    total = DoublePrecision()  # the weighted sum of the marks
    comment = Text(default="")
    submitted_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ScoreSheetVersion(Table):
    """Append-only: one row per submission or change of a sheet, with who, when, why and the client's
    nonce (unique per judge, so a retried submission is recognised and answered the same)."""

    sheet = ForeignKey(ScoreSheet, null=False, on_delete=OnDelete.cascade)
    version = Integer()
    marks = JSON(default="{}")
    total = DoublePrecision()
    comment = Text(default="")
    reason = Varchar(length=500, default="")
    author = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    nonce = Varchar(length=64)
    client = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RankingRun(Table):
    """One ranking of a stage by the engine, run as a job: its progress while it runs, then the
    method the engine used, its diagnostics and notes."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=20, choices=RunStatus, default=RunStatus.queued.value)
    progress = Integer(default=0)  # percent
    phase = Varchar(length=100, default="")
    method = Varchar(length=40, default="")
    diagnostics = JSON(default="{}")
    notes = JSON(default="[]")
    error = Text(default="")
    requested_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    requested_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class StageResult(Table):
    """One entry's place in a ranking run, overall and within its track."""

    run = ForeignKey(RankingRun, null=False, on_delete=OnDelete.cascade)
    stage_entry = ForeignKey(StageEntry, null=False, on_delete=OnDelete.cascade, index=True)
    track = ForeignKey(Track, null=False, on_delete=OnDelete.cascade)
    rank = Integer(default=0)
    track_rank = Integer(default=0)
    score = DoublePrecision(null=True, default=None)
    se = DoublePrecision(null=True, default=None)
    n_judges = Integer(default=0)
    flag = Varchar(length=40, default="")
    details = JSON(default="{}")


class AppealStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"
    withdrawn = "withdrawn"


class Appeal(Table):
    """A team's appeal against a published ranking: one per team per stage, filed within the stage's
    window and answered by the deadline; every step is also in the audit log."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade)
    filed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    text = Text()
    filed_at = Timestamptz(default=TimestamptzNow())
    answer_due_at = Timestamptz()
    status = Varchar(length=20, choices=AppealStatus, default=AppealStatus.open.value)
    answer = Text(default="")
    answered_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    answered_at = Timestamptz(null=True, default=None)


class AdvancementRules(Table):
    """The quotas for recommending teams from one stage to the next, as validated JSON:
    ``{"total", "per_region": {region: n}, "region_default", "group_ratio": {track code: weight},
    "per_institution_max"}`` (absent keys: no limit)."""

    from_stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, unique=True)
    to_stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade)
    rules = JSON(default="{}")
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class RecommendationState(StrEnum):
    recommended = "recommended"  # proposed by a scoped admin, within the quotas
    accepted = "accepted"  # the team is an entry of the next stage
    withdrawn = "withdrawn"  # taken back by its recommender
    refused = "refused"  # turned down by the stage's organizers


LIVE_RECOMMENDATION = (RecommendationState.recommended.value, RecommendationState.accepted.value)


class Recommendation(Table):
    """A scoped admin's recommendation of a team to the next stage, in their rank order."""

    from_stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    to_stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade)
    stage_entry = ForeignKey(StageEntry, null=False, on_delete=OnDelete.cascade)
    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade)
    position = Integer(default=0)
    state = Varchar(length=20, choices=RecommendationState, default=RecommendationState.recommended.value)
    recommended_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)


class PrizeTier(Table):
    """A prize of a stage (special, first, second ...) given to ``size`` teams in rank order."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=40)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    name_ru = Varchar(length=200, default="")
    size = Integer()
    position = Integer(default=0)


class Award(Table):
    """A team's prize in a stage."""

    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade, index=True)
    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade)
    tier = ForeignKey(PrizeTier, null=False, on_delete=OnDelete.restrict)
    rank = Integer(default=0)
    awarded_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    awarded_at = Timestamptz(default=TimestamptzNow())


class Certificate(Table):
    """A certificate for one person of an awarded team; ``serial`` is the random code its QR code
    and the public verification page use."""

    award = ForeignKey(Award, null=False, on_delete=OnDelete.cascade, index=True)
    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    holder_name = Varchar(length=200)
    holder_name_latin = Varchar(length=200, default="")
    role = Varchar(length=20, default="member")
    serial = Varchar(length=32, unique=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Varchar(length=500, default="")


class TabletSignIn(Table):
    """A one-time sign-in for a judge's tablet, shown as a QR code: only the token's SHA-256 is kept;
    it works once, before ``expires_at``."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
