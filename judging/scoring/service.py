"""Score sheets: a judge submits or changes the sheet of an assigned entry; every submission is a new
version in an append-only log keyed by the client's nonce, so a retried submission (the tablet lost
the answer, or sent it twice from its outbox) is answered with its first result and counts once.

The submission is the benchmarked hot path (``bench/scoring.py``): one read for the access check,
then BEGIN, one statement that locks the assignment (and shares the stage's judging row, so the
stage cannot lock and the rubric cannot get a new version meanwhile) and reads the rubric, the upsert
of the sheet, the version, the audit entry and COMMIT (the statements are pinned in
``tests/integration/test_judging_scoring_statements.py``). The stage's first sheet also locks its
rubric version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from backend.audit import current_actor
from backend.db import engine, fetch_all, fetch_one, on_commit, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, NotFound, Term
from backend.i18n import localized
from backend.policy import Action, Principal
from backend.teams.access import team_scope
from backend.teams.materials import FILE_LIMITS
from backend.teams.review import scope_filter
from backend.teams.tables import Material, MaterialKind, Team
from judging import signals
from judging.access import AssignmentAccess, assignment_access, stage_access
from judging.history import judging_changed
from judging.rubrics import check_marks, current_rubric, weighted_total
from judging.scoring.schemas import (
    CriterionOut,
    JudgeAssignmentOut,
    JudgeMaterialOut,
    QueueItemOut,
    QueueOut,
    SheetIn,
    SheetOut,
    StageSheetOut,
    VersionOut,
)
from judging.tables import JudgingStatus

NONCE_INDEX = "score_sheet_version_nonce"
NONCE_COLUMNS = "score_sheet_version.author, score_sheet_version.nonce"


def _json(value: Any) -> Any:
    """A JSON column as a raw query returns it: text on PostgreSQL (asyncpg) and SQLite alike."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


# Submitting ------------------------------------------------------------------------------------

# The assignment locked (concurrent submissions to one sheet queue here), the stage's judging row
# shared (its status cannot change, nor a rubric version be added, until this commits), the current
# rubric, and a version this judge already stored under the nonce (a retry). The lock clause is
# PostgreSQL's; SQLite's IMMEDIATE transaction already holds its only write lock.
_LOCK = """
SELECT a.stage, a.stage_entry, a.judge, e.panel, e.event, j.status,
       r.id AS rubric, r.criteria, r.locked_at AS rubric_locked_at,
       v.version AS replay_version, v.marks AS replay_marks, v.total AS replay_total,
       v.comment AS replay_comment, v.created_at AS replay_at,
       vs.id AS replay_sheet, vs.assignment AS replay_assignment, vs.submitted_at AS replay_submitted_at
FROM assignment a
JOIN stage_entry e ON e.id = a.stage_entry
JOIN stage_judging j ON j.stage = a.stage
LEFT JOIN rubric r ON r.id = (SELECT id FROM rubric WHERE stage = a.stage ORDER BY version DESC LIMIT 1)
LEFT JOIN score_sheet_version v ON v.author = a.judge AND v.nonce = {}
LEFT JOIN score_sheet vs ON vs.id = v.sheet
WHERE a.id = {}
"""
_LOCK_PG = _LOCK + "FOR NO KEY UPDATE OF a FOR SHARE OF j"

# The stage's first sheet: lock its current rubric version (read afresh, now that no new version
# can be added), or keep the lock another first sheet set a moment ago.
_LOCK_RUBRIC = """
UPDATE rubric SET locked_at = COALESCE(locked_at, {})
WHERE id = (SELECT id FROM rubric WHERE stage = {} ORDER BY version DESC LIMIT 1)
RETURNING id, criteria
"""

_UPSERT = """
INSERT INTO score_sheet (assignment, stage, stage_entry, judge, rubric, version, marks, total, comment,
                         submitted_at, updated_at)
VALUES ({}, {}, {}, {}, {}, 1, {}, {}, {}, {}, {})
ON CONFLICT (assignment) DO UPDATE SET
    version = score_sheet.version + 1, rubric = excluded.rubric, marks = excluded.marks,
    total = excluded.total, comment = excluded.comment, updated_at = excluded.updated_at
RETURNING id, version, submitted_at, updated_at
"""

_VERSION = """
INSERT INTO score_sheet_version (sheet, version, marks, total, comment, reason, author, nonce, client, created_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})
"""

# A retry that lost the race to its first attempt answers from the stored version.
_REPLAY = """
SELECT v.version AS replay_version, v.marks AS replay_marks, v.total AS replay_total,
       v.comment AS replay_comment, v.created_at AS replay_at,
       s.id AS replay_sheet, s.assignment AS replay_assignment, s.submitted_at AS replay_submitted_at
FROM score_sheet_version v JOIN score_sheet s ON s.id = v.sheet
WHERE v.author = {} AND v.nonce = {}
"""


def _replayed(row: dict[str, Any], assignment_id: int) -> SheetOut:
    """The stored answer of the version a nonce made, if it was made for this assignment."""
    if row["replay_assignment"] != assignment_id:
        raise Conflict(
            "nonce_reused",
            "This nonce was used for another sheet; send a new nonce with each new submission",
            fields={"nonce": "was used for another sheet"},
        )
    return SheetOut(
        sheet=row["replay_sheet"],
        assignment=assignment_id,
        version=row["replay_version"],
        total=row["replay_total"],
        marks=_json(row["replay_marks"]),
        comment=row["replay_comment"],
        submitted_at=row["replay_submitted_at"],
        updated_at=row["replay_at"],
        replayed=True,
    )


def stage_locked(status: str) -> Conflict:
    """The refusal of a sheet while the stage is not scoring (set up, locked or published)."""
    return Conflict(
        "stage_locked",
        "The stage's scores can no longer change (its judging is {status})",
        params={"status": Term(status, "judging state")},
    )


async def submit_sheet(principal: Principal | None, assignment_id: int, data: SheetIn) -> SheetOut:
    """Submit or change the caller's sheet for an assigned entry (see the module docstring)."""
    access = await assignment_access(principal, assignment_id)
    assert principal is not None
    try:
        return await _store(principal, access, assignment_id, data)
    except Conflict as exc:
        cause = exc.__cause__  # PostgreSQL names the index; SQLite its columns
        if getattr(cause, "constraint_name", None) != NONCE_INDEX and NONCE_COLUMNS not in str(cause):
            raise
    # The same nonce was stored by a concurrent attempt that committed first: answer as it did.
    row = await fetch_one(_REPLAY, principal.id, data.nonce)
    assert row is not None
    return _replayed(row, assignment_id)


async def _store(
    principal: Principal, access: AssignmentAccess, assignment_id: int, data: SheetIn
) -> SheetOut:
    now = utcnow()
    async with transaction():
        row = await fetch_one(_LOCK_PG if _is_postgres() else _LOCK, data.nonce, assignment_id)
        assert row is not None  # the assignment exists (access), and so do its entry and judging row
        if row["replay_version"] is not None:
            return _replayed(row, assignment_id)
        if row["status"] != JudgingStatus.scoring.value:
            raise stage_locked(row["status"])
        if row["rubric"] is None:
            raise Conflict("rubric_missing", "The stage has no rubric yet")
        rubric_id, criteria = row["rubric"], row["criteria"]
        if row["rubric_locked_at"] is None:
            locked = await fetch_one(_LOCK_RUBRIC, now, row["stage"])
            assert locked is not None
            rubric_id, criteria = locked["id"], locked["criteria"]
        criteria = _json(criteria)
        errors = check_marks(criteria, data.marks)
        if errors:
            raise DomainError("validation_error", INVALID_INPUT, status_code=422, fields=errors)
        total = weighted_total(criteria, data.marks)
        marks = msgspec.json.encode(data.marks).decode()
        sheet = await fetch_one(
            _UPSERT,
            assignment_id,
            row["stage"],
            row["stage_entry"],
            row["judge"],
            rubric_id,
            marks,
            total,
            data.comment,
            now,
            now,
        )
        assert sheet is not None
        changed = sheet["version"] > 1
        actor = current_actor.get()
        client = (actor.client_address or "")[:64] if actor else ""
        await engine().run_querystring(
            QueryString(
                _VERSION,
                sheet["id"],
                sheet["version"],
                marks,
                total,
                data.comment,
                data.reason,
                principal.id,
                data.nonce,
                client,
                now,
            )
        )
        # Checked after the version row: a retry that waited on the first attempt's lock read its
        # nonce in a snapshot from before that commit, and must meet the nonce's unique index (and
        # be answered as a replay), not this refusal meant for a change.
        if changed and not data.reason.strip():
            raise DomainError(
                "validation_error",
                INVALID_INPUT,
                status_code=422,
                fields={"reason": "Say why you change a submitted sheet"},
            )
        await judging_changed(
            principal.id,
            row["event"],
            "sheet_changed" if changed else "sheet_submitted",
            "score_sheet",
            sheet["id"],
            assignment=assignment_id,
            version=sheet["version"],
            total=total,
            reason=data.reason,
        )
        out = SheetOut(
            sheet=sheet["id"],
            assignment=assignment_id,
            version=sheet["version"],
            total=total,
            marks=data.marks,
            comment=data.comment,
            submitted_at=sheet["submitted_at"],
            updated_at=sheet["updated_at"],
        )
        saved = {
            "sheet": out.sheet,
            "assignment": assignment_id,
            "stage": row["stage"],
            "stage_entry": row["stage_entry"],
            "panel": row["panel"],
            "judge": row["judge"],
            "version": out.version,
            "marks": out.marks,
            "total": total,
            "submitted_at": _iso(out.submitted_at),
        }

        async def tell() -> None:
            await signals.sheet_saved(saved)

        on_commit(tell)
    return out


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


# The organizers' and the other areas' reads ---------------------------------------------------

_STAGE_SHEETS = """
SELECT s.id AS sheet, s.assignment, s.stage_entry, s.judge, s.rubric, s.marks, s.total, s.version,
       s.submitted_at, s.updated_at
FROM score_sheet s
JOIN stage_entry e ON e.id = s.stage_entry
JOIN assignment a ON a.id = s.assignment
WHERE s.stage = {} AND e.status = 'active' AND a.state = 'active'
ORDER BY s.id
"""


async def stage_sheets(stage_id: int) -> list[dict[str, Any]]:
    """The stage's current sheets (of active entries and active assignments), in one query: each
    ``sheet``, ``assignment``, ``stage_entry``, ``judge``, ``rubric``, ``marks`` (a dict), ``total``,
    ``version``, ``submitted_at`` and ``updated_at``. No access check: for services that made theirs."""
    rows = await fetch_all(_STAGE_SHEETS, stage_id)
    return [{**row, "marks": _json(row["marks"])} for row in rows]


_LIST_SHEETS = """
SELECT s.id AS sheet, s.assignment, s.stage_entry, e.label, t.id AS team, t.name AS team_name,
       s.judge, u.display_name AS judge_name, s.version, s.marks, s.total, s.comment,
       s.submitted_at, s.updated_at, COUNT(*) OVER () AS matched
FROM score_sheet s
JOIN stage_entry e ON e.id = s.stage_entry
JOIN team t ON t.id = e.team
JOIN podium_user u ON u.id = s.judge
WHERE s.stage = {} AND {where}
ORDER BY s.id
LIMIT {} OFFSET {}
"""


async def list_sheets(
    principal: Principal | None,
    stage_id: int,
    entry_id: int | None,
    judge_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[StageSheetOut], int]:
    """The stage's sheets whose teams the caller's scope covers, optionally of one entry or judge."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    assert principal is not None
    args: list[Any] = [stage_id]
    conditions = []
    scope = scope_filter(principal, access.event)  # None: the caller sees every team
    if scope is not None:
        conditions.append("t.id IN ({})")
        args.append(Team.select(Team.id).where((Team.event == access.stage["event"]) & scope).querystrings[0])
    for column, value in (("s.stage_entry", entry_id), ("s.judge", judge_id)):
        if value is not None:
            conditions.append(f"{column} = {{}}")
            args.append(value)
    where = " AND ".join(conditions or ["TRUE"])
    rows = await fetch_all(_LIST_SHEETS.replace("{where}", where), *args, limit, offset)
    # The window count comes with the page; a page past the end has no row to carry it.
    total = rows[0]["matched"] if rows else (await _count_sheets(where, args) if offset else 0)
    items = [
        StageSheetOut(**{k: _json(v) if k == "marks" else v for k, v in r.items() if k != "matched"})
        for r in rows
    ]
    return items, total


_COUNT_SHEETS = """
SELECT COUNT(*) AS n FROM score_sheet s
JOIN stage_entry e ON e.id = s.stage_entry JOIN team t ON t.id = e.team
WHERE s.stage = {} AND {where}
"""


async def _count_sheets(where: str, args: list[Any]) -> int:
    sql = _COUNT_SHEETS.replace("{where}", where)  # our own conditions, the values are parameters
    row = await fetch_one(sql, *args)
    return int(row["n"]) if row else 0


_VERSIONS = """
SELECT v.version, v.marks, v.total, v.comment, v.reason, v.author, u.display_name AS author_name,
       v.client, v.created_at
FROM score_sheet_version v JOIN podium_user u ON u.id = v.author
WHERE v.sheet = {}
ORDER BY v.version
"""


def _versions(rows: list[dict[str, Any]], *, organizer: bool) -> list[VersionOut]:
    out = []
    for r in rows:
        version = VersionOut(
            version=r["version"],
            marks=_json(r["marks"]),
            total=r["total"],
            comment=r["comment"],
            reason=r["reason"],
            author=r["author"],
            created_at=r["created_at"],
        )
        if organizer:
            version.author_name, version.client = r["author_name"], r["client"]
        out.append(version)
    return out


async def sheet_versions(principal: Principal | None, sheet_id: int) -> list[VersionOut]:
    """A sheet's append-only log (who, when, why, from which address), for organizers whose scope
    covers its team."""
    sheet = await fetch_one(
        "SELECT s.stage, t.track, t.region, t.institution FROM score_sheet s "
        "JOIN stage_entry e ON e.id = s.stage_entry JOIN team t ON t.id = e.team WHERE s.id = {}",
        sheet_id,
    )
    if sheet is None or principal is None:
        raise NotFound("Sheet")
    await stage_access(principal, sheet["stage"], Action.view_judging, target=team_scope(sheet))
    rows = await fetch_all(_VERSIONS, sheet_id)
    return _versions(rows, organizer=True)


# The judges' reads -----------------------------------------------------------------------------

# The judge's live assignments, as ``judging.access.assignment_access`` admits them one by one:
# active, published, the entry active, no conflict with the judge's institution or declarations.
_QUEUE = """
SELECT a.id AS assignment, a.stage, st.name_zh, st.name_en, st.name_ru, st.judging_deadline,
       j.status AS stage_status, j.anonymous, e.label, t.entry_title, t.name AS team_name,
       s.version AS sheet_version, s.total
FROM assignment a
JOIN stage_entry e ON e.id = a.stage_entry
JOIN team t ON t.id = e.team
JOIN stage_judging j ON j.stage = a.stage
JOIN stage st ON st.id = a.stage
LEFT JOIN score_sheet s ON s.assignment = a.id
WHERE a.judge = {} AND a.state = 'active' AND e.status = 'active'
  AND j.assignment_published_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stage_judge sj WHERE sj.stage = a.stage AND sj."user" = a.judge
                  AND sj.institution IS NOT NULL AND sj.institution = t.institution)
  AND NOT EXISTS (SELECT 1 FROM judge_conflict c WHERE c.event = e.event AND c."user" = a.judge
                  AND (c.team = t.id OR (c.institution IS NOT NULL AND c.institution = t.institution)))
  AND ({only} IS NULL OR a.id = {only})
ORDER BY st.position, e.position, e.label
"""


def _item(row: dict[str, Any], locale: str) -> QueueItemOut:
    return QueueItemOut(
        assignment=row["assignment"],
        stage=row["stage"],
        stage_name=localized(row, "name", locale),
        stage_status=row["stage_status"],
        deadline=row["judging_deadline"],
        label=row["label"],
        title=row["entry_title"],
        team=None if row["anonymous"] else row["team_name"],
        sheet_version=row["sheet_version"],
        total=row["total"],
    )


async def _queue_rows(judge_id: int, only: int | None = None) -> list[dict[str, Any]]:
    sql = _QUEUE.replace("{only}", "CAST({} AS INTEGER)")
    return await fetch_all(sql, judge_id, only, only)


async def judge_queue(principal: Principal, locale: str) -> QueueOut:
    """The caller's live assignments across stages, with their sheets' state and the progress."""
    items = [_item(r, locale) for r in await _queue_rows(principal.id)]
    done = sum(1 for i in items if i.sheet_version is not None)
    return QueueOut(items=items, done=done, total=len(items))


def _own_sheet(row: dict[str, Any], assignment_id: int) -> SheetOut:
    return SheetOut(
        sheet=row["id"],
        assignment=assignment_id,
        version=row["version"],
        total=row["total"],
        marks=_json(row["marks"]),
        comment=row["comment"],
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
    )


async def judge_assignment(
    principal: Principal | None, assignment_id: int, locale: str
) -> JudgeAssignmentOut:
    """One assigned entry as its judge sees it: the entry, the rubric, their own sheet, the materials."""
    access = await assignment_access(principal, assignment_id)
    assert principal is not None
    (row,) = await _queue_rows(principal.id, assignment_id)
    rubric = await current_rubric(access.row["stage"])
    if rubric is None:
        raise Conflict("rubric_missing", "The stage has no rubric yet")
    sheet = await fetch_one(
        "SELECT id, version, total, marks, comment, submitted_at, updated_at FROM score_sheet WHERE assignment = {}",
        assignment_id,
    )
    criteria = [
        CriterionOut(
            code=c["code"],
            weight=float(c["weight"]),
            min=float(c["min"]),
            max=float(c["max"]),
            step=float(c.get("step") or 0),
            name=c.get("name") or {},
            descriptor=c.get("descriptor") or {},
        )
        for c in _json(rubric["criteria"])
    ]
    return JudgeAssignmentOut(
        item=_item(row, locale),
        rubric_version=rubric["version"],
        criteria=criteria,
        sheet=None if sheet is None else _own_sheet(sheet, assignment_id),
        materials=await _latest_materials(access, assignment_id),
    )


async def _latest_materials(access: AssignmentAccess, assignment_id: int) -> list[JudgeMaterialOut]:
    """The latest version of each kind of the team's materials for the stage."""
    rows = (
        await Material.select(Material.id, Material.kind, Material.version, Material.text)
        .where((Material.team == access.row["team"]) & (Material.stage == access.row["stage"]))
        .order_by(Material.version)
    )
    latest = {r["kind"]: r for r in rows}  # the highest version of each kind wins
    out = []
    for kind in MaterialKind:
        r = latest.get(kind.value)
        if r is None:
            continue
        material = JudgeMaterialOut(id=r["id"], kind=kind.value, version=r["version"])
        if kind in FILE_LIMITS:
            material.download_url = f"/api/v1/judge/assignments/{assignment_id}/materials/{r['id']}"
        elif kind is MaterialKind.video_link:
            material.url = r["text"]
        else:
            material.text = r["text"]
        out.append(material)
    return out


async def own_versions(principal: Principal | None, assignment_id: int) -> list[VersionOut]:
    """The caller's own sheet's versions for an assigned entry (empty before the first)."""
    await assignment_access(principal, assignment_id)
    rows = await fetch_all(
        _VERSIONS.replace(
            "WHERE v.sheet = {}", "JOIN score_sheet s ON s.id = v.sheet WHERE s.assignment = {}"
        ),
        assignment_id,
    )
    return _versions(rows, organizer=False)


async def judge_material(
    principal: Principal | None, assignment_id: int, material_id: int
) -> tuple[dict[str, Any], str]:
    """A file of the assigned entry's team for the stage, with the name the judge's download gets:
    in anonymous stages ``<label>-<kind>.pdf``, never the name the team uploaded."""
    access = await assignment_access(principal, assignment_id)
    row = await Material.select().where(Material.id == material_id).first()
    if (
        row is None
        or row["team"] != access.row["team"]
        or row["stage"] != access.row["stage"]
        or row["storage_key"] is None
    ):
        raise NotFound("Material")
    if access.row["anonymous"]:
        name = f"{access.row['label']}-{row['kind']}.pdf"
    else:
        name = row["file_name"] or f"{access.row['label']}-{row['kind']}.pdf"
    return row, name
