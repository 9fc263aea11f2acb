"""The programmes API: programmes and their roles, cohorts, admissions (from a contest's results,
hand-picked teams, direct) with a preview, and a startup's overview, profile, status and founders.
Routes check what the path names (the programme, the cohort's programme, the startup); the service
checks the rest (the contest's judging, managing a startup's programme)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.policy import Action
from backend.schemas import PRINTABLE, IdPath
from incubator.access import may_in_programme, may_on_startup
from incubator.programmes import service
from incubator.programmes.schemas import (
    AdmissionOut,
    CohortIn,
    CohortOut,
    CohortPatch,
    DirectIn,
    FounderIn,
    FounderOut,
    PreviewOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
    ResultsIn,
    RoleIn,
    RoleOut,
    StartupOut,
    StartupPatch,
    StatusIn,
    TeamsIn,
)

TAGS = ["incubator: programmes"]
TierQuery = Annotated[
    str | None,
    QueryParameter(max_length=2000, pattern=PRINTABLE, description="Prize tier codes, comma-separated"),
]
RoleQuery = Annotated[Literal["manager", "viewer"] | None, QueryParameter()]


class ProgrammeController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/programmes", operation_id="ListProgrammes")
    async def list_programmes(self, request: Request) -> list[ProgrammeOut]:
        """The programmes the caller holds any role in, with their cohorts."""
        return await service.list_programmes(current(request))

    @post("/programmes", operation_id="CreateProgramme", status_code=201)
    async def create_programme(self, request: Request, data: JSONBody[ProgrammeIn]) -> ProgrammeOut:
        """A new programme of an organization (its admins and organizers)."""
        return await service.create_programme(current(request), data)

    @get("/programmes/{programme_id:int}", operation_id="GetProgramme")
    async def get_programme(self, request: Request, programme_id: IdPath) -> ProgrammeOut:
        """A programme, its settings and cohorts, and the caller's roles in it."""
        return await service.get_programme(current(request), programme_id)

    @patch(
        "/programmes/{programme_id:int}",
        operation_id="UpdateProgramme",
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def update_programme(
        self, request: Request, programme_id: IdPath, data: JSONBody[ProgrammePatch]
    ) -> ProgrammeOut:
        """Change a programme's names, description, currency, cancellation window or stalled weeks."""
        return await service.update_programme(current(request), programme_id, data)

    @get(
        "/programmes/{programme_id:int}/roles",
        operation_id="ListProgrammeRoles",
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def list_roles(self, request: Request, programme_id: IdPath) -> list[RoleOut]:
        """The people granted manager or viewer in the programme."""
        return await service.list_roles(current(request), programme_id)

    @post(
        "/programmes/{programme_id:int}/roles",
        operation_id="GrantProgrammeRole",
        status_code=201,
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def grant_role(self, request: Request, programme_id: IdPath, data: JSONBody[RoleIn]) -> RoleOut:
        """Make the holder of an existing account a manager or viewer of the programme."""
        return await service.grant_role(current(request), programme_id, data)

    @delete(
        "/programmes/{programme_id:int}/roles/{user_id:int}",
        operation_id="RevokeProgrammeRole",
        status_code=204,
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def revoke_role(
        self, request: Request, programme_id: IdPath, user_id: IdPath, role: RoleQuery = None
    ) -> None:
        """Take a person's role (``role``, or every role they hold) in the programme away."""
        await service.revoke_role(current(request), programme_id, user_id, role)

    @post(
        "/programmes/{programme_id:int}/cohorts",
        operation_id="CreateCohort",
        status_code=201,
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def create_cohort(
        self, request: Request, programme_id: IdPath, data: JSONBody[CohortIn]
    ) -> CohortOut:
        """A new cohort: name, dates, mode and places."""
        return await service.create_cohort(current(request), programme_id, data)

    @get(
        "/cohorts/{cohort_id:int}",
        operation_id="GetCohort",
        guards=[may_in_programme(Action.view_programme)],
    )
    async def get_cohort(self, request: Request, cohort_id: IdPath) -> CohortOut:
        """A cohort and its startups."""
        return await service.get_cohort(current(request), cohort_id)

    @patch(
        "/cohorts/{cohort_id:int}",
        operation_id="UpdateCohort",
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def update_cohort(
        self, request: Request, cohort_id: IdPath, data: JSONBody[CohortPatch]
    ) -> CohortOut:
        """Change a cohort (its places never below the startups admitted)."""
        return await service.update_cohort(current(request), cohort_id, data)


class AdmissionController(Controller):
    path = "/api/v1/incubator/cohorts/{cohort_id:int}"
    tags = TAGS
    guards = [requires_login, may_in_programme(Action.manage_programme)]

    @get("/contests/{event_id:int}/preview", operation_id="PreviewAdmission")
    async def preview(
        self, request: Request, cohort_id: IdPath, event_id: IdPath, tiers: TierQuery = None
    ) -> PreviewOut:
        """The contest's prize tiers and the teams an admission of ``tiers`` (codes, comma-separated)
        would take (every prize winner when none are named), with the places left and the teams
        already admitted."""
        codes = [c.strip() for c in (tiers or "").split(",") if c.strip()]
        return await service.preview(current(request), cohort_id, event_id, codes, request_locale(request))

    @post("/admissions/results", operation_id="AdmitFromResults", status_code=201)
    async def admit_results(
        self, request: Request, cohort_id: IdPath, data: JSONBody[ResultsIn]
    ) -> AdmissionOut:
        """Admit the teams the contest awarded the named prize tiers (teams already startups of the
        programme are skipped and listed)."""
        return await service.admit_results(current(request), cohort_id, data, request_locale(request))

    @post("/admissions/teams", operation_id="AdmitTeams", status_code=201)
    async def admit_teams(self, request: Request, cohort_id: IdPath, data: JSONBody[TeamsIn]) -> AdmissionOut:
        """Admit hand-picked teams of a contest."""
        return await service.admit_teams(current(request), cohort_id, data, request_locale(request))

    @post("/admissions/direct", operation_id="AdmitStartup", status_code=201)
    async def admit_direct(
        self, request: Request, cohort_id: IdPath, data: JSONBody[DirectIn]
    ) -> AdmissionOut:
        """Admit a startup that never entered a contest, with its founders' accounts."""
        return await service.admit_direct(current(request), cohort_id, data)


class StartupController(Controller):
    path = "/api/v1/incubator/startups/{startup_id:int}"
    tags = TAGS
    guards = [requires_login, may_on_startup(Action.view_startup)]

    @get("", operation_id="GetStartup")
    async def get_startup(self, request: Request, startup_id: IdPath) -> StartupOut:
        """A startup's overview: profile, founders, status, its team's contest history, open action
        items and reports due."""
        return await service.get_startup(current(request), startup_id, request_locale(request))

    @patch("", operation_id="UpdateStartup")
    async def update_startup(
        self, request: Request, startup_id: IdPath, data: JSONBody[StartupPatch]
    ) -> StartupOut:
        """The founders change their startup's name, description, sector or website."""
        return await service.update_startup(current(request), startup_id, data, request_locale(request))

    @post("/status", operation_id="SetStartupStatus", status_code=200)
    async def set_status(self, request: Request, startup_id: IdPath, data: JSONBody[StatusIn]) -> StartupOut:
        """The managers record that a startup graduated, closed, withdrew, or is active again."""
        return await service.set_status(current(request), startup_id, data, request_locale(request))

    @post("/founders", operation_id="AddFounder", status_code=201)
    async def add_founder(
        self, request: Request, startup_id: IdPath, data: JSONBody[FounderIn]
    ) -> list[FounderOut]:
        """The managers add a founder (an existing account)."""
        return await service.add_founder(current(request), startup_id, data)

    @delete("/founders/{user_id:int}", operation_id="RemoveFounder", status_code=200)
    async def remove_founder(self, request: Request, startup_id: IdPath, user_id: IdPath) -> list[FounderOut]:
        """The managers remove a founder."""
        return await service.remove_founder(current(request), startup_id, user_id)
