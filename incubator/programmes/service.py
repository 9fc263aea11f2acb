"""Programmes, their roles and cohorts, admissions, and a startup's file overview: one function per
change, each check access → validate → write in one transaction → audit (``incubator.<kind>``) →
answer.

Admission takes a contest's prize winners (by prize tier), hand-picked teams of a contest, or a
startup that never entered one. A batch is one transaction under the cohort's row lock: the places
left are counted there (409 ``cohort_full``), teams that already are startups of the programme are
skipped and reported (so a batch run twice, or twenty at once, makes each startup once; a team
admitted at the same moment into another cohort of the programme meets the unique index
``incubation_startup_team_once``, 409 ``team_admitted``). A startup keeps its team: its founders are
the team's leader (``lead``) and confirmed students, and every mentor connected to the whole cohort
gets a :class:`~incubator.tables.MentorLink` with the cohort's minutes per startup.

A startup's history is read from the judging tables: its entries per stage, its rank in each
published ranking and its prizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from backend import policy
from backend.db import fetch_all, fetch_one, locked_row, transaction
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, NotFound
from backend.i18n import localized
from backend.policy import Action, Principal, decide
from incubator.access import StartupAccess, allowed, programme_access, programme_context, startup_access
from incubator.history import incubator_changed
from incubator.people import account_by_email
from incubator.programmes.schemas import (
    ActionItemBrief,
    AdmissionOut,
    CandidateOut,
    CohortIn,
    CohortOut,
    CohortPatch,
    CohortSummary,
    DirectIn,
    DueReportBrief,
    FounderIn,
    FounderOut,
    HistoryOut,
    PreviewOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
    ResultsIn,
    RoleIn,
    RoleOut,
    SkippedOut,
    StageHistoryOut,
    StartupOut,
    StartupPatch,
    StartupSummary,
    StatusIn,
    TeamsIn,
    TierOut,
)
from incubator.tables import (
    AdmittedVia,
    Cohort,
    Founder,
    FounderRole,
    MentorCohort,
    MentorLink,
    Programme,
    ProgrammeGrant,
    Startup,
    StartupStatus,
)

NO_ACCOUNT = "No account has this e-mail address: the person signs up first"
ENDED = (StartupStatus.closed.value, StartupStatus.withdrawn.value)  # statuses that need closed_on


def _invalid(fields: dict[str, str], **params: object) -> DomainError:
    return DomainError("validation_error", INVALID_INPUT, status_code=422, fields=fields, params=params)


async def _user_by_email(email: str, field: str) -> dict[str, Any]:
    row = await account_by_email(email)
    if row is None:
        raise DomainError("no_account", NO_ACCOUNT, status_code=422, fields={field: "has no account"})
    return row


def _check_names(names: Iterable[str]) -> None:
    if not any(name.strip() for name in names):
        raise DomainError(
            "name_required",
            "Give a name in at least one language",
            status_code=422,
            fields={"name_en": "required"},
        )


def _check_website(website: str | None) -> None:
    if website and not website.startswith(("https://", "http://")):
        raise _invalid({"website": "must be an address starting with https:// or http://"})


# Programmes -------------------------------------------------------------------------------------

_MY_ROLES = """
SELECT p.id AS programme, 'manager' AS role FROM incubation_programme p
  JOIN role_grant g ON g.organization = p.organization AND g."user" = {} AND g.role IN ('org_admin', 'organizer')
UNION SELECT r.programme, r.role FROM incubation_programme_role r WHERE r."user" = {}
UNION SELECT m.programme, 'mentor' FROM incubation_mentor m WHERE m."user" = {} AND m.active
UNION SELECT s.programme, 'founder' FROM incubation_founder f JOIN incubation_startup s ON s.id = f.startup
  WHERE f."user" = {}
"""


async def my_roles(principal: Principal) -> dict[int, set[str]]:
    """Programme id → the caller's roles in it (every programme for a platform admin, who manages
    them all)."""
    roles: dict[int, set[str]] = {}
    if principal.is_platform_admin:
        for row in await fetch_all("SELECT id FROM incubation_programme"):
            roles[row["id"]] = {"manager"}
    for row in await fetch_all(_MY_ROLES, *([principal.id] * 4)):
        roles.setdefault(row["programme"], set()).add(row["role"])
    return roles


_COHORTS = """
SELECT c.id, c.programme, c.name, c.starts_on, c.ends_on, c.mode, c.places,
       (SELECT COUNT(*) FROM incubation_startup s WHERE s.cohort = c.id) AS admitted
FROM incubation_cohort c WHERE c.programme IN ({}) ORDER BY c.starts_on DESC, c.id
"""


def _cohort_summary(row: dict[str, Any]) -> CohortSummary:
    return CohortSummary(
        id=row["id"],
        name=row["name"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        mode=row["mode"],
        places=row["places"],
        admitted=int(row["admitted"]),
    )


async def _programmes_out(rows: list[dict[str, Any]], roles: dict[int, set[str]]) -> list[ProgrammeOut]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    cohorts: dict[int, list[CohortSummary]] = {}
    for row in await fetch_all(_COHORTS.format(", ".join(["{}"] * len(ids))), *ids):
        cohorts.setdefault(row["programme"], []).append(_cohort_summary(row))
    return [
        ProgrammeOut(
            id=r["id"],
            organization_id=r["organization"],
            slug=r["slug"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            name_ru=r["name_ru"],
            description=r["description"],
            currency=r["currency"],
            cancellation_hours=r["cancellation_hours"],
            stalled_weeks=r["stalled_weeks"],
            created_at=r["created_at"],
            roles=sorted(roles.get(r["id"], ())),
            cohorts=cohorts.get(r["id"], []),
        )
        for r in rows
    ]


async def list_programmes(principal: Principal) -> list[ProgrammeOut]:
    """The programmes the caller holds any role in (manager, viewer, mentor, founder)."""
    roles = await my_roles(principal)
    if not roles:
        return []
    rows = await Programme.select().where(Programme.id.is_in(list(roles))).order_by(Programme.id)
    return await _programmes_out(rows, roles)


async def _any_role(principal: Principal, programme_id: int) -> policy.ProgrammeContext:
    """The programme's context when the caller holds any role in it (managers and viewers, and the
    mentors and founders the directory is for); 404 to everyone else."""
    context = await programme_context(principal, programme_id)
    if context is None:
        raise NotFound("Programme")
    if not any(allowed(principal, a, context) for a in (Action.view_programme, Action.view_mentor_directory)):
        raise NotFound("Programme")
    return context


async def get_programme(principal: Principal, programme_id: int) -> ProgrammeOut:
    context = await _any_role(principal, programme_id)
    rows = await Programme.select().where(Programme.id == programme_id)
    return (await _programmes_out(rows, {programme_id: set(context.roles)}))[0]


async def _check_slug_free(slug: str) -> None:
    if await Programme.exists().where(Programme.slug == slug):
        raise Conflict("programme_slug_taken", "Another programme uses this slug", fields={"slug": "taken"})


async def create_programme(principal: Principal, data: ProgrammeIn) -> ProgrammeOut:
    """A new programme of an organization, whose admins and organizers manage it."""
    organization = await policy.organization_context(principal, data.organization_id)
    if organization is None:
        raise _invalid({"organization_id": "is not an organization"})
    policy.require(principal, Action.create_programme, organization=organization)
    _check_names((data.name_zh, data.name_en, data.name_ru))
    async with transaction():
        await _check_slug_free(data.slug)
        row = Programme(
            organization=data.organization_id,
            slug=data.slug,
            name_zh=data.name_zh.strip(),
            name_en=data.name_en.strip(),
            name_ru=data.name_ru.strip(),
            description=data.description,
            currency=data.currency,
            cancellation_hours=data.cancellation_hours,
            stalled_weeks=data.stalled_weeks,
            created_by=principal.id,
        )
        await row.save()
        await incubator_changed(
            principal.id, row.id, "programme_created", "incubation_programme", row.id, slug=data.slug
        )
    return await get_programme(principal, row.id)


def _given(data: Any) -> dict[str, Any]:
    return {k: getattr(data, k) for k in data.__struct_fields__ if getattr(data, k) is not None}


async def update_programme(principal: Principal, programme_id: int, data: ProgrammePatch) -> ProgrammeOut:
    await programme_access(principal, programme_id, Action.manage_programme)
    changes = _given(data)
    async with transaction():
        current = await locked_row(Programme, programme_id)
        if current is None:
            raise NotFound("Programme")
        _check_names(changes.get(k, current[k]) for k in ("name_zh", "name_en", "name_ru"))
        if changes:
            await Programme.update({getattr(Programme, k): v for k, v in changes.items()}).where(
                Programme.id == programme_id
            )
        await incubator_changed(
            principal.id,
            programme_id,
            "programme_updated",
            "incubation_programme",
            programme_id,
            fields=sorted(changes),
        )
    return await get_programme(principal, programme_id)


# Roles ------------------------------------------------------------------------------------------

_ROLE_ROWS = """
SELECT r.id, r."user" AS user_id, u.email, u.display_name, r.role, r.created_at
FROM incubation_programme_role r JOIN podium_user u ON u.id = r."user"
WHERE r.programme = {} ORDER BY r.role, u.email
"""


async def list_roles(principal: Principal, programme_id: int) -> list[RoleOut]:
    """The people granted a role in the programme (the organization's admins and organizers manage
    it without a grant)."""
    await programme_access(principal, programme_id, Action.manage_programme)
    return [RoleOut(**row) for row in await fetch_all(_ROLE_ROWS, programme_id)]


async def grant_role(principal: Principal, programme_id: int, data: RoleIn) -> RoleOut:
    await programme_access(principal, programme_id, Action.manage_programme)
    person = await _user_by_email(data.email, "email")
    async with transaction():
        if await ProgrammeGrant.exists().where(
            (ProgrammeGrant.programme == programme_id)
            & (ProgrammeGrant.user == person["id"])
            & (ProgrammeGrant.role == data.role)
        ):
            raise Conflict("programme_role_exists", "The person already holds this role in the programme")
        row = ProgrammeGrant(
            programme=programme_id, user=person["id"], role=data.role, granted_by=principal.id
        )
        await row.save()
        await incubator_changed(
            principal.id,
            programme_id,
            "role_granted",
            "incubation_programme_role",
            row.id,
            user=person["id"],
            role=data.role,
        )
    return next(r for r in await list_roles(principal, programme_id) if r.id == row.id)


async def revoke_role(principal: Principal, programme_id: int, user_id: int, role: str | None) -> None:
    """Take the person's role (``role``, or every role they hold) in the programme away."""
    await programme_access(principal, programme_id, Action.manage_programme)
    where = (ProgrammeGrant.programme == programme_id) & (ProgrammeGrant.user == user_id)
    if role is not None:
        where &= ProgrammeGrant.role == role
    async with transaction():
        gone = await ProgrammeGrant.delete().where(where).returning(ProgrammeGrant.role)
        if not gone:
            raise NotFound("Role")
        await incubator_changed(
            principal.id,
            programme_id,
            "role_revoked",
            "podium_user",
            user_id,
            roles=sorted(r["role"] for r in gone),
        )


# Cohorts ----------------------------------------------------------------------------------------


def _check_dates(starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on < starts_on:
        raise DomainError(
            "invalid_dates",
            "The cohort ends before it starts",
            status_code=422,
            fields={"ends_on": "is before the start"},
        )


async def _admitted(cohort_id: int) -> int:
    return await Startup.count().where(Startup.cohort == cohort_id)


async def create_cohort(principal: Principal, programme_id: int, data: CohortIn) -> CohortOut:
    await programme_access(principal, programme_id, Action.manage_programme)
    _check_dates(data.starts_on, data.ends_on)
    name = data.name.strip()
    async with transaction():
        if await Cohort.exists().where((Cohort.programme == programme_id) & (Cohort.name == name)):
            raise Conflict(
                "cohort_name_taken", "The programme has a cohort with this name", fields={"name": "taken"}
            )
        row = Cohort(
            programme=programme_id,
            name=name,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            mode=data.mode,
            places=data.places,
        )
        await row.save()
        await incubator_changed(
            principal.id, programme_id, "cohort_created", "incubation_cohort", row.id, name=name
        )
    return await _cohort_out(row.id)


async def cohort_programme(cohort_id: int) -> int:
    row = await fetch_one("SELECT programme FROM incubation_cohort WHERE id = {}", cohort_id)
    if row is None:
        raise NotFound("Cohort")
    return row["programme"]


async def update_cohort(principal: Principal, cohort_id: int, data: CohortPatch) -> CohortOut:
    """Change a cohort; its places never drop below the startups it has admitted (409
    ``places_below_admitted``, checked under the cohort's lock that admissions take too)."""
    programme_id = await cohort_programme(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    changes = _given(data)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    async with transaction():
        current = await locked_row(Cohort, cohort_id)
        if current is None:
            raise NotFound("Cohort")
        _check_dates(
            changes.get("starts_on", current["starts_on"]), changes.get("ends_on", current["ends_on"])
        )
        admitted = await _admitted(cohort_id)
        if changes.get("places", current["places"]) < admitted:
            raise Conflict(
                "places_below_admitted",
                "The cohort has admitted {admitted} startups: its places cannot be fewer",
                fields={"places": "must be at least {admitted}"},
                params={"admitted": admitted},
            )
        if (
            "name" in changes
            and changes["name"] != current["name"]
            and await Cohort.exists().where(
                (Cohort.programme == programme_id)
                & (Cohort.name == changes["name"])
                & (Cohort.id != cohort_id)
            )
        ):
            raise Conflict(
                "cohort_name_taken", "The programme has a cohort with this name", fields={"name": "taken"}
            )
        if changes:
            await Cohort.update({getattr(Cohort, k): v for k, v in changes.items()}).where(
                Cohort.id == cohort_id
            )
        await incubator_changed(
            principal.id,
            programme_id,
            "cohort_updated",
            "incubation_cohort",
            cohort_id,
            fields=sorted(changes),
        )
    return await _cohort_out(cohort_id)


_STARTUPS = """
SELECT s.id, s.name, s.sector, s.status, s.admitted_via, s.prize, s.team,
       (SELECT COUNT(*) FROM incubation_founder f WHERE f.startup = s.id) AS founders
FROM incubation_startup s WHERE s.cohort = {} ORDER BY s.name, s.id
"""


def _startup_summary(row: dict[str, Any]) -> StartupSummary:
    return StartupSummary(
        id=row["id"],
        name=row["name"],
        sector=row["sector"],
        status=row["status"],
        admitted_via=row["admitted_via"],
        prize=row["prize"],
        team_id=row["team"],
        founders=int(row["founders"]),
    )


async def _cohort_out(cohort_id: int) -> CohortOut:
    row = await Cohort.select().where(Cohort.id == cohort_id).first()
    if row is None:
        raise NotFound("Cohort")
    startups = [_startup_summary(r) for r in await fetch_all(_STARTUPS, cohort_id)]
    return CohortOut(
        id=row["id"],
        programme_id=row["programme"],
        name=row["name"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        mode=row["mode"],
        places=row["places"],
        admitted=len(startups),
        startups=startups,
    )


async def get_cohort(principal: Principal, cohort_id: int) -> CohortOut:
    """A cohort and its startups (names, status, how they were admitted): the programme's managers
    and viewers."""
    await programme_access(principal, await cohort_programme(cohort_id), Action.view_programme)
    return await _cohort_out(cohort_id)


# Admission --------------------------------------------------------------------------------------

_AWARDS = """
SELECT a.team, t.name, t.entry_title, a.rank, pt.code, pt.name_zh, pt.name_en, pt.name_ru, pt.position,
       st.position AS stage_position, st.name_zh AS stage_zh, st.name_en AS stage_en, st.name_ru AS stage_ru
FROM award a JOIN prize_tier pt ON pt.id = a.tier JOIN stage st ON st.id = a.stage JOIN team t ON t.id = a.team
WHERE st.event = {} ORDER BY st.position DESC, pt.position, a.rank, a.team
"""


async def _awards(event_id: int) -> list[dict[str, Any]]:
    """The contest's awards, the latest stage's first (as dicts, which :func:`localized` reads)."""
    return [dict(r) for r in await fetch_all(_AWARDS, event_id)]


async def _contest(principal: Principal, event_id: int) -> None:
    """The contest whose teams are admitted: a contest the caller may see the judging of (its
    organizers, within their scope)."""
    context = await policy.event_context(principal, event_id)
    kind = await fetch_one("SELECT kind FROM event WHERE id = {}", event_id)
    if context is None or kind is None or kind["kind"] != "contest":
        raise _invalid({"event_id": "is not a contest"})
    policy.refuse_unless_allowed(decide(principal, Action.view_judging, event=context), Action.view_judging)


async def _team_founders(team_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Team → its future founders (user id, role): the leader, then the confirmed students."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    marks = ", ".join(["{}"] * len(ids))
    rows = await fetch_all(
        f"""SELECT t.id AS team, t.leader AS "user", 0 AS seat FROM team t WHERE t.id IN ({marks}) AND t.leader IS NOT NULL
            UNION ALL
            SELECT m.team, m."user", 1 FROM team_member m WHERE m.team IN ({marks}) AND m.state = 'confirmed'
              AND m.role IN ('leader', 'member') AND m."user" IS NOT NULL
            ORDER BY 1, 3, 2""",  # noqa: S608 (placeholders only)
        *ids,
        *ids,
    )
    founders: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        people = founders.setdefault(row["team"], [])
        if all(user != row["user"] for user, _ in people):
            lead = row["seat"] == 0
            people.append((row["user"], FounderRole.lead.value if lead else FounderRole.founder.value))
    return founders


async def _existing(programme_id: int, team_ids: Iterable[int]) -> dict[int, int]:
    """Team → the startup it already is in the programme."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    rows = await Startup.select(Startup.id, Startup.team).where(
        (Startup.programme == programme_id) & Startup.team.is_in(ids)
    )
    return {r["team"]: r["id"] for r in rows}


def _best_awards(rows: list[dict[str, Any]], tiers: set[str] | None) -> dict[int, dict[str, Any]]:
    """Team → its award in the latest stage (among the tiers ``tiers``, when given), in rank order."""
    best: dict[int, dict[str, Any]] = {}
    for row in rows:
        if (tiers is None or row["code"] in tiers) and row["team"] not in best:
            best[row["team"]] = row
    return best


async def _places_left(cohort_id: int) -> int:
    row = await Cohort.select(Cohort.places).where(Cohort.id == cohort_id).first()
    return max(0, row["places"] - await _admitted(cohort_id)) if row else 0


async def preview(
    principal: Principal, cohort_id: int, event_id: int, tiers: list[str] | None, locale: str
) -> PreviewOut:
    """What an admission from the contest's results would take: its prize tiers (with how many teams
    each) and the teams of the tiers ``tiers`` (every prize winner when none are given), each with
    the startup it already is, if any."""
    programme_id = await cohort_programme(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    await _contest(principal, event_id)
    return await contest_winners(programme_id, cohort_id, event_id, tiers, locale)


async def contest_winners(
    programme_id: int | None, cohort_id: int | None, event_id: int, tiers: list[str] | None, locale: str
) -> PreviewOut:
    """The contest's prize tiers and winners (see :func:`preview`); access is the caller's business."""
    rows = await _awards(event_id)
    tier_out: dict[str, TierOut] = {}
    counted: dict[str, set[int]] = {}
    for row in rows:
        counted.setdefault(row["code"], set()).add(row["team"])
        if row["code"] not in tier_out:
            stage = localized({"name_" + k: row["stage_" + k] for k in ("zh", "en", "ru")}, "name", locale)
            tier_out[row["code"]] = TierOut(
                code=row["code"], name=localized(row, "name", locale), stage=stage, teams=0
            )
    for code, teams in counted.items():
        tier_out[code].teams = len(teams)
    best = _best_awards(rows, set(tiers) if tiers else None)
    founders = await _team_founders(best)
    existing = await _existing(programme_id, best) if programme_id is not None else {}
    teams = [
        CandidateOut(
            team_id=team,
            name=row["name"],
            entry_title=row["entry_title"],
            prize=localized(row, "name", locale),
            tier=row["code"],
            rank=row["rank"],
            founders=len(founders.get(team, [])),
            startup_id=existing.get(team),
        )
        for team, row in best.items()
    ]
    places = await _places_left(cohort_id) if cohort_id is not None else 0
    return PreviewOut(event_id=event_id, places_left=places, tiers=list(tier_out.values()), teams=teams)


async def admit_results(principal: Principal, cohort_id: int, data: ResultsIn, locale: str) -> AdmissionOut:
    """Admit the teams the contest awarded the tiers ``data.tiers``."""
    programme_id = await cohort_programme(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    await _contest(principal, data.event_id)
    rows = await _awards(data.event_id)
    known = {r["code"] for r in rows}
    problems = FieldChecks()
    for i, code in enumerate(data.tiers):
        if code not in known:
            problems.add(
                "validation_error", INVALID_INPUT, f"tiers[{i}]", "is not a prize tier this contest awarded"
            )
    problems.raise_if_any(422)
    best = _best_awards(rows, set(data.tiers))
    teams = [
        {
            "team": team,
            "name": row["name"],
            "entry_title": row["entry_title"],
            "prize": localized(row, "name", locale),
        }
        for team, row in best.items()
    ]
    return await _admit(principal, programme_id, cohort_id, teams, AdmittedVia.results, data.event_id)


async def admit_teams(principal: Principal, cohort_id: int, data: TeamsIn, locale: str) -> AdmissionOut:
    """Admit hand-picked teams of a contest (with their prize, when they won one)."""
    programme_id = await cohort_programme(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    await _contest(principal, data.event_id)
    ids = list(dict.fromkeys(data.team_ids))
    marks = ", ".join(["{}"] * len(ids))
    found = {
        r["id"]: r
        for r in await fetch_all(
            f"SELECT id, name, entry_title FROM team WHERE event = {{}} AND id IN ({marks})",  # noqa: S608
            data.event_id,
            *ids,
        )
    }
    problems = FieldChecks()
    for i, team in enumerate(data.team_ids):
        if team not in found:
            problems.add("validation_error", INVALID_INPUT, f"team_ids[{i}]", "is not a team of this contest")
    problems.raise_if_any(422)
    best = _best_awards(await _awards(data.event_id), None)
    teams = [
        {
            "team": team,
            "name": found[team]["name"],
            "entry_title": found[team]["entry_title"],
            "prize": localized(best[team], "name", locale) if team in best else "",
        }
        for team in ids
    ]
    return await _admit(principal, programme_id, cohort_id, teams, AdmittedVia.hand_picked, data.event_id)


async def admit_direct(principal: Principal, cohort_id: int, data: DirectIn) -> AdmissionOut:
    """Admit a startup that never entered a contest, with its founders' accounts."""
    programme_id = await cohort_programme(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    _check_website(data.website)
    people: list[tuple[int, str]] = []
    problems = FieldChecks()
    for i, email in enumerate(data.founder_emails):
        row = await account_by_email(email)
        if row is None:
            problems.add("no_account", NO_ACCOUNT, f"founder_emails[{i}]", "has no account")
        elif all(user != row["id"] for user, _ in people):
            people.append((row["id"], FounderRole.lead.value if not people else FounderRole.founder.value))
    problems.raise_if_any(422)
    startup = {
        "team": None,
        "name": data.name.strip(),
        "description": data.description,
        "sector": data.sector.strip(),
        "website": data.website.strip(),
        "prize": "",
        "founders": people,
    }
    return await _admit(principal, programme_id, cohort_id, [startup], AdmittedVia.direct, None)


async def _admit(
    principal: Principal,
    programme_id: int,
    cohort_id: int,
    candidates: list[dict[str, Any]],
    via: AdmittedVia,
    event_id: int | None,
) -> AdmissionOut:
    """One admission batch (see the module's docstring): ``candidates`` are dicts with ``team``
    (or ``None``), ``name``, ``prize`` and, for a startup without a team, ``founders``."""
    async with transaction():
        cohort = await locked_row(Cohort, cohort_id)
        if cohort is None:
            raise NotFound("Cohort")
        existing = await _existing(programme_id, (c["team"] for c in candidates if c["team"] is not None))
        new = [c for c in candidates if c["team"] is None or c["team"] not in existing]
        admitted = await _admitted(cohort_id)
        if new and admitted + len(new) > cohort["places"]:
            raise Conflict(
                "cohort_full",
                "The cohort has {left} places left of {places}: {wanted} startups do not fit",
                fields={"places": "{left} left"},
                params={
                    "left": max(0, cohort["places"] - admitted),
                    "places": cohort["places"],
                    "wanted": len(new),
                },
            )
        team_founders = await _team_founders(c["team"] for c in new if c["team"] is not None)
        connections = await MentorCohort.select().where(MentorCohort.cohort == cohort_id)
        made: list[int] = []
        founders: list[Founder] = []
        links: list[MentorLink] = []
        for candidate in new:
            row = Startup(
                programme=programme_id,
                cohort=cohort_id,
                team=candidate["team"],
                source_event=event_id if candidate["team"] is not None else None,
                prize=candidate["prize"][:200],
                admitted_via=via.value,
                name=candidate["name"][:200],
                description=candidate.get("description") or candidate.get("entry_title", ""),
                sector=candidate.get("sector", ""),
                website=candidate.get("website", ""),
                admitted_by=principal.id,
            )
            await row.save()
            made.append(row.id)
            people = (
                candidate["founders"]
                if candidate["team"] is None
                else team_founders.get(candidate["team"], [])
            )
            founders.extend(Founder(startup=row.id, user=user, role=role) for user, role in people)
            links.extend(
                MentorLink(
                    mentor=c["mentor"],
                    startup=row.id,
                    via_cohort=c["id"],
                    budget_minutes=c["minutes_per_startup"],
                )
                for c in connections
            )
        if founders:
            await Founder.insert(*founders)
        if links:
            await MentorLink.insert(*links)
        if made:
            await incubator_changed(
                principal.id,
                programme_id,
                "startups_admitted",
                "incubation_cohort",
                cohort_id,
                via=via.value,
                event=event_id,
                startups=made,
            )
    summaries = {r["id"]: r for r in await fetch_all(_STARTUPS, cohort_id)}
    names = {c["team"]: c["name"] for c in candidates if c["team"] is not None}
    return AdmissionOut(
        admitted=[_startup_summary(summaries[i]) for i in made if i in summaries],
        skipped=[SkippedOut(team_id=t, name=names[t], startup_id=s) for t, s in existing.items()],
    )


# A startup's file: the overview -----------------------------------------------------------------

_HISTORY = """
SELECT st.id AS stage_id, st.name_zh, st.name_en, st.name_ru, st.level,
       se.label, se.status AS entry_status, r.rank, r.track_rank, r.score,
       pt.name_zh AS prize_zh, pt.name_en AS prize_en, pt.name_ru AS prize_ru
FROM stage st
LEFT JOIN stage_entry se ON se.stage = st.id AND se.team = {}
LEFT JOIN award a ON a.stage = st.id AND a.team = {}
LEFT JOIN prize_tier pt ON pt.id = a.tier
LEFT JOIN stage_judging sj ON sj.stage = st.id AND sj.status = 'published'
LEFT JOIN stage_result r ON r.run = sj.published_run AND r.stage_entry = se.id
WHERE st.event = {} AND (se.id IS NOT NULL OR a.id IS NOT NULL)
ORDER BY st.position, st.id
"""


async def team_history(team_id: int, locale: str) -> HistoryOut | None:
    """The team's contest as its startup's file shows it: each stage it entered or won a prize in,
    its rank in the stage's published ranking, its prize."""
    team = await fetch_one(
        """SELECT t.id, t.name, t.entry_title, e.id AS event_id, e.slug, e.name_zh, e.name_en, e.name_ru
           FROM team t JOIN event e ON e.id = t.event WHERE t.id = {}""",
        team_id,
    )
    if team is None:
        return None
    stages = [
        StageHistoryOut(
            stage_id=r["stage_id"],
            stage=localized(r, "name", locale),
            level=r["level"],
            entry_label=r["label"] or "",
            entry_status=r["entry_status"] or "",
            rank=r["rank"],
            track_rank=r["track_rank"],
            score=r["score"],
            prize=localized({f"name_{k}": r[f"prize_{k}"] or "" for k in ("zh", "en", "ru")}, "name", locale),
        )
        for r in map(dict, await fetch_all(_HISTORY, team_id, team_id, team["event_id"]))
    ]
    return HistoryOut(
        team_id=team["id"],
        team_name=team["name"],
        entry_title=team["entry_title"],
        event_id=team["event_id"],
        event_slug=team["slug"],
        event_name=localized(dict(team), "name", locale),
        stages=stages,
    )


async def founders_of(startup_id: int) -> list[FounderOut]:
    rows = await fetch_all(
        """SELECT f."user" AS user_id, u.display_name, u.email, f.role, f.title
           FROM incubation_founder f JOIN podium_user u ON u.id = f."user"
           WHERE f.startup = {} ORDER BY f.role DESC, u.display_name, f.id""",
        startup_id,
    )
    return [FounderOut(**r) for r in rows]


async def _open_items(startup_id: int) -> list[ActionItemBrief]:
    rows = await fetch_all(
        """SELECT id, title, side, due_on FROM incubation_action_item
           WHERE startup = {} AND done_at IS NULL ORDER BY due_on IS NULL, due_on, id LIMIT 20""",
        startup_id,
    )
    return [ActionItemBrief(**r) for r in rows]


async def _due_reports(startup_id: int, cohort_id: int, today: dt.date) -> list[DueReportBrief]:
    """The periods whose report is missing and due within a month (or overdue)."""
    rows = await fetch_all(
        """SELECT p.id, p.label, p.due_on FROM incubation_report_period p
           WHERE p.cohort = {} AND p.due_on <= {}
             AND NOT EXISTS (SELECT 1 FROM incubation_report r WHERE r.period = p.id AND r.startup = {})
           ORDER BY p.due_on DESC LIMIT 12""",
        cohort_id,
        today + dt.timedelta(days=31),
        startup_id,
    )
    return [
        DueReportBrief(period_id=r["id"], label=r["label"], due_on=r["due_on"], overdue=r["due_on"] < today)
        for r in rows
    ]


async def _startup_out(access: StartupAccess, locale: str) -> StartupOut:
    row = await Startup.select().where(Startup.id == access.startup_id).first()
    if row is None:
        raise NotFound("Startup")
    return StartupOut(
        id=row["id"],
        programme_id=row["programme"],
        cohort_id=row["cohort"],
        name=row["name"],
        description=row["description"],
        sector=row["sector"],
        website=row["website"],
        status=row["status"],
        closed_on=row["closed_on"],
        admitted_via=row["admitted_via"],
        prize=row["prize"],
        team_id=row["team"],
        source_event_id=row["source_event"],
        admitted_at=row["admitted_at"],
        founders=await founders_of(access.startup_id),
        history=await team_history(row["team"], locale) if row["team"] is not None else None,
        open_action_items=await _open_items(access.startup_id),
        due_reports=await _due_reports(access.startup_id, row["cohort"], dt.date.today()),
    )


async def get_startup(principal: Principal, startup_id: int, locale: str = "en") -> StartupOut:
    """A startup's overview: profile, founders, status, its team's contest, open action items and
    reports due."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    return await _startup_out(access, locale)


async def update_startup(
    principal: Principal, startup_id: int, data: StartupPatch, locale: str = "en"
) -> StartupOut:
    """The founders' change of their startup's profile."""
    access = await startup_access(principal, startup_id, Action.act_for_startup)
    _check_website(data.website)
    changes = {k: v.strip() if k != "description" else v for k, v in _given(data).items()}
    async with transaction():
        if changes:
            await Startup.update(
                {
                    **{getattr(Startup, k): v for k, v in changes.items()},
                    Startup.updated_at: dt.datetime.now(dt.UTC),
                }
            ).where(Startup.id == startup_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "startup_updated",
            "incubation_startup",
            startup_id,
            fields=sorted(changes),
        )
    return await _startup_out(access, locale)


async def _managed_startup(principal: Principal, startup_id: int) -> StartupAccess:
    """The startup, when the caller manages its programme (404 to those who may not see it)."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    policy.refuse_unless_allowed(
        decide(principal, Action.manage_programme, programme=access.context),
        Action.manage_programme,
        "Startup",
    )
    return access


async def set_status(principal: Principal, startup_id: int, data: StatusIn, locale: str = "en") -> StartupOut:
    """Record a startup's status (managers): graduated, closed or withdrawn (with the day), or
    active again."""
    access = await _managed_startup(principal, startup_id)
    if data.status in ENDED and data.closed_on is None:
        raise _invalid({"closed_on": "is required when the startup has closed or withdrawn"})
    closed_on = data.closed_on if data.status in ENDED else None
    async with transaction():
        await Startup.update(
            {
                Startup.status: data.status,
                Startup.closed_on: closed_on,
                Startup.updated_at: dt.datetime.now(dt.UTC),
            }
        ).where(Startup.id == startup_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "startup_status_set",
            "incubation_startup",
            startup_id,
            status=data.status,
            closed_on=closed_on.isoformat() if closed_on else None,
        )
    return await _startup_out(access, locale)


async def add_founder(principal: Principal, startup_id: int, data: FounderIn) -> list[FounderOut]:
    """Add a founder (managers); a new lead takes the lead from the former one."""
    access = await _managed_startup(principal, startup_id)
    person = await _user_by_email(data.email, "email")
    async with transaction():
        await locked_row(Startup, startup_id)
        if await Founder.exists().where((Founder.startup == startup_id) & (Founder.user == person["id"])):
            raise Conflict(
                "founder_exists", "The person is already a founder of this startup", fields={"email": "taken"}
            )
        if data.role == FounderRole.lead.value:
            await Founder.update({Founder.role: FounderRole.founder.value}).where(
                Founder.startup == startup_id
            )
        row = Founder(startup=startup_id, user=person["id"], role=data.role, title=data.title.strip())
        await row.save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "founder_added",
            "incubation_startup",
            startup_id,
            user=person["id"],
            role=data.role,
        )
    return await founders_of(startup_id)


async def remove_founder(principal: Principal, startup_id: int, user_id: int) -> list[FounderOut]:
    access = await _managed_startup(principal, startup_id)
    async with transaction():
        gone = (
            await Founder.delete()
            .where((Founder.startup == startup_id) & (Founder.user == user_id))
            .returning(Founder.id)
        )
        if not gone:
            raise NotFound("Founder")
        await incubator_changed(
            principal.id,
            access.programme_id,
            "founder_removed",
            "incubation_startup",
            startup_id,
            user=user_id,
        )
    return await founders_of(startup_id)


# The hub ----------------------------------------------------------------------------------------


async def hub(principal: Principal) -> dict[str, Any]:
    """What ``/incubator`` shows the caller: the programmes they manage or view, the startups they
    found and those they mentor, and the founders' overdue reports."""
    roles = await my_roles(principal)
    shown = [p for p, held in roles.items() if held & {"manager", "viewer"}]
    programmes = (
        await Programme.select().where(Programme.id.is_in(shown)).order_by(Programme.id) if shown else []
    )
    startup_columns = """s.id, s.name, s.status, c.name AS cohort_name, p.name_zh, p.name_en, p.name_ru
        FROM incubation_startup s JOIN incubation_cohort c ON c.id = s.cohort
        JOIN incubation_programme p ON p.id = s.programme"""
    founded = await fetch_all(
        f"""SELECT {startup_columns} JOIN incubation_founder f ON f.startup = s.id
            WHERE f."user" = {{}} ORDER BY s.name, s.id""",
        principal.id,
    )
    mentored = await fetch_all(
        f"""SELECT {startup_columns} JOIN incubation_mentor_link l ON l.startup = s.id
            JOIN incubation_mentor m ON m.id = l.mentor
            WHERE m."user" = {{}} AND m.active ORDER BY s.name, s.id""",
        principal.id,
    )
    overdue = await fetch_all(
        """SELECT s.id AS startup_id, s.name, p.id AS period_id, p.label, p.due_on
           FROM incubation_founder f JOIN incubation_startup s ON s.id = f.startup
           JOIN incubation_report_period p ON p.cohort = s.cohort
           WHERE f."user" = {} AND s.status = 'active' AND p.due_on < {}
             AND NOT EXISTS (SELECT 1 FROM incubation_report r WHERE r.period = p.id AND r.startup = s.id)
           ORDER BY p.due_on, s.name LIMIT 50""",
        principal.id,
        dt.date.today(),
    )
    return {
        "programmes": [{**p, "roles": sorted(roles[p["id"]])} for p in programmes],
        "founded": founded,
        "mentored": mentored,
        "overdue": overdue,
    }


async def managed_cohorts(principal: Principal) -> list[dict[str, Any]]:
    """The cohorts of the programmes the caller manages, for an admission form elsewhere (the
    contest workspace): id, name, the programme's names, places left."""
    roles = await my_roles(principal)
    ids = [p for p, held in roles.items() if "manager" in held]
    if not ids:
        return []
    marks = ", ".join(["{}"] * len(ids))
    return await fetch_all(
        f"""SELECT c.id, c.name, c.places, p.name_zh, p.name_en, p.name_ru,
                   c.places - (SELECT COUNT(*) FROM incubation_startup s WHERE s.cohort = c.id) AS places_left
            FROM incubation_cohort c JOIN incubation_programme p ON p.id = c.programme
            WHERE c.programme IN ({marks}) ORDER BY p.id, c.starts_on DESC, c.id""",  # noqa: S608
        *ids,
    )
