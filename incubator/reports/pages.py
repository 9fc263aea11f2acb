"""The reports pages: a startup's reports tab (its periods, and for founders what mentors see), one
period's report (the form for founders: questions first, then the metrics they make due; read-only
and redacted for everyone else; its versions), a cohort's reports due with its schedule's form and
export, and a programme's custom metrics.

Pages are read from the service and written through the JSON API by ``static/api-forms.js`` (each
form names its endpoint), so a page and the API share one set of checks and one redaction.
"""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath
from incubator import metrics as std
from incubator.access import allowed, programme_access, startup_access
from incubator.navigation import startup_head
from incubator.reports import service
from incubator.reports.exports import STANDING

QUESTIONS = [(q.value, std.QUESTION_TEXT[q]) for q in std.Question]
FREQUENCIES = {"monthly": "Monthly", "quarterly": "Quarterly", "yearly": "Yearly", "adhoc": "On given dates"}
REMINDER_INPUTS = 6  # reminder offsets the schedule's form offers
ADHOC_INPUTS = 12  # ad-hoc dates the schedule's form offers


class ReportPages(Controller):
    path = "/incubator"
    include_in_schema = False
    guards = [requires_login]

    @get("/startups/{startup_id:int}/reports")
    async def startup_reports(self, request: Request, startup_id: IdPath) -> Template:
        """The startup's periods with the standing of each report; founders set what mentors see."""
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        reports = await service.startup_reports(principal, startup_id)
        return page(
            request,
            "incubator/reports/startup.html.jinja",
            reports=reports,
            standing=STANDING,
            today=service.today(),
            founder=allowed(principal, Action.act_for_startup, access.context),
            manager=allowed(principal, Action.manage_programme, access.context),
            **await startup_head(principal, access, "reports"),
        )

    @get("/startups/{startup_id:int}/reports/{period_id:int}")
    async def report(self, request: Request, startup_id: IdPath, period_id: IdPath) -> Template:
        """One period's report: the form for founders, the figures the caller may read otherwise."""
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        report = await service.get_report(principal, startup_id, period_id, request_locale(request))
        versions = await service.list_versions(principal, startup_id, period_id)
        names = {m.key: m.name for m in report.metrics}
        programme = await service.programme_row(access.programme_id)
        return page(
            request,
            "incubator/reports/report.html.jinja",
            report=report,
            versions=versions,
            names=names,
            currency=programme["currency"],
            questions=QUESTIONS,
            standing=STANDING,
            today=service.today(),
            **await startup_head(principal, access, "reports"),
        )

    @get("/cohorts/{cohort_id:int}/reports")
    async def cohort_reports(self, request: Request, cohort_id: IdPath) -> Template:
        """The cohort's reports due (started periods), its schedule's form and the export."""
        principal = current(request)
        table = await service.due_table(principal, cohort_id)
        schedule = await service.get_schedule(principal, cohort_id)
        cohort = await service.cohort_row(cohort_id)
        now = service.today()
        shown = [i for i, p in enumerate(table.periods) if p.starts_on <= now]
        return page(
            request,
            "incubator/reports/cohort.html.jinja",
            table=table,
            shown=shown,
            schedule=schedule,
            cohort=cohort,
            standing=STANDING,
            frequencies=FREQUENCIES,
            reminder_inputs=REMINDER_INPUTS,
            adhoc_inputs=ADHOC_INPUTS,
        )

    @get("/programmes/{programme_id:int}/metrics")
    async def metrics(self, request: Request, programme_id: IdPath) -> Template:
        """The programme's custom metrics; its managers add, change and archive them."""
        principal = current(request)
        context = await programme_access(principal, programme_id, Action.view_programme)
        found = await service.list_metrics(principal, programme_id, request_locale(request))
        programme = await service.programme_row(programme_id)
        return page(
            request,
            "incubator/reports/metrics.html.jinja",
            metrics=found,
            programme=programme,
            questions=QUESTIONS,
            manager=allowed(principal, Action.manage_programme, context),
        )
