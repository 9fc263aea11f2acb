"""Event operations: creation, edits, the status life cycle and the contest / session structure.

Status moves only forward, draft → open → running → closed → archived, through the named
functions at the bottom; each is one conditional UPDATE, so two organizers clicking at once
cannot both move it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET, structs

from backend import audit, policy, tasks
from backend.db import fetch_one, locked_row, on_commit, transaction
from backend.errors import Conflict, DomainError, FieldChecks, NotFound, Term, status_term
from backend.events.schemas import (
    EventIn,
    EventOut,
    EventPatch,
    SessionIn,
    SessionOut,
    StageIn,
    StageOut,
    TrackIn,
    TrackOut,
)
from backend.events.tables import Event, EventKind, EventSession, EventStatus, Stage, StageLevel, Track
from backend.policy import Principal
from backend.schemas import ID_MAX, has_visible_text, is_time_zone

EDITABLE = (EventStatus.draft.value, EventStatus.open.value, EventStatus.running.value)
# Stages must follow the funnel: no stage may sit below one of a lower level.
LEVEL_ORDER = {
    StageLevel.school: 0,
    StageLevel.online_review: 0,
    StageLevel.province: 1,
    StageLevel.national: 2,
    StageLevel.final: 3,
}


_EVENT_COLUMNS = {f: f for f in EventOut.__struct_fields__} | {"organization_id": "organization"}


def _event_out(row: dict[str, Any]) -> EventOut:
    return EventOut(**{f: row[column] for f, column in _EVENT_COLUMNS.items()})


def _check_time_zone(name: str, checks: FieldChecks | None = None) -> None:
    own = checks or FieldChecks()
    if not is_time_zone(name):
        own.add(
            "invalid_time_zone",
            "{time_zone} is not a time zone such as Asia/Shanghai",
            "time_zone",
            "is not a time zone such as Asia/Shanghai",
            time_zone=name,
        )
    if checks is None:
        own.raise_if_any()


def _check_event_fields(values: dict[str, Any]) -> None:
    """The rules across an event's fields, every broken one reported at once."""
    checks = FieldChecks()
    if values["ends_on"] < values["starts_on"]:
        checks.add(
            "invalid_dates", "The event ends before it starts", "ends_on", "must not be before the start date"
        )
    if not any(has_visible_text(values[f]) for f in ("name_zh", "name_en", "name_ru")):
        checks.add(
            "name_required",
            "Give the event a name in at least one language",
            "name_en",
            "give the event a name in at least one language",
        )
    _check_time_zone(values["time_zone"], checks)
    checks.raise_if_any()


async def visible_event_ids(principal: Principal | None) -> list[int] | None:
    """Drafts the caller may see besides published events (``None`` means all of them)."""
    if principal is not None and principal.is_platform_admin:
        return None
    if principal is None:
        return []
    return await policy.organized_event_ids(principal)


async def list_events(
    principal: Principal | None,
    limit: int,
    offset: int,
    kind: EventKind | None,
    status: EventStatus | None,
    *,
    organization_id: int | None = None,
) -> tuple[list[EventOut], int]:
    where: Any = Event.id > 0
    own = await visible_event_ids(principal)
    if own is not None:
        where = Event.status != EventStatus.draft.value
        if own:
            where = where | Event.id.is_in(own)
    if kind is not None:
        where = where & (Event.kind == kind.value)
    if status is not None:
        where = where & (Event.status == status.value)
    if organization_id is not None:
        where = where & (Event.organization == organization_id)
    rows = (
        await Event.select()
        .where(where)
        .order_by(Event.starts_on, ascending=False)
        .order_by(Event.id)
        .limit(limit)
        .offset(offset)
    )
    return [_event_out(r) for r in rows], await Event.count().where(where)


_EVENT_SELECT = f"SELECT {', '.join(_EVENT_COLUMNS.values())} FROM event"  # noqa: S608 - column names from EventOut
_EVENT_BY_ID = _EVENT_SELECT + " WHERE id = {}"  # the value a bound parameter
_EVENT_BY_SLUG = _EVENT_SELECT + " WHERE slug = {}"


async def get_event(principal: Principal | None, event_id: int) -> EventOut:
    """One event, as the policy lets the caller see it (a draft is "not found" to outsiders).

    The most frequent read of all (every event page and API client), so one hand-written SELECT."""
    return await _visible(principal, await fetch_one(_EVENT_BY_ID, event_id))


async def get_event_by_slug(principal: Principal | None, slug: str) -> EventOut:
    """The event with this slug (its short name in links), seen as :func:`get_event` sees it."""
    return await _visible(principal, await fetch_one(_EVENT_BY_SLUG, slug))


async def find_event(principal: Principal | None, reference: str) -> EventOut:
    """The event a link names: ``12`` (digits: its id, which is why no slug is digits only) or
    ``cbec-2027`` (its slug); not found if neither, as for drafts the caller may not see."""
    if reference.isascii() and reference.isdigit():
        if int(reference) > ID_MAX:
            raise NotFound("Event")
        return await get_event(principal, int(reference))
    if len(reference) > Event.slug.length:
        raise NotFound("Event")
    return await get_event_by_slug(principal, reference)


async def _visible(principal: Principal | None, row: dict[str, Any] | None) -> EventOut:
    if row is None:
        raise NotFound("Event")
    if row["status"] == EventStatus.draft.value:
        context = await policy.event_context(principal, row["id"])
        if context is None or not policy.may_see(principal, context):
            raise NotFound("Event")
    return _event_out(row)


async def create_event(actor: Principal, data: EventIn) -> EventOut:
    """A draft event in an organization, by its admins (or a platform admin)."""
    organization = await policy.organization_context(actor, data.organization_id)
    if organization is None:
        raise DomainError(
            "unknown_organization", "No such organization", fields={"organization_id": "unknown"}
        )
    policy.require(actor, policy.Action.create_event, organization=organization)
    values = structs.asdict(data)
    values["kind"] = data.kind.value
    values["organization"] = values.pop("organization_id")
    _check_event_fields(values)
    if data.slug.isdigit():  # /events/{id} reads digits as an id: such a slug could never be reached
        raise DomainError(
            "slug_digits_only",
            "A short name for links needs a letter or a hyphen: digits alone would read as an event number",
            fields={"slug": "must contain a letter or a hyphen"},
        )
    async with transaction():  # a taken slug breaks event_slug_key: 409 slug_taken
        event = Event(**values, status=EventStatus.draft.value)
        await event.save()
        await audit.record(
            actor.id, "event.create", "event", event.id, event_id=event.id, data={"slug": data.slug}
        )
    return await get_event(actor, event.id)


async def update_event(actor: Principal, event_id: int, data: EventPatch) -> EventOut:
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET}
    async with transaction():
        row = await locked_row(Event, event_id)  # two edits of the dates cannot cross
        if row is None:
            raise NotFound("Event")
        _require_editable(row)
        _check_event_fields({**row, **changes})
        if changes:
            await Event.update(changes).where(Event.id == event_id)
            await audit.record(
                actor.id, "event.update", "event", event_id, event_id=event_id, data=_jsonable(changes)
            )
    return await get_event(actor, event_id)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in values.items()}


def _require_editable(event_row: dict[str, Any]) -> None:
    if event_row["status"] not in EDITABLE:
        raise Conflict(
            "event_locked",
            "The event is {status}; its set-up can no longer change",
            params={"status": status_term(event_row["status"])},
        )


async def _editable_event(event_id: int) -> dict[str, Any]:
    """The event, locked until the transaction ends so its structure and status hold still."""
    row = await locked_row(Event, event_id)
    if row is None:
        raise NotFound("Event")
    _require_editable(row)
    return row


# Status life cycle ----------------------------------------------------------------------------

# Why a status change is refused, by the status asked for (``{status}``: the event's status now).
_REFUSED_TRANSITION = {
    EventStatus.open: "The event is {status}; only a draft event can be opened",
    EventStatus.running: "The event is {status}; only an open event can be started",
    EventStatus.closed: "The event is {status}; only a running event can be closed",
    EventStatus.archived: "The event is {status}; only a closed event can be archived",
}


async def _transition(
    actor: Principal,
    event_id: int,
    source: EventStatus,
    target: EventStatus,
    precondition: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> EventOut:
    """Move the event from ``source`` to ``target``; ``precondition(event)`` may refuse first. It
    runs on the locked event, so what it checked still holds when the status changes."""
    async with transaction():
        if precondition is not None:
            row = await locked_row(Event, event_id)
            if row is not None and row["status"] == source.value:
                await precondition(row)
        moved = (
            await Event.update({Event.status: target.value})
            .where((Event.id == event_id) & (Event.status == source.value))
            .returning(Event.id)
        )
        if not moved:
            row = await Event.select(Event.status).where(Event.id == event_id).first()
            if row is None:
                raise NotFound("Event")
            raise Conflict(
                "invalid_transition",
                _REFUSED_TRANSITION.get(target, "The event is {status}; this status change is not possible"),
                params={"status": status_term(row["status"])},
            )
        await audit.record(
            actor.id,
            f"event.{target.value}",
            "event",
            event_id,
            event_id=event_id,
            data={"from": source.value},
        )
    return await get_event(actor, event_id)


async def _require_structure(event: dict[str, Any]) -> None:
    if event["kind"] != EventKind.contest.value:
        return
    if not await Track.exists().where(Track.event == event["id"]):
        raise DomainError("incomplete_structure", "Add at least one track before opening the contest")
    if not await Stage.exists().where(Stage.event == event["id"]):
        raise DomainError("incomplete_structure", "Add at least one stage before opening the contest")


async def open_event(actor: Principal, event_id: int) -> EventOut:
    """Publish a draft. A contest needs at least one track and one stage first."""
    return await _transition(actor, event_id, EventStatus.draft, EventStatus.open, _require_structure)


async def start_event(actor: Principal, event_id: int) -> EventOut:
    return await _transition(actor, event_id, EventStatus.open, EventStatus.running)


async def close_event(actor: Principal, event_id: int) -> EventOut:
    return await _transition(actor, event_id, EventStatus.running, EventStatus.closed)


async def archive_event(actor: Principal, event_id: int) -> EventOut:
    return await _transition(actor, event_id, EventStatus.closed, EventStatus.archived)


# Tracks ---------------------------------------------------------------------------------------


def _track_out(row: dict[str, Any]) -> TrackOut:
    return TrackOut(
        event_id=row["event"], **{f: row[f] for f in TrackOut.__struct_fields__ if f != "event_id"}
    )


def _check_track(data: TrackIn) -> None:
    if data.team_min > data.team_max:
        raise DomainError(
            "invalid_team_size", "team_min is above team_max", fields={"team_min": "above team_max"}
        )


def _require_contest(event_row: dict[str, Any], what: str) -> None:
    if event_row["kind"] != EventKind.contest.value:
        raise Conflict("wrong_event_kind", "Only contests have {what}", params={"what": Term(what, "part")})


async def list_tracks(event_id: int) -> list[TrackOut]:
    rows = await Track.select().where(Track.event == event_id).order_by(Track.id)
    return [_track_out(r) for r in rows]


async def create_track(actor: Principal, event_id: int, data: TrackIn) -> TrackOut:
    _check_track(data)
    async with transaction():
        event = await _editable_event(event_id)
        _require_contest(event, "tracks")
        track = Track(event=event_id, **structs.asdict(data))  # a taken code: 409 track_code_taken
        await track.save()
        await audit.record(
            actor.id, "track.create", "track", track.id, event_id=event_id, data={"code": data.code}
        )
    return _track_out(await Track.select().where(Track.id == track.id).first())


async def update_track(actor: Principal, event_id: int, track_id: int, data: TrackIn) -> TrackOut:
    _check_track(data)
    async with transaction():
        await _editable_event(event_id)
        if not await Track.exists().where((Track.id == track_id) & (Track.event == event_id)):
            raise NotFound("Track")
        await Track.update(structs.asdict(data)).where(Track.id == track_id)
        await audit.record(
            actor.id, "track.update", "track", track_id, event_id=event_id, data=structs.asdict(data)
        )
        # The track's team size and advisor limits are registration rules too: the teams service's
        # job brings its teams' statuses in line with them, as after a change of the declared rules.
        on_commit(functools.partial(tasks.enqueue, "refresh_team_statuses", event_id, track_id))
    return _track_out(await Track.select().where(Track.id == track_id).first())


async def delete_track(actor: Principal, event_id: int, track_id: int) -> None:
    async with transaction():
        event = await _editable_event(event_id)
        if event["status"] != EventStatus.draft.value:
            raise Conflict("event_published", "Tracks can be removed only while the event is a draft")
        deleted = (
            await Track.delete().where((Track.id == track_id) & (Track.event == event_id)).returning(Track.id)
        )
        if not deleted:
            raise NotFound("Track")
        await audit.record(actor.id, "track.delete", "track", track_id, event_id=event_id)


# Stages ---------------------------------------------------------------------------------------


def _stage_out(row: dict[str, Any]) -> StageOut:
    return StageOut(
        event_id=row["event"], **{f: row[f] for f in StageOut.__struct_fields__ if f != "event_id"}
    )


def _check_stage(data: StageIn, previous: dict[str, Any] | None) -> None:
    sub, judge = data.submission_deadline, data.judging_deadline
    naive = FieldChecks()  # both deadlines at once
    for name, value in (("submission_deadline", sub), ("judging_deadline", judge)):
        if value is not None and value.tzinfo is None:
            naive.add(
                "naive_datetime",
                "Give the time zone offset, e.g. 2026-05-01T18:00:00+08:00",
                name,
                "no time zone",
            )
    naive.raise_if_any()
    if sub and judge and judge < sub:
        raise DomainError(
            "invalid_deadlines",
            "Judging cannot end before submissions close",
            fields={"judging_deadline": "before submission_deadline"},
        )
    if previous is None:
        return
    if LEVEL_ORDER[data.level] < LEVEL_ORDER[StageLevel(previous["level"])]:
        raise DomainError(
            "invalid_stage_order",
            "A stage of level {level} cannot follow one of level {previous}",
            fields={"level": "out of order"},
            params={"level": Term(data.level.value, "level"), "previous": Term(previous["level"], "level")},
        )
    prev_end = previous["judging_deadline"] or previous["submission_deadline"]
    if prev_end and sub and sub < prev_end:
        raise DomainError(
            "invalid_deadlines",
            "This stage's submissions close before the previous stage ends",
            fields={"submission_deadline": "before previous stage"},
        )


async def list_stages(event_id: int) -> list[StageOut]:
    rows = await Stage.select().where(Stage.event == event_id).order_by(Stage.position)
    return [_stage_out(r) for r in rows]


async def create_stage(actor: Principal, event_id: int, data: StageIn) -> StageOut:
    """Append a stage after the existing ones."""
    async with transaction():
        event = await _editable_event(event_id)
        _require_contest(event, "stages")
        previous = (
            await Stage.select()
            .where(Stage.event == event_id)
            .order_by(Stage.position, ascending=False)
            .first()
        )
        _check_stage(data, previous)
        position = (previous["position"] + 1) if previous else 1
        stage = Stage(
            event=event_id, position=position, **{**structs.asdict(data), "level": data.level.value}
        )
        await stage.save()
        await audit.record(
            actor.id, "stage.create", "stage", stage.id, event_id=event_id, data={"level": data.level.value}
        )
    return _stage_out(await Stage.select().where(Stage.id == stage.id).first())


async def update_stage(actor: Principal, event_id: int, stage_id: int, data: StageIn) -> StageOut:
    async with transaction():
        await _editable_event(event_id)
        row = await Stage.select().where((Stage.id == stage_id) & (Stage.event == event_id)).first()
        if row is None:
            raise NotFound("Stage")
        previous = (
            await Stage.select()
            .where((Stage.event == event_id) & (Stage.position < row["position"]))
            .order_by(Stage.position, ascending=False)
            .first()
        )
        _check_stage(data, previous)
        following = (
            await Stage.select()
            .where((Stage.event == event_id) & (Stage.position > row["position"]))
            .order_by(Stage.position)
            .first()
        )
        if following is not None:
            _check_stage(
                StageIn(
                    level=StageLevel(following["level"]),
                    submission_deadline=following["submission_deadline"],
                    judging_deadline=following["judging_deadline"],
                ),
                {
                    "level": data.level.value,
                    **{k: getattr(data, k) for k in ("submission_deadline", "judging_deadline")},
                },
            )
        values = {**structs.asdict(data), "level": data.level.value}
        await Stage.update(values).where(Stage.id == stage_id)
        await audit.record(
            actor.id, "stage.update", "stage", stage_id, event_id=event_id, data=_jsonable(values)
        )
    return _stage_out(await Stage.select().where(Stage.id == stage_id).first())


async def delete_stage(actor: Principal, event_id: int, stage_id: int) -> None:
    async with transaction():
        event = await _editable_event(event_id)
        if event["status"] != EventStatus.draft.value:
            raise Conflict("event_published", "Stages can be removed only while the event is a draft")
        row = (
            await Stage.select(Stage.position)
            .where((Stage.id == stage_id) & (Stage.event == event_id))
            .first()
        )
        if row is None:
            raise NotFound("Stage")
        await Stage.delete().where(Stage.id == stage_id)
        # stage_event_position is checked row by row on both engines, so the followers move down
        # through negative positions (free by construction) instead of onto each other.
        await Stage.update({Stage.position: 1 - Stage.position}).where(
            (Stage.event == event_id) & (Stage.position > row["position"])
        )
        await Stage.update({Stage.position: 0 - Stage.position}).where(
            (Stage.event == event_id) & (Stage.position < 0)
        )
        await audit.record(actor.id, "stage.delete", "stage", stage_id, event_id=event_id)


# Sessions -------------------------------------------------------------------------------------


def _session_out(row: dict[str, Any]) -> SessionOut:
    return SessionOut(
        event_id=row["event"], **{f: row[f] for f in SessionOut.__struct_fields__ if f != "event_id"}
    )


def _check_session(event: dict[str, Any], data: SessionIn) -> None:
    if event["kind"] == EventKind.contest.value:
        raise Conflict("wrong_event_kind", "Sessions belong to forums, fairs and trainings")
    naive = FieldChecks()  # both times at once
    for name in ("starts_at", "ends_at"):
        if getattr(data, name).tzinfo is None:
            naive.add(
                "naive_datetime",
                "Give the time zone offset, e.g. 2026-05-01T09:00:00+08:00",
                name,
                "no time zone",
            )
    naive.raise_if_any()
    if data.ends_at <= data.starts_at:
        raise DomainError(
            "invalid_times", "The session ends before it starts", fields={"ends_at": "before starts_at"}
        )
    tz = ZoneInfo(event["time_zone"])
    first, last = data.starts_at.astimezone(tz).date(), data.ends_at.astimezone(tz).date()
    if first < event["starts_on"] or last > event["ends_on"]:
        raise DomainError(
            "outside_event_dates",
            "The session must fall within the event's dates ({starts_on} to {ends_on}, {time_zone})",
            fields={"starts_at": "outside event dates"},
            params={
                "starts_on": event["starts_on"],
                "ends_on": event["ends_on"],
                "time_zone": event["time_zone"],
            },
        )


async def list_sessions(event_id: int) -> list[SessionOut]:
    rows = (
        await EventSession.select()
        .where(EventSession.event == event_id)
        .order_by(EventSession.starts_at)
        .order_by(EventSession.id)
    )
    return [_session_out(r) for r in rows]


async def create_session(actor: Principal, event_id: int, data: SessionIn) -> SessionOut:
    async with transaction():
        event = await _editable_event(event_id)
        _check_session(event, data)
        session = EventSession(event=event_id, **structs.asdict(data))
        await session.save()
        await audit.record(actor.id, "session.create", "event_session", session.id, event_id=event_id)
    return _session_out(await EventSession.select().where(EventSession.id == session.id).first())


async def update_session(actor: Principal, event_id: int, session_id: int, data: SessionIn) -> SessionOut:
    async with transaction():
        event = await _editable_event(event_id)
        _check_session(event, data)
        updated = (
            await EventSession.update(structs.asdict(data))
            .where((EventSession.id == session_id) & (EventSession.event == event_id))
            .returning(EventSession.id)
        )
        if not updated:
            raise NotFound("Session")
        await audit.record(
            actor.id,
            "session.update",
            "event_session",
            session_id,
            event_id=event_id,
            data=_jsonable(structs.asdict(data)),
        )
    return _session_out(await EventSession.select().where(EventSession.id == session_id).first())


async def delete_session(actor: Principal, event_id: int, session_id: int) -> None:
    async with transaction():
        await _editable_event(event_id)
        deleted = (
            await EventSession.delete()
            .where((EventSession.id == session_id) & (EventSession.event == event_id))
            .returning(EventSession.id)
        )
        if not deleted:
            raise NotFound("Session")
        await audit.record(actor.id, "session.delete", "event_session", session_id, event_id=event_id)
