"""Judges for a stage's entries: conflicts of interest, the engine's runs, publication, organizers'
edits and judges' recusals.

Every change to a stage's assignment runs under a lock on the stage's ``stage_judging`` row, so the
checks that span rows (a judge's load against their capacity, the stage's state, the draft run in
use) still hold when the transaction commits; the unique index ``assignment_active`` (one active
assignment per judge and entry) backs the duplicate check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from piccolo.querystring import QueryString

from backend.accounts.tables import User
from backend.db import engine, fetch_one, locked_row, transaction
from backend.errors import Conflict, DomainError, NotFound, Term
from backend.events.tables import Event, Stage
from backend.policy import Action, Principal
from judging.access import stage_access
from judging.assign import mail
from judging.history import judging_changed
from judging.tables import (
    Assignment,
    AssignmentSource,
    AssignmentState,
    JudgingStatus,
    StageJudge,
    StageJudging,
)

# Conflicts of interest ---------------------------------------------------------------------------

# One set-based query per kind: (judge, entry) pairs of the stage that must never meet. A judge is
# a ``stage_judge`` of the stage; ``{}`` placeholders: the stage, then the optional narrowing.
_CONFLICTS = {
    # the judge works at the team's institution
    "institution": """
        SELECT DISTINCT sj."user" AS judge, e.id AS entry
        FROM stage_judge sj
        JOIN stage_entry e ON e.stage = sj.stage
        JOIN team t ON t.id = e.team
        WHERE sj.stage = {} AND sj.institution IS NOT NULL AND sj.institution = t.institution""",
    # the judge declared (or an organizer recorded) a conflict with the team or its institution
    "declared": """
        SELECT DISTINCT sj."user" AS judge, e.id AS entry
        FROM stage_judge sj
        JOIN stage_entry e ON e.stage = sj.stage
        JOIN team t ON t.id = e.team
        JOIN judge_conflict c ON c."user" = sj."user" AND c.event = e.event
        WHERE sj.stage = {}
          AND (c.team = t.id OR (c.institution IS NOT NULL AND c.institution = t.institution))""",
    # the judge holds a confirmed seat in the team (an advisor's, or any other)
    "advisor": """
        SELECT DISTINCT sj."user" AS judge, e.id AS entry
        FROM stage_judge sj
        JOIN stage_entry e ON e.stage = sj.stage
        JOIN team_member m ON m.team = e.team AND m."user" = sj."user"
        WHERE sj.stage = {} AND m.state = 'confirmed'""",
}
_ONE_PAIR = ' AND sj."user" = {} AND e.id = {}'

CONFLICT_KINDS = tuple(_CONFLICTS)


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await engine().run_querystring(QueryString(sql, *args))


async def conflict_kinds(stage_id: int, judge_id: int | None = None, entry_id: int | None = None) -> dict:
    """``{(judge_id, entry_id): kind}`` of the stage's conflicts of interest (the first kind found),
    for every pair, or only for the pair given."""
    found: dict[tuple[int, int], str] = {}
    for kind, sql in _CONFLICTS.items():
        args: tuple[Any, ...] = (stage_id,)
        if judge_id is not None and entry_id is not None:
            sql, args = sql + _ONE_PAIR, (stage_id, judge_id, entry_id)
        for row in await _rows(sql, *args):
            found.setdefault((row["judge"], row["entry"]), kind)
    return found


async def conflict_pairs(stage_id: int) -> set[tuple[int, int]]:
    """Every ``(judge_id, entry_id)`` of the stage that must not meet: same institution, a declared
    conflict (institution or team), or the judge holds a confirmed seat (e.g. an advisor's) in the team."""
    return set(await conflict_kinds(stage_id))


# Shared reads ------------------------------------------------------------------------------------


def _assignment_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "stage": row["stage"],
        "stage_entry": row["stage_entry"],
        "judge": row["judge"],
        "run": row["run"],
        "state": row["state"],
        "source": row["source"],
    }


async def _lock_stage(stage_id: int) -> dict[str, Any]:
    """The stage's judging row, locked until the transaction ends (see the module's docstring)."""
    row = await locked_row(StageJudging, stage_id, by=StageJudging.stage)
    if row is None:
        raise NotFound("Stage")
    return row


def _refuse_state(status: str) -> Conflict:
    return Conflict(
        "judging_state",
        "The stage's judging is {state}; this change is not possible now",
        params={"state": Term(status, "judging state")},
    )


async def _loads(stage_id: int) -> Counter[int]:
    """Active assignments per judge of the stage."""
    rows = await _rows(
        "SELECT judge, COUNT(*) AS n FROM assignment WHERE stage = {} AND state = 'active' GROUP BY judge",
        stage_id,
    )
    return Counter({r["judge"]: r["n"] for r in rows})


async def _stage_judges(stage_id: int) -> list[dict[str, Any]]:
    """The stage's judges, one row per person (the first ``stage_judge`` row), in id order."""
    rows = await StageJudge.select(StageJudge.user, StageJudge.institution, StageJudge.capacity).where(
        StageJudge.stage == stage_id
    )
    seen: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["user"]):
        seen.setdefault(row["user"], row)
    return list(seen.values())


async def _mail_context(stage_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    stage = await Stage.select().where(Stage.id == stage_id).first()
    assert stage is not None
    event = await Event.select().where(Event.id == stage["event"]).first()
    assert event is not None
    return event, stage


async def _mail_added(stage_id: int, judge_id: int, entry_id: int) -> None:
    """Mail ``judge_id`` that an entry joined their assignment, once the stage's assignment is out."""
    judging = await StageJudging.select(StageJudging.assignment_published_at).where(
        StageJudging.stage == stage_id
    )
    if not judging or judging[0]["assignment_published_at"] is None:
        return
    judge = await User.select(User.email, User.locale).where(User.id == judge_id).first()
    label = await fetch_one("SELECT label FROM stage_entry WHERE id = {}", entry_id)
    event, stage = await _mail_context(stage_id)
    if judge and label:
        await mail.entry_added(judge, event, stage, label["label"])


# Manual edits ------------------------------------------------------------------------------------


async def add_assignment(
    principal: Principal, stage_id: int, entry_id: int, judge_id: int, *, source: str = "manual"
) -> dict[str, Any]:
    """Give ``judge_id`` the entry ``entry_id`` (an organizer's edit, or ``source="rereview"`` for an
    extra judge of a divergent entry). Refuses an entry or judge not of the stage (422), a conflict
    of interest (409 ``conflict_of_interest`` naming its kind), a judge already on the entry (409
    ``assignment_exists``) and a locked or published stage (409 ``judging_state``). Joins the
    caller's transaction if there is one; the judge is mailed when the assignment is already out."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    if source not in (AssignmentSource.manual.value, AssignmentSource.rereview.value):
        raise ValueError(f"add_assignment: unknown source {source!r}")
    async with transaction():
        judging = await _lock_stage(stage_id)
        if judging["status"] not in (JudgingStatus.setup.value, JudgingStatus.scoring.value):
            raise _refuse_state(judging["status"])
        entry = await fetch_one(
            "SELECT id, status FROM stage_entry WHERE id = {} AND stage = {}", entry_id, stage_id
        )
        if entry is None or entry["status"] != "active":
            raise DomainError(
                "validation_error",
                "The entry is not an active entry of this stage",
                status_code=422,
                fields={"entry": "is not an active entry of this stage"},
            )
        if not await StageJudge.exists().where(
            (StageJudge.stage == stage_id) & (StageJudge.user == judge_id)
        ):
            raise DomainError(
                "validation_error",
                "The person is not a judge of this stage",
                status_code=422,
                fields={"judge": "is not a judge of this stage"},
            )
        kinds = await conflict_kinds(stage_id, judge_id, entry_id)
        if kinds:
            raise Conflict(
                "conflict_of_interest",
                "The judge has a conflict of interest with this entry ({kind})",
                params={"kind": Term(kinds[(judge_id, entry_id)], "conflict of interest")},
            )
        if await Assignment.exists().where(
            (Assignment.stage_entry == entry_id)
            & (Assignment.judge == judge_id)
            & (Assignment.state == AssignmentState.active.value)
        ):
            raise Conflict("assignment_exists", "The judge is already assigned to this entry")
        row = (
            await Assignment.insert(
                Assignment(stage=stage_id, stage_entry=entry_id, judge=judge_id, source=source)
            ).returning(*Assignment.all_columns())
        )[0]
        await judging_changed(
            principal.id,
            access.event.event_id,
            "assignment_added",
            "assignment",
            row["id"],
            entry=entry_id,
            judge=judge_id,
            source=source,
        )
        await _mail_added(stage_id, judge_id, entry_id)
    return _assignment_out(row)
