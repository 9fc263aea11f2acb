"""The programmes API's bodies and answers (msgspec): programmes and their roles, cohorts, admissions
and a startup's file overview. Types and bounds live here; what they mean against the database
(places left, prize tiers of a contest, accounts by e-mail) is the service's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.accounts.tables import User
from backend.schemas import PRINTABLE, SLUG_PATTERN, PositiveInt, Struct, column_text, email_type
from incubator.tables import Cohort, Founder, Programme, Startup

Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=80, pattern=SLUG_PATTERN)]
ProgrammeName = column_text(Programme.name_en)
Description = Annotated[str, msgspec.Meta(max_length=5000, pattern=PRINTABLE)]
Currency = Literal["CNY", "USD", "EUR", "RUB", "KZT", "HKD", "UZS", "KGS", "MNT"]
Hours = Annotated[int, msgspec.Meta(ge=0, le=24 * 30)]
Weeks = Annotated[int, msgspec.Meta(ge=1, le=104)]
Places = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Email = email_type(User.email)
RoleName = Literal["manager", "viewer"]
Mode = Literal["online", "offline", "hybrid"]
Status = Literal["active", "graduated", "closed", "withdrawn"]
TierCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=PRINTABLE)]
Website = column_text(Startup.website)  # an http(s) address or "" (the service checks)


class ProgrammeIn(Struct, kw_only=True):
    """A new programme of an organization (its admins and organizers create programmes)."""

    organization_id: PositiveInt
    slug: Slug
    name_zh: ProgrammeName = ""
    name_en: ProgrammeName = ""
    name_ru: ProgrammeName = ""
    description: Description = ""
    currency: Currency = "CNY"
    cancellation_hours: Hours = 24
    stalled_weeks: Weeks = 12


class ProgrammePatch(Struct, kw_only=True):
    """A change of a programme's settings: the fields given change."""

    name_zh: ProgrammeName | None = None
    name_en: ProgrammeName | None = None
    name_ru: ProgrammeName | None = None
    description: Description | None = None
    currency: Currency | None = None
    cancellation_hours: Hours | None = None
    stalled_weeks: Weeks | None = None


class CohortSummary(msgspec.Struct, kw_only=True):
    id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    mode: str
    places: int
    admitted: int  # startups admitted, whatever their status since


class ProgrammeOut(msgspec.Struct, kw_only=True):
    id: int
    organization_id: int
    slug: str
    name_zh: str
    name_en: str
    name_ru: str
    description: str
    currency: str
    cancellation_hours: int
    stalled_weeks: int
    created_at: dt.datetime
    roles: list[str]  # the caller's: manager, viewer, mentor, founder
    cohorts: list[CohortSummary]


class RoleIn(Struct, kw_only=True):
    """A role in the programme for the holder of an existing account."""

    email: Email
    role: RoleName


class RoleOut(msgspec.Struct, kw_only=True):
    id: int
    user_id: int
    email: str
    display_name: str
    role: str
    created_at: dt.datetime


CohortName = column_text(Cohort.name, required=True)


class CohortIn(Struct, kw_only=True):
    name: CohortName
    starts_on: dt.date
    ends_on: dt.date
    mode: Mode = "hybrid"
    places: Places = 40


class CohortPatch(Struct, kw_only=True):
    """A change of a cohort: the fields given change (places never below the startups admitted)."""

    name: CohortName | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    mode: Mode | None = None
    places: Places | None = None


class StartupSummary(msgspec.Struct, kw_only=True):
    id: int
    name: str
    sector: str
    status: str
    admitted_via: str
    prize: str
    team_id: int | None
    founders: int


class CohortOut(msgspec.Struct, kw_only=True):
    id: int
    programme_id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    mode: str
    places: int
    admitted: int
    startups: list[StartupSummary]


class ResultsIn(Struct, kw_only=True):
    """Admit the teams a contest awarded the prize tiers ``tiers`` (their codes)."""

    event_id: PositiveInt
    tiers: Annotated[list[TierCode], msgspec.Meta(min_length=1, max_length=50)]


class TeamsIn(Struct, kw_only=True):
    """Admit hand-picked teams of a contest."""

    event_id: PositiveInt
    team_ids: Annotated[list[PositiveInt], msgspec.Meta(min_length=1, max_length=500)]


StartupName = column_text(Startup.name, required=True)
Sector = column_text(Startup.sector)
FounderTitle = column_text(Founder.title)


class DirectIn(Struct, kw_only=True):
    """Admit a startup that never entered a contest: its name and its founders' accounts (the first
    address leads it)."""

    name: StartupName
    description: Description = ""
    sector: Sector = ""
    website: Website = ""
    founder_emails: Annotated[list[Email], msgspec.Meta(min_length=1, max_length=20)]


class TierOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    stage: str
    teams: int


class CandidateOut(msgspec.Struct, kw_only=True):
    """A team a contest awarded (or one picked by hand), as an admission would take it."""

    team_id: int
    name: str
    entry_title: str
    prize: str  # the prize in the contest's words ("" for a team without one)
    tier: str  # the prize tier's code
    rank: int
    founders: int  # confirmed students: the startup's founders
    startup_id: int | None  # the startup it already is in this programme


class PreviewOut(msgspec.Struct, kw_only=True):
    event_id: int
    places_left: int
    tiers: list[TierOut]
    teams: list[CandidateOut]


class SkippedOut(msgspec.Struct, kw_only=True):
    team_id: int
    name: str
    startup_id: int


class AdmissionOut(msgspec.Struct, kw_only=True):
    """What an admission made: the new startups, and the teams left out because they already are
    startups of the programme."""

    admitted: list[StartupSummary]
    skipped: list[SkippedOut]


class StartupPatch(Struct, kw_only=True):
    """The founders' change of their startup's profile: the fields given change."""

    name: StartupName | None = None
    description: Description | None = None
    sector: Sector | None = None
    website: Website | None = None


class StatusIn(Struct, kw_only=True):
    """A startup's status as the managers record it; ``closed_on`` (the day it ceased operating or
    left) is required for closed and withdrawn, and cleared otherwise."""

    status: Status
    closed_on: dt.date | None = None


class FounderIn(Struct, kw_only=True):
    email: Email
    role: Literal["lead", "founder"] = "founder"
    title: FounderTitle = ""


class FounderOut(msgspec.Struct, kw_only=True):
    user_id: int
    display_name: str
    email: str
    role: str
    title: str


class StageHistoryOut(msgspec.Struct, kw_only=True):
    """The team's way through one stage of its contest: its entry, its published rank and prize."""

    stage_id: int
    stage: str
    level: str
    entry_label: str
    entry_status: str
    rank: int | None  # in the published ranking (None: not published, or not ranked)
    track_rank: int | None
    score: float | None
    prize: str


class HistoryOut(msgspec.Struct, kw_only=True):
    team_id: int
    team_name: str
    entry_title: str
    event_id: int
    event_slug: str
    event_name: str
    stages: list[StageHistoryOut]


class ActionItemBrief(msgspec.Struct, kw_only=True):
    id: int
    title: str
    side: str
    due_on: dt.date | None


class DueReportBrief(msgspec.Struct, kw_only=True):
    period_id: int
    label: str
    due_on: dt.date
    overdue: bool


class StartupOut(msgspec.Struct, kw_only=True):
    id: int
    programme_id: int
    cohort_id: int
    name: str
    description: str
    sector: str
    website: str
    status: str
    closed_on: dt.date | None
    admitted_via: str
    prize: str
    team_id: int | None
    source_event_id: int | None
    admitted_at: dt.datetime
    founders: list[FounderOut]
    history: HistoryOut | None
    open_action_items: list[ActionItemBrief]
    due_reports: list[DueReportBrief]
