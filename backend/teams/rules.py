"""A contest's registration rules and every check of them, in one place.

The rules are declared per contest (``RegistrationRules`` with no track) and overridden per track (a
row for the track: only the keys it sets); team size and advisor limits are the track's own columns.
:func:`rules_for` merges the three into one :class:`Rules`.

The checks that span rows (seats in a team, a person's teams, an advisor's entries) run inside the
transaction that makes the change, after :func:`lock` has taken the team's row and then the people's
rows by ascending id: two requests racing for the last seat or an advisor's last entry queue on the
same row, and the second sees the first's seat. Each refusal has a stable code, the rule's limit in
``params`` and an English message id that the reader's language translates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from backend.accounts.tables import Profile, StudyStatus, User
from backend.db import engine, locked_row, utcnow
from backend.errors import Conflict, DomainError, FieldChecks
from backend.events.tables import Event, EventKind, EventStatus
from backend.institutions.tables import Institution, InstitutionKind
from backend.schemas import Struct
from backend.teams.tables import (
    ADVISOR_ROLES,
    HOLDS_SEAT,
    STUDENT_ROLES,
    PastWinner,
    RegistrationRules,
    SeatState,
    Team,
    TeamMember,
    TeamStatus,
)

Count = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Length = Annotated[int, msgspec.Meta(ge=1, le=100)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Prize = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
TeamsPerPerson = Literal["one_per_track", "one_regular_one_practical", "one_per_contest"]
TrackCategory = Literal["regular", "practical"]
UNREAD: Any = object()  # a profile the caller has not read (check_eligible reads it)


class RulesIn(Struct, kw_only=True):
    """The rules an organizer declares (for a contest, or a track's overrides): each key is optional
    and a track's row only holds the keys it overrides."""

    team_name_max: Length | msgspec.UnsetType = msgspec.UNSET
    entry_title_max: Length | msgspec.UnsetType = msgspec.UNSET
    registration_opens_at: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    registration_closes_at: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    member_changes_lock_at: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    teams_per_person: TeamsPerPerson | msgspec.UnsetType = msgspec.UNSET
    track_category: TrackCategory | msgspec.UnsetType = msgspec.UNSET
    first_advisor_entries_max: Count | msgspec.UnsetType | None = msgspec.UNSET
    age_max: Annotated[int, msgspec.Meta(ge=10, le=120)] | msgspec.UnsetType | None = msgspec.UNSET
    age_reference_date: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    statuses: Annotated[list[StudyStatus], msgspec.Meta(max_length=5)] | msgspec.UnsetType = msgspec.UNSET
    graduated_within_years: Annotated[int, msgspec.Meta(ge=0, le=50)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    countries: Annotated[list[Country], msgspec.Meta(max_length=300)] | msgspec.UnsetType = msgspec.UNSET
    institution_kinds: Annotated[list[InstitutionKind], msgspec.Meta(max_length=5)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    exclude_past_prizes: Annotated[list[Prize], msgspec.Meta(max_length=20)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    approval_required: bool | msgspec.UnsetType = msgspec.UNSET
    reminder_days: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=90)]], msgspec.Meta(max_length=10)] | (
        msgspec.UnsetType
    ) = msgspec.UNSET


class Rules(msgspec.Struct, kw_only=True):
    """The rules in force in one track: the contest's, the track's overrides and the track's columns.
    Empty lists and ``None`` mean "no such rule"."""

    team_name_max: int = 16
    entry_title_max: int = 30
    registration_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    member_changes_lock_at: dt.datetime | None = None  # unset: the registration deadline
    teams_per_person: TeamsPerPerson = "one_per_track"
    track_category: TrackCategory = "regular"
    first_advisor_entries_max: int | None = 2
    age_max: int | None = None
    age_reference_date: dt.date | None = None  # unset: the day of the check
    statuses: list[str] = msgspec.field(default_factory=list)
    graduated_within_years: int | None = None
    countries: list[str] = msgspec.field(default_factory=list)
    institution_kinds: list[str] = msgspec.field(default_factory=list)
    exclude_past_prizes: list[str] = msgspec.field(default_factory=list)
    approval_required: bool = False
    reminder_days: list[int] = msgspec.field(default_factory=lambda: [7, 3, 1])  # before the deadline
    # The track's columns
    team_min: int = 3
    team_max: int = 5
    university_advisors_max: int = 2
    enterprise_advisors_max: int = 2
    entries_per_advisor_max: int = 4

    def advisors_max(self, role: str) -> int:
        return self.university_advisors_max if role == "university_advisor" else self.enterprise_advisors_max

    @property
    def changes_lock_at(self) -> dt.datetime | None:
        return self.member_changes_lock_at or self.registration_closes_at


TRACK_COLUMNS = (
    "team_min",
    "team_max",
    "university_advisors_max",
    "enterprise_advisors_max",
    "entries_per_advisor_max",
)


def declared(value: Any) -> dict[str, Any]:
    """The keys a stored rule set (JSON) declares: a dict, or a JSON text on SQLite."""
    if isinstance(value, str):
        value = msgspec.json.decode(value or "{}")
    return value if isinstance(value, dict) else {}


async def declared_rules(event_id: int, track_id: int | None) -> dict[str, Any]:
    """What the contest (``track_id`` None) or the track itself declares."""
    row = (
        await RegistrationRules.select(RegistrationRules.rules)
        .where(
            (RegistrationRules.event == event_id)
            & (RegistrationRules.track.is_null() if track_id is None else RegistrationRules.track == track_id)
        )
        .first()
    )
    return declared(row["rules"]) if row else {}


# The track's columns, the contest's kind and the rule rows of the contest and the track, in one
# statement (a row per rule row; one with NULL rules when there is none).
_TRACK_RULES_SQL = (
    "SELECT t.team_min, t.team_max, t.university_advisors_max, t.enterprise_advisors_max,"
    " t.entries_per_advisor_max, e.kind, r.track AS rules_track, r.rules"
    " FROM track t JOIN event e ON e.id = t.event"
    " LEFT JOIN registration_rules r ON r.event = t.event AND (r.track IS NULL OR r.track = t.id)"
    " WHERE t.id = {} AND t.event = {}"
)


async def track_rules(event_id: int, track_id: int) -> tuple[Rules, str] | None:
    """The rules in force in the track (see the module docstring) and the contest's kind, or
    ``None`` when the track is not one of the event's."""
    rows = await engine().run_querystring(QueryString(_TRACK_RULES_SQL, track_id, event_id))
    if not rows:
        return None
    merged: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: r["rules_track"] is not None):  # the contest's, then the track's
        merged.update(declared(row["rules"]))
    track = {c: rows[0][c] for c in TRACK_COLUMNS}
    return msgspec.convert({**merged, **track}, Rules), rows[0]["kind"]


async def rules_for(event_id: int, track_id: int) -> Rules:
    """The rules in force in the track (the contest's alone for a track not of the event)."""
    found = await track_rules(event_id, track_id)
    return found[0] if found else msgspec.convert(await declared_rules(event_id, None), Rules)


# Refusals ---------------------------------------------------------------------------------------


def _refuse(code: str, detail: str, **params: Any) -> Conflict:
    return Conflict(code, detail, params=params)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_names(rules: Rules, name: str | None, entry_title: str | None) -> None:
    """The team's name and entry title within the contest's limits (400 naming each field)."""
    checks = FieldChecks()
    if name is not None and len(name.strip()) > rules.team_name_max:
        checks.add(
            "team_name_too_long",
            "The team name may have at most {limit} characters",
            "name",
            "may have at most {limit} characters",
            limit=rules.team_name_max,
        )
    if entry_title is not None and len(entry_title.strip()) > rules.entry_title_max:
        checks.add(
            "entry_title_too_long",
            "The entry title may have at most {title_limit} characters",
            "entry_title",
            "may have at most {title_limit} characters",
            title_limit=rules.entry_title_max,
        )
    checks.raise_if_any()


def check_registration_open(event: dict[str, Any], rules: Rules, now: dt.datetime | None = None) -> None:
    """New teams only in an open contest, inside its registration window."""
    now = now or utcnow()
    if event["kind"] != EventKind.contest.value:
        raise _refuse("wrong_event_kind", "Only contests have teams")
    if event["status"] != EventStatus.open.value:
        raise _refuse("registration_not_open", "Registration is not open in this contest")
    if rules.registration_opens_at is not None and now < rules.registration_opens_at:
        raise _refuse(
            "registration_not_open",
            "Registration opens on {opens_at}",
            opens_at=_when(rules.registration_opens_at),
        )
    if rules.registration_closes_at is not None and now >= rules.registration_closes_at:
        raise _refuse(
            "registration_closed",
            "Registration closed on {closes_at}",
            closes_at=_when(rules.registration_closes_at),
        )


def check_changes_open(team: dict[str, Any], rules: Rules, now: dt.datetime | None = None) -> None:
    """Members and advisors change only before the contest's lock date (the registration deadline
    when it sets none), and never in a withdrawn team."""
    check_not_withdrawn(team)
    lock_at = rules.changes_lock_at
    if lock_at is not None and (now or utcnow()) >= lock_at:
        raise _refuse(
            "member_changes_locked",
            "Members and advisors cannot change after {locked_at}",
            locked_at=_when(lock_at),
        )


def check_not_withdrawn(team: dict[str, Any]) -> None:
    if team["status"] == TeamStatus.withdrawn.value:
        raise _refuse("team_withdrawn", "The team has withdrawn from the contest")


def require_confirmed_email(user: dict[str, Any]) -> None:
    """Signed-up addresses must be confirmed before their owner creates or joins a team."""
    if user["email_confirmed_at"] is None:
        raise DomainError(
            "email_unconfirmed",
            "Confirm your e-mail address first: open the link we sent you",
            status_code=403,
        )


# Locks ----------------------------------------------------------------------------------------


async def lock(
    team_id: int | None, user_ids: Iterable[int | None], *, join_code: str | None = None
) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]]]:
    """Take the locks of a change in their fixed order: the team's row (by its id, or by its
    ``join_code``), then the people's rows by ascending id. Returns the rows as locked: the team's
    (``None`` when there is none) and the people's by id."""
    team = None
    if join_code is not None:
        team = await locked_row(Team, join_code, by=Team.join_code)
    elif team_id is not None:
        team = await locked_row(Team, team_id)
    people = {}
    for user_id in sorted({u for u in user_ids if u is not None}):
        people[user_id] = await locked_row(User, user_id)
    return team, people


async def lock_address(email: str) -> None:
    """Serialize the changes that count an address's seats (an advisor invited by an address with no
    account has no row to lock): taken after the row locks, in the same fixed order. PostgreSQL: a
    transaction-scoped advisory lock on the address; SQLite's IMMEDIATE transaction already
    serializes every writer."""
    if isinstance(engine(), PostgresEngine):
        await engine().run_querystring(
            QueryString("SELECT pg_advisory_xact_lock(hashtextextended(lower({}), 0))", email)
        )


def held_now(now: dt.datetime | None = None) -> Any:
    """Seats held at ``now``: confirmed, or invited with the invitation still valid (an overdue
    invitation no longer counts, whether or not its team has freed it yet)."""
    return (TeamMember.state == SeatState.confirmed.value) | (
        (TeamMember.state == SeatState.invited.value) & (TeamMember.expires_at > (now or utcnow()))
    )


# Seats in a team ------------------------------------------------------------------------------


async def held_seats(team_id: int) -> list[dict[str, Any]]:
    """The team's seats that hold a place (invited or confirmed)."""
    return await TeamMember.select(
        TeamMember.id, TeamMember.role, TeamMember.position, TeamMember.state, TeamMember.user
    ).where((TeamMember.team == team_id) & TeamMember.state.is_in(list(HOLDS_SEAT)))


def check_room(rules: Rules, seats: list[dict[str, Any]], role: str) -> None:
    """A place left for one more ``role`` in the team (seats held: invited or confirmed)."""
    if role in STUDENT_ROLES:
        taken = sum(1 for s in seats if s["role"] in STUDENT_ROLES)
        if taken >= rules.team_max:
            raise _refuse("team_full", "The team is full: at most {limit} members", limit=rules.team_max)
        return
    limit = rules.advisors_max(role)
    if sum(1 for s in seats if s["role"] == role) >= limit:
        if role == "university_advisor":
            raise _refuse(
                "advisors_full", "The team has its {limit} university advisors already", limit=limit
            )
        raise _refuse("advisors_full", "The team has its {limit} enterprise advisors already", limit=limit)


def next_position(seats: list[dict[str, Any]]) -> int:
    """The place of a new advisor in the team's order (1 is the first advisor)."""
    return max((s["position"] for s in seats if s["role"] in ADVISOR_ROLES), default=0) + 1


def unmet(rules: Rules, seats: list[dict[str, Any]], leader_id: int | None) -> list[tuple[str, str, dict]]:
    """What keeps the team from being complete: (code, English message id, params) for each unmet
    requirement; empty when the team is complete."""
    students = [s for s in seats if s["role"] in STUDENT_ROLES and s["state"] == SeatState.confirmed.value]
    found: list[tuple[str, str, dict]] = []
    if leader_id is None:
        found.append(("leader_missing", "The team needs a leader", {}))
    if len(students) < rules.team_min:
        found.append(
            ("team_too_small", "The team needs at least {limit} confirmed members", {"limit": rules.team_min})
        )
    if len(students) > rules.team_max:
        found.append(("team_full", "The team is full: at most {limit} members", {"limit": rules.team_max}))
    pending = sum(1 for s in seats if s["state"] == SeatState.invited.value)
    if pending:
        found.append(("invitations_pending", "{count} invitations are not answered yet", {"count": pending}))
    for role in ADVISOR_ROLES:
        count = sum(1 for s in seats if s["role"] == role)
        if count > rules.advisors_max(role):
            found.append(("advisors_full", "Too many advisors", {"limit": rules.advisors_max(role)}))
    return found


# An advisor's entries -------------------------------------------------------------------------


async def check_advisor_entries(
    rules: Rules, event_id: int, person: dict[str, Any], position: int, *, exclude_seat: int | None = None
) -> None:
    """The advisor's entries in the contest (seats held in teams that have not withdrawn) leave room
    for one more, and as first advisor (``position`` 1) too. ``person``: ``user`` (id or None) and
    ``email``. Accepting an invitation counts confirmed entries only (``exclude_seat``: its own)."""
    who = TeamMember.email == person["email"]
    if person.get("user") is not None:
        who |= TeamMember.user == person["user"]
    held = (TeamMember.state == SeatState.confirmed.value) if exclude_seat is not None else held_now()
    where = (
        (TeamMember.event == event_id)
        & TeamMember.role.is_in(list(ADVISOR_ROLES))
        & held
        & (TeamMember.team.status != TeamStatus.withdrawn.value)
        & who
    )
    if exclude_seat is not None:
        where &= TeamMember.id != exclude_seat
    rows = await TeamMember.select(TeamMember.position).where(where)
    if len(rows) >= rules.entries_per_advisor_max:
        raise _refuse(
            "advisor_entries_limit",
            "This advisor already advises {limit} entries in the contest, the most allowed",
            limit=rules.entries_per_advisor_max,
        )
    first_max = rules.first_advisor_entries_max
    if position == 1 and first_max is not None and sum(1 for r in rows if r["position"] == 1) >= first_max:
        raise _refuse(
            "first_advisor_limit",
            "This advisor is already first advisor of {limit} entries, the most allowed",
            limit=first_max,
        )


# A student's teams and eligibility ------------------------------------------------------------


async def check_student(
    rules: Rules,
    event: dict[str, Any],
    track_id: int,
    user: dict[str, Any],
    *,
    exclude_seat: int | None = None,
    profile: Any = UNREAD,
    today: dt.date | None = None,
) -> None:
    """May ``user`` (a User row) take a student's seat in the track: no other team where the contest
    forbids it, and eligible (age, study status, graduation, past prizes). ``exclude_seat``: the
    seat being confirmed (an invitation already held); ``profile``: see :func:`check_eligible`."""
    await check_other_teams(rules, event["id"], track_id, user["id"], exclude_seat=exclude_seat)
    await check_eligible(rules, event, user, profile=profile, today=today)


async def check_other_teams(
    rules: Rules, event_id: int, track_id: int, user_id: int, *, exclude_seat: int | None = None
) -> None:
    """The person holds no student's seat that the contest's ``teams_per_person`` rules out."""
    where = (
        (TeamMember.event == event_id)
        & (TeamMember.user == user_id)
        & TeamMember.role.is_in(list(STUDENT_ROLES))
        & held_now()
    )
    if exclude_seat is not None:
        where &= TeamMember.id != exclude_seat
    held = await TeamMember.select(TeamMember.track).where(where)
    tracks = {r["track"] for r in held}
    if track_id in tracks:
        raise _refuse("already_in_track", "You are already in a team in this track")
    if not tracks or rules.teams_per_person == "one_per_track":
        return
    if rules.teams_per_person == "one_per_contest":
        raise _refuse("already_in_contest", "The contest allows one team per person")
    for other in tracks:
        if (await rules_for(event_id, other)).track_category == rules.track_category:
            raise _refuse(
                "already_in_category",
                "The contest allows one team in a {category} track per person",
                category=rules.track_category,
            )


def age_on(born: dt.date, on: dt.date) -> int:
    """Completed years of life on the day ``on`` (a birthday on 29 February counts from 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


async def read_profile(user_id: int) -> dict[str, Any] | None:
    """The parts of the person's profile that the rules read (``None``: never filled in)."""
    return (
        await Profile.select(
            Profile.birth_date, Profile.study_status, Profile.graduation_year, Profile.institution
        )
        .where(Profile.user == user_id)
        .first()
    )


def needs_profile(rules: Rules) -> bool:
    return rules.age_max is not None or bool(rules.statuses) or rules.graduated_within_years is not None


def missing_profile(rules: Rules, profile: dict[str, Any] | None) -> list[str]:
    """The profile's fields (``ProfileIn``'s names) the rules need that are empty."""
    missing = []
    if rules.age_max is not None and (profile is None or profile["birth_date"] is None):
        missing.append("birth_date")
    if profile is None and (rules.statuses or rules.graduated_within_years is not None):
        missing.append("study_status")
    if (
        profile is not None
        and rules.graduated_within_years is not None
        and profile["study_status"] == StudyStatus.graduate.value
        and profile["graduation_year"] is None
    ):
        missing.append("graduation_year")
    return missing


def profile_incomplete(missing: list[str]) -> Conflict:
    """The refusal while the profile lacks what the rules need: every missing field named."""
    return _refuse("profile_incomplete", "Complete your profile first: {missing}", missing=", ".join(missing))


async def check_eligible(
    rules: Rules,
    event: dict[str, Any],
    user: dict[str, Any],
    *,
    profile: Any = UNREAD,
    today: dt.date | None = None,
) -> None:
    """Age, study status, graduation year and past prizes, from the person's profile (read here
    unless the caller passes the row of :func:`read_profile`)."""
    if needs_profile(rules):
        if profile is UNREAD:
            profile = await read_profile(user["id"])
        missing = missing_profile(rules, profile)
        if missing:
            raise profile_incomplete(missing)
        assert profile is not None
        today = today or utcnow().date()
        if rules.age_max is not None and age_on(profile["birth_date"], rules.age_reference_date or today) > (
            rules.age_max
        ):
            raise _refuse("age_limit", "The contest is for people aged at most {limit}", limit=rules.age_max)
        if rules.statuses and profile["study_status"] not in rules.statuses:
            raise _refuse(
                "study_status_not_eligible",
                "The contest is open to: {statuses}",
                statuses=", ".join(rules.statuses),
            )
        if (
            rules.graduated_within_years is not None
            and profile["study_status"] == StudyStatus.graduate.value
            and profile["graduation_year"] < today.year - rules.graduated_within_years
        ):
            raise _refuse(
                "graduated_too_long_ago",
                "Graduates may take part up to {limit} years after graduating",
                limit=rules.graduated_within_years,
            )
    if rules.exclude_past_prizes:
        won = (
            await PastWinner.select(PastWinner.prize)
            .where(
                (PastWinner.organization == event["organization"])
                & PastWinner.prize.is_in(rules.exclude_past_prizes)
                & ((PastWinner.email == user["email"].lower()) | (PastWinner.user == user["id"]))
            )
            .first()
        )
        if won is not None:
            raise _refuse(
                "past_winner",
                "Past winners of a {prize} prize cannot take part again",
                prize=won["prize"],
            )


async def check_institution(rules: Rules, institution_id: int | None) -> dict[str, Any] | None:
    """The team's institution exists and is of a country and kind the contest admits; its row."""
    row = None
    if institution_id is not None:
        row = (
            await Institution.select(
                Institution.id, Institution.kind, Institution.country, Institution.region
            )
            .where(Institution.id == institution_id)
            .first()
        )
        if row is None:
            raise DomainError(
                "unknown_institution",
                "The referenced institution does not exist",
                fields={"institution_id": "does not exist"},
            )
    if not rules.countries and not rules.institution_kinds:
        return row
    if row is None:
        raise DomainError(
            "institution_required",
            "The contest admits teams of listed institutions only: choose the team's institution",
            fields={"institution_id": "required"},
        )
    if rules.countries and row["country"] not in rules.countries:
        raise _refuse(
            "institution_not_eligible",
            "The contest admits institutions from: {countries}",
            countries=", ".join(rules.countries),
        )
    if rules.institution_kinds and row["kind"] not in rules.institution_kinds:
        raise _refuse(
            "institution_not_eligible",
            "The contest admits institutions of these kinds: {kinds}",
            kinds=", ".join(rules.institution_kinds),
        )
    return row


async def event_row(event_id: int) -> dict[str, Any] | None:
    return (
        await Event.select(Event.id, Event.kind, Event.status, Event.organization)
        .where(Event.id == event_id)
        .first()
    )
