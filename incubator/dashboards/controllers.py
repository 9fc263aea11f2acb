"""The dashboards API: a startup's KPIs (those who see its file, redacted as the founders share),
a cohort's or a programme's outcomes and their impact report (the programme's managers and
viewers; amounts per startup for managers only). Routes check the login; the service checks the
policy."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath
from backend.teams.exports import Export
from incubator.dashboards import impact, service
from incubator.dashboards.schemas import ScopeDashboard, StartupDashboard


def _download(export: Export) -> Stream:
    return Stream(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
    )


class DashboardController(Controller):
    path = "/api/v1/incubator"
    tags = ["incubator: dashboards"]
    guards = [requires_login]

    @get("/startups/{startup_id:int}/dashboard", operation_id="GetStartupDashboard")
    async def startup(self, request: Request, startup_id: IdPath) -> StartupDashboard:
        """A startup's KPIs per period, reporting, meetings, milestones and support. Operations and
        financials only as far as the caller may see them (mentors: as the founders share)."""
        return await service.startup_dashboard(current(request), startup_id, locale=request_locale(request))

    @get("/cohorts/{cohort_id:int}/dashboard", operation_id="GetCohortDashboard")
    async def cohort(self, request: Request, cohort_id: IdPath) -> ScopeDashboard:
        """A cohort's survival, jobs, funding, revenue and GMV, reporting compliance, stalled startups
        and support, with a row per startup (amounts only for managers)."""
        return await service.cohort_dashboard(current(request), cohort_id, locale=request_locale(request))

    @get("/programmes/{programme_id:int}/dashboard", operation_id="GetProgrammeDashboard")
    async def programme(self, request: Request, programme_id: IdPath) -> ScopeDashboard:
        """The same over every cohort of the programme."""
        return await service.scope_dashboard(current(request), programme_id, locale=request_locale(request))

    @get("/cohorts/{cohort_id:int}/impact-report", operation_id="ExportCohortImpactReport")
    async def cohort_report(
        self, request: Request, cohort_id: IdPath, format: Annotated[impact.Format, QueryParameter()] = "pdf"
    ) -> Stream:
        """The cohort's impact report for funders, as PDF or XLSX (sheets: key figures, reports per
        period, startups, support)."""
        locale = request_locale(request)
        board = await service.cohort_dashboard(current(request), cohort_id, locale=locale)
        return _download(impact.export(board, format, locale))

    @get("/programmes/{programme_id:int}/impact-report", operation_id="ExportProgrammeImpactReport")
    async def programme_report(
        self,
        request: Request,
        programme_id: IdPath,
        format: Annotated[impact.Format, QueryParameter()] = "pdf",
    ) -> Stream:
        """The programme's impact report for funders, as PDF or XLSX."""
        locale = request_locale(request)
        board = await service.scope_dashboard(current(request), programme_id, locale=locale)
        return _download(impact.export(board, format, locale))
