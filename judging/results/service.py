"""Results of a judged stage: ranking runs, publication with its objection period, appeals and the
re-review queue. One function per change: check access, write in one transaction, audit, answer.

Who may do what: runs, publication, answers to appeals and re-review are ``configure_judging``;
reading runs, results and appeals is ``view_judging`` (a scoped admin sees only the entries and
appeals of teams inside their grants); filing and withdrawing an appeal is the team leader's
``file_appeal``; a team's members read their own appeal.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from piccolo.querystring import QueryString

from backend import policy, tasks
from backend.db import engine, fetch_all, fetch_one, locked_row, on_commit, transaction
from backend.errors import Conflict, DomainError, NotFound
from backend.events.tables import Event
from backend.policy import Action, Principal
from backend.schemas import has_visible_text
from backend.teams.access import team_access, team_scope
from judging.access import StageAccess, stage_access
from judging.history import judging_changed
from judging.results import mail
from judging.results.schemas import (
    AppealAnswerIn,
    AppealIn,
    AppealOut,
    PublicationOut,
    RankingResultOut,
    RankingRunDetailOut,
    RankingRunOut,
    RereviewIn,
    RereviewOut,
)
from judging.results.workdays import objection_end
from judging.setup.service import state_conflict
from judging.tables import (
    Appeal,
    AppealStatus,
    JudgingStatus,
    RankingRun,
    RunStatus,
    StageEntry,
    StageJudging,
)

RANK_JOB = "rank_stage"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Ranking runs ---------------------------------------------------------------------------------


def loads(value: Any) -> Any:
    """A JSON column's value (Piccolo hands it over as text)."""
    return json.loads(value) if isinstance(value, str) else value


def run_out(row: dict[str, Any], detail: bool = False) -> RankingRunOut:
    diagnostics = loads(row["diagnostics"]) or {}
    fields = {
        "id": row["id"],
        "stage": row["stage"],
        "status": row["status"],
        "progress": row["progress"],
        "phase": row["phase"],
        "method": row["method"],
        "provisional": bool(diagnostics.get("provisional")),
        "error": row["error"],
        "requested_at": row["requested_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
    }
    if detail:
        return RankingRunDetailOut(**fields, diagnostics=diagnostics, notes=loads(row["notes"]) or [])
    return RankingRunOut(**fields)


async def request_run(principal: Principal, stage_id: int) -> RankingRunOut:
    """Queue a ranking of the stage's current sheets. While judges still score, the run is marked
    provisional (it shows where things stand and cannot be published); once locked it is final."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    async with transaction():
        judging = await locked_row(StageJudging, access.judging["id"])
        assert judging is not None
        if judging["status"] not in (JudgingStatus.scoring.value, JudgingStatus.locked.value):
            raise state_conflict(judging["status"])
        provisional = judging["status"] == JudgingStatus.scoring.value
        run = RankingRun(
            stage=stage_id,
            status=RunStatus.queued.value,
            phase="queued",
            method=judging["method"],
            diagnostics={"provisional": provisional},
            requested_by=principal.id,
        )
        await run.save()
        await judging_changed(
            principal.id,
            access.event.event_id,
            "ranking_requested",
            "ranking_run",
            run.id,
            provisional=provisional,
        )
        # No arq job id: arq would skip a run whose id an earlier database sharing this Redis used
        # (its result key stays for an hour); the job's claim makes a second delivery harmless.
        on_commit(functools.partial(tasks.enqueue, RANK_JOB, run.id))
    row = await RankingRun.select().where(RankingRun.id == run.id).first()
    assert row is not None
    return run_out(row)


async def run_access(
    principal: Principal | None, run_id: int, action: Action = Action.view_judging
) -> tuple[dict[str, Any], StageAccess]:
    """The run and its stage, if ``principal`` may do ``action`` in the stage (else 404/403)."""
    row = await RankingRun.select().where(RankingRun.id == run_id).first()
    if row is None or principal is None:
        raise NotFound("Ranking run")
    try:
        access = await stage_access(principal, row["stage"], action)
    except NotFound:
        raise NotFound("Ranking run") from None
    return row, access


async def get_run(principal: Principal, run_id: int) -> RankingRunOut:
    row, _ = await run_access(principal, run_id)
    return run_out(row, detail=True)


async def list_runs(principal: Principal, stage_id: int) -> list[RankingRunOut]:
    """The stage's runs, newest first."""
    await stage_access(principal, stage_id)
    rows = (
        await RankingRun.select().where(RankingRun.stage == stage_id).order_by(RankingRun.id, ascending=False)
    )
    return [run_out(r) for r in rows]


# An entry's place in a run, with its team, track and institution.
_RESULTS = """
SELECT r.stage_entry AS stage_entry, e.label, e.team, t.name AS team_name, t.entry_title,
       r.track, tr.code AS track_code, t.institution, t.region, t.track AS team_track,
       COALESCE(NULLIF(i.name_en, ''), i.name_zh, '') AS institution_name,
       COALESCE(NULLIF(i.name_zh, ''), i.name_en, '') AS institution_name_zh,
       r.rank, r.track_rank, r.score, r.se, r.n_judges, r.flag
FROM stage_result r
JOIN stage_entry e ON e.id = r.stage_entry
JOIN team t ON t.id = e.team
JOIN track tr ON tr.id = r.track
LEFT JOIN institution i ON i.id = t.institution
WHERE r.run = {}
ORDER BY CASE WHEN r.rank = 0 THEN 1 ELSE 0 END, r.rank, tr.code, e.label
"""


async def stage_run(stage_id: int, run_id: int) -> dict[str, Any]:
    """The ranking run ``run_id``, refused (422 on ``run``) unless it is one of the stage's."""
    run = await RankingRun.select().where((RankingRun.id == run_id) & (RankingRun.stage == stage_id)).first()
    if run is None:
        raise DomainError(
            "validation_error",
            "Invalid input: {problems}",
            fields={"run": "This ranking run is not one of the stage's"},
        )
    return run


async def result_rows(run_id: int) -> list[dict[str, Any]]:
    """Every stored place of a run, best first (unranked last), joined with its team."""
    return [dict(r) for r in await fetch_all(_RESULTS, run_id)]


def visible_rows(
    principal: Principal, access: StageAccess, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of teams inside the caller's organizer grants (every row for whole-event ones)."""
    scopes = [
        team_scope({"track": r["team_track"], "region": r["region"], "institution": r["institution"]})
        for r in rows
    ]
    return [
        r
        for r, shown in zip(rows, policy.within_scope(principal, access.event, scopes), strict=True)
        if shown
    ]


def result_out(row: dict[str, Any]) -> RankingResultOut:
    return RankingResultOut(
        entry=row["stage_entry"],
        label=row["label"],
        team=row["team"],
        team_name=row["team_name"],
        entry_title=row["entry_title"],
        track=row["track"],
        track_code=row["track_code"],
        institution=row["institution_name"] or "",
        region=row["region"] or "",
        rank=row["rank"],
        track_rank=row["track_rank"],
        score=row["score"],
        se=row["se"],
        n_judges=row["n_judges"],
        flags=[f for f in (row["flag"] or "").split(";") if f],
    )


async def run_results(principal: Principal, run_id: int, track: int | None = None) -> list[RankingResultOut]:
    """A finished run's places inside the caller's scope, optionally of one track."""
    run, access = await run_access(principal, run_id)
    if run["status"] != RunStatus.done.value:
        raise Conflict(
            "ranking_not_done", "The ranking run has not finished", params={"status": run["status"]}
        )
    rows = visible_rows(principal, access, await result_rows(run_id))
    return [result_out(r) for r in rows if track is None or r["track"] == track]


async def published_results(stage_id: int) -> list[dict[str, Any]]:
    """The published run's places of the stage, best first (empty before publication): ``stage_entry``,
    ``label``, ``rank``, ``track_rank``, ``score``, ``se``, ``n_judges``, ``flag`` (``;``-joined),
    ``team`` (id), ``team_name``, ``entry_title``, ``track`` (id), ``track_code``, ``institution``
    (id or None), ``institution_name``, ``region``. No access check: callers check theirs."""
    judging = (
        await StageJudging.select(StageJudging.status, StageJudging.published_run)
        .where(StageJudging.stage == stage_id)
        .first()
    )
    if judging is None or judging["status"] != JudgingStatus.published.value or not judging["published_run"]:
        return []
    rows = await result_rows(judging["published_run"])
    for r in rows:
        r.pop("team_track", None)
        r.pop("institution_name_zh", None)
    return rows


# Publication ----------------------------------------------------------------------------------


async def publish_ranking(
    principal: Principal, stage_id: int, run_id: int, base_url: str = ""
) -> PublicationOut:
    """Publish a finished, final run of a locked stage: the stage becomes ``published``, the objection
    period runs to the end of the ``objection_working_days``-th working day (Mon–Fri in the event's
    time zone; public holidays are not modelled) and appeals may be filed for ``appeal_days`` days.
    Each team's people are mailed their place."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    event = await Event.select(Event.time_zone).where(Event.id == access.event.event_id).first()
    assert event is not None
    async with transaction():
        judging = await locked_row(StageJudging, access.judging["id"])
        assert judging is not None
        run = await stage_run(stage_id, run_id)
        if judging["status"] != JudgingStatus.locked.value:
            raise state_conflict(judging["status"])
        if run["status"] != RunStatus.done.value:
            raise Conflict(
                "ranking_not_done", "The ranking run has not finished", params={"status": run["status"]}
            )
        if (loads(run["diagnostics"]) or {}).get("provisional") or (
            judging["locked_at"] is not None and run["requested_at"] < judging["locked_at"]
        ):
            raise Conflict(
                "ranking_stale",
                "This ranking was made before the stage was last locked; run the ranking again and publish that run",
            )
        now = _now()
        moved = (
            await StageJudging.update(
                {
                    StageJudging.status: JudgingStatus.published.value,
                    StageJudging.published_run: run_id,
                    StageJudging.published_at: now,
                    StageJudging.objection_ends_at: objection_end(
                        now, event["time_zone"], judging["objection_working_days"]
                    ),
                    StageJudging.appeals_close_at: now + dt.timedelta(days=judging["appeal_days"]),
                    StageJudging.updated_at: now,
                }
            )
            .where((StageJudging.id == judging["id"]) & (StageJudging.status == JudgingStatus.locked.value))
            .returning(StageJudging.objection_ends_at, StageJudging.appeals_close_at)
        )
        if not moved:  # pragma: no cover - the lock above keeps the status
            raise state_conflict(judging["status"])
        await judging_changed(
            principal.id, access.event.event_id, "ranking_published", "stage", stage_id, run=run_id
        )
        await mail.results_published(stage_id, run_id, base_url)
    return PublicationOut(
        stage=stage_id,
        status=JudgingStatus.published.value,
        published_run=run_id,
        published_at=now,
        objection_ends_at=moved[0]["objection_ends_at"],
        appeals_close_at=moved[0]["appeals_close_at"],
    )


# Appeals --------------------------------------------------------------------------------------

_APPEALS = """
SELECT a.id, a.stage, a.team, t.name AS team_name, t.track, t.region, t.institution, a.text, a.status,
       a.filed_at, a.answer_due_at, a.answer, a.answered_at, a.filed_by
FROM appeal a JOIN team t ON t.id = a.team
WHERE {}
ORDER BY a.answer_due_at, a.id
"""


def appeal_out(row: dict[str, Any], now: dt.datetime | None = None) -> AppealOut:
    now = now or _now()
    return AppealOut(
        id=row["id"],
        stage=row["stage"],
        team=row["team"],
        team_name=row["team_name"],
        text=row["text"],
        status=row["status"],
        filed_at=row["filed_at"],
        answer_due_at=row["answer_due_at"],
        overdue=row["status"] == AppealStatus.open.value and row["answer_due_at"] < now,
        answer=row["answer"],
        answered_at=row["answered_at"],
    )


async def _appeal_row(appeal_id: int) -> dict[str, Any] | None:
    return await fetch_one(_APPEALS.replace("WHERE {}", "WHERE a.id = {}"), appeal_id)


async def file_appeal(principal: Principal, stage_id: int, data: AppealIn) -> AppealOut:
    """The team leader's appeal against the published ranking: one per team (the unique index
    decides between simultaneous filings), while the appeal window is open."""
    await team_access(principal, data.team, Action.file_appeal)
    if not has_visible_text(data.text):
        raise DomainError(
            "validation_error",
            "Invalid input: {problems}",
            fields={"text": "must contain visible text, not only spaces or control characters"},
        )
    entry = (
        await StageEntry.select(StageEntry.id, StageEntry.event)
        .where((StageEntry.stage == stage_id) & (StageEntry.team == data.team))
        .first()
    )
    if entry is None:
        raise NotFound("Entry")
    judging = await StageJudging.select().where(StageJudging.stage == stage_id).first()
    if judging is None or judging["status"] != JudgingStatus.published.value:
        raise state_conflict(judging["status"] if judging else JudgingStatus.setup.value)
    now = _now()
    if judging["appeals_close_at"] is None or now >= judging["appeals_close_at"]:
        raise Conflict(
            "appeal_window_closed",
            "Appeals against this ranking closed on {closed}",
            params={"closed": judging["appeals_close_at"].isoformat() if judging["appeals_close_at"] else ""},
        )
    due = now + dt.timedelta(days=judging["appeal_answer_days"])
    async with transaction():
        created = await engine().run_querystring(
            QueryString(
                "INSERT INTO appeal (stage, team, filed_by, text, filed_at, answer_due_at, status, answer) "
                "VALUES ({}, {}, {}, {}, {}, {}, 'open', '') ON CONFLICT (stage, team) DO NOTHING RETURNING id",
                stage_id,
                data.team,
                principal.id,
                data.text,
                now,
                due,
            )
        )
        if not created:
            raise Conflict("appeal_exists", "The team has already appealed against this stage's ranking")
        appeal_id = created[0]["id"]
        await judging_changed(
            principal.id, entry["event"], "appeal_filed", "appeal", appeal_id, team=data.team
        )
    row = await _appeal_row(appeal_id)
    assert row is not None
    return appeal_out(row)


async def list_appeals(principal: Principal, stage_id: int) -> list[AppealOut]:
    """The stage's appeals inside the caller's scope, the earliest answer due first."""
    access = await stage_access(principal, stage_id)
    rows = await fetch_all(_APPEALS.replace("WHERE {}", "WHERE a.stage = {}"), stage_id)
    scopes = [team_scope(r) for r in rows]
    now = _now()
    return [
        appeal_out(r, now)
        for r, shown in zip(rows, policy.within_scope(principal, access.event, scopes), strict=True)
        if shown
    ]


async def get_appeal(principal: Principal | None, appeal_id: int) -> AppealOut:
    """An appeal, for the team's members and for organizers who see the team."""
    row = await _appeal_row(appeal_id)
    if row is None or principal is None:
        raise NotFound("Appeal")
    try:
        await team_access(principal, row["team"], Action.view_team)
    except DomainError:
        try:
            access = await stage_access(principal, row["stage"])
        except DomainError:
            raise NotFound("Appeal") from None
        if not policy.within_scope(principal, access.event, [team_scope(row)])[0]:
            raise NotFound("Appeal") from None
    return appeal_out(row)


async def _move_appeal(appeal_id: int, values: dict[Any, Any], conflict: Conflict) -> None:
    moved = (
        await Appeal.update(values)
        .where((Appeal.id == appeal_id) & (Appeal.status == AppealStatus.open.value))
        .returning(Appeal.id)
    )
    if not moved:
        raise conflict


async def answer_appeal(
    principal: Principal, appeal_id: int, data: AppealAnswerIn, base_url: str = ""
) -> AppealOut:
    """Uphold or dismiss an open appeal, once; the team is mailed the answer."""
    row = await _appeal_row(appeal_id)
    if row is None:
        raise NotFound("Appeal")
    access = await stage_access(principal, row["stage"], Action.configure_judging)
    if not has_visible_text(data.answer):
        raise DomainError(
            "validation_error",
            "Invalid input: {problems}",
            fields={"answer": "must contain visible text, not only spaces or control characters"},
        )
    async with transaction():
        await _move_appeal(
            appeal_id,
            {
                Appeal.status: data.status,
                Appeal.answer: data.answer,
                Appeal.answered_by: principal.id,
                Appeal.answered_at: _now(),
            },
            Conflict("appeal_answered", "The appeal has already been answered or withdrawn"),
        )
        await judging_changed(
            principal.id, access.event.event_id, "appeal_answered", "appeal", appeal_id, status=data.status
        )
        await mail.appeal_answered(appeal_id, base_url)
    found = await _appeal_row(appeal_id)
    assert found is not None
    return appeal_out(found)


async def withdraw_appeal(principal: Principal, appeal_id: int) -> AppealOut:
    """The leader withdraws the team's appeal while it is open."""
    row = await _appeal_row(appeal_id)
    if row is None:
        raise NotFound("Appeal")
    try:
        team = await team_access(principal, row["team"], Action.file_appeal)
    except NotFound:
        raise NotFound("Appeal") from None
    async with transaction():
        await _move_appeal(
            appeal_id,
            {Appeal.status: AppealStatus.withdrawn.value},
            Conflict("appeal_answered", "The appeal has already been answered or withdrawn"),
        )
        await judging_changed(principal.id, team.event.event_id, "appeal_withdrawn", "appeal", appeal_id)
    found = await _appeal_row(appeal_id)
    assert found is not None
    return appeal_out(found)


# Re-review ------------------------------------------------------------------------------------

_REREVIEW = """
SELECT e.id, e.label, t.name AS team_name, tr.code AS track_code, e.rereview_reason, e.rereview_requested_at,
       t.track, t.region, t.institution,
       (SELECT COUNT(*) FROM assignment a WHERE a.stage_entry = e.id AND a.state = 'active') AS judges
FROM stage_entry e JOIN team t ON t.id = e.team JOIN track tr ON tr.id = e.track
WHERE e.stage = {} AND e.rereview_requested_at IS NOT NULL
ORDER BY e.rereview_requested_at, e.id
"""


async def rereview_queue(principal: Principal, stage_id: int) -> list[RereviewOut]:
    """Entries marked for re-review, inside the caller's scope, oldest request first."""
    access = await stage_access(principal, stage_id)
    rows = await fetch_all(_REREVIEW, stage_id)
    shown = policy.within_scope(principal, access.event, [team_scope(r) for r in rows])
    return [
        RereviewOut(
            entry=r["id"],
            label=r["label"],
            team_name=r["team_name"],
            track_code=r["track_code"],
            reason=r["rereview_reason"],
            requested_at=r["rereview_requested_at"],
            judges=r["judges"],
        )
        for r, visible in zip(rows, shown, strict=True)
        if visible
    ]


async def request_rereview(principal: Principal, stage_id: int, data: RereviewIn) -> RereviewOut:
    """Mark an entry for re-review (again: the reason is replaced), while judges score."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    async with transaction():
        judging = await locked_row(StageJudging, access.judging["id"])
        assert judging is not None
        entry = (
            await StageEntry.select(StageEntry.id)
            .where((StageEntry.id == data.entry) & (StageEntry.stage == stage_id))
            .first()
        )
        if entry is None:
            raise DomainError(
                "validation_error",
                "Invalid input: {problems}",
                fields={"entry": "This entry is not one of the stage's"},
            )
        if judging["status"] != JudgingStatus.scoring.value:
            raise state_conflict(judging["status"])
        await StageEntry.update(
            {StageEntry.rereview_requested_at: _now(), StageEntry.rereview_reason: data.reason}
        ).where(StageEntry.id == data.entry)
        await judging_changed(
            principal.id,
            access.event.event_id,
            "rereview_requested",
            "stage_entry",
            data.entry,
            reason=data.reason,
        )
    queue = await rereview_queue(principal, stage_id)
    return next(r for r in queue if r.entry == data.entry)


async def add_rereview_judge(principal: Principal, entry_id: int, judge_id: int) -> dict[str, Any]:
    """Give an entry marked for re-review one more judge (the assignment service checks conflicts
    of interest and the judge); only while judges score."""
    from judging.assign import service as assign

    entry = (
        await StageEntry.select(StageEntry.stage, StageEntry.rereview_requested_at)
        .where(StageEntry.id == entry_id)
        .first()
    )
    if entry is None:
        raise NotFound("Entry")
    access = await stage_access(principal, entry["stage"], Action.configure_judging)
    if access.judging["status"] != JudgingStatus.scoring.value:
        raise state_conflict(access.judging["status"])
    if entry["rereview_requested_at"] is None:
        raise Conflict("rereview_not_requested", "Mark the entry for re-review first")
    return await assign.add_assignment(principal, entry["stage"], entry_id, judge_id, source="rereview")
