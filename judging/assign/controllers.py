"""The assignment routes: engine runs, publication, organizers' edits and judges' recusals. Routes
check the login; the services ask the policy about the stage or the assignment."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody

from backend.guards import current, requires_login
from backend.schemas import IdPath
from judging.assign import service
from judging.assign.schemas import (
    AssignmentIn,
    AssignmentOut,
    PublishIn,
    RecuseIn,
    RecuseOut,
    RunIn,
    RunOut,
    StageAssignmentsOut,
)


class AssignmentController(Controller):
    path = "/api/v1"
    tags = ["judging: assignment"]
    guards = [requires_login]

    @post("/stages/{stage_id:int}/assignment-runs", operation_id="RunAssignment", status_code=201)
    async def run(self, request: Request, stage_id: IdPath, data: JSONBody[RunIn]) -> RunOut:
        """Draw a draft assignment with the engine (organizers, while the stage is in set-up)."""
        return await service.run_engine(current(request), stage_id, data)

    @get("/stages/{stage_id:int}/assignment-runs", operation_id="ListAssignmentRuns")
    async def runs(self, request: Request, stage_id: IdPath) -> list[RunOut]:
        """The stage's engine runs with their reports, newest first."""
        return await service.list_runs(current(request), stage_id)

    @get("/assignment-runs/{run_id:int}", operation_id="GetAssignmentRun")
    async def get_run(self, request: Request, run_id: IdPath) -> RunOut:
        """One engine run and its report."""
        return await service.get_run(current(request), run_id)

    @post("/assignment-runs/{run_id:int}/publish", operation_id="PublishAssignment", status_code=200)
    async def publish(self, request: Request, run_id: IdPath, data: JSONBody[PublishIn]) -> RunOut:
        """Publish the draft run: scoring opens and the judges are mailed."""
        return await service.publish_run(current(request), run_id, data)

    @get("/stages/{stage_id:int}/assignments", operation_id="ListStageAssignments")
    async def assignments(self, request: Request, stage_id: IdPath) -> StageAssignmentsOut:
        """Each entry's judges, each judge's load and the recusals (within the caller's scope)."""
        return await service.stage_assignments(current(request), stage_id)

    @post("/stages/{stage_id:int}/assignments", operation_id="AddAssignment", status_code=201)
    async def add(self, request: Request, stage_id: IdPath, data: JSONBody[AssignmentIn]) -> AssignmentOut:
        """Give a judge an entry (refused on a conflict of interest)."""
        row = await service.add_assignment(current(request), stage_id, data.entry, data.judge)
        return AssignmentOut(**row)

    @delete("/assignments/{assignment_id:int}", operation_id="RemoveAssignment")
    async def remove(self, request: Request, assignment_id: IdPath) -> None:
        """Take an entry away from its judge (refused once scored)."""
        await service.remove_assignment(current(request), assignment_id)

    @post("/judge/assignments/{assignment_id:int}/recuse", operation_id="RecuseAssignment", status_code=200)
    async def recuse(self, request: Request, assignment_id: IdPath, data: JSONBody[RecuseIn]) -> RecuseOut:
        """Abstain from one of your entries, with a reason; the entry goes to another judge."""
        return await service.recuse(current(request), assignment_id, data)
