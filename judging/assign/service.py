"""Judges for a stage's entries: conflicts of interest, the engine's runs, publication, organizers'
edits and judges' recusals.

Every change to a stage's assignment runs under a lock on the stage's ``stage_judging`` row, so the
checks that span rows (a judge's load against their capacity, the stage's state, the draft run in
use) still hold when the transaction commits; the unique index ``assignment_active`` (one active
assignment per judge and entry) backs the duplicate check.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections import Counter, defaultdict
from typing import Any

import anyio.to_thread
import numpy as np
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from backend import policy
from backend.accounts.tables import Role, RoleGrant, User
from backend.db import engine, fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError, NotFound, Term
from backend.events.tables import Event, Stage
from backend.policy import Action, Principal
from backend.teams.access import team_scope
from judging.access import AssignmentAccess, StageAccess, assignment_access, stage_access
from judging.assign import mail
from judging.assign.schemas import (
    AssignmentOut,
    EntryAssignmentsOut,
    EntryJudgeOut,
    HealthOut,
    JudgeLoadOut,
    PublishIn,
    RecusalOut,
    RecuseIn,
    RecuseOut,
    RunIn,
    RunOut,
    StageAssignmentsOut,
)
from judging.engine.assignment import assign
from judging.engine.model import InputError
from judging.history import judging_changed
from judging.setup.service import state_conflict
from judging.tables import (
    Assignment,
    AssignmentRun,
    AssignmentSource,
    AssignmentState,
    JudgingStatus,
    RunStatus,
    ScoreSheet,
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
_BY_JUDGE = ' AND sj."user" = {}'
_BY_ENTRY = " AND e.id = {}"

CONFLICT_KINDS = tuple(_CONFLICTS)


async def conflict_kinds(stage_id: int, judge_id: int | None = None, entry_id: int | None = None) -> dict:
    """``{(judge_id, entry_id): kind}`` of the stage's conflicts of interest (the first kind found),
    for every pair, or only for the judge and/or the entry given."""
    found: dict[tuple[int, int], str] = {}
    for kind, sql in _CONFLICTS.items():
        args: list[Any] = [stage_id]
        for narrowing, value in ((_BY_JUDGE, judge_id), (_BY_ENTRY, entry_id)):
            if value is not None:
                sql += narrowing
                args.append(value)
        for row in await fetch_all(sql, *args):
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


async def _loads(stage_id: int) -> Counter[int]:
    """Active assignments per judge of the stage."""
    rows = await fetch_all(
        "SELECT judge, COUNT(*) AS n FROM assignment WHERE stage = {} AND state = 'active' GROUP BY judge",
        stage_id,
    )
    return Counter({r["judge"]: r["n"] for r in rows})


async def _stage_judges(stage_id: int) -> list[dict[str, Any]]:
    """The stage's judges, one row per person (the first ``stage_judge`` row), in id order."""
    rows = await StageJudge.select(
        StageJudge.user, StageJudge.institution, StageJudge.capacity, StageJudge.panel
    ).where(StageJudge.stage == stage_id)
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
            raise state_conflict(judging["status"])
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


async def remove_assignment(principal: Principal, assignment_id: int) -> dict[str, Any]:
    """Take an entry away from its judge (an organizer); refused once the judge submitted a sheet
    (409 ``assignment_scored``) or when the stage is locked or published."""
    row = await fetch_one("SELECT stage FROM assignment WHERE id = {}", assignment_id)
    if row is None:
        raise NotFound("Assignment")
    access = await stage_access(principal, row["stage"], Action.configure_judging)
    async with transaction():
        judging = await _lock_stage(row["stage"])
        if judging["status"] not in (JudgingStatus.setup.value, JudgingStatus.scoring.value):
            raise state_conflict(judging["status"])
        if await ScoreSheet.exists().where(ScoreSheet.assignment == assignment_id):
            raise Conflict(
                "assignment_scored", "The judge has already scored this entry; it cannot be taken away"
            )
        ended = (
            await Assignment.update(
                {Assignment.state: AssignmentState.removed.value, Assignment.ended_at: utcnow()}
            )
            .where((Assignment.id == assignment_id) & (Assignment.state == AssignmentState.active.value))
            .returning(*Assignment.all_columns())
        )
        if not ended:
            raise Conflict("assignment_not_active", "The assignment was already removed or recused")
        await judging_changed(
            principal.id,
            access.event.event_id,
            "assignment_removed",
            "assignment",
            assignment_id,
            entry=ended[0]["stage_entry"],
            judge=ended[0]["judge"],
        )
    return _assignment_out(ended[0])


# The engine's runs -------------------------------------------------------------------------------


async def _judge_tracks(event_id: int, judges: list[int]) -> list[int | None]:
    """Each judge's track: the track of their ``judge`` grants when they all name one, else ``None``
    (any track)."""
    rows = await RoleGrant.select(RoleGrant.user, RoleGrant.track).where(
        (RoleGrant.event == event_id)
        & (RoleGrant.role == Role.judge.value)
        & RoleGrant.user.is_in(judges or [0])
    )
    tracks: dict[int, set[int | None]] = defaultdict(set)
    for row in rows:
        tracks[row["user"]].add(row["track"])
    return [next(iter(tracks[j])) if len(tracks[j]) == 1 else None for j in judges]


_ENTRIES = """
SELECT e.id, e.label, e.track, t.institution
FROM stage_entry e JOIN team t ON t.id = e.team
WHERE e.stage = {} AND e.status = 'active'
ORDER BY e.id"""


def _institution_codes(*groups: list[int | None]) -> list[list[int]]:
    """Dense institution codes for the engine; each person or team without an institution gets a
    code of its own, so it conflicts with nobody (the engine's ``NO_GROUP`` fails when no row at all
    has an institution)."""
    known = {i: n for n, i in enumerate(sorted({i for g in groups for i in g if i is not None}))}
    fresh = iter(range(len(known), len(known) + sum(len(g) for g in groups)))
    return [[known[i] if i is not None else next(fresh) for i in g] for g in groups]


def _engine_report(result: Any, judges: list[int], seconds: float) -> dict[str, Any]:
    report = result.report
    loads = np.bincount(result.judge, minlength=len(judges))
    return {
        "load_min": report.load_min,
        "load_max": report.load_max,
        "load_spread": report.load_spread,
        "conflicts": report.conflicts,
        "components": report.components,
        "algebraic_connectivity": report.algebraic_connectivity,
        "cross_track_share": report.cross_track_share,
        "pair_probability_bound": report.pair_probability_bound,
        "repaired_share": report.repaired_share,
        "loads": {str(j): int(n) for j, n in zip(judges, loads, strict=True)},
        "histogram": {str(k): v for k, v in sorted(Counter(int(n) for n in loads).items())},
        "entries": int(np.unique(result.entry).size),
        "judges": len(judges),
        "engine_seconds": round(seconds, 3),
    }


def _run_out(row: dict[str, Any]) -> RunOut:
    return RunOut(
        id=row["id"],
        stage=row["stage"],
        status=row["status"],
        per_entry=row["per_entry"],
        seed=row["seed"],
        report=row["report"] if isinstance(row["report"], dict) else json.loads(row["report"] or "{}"),
        created_at=row["created_at"],
        published_at=row["published_at"],
    )


async def _insert_engine_rows(stage_id: int, run_id: int, entries: list[int], judges: list[int]) -> None:
    """The run's assignments in few statements (tens of thousands at national scale)."""
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.run_querystring(
            QueryString(
                "INSERT INTO assignment (stage, stage_entry, judge, run, state, source, recusal_reason, created_at) "
                "SELECT {}, x.e, x.j, {}, 'active', 'engine', '', CURRENT_TIMESTAMP "
                "FROM unnest({}::integer[], {}::integer[]) AS x(e, j)",
                stage_id,
                run_id,
                entries,
                judges,
            )
        )
        return
    for start in range(0, len(entries), 1000):
        await Assignment.insert(
            *(
                Assignment(
                    stage=stage_id, stage_entry=e, judge=j, run=run_id, source=AssignmentSource.engine.value
                )
                for e, j in zip(entries[start : start + 1000], judges[start : start + 1000], strict=True)
            )
        )


async def run_engine(principal: Principal, stage_id: int, data: RunIn) -> RunOut:
    """Draw a draft assignment with the engine (only in ``setup``): the stage's active entries, its
    judges (institutions, capacities, tracks from their judge grants) and every conflict of
    interest. It replaces the stage's draft assignment, organizers' edits included; judges see
    nothing until it is published. 422 ``assignment_infeasible`` when no assignment exists."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    if access.judging["status"] != JudgingStatus.setup.value:
        raise state_conflict(access.judging["status"])
    entries = await fetch_all(_ENTRIES, stage_id)
    judge_rows = await _stage_judges(stage_id)
    judges = [r["user"] for r in judge_rows]
    entry_index = {e["id"]: i for i, e in enumerate(entries)}
    judge_index = {j: i for i, j in enumerate(judges)}
    pairs = [
        (judge_index[j], entry_index[e])
        for j, e in await conflict_pairs(stage_id)
        if j in judge_index and e in entry_index
    ]
    judge_tracks = await _judge_tracks(access.event.event_id, judges)
    tracked = any(t is not None for t in judge_tracks)
    per_entry = data.per_entry or access.judging["judges_per_entry"]
    seed = data.seed if data.seed is not None else random.SystemRandom().randrange(2**31)
    capacities = [r["capacity"] for r in judge_rows]
    unlimited = 10**9
    entry_institution, judge_institution = _institution_codes(
        [e["institution"] for e in entries], [r["institution"] for r in judge_rows]
    )
    call = functools.partial(
        assign,
        entry_institution,
        judge_institution,
        per_entry,
        entry_track=[e["track"] for e in entries] if tracked else None,
        judge_track=[t if t is not None else -1 for t in judge_tracks] if tracked else None,
        capacity=[unlimited if c is None else c for c in capacities]
        if any(c is not None for c in capacities)
        else None,
        conflicts=(
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64),
        ),
        cross_track_share=0.2 if data.cross_track_share is None else data.cross_track_share,
        require_connected=False,
        entry_names=[e["label"] for e in entries],
        seed=seed,
    )
    started = time.perf_counter()
    try:
        result = await anyio.to_thread.run_sync(call)
    except InputError as exc:
        entry = entries[exc.row - 1]["label"] if exc.row is not None and exc.row <= len(entries) else None
        raise DomainError(
            "assignment_infeasible",
            "No assignment satisfies the rules: {message}",
            status_code=422,
            fields={"per_entry": "entry {entry} cannot get this many judges"} if entry else None,
            params={"message": exc.message, "entry": entry or ""},
        ) from exc
    report = _engine_report(result, judges, time.perf_counter() - started)
    async with transaction():
        judging = await _lock_stage(stage_id)
        if judging["status"] != JudgingStatus.setup.value:
            raise state_conflict(judging["status"])
        await AssignmentRun.update({AssignmentRun.status: RunStatus.discarded.value}).where(
            (AssignmentRun.stage == stage_id) & (AssignmentRun.status == RunStatus.draft.value)
        )
        await Assignment.update(
            {Assignment.state: AssignmentState.removed.value, Assignment.ended_at: utcnow()}
        ).where((Assignment.stage == stage_id) & (Assignment.state == AssignmentState.active.value))
        run = (
            await AssignmentRun.insert(
                AssignmentRun(
                    stage=stage_id, per_entry=per_entry, seed=seed, report=report, created_by=principal.id
                )
            ).returning(*AssignmentRun.all_columns())
        )[0]
        await _insert_engine_rows(
            stage_id,
            run["id"],
            [entries[int(e)]["id"] for e in result.entry],
            [judges[int(j)] for j in result.judge],
        )
        await judging_changed(
            principal.id,
            access.event.event_id,
            "assignment_run",
            "assignment_run",
            run["id"],
            per_entry=per_entry,
            seed=seed,
            conflicts=report["conflicts"],
            components=report["components"],
        )
    return _run_out(run)


async def list_runs(principal: Principal, stage_id: int) -> list[RunOut]:
    """The stage's engine runs, newest first."""
    await stage_access(principal, stage_id, Action.configure_judging)
    rows = (
        await AssignmentRun.select()
        .where(AssignmentRun.stage == stage_id)
        .order_by(AssignmentRun.id, ascending=False)
    )
    return [_run_out(r) for r in rows]


async def get_run(principal: Principal, run_id: int) -> RunOut:
    row = await AssignmentRun.select().where(AssignmentRun.id == run_id).first()
    if row is None:
        raise NotFound("Assignment run")
    await stage_access(principal, row["stage"], Action.configure_judging)
    return _run_out(row)


# The assignment as it stands ---------------------------------------------------------------------


async def _active_pairs(stage_id: int) -> list[dict[str, Any]]:
    return await fetch_all(
        "SELECT a.stage_entry AS entry, a.judge FROM assignment a JOIN stage_entry e ON e.id = a.stage_entry "
        "WHERE a.stage = {} AND a.state = 'active' AND e.status = 'active'",
        stage_id,
    )


async def health(stage_id: int, per_entry: int) -> HealthOut:
    """Conflicts among the active assignments, components of their judge–entry graph (an entry
    without judges is a component of its own) and active entries with fewer than ``per_entry`` judges."""
    pairs = await _active_pairs(stage_id)
    conflicts = await conflict_pairs(stage_id)
    entry_ids = [
        r["id"]
        for r in await fetch_all(
            "SELECT id FROM stage_entry WHERE stage = {} AND status = 'active'", stage_id
        )
    ]
    judged = Counter(p["entry"] for p in pairs)
    judges = sorted({p["judge"] for p in pairs})
    n_entries = len(entry_ids)
    components = 0
    if n_entries:
        e_index = {e: i for i, e in enumerate(entry_ids)}
        j_index = {j: n_entries + i for i, j in enumerate(judges)}
        size = n_entries + len(judges)
        rows = [e_index[p["entry"]] for p in pairs]
        cols = [j_index[p["judge"]] for p in pairs]
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
        components = int(connected_components(graph, directed=False)[0])
    return HealthOut(
        conflicts=sum((p["judge"], p["entry"]) in conflicts for p in pairs),
        components=components,
        short=sum(judged[e] < per_entry for e in entry_ids),
    )


async def _per_entry(stage_id: int, judging: dict[str, Any]) -> int:
    """Judges each entry should have: the latest draft or published run's, else the stage's setting."""
    run = await fetch_one(
        "SELECT per_entry FROM assignment_run WHERE stage = {} AND status IN ('draft', 'published') "
        "ORDER BY id DESC LIMIT 1",
        stage_id,
    )
    return run["per_entry"] if run else judging["judges_per_entry"]


# Publication -------------------------------------------------------------------------------------


async def publish_run(principal: Principal, run_id: int, data: PublishIn) -> RunOut:
    """Publish the stage's draft run: the stage moves from ``setup`` to ``scoring`` and every judge
    with entries is mailed their count. Refused (409 ``assignment_warnings``) while the assignment
    has conflicts or a split judge–entry graph, unless ``accept_warnings``."""
    row = await AssignmentRun.select(AssignmentRun.stage).where(AssignmentRun.id == run_id).first()
    if row is None:
        raise NotFound("Assignment run")
    stage_id = row["stage"]
    access = await stage_access(principal, stage_id, Action.configure_judging)
    async with transaction():
        judging = await _lock_stage(stage_id)
        if judging["status"] != JudgingStatus.setup.value:
            raise state_conflict(judging["status"])
        now = utcnow()
        run = (
            await AssignmentRun.update(
                {AssignmentRun.status: RunStatus.published.value, AssignmentRun.published_at: now}
            )
            .where((AssignmentRun.id == run_id) & (AssignmentRun.status == RunStatus.draft.value))
            .returning(*AssignmentRun.all_columns())
        )
        if not run:
            raise Conflict("run_not_draft", "Only the stage's current draft run can be published")
        state = await health(stage_id, run[0]["per_entry"])
        if (state.conflicts or state.components > 1) and not data.accept_warnings:
            raise Conflict(
                "assignment_warnings",
                "The assignment has {conflicts} conflicts of interest and {components} separate groups of "
                "judges and entries; confirm to publish anyway",
                params={"conflicts": state.conflicts, "components": state.components},
            )
        moved = (
            await StageJudging.update(
                {
                    StageJudging.status: JudgingStatus.scoring.value,
                    StageJudging.assignment_published_at: now,
                    StageJudging.updated_at: now,
                }
            )
            .where((StageJudging.stage == stage_id) & (StageJudging.status == JudgingStatus.setup.value))
            .returning(StageJudging.id)
        )
        if not moved:
            raise state_conflict(judging["status"])
        await judging_changed(
            principal.id,
            access.event.event_id,
            "assignment_published",
            "assignment_run",
            run_id,
            conflicts=state.conflicts,
            components=state.components,
            accepted_warnings=bool(data.accept_warnings and (state.conflicts or state.components > 1)),
        )
        event, stage = await _mail_context(stage_id)
        judges = await fetch_all(
            "SELECT u.id, u.email, u.locale, COUNT(*) AS n FROM assignment a JOIN podium_user u ON u.id = a.judge "
            "WHERE a.stage = {} AND a.state = 'active' GROUP BY u.id, u.email, u.locale ORDER BY u.id",
            stage_id,
        )
        for judge in judges:
            await mail.assignment_published(judge, event, stage, judge["n"])
    return _run_out(run[0])


# Recusal -----------------------------------------------------------------------------------------


async def _replacement(stage_id: int, entry_id: int, panel: int | None, rng: random.Random) -> int | None:
    """The judge to take over ``entry_id``: a judge of the stage (of its room, ``panel``, in a live
    final) with no conflict, not on the entry (now or before), under capacity, with the lowest load;
    among equals one who already shares entries with the entry's other judges (the judge–entry graph
    stays connected). Run under the stage's lock."""
    judges = [j for j in await _stage_judges(stage_id) if panel is None or j["panel"] == panel]
    loads = await _loads(stage_id)
    conflicted = await conflict_kinds(stage_id, entry_id=entry_id)
    rows = await fetch_all("SELECT judge, state FROM assignment WHERE stage_entry = {}", entry_id)
    had = {r["judge"] for r in rows if r["state"] != AssignmentState.removed.value}
    # co-judges of the entry's other judges, with the number of entries they share
    shared = Counter(
        {
            row["judge"]: row["n"]
            for row in await fetch_all(
                "SELECT b.judge, COUNT(*) AS n FROM assignment a "
                "JOIN assignment b ON b.stage_entry = a.stage_entry AND b.state = 'active' "
                "WHERE a.stage = {} AND a.state = 'active' AND a.judge IN "
                "(SELECT judge FROM assignment WHERE stage_entry = {} AND state = 'active') "
                "GROUP BY b.judge",
                stage_id,
                entry_id,
            )
        }
    )
    eligible = [
        j
        for j in judges
        if j["user"] not in had
        and (j["user"], entry_id) not in conflicted
        and (j["capacity"] is None or loads[j["user"]] < j["capacity"])
    ]
    if not eligible:
        return None
    best = min(eligible, key=lambda j: (loads[j["user"]], 0 if shared[j["user"]] else 1, rng.random()))
    return best["user"]


async def recuse(principal: Principal, assignment_id: int, data: RecuseIn) -> RecuseOut:
    """The judge abstains from an entry with a reason (refused once they submitted a sheet); in the
    same transaction the entry goes to the eligible judge with the lowest load (see
    :func:`_replacement`), who is mailed. ``replacement`` is ``None`` when nobody is eligible."""
    reason = data.reason.strip()
    if len(reason) < 3:
        raise DomainError(
            "validation_error",
            "Say why you abstain",
            status_code=422,
            fields={"reason": "must have at least 3 visible characters"},
        )
    access = await assignment_access(principal, assignment_id)
    stage_id, entry_id = access.row["stage"], access.row["stage_entry"]
    async with transaction():
        judging = await _lock_stage(stage_id)
        if judging["status"] != JudgingStatus.scoring.value:
            raise state_conflict(judging["status"])
        if await ScoreSheet.exists().where(ScoreSheet.assignment == assignment_id):
            raise Conflict(
                "assignment_scored", "You have already scored this entry; you can no longer abstain"
            )
        ended = (
            await Assignment.update(
                {
                    Assignment.state: AssignmentState.recused.value,
                    Assignment.recusal_reason: reason,
                    Assignment.ended_at: utcnow(),
                }
            )
            .where((Assignment.id == assignment_id) & (Assignment.state == AssignmentState.active.value))
            .returning(*Assignment.all_columns())
        )
        if not ended:
            raise Conflict("assignment_not_active", "The assignment was already removed or recused")
        new_judge = await _replacement(stage_id, entry_id, access.row["panel"], random.Random(assignment_id))
        replacement = None
        if new_judge is not None:
            replacement = (
                await Assignment.insert(
                    Assignment(
                        stage=stage_id,
                        stage_entry=entry_id,
                        judge=new_judge,
                        source=AssignmentSource.reassignment.value,
                    )
                ).returning(*Assignment.all_columns())
            )[0]
            await _mail_added(stage_id, new_judge, entry_id)
        await judging_changed(
            principal.id,
            access.row["event"],
            "assignment_recused",
            "assignment",
            assignment_id,
            entry=entry_id,
            reason=reason,
            replacement=new_judge,
        )
    return RecuseOut(
        recused=AssignmentOut(**_assignment_out(ended[0])),
        replacement=AssignmentOut(**_assignment_out(replacement)) if replacement else None,
    )


# The organizers' view ----------------------------------------------------------------------------


async def _visible_entries(principal: Principal, access: StageAccess) -> list[dict[str, Any]]:
    """The stage's entries with their teams, limited to the caller's scope."""
    rows = await fetch_all(
        "SELECT e.id, e.label, e.track, e.status, t.id AS team, t.name, t.entry_title, t.region, t.institution "
        "FROM stage_entry e JOIN team t ON t.id = e.team WHERE e.stage = {} ORDER BY e.id",
        access.stage["id"],
    )
    visible = policy.within_scope(principal, access.event, [team_scope(r) for r in rows])
    return [r for r, ok in zip(rows, visible, strict=True) if ok]


async def stage_assignments(principal: Principal, stage_id: int) -> StageAssignmentsOut:
    """Per entry its judges (sheet submitted or not) and whether it is short of judges; per judge
    the load; the recusals with their reasons. Scoped admins see the entries of their scope (and
    loads counted over them)."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    entries = await _visible_entries(principal, access)
    entry_ids = {e["id"] for e in entries}
    per_entry = await _per_entry(stage_id, access.judging)
    rows = await fetch_all(
        "SELECT a.id, a.stage_entry, a.judge, a.state, a.source, a.recusal_reason, a.ended_at, "
        "u.display_name, (s.id IS NOT NULL) AS submitted "
        "FROM assignment a JOIN podium_user u ON u.id = a.judge LEFT JOIN score_sheet s ON s.assignment = a.id "
        "WHERE a.stage = {} AND a.state IN ('active', 'recused') ORDER BY a.id",
        stage_id,
    )
    rows = [r for r in rows if r["stage_entry"] in entry_ids]
    by_entry: dict[int, list[EntryJudgeOut]] = defaultdict(list)
    load: Counter[int] = Counter()
    recusals = []
    labels = {e["id"]: e["label"] for e in entries}
    for r in rows:
        if r["state"] == AssignmentState.active.value:
            by_entry[r["stage_entry"]].append(
                EntryJudgeOut(r["id"], r["judge"], r["display_name"], r["source"], bool(r["submitted"]))
            )
            load[r["judge"]] += 1
        else:
            recusals.append(
                RecusalOut(
                    r["id"],
                    r["stage_entry"],
                    labels[r["stage_entry"]],
                    r["judge"],
                    r["display_name"],
                    r["recusal_reason"],
                    r["ended_at"],
                )
            )
    judges = await fetch_all(
        'SELECT DISTINCT sj."user" AS id, u.display_name, sj.capacity FROM stage_judge sj '
        'JOIN podium_user u ON u.id = sj."user" WHERE sj.stage = {} ORDER BY u.display_name, sj."user"',
        stage_id,
    )
    return StageAssignmentsOut(
        status=access.judging["status"],
        per_entry=per_entry,
        published_at=access.judging["assignment_published_at"],
        entries=[
            EntryAssignmentsOut(
                id=e["id"],
                label=e["label"],
                team=e["name"],
                title=e["entry_title"],
                track=e["track"],
                status=e["status"],
                judges=by_entry[e["id"]],
                short=e["status"] == "active" and len(by_entry[e["id"]]) < per_entry,
            )
            for e in entries
        ],
        judges=[JudgeLoadOut(j["id"], j["display_name"], j["capacity"], load[j["id"]]) for j in judges],
        recusals=recusals,
        health=await health(stage_id, per_entry),
    )


async def recusal_view(access: AssignmentAccess) -> dict[str, Any]:
    """What a judge sees of the entry they may abstain from: the stage's names, the entry's label and
    title (never the team's names: the stage may be anonymous)."""
    row = await fetch_one(
        "SELECT s.name_zh, s.name_en, s.name_ru, s.position, t.entry_title FROM stage s, team t "
        "WHERE s.id = {} AND t.id = {}",
        access.row["stage"],
        access.row["team"],
    )
    assert row is not None
    return {
        "assignment": access.row["id"],
        "label": access.row["label"],
        "title": row["entry_title"],
        "stage": {k: row[k] for k in ("name_zh", "name_en", "name_ru", "position")},
    }
