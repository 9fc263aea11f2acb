"""The advancement API's bodies and answers: quota rules, recommendations, prize tiers, awards and
certificates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from backend.schemas import PRINTABLE, PositiveInt, Struct, column_text
from judging.tables import Certificate, PrizeTier

Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Weight = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
RegionName = Annotated[str, msgspec.Meta(max_length=100, pattern=PRINTABLE)]
TrackCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=PRINTABLE)]
TierCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
TierSize = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Reason = column_text(Certificate.revoke_reason, required=True)


class QuotaRules(Struct):
    """The quotas (absent: no limit). ``group_ratio`` maps track codes to integer weights (4:3:2:1)
    and needs ``total``; see ``judging.advancement.quotas`` for how the places are split."""

    total: Count | None = None
    per_region: dict[RegionName, Count] = {}
    region_default: Count | None = None
    group_ratio: dict[TrackCode, Weight] = {}
    per_institution_max: Count | None = None


class RulesIn(Struct):
    """The stage teams advance to (the next stage by position) and the quotas."""

    to_stage: PositiveInt
    rules: QuotaRules


class RulesOut(msgspec.Struct):
    from_stage: int
    to_stage: int | None
    rules: QuotaRules
    group_maxima: dict[str, int]
    updated_at: dt.datetime | None


class RecommendIn(Struct):
    """Entries of the stage to recommend, in the published rank order."""

    entries: Annotated[list[PositiveInt], msgspec.Meta(min_length=1, max_length=500)]


class ReasonIn(Struct):
    reason: Reason


class RankedTeamOut(msgspec.Struct):
    """A team's entry in the stage's published ranking, as both candidates and recommendations show it."""

    entry_id: int
    team_id: int
    team_name: str
    track: str
    region: str
    institution_id: int | None
    place: int


class RecommendationOut(RankedTeamOut):
    id: int
    state: str
    recommended_by: int | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class TieOut(msgspec.Struct):
    """Entries the tie-break chain cannot order: they share ``place``."""

    place: int
    entries: list[int]


class CandidateOut(RankedTeamOut):
    """An entry of the published ranking inside the caller's scope, in the cut-off order."""

    tied: bool
    score: float | None
    state: str  # its live recommendation's state, or "" when it has none
    fits: bool  # whether recommending it now would fit the quotas


class RecommendationsOut(msgspec.Struct):
    from_stage: int
    to_stage: int | None
    recommendations: list[RecommendationOut]
    usage: dict[str, Any]
    candidates: list[CandidateOut]
    ties: list[TieOut]


class RecommendedOut(msgspec.Struct):
    recommendations: list[RecommendationOut]
    ties: list[TieOut]  # ties between a recommended entry and one left out, for a person to look at


TierName = column_text(PrizeTier.name_en)


class TierIn(Struct):
    """A prize tier, given to ``size`` teams in rank order; the list's order is the tiers' order."""

    code: TierCode
    size: TierSize
    name_zh: TierName = ""
    name_en: TierName = ""
    name_ru: TierName = ""


class TiersIn(Struct):
    tiers: Annotated[list[TierIn], msgspec.Meta(max_length=20)]


class TierOut(msgspec.Struct):
    id: int
    code: str
    size: int
    position: int
    name_zh: str
    name_en: str
    name_ru: str


class AwardOut(msgspec.Struct):
    id: int
    team_id: int
    team_name: str
    tier: str
    place: int
    awarded_at: dt.datetime


class TeamTieOut(msgspec.Struct):
    """Teams sharing ``place`` across the end of a prize tier: all of them got the higher tier."""

    place: int
    teams: list[int]


class AwardsOut(msgspec.Struct):
    awards: list[AwardOut]
    given: int  # awards made by this call (0 on a rerun)
    ties: list[TeamTieOut]


class CertificateOut(msgspec.Struct):
    serial: str
    team_id: int
    user_id: int | None
    holder_name: str
    holder_name_latin: str
    role: str
    tier: str
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str
    pdf_url: str
    verify_url: str


class CertificatesOut(msgspec.Struct):
    certificates: list[CertificateOut]
    issued: int  # certificates made by this call (0 on a rerun)
