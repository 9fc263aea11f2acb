"""Exports of a stage's judging for its organizers, CSV (UTF-8 with a BOM) or XLSX, streamed like
``backend.teams.exports`` (whose formula-safe cells, media types and chunked XLSX sending they reuse).
A scoped admin's export holds only the teams inside their grants (and the judges who scored them).

Columns (headers are translated into the reader's language):

- ``sheets``: entry label, team, track, judge, one column per rubric criterion (its mark), total,
  version, submitted at (event's time zone). Current sheets of active assignments.
- ``rankings``: rank, track rank, entry label, team, institution, region, track, score, standard
  error, judges (sheets counted), flags (``disagree``, ``near_cutoff``, ``too_few_judges``).
- ``judges``: judge, e-mail, sheets, mean of their totals, SD, leniency and its standard error,
  scale and its standard error (empty when the run's method estimates none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

from backend import policy
from backend.db import fetch_all
from backend.errors import Conflict
from backend.events.tables import Event
from backend.i18n import translations
from backend.policy import Principal
from backend.teams.access import team_scope
from backend.teams.exports import MEDIA_TYPES, Cell, Export, csv_chunks, safe_cell, xlsx_chunks
from judging.access import StageAccess, stage_access
from judging.results.service import loads, result_rows, stage_run, visible_rows
from judging.rubrics import current_rubric
from judging.tables import RankingRun, RunStatus

FileName = Literal["sheets.csv", "sheets.xlsx", "rankings.csv", "rankings.xlsx", "judges.csv", "judges.xlsx"]
Kind = Literal["sheets", "rankings", "judges"]

SHEET_HEADERS = ("Entry", "Team", "Track", "Judge")
SHEET_TAIL = ("Total", "Version", "Submitted")
RANKING_HEADERS = (
    "Rank",
    "Track rank",
    "Entry",
    "Team",
    "Institution",
    "Region",
    "Track",
    "Score",
    "Standard error",
    "Judges",
    "Flags",
)
JUDGE_HEADERS = (
    "Judge",
    "E-mail",
    "Sheets",
    "Mean",
    "SD",
    "Leniency",
    "Leniency standard error",
    "Scale",
    "Scale standard error",
)
SHEET_TITLES = {"sheets": "Score sheets", "rankings": "Ranking", "judges": "Judges"}

_SHEETS = """
SELECT s.stage_entry, e.label, t.name AS team_name, tr.code AS track_code, u.display_name AS judge_name,
       s.judge, s.marks, s.total, s.version, s.submitted_at, t.track, t.region, t.institution
FROM score_sheet s
JOIN assignment a ON a.id = s.assignment
JOIN stage_entry e ON e.id = s.stage_entry
JOIN team t ON t.id = e.team
JOIN track tr ON tr.id = e.track
JOIN podium_user u ON u.id = s.judge
WHERE s.stage = {} AND a.state = 'active'
ORDER BY e.label, u.display_name, s.id
"""


async def export(
    principal: Principal,
    stage_id: int,
    kind: Kind,
    fmt: Literal["csv", "xlsx"],
    run_id: int | None,
    locale: str,
) -> Export:
    """The export ``kind`` of the stage in ``fmt``; refused (before anything streams) outside the
    caller's view of the stage."""
    access = await stage_access(principal, stage_id)
    event = await Event.select(Event.slug, Event.time_zone).where(Event.id == access.event.event_id).first()
    assert event is not None
    t = translations(locale)
    if kind == "sheets":
        header, rows = await _sheet_rows(principal, access, ZoneInfo(event["time_zone"]), locale)
    elif kind == "rankings":
        header, rows = list(RANKING_HEADERS), await _ranking_rows(principal, access, run_id)
    else:
        header, rows = list(JUDGE_HEADERS), await _judge_rows(principal, access, run_id)
    header = [
        t.gettext(h) if h in (*SHEET_HEADERS, *SHEET_TAIL, *RANKING_HEADERS, *JUDGE_HEADERS) else h
        for h in header
    ]
    cells = [[safe_cell(c) if isinstance(c, str) else c for c in row] for row in rows]
    chunks = (
        csv_chunks(header, cells)
        if fmt == "csv"
        else xlsx_chunks([(t.gettext(SHEET_TITLES[kind]), header, cells)])
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return Export(
        f"{kind}-{event['slug'] or access.event.event_id}-{stage_id}-{stamp}.{fmt}", MEDIA_TYPES[fmt], chunks
    )


async def _sheet_rows(
    principal: Principal, access: StageAccess, zone: ZoneInfo, locale: str
) -> tuple[list[str], list[list[Cell]]]:
    rubric = await current_rubric(access.stage["id"])
    criteria = loads(rubric["criteria"]) if rubric else []
    names = [c["name"].get(locale) or c["name"].get("en") or c["code"] for c in criteria]
    rows = await fetch_all(_SHEETS, access.stage["id"])
    shown = policy.within_scope(principal, access.event, [team_scope(r) for r in rows])
    out: list[list[Cell]] = []
    for r, visible in zip(rows, shown, strict=True):
        if not visible:
            continue
        marks = loads(r["marks"])
        out.append(
            [
                r["label"],
                r["team_name"],
                r["track_code"],
                r["judge_name"],
                *(marks.get(c["code"]) for c in criteria),
                r["total"],
                r["version"],
                r["submitted_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return [*SHEET_HEADERS, *names, *SHEET_TAIL], out


async def chosen_run(access: StageAccess, run_id: int | None) -> dict[str, Any]:
    """The run asked for (of this stage, finished), else the published run, else the latest done."""
    stage_id = access.stage["id"]
    if run_id is not None:
        run = await stage_run(stage_id, run_id)
    elif access.judging["published_run"]:
        run = await RankingRun.select().where(RankingRun.id == access.judging["published_run"]).first()
    else:
        run = (
            await RankingRun.select()
            .where((RankingRun.stage == stage_id) & (RankingRun.status == RunStatus.done.value))
            .order_by(RankingRun.id, ascending=False)
            .first()
        )
    if run is None or run["status"] != RunStatus.done.value:
        raise Conflict(
            "ranking_not_done",
            "The ranking run has not finished",
            params={"status": run["status"] if run else "none"},
        )
    return run


async def _ranking_rows(principal: Principal, access: StageAccess, run_id: int | None) -> list[list[Cell]]:
    run = await chosen_run(access, run_id)
    rows = visible_rows(principal, access, await result_rows(run["id"]))
    return [
        [
            r["rank"] or None,
            r["track_rank"] or None,
            r["label"],
            r["team_name"],
            r["institution_name"],
            r["region"],
            r["track_code"],
            r["score"],
            r["se"],
            r["n_judges"],
            r["flag"],
        ]
        for r in rows
    ]


_JUDGES = """
SELECT DISTINCT s.judge, u.display_name, u.email, t.track, t.region, t.institution
FROM score_sheet s JOIN stage_entry e ON e.id = s.stage_entry JOIN team t ON t.id = e.team
JOIN podium_user u ON u.id = s.judge
WHERE s.stage = {}
"""


async def _judge_rows(principal: Principal, access: StageAccess, run_id: int | None) -> list[list[Cell]]:
    run = await chosen_run(access, run_id)
    diagnostics = loads(run["diagnostics"]) or {}
    stats = diagnostics.get("judges") or {}
    fitted = {j["judge"]: j for j in (diagnostics.get("explanation") or {}).get("judges") or []}
    rows = await fetch_all(_JUDGES, access.stage["id"])
    shown = policy.within_scope(principal, access.event, [team_scope(r) for r in rows])
    people = {r["judge"]: r for r, visible in zip(rows, shown, strict=True) if visible}
    out: list[list[Cell]] = []
    for judge, person in sorted(people.items(), key=lambda p: (p[1]["display_name"], p[0])):
        stat, fit = stats.get(str(judge), {}), fitted.get(str(judge), {})
        out.append(
            [
                person["display_name"],
                person["email"],
                stat.get("sheets"),
                stat.get("mean"),
                stat.get("sd"),
                fit.get("leniency"),
                fit.get("leniency_se"),
                fit.get("scale"),
                fit.get("scale_se"),
            ]
        )
    return out
