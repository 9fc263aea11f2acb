"""Advancement from one stage to the next under quotas, prizes and certificates: one function per
change (validate → write in one transaction → audit → return).

Recommendations are race-safe: every recommendation, withdrawal and acceptance of a stage runs under
a lock of the stage's :class:`AdvancementRules` row, so two scoped admins competing for the last
place of a region are served one after the other and the second one finds the region full. The
unique index ``recommendation_live`` backs one live recommendation per team.

The order is the published ranking (``judging.results.service.published_results``), broken
further by :data:`judging.advancement.quotas.TIE_BREAK_CHAIN`; ties the chain cannot break are
reported with the answers, never decided silently.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.querystring import QueryString

from backend import policy
from backend.db import engine, fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, Forbidden, NotFound, Term
from backend.events.tables import Stage, Track
from backend.policy import Action, Principal, Scope
from backend.teams.access import team_access, team_scope
from backend.teams.tables import TeamStatus
from judging import history
from judging.access import StageAccess, stage_access
from judging.advancement import quotas
from judging.advancement.schemas import (
    AwardOut,
    AwardsOut,
    CandidateOut,
    CertificateOut,
    CertificatesOut,
    QuotaRules,
    RecommendationOut,
    RecommendationsOut,
    RecommendedOut,
    RecommendIn,
    RulesIn,
    RulesOut,
    TeamTieOut,
    TieOut,
    TierOut,
    TiersIn,
)
from judging.results.service import published_results
from judging.setup.service import add_entry, state_conflict
from judging.tables import (
    AdvancementRules,
    Award,
    Certificate,
    EntryStatus,
    JudgingStatus,
    PrizeTier,
    Recommendation,
    RecommendationState,
    StageJudging,
)

SERIAL_BYTES = 16  # 128 random bits: a serial nobody guesses (22 URL-safe characters)


def _json(value: Any) -> dict[str, Any]:
    """A JSON column's value: Piccolo gives it as text."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else dict(value or {})


def _require_published(access: StageAccess) -> None:
    if access.judging["status"] != JudgingStatus.published.value or access.judging["published_run"] is None:
        raise state_conflict(access.judging["status"])


# The published ranking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One entry of the published ranking: its result, team and place in the cut-off order."""

    row: dict[str, Any]
    place: int
    tied: bool

    @property
    def entry(self) -> int:
        return self.row["stage_entry"]

    @property
    def team(self) -> int:
        return self.row["team"]

    @property
    def quota_place(self) -> quotas.Place:
        row = self.row
        return quotas.Place(row["team"], row["region"] or "", row["institution"], row["track_code"])

    @property
    def scope(self) -> Scope:
        return team_scope(
            {"track": self.row["track"], "region": self.row["region"], "institution": self.row["institution"]}
        )


async def standings(stage_id: int) -> list[Standing]:
    """The stage's published ranking in the cut-off order, active entries only (an entry withdrawn or
    disqualified, or whose team withdrew from the contest, takes no place and is in nobody's way)."""
    results = await published_results(stage_id)
    active = {
        r["id"]
        for r in await fetch_all(
            "SELECT e.id FROM stage_entry e JOIN team t ON t.id = e.team "
            "WHERE e.stage = {} AND e.status = {} AND t.status <> {}",
            stage_id,
            EntryStatus.active.value,
            TeamStatus.withdrawn.value,
        )
    }
    rows = [r for r in results if r["stage_entry"] in active]
    by_entry = {r["stage_entry"]: r for r in rows}
    ranked = quotas.order([{**r, "key": r["stage_entry"]} for r in rows])
    return [Standing(by_entry[r.key], r.place, r.tied) for r in ranked]


def _in_scope(principal: Principal, access: StageAccess, standing: Standing) -> bool:
    return policy.within_scope(principal, access.event, [standing.scope])[0]


def _ties(chosen: Iterable[Standing], others: Iterable[Standing]) -> list[TieOut]:
    """Places shared by a chosen entry and one that was not chosen."""
    chosen = list(chosen)
    places = {s.place for s in chosen if s.tied}
    left = {s.place for s in others if s.place in places}
    shared: dict[int, list[int]] = {}
    for s in [*chosen, *others]:
        if s.place in left:
            shared.setdefault(s.place, []).append(s.entry)
    return [TieOut(place, sorted(set(entries))) for place, entries in sorted(shared.items())]


# Rules -------------------------------------------------------------------------------------------


async def _next_stage(stage: dict[str, Any]) -> dict[str, Any] | None:
    return (
        await Stage.select(Stage.id, Stage.position)
        .where((Stage.event == stage["event"]) & (Stage.position > stage["position"]))
        .order_by(Stage.position)
        .first()
    )


async def _rules_row(stage_id: int) -> dict[str, Any] | None:
    return await AdvancementRules.select().where(AdvancementRules.from_stage == stage_id).first()


def _rules_out(stage_id: int, to_stage: int | None, rules: dict[str, Any], updated_at: Any) -> RulesOut:
    parsed = msgspec.convert(rules, QuotaRules)
    return RulesOut(stage_id, to_stage, parsed, quotas.Rules.of(rules).group_limits(), updated_at)


async def get_rules(principal: Principal, stage_id: int) -> RulesOut:
    """The stage's quotas; without any, the next stage and no limit."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    row = await _rules_row(stage_id)
    if row is None:
        following = await _next_stage(access.stage)
        return _rules_out(stage_id, following["id"] if following else None, {}, None)
    return _rules_out(stage_id, row["to_stage"], _json(row["rules"]), row["updated_at"])


async def _check_rules(event_id: int, data: QuotaRules) -> None:
    """Unknown tracks and regions, a ratio without a total or without weight: 422 naming the field."""
    checks = FieldChecks()
    codes = {t["code"] for t in await Track.select(Track.code).where(Track.event == event_id)}
    for code in data.group_ratio:
        if code not in codes:
            checks.add(
                "validation_error",
                INVALID_INPUT,
                f"rules.group_ratio.{code}",
                "is not a track of this contest",
            )
    if data.group_ratio and data.total is None:
        checks.add("validation_error", INVALID_INPUT, "rules.total", "is needed for a group ratio")
    if data.group_ratio and sum(data.group_ratio.values()) == 0:
        checks.add("validation_error", INVALID_INPUT, "rules.group_ratio", "needs a weight above zero")
    if data.per_region:
        known = {
            r["region"]
            for r in await fetch_all(
                "SELECT DISTINCT region FROM team WHERE event = {} UNION SELECT DISTINCT region FROM institution",
                event_id,
            )
        }
        for region in data.per_region:
            if region not in known:
                checks.add(
                    "validation_error",
                    INVALID_INPUT,
                    f"rules.per_region.{region}",
                    "is not a region of this contest's teams or institutions",
                )
    checks.raise_if_any(422)


async def set_rules(principal: Principal, stage_id: int, data: RulesIn) -> RulesOut:
    """Set the quotas for advancing from this stage to the next one (never past it)."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    target = await Stage.select(Stage.id, Stage.event).where(Stage.id == data.to_stage).first()
    if target is None:
        raise DomainError(
            "validation_error", INVALID_INPUT, status_code=422, fields={"to_stage": "is not a stage"}
        )
    following = await _next_stage(access.stage)
    if target["event"] != access.stage["event"] or following is None or following["id"] != target["id"]:
        raise Conflict(
            "skipped_level",
            "Teams advance to the next stage only (stage {next}), not to stage {stage}",
            fields={"to_stage": "must be the next stage of the contest"},
            params={"next": following["id"] if following else "-", "stage": data.to_stage},
        )
    await _check_rules(access.stage["event"], data.rules)
    rules = msgspec.to_builtins(data.rules)
    async with transaction():
        await engine().run_querystring(
            QueryString(
                "INSERT INTO advancement_rules (from_stage, to_stage, rules, updated_by, updated_at) "
                "VALUES ({}, {}, {}, {}, CURRENT_TIMESTAMP) ON CONFLICT (from_stage) DO UPDATE SET "
                "to_stage = excluded.to_stage, rules = excluded.rules, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at",
                stage_id,
                data.to_stage,
                msgspec.json.encode(rules).decode(),
                principal.id,
            )
        )
        await history.judging_changed(
            principal.id,
            access.stage["event"],
            "advancement_rules_saved",
            "stage",
            stage_id,
            to_stage=data.to_stage,
            rules=rules,
        )
    return await get_rules(principal, stage_id)


# Recommendations ---------------------------------------------------------------------------------

_RECOMMENDATIONS = """
SELECT c.id, c.stage_entry, c.team, c.position, c.state, c.recommended_by, c.created_at,
       c.decided_at, t.name AS team_name, t.region, t.institution, t.track, tr.code AS track_code
FROM recommendation c
JOIN team t ON t.id = c.team
JOIN track tr ON tr.id = t.track
WHERE c.from_stage = {}
ORDER BY c.position, c.id
"""


def _recommendation_out(row: dict[str, Any]) -> RecommendationOut:
    return RecommendationOut(
        id=row["id"],
        entry_id=row["stage_entry"],
        team_id=row["team"],
        team_name=row["team_name"],
        track=row["track_code"],
        region=row["region"] or "",
        institution_id=row["institution"],
        place=row["position"],
        state=row["state"],
        recommended_by=row["recommended_by"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )


def _place_of(row: dict[str, Any]) -> quotas.Place:
    return quotas.Place(row["team"], row["region"] or "", row["institution"], row["track_code"])


async def _recommendations(stage_id: int) -> list[dict[str, Any]]:
    return await fetch_all(_RECOMMENDATIONS, stage_id)


def _live(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in rows
        if r["state"] in (RecommendationState.recommended.value, RecommendationState.accepted.value)
    ]


async def list_recommendations(principal: Principal, stage_id: int) -> RecommendationsOut:
    """The stage's recommendations and quota usage; the caller's candidates in the cut-off order
    (a scoped admin sees their own scope only)."""
    access = await stage_access(principal, stage_id, Action.view_judging)
    rules_row = await _rules_row(stage_id)
    rules = quotas.Rules.of(_json(rules_row["rules"]) if rules_row else {})
    rows = await _recommendations(stage_id)
    live = _live(rows)
    usage = quotas.usage(rules, [_place_of(r) for r in live])
    published = access.judging["status"] == JudgingStatus.published.value
    ranking = await standings(stage_id) if published else []
    visible = [s for s in ranking if _in_scope(principal, access, s)]
    state_of = {r["team"]: r["state"] for r in live}
    running = quotas.Usage(rules, [_place_of(r) for r in live])
    candidates = [
        CandidateOut(
            entry_id=s.entry,
            team_id=s.team,
            team_name=s.row["team_name"],
            track=s.row["track_code"],
            region=s.row["region"] or "",
            institution_id=s.row["institution"],
            place=s.place,
            tied=s.tied,
            score=s.row["score"],
            state=state_of.get(s.team, ""),
            fits=s.team not in state_of and running.breach(s.quota_place) is None,
        )
        for s in visible
    ]
    scoped_teams = {s.team for s in visible}
    shown = [r for r in rows if r["team"] in scoped_teams] if published else []
    ties: dict[int, list[int]] = {}
    for s in visible:
        if s.tied:
            ties.setdefault(s.place, []).append(s.entry)
    return RecommendationsOut(
        from_stage=stage_id,
        to_stage=rules_row["to_stage"] if rules_row else None,
        recommendations=[_recommendation_out(r) for r in shown],
        usage=usage,
        candidates=candidates,
        ties=[TieOut(p, e) for p, e in sorted(ties.items())],
    )


def _quota_conflict(breach: quotas.Breach, team_name: str) -> Conflict:
    messages = {
        "total_full": "{team} does not fit: all {limit} places are taken",
        "region_full": "{team} does not fit: region {subject} has {used} of its {limit} places taken",
        "institution_full": "{team} does not fit: its institution has {used} of its {limit} places taken",
        "group_ratio": "{team} does not fit: group {subject} has {used} of its {limit} places taken under the group ratio",
    }
    return Conflict(
        "quota_exceeded",
        messages[breach.rule],
        params={
            "team": team_name,
            "rule": breach.rule,
            "subject": breach.subject,
            "limit": breach.limit,
            "used": breach.used,
        },
    )


async def recommend(principal: Principal, stage_id: int, data: RecommendIn) -> RecommendedOut:
    """Recommend entries of a published stage to the next one: each inside the caller's scope, in
    the published rank order and within the quotas; all of them or none."""
    access = await stage_access(principal, stage_id, Action.recommend_teams)
    _require_published(access)
    if len(set(data.entries)) != len(data.entries):
        raise DomainError(
            "validation_error", INVALID_INPUT, status_code=422, fields={"entries": "lists an entry twice"}
        )
    async with transaction():
        rules_row = await locked_row(AdvancementRules, stage_id, by=AdvancementRules.from_stage)
        if rules_row is None:
            raise Conflict("no_advancement_rules", "Set the advancement rules of this stage first")
        ranking = await standings(stage_id)
        by_entry = {s.entry: s for s in ranking}
        chosen: list[Standing] = []
        for i, entry in enumerate(data.entries):
            standing = by_entry.get(entry)
            if standing is None:
                raise DomainError(
                    "validation_error",
                    INVALID_INPUT,
                    status_code=422,
                    fields={f"entries[{i}]": "is not an active entry of this stage's published ranking"},
                )
            policy.require(principal, Action.recommend_teams, access.event, target=standing.scope)
            chosen.append(standing)
        rows = await _recommendations(stage_id)
        live = _live(rows)
        live_teams = {r["team"] for r in live}
        for standing in chosen:
            if standing.team in live_teams:
                raise Conflict(
                    "already_recommended",
                    "{team} is already recommended",
                    params={"team": standing.row["team_name"]},
                )
        chosen.sort(key=lambda s: (s.place, s.entry))
        rules = quotas.Rules.of(_json(rules_row["rules"]))
        taken = [_place_of(r) for r in live]
        for standing, breach in zip(
            chosen, quotas.check(rules, taken, [s.quota_place for s in chosen]), strict=True
        ):
            if breach is not None:
                raise _quota_conflict(breach, standing.row["team_name"])
        refused = {r["team"] for r in rows if r["state"] == RecommendationState.refused.value}
        mine = [s for s in ranking if _in_scope(principal, access, s)]
        _check_rank_order(rules, taken, mine, chosen, live_teams | refused)
        now = utcnow()
        created = await Recommendation.insert(
            *[
                Recommendation(
                    from_stage=stage_id,
                    to_stage=rules_row["to_stage"],
                    stage_entry=s.entry,
                    team=s.team,
                    position=s.place,
                    recommended_by=principal.id,
                    created_at=now,
                )
                for s in chosen
            ]
        ).returning(Recommendation.id)
        await history.judging_changed(
            principal.id,
            access.stage["event"],
            "teams_recommended",
            "stage",
            stage_id,
            entries=[s.entry for s in chosen],
            recommendations=[r["id"] for r in created],
        )
    ids = {r["id"] for r in created}
    rows = [r for r in await _recommendations(stage_id) if r["id"] in ids]
    chosen_entries = {s.entry for s in chosen}
    left_out = [s for s in mine if s.entry not in chosen_entries and s.team not in live_teams]
    return RecommendedOut([_recommendation_out(r) for r in rows], _ties(chosen, left_out))


def _check_rank_order(
    rules: quotas.Rules,
    taken: list[quotas.Place],
    mine: list[Standing],
    chosen: list[Standing],
    settled_teams: set[int],
) -> None:
    """Walk the caller's entries in the cut-off order, counting the chosen ones: an entry ranked
    strictly above a chosen one that is neither recommended nor refused and would still fit the
    quotas at its turn is skipped unfairly (409 ``rank_order`` naming it)."""
    if not chosen:
        return
    worst = max(s.place for s in chosen)
    chosen_entries = {s.entry for s in chosen}
    usage = quotas.Usage(rules, taken)
    # At a shared place the chosen entries count first: a tie is no better than its partner.
    for standing in sorted(mine, key=lambda s: (s.place, s.entry not in chosen_entries, s.entry)):
        if standing.place >= worst:
            break
        if standing.entry in chosen_entries:
            usage.add(standing.quota_place)
        elif standing.team not in settled_teams and usage.breach(standing.quota_place) is None:
            raise Conflict(
                "rank_order",
                "{team} (place {place}) ranks above a team in this list and still fits the quotas: "
                "recommend it first",
                params={"team": standing.row["team_name"], "place": standing.place},
            )


async def _recommendation(recommendation_id: int) -> dict[str, Any]:
    row = await fetch_one(
        "SELECT c.*, t.track AS team_track, t.region, t.institution, s.event "
        "FROM recommendation c JOIN team t ON t.id = c.team JOIN stage s ON s.id = c.from_stage WHERE c.id = {}",
        recommendation_id,
    )
    if row is None:
        raise NotFound("Recommendation")
    return row


async def _decide(
    principal: Principal, recommendation_id: int, state: RecommendationState, kind: str, **data: Any
) -> RecommendationOut:
    """Move a recommendation out of ``recommended`` (one conditional UPDATE under the stage's lock)."""
    row = await _recommendation(recommendation_id)
    async with transaction():
        await locked_row(AdvancementRules, row["from_stage"], by=AdvancementRules.from_stage)
        moved = (
            await Recommendation.update(
                {
                    Recommendation.state: state.value,
                    Recommendation.decided_by: principal.id,
                    Recommendation.decided_at: utcnow(),
                }
            )
            .where(
                (Recommendation.id == recommendation_id)
                & (Recommendation.state == RecommendationState.recommended.value)
            )
            .returning(Recommendation.id)
        )
        if not moved:
            current = (
                await Recommendation.select(Recommendation.state)
                .where(Recommendation.id == recommendation_id)
                .first()
            )
            raise Conflict(
                "recommendation_closed",
                "The recommendation is {state}; only a recommended team can be withdrawn or refused",
                params={"state": Term(current["state"] if current else "-", "recommendation state")},
            )
        await history.judging_changed(
            principal.id, row["event"], kind, "recommendation", recommendation_id, **data
        )
    fresh = [r for r in await _recommendations(row["from_stage"]) if r["id"] == recommendation_id]
    return _recommendation_out(fresh[0])


async def withdraw_recommendation(principal: Principal, recommendation_id: int) -> RecommendationOut:
    """Take a recommendation back: its recommender (still in scope) or a whole-event organizer."""
    row = await _recommendation(recommendation_id)
    scope = team_scope(
        {"track": row["team_track"], "region": row["region"], "institution": row["institution"]}
    )
    access = await stage_access(principal, row["from_stage"], Action.view_judging, target=scope)
    organizer = policy.decide(principal, Action.configure_judging, access.event) is policy.Outcome.allowed
    if not organizer:
        policy.require(principal, Action.recommend_teams, access.event, target=scope)
        if row["recommended_by"] != principal.id:
            raise Forbidden("Only its recommender or the event's organizers may withdraw a recommendation")
    return await _decide(
        principal, recommendation_id, RecommendationState.withdrawn, "recommendation_withdrawn"
    )


async def refuse_recommendation(
    principal: Principal, recommendation_id: int, reason: str
) -> RecommendationOut:
    """Turn a recommendation down, with the reason (kept in the audit log)."""
    row = await _recommendation(recommendation_id)
    await stage_access(principal, row["from_stage"], Action.configure_judging)
    return await _decide(
        principal, recommendation_id, RecommendationState.refused, "recommendation_refused", reason=reason
    )


async def accept_recommendations(principal: Principal, stage_id: int) -> list[RecommendationOut]:
    """Accept every recommended team: each gets its entry in the next stage, in one transaction.
    The quotas are checked again first (they may have been changed since)."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    _require_published(access)
    async with transaction():
        rules_row = await locked_row(AdvancementRules, stage_id, by=AdvancementRules.from_stage)
        if rules_row is None:
            raise Conflict("no_advancement_rules", "Set the advancement rules of this stage first")
        rows = await _recommendations(stage_id)
        accepted = [r for r in rows if r["state"] == RecommendationState.accepted.value]
        waiting = [r for r in rows if r["state"] == RecommendationState.recommended.value]
        rules = quotas.Rules.of(_json(rules_row["rules"]))
        breaches = quotas.check(rules, [_place_of(r) for r in accepted], [_place_of(r) for r in waiting])
        for row, breach in zip(waiting, breaches, strict=True):
            if breach is not None:
                raise _quota_conflict(breach, row["team_name"])
        now = utcnow()
        moved = (
            await Recommendation.update(
                {
                    Recommendation.state: RecommendationState.accepted.value,
                    Recommendation.decided_by: principal.id,
                    Recommendation.decided_at: now,
                }
            )
            .where(
                (Recommendation.from_stage == stage_id)
                & (Recommendation.state == RecommendationState.recommended.value)
            )
            .returning(Recommendation.id, Recommendation.team)
        )
        for row in moved:
            await add_entry(rules_row["to_stage"], row["team"], "advancement", principal.id)
        await history.judging_changed(
            principal.id,
            access.stage["event"],
            "recommendations_accepted",
            "stage",
            stage_id,
            to_stage=rules_row["to_stage"],
            recommendations=[r["id"] for r in moved],
        )
    ids = {r["id"] for r in moved}
    return [_recommendation_out(r) for r in await _recommendations(stage_id) if r["id"] in ids]


# Prize tiers and awards --------------------------------------------------------------------------


def _tier_out(row: dict[str, Any]) -> TierOut:
    return TierOut(
        row["id"], row["code"], row["size"], row["position"], row["name_zh"], row["name_en"], row["name_ru"]
    )


async def _tiers(stage_id: int) -> list[dict[str, Any]]:
    return await PrizeTier.select().where(PrizeTier.stage == stage_id).order_by(PrizeTier.position)


async def get_tiers(principal: Principal, stage_id: int) -> list[TierOut]:
    await stage_access(principal, stage_id, Action.view_judging)
    return [_tier_out(r) for r in await _tiers(stage_id)]


async def set_tiers(principal: Principal, stage_id: int, data: TiersIn) -> list[TierOut]:
    """Replace the stage's prize tiers (matched by code); a tier already given cannot be removed."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    checks = FieldChecks()
    seen: set[str] = set()
    for i, tier in enumerate(data.tiers):
        if tier.code in seen:
            checks.add("validation_error", INVALID_INPUT, f"tiers[{i}].code", "is used by another tier")
        seen.add(tier.code)
        if not (tier.name_zh.strip() or tier.name_en.strip() or tier.name_ru.strip()):
            checks.add(
                "name_required",
                "Give a name in at least one language",
                f"tiers[{i}].name_en",
                "Give a name in at least one language",
            )
    checks.raise_if_any(422)
    async with transaction():
        await locked_row(StageJudging, stage_id, by=StageJudging.stage)
        existing = {r["code"]: r for r in await _tiers(stage_id)}
        given = {r["tier"] for r in await Award.select(Award.tier).where(Award.stage == stage_id)}
        for code, row in existing.items():
            if code not in seen and row["id"] in given:
                raise Conflict(
                    "tier_awarded",
                    "Tier {code} has been given; it can be renamed but not removed",
                    params={"code": code},
                )
        removed = [row["id"] for code, row in existing.items() if code not in seen]
        if removed:
            await PrizeTier.delete().where(PrizeTier.id.is_in(removed))
        for position, tier in enumerate(data.tiers, start=1):
            values = {
                PrizeTier.size: tier.size,
                PrizeTier.position: position,
                PrizeTier.name_zh: tier.name_zh,
                PrizeTier.name_en: tier.name_en,
                PrizeTier.name_ru: tier.name_ru,
            }
            if tier.code in existing:
                await PrizeTier.update(values).where(PrizeTier.id == existing[tier.code]["id"])
            else:
                await PrizeTier.insert(
                    PrizeTier(stage=stage_id, code=tier.code, **{c._meta.name: v for c, v in values.items()})
                )
        await history.judging_changed(
            principal.id,
            access.stage["event"],
            "prize_tiers_saved",
            "stage",
            stage_id,
            tiers=[t.code for t in data.tiers],
        )
    return [_tier_out(r) for r in await _tiers(stage_id)]


_AWARDS = """
SELECT a.id, a.team, a.rank, a.awarded_at, a.tier, p.code AS tier_code, p.size AS tier_size, t.name AS team_name
FROM award a JOIN prize_tier p ON p.id = a.tier JOIN team t ON t.id = a.team
WHERE a.stage = {}
ORDER BY p.position, a.rank, a.team
"""


def _award_ties(rows: list[dict[str, Any]]) -> list[TeamTieOut]:
    """Tiers given to more teams than their size: the tie that crossed their end."""
    by_tier: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_tier.setdefault(row["tier_code"], []).append(row)
    ties = []
    for group in by_tier.values():
        if len(group) > group[0]["tier_size"]:
            last = max(r["rank"] for r in group)
            ties.append(TeamTieOut(last, sorted(r["team"] for r in group if r["rank"] == last)))
    return ties


async def _awards_out(stage_id: int, given: int) -> AwardsOut:
    rows = await fetch_all(_AWARDS, stage_id)
    awards = [
        AwardOut(r["id"], r["team"], r["team_name"], r["tier_code"], r["rank"], r["awarded_at"]) for r in rows
    ]
    return AwardsOut(awards, given, _award_ties(rows))


async def list_awards(principal: Principal, stage_id: int) -> AwardsOut:
    await stage_access(principal, stage_id, Action.view_judging)
    return await _awards_out(stage_id, 0)


async def give_awards(principal: Principal, stage_id: int) -> AwardsOut:
    """Give the prize tiers in the published order (see :func:`quotas.prizes`). Idempotent: a rerun
    gives the teams that have no award yet theirs, and changes no award already given."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    _require_published(access)
    async with transaction():
        await locked_row(StageJudging, stage_id, by=StageJudging.stage)
        tiers = await _tiers(stage_id)
        if not tiers:
            raise Conflict("no_prize_tiers", "Set the stage's prize tiers first")
        ranking = await standings(stage_id)
        ranked = [quotas.Ranked(s.team, s.place, s.tied) for s in ranking]
        have = {r["team"] for r in await Award.select(Award.team).where(Award.stage == stage_id)}
        new = [p for p in quotas.prizes(ranked, [t["size"] for t in tiers]) if p.key not in have]
        now = utcnow()
        if new:
            await Award.insert(
                *[
                    Award(
                        stage=stage_id,
                        team=p.key,
                        tier=tiers[p.tier]["id"],
                        rank=p.place,
                        awarded_by=principal.id,
                        awarded_at=now,
                    )
                    for p in new
                ]
            )
        await history.judging_changed(
            principal.id, access.stage["event"], "awards_given", "stage", stage_id, teams=[p.key for p in new]
        )
    return await _awards_out(stage_id, len(new))


# Certificates ------------------------------------------------------------------------------------

_PEOPLE = """
SELECT a.id AS award, m.team, m."user", m.role, u.display_name,
       COALESCE(p.name_native, '') AS name_native, COALESCE(p.name_latin, '') AS name_latin
FROM award a
JOIN team_member m ON m.team = a.team
JOIN podium_user u ON u.id = m."user"
LEFT JOIN profile p ON p."user" = m."user"
WHERE a.stage = {} AND m.state = 'confirmed'
ORDER BY a.id, m.id
"""

_CERTIFICATES = """
SELECT c.*, p.code AS tier_code
FROM certificate c JOIN award a ON a.id = c.award JOIN prize_tier p ON p.id = a.tier
WHERE a.stage = {}
ORDER BY c.team, c.id
"""


def certificate_out(row: dict[str, Any], base_url: str) -> CertificateOut:
    return CertificateOut(
        serial=row["serial"],
        team_id=row["team"],
        user_id=row["user"],
        holder_name=row["holder_name"],
        holder_name_latin=row["holder_name_latin"],
        role=row["role"],
        tier=row["tier_code"],
        issued_at=row["issued_at"],
        revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"],
        pdf_url=f"/api/v1/certificates/{row['serial']}.pdf",
        verify_url=verify_url(base_url, row["serial"]),
    )


def verify_url(base_url: str, serial: str) -> str:
    """The public verification page of a certificate: what its QR code holds."""
    return f"{base_url}/verify/{serial}"


async def list_certificates(principal: Principal, stage_id: int, base_url: str) -> CertificatesOut:
    await stage_access(principal, stage_id, Action.view_judging)
    return CertificatesOut(
        [certificate_out(r, base_url) for r in await fetch_all(_CERTIFICATES, stage_id)], 0
    )


async def issue_certificates(principal: Principal, stage_id: int, base_url: str) -> CertificatesOut:
    """A certificate for every confirmed member and advisor (with an account) of every awarded team,
    with the name of their profile (native script and Latin letters). Idempotent per award and person."""
    access = await stage_access(principal, stage_id, Action.configure_judging)
    async with transaction():
        await locked_row(StageJudging, stage_id, by=StageJudging.stage)
        have = {
            (r["award"], r["user"])
            for r in await fetch_all(
                'SELECT c.award, c."user" FROM certificate c JOIN award a ON a.id = c.award WHERE a.stage = {}',
                stage_id,
            )
        }
        people = [p for p in await fetch_all(_PEOPLE, stage_id) if (p["award"], p["user"]) not in have]
        now = utcnow()
        if people:
            await Certificate.insert(
                *[
                    Certificate(
                        award=p["award"],
                        team=p["team"],
                        user=p["user"],
                        holder_name=(p["name_native"] or p["display_name"] or p["name_latin"])[:200],
                        holder_name_latin=p["name_latin"][:200],
                        role="advisor" if p["role"].endswith("advisor") else "member",
                        serial=secrets.token_urlsafe(SERIAL_BYTES),
                        issued_at=now,
                    )
                    for p in people
                ]
            )
        await history.judging_changed(
            principal.id, access.stage["event"], "certificates_issued", "stage", stage_id, count=len(people)
        )
    rows = await fetch_all(_CERTIFICATES, stage_id)
    return CertificatesOut([certificate_out(r, base_url) for r in rows], len(people))


_CERTIFICATE = """
SELECT c.*, p.code AS tier_code, p.name_zh AS tier_zh, p.name_en AS tier_en, p.name_ru AS tier_ru,
       s.id AS stage, s.name_zh AS stage_zh, s.name_en AS stage_en, s.name_ru AS stage_ru,
       e.id AS event, e.name_zh AS event_zh, e.name_en AS event_en, e.name_ru AS event_ru,
       t.name AS team_name
FROM certificate c
JOIN award a ON a.id = c.award
JOIN prize_tier p ON p.id = a.tier
JOIN stage s ON s.id = a.stage
JOIN event e ON e.id = s.event
JOIN team t ON t.id = c.team
"""


async def certificate_by_serial(serial: str) -> dict[str, Any] | None:
    """The certificate with what its document and verification page show, or ``None``."""
    return await fetch_one(_CERTIFICATE + "WHERE c.serial = {}", serial)


async def team_certificates(team_id: int) -> list[dict[str, Any]]:
    """A team's certificates of every stage, as :func:`certificate_by_serial` gives each (the
    caller has checked the team)."""
    return await fetch_all(_CERTIFICATE + "WHERE c.team = {} ORDER BY c.issued_at, c.id", team_id)


async def certificate_for(principal: Principal, serial: str) -> dict[str, Any]:
    """A certificate for its document: its holder, the team's people and the organizers whose scope
    covers the team; to anyone else it does not exist."""
    row = await certificate_by_serial(serial)
    if row is None:
        raise NotFound("Certificate")
    if row["user"] != principal.id:
        await team_access(principal, row["team"], Action.view_team)
    if row["revoked_at"] is not None:
        raise _revoked(row)
    return row


def _revoked(row: dict[str, Any]) -> Conflict:
    revoked = row["revoked_at"]
    return Conflict(
        "certificate_revoked",
        "The certificate was revoked on {date}",
        params={"date": revoked.date().isoformat() if revoked else "-"},
    )


async def revoke_certificate(principal: Principal, serial: str, reason: str, base_url: str) -> CertificateOut:
    """Revoke a certificate (its verification page says so from now on), with the reason."""
    row = await certificate_by_serial(serial)
    if row is None:
        raise NotFound("Certificate")
    access = await stage_access(principal, row["stage"], Action.configure_judging)
    async with transaction():
        moved = (
            await Certificate.update({Certificate.revoked_at: utcnow(), Certificate.revoke_reason: reason})
            .where((Certificate.id == row["id"]) & Certificate.revoked_at.is_null())
            .returning(Certificate.id)
        )
        if not moved:
            raise _revoked(await certificate_by_serial(serial) or row)
        await history.judging_changed(
            principal.id,
            access.stage["event"],
            "certificate_revoked",
            "certificate",
            row["id"],
            reason=reason,
        )
    fresh = await certificate_by_serial(serial)
    assert fresh is not None
    return certificate_out(fresh, base_url)
