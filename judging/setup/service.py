"""Setting up a stage's judging: one function per change, each validate → write in one transaction →
audit (``judging.history.judging_changed``) → return.

Rules that span rows run under ``locked_row(StageJudging, ...)`` of the stage (the rubric lock, room
names, entry labels, judges): scoring takes the same lock when its first sheet freezes the rubric, so
a new rubric version and a first sheet cannot both pass. State changes (lock, reopen) are one
conditional ``UPDATE ... WHERE status = <from> RETURNING``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import qrcode
import qrcode.image.svg
from piccolo.table import Table

from backend import policy
from backend.accounts import invitations
from backend.accounts.schemas import InvitationIn
from backend.accounts.tables import Profile, Role, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.db import locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError, FieldChecks, NotFound, Term
from backend.events.tables import Event, Stage, Track
from backend.institutions.tables import Institution
from backend.policy import Action, Principal
from backend.schemas import has_visible_text
from backend.teams.review import institution_name, scope_filter
from backend.teams.rules import rules_for
from backend.teams.tables import Team, TeamStatus
from judging.access import StageAccess, judging_of, stage_access
from judging.history import judging_changed
from judging.rubrics import current_rubric
from judging.setup.schemas import (
    ConflictIn,
    ConflictOut,
    CriterionIn,
    EntriesPage,
    EntryOut,
    EntryPatch,
    InvitedOut,
    JudgeIn,
    JudgeOut,
    JudgePatch,
    PanelIn,
    PanelOut,
    PanelPatch,
    RubricIn,
    RubricOut,
    SettingsIn,
    SettingsOut,
    TabletSignInOut,
)
from judging.tables import (
    Assignment,
    AssignmentState,
    EntrySource,
    JudgeConflict,
    JudgingStatus,
    Panel,
    Rubric,
    ScoreSheet,
    StageEntry,
    StageJudge,
    StageJudging,
    TabletSignIn,
)

INVALID = "Invalid input: {problems}"


def _state(status: str) -> Term:
    return Term(status, "judging state")


def state_conflict(status: str) -> Conflict:
    """409 ``judging_state``: the stage's judging is in ``status``, where this change is not possible."""
    return Conflict(
        "judging_state",
        "The stage's judging is {state}; this change is not possible now",
        params={"state": _state(status)},
    )


async def _lock_stage_row(stage_id: int) -> dict[str, Any]:
    """The stage's judging row, locked until the transaction ends (see the module docstring)."""
    row = await locked_row(StageJudging, stage_id, by=StageJudging.stage)
    if row is None:  # stage_access made it; only a stage deleted meanwhile gets here
        raise NotFound("Stage")
    return row


async def _save_changes(
    principal: Principal,
    event_id: int,
    table: type[Table],
    where: Any,
    row: dict[str, Any],
    changes: dict[str, Any],
    kind: str,
    target: tuple[str, int],
    **data: Any,
) -> None:
    """Write the fields of ``changes`` whose value differs from ``row`` (to the row ``where`` picks)
    and audit them as ``kind`` with each field's old and new value; nothing when none differs.
    Inside the caller's transaction."""
    changed = {k: v for k, v in changes.items() if row[k] != v}
    if not changed:
        return
    values: dict[Any, Any] = {getattr(table, k): v for k, v in changed.items()}
    if table is StageJudging:
        values[StageJudging.updated_at] = utcnow()
    await table.update(values).where(where)
    changes_seen = {k: [row[k], v] for k, v in changed.items()}
    await judging_changed(principal.id, event_id, kind, *target, changes=changes_seen, **data)


# Settings ---------------------------------------------------------------------------------------

_SETUP_ONLY = ("judges_per_entry", "anonymous", "live")


def _settings_out(row: dict[str, Any]) -> SettingsOut:
    return SettingsOut(
        stage_id=row["stage"],
        event_id=row["event"],
        **{f: row[f] for f in SettingsOut.__struct_fields__ if f not in ("stage_id", "event_id")},
    )


async def get_settings(principal: Principal, stage_id: int) -> SettingsOut:
    """The stage's judging settings and state (created with the defaults on first use)."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    return _settings_out(access.judging)


async def update_settings(principal: Principal, stage_id: int, data: SettingsIn) -> SettingsOut:
    """Change the settings given; the stage's state may refuse some (see :class:`SettingsIn`)."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    wanted = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    async with transaction():
        row = await _lock_stage_row(stage_id)
        changed = {k: v for k, v in wanted.items() if row[k] != v}
        status = row["status"]
        late = [k for k in changed if k in _SETUP_ONLY and status != JudgingStatus.setup.value]
        if "method" in changed and status == JudgingStatus.published.value:
            late.append("method")
        if late:
            raise Conflict(
                "judging_state",
                "The stage's judging is {state}; this change is not possible now",
                fields=dict.fromkeys(late, "can no longer change"),
                params={"state": _state(status)},
            )
        await _save_changes(
            principal,
            access.stage["event"],
            StageJudging,
            StageJudging.stage == stage_id,
            row,
            changed,
            "settings_changed",
            ("stage", stage_id),
        )
        row = await StageJudging.select().where(StageJudging.stage == stage_id).first()
    return _settings_out(row)


# Lock and reopen --------------------------------------------------------------------------------


async def _transition(
    principal: Principal, stage_id: int, source: JudgingStatus, target: JudgingStatus, kind: str
) -> SettingsOut:
    access = await stage_access(principal, stage_id, Action.configure_judging)
    now = utcnow()
    async with transaction():
        moved = (
            await StageJudging.update(
                {
                    StageJudging.status: target.value,
                    StageJudging.locked_at: now if target is JudgingStatus.locked else None,
                    StageJudging.updated_at: now,
                }
            )
            .where((StageJudging.stage == stage_id) & (StageJudging.status == source.value))
            .returning(StageJudging.id)
        )
        if not moved:
            row = await StageJudging.select(StageJudging.status).where(StageJudging.stage == stage_id).first()
            raise state_conflict(row["status"] if row else source.value)
        await judging_changed(
            principal.id, access.stage["event"], kind, "stage", stage_id, **{"from": source.value}
        )
    row = await StageJudging.select().where(StageJudging.stage == stage_id).first()
    return _settings_out(row)


async def lock_stage(principal: Principal, stage_id: int) -> SettingsOut:
    """Freeze the stage's sheets (scoring → locked) so that rankings run on a fixed set."""
    return await _transition(principal, stage_id, JudgingStatus.scoring, JudgingStatus.locked, "stage_locked")


async def reopen_stage(principal: Principal, stage_id: int) -> SettingsOut:
    """Let judges change their sheets again (locked → scoring); refused once a ranking is published."""
    return await _transition(
        principal, stage_id, JudgingStatus.locked, JudgingStatus.scoring, "stage_reopened"
    )


# Rubric -----------------------------------------------------------------------------------------

CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
NAME_MAX = 200
MARKS_MAX = 10_000  # marks a criterion may offer between min and max: a tablet shows them as choices


def _number(value: float) -> int | float:
    """A rubric number as stored: whole numbers as integers (``10``, not ``10.0``)."""
    return int(value) if float(value).is_integer() else value


def _check_criterion(checks: FieldChecks, i: int, c: CriterionIn, seen: set[str]) -> None:
    at = f"criteria[{i}]"
    if not CODE.match(c.code):
        checks.add(
            "validation_error",
            INVALID,
            f"{at}.code",
            "must start with a lower-case letter, then lower-case letters, digits or _ (at most 40)",
        )
    elif c.code in seen:
        checks.add("validation_error", INVALID, f"{at}.code", "is used by another criterion")
    seen.add(c.code)
    if c.min >= c.max:
        checks.add("validation_error", INVALID, f"{at}.max", "must be above the minimum")
    else:
        span, step = Decimal(str(c.max)) - Decimal(str(c.min)), Decimal(str(c.step))
        try:
            exact = span % step == 0 and span / step <= MARKS_MAX
        except InvalidOperation:  # a step so small the quotient has more digits than Decimal keeps
            exact = False
        if not exact:
            checks.add(
                "validation_error",
                INVALID,
                f"{at}.step",
                "must divide the range from minimum to maximum exactly, into at most 10000 steps",
            )
    names = (c.name.zh, c.name.en, c.name.ru)
    if not any(has_visible_text(n) for n in names):
        checks.add("validation_error", INVALID, f"{at}.name", "give the name in at least one language")
    for lang, text in zip(("zh", "en", "ru"), names, strict=True):
        if len(text) > NAME_MAX:
            checks.add("validation_error", INVALID, f"{at}.name.{lang}", "must be at most 200 characters")


def _criterion(c: CriterionIn) -> dict[str, Any]:
    return {
        "code": c.code,
        "weight": _number(c.weight),
        "min": _number(c.min),
        "max": _number(c.max),
        "step": _number(c.step),
        "name": msgspec.structs.asdict(c.name),
        "descriptor": msgspec.structs.asdict(c.descriptor),
    }


def check_rubric(data: RubricIn) -> list[dict[str, Any]]:
    """The criteria as stored, or 422 naming every field at fault (``criteria[2].step``)."""
    checks = FieldChecks()
    seen: set[str] = set()
    for i, c in enumerate(data.criteria):
        _check_criterion(checks, i, c, seen)
    if not any(c.weight > 0 for c in data.criteria):
        checks.add("validation_error", INVALID, "criteria", "give at least one criterion a weight above 0")
    checks.raise_if_any(422)
    return [_criterion(c) for c in data.criteria]


def _rubric_out(stage_id: int, row: dict[str, Any] | None) -> RubricOut:
    if row is None:
        return RubricOut(id=None, stage_id=stage_id, version=0, criteria=[], created_at=None, locked_at=None)
    criteria = row["criteria"]
    if isinstance(criteria, str):  # SQLite keeps JSON as text
        criteria = msgspec.json.decode(criteria)
    return RubricOut(
        id=row["id"],
        stage_id=stage_id,
        version=row["version"],
        criteria=criteria,
        created_at=row["created_at"],
        locked_at=row["locked_at"],
    )


async def get_rubric(principal: Principal, stage_id: int) -> RubricOut:
    """The stage's current rubric version (version 0 and no criteria before the first)."""
    await stage_access(principal, stage_id, Action.view_judging)
    return _rubric_out(stage_id, await current_rubric(stage_id))


async def rubric_versions(principal: Principal, stage_id: int) -> list[RubricOut]:
    """Every version of the stage's rubric, newest first."""
    await stage_access(principal, stage_id, Action.view_judging)
    rows = await Rubric.select().where(Rubric.stage == stage_id).order_by(Rubric.version, ascending=False)
    return [_rubric_out(stage_id, row) for row in rows]


async def save_rubric(principal: Principal, stage_id: int, data: RubricIn) -> RubricOut:
    """Write a new version of the stage's rubric (a version is never edited). Refused with 409
    ``rubric_locked`` once the stage has a score sheet or its current version is frozen."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    criteria = check_rubric(data)
    async with transaction():
        await _lock_stage_row(stage_id)
        current = await current_rubric(stage_id)
        scored = await ScoreSheet.exists().where(ScoreSheet.stage == stage_id)
        if scored or (current is not None and current["locked_at"] is not None):
            raise Conflict(
                "rubric_locked",
                "The rubric is locked: judges have scored with it, so it can no longer change",
            )
        version = 1 if current is None else current["version"] + 1
        row = Rubric(stage=stage_id, version=version, criteria=criteria, created_by=principal.id)
        await row.save()
        await judging_changed(
            principal.id,
            access.stage["event"],
            "rubric_saved",
            "rubric",
            row.id,
            stage=stage_id,
            version=version,
            codes=[c["code"] for c in criteria],
        )
    return _rubric_out(stage_id, await Rubric.select().where(Rubric.id == row.id).first())


# Rooms and panels -------------------------------------------------------------------------------


async def _panels(stage_id: int, panel_id: int | None = None) -> list[PanelOut]:
    where = Panel.stage == stage_id
    if panel_id is not None:
        where &= Panel.id == panel_id
    rows = await Panel.select().where(where).order_by(Panel.position).order_by(Panel.name)
    ids = [r["id"] for r in rows]
    entries: dict[int, int] = {}
    judges: dict[int, int] = {}
    if ids:
        for r in await StageEntry.select(StageEntry.panel).where(StageEntry.panel.is_in(ids)):
            entries[r["panel"]] = entries.get(r["panel"], 0) + 1
        for r in await StageJudge.select(StageJudge.panel).where(StageJudge.panel.is_in(ids)):
            judges[r["panel"]] = judges.get(r["panel"], 0) + 1
    return [
        PanelOut(
            id=r["id"],
            stage_id=r["stage"],
            name=r["name"],
            room=r["room"],
            position=r["position"],
            entries=entries.get(r["id"], 0),
            judges=judges.get(r["id"], 0),
        )
        for r in rows
    ]


async def list_panels(principal: Principal, stage_id: int) -> list[PanelOut]:
    """The stage's rooms (panels) in their order, with how many entries and judges each holds."""
    await stage_access(principal, stage_id, Action.view_judging)
    return await _panels(stage_id)


async def _check_panel_name(stage_id: int, name: str, panel_id: int | None = None) -> None:
    where = (Panel.stage == stage_id) & (Panel.name == name)
    if panel_id is not None:
        where &= Panel.id != panel_id
    if await Panel.exists().where(where):
        raise Conflict("panel_name_taken", "The stage has a room with this name", fields={"name": "is taken"})


async def create_panel(principal: Principal, stage_id: int, data: PanelIn) -> PanelOut:
    """Add a room (a panel of judges) to the stage; its name is unique in the stage."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    name = data.name.strip()
    if not has_visible_text(name):
        raise DomainError(
            "validation_error", INVALID, status_code=422, fields={"name": "must contain visible text"}
        )
    async with transaction():
        await _lock_stage_row(stage_id)
        await _check_panel_name(stage_id, name)
        row = Panel(stage=stage_id, name=name, room=data.room.strip(), position=data.position)
        await row.save()
        await judging_changed(
            principal.id, access.stage["event"], "panel_created", "panel", row.id, stage=stage_id, name=name
        )
    return (await _panels(stage_id, row.id))[0]


async def _panel_access(principal: Principal, panel_id: int) -> tuple[dict[str, Any], StageAccess]:
    row = await Panel.select().where(Panel.id == panel_id).first()
    if row is None:
        raise NotFound("Panel")
    return row, await stage_access(principal, row["stage"], Action.configure_judging)


async def update_panel(principal: Principal, panel_id: int, data: PanelPatch) -> PanelOut:
    """Rename a room, set where it is or its place in the list."""
    row, access = await _panel_access(principal, panel_id)
    stage_id = row["stage"]
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not has_visible_text(changes["name"]):
            raise DomainError(
                "validation_error", INVALID, status_code=422, fields={"name": "must contain visible text"}
            )
    async with transaction():
        await _lock_stage_row(stage_id)
        if "name" in changes:
            await _check_panel_name(stage_id, changes["name"], panel_id)
        await _save_changes(
            principal,
            access.stage["event"],
            Panel,
            Panel.id == panel_id,
            row,
            changes,
            "panel_changed",
            ("panel", panel_id),
            stage=stage_id,
        )
    return (await _panels(stage_id, panel_id))[0]


async def delete_panel(principal: Principal, panel_id: int) -> None:
    """Remove an empty room; one that still holds entries or judges is refused (409 ``panel_in_use``)."""
    row, access = await _panel_access(principal, panel_id)
    async with transaction():
        await _lock_stage_row(row["stage"])
        in_use = await StageEntry.exists().where(
            StageEntry.panel == panel_id
        ) or await StageJudge.exists().where(StageJudge.panel == panel_id)
        if in_use:
            raise Conflict(
                "panel_in_use", "The room still has entries or judges; move them to another room first"
            )
        await Panel.delete().where(Panel.id == panel_id)
        await judging_changed(
            principal.id,
            access.stage["event"],
            "panel_deleted",
            "panel",
            panel_id,
            stage=row["stage"],
            name=row["name"],
        )


async def _stage_panel(stage_id: int, panel_id: int | None, field: str = "panel_id") -> int | None:
    """``panel_id`` if it is a room of the stage (``None`` or 0: no room), else 422 at ``field``."""
    if not panel_id:
        return None
    if not await Panel.exists().where((Panel.id == panel_id) & (Panel.stage == stage_id)):
        raise DomainError(
            "validation_error", INVALID, status_code=422, fields={field: "is not a room of this stage"}
        )
    return panel_id


# Entries ----------------------------------------------------------------------------------------

LABEL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: labels are read aloud and typed
LABEL_LENGTH = 6


def new_label(taken: set[str]) -> str:
    """A random label ``E-XXXXXX`` not in ``taken`` (32⁶ ≈ 10⁹ labels: unguessable, never the team id)."""
    while True:
        label = "E-" + "".join(secrets.choice(LABEL_ALPHABET) for _ in range(LABEL_LENGTH))
        if label not in taken:
            taken.add(label)
            return label


async def _labels(stage_id: int) -> set[str]:
    return {r["label"] for r in await StageEntry.select(StageEntry.label).where(StageEntry.stage == stage_id)}


_ENTRY_COLUMNS = (
    StageEntry.id,
    StageEntry.stage,
    StageEntry.team,
    StageEntry.team.name,
    StageEntry.team.entry_title,
    StageEntry.team.region,
    StageEntry.team.institution.name_zh.as_alias("institution_zh"),
    StageEntry.team.institution.name_en.as_alias("institution_en"),
    StageEntry.track.code,
    StageEntry.label,
    StageEntry.panel,
    StageEntry.panel.name,
    StageEntry.position,
    StageEntry.status,
    StageEntry.source,
)


def _entry_out(row: dict[str, Any], locale: str) -> EntryOut:
    return EntryOut(
        id=row["id"],
        stage_id=row["stage"],
        team_id=row["team"],
        team=row["team.name"],
        entry_title=row["team.entry_title"] or "",
        institution=institution_name(row, locale),
        region=row["team.region"] or "",
        track=row["track.code"],
        label=row["label"],
        panel_id=row["panel"],
        panel=row["panel.name"] or "",
        position=row["position"],
        status=row["status"],
        source=row["source"],
    )


async def list_entries(
    principal: Principal, stage_id: int, limit: int = 50, offset: int = 0, locale: str = "en"
) -> EntriesPage:
    """The stage's entries in running order (room, place, label); scoped admins see those of their
    scope only."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    where = StageEntry.stage == stage_id
    scope = scope_filter(principal, access.event)
    if scope is not None:
        where &= StageEntry.team.is_in(Team.select(Team.id).where(scope))
    total = await StageEntry.count().where(where)
    rows = (
        await StageEntry.select(*_ENTRY_COLUMNS)
        .where(where)
        .order_by(StageEntry.panel.position)
        .order_by(StageEntry.position)
        .order_by(StageEntry.label)
        .limit(limit)
        .offset(offset)
    )
    return EntriesPage(items=[_entry_out(r, locale) for r in rows], total=total)


async def _eligible_teams(event_id: int) -> list[dict[str, Any]]:
    """The event's teams that enter its first judged stage: approved ones, and complete ones in
    tracks whose rules do not ask organizers to approve (never withdrawn or rejected)."""
    tracks = await Track.select(Track.id).where(Track.event == event_id)
    rows: list[dict[str, Any]] = []
    for track in tracks:
        rules = await rules_for(event_id, track["id"])
        statuses = [TeamStatus.approved.value]
        if not rules.approval_required:
            statuses.append(TeamStatus.complete.value)
        rows += await Team.select(Team.id, Team.track).where(
            (Team.event == event_id) & (Team.track == track["id"]) & Team.status.is_in(statuses)
        )
    return rows


async def seed_entries(principal: Principal, stage_id: int) -> int:
    """Enter every eligible team (see :func:`_eligible_teams`) into the event's first judged stage,
    each with a random label; idempotent (teams already in are left as they are). Only while the
    stage is being set up or scored. Returns how many entries were added."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    stage = access.stage
    async with transaction():
        judging = await _lock_stage_row(stage_id)
        if judging["status"] not in (JudgingStatus.setup.value, JudgingStatus.scoring.value):
            raise state_conflict(judging["status"])
        earlier = Stage.select(Stage.id).where(
            (Stage.event == stage["event"]) & (Stage.position < stage["position"])
        )
        if await StageEntry.exists().where(StageEntry.stage.is_in(earlier)):
            raise Conflict(
                "not_first_stage",
                "An earlier stage has entries: this stage's entries come from advancement",
            )
        present = {
            r["team"] for r in await StageEntry.select(StageEntry.team).where(StageEntry.stage == stage_id)
        }
        taken = await _labels(stage_id)
        new = [
            StageEntry(
                stage=stage_id,
                event=stage["event"],
                team=t["id"],
                track=t["track"],
                label=new_label(taken),
                source=EntrySource.registration.value,
            )
            for t in await _eligible_teams(stage["event"])
            if t["id"] not in present
        ]
        if new:
            await StageEntry.insert(*new)
        await judging_changed(
            principal.id, stage["event"], "entries_seeded", "stage", stage_id, added=len(new)
        )
    return len(new)


async def add_entry(stage_id: int, team_id: int, source: str, actor_id: int | None) -> dict[str, Any]:
    """Put a team into a stage (advancement calls this when it accepts a recommendation), inside the
    caller's transaction; idempotent per (stage, team): an entry already there is returned as it is.
    The caller has checked the policy."""
    stage = await Stage.select().where(Stage.id == stage_id).first()
    if stage is None:
        raise NotFound("Stage")
    async with transaction():
        await judging_of(stage)
        await _lock_stage_row(stage_id)
        existing = (
            await StageEntry.select()
            .where((StageEntry.stage == stage_id) & (StageEntry.team == team_id))
            .first()
        )
        if existing is not None:
            return existing
        team = (
            await Team.select(Team.id, Team.track)
            .where((Team.id == team_id) & (Team.event == stage["event"]))
            .first()
        )
        if team is None:
            raise NotFound("Team")
        row = StageEntry(
            stage=stage_id,
            event=stage["event"],
            team=team_id,
            track=team["track"],
            label=new_label(await _labels(stage_id)),
            source=EntrySource(source).value,
        )
        await row.save()
        await judging_changed(
            actor_id,
            stage["event"],
            "entry_added",
            "stage_entry",
            row.id,
            stage=stage_id,
            team=team_id,
            source=source,
        )
    return await StageEntry.select().where(StageEntry.id == row.id).first()


async def _entry_row(entry_id: int, locale: str) -> EntryOut:
    row = await StageEntry.select(*_ENTRY_COLUMNS).where(StageEntry.id == entry_id).first()
    return _entry_out(row, locale)


async def update_entry(principal: Principal, entry_id: int, data: EntryPatch, locale: str = "en") -> EntryOut:
    """Move an entry to a room or a place in the running order, or change its status (with a
    reason, kept in the audit trail)."""
    row = await StageEntry.select().where(StageEntry.id == entry_id).first()
    if row is None:
        raise NotFound("Entry")
    access = await stage_access(principal, row["stage"], Action.configure_judging)
    changes: dict[str, Any] = {}
    if data.panel_id is not None:
        changes["panel"] = await _stage_panel(row["stage"], data.panel_id)
    if data.position is not None:
        changes["position"] = data.position
    if data.status is not None:
        changes["status"] = data.status
    async with transaction():
        current = await StageEntry.select().where(StageEntry.id == entry_id).first()
        await _save_changes(
            principal,
            access.stage["event"],
            StageEntry,
            StageEntry.id == entry_id,
            current,
            changes,
            "entry_changed",
            ("stage_entry", entry_id),
            stage=row["stage"],
            reason=data.reason,
        )
    return await _entry_row(entry_id, locale)


# Judges -----------------------------------------------------------------------------------------


async def _judges(stage_id: int, locale: str, user_id: int | None = None) -> list[JudgeOut]:
    where = StageJudge.stage == stage_id
    if user_id is not None:
        where &= StageJudge.user == user_id
    rows = (
        await StageJudge.select(
            StageJudge.user,
            StageJudge.user.display_name,
            StageJudge.user.email,
            StageJudge.institution,
            StageJudge.institution.name_zh.as_alias("institution_zh"),
            StageJudge.institution.name_en.as_alias("institution_en"),
            StageJudge.panel,
            StageJudge.capacity,
        )
        .where(where)
        .order_by(StageJudge.user.display_name)
    )
    assigned: dict[int, int] = {}
    for r in await Assignment.select(Assignment.judge).where(
        (Assignment.stage == stage_id) & (Assignment.state == AssignmentState.active.value)
    ):
        assigned[r["judge"]] = assigned.get(r["judge"], 0) + 1
    sheets: dict[int, int] = {}
    for r in await ScoreSheet.select(ScoreSheet.judge).where(ScoreSheet.stage == stage_id):
        sheets[r["judge"]] = sheets.get(r["judge"], 0) + 1
    return [
        JudgeOut(
            user_id=r["user"],
            stage_id=stage_id,
            name=r["user.display_name"] or r["user.email"],
            email=r["user.email"],
            institution_id=r["institution"],
            institution=institution_name(r, locale),
            panel_id=r["panel"],
            capacity=r["capacity"],
            assignments=assigned.get(r["user"], 0),
            sheets=sheets.get(r["user"], 0),
        )
        for r in rows
    ]


async def list_judges(principal: Principal, stage_id: int, locale: str = "en") -> list[JudgeOut]:
    """The stage's judges with their institution, room, capacity, assignments and sheets."""
    await stage_access(principal, stage_id, Action.view_judging)
    return await _judges(stage_id, locale)


async def _holds_judge_role(user_id: int, event_id: int) -> bool:
    return await RoleGrant.exists().where(
        (RoleGrant.user == user_id) & (RoleGrant.event == event_id) & (RoleGrant.role == Role.judge.value)
    )


async def _check_institution(institution_id: int | None, field: str = "institution_id") -> None:
    if institution_id and not await Institution.exists().where(Institution.id == institution_id):
        raise DomainError(
            "unknown_institution",
            "The referenced institution does not exist",
            status_code=422,
            fields={field: "does not exist"},
        )


async def add_judge(
    principal: Principal, stage_id: int, data: JudgeIn, base_url: str, locale: str = "en"
) -> JudgeOut | InvitedOut:
    """Make a holder of the event's judge role a judge of the stage; an e-mail address without the
    role is sent the role's invitation instead (``InvitedOut``)."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    event_id = access.stage["event"]
    if (data.user_id is None) == (data.email is None):
        raise DomainError(
            "validation_error",
            INVALID,
            status_code=422,
            fields={"user_id": "give either the account or the e-mail address"},
        )
    field = "user_id" if data.user_id is not None else "email"
    where = User.id == data.user_id if data.user_id is not None else User.email == data.email.strip().lower()
    user = await User.select(User.id).where(where).first()
    if user is None and data.user_id is not None:
        raise DomainError(
            "unknown_user",
            "The referenced user does not exist",
            status_code=422,
            fields={field: "does not exist"},
        )
    if user is None or not await _holds_judge_role(user["id"], event_id):
        if data.email is None:
            raise DomainError(
                "not_a_judge",
                "This person does not hold the event's judge role; invite them by e-mail",
                status_code=422,
                fields={field: "does not hold the judge role"},
            )
        await invitations.invite(
            principal, event_id, InvitationIn(email=data.email, role=Role.judge), base_url
        )
        return InvitedOut(invited=True, email=data.email.strip().lower())
    user_id = user["id"]
    await _check_institution(data.institution_id)
    institution = data.institution_id
    if institution is None:
        profile = await Profile.select(Profile.institution).where(Profile.user == user_id).first()
        institution = profile["institution"] if profile else None
    async with transaction():
        await _lock_stage_row(stage_id)
        panel = await _stage_panel(stage_id, data.panel_id)
        if await StageJudge.exists().where((StageJudge.stage == stage_id) & (StageJudge.user == user_id)):
            raise Conflict(
                "judge_exists", "This person is already a judge of the stage", fields={field: "is taken"}
            )
        await StageJudge(
            stage=stage_id,
            user=user_id,
            institution=institution,
            panel=panel,
            capacity=data.capacity or None,
            added_by=principal.id,
        ).save()
        await judging_changed(
            principal.id, event_id, "judge_added", "user", user_id, stage=stage_id, institution=institution
        )
    return (await _judges(stage_id, locale, user_id))[0]


async def _judge_row(stage_id: int, user_id: int) -> dict[str, Any]:
    row = (
        await StageJudge.select().where((StageJudge.stage == stage_id) & (StageJudge.user == user_id)).first()
    )
    if row is None:
        raise NotFound("Judge")
    return row


async def update_judge(
    principal: Principal, stage_id: int, user_id: int, data: JudgePatch, locale: str = "en"
) -> JudgeOut:
    """Change a judge's institution (for conflicts of interest), room or capacity."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    row = await _judge_row(stage_id, user_id)
    changes: dict[str, Any] = {}
    if data.institution_id is not None:
        await _check_institution(data.institution_id)
        changes["institution"] = data.institution_id or None
    if data.panel_id is not None:
        changes["panel"] = await _stage_panel(stage_id, data.panel_id)
    if data.capacity is not None:
        changes["capacity"] = data.capacity or None
    async with transaction():
        await _save_changes(
            principal,
            access.stage["event"],
            StageJudge,
            StageJudge.id == row["id"],
            row,
            changes,
            "judge_changed",
            ("user", user_id),
            stage=stage_id,
        )
    return (await _judges(stage_id, locale, user_id))[0]


async def remove_judge(principal: Principal, stage_id: int, user_id: int) -> None:
    """Take a judge off the stage, ending their unscored assignments; refused (409
    ``judge_has_sheets``) once they have submitted a sheet in it."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    row = await _judge_row(stage_id, user_id)
    async with transaction():
        await _lock_stage_row(stage_id)
        if await ScoreSheet.exists().where((ScoreSheet.stage == stage_id) & (ScoreSheet.judge == user_id)):
            raise Conflict(
                "judge_has_sheets", "The judge has submitted score sheets in this stage and cannot be removed"
            )
        ended = (
            await Assignment.update(
                {Assignment.state: AssignmentState.removed.value, Assignment.ended_at: utcnow()}
            )
            .where(
                (Assignment.stage == stage_id)
                & (Assignment.judge == user_id)
                & (Assignment.state == AssignmentState.active.value)
            )
            .returning(Assignment.id)
        )
        await StageJudge.delete().where(StageJudge.id == row["id"])
        await judging_changed(
            principal.id,
            access.stage["event"],
            "judge_removed",
            "user",
            user_id,
            stage=stage_id,
            assignments_ended=len(ended),
        )


# Declared conflicts of interest ------------------------------------------------------------------


async def _event(principal: Principal, event_id: int) -> policy.EventContext:
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    return context


def _conflict_out(row: dict[str, Any], locale: str) -> ConflictOut:
    return ConflictOut(
        id=row["id"],
        event_id=row["event"],
        user_id=row["user"],
        judge=row["user.display_name"] or row["user.email"],
        institution_id=row["institution"],
        institution=institution_name(row, locale),
        team_id=row["team"],
        team=row["team.name"] or "",
        reason=row["reason"],
        declared_by=row["declared_by"],
        created_at=row["created_at"],
    )


_CONFLICT_COLUMNS = (
    JudgeConflict.id,
    JudgeConflict.event,
    JudgeConflict.user,
    JudgeConflict.user.display_name,
    JudgeConflict.user.email,
    JudgeConflict.institution,
    JudgeConflict.institution.name_zh.as_alias("institution_zh"),
    JudgeConflict.institution.name_en.as_alias("institution_en"),
    JudgeConflict.team,
    JudgeConflict.team.name,
    JudgeConflict.reason,
    JudgeConflict.declared_by,
    JudgeConflict.created_at,
)


async def list_conflicts(principal: Principal, event_id: int, locale: str = "en") -> list[ConflictOut]:
    """The event's declared conflicts: all of them for its organizers, a judge's own for a judge."""
    event = await _event(principal, event_id)
    where = JudgeConflict.event == event_id
    if policy.decide(principal, Action.view_judging, event) is not policy.Outcome.allowed:
        policy.require(principal, Action.declare_conflict, event)
        where &= JudgeConflict.user == principal.id
    rows = await JudgeConflict.select(*_CONFLICT_COLUMNS).where(where).order_by(JudgeConflict.id)
    return [_conflict_out(r, locale) for r in rows]


async def declare_conflict(
    principal: Principal, event_id: int, data: ConflictIn, locale: str = "en"
) -> ConflictOut:
    """Record a conflict of interest: a judge declares their own; the organizers record any judge's."""
    event = await _event(principal, event_id)
    policy.require(principal, Action.declare_conflict, event)
    user_id = data.user_id or principal.id
    if user_id != principal.id:
        policy.require(principal, Action.configure_judging, event)
    if (data.institution_id is None) == (data.team_id is None):
        raise DomainError(
            "validation_error",
            INVALID,
            status_code=422,
            fields={"institution_id": "give either an institution or a team"},
        )
    if not await _holds_judge_role(user_id, event_id):
        raise DomainError(
            "not_a_judge",
            "This person does not hold the event's judge role; invite them by e-mail",
            status_code=422,
            fields={"user_id": "does not hold the judge role"},
        )
    await _check_institution(data.institution_id)
    if data.team_id is not None and not await Team.exists().where(
        (Team.id == data.team_id) & (Team.event == event_id)
    ):
        raise DomainError(
            "validation_error", INVALID, status_code=422, fields={"team_id": "is not a team of this event"}
        )
    async with transaction():
        row = JudgeConflict(
            event=event_id,
            user=user_id,
            institution=data.institution_id,
            team=data.team_id,
            reason=data.reason.strip(),
            declared_by=principal.id,
        )
        await row.save()
        await judging_changed(
            principal.id,
            event_id,
            "conflict_declared",
            "judge_conflict",
            row.id,
            user=user_id,
            institution=data.institution_id,
            team=data.team_id,
        )
    saved = await JudgeConflict.select(*_CONFLICT_COLUMNS).where(JudgeConflict.id == row.id).first()
    return _conflict_out(saved, locale)


async def delete_conflict(principal: Principal, conflict_id: int) -> None:
    """Withdraw a declared conflict: the judge their own, the organizers any."""
    row = await JudgeConflict.select().where(JudgeConflict.id == conflict_id).first()
    if row is None:
        raise NotFound("Conflict")
    event = await _event(principal, row["event"])
    policy.require(principal, Action.declare_conflict, event)
    if row["user"] != principal.id:
        policy.require(principal, Action.configure_judging, event)
    async with transaction():
        await JudgeConflict.delete().where(JudgeConflict.id == conflict_id)
        await judging_changed(
            principal.id, row["event"], "conflict_withdrawn", "judge_conflict", conflict_id, user=row["user"]
        )


# Tablet sign-in by a one-time QR code ------------------------------------------------------------

TABLET_VALID_FOR = dt.timedelta(minutes=15)
TABLET_PREFIX = "tab_"


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an SVG image (black on white, scalable)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


async def create_tablet_sign_in(
    principal: Principal, stage_id: int, user_id: int, base_url: str
) -> TabletSignInOut:
    """A one-time link (and its QR code) that signs the judge in on a tablet, valid 15 minutes."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    await _judge_row(stage_id, user_id)
    token = TABLET_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + TABLET_VALID_FOR
    async with transaction():
        row = TabletSignIn(
            user=user_id,
            event=access.stage["event"],
            token_hash=token_digest(token),
            created_by=principal.id,
            expires_at=expires,
        )
        await row.save()
        await judging_changed(
            principal.id, access.stage["event"], "tablet_sign_in_created", "user", user_id, stage=stage_id
        )
    url = f"{base_url.rstrip('/')}/tablet/{token}"
    return TabletSignInOut(url=url, expires_at=expires, qr_svg=qr_svg(url))


async def tablet_sign_in(token: str) -> dict[str, Any]:
    """What the sign-in page shows before it is used: the judge and the event, and its state
    (``ready``, ``used`` or ``expired``); 404 for an unknown code."""
    row = (
        await TabletSignIn.select(
            TabletSignIn.id,
            TabletSignIn.user,
            TabletSignIn.user.display_name,
            TabletSignIn.user.email,
            TabletSignIn.event,
            TabletSignIn.expires_at,
            TabletSignIn.used_at,
        )
        .where(TabletSignIn.token_hash == token_digest(token))
        .first()
    )
    if row is None:
        raise NotFound("Sign-in code")
    event = (
        await Event.select(Event.name_zh, Event.name_en, Event.name_ru, Event.slug)
        .where(Event.id == row["event"])
        .first()
    )
    state = "used" if row["used_at"] else "expired" if row["expires_at"] <= utcnow() else "ready"
    return {
        "state": state,
        "judge": row["user.display_name"] or row["user.email"],
        "event": event,
        "expires_at": row["expires_at"],
    }


async def use_tablet_sign_in(token: str) -> int:
    """Use the code up (one conditional UPDATE: of simultaneous uses exactly one wins) and return
    the judge's user id; 410 ``sign_in_used`` / ``sign_in_expired``, 404 when unknown."""
    digest = token_digest(token)
    now = utcnow()
    async with transaction():
        used = (
            await TabletSignIn.update({TabletSignIn.used_at: now})
            .where(
                (TabletSignIn.token_hash == digest)
                & TabletSignIn.used_at.is_null()
                & (TabletSignIn.expires_at > now)
            )
            .returning(TabletSignIn.id, TabletSignIn.user, TabletSignIn.event)
        )
        if not used:
            row = (
                await TabletSignIn.select(TabletSignIn.used_at)
                .where(TabletSignIn.token_hash == digest)
                .first()
            )
            if row is None:
                raise NotFound("Sign-in code")
            if row["used_at"] is not None:
                raise DomainError("sign_in_used", "This sign-in code has already been used", status_code=410)
            raise DomainError(
                "sign_in_expired",
                "This sign-in code has expired; ask the organizer for a new one",
                status_code=410,
            )
        row = used[0]
        await judging_changed(row["user"], row["event"], "tablet_signed_in", "user", row["user"])
    return row["user"]


# The workspace hub -------------------------------------------------------------------------------


async def _counts(column: Any, table: Any, where: Any) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in await table.select(column).where(where):
        key = r[column._meta.name]
        counts[key] = counts.get(key, 0) + 1
    return counts


async def overview(principal: Principal, event_id: int) -> list[dict[str, Any]]:
    """Every stage of the event with its judging state and counts: entries (within the caller's
    scope), judges, active assignments, sheets submitted and expected."""
    event = await _event(principal, event_id)
    policy.require(principal, Action.view_judging, event)
    stages = await Stage.select().where(Stage.event == event_id).order_by(Stage.position)
    ids = [s["id"] for s in stages]
    if not ids:
        return []
    judging = {r["stage"]: r for r in await StageJudging.select().where(StageJudging.stage.is_in(ids))}
    entry_where = StageEntry.stage.is_in(ids) & (StageEntry.status == "active")
    scope = scope_filter(principal, event)
    if scope is not None:
        entry_where &= StageEntry.team.is_in(Team.select(Team.id).where(scope))
    entries = await _counts(StageEntry.stage, StageEntry, entry_where)
    judges = await _counts(StageJudge.stage, StageJudge, StageJudge.stage.is_in(ids))
    assignments = await _counts(
        Assignment.stage,
        Assignment,
        Assignment.stage.is_in(ids) & (Assignment.state == AssignmentState.active.value),
    )
    sheets = await _counts(
        ScoreSheet.stage,
        ScoreSheet,
        ScoreSheet.stage.is_in(ids)
        & ScoreSheet.assignment.is_in(
            Assignment.select(Assignment.id).where(Assignment.state == AssignmentState.active.value)
        ),
    )
    return [
        {
            "stage": s,
            "judging": judging.get(s["id"]),
            "entries": entries.get(s["id"], 0),
            "judges": judges.get(s["id"], 0),
            "assignments": assignments.get(s["id"], 0),
            "sheets": sheets.get(s["id"], 0),
        }
        for s in stages
    ]
