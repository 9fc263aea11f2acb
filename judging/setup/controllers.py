"""The judging set-up API: stage settings, rubric, rooms, entries, judges, declared conflicts, tablet
sign-in codes, lock and reopen. Routes check the login; the service checks the stage's policy."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import JSONBody

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath, Limit, Offset
from judging.setup import service
from judging.setup.schemas import (
    ConflictIn,
    ConflictOut,
    EntriesPage,
    EntryOut,
    EntryPatch,
    InvitedOut,
    JudgeIn,
    JudgeOut,
    JudgePatch,
    PanelIn,
    PanelOut,
    PanelPatch,
    RubricIn,
    RubricOut,
    SeedOut,
    SettingsIn,
    SettingsOut,
    TabletSignInOut,
)


def _base_url(request: Request) -> str:
    return request.app.state.settings.base_url


class StageSetupController(Controller):
    path = "/api/v1/stages/{stage_id:int}"
    tags = ["judging: set-up"]
    guards = [requires_login]

    @get("/judging", operation_id="GetStageJudging")
    async def get_settings(self, request: Request, stage_id: IdPath) -> SettingsOut:
        """The stage's judging settings and state (setup, scoring, locked, published)."""
        return await service.get_settings(current(request), stage_id)

    @put("/judging", operation_id="UpdateStageJudging")
    async def update_settings(
        self, request: Request, stage_id: IdPath, data: JSONBody[SettingsIn]
    ) -> SettingsOut:
        """Change the stage's judging settings (the fields given); some only while it is set up."""
        return await service.update_settings(current(request), stage_id, data)

    @post("/lock", operation_id="LockStage", status_code=200)
    async def lock(self, request: Request, stage_id: IdPath) -> SettingsOut:
        """Lock the stage's sheets (scoring → locked) before ranking it."""
        return await service.lock_stage(current(request), stage_id)

    @post("/reopen", operation_id="ReopenStage", status_code=200)
    async def reopen(self, request: Request, stage_id: IdPath) -> SettingsOut:
        """Reopen a locked stage for scoring (refused once its ranking is published)."""
        return await service.reopen_stage(current(request), stage_id)

    @get("/rubric", operation_id="GetRubric")
    async def get_rubric(self, request: Request, stage_id: IdPath) -> RubricOut:
        """The stage's current rubric version (version 0 before the first)."""
        return await service.get_rubric(current(request), stage_id)

    @put("/rubric", operation_id="SaveRubric")
    async def save_rubric(self, request: Request, stage_id: IdPath, data: JSONBody[RubricIn]) -> RubricOut:
        """Write a new rubric version; refused (409 rubric_locked) once the stage has a sheet."""
        return await service.save_rubric(current(request), stage_id, data)

    @get("/rubric/versions", operation_id="ListRubricVersions")
    async def rubric_versions(self, request: Request, stage_id: IdPath) -> list[RubricOut]:
        """Every version of the stage's rubric, newest first."""
        return await service.rubric_versions(current(request), stage_id)

    @get("/panels", operation_id="ListPanels")
    async def list_panels(self, request: Request, stage_id: IdPath) -> list[PanelOut]:
        """The stage's rooms (panels) with their entries and judges counted."""
        return await service.list_panels(current(request), stage_id)

    @post("/panels", operation_id="CreatePanel", status_code=201)
    async def create_panel(self, request: Request, stage_id: IdPath, data: JSONBody[PanelIn]) -> PanelOut:
        """Add a room to the stage (its name unique in the stage)."""
        return await service.create_panel(current(request), stage_id, data)

    @get("/entries", operation_id="ListStageEntries")
    async def list_entries(
        self, request: Request, stage_id: IdPath, limit: Limit = 50, offset: Offset = 0
    ) -> EntriesPage:
        """The stage's entries in running order (scoped admins: their scope's)."""
        return await service.list_entries(current(request), stage_id, limit, offset, request_locale(request))

    @post("/entries/seed", operation_id="SeedStageEntries", status_code=200)
    async def seed_entries(self, request: Request, stage_id: IdPath) -> SeedOut:
        """Enter every approved (or complete) team into the first judged stage; idempotent."""
        return SeedOut(added=await service.seed_entries(current(request), stage_id))

    @get("/judges", operation_id="ListStageJudges")
    async def list_judges(self, request: Request, stage_id: IdPath) -> list[JudgeOut]:
        """The stage's judges with institution, room, capacity, assignments and sheets."""
        return await service.list_judges(current(request), stage_id, request_locale(request))

    @post("/judges", operation_id="AddStageJudge", status_code=201)
    async def add_judge(
        self, request: Request, stage_id: IdPath, data: JSONBody[JudgeIn]
    ) -> Response[JudgeOut | InvitedOut]:
        """Add a holder of the judge role (201), or invite an address to the role (202)."""
        result = await service.add_judge(
            current(request), stage_id, data, _base_url(request), request_locale(request)
        )
        return Response(result, status_code=202 if isinstance(result, InvitedOut) else 201)

    @patch("/judges/{user_id:int}", operation_id="UpdateStageJudge")
    async def update_judge(
        self, request: Request, stage_id: IdPath, user_id: IdPath, data: JSONBody[JudgePatch]
    ) -> JudgeOut:
        """Change a judge's institution, room or capacity."""
        return await service.update_judge(current(request), stage_id, user_id, data, request_locale(request))

    @delete("/judges/{user_id:int}", operation_id="RemoveStageJudge")
    async def remove_judge(self, request: Request, stage_id: IdPath, user_id: IdPath) -> None:
        """Take a judge off the stage (refused once they have submitted a sheet)."""
        await service.remove_judge(current(request), stage_id, user_id)

    @post("/judges/{user_id:int}/tablet-sign-in", operation_id="CreateTabletSignIn", status_code=201)
    async def tablet_sign_in(self, request: Request, stage_id: IdPath, user_id: IdPath) -> TabletSignInOut:
        """A one-time sign-in link and QR code for the judge's tablet, valid 15 minutes."""
        return await service.create_tablet_sign_in(current(request), stage_id, user_id, _base_url(request))


class PanelController(Controller):
    path = "/api/v1/panels/{panel_id:int}"
    tags = ["judging: set-up"]
    guards = [requires_login]

    @patch("", operation_id="UpdatePanel")
    async def update_panel(self, request: Request, panel_id: IdPath, data: JSONBody[PanelPatch]) -> PanelOut:
        """Rename a room, or change where it is or its place in the list."""
        return await service.update_panel(current(request), panel_id, data)

    @delete("", operation_id="DeletePanel")
    async def delete_panel(self, request: Request, panel_id: IdPath) -> None:
        """Remove an empty room (409 panel_in_use while it holds entries or judges)."""
        await service.delete_panel(current(request), panel_id)


class StageEntryController(Controller):
    path = "/api/v1/stage-entries/{entry_id:int}"
    tags = ["judging: set-up"]
    guards = [requires_login]

    @patch("", operation_id="UpdateStageEntry")
    async def update_entry(self, request: Request, entry_id: IdPath, data: JSONBody[EntryPatch]) -> EntryOut:
        """Move an entry to a room or place, or change its status (with a reason)."""
        return await service.update_entry(current(request), entry_id, data, request_locale(request))


class JudgeConflictController(Controller):
    path = "/api/v1"
    tags = ["judging: set-up"]
    guards = [requires_login]

    @get("/events/{event_id:int}/judge-conflicts", operation_id="ListJudgeConflicts")
    async def list_conflicts(self, request: Request, event_id: IdPath) -> list[ConflictOut]:
        """Declared conflicts of interest: all for organizers, a judge's own for a judge."""
        return await service.list_conflicts(current(request), event_id, request_locale(request))

    @post("/events/{event_id:int}/judge-conflicts", operation_id="DeclareJudgeConflict", status_code=201)
    async def declare(self, request: Request, event_id: IdPath, data: JSONBody[ConflictIn]) -> ConflictOut:
        """Declare a conflict of interest (a judge their own; organizers any judge's)."""
        return await service.declare_conflict(current(request), event_id, data, request_locale(request))

    @delete("/judge-conflicts/{conflict_id:int}", operation_id="WithdrawJudgeConflict")
    async def withdraw(self, request: Request, conflict_id: IdPath) -> None:
        """Withdraw a declared conflict (the judge their own; organizers any)."""
        await service.delete_conflict(current(request), conflict_id)
