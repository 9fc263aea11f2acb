"""The teams API's bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from backend.accounts.schemas import DisplayName, Email, Locale
from backend.schemas import Password, PositiveInt, Struct, column_text
from backend.teams.rules import Rules
from backend.teams.tables import PastWinner, Team

TeamName = column_text(Team.name, required=True)
EntryTitle = column_text(Team.entry_title)
JoinCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
WinnerName = column_text(PastWinner.name)
Edition = column_text(PastWinner.edition)
Prize = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Position = Annotated[int, msgspec.Meta(ge=1, le=20)]


class TeamIn(Struct):
    """A new team: the caller becomes its leader. ``institution_id``: the team's institution
    (default: the leader's, from the profile)."""

    track_id: PositiveInt
    name: TeamName
    entry_title: EntryTitle = ""
    institution_id: PositiveInt | None = None


class TeamPatch(Struct):
    name: TeamName | msgspec.UnsetType = msgspec.UNSET
    entry_title: EntryTitle | msgspec.UnsetType = msgspec.UNSET


class SeatInviteIn(Struct):
    """Invite a member or an advisor by e-mail; ``position`` orders advisors (1: first advisor; by
    default the next place). ``locale``: the mail's language (default: the account's, else yours)."""

    email: Email
    role: Literal["member", "university_advisor", "enterprise_advisor"] = "member"
    position: Position | None = None
    locale: Locale | None = None


class JoinIn(Struct):
    code: JoinCode


class LeaderIn(Struct):
    user_id: PositiveInt


class TeamAcceptIn(Struct):
    """Without a login, the name and password of the account to create (for an address that has
    none)."""

    display_name: DisplayName | None = None
    password: Password | None = None


class SeatOut(msgspec.Struct):
    id: int
    team_id: int
    user_id: int | None
    email: str
    display_name: str
    role: str
    position: int
    state: str
    joined_via: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    confirmed_at: dt.datetime | None


class Requirement(msgspec.Struct):
    """One thing keeping a team from being complete: a stable code, an English message id with
    ``{placeholders}`` and their values."""

    code: str
    message: str
    params: dict[str, Any]


class TeamOut(msgspec.Struct):
    id: int
    event_id: int
    track_id: int
    name: str
    entry_title: str
    leader_id: int | None
    institution_id: int | None
    region: str
    country: str
    status: str
    join_code: str | None  # for the team's leader and organizers
    created_at: dt.datetime
    completed_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    my_role: str | None = None  # the caller's seat, when they have one
    my_state: str | None = None


class TimelineOut(msgspec.Struct):
    kind: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: dt.datetime


class TeamDetailOut(TeamOut, kw_only=True):
    seats: list[SeatOut]
    unmet: list[Requirement]
    timeline: list[TimelineOut]


class TeamInvitationOut(msgspec.Struct):
    """What the invitation page shows about a team invitation link."""

    status: str  # pending, expired, accepted, declined, revoked
    email: str
    role: str
    team_id: int
    team_name: str
    event_id: int
    has_account: bool


class RulesOut(msgspec.Struct):
    """The rules a contest or track declares (``declared``: its own keys only) and, for a track, the
    rules in force there (``effective``: the contest's, the track's overrides and its columns)."""

    event_id: int
    track_id: int | None
    declared: dict[str, Any]
    effective: Rules | None


class PastWinnerIn(Struct):
    email: Email
    prize: Prize
    name: WinnerName = ""
    edition: Edition = ""


class PastWinnerOut(msgspec.Struct):
    id: int
    organization_id: int
    email: str
    user_id: int | None
    name: str
    edition: str
    prize: str
    created_at: dt.datetime


class ImportedTeam(msgspec.Struct):
    """A team of an organizer's bulk import: the leader and members by e-mail (accounts are made
    for addresses that have none), confirmed by construction; advisors by e-mail and role."""

    track_id: int
    name: str
    leader_email: str
    entry_title: str = ""
    institution_id: int | None = None
    member_emails: list[str] = msgspec.field(default_factory=list)
    advisors: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (email, role)
    locale: str = "zh"
