"""Live finals: rooms (``Panel``) with a running order of teams (``StageEntry.panel``/``position``), a
team on stage, the pitch, questions and scoring phases with their timer, and the room result.

Preparing the rooms assigns every judge seated in a room to every active team of the room (conflicts
of interest left out) and opens scoring. Each step of a room is one conditional ``UPDATE`` of the
panel (from the phases it may follow, and the team on stage the caller saw), audited, then pushed to
the room's screens (:mod:`judging.live.events`) once committed.
"""

from __future__ import annotations

import json
from typing import Any

from piccolo.querystring import QueryString

from backend import policy
from backend.db import engine, fetch_all, fetch_one, locked_row, on_commit, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, NotFound, Term
from backend.policy import Action, AssignmentContext, Principal
from backend.teams.access import team_scope
from judging.access import StageAccess, stage_access
from judging.assign.service import conflict_pairs
from judging.history import judging_changed
from judging.live import events
from judging.live.result import RoomResult, room_result
from judging.tables import (
    AssignmentSource,
    EntryStatus,
    JudgingStatus,
    Panel,
    PanelPhase,
    Rubric,
    StageJudging,
)

STEPS: dict[str, tuple[tuple[PanelPhase, ...], PanelPhase]] = {
    # step: (the phases it may follow, the phase it starts)
    "start-pitch": ((PanelPhase.idle,), PanelPhase.pitch),
    "start-questions": ((PanelPhase.pitch,), PanelPhase.questions),
    "start-scoring": ((PanelPhase.pitch, PanelPhase.questions), PanelPhase.scoring),
    "next": ((PanelPhase.scoring,), PanelPhase.idle),
    "close": ((PanelPhase.idle, PanelPhase.scoring), PanelPhase.closed),
}


def _refuse_state(status: str) -> Conflict:
    return Conflict(
        "judging_state",
        "The stage's judging is {state}; this change is not possible now",
        params={"state": Term(status, "judging state")},
    )


def _require_live(access: StageAccess) -> None:
    if not access.judging["live"]:
        raise Conflict("stage_not_live", "This stage is not a live final: it has no rooms to run")


# Preparing the rooms ---------------------------------------------------------------------------


async def prepare_rooms(principal: Principal, stage_id: int) -> dict[str, Any]:
    """Assign each room's judges to each active team of the room (except conflicted pairs) and open
    scoring. Returns the assignments made and a warning per team left with fewer than
    ``min_judges`` judges. Run again it changes nothing and gives the same report."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    _require_live(access)
    async with transaction():
        judging = await locked_row(StageJudging, stage_id, by=StageJudging.stage)
        assert judging is not None
        if judging["status"] not in (JudgingStatus.setup.value, JudgingStatus.scoring.value):
            raise _refuse_state(judging["status"])
        judges = await fetch_all(
            'SELECT "user" AS judge, panel FROM stage_judge WHERE stage = {} AND panel IS NOT NULL', stage_id
        )
        entries = await fetch_all(
            "SELECT id, panel FROM stage_entry WHERE stage = {} AND status = 'active' AND panel IS NOT NULL",
            stage_id,
        )
        existing = {
            (r["judge"], r["stage_entry"])
            for r in await fetch_all(
                "SELECT judge, stage_entry FROM assignment WHERE stage = {} AND state = 'active'", stage_id
            )
        }
        conflicts = await conflict_pairs(stage_id)
        wanted = [
            (j["judge"], e["id"])
            for e in entries
            for j in judges
            if j["panel"] == e["panel"] and (j["judge"], e["id"]) not in conflicts
        ]
        new = [pair for pair in wanted if pair not in existing]
        for judge, entry in new:
            await engine().run_querystring(
                QueryString(
                    "INSERT INTO assignment (stage, stage_entry, judge, state, source, recusal_reason, "
                    "created_at) VALUES ({}, {}, {}, 'active', {}, '', CURRENT_TIMESTAMP)",
                    stage_id,
                    entry,
                    judge,
                    AssignmentSource.manual.value,
                )
            )
        per_entry = {e["id"]: 0 for e in entries}
        for _judge, entry in existing | set(wanted):
            if entry in per_entry:
                per_entry[entry] += 1
        opened = judging["status"] == JudgingStatus.setup.value
        if opened:
            await StageJudging.update(
                {
                    StageJudging.status: JudgingStatus.scoring.value,
                    StageJudging.assignment_published_at: utcnow(),
                    StageJudging.updated_at: utcnow(),
                }
            ).where((StageJudging.stage == stage_id) & (StageJudging.status == JudgingStatus.setup.value))
        if new or opened:
            await judging_changed(
                principal.id,
                access.stage["event"],
                "rooms_prepared",
                "stage",
                stage_id,
                assignments=len(new),
                opened=opened,
            )
    warnings = [
        {"entry": entry, "judges": n, "min_judges": judging["min_judges"]}
        for entry, n in per_entry.items()
        if n < judging["min_judges"]
    ]
    return {
        "stage_id": stage_id,
        "status": JudgingStatus.scoring.value,
        "assignments_created": len(new),
        "entries": len(entries),
        "warnings": warnings,
    }


# Reading a room ----------------------------------------------------------------------------------


async def panel_access(
    principal: Principal | None, panel_id: int, action: Action
) -> tuple[dict, StageAccess]:
    """The room and its stage, if the caller may do ``action`` there: for ``view_judging`` a scoped
    admin must cover every team of the room (a room's screen shows them all)."""
    panel = await Panel.select().where(Panel.id == panel_id).first()
    if panel is None:
        raise NotFound("Room")
    access = await stage_access(principal, panel["stage"], action)
    if action is Action.view_judging and principal is not None and not principal.is_platform_admin:
        teams = await fetch_all(
            "SELECT t.track, t.region, t.institution FROM stage_entry e JOIN team t ON t.id = e.team "
            "WHERE e.panel = {}",
            panel_id,
        )
        if not all(policy.within_scope(principal, access.event, [team_scope(t) for t in teams])):
            policy.require(principal, Action.configure_judging, access.event)
    _require_live(access)
    return panel, access


_ENTRIES = """
SELECT e.id, e.label, e.position, e.status, e.team, t.name AS team_name, t.entry_title AS title,
       (SELECT COUNT(*) FROM assignment a WHERE a.stage_entry = e.id AND a.state = 'active') AS judges,
       (SELECT COUNT(*) FROM score_sheet s JOIN assignment a ON a.id = s.assignment
          WHERE s.stage_entry = e.id AND a.state = 'active') AS sheets
FROM stage_entry e JOIN team t ON t.id = e.team
WHERE e.panel = {}
ORDER BY e.position, e.id
"""


def _entry_out(row: dict[str, Any], anonymous: bool = False) -> dict[str, Any]:
    """A team as a screen shows it; for judges of an anonymous stage the label and title only."""
    return {
        "id": row["id"],
        "label": row["label"],
        "title": row["title"],
        "team": None if anonymous else row["team_name"],
        "position": row["position"],
        "status": row["status"],
        "judges": row["judges"],
        "sheets": row["sheets"],
        "complete": row["status"] == EntryStatus.active.value and 0 < row["judges"] <= row["sheets"],
    }


def timer(panel: dict[str, Any], judging: dict[str, Any]) -> dict[str, Any]:
    """The room's clock: the phase, when it started, how long it lasts (pitch and questions only)
    and the server's time, from which a screen corrects its own clock's skew."""
    duration = {
        PanelPhase.pitch.value: judging["pitch_seconds"],
        PanelPhase.questions.value: judging["questions_seconds"],
    }.get(panel["phase"])
    started = panel["phase_started_at"]
    return {
        "phase": panel["phase"],
        "started_at": started.isoformat() if started else None,
        "duration_s": duration,
        "server_now": utcnow().isoformat(),
    }


async def room_snapshot(panel: dict[str, Any], access: StageAccess) -> dict[str, Any]:
    """The room's state as its organizers' screens show it, with the team on stage's result once
    every judge is in."""
    entries = [_entry_out(r) for r in await fetch_all(_ENTRIES, panel["id"])]
    current = next((e for e in entries if e["id"] == panel["current_entry"]), None)
    result = None
    if current is not None and current["complete"]:
        _, computed = await compute_result(current["id"])
        result = {"entry": current["id"], **computed.as_dict()} if computed else None
    return {
        "panel": {"id": panel["id"], "name": panel["name"], "room": panel["room"]},
        "stage_id": panel["stage"],
        "event_id": access.stage["event"],
        "status": access.judging["status"],
        "anonymous": access.judging["anonymous"],
        "phase": panel["phase"],
        "current_entry": current,
        "timer": timer(panel, access.judging),
        "entries": entries,
        "result": result,
    }


async def room_state(principal: Principal, panel_id: int) -> dict[str, Any]:
    """The room as its control screen shows it: phase, team on stage, timer and running order with
    each team's sheets in."""
    panel, access = await panel_access(principal, panel_id, Action.configure_judging)
    return await room_snapshot(panel, access)


async def rooms_of_stage(principal: Principal, stage_id: int) -> tuple[StageAccess, list[dict[str, Any]]]:
    """Every room of a live stage, in order, each as :func:`room_state` gives it."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    _require_live(access)
    panels = await Panel.select().where(Panel.stage == stage_id).order_by(Panel.position).order_by(Panel.id)
    return access, [await room_snapshot(p, access) for p in panels]


# Running a room ----------------------------------------------------------------------------------


async def run_step(
    principal: Principal, panel_id: int, step: str, entry_id: int | None = None
) -> dict[str, Any]:
    """Move the room one step (:data:`STEPS`): 409 ``live_phase`` when the step does not follow the
    room's phase (or another organizer moved the room meanwhile). ``start-pitch`` puts ``entry_id``
    on stage, by default the team already called or the first of the running order with no sheet;
    ``next`` calls the following team of the running order."""
    if step not in STEPS:
        raise NotFound("Step")
    panel, access = await panel_access(principal, panel_id, Action.configure_judging)
    if access.judging["status"] != JudgingStatus.scoring.value:
        raise _refuse_state(access.judging["status"])
    sources, target = STEPS[step]
    if panel["phase"] not in {s.value for s in sources}:
        raise _phase_refused(panel["phase"], step)
    running_order = await fetch_all(_ENTRIES, panel_id)
    entries = [r for r in running_order if r["status"] == EntryStatus.active.value]
    on_stage = panel["current_entry"]
    if step == "start-pitch":
        on_stage = _team_to_call(entries, on_stage, entry_id)
    elif step == "next":
        on_stage = _following(running_order, on_stage)
    elif step == "close":
        on_stage = None
    now = utcnow()
    async with transaction():
        seen = (
            Panel.current_entry.is_null()
            if panel["current_entry"] is None
            else Panel.current_entry == panel["current_entry"]
        )
        moved = (
            await Panel.update(
                {Panel.phase: target.value, Panel.current_entry: on_stage, Panel.phase_started_at: now}
            )
            .where((Panel.id == panel_id) & Panel.phase.is_in([s.value for s in sources]) & seen)
            .returning(Panel.id)
        )
        if not moved:
            fresh = await Panel.select(Panel.phase).where(Panel.id == panel_id).first()
            raise _phase_refused(fresh["phase"] if fresh else panel["phase"], step)
        await judging_changed(
            principal.id,
            access.stage["event"],
            "room_step",
            "panel",
            panel_id,
            step=step,
            phase=target.value,
            entry=on_stage,
        )
        on_commit(lambda: publish_phase(panel_id))
    fresh = await Panel.select().where(Panel.id == panel_id).first()
    return await room_snapshot(fresh, access)


def _phase_refused(phase: str, step: str) -> Conflict:
    return Conflict(
        "live_phase",
        "The room is in the {phase} phase; the step {step} does not follow it",
        params={"phase": Term(phase, "room phase"), "step": Term(step, "room step")},
    )


def _following(running_order: list[dict[str, Any]], on_stage: int | None) -> int | None:
    """The first active team after ``on_stage`` in the running order (a withdrawn team keeps its place,
    so the order goes on after it); ``None`` when none is left, or when ``on_stage`` has left the room
    (the organizer then calls a team by name)."""
    ids = [e["id"] for e in running_order]
    after = ids.index(on_stage) + 1 if on_stage in ids else len(ids)
    return next((e["id"] for e in running_order[after:] if e["status"] == EntryStatus.active.value), None)


def _team_to_call(entries: list[dict[str, Any]], on_stage: int | None, entry_id: int | None) -> int:
    if entry_id is not None:
        if not any(e["id"] == entry_id for e in entries):
            raise DomainError(
                "validation_error",
                INVALID_INPUT,
                status_code=422,
                params={"problems": "entry"},
                fields={"entry": "This team is not an active team of this room"},
            )
        return entry_id
    if on_stage is not None:
        return on_stage
    waiting = next((e["id"] for e in entries if e["sheets"] == 0), None)
    if waiting is None:
        raise Conflict("live_phase", "Every team of this room's running order has been scored")
    return waiting


async def publish_phase(panel_id: int) -> None:
    """Push the room's phase, timer and team on stage to its screens (judges of an anonymous stage
    get the team's label and title only)."""
    panel = await Panel.select().where(Panel.id == panel_id).first()
    judging = await StageJudging.select().where(StageJudging.stage == panel["stage"]).first()
    entry = None
    if panel["current_entry"] is not None:
        rows = [r for r in await fetch_all(_ENTRIES, panel_id) if r["id"] == panel["current_entry"]]
        entry = rows[0] if rows else None
    data = {"phase": panel["phase"], "timer": timer(panel, judging)}
    full = {**data, "current_entry": _entry_out(entry) if entry else None}
    await events.publish(panel_id, "phase", full, (events.CONTROL, events.SCREEN))
    hidden = {**data, "current_entry": _entry_out(entry, judging["anonymous"]) if entry else None}
    await events.publish(panel_id, "phase", hidden, (events.JUDGES,))


# The room result ---------------------------------------------------------------------------------

_SHEETS = """
SELECT s.id, s.judge, s.marks, s.total, s.rubric, s.version, s.submitted_at, s.updated_at,
       u.display_name AS judge_name
FROM score_sheet s
JOIN assignment a ON a.id = s.assignment
JOIN podium_user u ON u.id = s.judge
WHERE s.stage_entry = {} AND a.state = 'active'
ORDER BY u.display_name, s.judge
"""


async def entry_sheets(entry_id: int) -> list[dict[str, Any]]:
    """The current sheets of a team's active assignments, by judge name."""
    rows = [dict(r) for r in await fetch_all(_SHEETS, entry_id)]
    for r in rows:
        if isinstance(r["marks"], str):  # a JSON column comes back as text from a raw query
            r["marks"] = json.loads(r["marks"])
    return rows


async def _criteria(rubric_id: int) -> list[dict[str, Any]]:
    row = await Rubric.select(Rubric.criteria).where(Rubric.id == rubric_id).first()
    if row is None:
        raise NotFound("Rubric")
    criteria = row["criteria"]
    return json.loads(criteria) if isinstance(criteria, str) else criteria


async def compute_result(entry_id: int) -> tuple[dict[str, Any], RoomResult | None]:
    """The team's progress (``judges``, ``sheets``) and its result once every active assignment has
    a sheet (``None`` before)."""
    entry = await fetch_one(
        "SELECT e.id, e.stage, e.panel, j.trim_high, j.trim_low, j.min_judges, j.round_places, "
        "(SELECT COUNT(*) FROM assignment a WHERE a.stage_entry = e.id AND a.state = 'active') AS judges "
        "FROM stage_entry e JOIN stage_judging j ON j.stage = e.stage WHERE e.id = {}",
        entry_id,
    )
    if entry is None:
        raise NotFound("Entry")
    sheets = await entry_sheets(entry_id)
    progress = {"entry": entry_id, "judges": entry["judges"], "sheets": len(sheets)}
    if not sheets or len(sheets) < entry["judges"]:
        return progress, None
    criteria = await _criteria(sheets[0]["rubric"])
    result = room_result(
        criteria,
        {s["judge"]: s["marks"] for s in sheets},
        trim_high=entry["trim_high"],
        trim_low=entry["trim_low"],
        min_judges=entry["min_judges"],
        places=entry["round_places"],
    )
    return progress, result


async def entry_result(principal: Principal, panel_id: int, entry_id: int) -> dict[str, Any]:
    """A team's room result for the organizers: complete or not, and the result when complete."""
    await panel_access(principal, panel_id, Action.view_judging)
    if not await fetch_one("SELECT id FROM stage_entry WHERE id = {} AND panel = {}", entry_id, panel_id):
        raise NotFound("Entry")
    progress, result = await compute_result(entry_id)
    return {**progress, "complete": result is not None, "result": result.as_dict() if result else None}


# Judges ------------------------------------------------------------------------------------------


async def judge_room(principal: Principal | None, panel_id: int) -> dict[str, Any]:
    """The room as a judge seated in it sees it: phase, timer, the team on stage (label and title
    only on an anonymous stage) and the judge's own assignment for it. To anyone else, and before
    the rooms are prepared, the room does not exist (404)."""
    panel = await Panel.select().where(Panel.id == panel_id).first()
    seat = None
    if panel is not None and principal is not None:
        seat = await fetch_one(
            'SELECT sj.id FROM stage_judge sj WHERE sj.stage = {} AND sj."user" = {} AND sj.panel = {}',
            panel["stage"],
            principal.id,
            panel_id,
        )
    if panel is None or principal is None or seat is None:
        raise NotFound("Room")
    judging = await StageJudging.select().where(StageJudging.stage == panel["stage"]).first()
    published = judging is not None and judging["live"] and judging["assignment_published_at"] is not None
    # the judge's seat in this room, as the policy reads a judge's standing
    policy.require(principal, Action.score_entry, assignment=AssignmentContext(principal.id, published))
    entry = None
    assignment = None
    if panel["current_entry"] is not None:
        rows = [r for r in await fetch_all(_ENTRIES, panel_id) if r["id"] == panel["current_entry"]]
        entry = _entry_out(rows[0], judging["anonymous"]) if rows else None
        found = await fetch_one(
            "SELECT id FROM assignment WHERE stage_entry = {} AND judge = {} AND state = 'active'",
            panel["current_entry"],
            principal.id,
        )
        assignment = found["id"] if found else None
    return {
        "panel": {"id": panel["id"], "name": panel["name"], "room": panel["room"]},
        "stage_id": panel["stage"],
        "judge_id": principal.id,
        "phase": panel["phase"],
        "timer": timer(panel, judging),
        "current_entry": entry,
        "assignment_id": assignment,
    }


async def score_sheet_data(principal: Principal, panel_id: int, entry_id: int) -> dict[str, Any]:
    """What a team's signable score sheet prints: the event, stage, room, team, every judge's sheet,
    the rubric and the room result (``None`` until every judge is in)."""
    panel, access = await panel_access(principal, panel_id, Action.view_judging)
    entry = await fetch_one(
        "SELECT e.id, e.label, t.name AS team_name, t.entry_title AS title, "
        "i.name_zh, i.name_en "  # the institution's names
        "FROM stage_entry e JOIN team t ON t.id = e.team LEFT JOIN institution i ON i.id = t.institution "
        "WHERE e.id = {} AND e.panel = {}",
        entry_id,
        panel_id,
    )
    if entry is None:
        raise NotFound("Entry")
    event = await fetch_one("SELECT * FROM event WHERE id = {}", access.stage["event"])
    sheets = await entry_sheets(entry_id)
    criteria = await _criteria(sheets[0]["rubric"]) if sheets else []
    _, result = await compute_result(entry_id)
    return {
        "event": event,
        "stage": access.stage,
        "judging": access.judging,
        "panel": panel,
        "entry": entry,
        "sheets": sheets,
        "criteria": criteria,
        "result": result,
    }
