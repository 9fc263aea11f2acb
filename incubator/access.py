"""Who the caller is in a programme and to a startup, as :mod:`backend.policy` needs it, and the
checks every incubator route and service makes. Free of the HTTP layer except for the route guards
at the end.

One query loads a context: the programme (or the startup and its programme) with the caller's roles
in it: ``manager`` (a programme manager, or an admin or organizer of the organization running it),
``viewer``, ``mentor`` (active in its directory), ``founder`` (of one of its startups) and, for a
startup, whether the caller founds it or is a mentor connected to it, and what its founders share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from backend.db import fetch_one
from backend.errors import NotFound
from backend.policy import (
    FOUNDER,
    MANAGER,
    MENTOR,
    VIEWER,
    Action,
    Outcome,
    Principal,
    ProgrammeContext,
    StartupStanding,
    decide,
    refuse_unless_allowed,
)

# The caller's roles in the programme ``p`` (``{}`` placeholders: the caller's id, five times).
_ROLES = """
    EXISTS (SELECT 1 FROM role_grant g WHERE g."user" = {} AND g.organization = p.organization
            AND g.role IN ('org_admin', 'organizer'))
    OR EXISTS (SELECT 1 FROM incubation_programme_role r WHERE r.programme = p.id AND r."user" = {}
               AND r.role = 'manager') AS is_manager,
    EXISTS (SELECT 1 FROM incubation_programme_role r WHERE r.programme = p.id AND r."user" = {}
            AND r.role = 'viewer') AS is_viewer,
    EXISTS (SELECT 1 FROM incubation_mentor m WHERE m.programme = p.id AND m."user" = {} AND m.active)
        AS is_mentor,
    EXISTS (SELECT 1 FROM incubation_founder f JOIN incubation_startup s2 ON s2.id = f.startup
            WHERE s2.programme = p.id AND f."user" = {}) AS is_founder
"""
_PROGRAMME = f"SELECT p.id, p.organization, {_ROLES} FROM incubation_programme p WHERE p.id = {{}}"  # noqa: S608
_STARTUP = f"""
    SELECT s.id, s.programme, s.cohort, s.name, s.status, p.organization,
           s.mentors_see_operations, s.mentors_see_financials, {_ROLES},
           EXISTS (SELECT 1 FROM incubation_founder f WHERE f.startup = s.id AND f."user" = {{}})
               AS founds_it,
           EXISTS (SELECT 1 FROM incubation_mentor_link l JOIN incubation_mentor m ON m.id = l.mentor
                   WHERE l.startup = s.id AND m."user" = {{}} AND m.active) AS mentors_it
    FROM incubation_startup s JOIN incubation_programme p ON p.id = s.programme
    WHERE s.id = {{}}
"""  # noqa: S608


def _roles(row: dict[str, Any]) -> frozenset[str]:
    flags = {MANAGER: "is_manager", VIEWER: "is_viewer", MENTOR: "is_mentor", FOUNDER: "is_founder"}
    return frozenset(role for role, column in flags.items() if row[column])


@dataclass(frozen=True)
class StartupAccess:
    """A startup as its checks found it: the policy's context and the startup's ids and name."""

    context: ProgrammeContext
    startup_id: int
    programme_id: int
    cohort_id: int
    organization_id: int
    name: str
    status: str


async def programme_context(principal: Principal, programme_id: int) -> ProgrammeContext | None:
    """The caller's roles in the programme, or ``None`` when there is no such programme."""
    row = await fetch_one(_PROGRAMME, *([principal.id] * 5), programme_id)
    if row is None:
        return None
    return ProgrammeContext(programme_id, _roles(row))


async def startup_context(principal: Principal, startup_id: int) -> StartupAccess | None:
    """The caller's roles in the startup's programme and standing to the startup, or ``None``."""
    row = await fetch_one(_STARTUP, *([principal.id] * 7), startup_id)
    if row is None:
        return None
    standing = StartupStanding(
        founder=bool(row["founds_it"]),
        mentor=bool(row["mentors_it"]),
        operations_shared=bool(row["mentors_see_operations"]),
        financials_shared=bool(row["mentors_see_financials"]),
    )
    return StartupAccess(
        ProgrammeContext(row["programme"], _roles(row), standing),
        startup_id,
        row["programme"],
        row["cohort"],
        row["organization"],
        row["name"],
        row["status"],
    )


async def programme_access(principal: Principal, programme_id: int, action: Action) -> ProgrammeContext:
    """Refuse unless the caller may do ``action`` in the programme (404 when it does not exist for
    them); return its context."""
    context = await programme_context(principal, programme_id)
    if context is None:
        raise NotFound("Programme")
    outcome = decide(principal, action, programme=context)
    refuse_unless_allowed(outcome, action, "Programme")
    return context


async def startup_access(principal: Principal, startup_id: int, action: Action) -> StartupAccess:
    """Refuse unless the caller may do ``action`` to the startup (404 when it does not exist for
    them); return what the check found."""
    found = await startup_context(principal, startup_id)
    if found is None:
        raise NotFound("Startup")
    refuse_unless_allowed(decide(principal, action, programme=found.context), action, "Startup")
    return found


def allowed(principal: Principal, action: Action, context: ProgrammeContext) -> bool:
    """Whether the policy allows ``action``: for what a page shows or hides (financials, forms)."""
    return decide(principal, action, programme=context) is Outcome.allowed


async def programme_of_cohort(cohort_id: int) -> int:
    row = await fetch_one("SELECT programme FROM incubation_cohort WHERE id = {}", cohort_id)
    if row is None:
        raise NotFound("Cohort")
    return row["programme"]


def _principal(connection: ASGIConnection) -> Principal:
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Log in first")
    return user


def may_in_programme(action: Action) -> Guard:
    """A route guard for ``action`` in the programme of the ``programme_id`` path parameter, or of
    the cohort of ``cohort_id``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = _principal(connection)
        params = connection.path_params
        if "programme_id" in params:
            programme_id = params["programme_id"]
        else:
            programme_id = await programme_of_cohort(params["cohort_id"])
        await programme_access(principal, programme_id, action)

    guard.__name__ = f"may_{action.value}_in_programme"
    return guard


def may_on_startup(action: Action) -> Guard:
    """A route guard for ``action`` on the startup of the ``startup_id`` path parameter."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        await startup_access(_principal(connection), connection.path_params["startup_id"], action)

    guard.__name__ = f"may_{action.value}_on_startup"
    return guard
