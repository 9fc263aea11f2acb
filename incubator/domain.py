"""The incubator service: its tables, routes, jobs and section of the organizer's workspace.

Each area is a subpackage with its own service, controllers and pages: ``programmes`` (programmes,
cohorts, admissions, startups and founders), ``mentoring`` (the mentor directory, connections, hour
budgets, office hours and bookings), ``meetings`` (meeting logs, private notes, action items),
``milestones`` (milestones, support promised and delivered, evidence), ``reports`` (schedules,
periods, custom metrics, versioned KPI reports, what mentors see), ``reminders`` (the reminder job)
and ``dashboards`` (per startup, cohort and programme, and the funders' impact report). The pure
module ``metrics`` knows what is reported; ``access`` loads what the policy needs.
"""

from __future__ import annotations

from backend.domain import Domain, NavLink, WorkspaceSection
from backend.policy import Action
from incubator.dashboards.controllers import DashboardController
from incubator.dashboards.pages import DashboardPages
from incubator.meetings.controllers import MeetingController, StartupMeetingController
from incubator.meetings.pages import MeetingPages
from incubator.mentoring.controllers import MentoringController
from incubator.mentoring.pages import MentoringPages
from incubator.milestones.controllers import MilestoneController, SupportController
from incubator.milestones.pages import MilestonePages, SupportPages
from incubator.navigation import has_incubator
from incubator.programmes.controllers import AdmissionController, ProgrammeController, StartupController
from incubator.programmes.pages import IncubationSectionPages, IncubatorPages
from incubator.reminders.jobs import REPORT_REMINDERS
from incubator.reports.controllers import ReportController
from incubator.reports.pages import ReportPages

DOMAIN = Domain(
    name="incubator",
    tables=("incubator.tables",),
    routes=(
        # incubator.programmes
        ProgrammeController,
        AdmissionController,
        StartupController,
        IncubatorPages,
        IncubationSectionPages,
        # incubator.mentoring
        MentoringController,
        MentoringPages,
        # incubator.meetings
        StartupMeetingController,
        MeetingController,
        MeetingPages,
        # incubator.milestones
        MilestoneController,
        SupportController,
        MilestonePages,
        SupportPages,
        # incubator.reports
        ReportController,
        ReportPages,
        # incubator.dashboards
        DashboardController,
        DashboardPages,
    ),
    jobs=(
        # incubator.reminders, incubator.dashboards
    ),
    cron_jobs=(
        REPORT_REMINDERS,  # incubator.reminders
    ),
    nav_links=(NavLink("Incubator", "/incubator", has_incubator),),
    workspace_sections=(
        # incubator.programmes: a contest's "Incubation" section (admit its winners)
        WorkspaceSection(
            "incubation",
            "Incubation",
            "/workspace/events/{event_id}/incubation",
            Action.configure_judging,
            70,
            kinds=("contest",),
        ),
    ),
)
