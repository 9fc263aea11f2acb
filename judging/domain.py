"""The judging service: its tables, routes, jobs and section of the organizer's workspace.

Each area is a subpackage with its own service, controllers and pages: ``setup`` (stage settings,
rubrics, rooms, entries, judges, conflicts, tablet sign-in), ``assign`` (the engine's assignment,
edits and recusal), ``scoring`` (sheets and the tablet page), ``live`` (live finals), ``results``
(ranking jobs, diagnostics, exports, publication and appeals) and ``advancement`` (quotas,
recommendations, prizes and certificates).
"""

from __future__ import annotations

from backend.domain import Domain, WorkspaceSection
from backend.policy import Action

DOMAIN = Domain(
    name="judging",
    tables=("judging.tables",),
    routes=(),
    jobs=(),
    workspace_sections=(
        WorkspaceSection(
            "judging",
            "Judging",
            "/workspace/events/{event_id}/judging",
            Action.view_judging,
            50,
            kinds=("contest",),
        ),
    ),
)
