"""The organizers' back office for registrations: teams of an event listed, filtered, searched and
counted inside the caller's organizer scopes, and reviewed (approved or rejected) where the contest
requires approval.

A scoped admin's list is one SQL filter built from its grants (:func:`scope_filter`): a school admin
sees only teams of its institution, a provincial admin its region's, a track admin its track's.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from piccolo.columns.combination import Combinable
from piccolo.query.functions.aggregate import Count

from backend import policy, signals
from backend.accounts.tables import Profile, User
from backend.db import locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError, NotFound, Term
from backend.events.tables import Event
from backend.mail.service import queue_email
from backend.policy import Action, Principal
from backend.schemas import column_text, contains
from backend.teams import mail, service
from backend.teams.access import team_access
from backend.teams.history import team_changed
from backend.teams.rules import declared, rules_for
from backend.teams.tables import (
    HOLDS_SEAT,
    STUDENT_ROLES,
    Material,
    SeatState,
    Team,
    TeamEvent,
    TeamMember,
    TeamStatus,
)

# Statuses of a team whose registration is complete (everyone confirmed, every rule holds).
COMPLETE = (TeamStatus.complete.value, TeamStatus.approved.value, TeamStatus.rejected.value)
# What each decision may follow: a complete team is approved or rejected, and an organizer may
# change their mind while the team stays complete.
REVIEWABLE = {
    "approve": (TeamStatus.complete.value, TeamStatus.rejected.value),
    "reject": (TeamStatus.complete.value, TeamStatus.approved.value),
}
DECIDED = {"approve": TeamStatus.approved.value, "reject": TeamStatus.rejected.value}


class TeamFilter(msgspec.Struct, frozen=True):
    """What the organizer narrows the list to (every part optional)."""

    track_id: int | None = None
    institution_id: int | None = None
    region: str | None = None
    country: str | None = None
    status: TeamStatus | None = None
    complete: bool | None = None
    q: str | None = None  # team name, entry title, a member's name or e-mail


class PersonOut(msgspec.Struct):
    user_id: int | None
    email: str
    display_name: str
    name_native: str
    name_latin: str


class TeamSummaryOut(msgspec.Struct):
    id: int
    event_id: int
    track_id: int
    track_code: str
    name: str
    entry_title: str
    institution_id: int | None
    institution_name: str
    region: str
    country: str
    status: str
    complete: bool
    leader: PersonOut | None
    members_confirmed: int  # students (leader included) who confirmed
    seats_pending: int  # invitations not yet answered (members and advisors)
    review_note: str
    reviewed_at: Any
    created_at: Any
    completed_at: Any


class CountOut(msgspec.Struct):
    key: str  # the institution's id, the region or the status
    label: str
    count: int


class TeamCountsOut(msgspec.Struct):
    total: int
    by_status: list[CountOut]
    by_institution: list[CountOut]
    by_region: list[CountOut]


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["approve", "reject"]
    note: column_text(Team.review_note) = ""


class SeatOut(msgspec.Struct):
    id: int
    role: str
    position: int
    state: str
    person: PersonOut
    confirmed_at: Any


class TimelineOut(msgspec.Struct):
    kind: str
    actor: str
    data: dict[str, Any]
    created_at: Any


class MaterialOut(msgspec.Struct):
    id: int
    stage_id: int
    kind: str
    version: int
    file_name: str
    url: str  # the file's address, or the video link; empty for a summary
    created_at: Any


class TeamRecordOut(msgspec.Struct):
    """A team as its reviewer sees it: seats with their confirmation state, timeline, materials."""

    team: TeamSummaryOut
    seats: list[SeatOut]
    timeline: list[TimelineOut]
    materials: list[MaterialOut]
    approval_required: bool


# Scope and filters ----------------------------------------------------------------------------


async def organizer_context(principal: Principal, event_id: int, action: Action) -> policy.EventContext:
    """The event's context, once the policy allows ``action`` somewhere in it."""
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    policy.require(principal, action, context)
    return context


def scope_filter(principal: Principal, context: policy.EventContext) -> Combinable | None:
    """The teams the caller's organizer grants cover, as a WHERE clause (``None``: every team): an
    OR over the grants of an AND over each grant's set dimensions (track, region, institution)."""
    if principal.is_platform_admin:
        return None
    alternatives = []
    for scope in context.organizer_scopes():
        if scope.is_whole_event:
            return None
        parts = []
        if scope.track_id is not None:
            parts.append(Team.track == scope.track_id)
        if scope.region is not None:
            parts.append(Team.region == scope.region)
        if scope.institution_id is not None:
            parts.append(Team.institution == scope.institution_id)
        alternatives.append(functools.reduce(operator.and_, parts))
    if not alternatives:
        return Team.id < 0  # no grant: nothing (the policy refuses before this)
    return functools.reduce(operator.or_, alternatives)


def _search(q: str) -> Combinable:
    users = User.select(User.id).where(contains(q, User.display_name, User.email))
    profiles = Profile.select(Profile.user).where(contains(q, Profile.name_native, Profile.name_latin))
    seats = TeamMember.select(TeamMember.team).where(
        contains(q, TeamMember.email) | TeamMember.user.is_in(users) | TeamMember.user.is_in(profiles)
    )
    return contains(q, Team.name, Team.entry_title) | Team.id.is_in(seats)


def team_where(principal: Principal, context: policy.EventContext, filters: TeamFilter) -> Combinable:
    """The event's teams inside the caller's scope that match ``filters``."""
    where: Combinable = Team.event == context.event_id
    scoped = scope_filter(principal, context)
    if scoped is not None:
        where = where & scoped
    if filters.track_id is not None:
        where = where & (Team.track == filters.track_id)
    if filters.institution_id is not None:
        where = where & (Team.institution == filters.institution_id)
    if filters.region:
        where = where & (Team.region == filters.region)
    if filters.country:
        where = where & (Team.country == filters.country.upper())
    if filters.status is not None:
        where = where & (Team.status == filters.status.value)
    if filters.complete is not None:
        where = where & (
            Team.status.is_in(list(COMPLETE)) if filters.complete else Team.status.not_in(list(COMPLETE))
        )
    if filters.q and filters.q.strip():
        where = where & _search(filters.q.strip())
    return where


# Lists and counts -----------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    Team.id,
    Team.event,
    Team.track,
    Team.track.code.as_alias("track_code"),
    Team.name,
    Team.entry_title,
    Team.institution,
    Team.institution.name_zh.as_alias("institution_zh"),
    Team.institution.name_en.as_alias("institution_en"),
    Team.region,
    Team.country,
    Team.status,
    Team.leader,
    Team.review_note,
    Team.reviewed_at,
    Team.created_at,
    Team.completed_at,
)


def institution_name(row: dict[str, Any], locale: str = "en") -> str:
    zh, en = row.get("institution_zh") or "", row.get("institution_en") or ""
    return (zh or en) if locale == "zh" else (en or zh)


async def people(user_ids: set[int]) -> dict[int, PersonOut]:
    """Names and e-mails of these accounts (native and Latin names from their profiles)."""
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.email, User.display_name).where(User.id.is_in(list(user_ids)))
    profiles = await Profile.select(Profile.user, Profile.name_native, Profile.name_latin).where(
        Profile.user.is_in(list(user_ids))
    )
    names = {p["user"]: p for p in profiles}
    return {
        r["id"]: PersonOut(
            user_id=r["id"],
            email=r["email"],
            display_name=r["display_name"],
            name_native=names.get(r["id"], {}).get("name_native", ""),
            name_latin=names.get(r["id"], {}).get("name_latin", ""),
        )
        for r in rows
    }


async def _summaries(rows: list[dict[str, Any]], locale: str) -> list[TeamSummaryOut]:
    ids = [r["id"] for r in rows]
    confirmed: dict[int, int] = {}
    pending: dict[int, int] = {}
    if ids:
        counts = (
            await TeamMember.select(TeamMember.team, TeamMember.state, TeamMember.role, Count())
            .where(TeamMember.team.is_in(ids) & TeamMember.state.is_in(list(HOLDS_SEAT)))
            .group_by(TeamMember.team, TeamMember.state, TeamMember.role)
        )
        for c in counts:
            if c["state"] == SeatState.invited.value:
                pending[c["team"]] = pending.get(c["team"], 0) + c["count"]
            elif c["role"] in STUDENT_ROLES:
                confirmed[c["team"]] = confirmed.get(c["team"], 0) + c["count"]
    leaders = await people({r["leader"] for r in rows if r["leader"] is not None})
    return [
        TeamSummaryOut(
            id=r["id"],
            event_id=r["event"],
            track_id=r["track"],
            track_code=r["track_code"] or "",
            name=r["name"],
            entry_title=r["entry_title"],
            institution_id=r["institution"],
            institution_name=institution_name(r, locale),
            region=r["region"],
            country=r["country"],
            status=r["status"],
            complete=r["status"] in COMPLETE,
            leader=leaders.get(r["leader"]),
            members_confirmed=confirmed.get(r["id"], 0),
            seats_pending=pending.get(r["id"], 0),
            review_note=r["review_note"],
            reviewed_at=r["reviewed_at"],
            created_at=r["created_at"],
            completed_at=r["completed_at"],
        )
        for r in rows
    ]


async def list_teams(
    principal: Principal, event_id: int, filters: TeamFilter, limit: int, offset: int, locale: str = "en"
) -> tuple[list[TeamSummaryOut], int]:
    """One page of the event's teams inside the caller's scope, oldest first, and their number."""
    context = await organizer_context(principal, event_id, Action.view_teams)
    where = team_where(principal, context, filters)
    rows = await Team.select(*_SUMMARY_COLUMNS).where(where).order_by(Team.id).limit(limit).offset(offset)
    return await _summaries(rows, locale), await Team.count().where(where)


async def count_teams(
    principal: Principal, event_id: int, filters: TeamFilter, locale: str = "en"
) -> TeamCountsOut:
    """How many teams of the list there are, per status, per institution and per region."""
    context = await organizer_context(principal, event_id, Action.view_teams)
    where = team_where(principal, context, filters)
    statuses = await Team.select(Team.status, Count()).where(where).group_by(Team.status)
    institutions = (
        await Team.select(
            Team.institution,
            Team.institution.name_zh.as_alias("institution_zh"),
            Team.institution.name_en.as_alias("institution_en"),
            Count(),
        )
        .where(where)
        .group_by(Team.institution, Team.institution.name_zh, Team.institution.name_en)
    )
    regions = await Team.select(Team.region, Count()).where(where).group_by(Team.region)

    def ranked(items: list[CountOut]) -> list[CountOut]:
        return sorted(items, key=lambda c: (-c.count, c.label))

    return TeamCountsOut(
        total=sum(s["count"] for s in statuses),
        by_status=ranked([CountOut(s["status"], s["status"], s["count"]) for s in statuses]),
        by_institution=ranked(
            [
                CountOut(str(i["institution"] or ""), institution_name(i, locale), i["count"])
                for i in institutions
            ]
        ),
        by_region=ranked([CountOut(r["region"], r["region"], r["count"]) for r in regions]),
    )


# One team -------------------------------------------------------------------------------------


async def approval_required(event_id: int, track_id: int) -> bool:
    """Whether the contest (or this track, overriding it) requires organizers to approve teams."""
    return (await rules_for(event_id, track_id)).approval_required


async def _summary(team_id: int, locale: str) -> TeamSummaryOut:
    rows = await Team.select(*_SUMMARY_COLUMNS).where(Team.id == team_id)
    return (await _summaries(rows, locale))[0]


async def team_record(principal: Principal, team_id: int, locale: str = "en") -> TeamRecordOut:
    """The team with its seats, timeline and materials, for an organizer whose scope covers it."""
    access = await team_access(principal, team_id, Action.review_team)
    seats = (
        await TeamMember.select(
            TeamMember.id,
            TeamMember.user,
            TeamMember.email,
            TeamMember.role,
            TeamMember.position,
            TeamMember.state,
            TeamMember.confirmed_at,
        )
        .where(TeamMember.team == team_id)
        .order_by(TeamMember.id)
    )
    timeline = await TeamEvent.select().where(TeamEvent.team == team_id).order_by(TeamEvent.id)
    known = await people(
        {s["user"] for s in seats if s["user"]} | {e["actor"] for e in timeline if e["actor"]}
    )
    materials = await Material.select().where(Material.team == team_id).order_by(Material.id)

    def person(user_id: int | None, email: str) -> PersonOut:
        return (known.get(user_id) if user_id else None) or PersonOut(None, email, "", "", "")

    return TeamRecordOut(
        team=await _summary(team_id, locale),
        seats=[
            SeatOut(
                s["id"],
                s["role"],
                s["position"],
                s["state"],
                person(s["user"], s["email"]),
                s["confirmed_at"],
            )
            for s in seats
        ],
        timeline=[
            TimelineOut(
                e["kind"],
                (known[e["actor"]].display_name or known[e["actor"]].email) if e["actor"] in known else "",
                declared(e["data"]),
                e["created_at"],
            )
            for e in timeline
        ],
        materials=[
            MaterialOut(
                m["id"],
                m["stage"],
                m["kind"],
                m["version"],
                m["file_name"],
                f"/api/v1/materials/{m['id']}/file"
                if m["storage_key"]
                else m["text"]
                if m["kind"] == "video_link"
                else "",
                m["created_at"],
            )
            for m in materials
        ],
        approval_required=await approval_required(access.row["event"], access.row["track"]),
    )


# Review ---------------------------------------------------------------------------------------

_SUBJECT = {
    "approve": {
        "zh": "「{team}」的报名已通过审核：{event}",
        "en": "Your team {team} is approved for {event}",
        "ru": "Команда «{team}» допущена: {event}",
    },
    "reject": {
        "zh": "「{team}」的报名未通过审核：{event}",
        "en": "Your team {team} was not approved for {event}",
        "ru": "Команда «{team}» не допущена: {event}",
    },
}
_BODY = {
    "approve": {
        "zh": "您好：\n\n您的团队「{team}」在「{event}」的报名已通过组织者审核。\n{note}\n{link}\n",
        "en": "Hello,\n\nThe organizers of {event} approved the registration of your team {team}.\n{note}\n{link}\n",
        "ru": "Здравствуйте!\n\nОрганизаторы «{event}» одобрили регистрацию вашей команды «{team}».\n{note}\n{link}\n",
    },
    "reject": {
        "zh": (
            "您好：\n\n您的团队「{team}」在「{event}」的报名未通过组织者审核。\n原因：{note}\n\n"
            "队长可以修改报名后再次提交：\n{link}\n"
        ),
        "en": (
            "Hello,\n\nThe organizers of {event} did not approve the registration of your team {team}.\n"
            "Reason: {note}\n\nThe team's leader can correct the registration and submit it again:\n{link}\n"
        ),
        "ru": (
            "Здравствуйте!\n\nОрганизаторы «{event}» не одобрили регистрацию вашей команды «{team}».\n"
            "Причина: {note}\n\nКапитан команды может исправить регистрацию и подать её снова:\n{link}\n"
        ),
    },
}


async def _mail_team(team: dict[str, Any], decision: str, note: str, base_url: str) -> None:
    """Tell every confirmed member and advisor, each in their own language (in the transaction)."""
    event = (
        await Event.select(Event.name_zh, Event.name_en, Event.name_ru)
        .where(Event.id == team["event"])
        .first()
    )
    seats = await TeamMember.select(
        TeamMember.email, TeamMember.locale, TeamMember.user.locale.as_alias("user_locale")
    ).where((TeamMember.team == team["id"]) & (TeamMember.state == SeatState.confirmed.value))
    for seat in seats:
        locale = mail.locale_of(seat["user_locale"], seat["locale"])
        values = {
            "team": team["name"],
            "event": mail.event_name(event or {}, locale),
            "note": note,
            "link": mail.team_link(base_url, team["id"]),
        }
        await queue_email(
            seat["email"],
            _SUBJECT[decision][locale].format(**values),
            _BODY[decision][locale].format(**values),
        )


def team_status_term(status: str) -> Term:
    return Term(status, "team status")


@dataclass(frozen=True)
class _Refusal:
    code: str
    detail: str


_NOT_NOW = {
    "approve": _Refusal("team_not_complete", "Only a complete team can be approved; this team is {status}"),
    "reject": _Refusal(
        "team_not_reviewable", "Only a complete or approved team can be rejected; this team is {status}"
    ),
}


async def review_team(
    actor: Principal, team_id: int, data: ReviewIn, base_url: str, locale: str = "en"
) -> TeamSummaryOut:
    """Approve or reject a complete team (a rejection needs a note), where the contest requires
    approval; audited, and mailed to the team."""
    await team_access(actor, team_id, Action.review_team)
    note = data.note.strip()
    if data.decision == "reject" and not note:
        raise DomainError("review_note_required", "Say why the team is rejected", fields={"note": "required"})
    async with transaction():
        row = await locked_row(Team, team_id)
        if row is None:
            raise NotFound("Team")
        row["status"] = await service.refresh_status(team_id, actor.id)
        if not await approval_required(row["event"], row["track"]):
            raise Conflict("approval_not_required", "This contest does not ask organizers to approve teams")
        if row["status"] == DECIDED[data.decision]:
            raise Conflict(
                "team_already_reviewed",
                "The team is already {status}",
                params={"status": team_status_term(row["status"])},
            )
        if row["status"] not in REVIEWABLE[data.decision]:
            refusal = _NOT_NOW[data.decision]
            raise Conflict(refusal.code, refusal.detail, params={"status": team_status_term(row["status"])})
        now = utcnow()
        status = DECIDED[data.decision]
        await Team.update(
            {
                Team.status: status,
                Team.review_note: note,
                Team.reviewed_by: actor.id,
                Team.reviewed_at: now,
                Team.updated_at: now,
            }
        ).where(Team.id == team_id)
        await team_changed(actor.id, row, status, note=note, previous=row["status"])
        await _mail_team(row, data.decision, note, base_url)
        if status == TeamStatus.approved.value:
            signals.after_commit("team_approved", event_id=row["event"], team_id=team_id)
    return await _summary(team_id, locale)
