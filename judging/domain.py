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
from judging.advancement.controllers import (
    AdvancementController,
    CertificateController,
    RecommendationController,
)
from judging.advancement.pages import AdvancementPages, CertificatePages
from judging.assign.controllers import AssignmentController
from judging.assign.pages import AssignmentPages, RecusalPages
from judging.live.controllers import JudgeRoomController, LiveRoomController, LiveStageController
from judging.live.pages import LivePages
from judging.results.controllers import ResultsController
from judging.results.jobs import rank_stage
from judging.results.pages import PublicResultsPages, ResultsPages
from judging.scoring.controllers import JudgeController, SheetController
from judging.scoring.pages import JudgeTabletPages
from judging.setup.controllers import (
    JudgeConflictController,
    PanelController,
    StageEntryController,
    StageSetupController,
)
from judging.setup.pages import JudgingPages, TabletPages

DOMAIN = Domain(
    name="judging",
    tables=("judging.tables",),
    routes=(
        StageSetupController,
        PanelController,
        StageEntryController,
        JudgeConflictController,
        JudgingPages,
        TabletPages,
        AdvancementController,
        RecommendationController,
        CertificateController,
        AdvancementPages,
        CertificatePages,
        AssignmentController,
        AssignmentPages,
        RecusalPages,
        JudgeController,
        SheetController,
        JudgeTabletPages,
        LiveStageController,
        LiveRoomController,
        JudgeRoomController,
        LivePages,
        ResultsController,
        ResultsPages,
        PublicResultsPages,
    ),
    jobs=(rank_stage,),
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
