"""Teams: every change is one named function here, in one transaction, with its audit entry and
timeline line (``backend.teams.history.team_changed``), under the contest's rules
(``backend.teams.rules``, checked after the locks of :func:`backend.teams.rules.lock`).

- The leader creates the team (and holds its first seat); members join by an invitation mailed to
  their address, or ask with the team's join code and the leader approves; advisors are invited.
- A seat is held while invited or confirmed: invitations count against the team's size and the
  advisor's entries. The team is complete when the leader is there, the confirmed members are
  within the track's limits, no invitation is pending and the advisors are within theirs
  (:func:`refresh_status`, after every change). A change of members after an organizer's review
  drops the review (recorded), and the team is forming or complete again.
- Invitation links carry a token of which only the SHA-256 is stored (``TeamMember.token_hash``),
  valid for :data:`VALID_FOR`; an invitation past its date frees its seat (recorded as
  ``invitation_expired``) at the team's next change, when the invited person takes a seat elsewhere
  in the contest (:func:`_lock_seating`), or in the hourly job (``backend.teams.jobs``).
  Accepting: logged in, as the invited address; not logged in, an address without an account gives
  a name and password and the account is created (confirmed: the link proves the address) and kept,
  even when the rules then need the profile first (the invitation waits for the same link); an
  address with one must log in first.
- Withdrawal is final and frees every seat of the team.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Any

import msgspec

from backend import audit, policy, tasks
from backend.accounts import passwords
from backend.accounts.service import create_invited_user
from backend.accounts.tables import User
from backend.accounts.tokens import token_digest
from backend.db import locked_row, on_commit, transaction, utcnow
from backend.errors import Conflict, DomainError, NotFound
from backend.events.tables import Event, Track
from backend.policy import Action, Principal
from backend.settings import get_settings
from backend.teams import mail, rules
from backend.teams.access import team_access
from backend.teams.history import team_changed
from backend.teams.rules import RulesIn
from backend.teams.schemas import (
    ImportedTeam,
    JoinIn,
    LeaderIn,
    PastWinnerIn,
    PastWinnerOut,
    Requirement,
    RulesOut,
    SeatInviteIn,
    SeatOut,
    TeamAcceptIn,
    TeamDetailOut,
    TeamIn,
    TeamInvitationOut,
    TeamOut,
    TeamPatch,
    TimelineOut,
)
from backend.teams.tables import (
    ADVISOR_ROLES,
    HOLDS_SEAT,
    STUDENT_ROLES,
    JoinedVia,
    MemberRole,
    PastWinner,
    RegistrationRules,
    SeatState,
    Team,
    TeamEvent,
    TeamMember,
    TeamStatus,
)

VALID_FOR = dt.timedelta(days=14)
TOKEN_PREFIX = "tinv_"  # noqa: S105 - a marker, not a secret
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
LIVE = (SeatState.invited.value, SeatState.requested.value, SeatState.confirmed.value)

_SEAT_COLUMNS = (
    TeamMember.id,
    TeamMember.team,
    TeamMember.event,
    TeamMember.user,
    TeamMember.email,
    TeamMember.role,
    TeamMember.position,
    TeamMember.state,
    TeamMember.joined_via,
    TeamMember.locale,
    TeamMember.created_at,
    TeamMember.expires_at,
    TeamMember.confirmed_at,
    TeamMember.ended_at,
    TeamMember.user.display_name.as_alias("display_name"),
)
_USER_COLUMNS = (User.id, User.email, User.display_name, User.locale, User.email_confirmed_at)


# Locks ----------------------------------------------------------------------------------------


async def _lock(team_id: int, user_ids: list[int | None]) -> dict[str, Any]:
    """The team's row and the people's, locked (``rules.lock``); then the team's overdue invitations
    free their seats (recorded), so every change sees the seats that are really held."""
    team, _ = await rules.lock(team_id, user_ids)
    await _free_expired(team)
    return team


async def _lock_seating(
    team_id: int | None, event_id: int, people: dict[int, str]
) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]]]:
    """The locks of a change that seats ``people`` (user id: address) in the contest: the team's row
    and the rows of the teams where they hold an overdue invitation, by ascending id, then the
    people's (``rules.lock``'s order); then those teams free their overdue seats (recorded, status
    refreshed), so a lapsed invitation no longer blocks its person anywhere in the contest.
    Returns the team's row (``None`` without ``team_id``) and the people's."""
    teams = {team_id} if team_id is not None else set()
    if people:
        who = TeamMember.user.is_in(sorted(people)) | TeamMember.email.is_in(sorted(set(people.values())))
        overdue = await TeamMember.select(TeamMember.team).where(
            (TeamMember.event == event_id)
            & (TeamMember.state == SeatState.invited.value)
            & (TeamMember.expires_at <= utcnow())
            & who
        )
        teams |= {r["team"] for r in overdue}
    rows = [await locked_row(Team, t) for t in sorted(teams)]
    _, locked_people = await rules.lock(None, list(people))
    for row in rows:
        if row is not None:
            await _free_expired(row)
    return next((r for r in rows if r and r["id"] == team_id), None), locked_people


async def free_expired_invitations(team_id: int) -> None:
    """Free the team's overdue invitations under its lock (the hourly job; idempotent)."""
    async with transaction():
        await _lock(team_id, [])


async def _free_expired(team: dict[str, Any]) -> None:
    team_id = team["id"]
    now = utcnow()
    expired = (
        await TeamMember.update({TeamMember.state: SeatState.left.value, TeamMember.ended_at: now})
        .where(
            (TeamMember.team == team_id)
            & (TeamMember.state == SeatState.invited.value)
            & (TeamMember.expires_at <= now)
        )
        .returning(TeamMember.id, TeamMember.email)
    )
    for seat in expired:
        await team_changed(None, team, "invitation_expired", seat_id=seat["id"], email=seat["email"])
    if expired:
        await refresh_status(team_id, None, members_changed=True)


# Reading --------------------------------------------------------------------------------------


def _seat_out(row: dict[str, Any]) -> SeatOut:
    return SeatOut(
        id=row["id"],
        team_id=row["team"],
        user_id=row["user"],
        email=row["email"],
        display_name=row.get("display_name") or "",
        role=row["role"],
        position=row["position"],
        state=row["state"],
        joined_via=row["joined_via"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        confirmed_at=row["confirmed_at"],
    )


def _team_fields(row: dict[str, Any], *, show_code: bool) -> dict[str, Any]:
    return {
        "id": row["id"],
        "event_id": row["event"],
        "track_id": row["track"],
        "name": row["name"],
        "entry_title": row["entry_title"],
        "leader_id": row["leader"],
        "institution_id": row["institution"],
        "region": row["region"],
        "country": row["country"],
        "status": row["status"],
        "join_code": row["join_code"] if show_code else None,
        "created_at": row["created_at"],
        "completed_at": row["completed_at"],
        "withdrawn_at": row["withdrawn_at"],
    }


async def _team_row(team_id: int) -> dict[str, Any]:
    return await Team.select().where(Team.id == team_id).first()


async def _seat(seat_id: int, team_id: int | None = None) -> dict[str, Any]:
    where = TeamMember.id == seat_id
    if team_id is not None:
        where &= TeamMember.team == team_id
    row = await TeamMember.select(*_SEAT_COLUMNS).where(where).first()
    if row is None:
        raise NotFound("Seat")
    return row


async def _user(user_id: int) -> dict[str, Any]:
    return await User.select(*_USER_COLUMNS).where(User.id == user_id).first()


async def get_team(actor: Principal, team_id: int) -> TeamDetailOut:
    """The team with its live seats, what keeps it from being complete, and its timeline."""
    access = await team_access(actor, team_id, Action.view_team)
    manages = policy.decide(actor, Action.manage_team, access.event, team=access.team)
    seats = (
        await TeamMember.select(*_SEAT_COLUMNS)
        .where((TeamMember.team == team_id) & TeamMember.state.is_in(list(LIVE)))
        .order_by(TeamMember.id)
    )
    team_rules = await rules.rules_for(access.row["event"], access.row["track"])
    held = [s for s in seats if s["state"] in HOLDS_SEAT]
    unmet = rules.unmet(team_rules, held, access.row["leader"])
    timeline = (
        await TeamEvent.select(TeamEvent.kind, TeamEvent.actor, TeamEvent.data, TeamEvent.created_at)
        .where(TeamEvent.team == team_id)
        .order_by(TeamEvent.id)
    )
    mine = next((s for s in seats if s["user"] == actor.id), None)
    return TeamDetailOut(
        **_team_fields(access.row, show_code=manages is policy.Outcome.allowed),
        my_role=mine["role"] if mine else None,
        my_state=mine["state"] if mine else None,
        seats=[_seat_out(s) for s in seats],
        unmet=[Requirement(code, message, params) for code, message, params in unmet],
        timeline=[
            TimelineOut(
                kind=t["kind"],
                actor_id=t["actor"],
                data=rules.declared(t["data"]),
                created_at=t["created_at"],
            )
            for t in timeline
        ],
    )


async def my_teams(actor: Principal) -> list[TeamOut]:
    """The teams in which the caller holds a live seat (invited, asked to join, or in it)."""
    seats = await TeamMember.select(TeamMember.team, TeamMember.role, TeamMember.state).where(
        (TeamMember.user == actor.id) & TeamMember.state.is_in(list(LIVE))
    )
    if not seats:
        return []
    mine = {s["team"]: s for s in seats}
    rows = await Team.select().where(Team.id.is_in(sorted(mine))).order_by(Team.id)
    return [
        TeamOut(
            **_team_fields(r, show_code=r["leader"] == actor.id),
            my_role=mine[r["id"]]["role"],
            my_state=mine[r["id"]]["state"],
        )
        for r in rows
    ]


# Creating a team ------------------------------------------------------------------------------


def _code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _codes_exhausted() -> Conflict:
    return Conflict("conflict", "The change clashes with data written at the same time; reload and retry")


async def _new_code() -> str:
    """A join code no other team has (retried on the rare collision), for a team's new code."""
    for _ in range(10):
        code = _code()
        if not await Team.exists().where(Team.join_code == code):
            return code
    raise _codes_exhausted()


async def _insert_team(team: Team) -> dict[str, Any]:
    """Insert ``team`` with a new join code and return its row: the code's unique index finds the
    rare collision (the insert then writes nothing, and is tried again with another code)."""
    for _ in range(10):
        team.join_code = _code()
        rows = (
            await Team.insert(team)
            .on_conflict(target=Team.join_code, action="DO NOTHING")
            .returning(*Team.all_columns())
        )
        if rows:
            return rows[0]
    raise _codes_exhausted()


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "")


async def _event_for(actor: Principal, event_id: int, action: Action) -> dict[str, Any]:
    """The event as the rules read it (``id``, ``status``, ``organization``), once the policy
    allows ``action``."""
    context = await policy.event_context(actor, event_id)
    if context is None:
        raise NotFound("Event")
    policy.require(actor, action, context)
    return {"id": event_id, "status": context.status, "organization": context.organization_id}


async def _track_rules(event_id: int, track_id: int) -> tuple[rules.Rules, str]:
    """The rules in force in the track and the contest's kind; the track must be the event's."""
    found = await rules.track_rules(event_id, track_id)
    if found is None:
        raise DomainError(
            "unknown_track",
            "The referenced track is not part of this event",
            fields={"track_id": "is not a track of this event"},
        )
    return found


async def create_team(actor: Principal, event_id: int, data: TeamIn) -> TeamOut:
    """Register a team in a track of a contest; the caller becomes its leader."""
    async with transaction():
        event = await _event_for(actor, event_id, Action.register_team)
        team_rules, event["kind"] = await _track_rules(event_id, data.track_id)
        rules.check_registration_open(event, team_rules)
        rules.check_names(team_rules, data.name, data.entry_title)
        _, people = await _lock_seating(None, event_id, {actor.id: actor.email.lower()})
        user = people[actor.id]
        rules.require_confirmed_email(user)
        # One read of the profile for the eligibility rules and the default institution.
        profile = None
        if data.institution_id is None or rules.needs_profile(team_rules):
            profile = await rules.read_profile(actor.id)
        await rules.check_student(team_rules, event, data.track_id, user, profile=profile)
        institution_id = data.institution_id or (profile["institution"] if profile else None)
        institution = await rules.check_institution(team_rules, institution_id)
        row = await _insert_team(
            Team(
                event=event_id,
                track=data.track_id,
                name=data.name.strip(),
                entry_title=data.entry_title.strip(),
                leader=actor.id,
                institution=institution_id,
                region=institution["region"] if institution else "",
                country=institution["country"] if institution else "",
            )
        )
        seat = TeamMember(
            team=row["id"],
            event=event_id,
            track=data.track_id,
            user=actor.id,
            email=user["email"],
            role=MemberRole.leader.value,
            state=SeatState.confirmed.value,
            joined_via=JoinedVia.creation.value,
            locale=user["locale"],
            confirmed_at=utcnow(),
        )
        await seat.save()
        await team_changed(actor.id, row, "created", name=row["name"], track_id=data.track_id)
        seats = [{"id": seat.id, "role": seat.role, "position": 0, "state": seat.state, "user": actor.id}]
        status = await refresh_status(row["id"], actor.id, team=row, team_rules=team_rules, seats=seats)
        if status != row["status"]:
            row = await _team_row(row["id"])
    return TeamOut(**_team_fields(row, show_code=True), my_role=MemberRole.leader.value, my_state="confirmed")


# Status ---------------------------------------------------------------------------------------


async def refresh_status(
    team_id: int,
    actor_id: int | None = None,
    *,
    members_changed: bool = False,
    team: dict[str, Any] | None = None,
    team_rules: rules.Rules | None = None,
    seats: list[dict[str, Any]] | None = None,
    cause: str | None = None,
) -> str:
    """Recompute forming / complete after a change (in the caller's transaction, under its lock of
    the team). A review (approved, rejected) stands unless ``members_changed``: then it is dropped
    and recorded. A withdrawn team stays withdrawn. Mails the team when it becomes complete.
    A rejection does not stand where the rules no longer ask for approval (no one could review
    the team again). ``team`` (its current row), ``team_rules`` and ``seats`` (those held) spare the
    reads when the caller has them; ``cause`` goes into the timeline's lines (e.g. ``rules_changed``)."""
    async with transaction():
        team = team or await _team_row(team_id)
        status = team["status"]
        if status == TeamStatus.withdrawn.value:
            return status
        reviewed = status in (TeamStatus.approved.value, TeamStatus.rejected.value)
        if reviewed and not members_changed:
            if status == TeamStatus.approved.value:
                return status
            team_rules = team_rules or await rules.rules_for(team["event"], team["track"])
            if team_rules.approval_required:
                return status
        team_rules = team_rules or await rules.rules_for(team["event"], team["track"])
        seats = seats if seats is not None else await rules.held_seats(team_id)
        complete = not rules.unmet(team_rules, seats, team["leader"])
        new = TeamStatus.complete.value if complete else TeamStatus.forming.value
        why = {"cause": cause} if cause else {}
        if reviewed:
            await team_changed(actor_id, team, "review_dropped", previous=status, **why)
        if new == status:
            return status
        now = utcnow()
        changes: dict[Any, Any] = {Team.status: new, Team.updated_at: now}
        if complete:
            changes[Team.completed_at] = now
        await Team.update(changes).where(Team.id == team_id)
        if complete:
            await team_changed(actor_id, team, "completed", **why)
            await _mail_complete(team)
        elif status == TeamStatus.complete.value:
            await team_changed(actor_id, team, "incomplete", **why)
        return new


async def _mail_complete(team: dict[str, Any]) -> None:
    event = (
        await Event.select(Event.name_zh, Event.name_en, Event.name_ru)
        .where(Event.id == team["event"])
        .first()
    )
    people = await TeamMember.select(TeamMember.email, TeamMember.user.locale.as_alias("user_locale")).where(
        (TeamMember.team == team["id"]) & (TeamMember.state == SeatState.confirmed.value)
    )
    link = mail.team_link(get_settings().base_url, team["id"])
    for person in people:
        await mail.complete(
            person["email"], mail.locale_of(person["user_locale"]), team=team["name"], event=event, link=link
        )


# Invitations ----------------------------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def accept_path(token: str) -> str:
    return f"/team-invitations/{token}"


async def invite(actor: Principal, team_id: int, data: SeatInviteIn, base_url: str) -> SeatOut:
    """Invite an address to a member's or advisor's seat; the seat is held until answered."""
    email = data.email.strip().lower()
    async with transaction():
        access = await team_access(actor, team_id, Action.manage_team)
        account = await User.select(*_USER_COLUMNS).where(User.email == email).first()
        people = {account["id"]: email} if account else {}
        team, _ = await _lock_seating(team_id, access.row["event"], people)
        assert team is not None  # team_access found it, and teams are not deleted
        if data.role in ADVISOR_ROLES:
            await rules.lock_address(email)
        team_rules = await rules.rules_for(team["event"], team["track"])
        rules.check_changes_open(team, team_rules)
        seats = await rules.held_seats(team_id)
        rules.check_room(team_rules, seats, data.role)
        position = 0
        if data.role in ADVISOR_ROLES:
            position = data.position or rules.next_position(seats)
            if any(s["position"] == position for s in seats if s["role"] in ADVISOR_ROLES):
                raise DomainError(
                    "advisor_position_taken",
                    "Another advisor of the team has place {position}",
                    status_code=409,
                    fields={"position": "is taken"},
                    params={"position": position},
                )
            person = {"user": account["id"] if account else None, "email": email}
            await rules.check_advisor_entries(team_rules, team["event"], person, position)
        elif account is not None:
            await rules.check_other_teams(team_rules, team["event"], team["track"], account["id"])
        locale = mail.locale_of(data.locale, account["locale"] if account else None, actor.locale)
        seat_id = await _invite_seat(
            actor, team, email, data.role, position, locale, account["id"] if account else None, base_url
        )
        await team_changed(actor.id, team, "invited", seat_id=seat_id, email=email, role=data.role)
        await refresh_status(team_id, actor.id, members_changed=True, team_rules=team_rules)
        return _seat_out(await _seat(seat_id))


async def _invite_seat(
    actor: Principal,
    team: dict[str, Any],
    email: str,
    role: str,
    position: int,
    locale: str,
    user_id: int | None,
    base_url: str,
    joined_via: str = JoinedVia.invitation.value,
) -> int:
    """An invited seat and its mail (in the caller's transaction, after the checks); its id."""
    token, digest = _new_token()
    seat = TeamMember(
        team=team["id"],
        event=team["event"],
        track=team["track"],
        user=user_id,
        email=email,
        role=role,
        position=position,
        state=SeatState.invited.value,
        joined_via=joined_via,
        token_hash=digest,
        locale=locale,
        invited_by=actor.id,
        expires_at=utcnow() + VALID_FOR,
    )
    await seat.save()
    event = (
        await Event.select(Event.name_zh, Event.name_en, Event.name_ru)
        .where(Event.id == team["event"])
        .first()
    )
    await mail.invitation(
        email,
        locale,
        team=team["name"],
        event=event,
        role=role,
        inviter=actor.display_name or actor.email,
        days=VALID_FOR.days,
        link=base_url.rstrip("/") + accept_path(token),
    )
    return seat.id


def _digest(token: str) -> str | None:
    return token_digest(token) if token.startswith(TOKEN_PREFIX) and len(token) <= 200 else None


def invitation_status(seat: dict[str, Any], now: dt.datetime | None = None) -> str:
    """``pending``, ``expired``, ``accepted``, ``declined`` or ``revoked`` (removed or withdrawn)."""
    state = seat["state"]
    if state == SeatState.confirmed.value:
        return "accepted"
    if state == SeatState.declined.value:
        return "declined"
    if state != SeatState.invited.value:
        ended, expires = seat["ended_at"], seat["expires_at"]
        return "expired" if ended and expires and ended >= expires else "revoked"
    return "expired" if seat["expires_at"] <= (now or utcnow()) else "pending"


async def _invited_seat(token: str) -> dict[str, Any]:
    digest = _digest(token)
    found = digest and await TeamMember.select(TeamMember.id).where(TeamMember.token_hash == digest).first()
    if not found:
        raise NotFound("Invitation")
    return await _seat(found["id"])


async def view_invitation(token: str) -> TeamInvitationOut:
    """What an invitation link is about (the link is its holder's credential)."""
    seat = await _invited_seat(token)
    team = await _team_row(seat["team"])
    return TeamInvitationOut(
        status=invitation_status(seat),
        email=seat["email"],
        role=seat["role"],
        team_id=team["id"],
        team_name=team["name"],
        event_id=team["event"],
        has_account=await User.exists().where(User.email == seat["email"]),
    )


def _gone(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status_code=410)


def _require_pending(seat: dict[str, Any]) -> None:
    status = invitation_status(seat)
    if status in ("accepted", "declined"):
        raise _gone("invitation_used", "This invitation has already been answered")
    if status == "revoked":
        raise _gone("invitation_revoked", "The team withdrew this invitation")
    if status == "expired":
        raise _gone(
            "invitation_expired", "This invitation has expired; ask the team's leader to invite you again"
        )


def _require_holder(principal: Principal | None, seat: dict[str, Any]) -> None:
    if principal is not None and principal.email.lower() != seat["email"]:
        raise DomainError(
            "invitation_wrong_account",
            "This invitation is for another e-mail address; log out and open the link again",
            status_code=403,
        )


async def create_invited_account(token: str, data: TeamAcceptIn) -> int:
    """The account of an invited address that has none, created confirmed (the mailed link proves
    the address) and committed on its own: whatever the contest's rules then say of the person
    (a profile to complete first), the account stays and the invitation waits. Its id."""
    password = passwords.hash_password(data.password) if data.password else None
    async with transaction():
        seat = await _invited_seat(token)
        _require_pending(seat)
        team = await _team_row(seat["team"])
        rules.check_changes_open(team, await rules.rules_for(team["event"], team["track"]))
        return await create_invited_user(seat["email"], seat["locale"], data.display_name, password)


async def accept_invitation(
    principal: Principal | None, token: str, data: TeamAcceptIn | None = None
) -> SeatOut:
    """Take the seat of an invitation (see the module docstring for who may); a repeat by the
    same person gives the same answer. Without a login the account is created first
    (:func:`create_invited_account`) and kept even when the rules refuse the person for now."""
    user_id = principal.id if principal else await create_invited_account(token, data or TeamAcceptIn())
    async with transaction():
        found = await _invited_seat(token)
        _require_holder(principal, found)
        team, people = await _lock_seating(found["team"], found["event"], {user_id: found["email"]})
        assert team is not None
        seat = await _seat(found["id"])
        user = people[user_id]
        if seat["state"] == SeatState.confirmed.value and seat["user"] == user_id:
            return _seat_out(seat)
        _require_pending(seat)
        team_rules = await rules.rules_for(team["event"], team["track"])
        rules.check_changes_open(team, team_rules)
        if user["email_confirmed_at"] is None:  # the mailed link proves the address
            await User.update({User.email_confirmed_at: utcnow()}).where(User.id == user_id)
        event = await rules.event_row(team["event"])
        if seat["role"] in STUDENT_ROLES:
            await rules.check_student(team_rules, event, team["track"], user, exclude_seat=seat["id"])
        else:
            person = {"user": user_id, "email": seat["email"]}
            await rules.check_advisor_entries(
                team_rules, team["event"], person, seat["position"], exclude_seat=seat["id"]
            )
        await TeamMember.update(
            {
                TeamMember.user: user_id,
                TeamMember.state: SeatState.confirmed.value,
                TeamMember.confirmed_at: utcnow(),
            }
        ).where(TeamMember.id == seat["id"])
        if seat["role"] == MemberRole.leader.value:  # an imported team's leader, invited
            await Team.update({Team.leader: user_id}).where(Team.id == team["id"])
        await team_changed(user_id, team, "member_confirmed", seat_id=seat["id"], role=seat["role"])
        await refresh_status(team["id"], user_id, members_changed=True, team_rules=team_rules)
        return _seat_out(await _seat(seat["id"]))


async def invitation_profile_gaps(principal: Principal, token: str) -> list[str]:
    """The profile's fields that the contest's rules need of the invited student and the caller's
    profile lacks (empty for an advisor's seat): what to fill in before accepting."""
    seat = await _invited_seat(token)
    if seat["role"] not in STUDENT_ROLES:
        return []
    team = await _team_row(seat["team"])
    team_rules = await rules.rules_for(team["event"], team["track"])
    if not rules.needs_profile(team_rules):
        return []
    return rules.missing_profile(team_rules, await rules.read_profile(principal.id))


async def decline_invitation(principal: Principal | None, token: str) -> SeatOut:
    """Say no to an invitation: the seat is freed."""
    async with transaction():
        found = await _invited_seat(token)
        _require_holder(principal, found)
        team = await _lock(found["team"], [])
        seat = await _seat(found["id"])
        _require_pending(seat)
        await TeamMember.update(
            {TeamMember.state: SeatState.declined.value, TeamMember.ended_at: utcnow()}
        ).where(TeamMember.id == seat["id"])
        actor_id = principal.id if principal else None
        await team_changed(actor_id, team, "invitation_declined", seat_id=seat["id"], email=seat["email"])
        await refresh_status(team["id"], actor_id, members_changed=True)
        return _seat_out(await _seat(seat["id"]))


# Join codes -----------------------------------------------------------------------------------


async def join_by_code(actor: Principal, data: JoinIn) -> SeatOut:
    """Ask to join the team of a join code; the leader approves or refuses (and is mailed)."""
    async with transaction():
        # The team's row by its code, then the caller's: rules.lock's order.
        team, people = await rules.lock(None, [actor.id], join_code=normalize_code(data.code))
        if team is None:
            raise DomainError(
                "invalid_join_code", "No team has this join code", status_code=404, fields={"code": "unknown"}
            )
        event = await _event_for(actor, team["event"], Action.register_team)
        await _free_expired(team)
        team_rules, _ = await _track_rules(team["event"], team["track"])
        rules.check_changes_open(team, team_rules)
        user = people[actor.id]
        rules.require_confirmed_email(user)
        rules.check_room(team_rules, await rules.held_seats(team["id"]), MemberRole.member.value)
        await rules.check_student(team_rules, event, team["track"], user)
        (seat,) = await TeamMember.insert(
            TeamMember(
                team=team["id"],
                event=team["event"],
                track=team["track"],
                user=actor.id,
                email=user["email"],
                role=MemberRole.member.value,
                state=SeatState.requested.value,
                joined_via=JoinedVia.code.value,
                locale=user["locale"],
            )
        ).returning(*TeamMember.all_columns())
        await team_changed(actor.id, team, "join_requested", seat_id=seat["id"])
        leader = await _user(team["leader"]) if team["leader"] else None
        if leader is not None:
            await mail.join_request(
                leader["email"],
                mail.locale_of(leader["locale"]),
                team=team["name"],
                person=user["display_name"],
                email=user["email"],
                link=mail.team_link(get_settings().base_url, team["id"]),
            )
        return _seat_out({**seat, "display_name": user["display_name"]})


async def answer_request(actor: Principal, team_id: int, seat_id: int, approve: bool) -> SeatOut:
    """The leader approves (the person joins, if the rules still allow) or refuses a join request."""
    async with transaction():
        await team_access(actor, team_id, Action.manage_team)
        found = await _seat(seat_id, team_id)
        team, _ = await _lock_seating(team_id, found["event"], {found["user"]: found["email"]})
        assert team is not None
        seat = await _seat(seat_id, team_id)
        if seat["state"] != SeatState.requested.value:
            raise Conflict("seat_not_pending", "This request has already been answered")
        team_rules = await rules.rules_for(team["event"], team["track"])
        if approve:
            rules.check_changes_open(team, team_rules)
            rules.check_room(team_rules, await rules.held_seats(team_id), MemberRole.member.value)
            event = await rules.event_row(team["event"])
            await rules.check_student(team_rules, event, team["track"], await _user(seat["user"]))
            state, kind = SeatState.confirmed.value, "join_approved"
            changes = {TeamMember.state: state, TeamMember.confirmed_at: utcnow()}
        else:
            rules.check_not_withdrawn(team)
            state, kind = SeatState.refused.value, "join_refused"
            changes = {TeamMember.state: state, TeamMember.ended_at: utcnow()}
        await TeamMember.update(changes).where(TeamMember.id == seat_id)
        await team_changed(actor.id, team, kind, seat_id=seat_id, user_id=seat["user"])
        if approve:
            await refresh_status(team_id, actor.id, members_changed=True, team_rules=team_rules)
        return _seat_out(await _seat(seat_id))


async def rotate_code(actor: Principal, team_id: int) -> TeamOut:
    """A new join code; the old one stops working."""
    async with transaction():
        await team_access(actor, team_id, Action.manage_team)
        team = await _lock(team_id, [])
        rules.check_not_withdrawn(team)
        await Team.update({Team.join_code: await _new_code(), Team.updated_at: utcnow()}).where(
            Team.id == team_id
        )
        await team_changed(actor.id, team, "join_code_rotated")
        return TeamOut(**_team_fields(await _team_row(team_id), show_code=True))


# Leaving, removing, handing over, withdrawing, renaming -------------------------------------------


async def _end_seat(seat_id: int) -> None:
    await TeamMember.update({TeamMember.state: SeatState.left.value, TeamMember.ended_at: utcnow()}).where(
        TeamMember.id == seat_id
    )


def _leader_stays() -> Conflict:
    return Conflict(
        "leader_cannot_leave", "The leader cannot leave: hand over the leadership or withdraw the team"
    )


async def remove_seat(actor: Principal, team_id: int, seat_id: int) -> None:
    """Remove a member or advisor, revoke an invitation or drop a join request (the leader's own
    seat goes only with a hand-over)."""
    async with transaction():
        await team_access(actor, team_id, Action.manage_team)
        team = await _lock(team_id, [])
        seat = await _seat(seat_id, team_id)
        if seat["state"] not in LIVE:
            raise Conflict("seat_not_pending", "This seat is already free")
        if seat["role"] == MemberRole.leader.value:
            raise _leader_stays()
        rules.check_changes_open(team, await rules.rules_for(team["event"], team["track"]))
        await _end_seat(seat_id)
        await team_changed(
            actor.id, team, "seat_removed", seat_id=seat_id, email=seat["email"], role=seat["role"]
        )
        await refresh_status(team_id, actor.id, members_changed=True)


async def leave(actor: Principal, team_id: int) -> None:
    """Leave a team (members and advisors; the leader hands over first)."""
    async with transaction():
        await team_access(actor, team_id, Action.view_team)
        team = await _lock(team_id, [actor.id])
        seat = (
            await TeamMember.select(TeamMember.id, TeamMember.role)
            .where(
                (TeamMember.team == team_id)
                & (TeamMember.user == actor.id)
                & TeamMember.state.is_in(list(LIVE))
            )
            .first()
        )
        if seat is None:
            raise NotFound("Seat")
        if seat["role"] == MemberRole.leader.value:
            raise _leader_stays()
        rules.check_changes_open(team, await rules.rules_for(team["event"], team["track"]))
        await _end_seat(seat["id"])
        await team_changed(actor.id, team, "member_left", seat_id=seat["id"], role=seat["role"])
        await refresh_status(team_id, actor.id, members_changed=True)


async def hand_over(actor: Principal, team_id: int, data: LeaderIn) -> TeamOut:
    """Make a confirmed member the leader; the leader becomes a member."""
    async with transaction():
        access = await team_access(actor, team_id, Action.manage_team)
        team = await _lock(team_id, [access.row["leader"], data.user_id])
        rules.check_not_withdrawn(team)
        target = (
            await TeamMember.select(TeamMember.id)
            .where(
                (TeamMember.team == team_id)
                & (TeamMember.user == data.user_id)
                & (TeamMember.role == MemberRole.member.value)
                & (TeamMember.state == SeatState.confirmed.value)
            )
            .first()
        )
        if target is None:
            raise DomainError(
                "leader_must_be_member",
                "The new leader must be a confirmed member of the team",
                status_code=409,
                fields={"user_id": "is not a confirmed member"},
            )
        await TeamMember.update({TeamMember.role: MemberRole.member.value}).where(
            (TeamMember.team == team_id) & (TeamMember.role == MemberRole.leader.value)
        )
        await TeamMember.update({TeamMember.role: MemberRole.leader.value}).where(
            TeamMember.id == target["id"]
        )
        await Team.update({Team.leader: data.user_id, Team.updated_at: utcnow()}).where(Team.id == team_id)
        await team_changed(actor.id, team, "leader_changed", previous=team["leader"], leader=data.user_id)
        row = await _team_row(team_id)
    return TeamOut(**_team_fields(row, show_code=actor.id != team["leader"]))  # an organizer's call


async def withdraw(actor: Principal, team_id: int) -> TeamOut:
    """Withdraw the team from the contest: final; every seat is freed."""
    async with transaction():
        await team_access(actor, team_id, Action.manage_team)
        team = await _lock(team_id, [])
        rules.check_not_withdrawn(team)
        now = utcnow()
        await TeamMember.update({TeamMember.state: SeatState.left.value, TeamMember.ended_at: now}).where(
            (TeamMember.team == team_id) & TeamMember.state.is_in(list(LIVE))
        )
        await Team.update(
            {Team.status: TeamStatus.withdrawn.value, Team.withdrawn_at: now, Team.updated_at: now}
        ).where(Team.id == team_id)
        await team_changed(actor.id, team, "withdrawn", previous=team["status"])
        row = await _team_row(team_id)
    return TeamOut(**_team_fields(row, show_code=False))


async def update_team(actor: Principal, team_id: int, data: TeamPatch) -> TeamOut:
    """Rename the team or its entry, within the contest's limits."""
    async with transaction():
        await team_access(actor, team_id, Action.manage_team)
        team = await _lock(team_id, [])
        rules.check_not_withdrawn(team)
        team_rules = await rules.rules_for(team["event"], team["track"])
        name = data.name.strip() if isinstance(data.name, str) else None
        title = data.entry_title.strip() if isinstance(data.entry_title, str) else None
        rules.check_names(team_rules, name, title)
        changes: dict[Any, Any] = {Team.updated_at: utcnow()}
        if name is not None:
            changes[Team.name] = name
        if title is not None:
            changes[Team.entry_title] = title
        await Team.update(changes).where(Team.id == team_id)
        await team_changed(actor.id, team, "renamed", name=name, entry_title=title)
        row = await _team_row(team_id)
    return TeamOut(**_team_fields(row, show_code=True))


# The contests' rules and the organizations' past winners ------------------------------------------


async def get_rules(event_id: int, track_id: int | None) -> RulesOut:
    """What the contest (or the track) declares and, for a track, the rules in force there."""
    if track_id is not None:
        await _track_of(event_id, track_id)
    return RulesOut(
        event_id=event_id,
        track_id=track_id,
        declared=await rules.declared_rules(event_id, track_id),
        effective=await rules.rules_for(event_id, track_id) if track_id is not None else None,
    )


async def _track_of(event_id: int, track_id: int) -> None:
    if not await Track.exists().where((Track.id == track_id) & (Track.event == event_id)):
        raise NotFound("Track")


async def set_rules(actor: Principal, event_id: int, track_id: int | None, data: RulesIn) -> RulesOut:
    """Replace the rules the contest (or the track) declares; keys left out fall back to the
    contest's (for a track) or the defaults."""
    declared = msgspec.to_builtins(data)
    async with transaction():
        await locked_row(Event, event_id)
        if track_id is not None:
            await _track_of(event_id, track_id)
        contest = {} if track_id is None else await rules.declared_rules(event_id, None)
        window = {**contest, **declared}
        opens, closes = window.get("registration_opens_at"), window.get("registration_closes_at")
        if opens and closes and dt.datetime.fromisoformat(opens) >= dt.datetime.fromisoformat(closes):
            raise DomainError(
                "invalid_deadlines",
                "Registration must open before it closes",
                fields={"registration_closes_at": "must be after the opening"},
            )
        scope = RegistrationRules.track.is_null() if track_id is None else RegistrationRules.track == track_id
        where = (RegistrationRules.event == event_id) & scope
        text = msgspec.json.encode(declared).decode()
        if await RegistrationRules.exists().where(where):
            await RegistrationRules.update(
                {RegistrationRules.rules: text, RegistrationRules.updated_at: utcnow()}
            ).where(where)
        else:
            await RegistrationRules(event=event_id, track=track_id, rules=text).save()
        await audit.record(
            actor.id,
            "registration_rules.set",
            "track" if track_id is not None else "event",
            track_id or event_id,
            event_id=event_id,
            data=declared,
        )
        on_commit(functools.partial(tasks.enqueue, "refresh_team_statuses", event_id, track_id))
    return await get_rules(event_id, track_id)


async def refresh_for_rules(team_id: int) -> str:
    """Recompute a team's status under its lock after its contest's rules changed (the job of
    :func:`set_rules`; idempotent: an unchanged status writes nothing)."""
    async with transaction():
        await _lock(team_id, [])  # may free overdue invitations and refresh the status itself
        return await refresh_status(team_id, None, cause="rules_changed")


def _winner_out(row: dict[str, Any]) -> PastWinnerOut:
    return PastWinnerOut(
        id=row["id"],
        organization_id=row["organization"],
        email=row["email"],
        user_id=row["user"],
        name=row["name"],
        edition=row["edition"],
        prize=row["prize"],
        created_at=row["created_at"],
    )


async def list_winners(organization_id: int) -> list[PastWinnerOut]:
    rows = await PastWinner.select().where(PastWinner.organization == organization_id).order_by(PastWinner.id)
    return [_winner_out(r) for r in rows]


async def add_winner(actor: Principal, organization_id: int, data: PastWinnerIn) -> PastWinnerOut:
    """Record a past prize of a person (by e-mail, and the account when there is one)."""
    email = data.email.strip().lower()
    async with transaction():
        account = await User.select(User.id).where(User.email == email).first()
        row = PastWinner(
            organization=organization_id,
            email=email,
            user=account["id"] if account else None,
            name=data.name.strip(),
            edition=data.edition.strip(),
            prize=data.prize,
        )
        await row.save()
        await audit.record(
            actor.id,
            "past_winner.add",
            "past_winner",
            row.id,
            data={"organization": organization_id, "prize": data.prize},
        )
        stored = await PastWinner.select().where(PastWinner.id == row.id).first()
    return _winner_out(stored)


# Organizers' bulk import ----------------------------------------------------------------------


async def import_team(actor: Principal, event_id: int, row: ImportedTeam) -> int:
    """Create one imported team inside the caller's transaction (the caller checked the organizer's
    scope) under the contest's rules: people with an account take their seats confirmed, the others
    are invited by e-mail (an invited leader becomes the leader on accepting). Returns its id."""
    leader_email = row.leader_email.strip().lower()
    members = [e.strip().lower() for e in row.member_emails]
    advisors = [(e.strip().lower(), role) for e, role in row.advisors]
    emails = [leader_email, *members, *(e for e, _ in advisors)]
    async with transaction():
        event = await rules.event_row(event_id)
        if event is None:
            raise NotFound("Event")
        team_rules, _ = await _track_rules(event_id, row.track_id)
        rules.check_names(team_rules, row.name, row.entry_title)
        accounts = {
            a["email"]: a
            for a in await User.select(*_USER_COLUMNS).where(User.email.is_in(sorted(set(emails))))
        }
        await rules.lock(None, [a["id"] for a in accounts.values()])
        for address in sorted({e for e, _ in advisors}):
            await rules.lock_address(address)
        institution = await rules.check_institution(team_rules, row.institution_id)
        leader = accounts.get(leader_email)
        team_row = await _insert_team(
            Team(
                event=event_id,
                track=row.track_id,
                name=row.name.strip(),
                entry_title=row.entry_title.strip(),
                leader=leader["id"] if leader else None,
                institution=row.institution_id,
                region=institution["region"] if institution else "",
                country=institution["country"] if institution else "",
            )
        )
        team_id = team_row["id"]
        await team_changed(actor.id, team_row, "imported", name=team_row["name"], track_id=row.track_id)
        base_url = get_settings().base_url
        places = [(leader_email, MemberRole.leader.value, 0)] + [
            (e, MemberRole.member.value, 0) for e in members
        ]
        places += [(e, role, n) for n, (e, role) in enumerate(advisors, start=1)]
        for email, role, position in places:
            seats = await rules.held_seats(team_id)
            rules.check_room(team_rules, seats, role)
            account = accounts.get(email)
            if role in ADVISOR_ROLES:
                person = {"user": account["id"] if account else None, "email": email}
                await rules.check_advisor_entries(team_rules, event_id, person, position)
            elif account is not None:
                await rules.check_student(team_rules, event, row.track_id, account)
            if account is None:
                locale = mail.locale_of(row.locale)
                await _invite_seat(
                    actor, team_row, email, role, position, locale, None, base_url, JoinedVia.import_.value
                )
                continue
            await TeamMember(
                team=team_id,
                event=event_id,
                track=row.track_id,
                user=account["id"],
                email=email,
                role=role,
                position=position,
                state=SeatState.confirmed.value,
                joined_via=JoinedVia.import_.value,
                locale=account["locale"],
                confirmed_at=utcnow(),
            ).save()
        await refresh_status(team_id, actor.id)
    return team_id
