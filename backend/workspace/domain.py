"""The organizer's workspace: pages to set up and run organizations and events, and the event's
audit trail (pages and API). Other domains add their own sections to an event's workspace with
``Domain.workspace_sections``."""

from __future__ import annotations

from backend.domain import Domain, WorkspaceSection
from backend.policy import Action
from backend.workspace.controllers import AuditController, WorkspaceController
from backend.workspace.people import OrganizationInvitationPages, PeoplePages

OTHER_KINDS = ("forum", "fair", "training")

DOMAIN = Domain(
    name="workspace",
    routes=(WorkspaceController, AuditController, PeoplePages, OrganizationInvitationPages),
    workspace_sections=(
        WorkspaceSection("overview", "Overview", "/workspace/events/{event_id}", Action.edit_track, order=0),
        WorkspaceSection(
            "settings", "Settings", "/workspace/events/{event_id}/settings", Action.edit_event, 10
        ),
        WorkspaceSection(
            "structure",
            "Tracks and stages",
            "/workspace/events/{event_id}/structure",
            Action.edit_track,
            20,
            kinds=("contest",),
        ),
        WorkspaceSection(
            "structure",
            "Sessions",
            "/workspace/events/{event_id}/structure",
            Action.edit_track,
            20,
            kinds=OTHER_KINDS,
        ),
        WorkspaceSection(
            "people", "People and roles", "/workspace/events/{event_id}/people", Action.view_roles, 30
        ),
        WorkspaceSection("audit", "Audit trail", "/workspace/events/{event_id}/audit", Action.view_audit, 90),
    ),
)
