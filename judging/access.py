"""Loading a stage or an assignment as the policy sees it: what every judging operation asks first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from backend import policy
from backend.db import engine, fetch_one
from backend.errors import NotFound
from backend.events.tables import Stage
from backend.policy import Action, AssignmentContext, EventContext, Principal, Scope
from judging.tables import JudgingStatus, StageJudging


@dataclass(frozen=True)
class StageAccess:
    """A stage with its judging set-up and the caller's standing in its event."""

    stage: dict[str, Any]
    judging: dict[str, Any]
    event: EventContext


async def judging_of(stage: dict[str, Any]) -> dict[str, Any]:
    """The stage's judging set-up, created with the defaults on first use (``INSERT ... ON CONFLICT
    DO NOTHING``, so two first uses at once make one row)."""
    row = await StageJudging.select().where(StageJudging.stage == stage["id"]).first()
    if row is None:
        await engine().run_querystring(
            QueryString(
                "INSERT INTO stage_judging (stage, event, updated_at) VALUES ({}, {}, CURRENT_TIMESTAMP) "
                "ON CONFLICT (stage) DO NOTHING",
                stage["id"],
                stage["event"],
            )
        )
        row = await StageJudging.select().where(StageJudging.stage == stage["id"]).first()
    assert row is not None
    return row


async def stage_access(
    principal: Principal | None,
    stage_id: int,
    action: Action = Action.view_judging,
    target: Scope | None = None,
) -> StageAccess:
    """The stage, if ``principal`` may do ``action`` in it (``target``: the part of the event acted on,
    e.g. a team's scope); else the policy's refusal (404 when hidden, 403 when not theirs)."""
    stage = await Stage.select().where(Stage.id == stage_id).first()
    event = await policy.event_context(principal, stage["event"]) if stage else None
    if stage is None or event is None or principal is None:
        raise NotFound("Stage")
    policy.require(principal, action, event, target=target)
    return StageAccess(stage, await judging_of(stage), event)


@dataclass(frozen=True)
class AssignmentAccess:
    """A judge's assignment with what scoring needs in one read: the entry, its team's institution,
    the stage's judging state and whether the judge's own institution or declared conflicts meet it."""

    row: dict[str, Any]

    @property
    def scoring_open(self) -> bool:
        return self.row["judging_status"] == JudgingStatus.scoring.value


# One read: the assignment, its entry and team, the stage's judging state, and any conflict between
# the judge (their stage institution, their declared conflicts) and the team.
_ASSIGNMENT = """
SELECT a.id, a.stage, a.stage_entry, a.judge, a.state, a.source,
       e.team, e.label, e.track, e.status AS entry_status, e.event, e.panel,
       t.institution AS team_institution,
       j.status AS judging_status, j.anonymous, j.assignment_published_at,
       (SELECT COUNT(*) FROM stage_judge sj
          WHERE sj.stage = a.stage AND sj."user" = a.judge
            AND sj.institution IS NOT NULL AND sj.institution = t.institution)
     + (SELECT COUNT(*) FROM judge_conflict c
          WHERE c.event = e.event AND c."user" = a.judge
            AND (c.team = t.id OR (c.institution IS NOT NULL AND c.institution = t.institution)))
       AS conflicts
FROM assignment a
JOIN stage_entry e ON e.id = a.stage_entry
JOIN team t ON t.id = e.team
JOIN stage_judging j ON j.stage = a.stage
WHERE a.id = {}
"""


async def assignment_access(principal: Principal | None, assignment_id: int) -> AssignmentAccess:
    """The assignment, if it is the caller's and live: active, published, its entry active and no
    conflict of interest; to anyone else it does not exist (404)."""
    row = await fetch_one(_ASSIGNMENT, assignment_id)
    if row is None or principal is None:
        raise NotFound("Assignment")
    live = (
        row["state"] == "active"
        and row["assignment_published_at"] is not None
        and row["entry_status"] == "active"
        and not row["conflicts"]
    )
    policy.require(principal, Action.score_entry, assignment=AssignmentContext(row["judge"], live))
    return AssignmentAccess(row)
