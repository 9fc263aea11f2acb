"""Team registration: its tables, routes, jobs and section of the organizer's workspace."""

from __future__ import annotations

from backend.domain import Domain, WorkspaceSection
from backend.policy import Action
from backend.teams import controllers
from backend.teams.jobs import EXPIRED_INVITATIONS, REMINDERS, refresh_team_statuses
from backend.teams.material_controllers import MaterialController
from backend.teams.pages import TeamInvitationPages, TeamPages
from backend.teams.review_controllers import EventTeamsController, TeamReviewController
from backend.teams.workspace import TeamsPages

DOMAIN = Domain(
    name="teams",
    tables=("backend.teams.tables",),
    routes=(
        EventTeamsController,
        TeamReviewController,
        TeamsPages,
        controllers.create_team,
        controllers.TeamController,
        controllers.TeamInvitationController,
        controllers.RegistrationRulesController,
        controllers.PastWinnerController,
        MaterialController,
        TeamPages,
        TeamInvitationPages,
    ),
    jobs=(refresh_team_statuses,),
    cron_jobs=(REMINDERS, EXPIRED_INVITATIONS),
    workspace_sections=(
        WorkspaceSection(
            "teams", "Teams", "/workspace/events/{event_id}/teams", Action.view_teams, 40, kinds=("contest",)
        ),
    ),
)
