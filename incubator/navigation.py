"""The tabs of a startup's file (``/incubator/startups/{startup_id}/...``): each area's page, shown to
the callers the policy allows its action. Every page of the file renders them through
``templates/incubator/startup_tabs.html.jinja``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.db import fetch_one
from backend.policy import Action, Outcome, Principal, ProgrammeContext, decide

if TYPE_CHECKING:
    from incubator.access import StartupAccess


@dataclass(frozen=True)
class Tab:
    key: str
    title: str  # English message id (incubator.po)
    path: str  # under /incubator/startups/{startup_id}
    action: Action


TABS = (
    Tab("overview", "Overview", "", Action.view_startup),  # incubator.programmes
    Tab("reports", "Reports", "/reports", Action.view_startup),  # incubator.reports
    Tab("dashboard", "KPIs", "/dashboard", Action.view_startup),  # incubator.dashboards
    Tab("meetings", "Meetings", "/meetings", Action.view_startup),  # incubator.meetings
    Tab("milestones", "Milestones", "/milestones", Action.view_startup),  # incubator.milestones
    Tab("support", "Support", "/support", Action.view_startup),  # incubator.milestones (support)
    Tab("mentors", "Mentors and office hours", "/mentors", Action.view_startup),  # incubator.mentoring
)


async def has_incubator(user_id: int) -> bool:
    """Whether the person has anything in the incubator (the header's "Incubator" link): an admin or
    organizer of an organization running a programme, a programme role, an active mentor or a founder."""
    row = await fetch_one(
        """SELECT EXISTS (SELECT 1 FROM role_grant g JOIN incubation_programme p
                              ON p.organization = g.organization
                          WHERE g."user" = {} AND g.role IN ('org_admin', 'organizer'))
               OR EXISTS (SELECT 1 FROM incubation_programme_role r WHERE r."user" = {})
               OR EXISTS (SELECT 1 FROM incubation_mentor m WHERE m."user" = {} AND m.active)
               OR EXISTS (SELECT 1 FROM incubation_founder f WHERE f."user" = {}) AS found""",
        user_id,
        user_id,
        user_id,
        user_id,
    )
    return bool(row and row["found"])


STATUS_LABELS = {  # a startup's status → its English message id
    "active": "Operating",
    "graduated": "Graduated from the programme",
    "closed": "Ceased operating",
    "withdrawn": "Left the programme",
}


def tabs(principal: Principal, startup_id: int, context: ProgrammeContext, current: str) -> list[dict]:
    """The tabs the caller may open, as the template wants them."""
    return [
        {
            "title": tab.title,
            "href": f"/incubator/startups/{startup_id}{tab.path}",
            "current": tab.key == current,
        }
        for tab in TABS
        if decide(principal, tab.action, programme=context) is Outcome.allowed
    ]


async def startup_head(principal: Principal, access: StartupAccess, current: str) -> dict:
    """What ``incubator/_startup_head.html.jinja`` needs: the startup's names and the caller's tabs."""
    row = await fetch_one(
        """SELECT s.name AS startup_name, s.status, s.programme AS programme_id, s.cohort AS cohort_id,
                  p.name_en, p.name_zh, p.name_ru, c.name AS cohort_name
           FROM incubation_startup s JOIN incubation_programme p ON p.id = s.programme
           JOIN incubation_cohort c ON c.id = s.cohort WHERE s.id = {}""",
        access.startup_id,
    )
    return {
        "startup": row,
        "tabs": tabs(principal, access.startup_id, access.context, current),
        "status_labels": STATUS_LABELS,
    }
