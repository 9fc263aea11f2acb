"""The reports API: cohort schedules and their periods, custom metrics, a startup's reports with
their versions, what its founders share with mentors, the cohort's reports due and its export.
Routes check the login; the service checks the programme's policy."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath
from incubator.reports import exports, service
from incubator.reports.schemas import (
    DueTableOut,
    MetricIn,
    MetricOut,
    MetricPatch,
    ReportIn,
    ReportOut,
    ScheduleIn,
    ScheduleOut,
    SharingIn,
    SharingOut,
    StartupReportsOut,
    VersionOut,
)

TAGS = ["incubator: reports"]


class ReportController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/cohorts/{cohort_id:int}/schedule", operation_id="GetReportSchedule")
    async def get_schedule(self, request: Request, cohort_id: IdPath) -> ScheduleOut | None:
        """The cohort's report schedule with its periods (null when it has none yet)."""
        return await service.get_schedule(current(request), cohort_id)

    @put("/cohorts/{cohort_id:int}/schedule", operation_id="SetReportSchedule")
    async def set_schedule(
        self, request: Request, cohort_id: IdPath, data: JSONBody[ScheduleIn]
    ) -> ScheduleOut:
        """Set or replace the cohort's schedule: its periods are made again, keeping those with a
        report (and those unchanged); the new periods overlapping a kept one are left out."""
        return await service.set_schedule(current(request), cohort_id, data)

    @get("/cohorts/{cohort_id:int}/reports", operation_id="ListReportsDue")
    async def due(self, request: Request, cohort_id: IdPath) -> DueTableOut:
        """The cohort's reports due: each startup's standing on each period (managers)."""
        return await service.due_table(current(request), cohort_id)

    @get("/cohorts/{cohort_id:int}/reports/export", operation_id="ExportCohortReports")
    async def export(
        self,
        request: Request,
        cohort_id: IdPath,
        format: Annotated[exports.Format, QueryParameter()] = "csv",
    ) -> Stream:
        """Every startup's report on every period of the cohort as CSV or XLSX, figures included
        (managers only). Columns: see ``incubator.reports.exports``."""
        found = await exports.export(current(request), cohort_id, format, request_locale(request))
        return Stream(
            found.chunks,
            media_type=found.media_type,
            headers={"Content-Disposition": f'attachment; filename="{found.file_name}"'},
        )

    @get("/programmes/{programme_id:int}/metrics", operation_id="ListCustomMetrics")
    async def list_metrics(self, request: Request, programme_id: IdPath) -> list[MetricOut]:
        """The programme's custom metrics (archived ones marked)."""
        return await service.list_metrics(current(request), programme_id, request_locale(request))

    @post("/programmes/{programme_id:int}/metrics", operation_id="CreateCustomMetric", status_code=201)
    async def create_metric(
        self, request: Request, programme_id: IdPath, data: JSONBody[MetricIn]
    ) -> MetricOut:
        """Add a custom metric to the programme's reports."""
        return await service.create_metric(current(request), programme_id, data, request_locale(request))

    @patch("/metrics/{metric_id:int}", operation_id="UpdateCustomMetric")
    async def update_metric(
        self, request: Request, metric_id: IdPath, data: JSONBody[MetricPatch]
    ) -> MetricOut:
        """Change a custom metric, archive it or bring it back."""
        return await service.update_metric(current(request), metric_id, data, request_locale(request))

    @get("/startups/{startup_id:int}/reports", operation_id="ListStartupReports")
    async def startup_reports(self, request: Request, startup_id: IdPath) -> StartupReportsOut:
        """The startup's periods with the standing of its report on each, and what it shares."""
        return await service.startup_reports(current(request), startup_id)

    @get("/startups/{startup_id:int}/reports/{period_id:int}", operation_id="GetReport")
    async def get_report(self, request: Request, startup_id: IdPath, period_id: IdPath) -> ReportOut:
        """The startup's report on the period as the caller may read it (figures the founders keep
        from the caller are left out), or the form's metrics when none was filed yet."""
        return await service.get_report(current(request), startup_id, period_id, request_locale(request))

    @put("/startups/{startup_id:int}/reports/{period_id:int}", operation_id="SubmitReport")
    async def submit(
        self, request: Request, startup_id: IdPath, period_id: IdPath, data: JSONBody[ReportIn]
    ) -> ReportOut:
        """File the period's report (``expected_version`` 0) or a new version of it (the version
        replaced; 409 ``report_version_stale`` when another came first). Founders only."""
        return await service.submit_report(
            current(request), startup_id, period_id, data, request_locale(request)
        )

    @get("/startups/{startup_id:int}/reports/{period_id:int}/versions", operation_id="ListReportVersions")
    async def versions(self, request: Request, startup_id: IdPath, period_id: IdPath) -> list[VersionOut]:
        """Every submission of the report, newest first, as the caller may read it."""
        return await service.list_versions(current(request), startup_id, period_id)

    @patch("/startups/{startup_id:int}/sharing", operation_id="UpdateReportSharing")
    async def sharing(self, request: Request, startup_id: IdPath, data: JSONBody[SharingIn]) -> SharingOut:
        """What the startup's mentors may see of its reports: operations, financials. Founders only."""
        return await service.set_sharing(current(request), startup_id, data)
