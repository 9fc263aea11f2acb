"""The scoring routes: a judge's queue, entries, sheets and their versions, the entry's files; the
organizers' view of a stage's sheets and of one sheet's log. The services check every object."""

from __future__ import annotations

from litestar import Controller, Request, get, put
from litestar.pagination import OffsetPagination
from litestar.params import JSONBody
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath, IdQuery, Limit, Offset
from backend.teams.material_controllers import content_disposition
from backend.teams.storage import storage
from judging.scoring import service
from judging.scoring.schemas import JudgeAssignmentOut, QueueOut, SheetIn, SheetOut, StageSheetOut, VersionOut


class JudgeController(Controller):
    path = "/api/v1/judge"
    tags = ["judging: scoring"]
    guards = [requires_login]

    @get("/queue", operation_id="JudgeQueue")
    async def queue(self, request: Request) -> QueueOut:
        """Your live assignments across stages, with each sheet's state and your progress."""
        return await service.judge_queue(current(request), request_locale(request))

    @get("/assignments/{assignment_id:int}", operation_id="GetJudgeAssignment")
    async def assignment(self, request: Request, assignment_id: IdPath) -> JudgeAssignmentOut:
        """One of your assigned entries: the entry, the rubric, your own sheet and the materials."""
        return await service.judge_assignment(current(request), assignment_id, request_locale(request))

    @put("/assignments/{assignment_id:int}/sheet", operation_id="SubmitSheet")
    async def submit(self, request: Request, assignment_id: IdPath, data: JSONBody[SheetIn]) -> SheetOut:
        """Submit or change your sheet for an assigned entry while the stage is scoring; a retry with
        the same nonce answers as the first attempt did, and a change needs a reason."""
        return await service.submit_sheet(current(request), assignment_id, data)

    @get("/assignments/{assignment_id:int}/sheet/versions", operation_id="ListOwnSheetVersions")
    async def versions(self, request: Request, assignment_id: IdPath) -> list[VersionOut]:
        """Your sheet's versions for an assigned entry, oldest first."""
        return await service.own_versions(current(request), assignment_id)

    @get("/assignments/{assignment_id:int}/materials/{material_id:int}", operation_id="DownloadJudgeMaterial")
    async def material(self, request: Request, assignment_id: IdPath, material_id: IdPath) -> Stream:
        """A file of the assigned entry's team for the stage (named by the entry's label in anonymous stages)."""
        row, name = await service.judge_material(current(request), assignment_id, material_id)
        return Stream(
            storage().open(row["storage_key"]),
            media_type=row["content_type"],
            headers={
                "content-disposition": content_disposition(name),
                "content-length": str(row["size"]),
                "x-content-type-options": "nosniff",
                "content-security-policy": "default-src 'none'; sandbox",
                "cache-control": "private, no-store",
            },
        )


class SheetController(Controller):
    path = "/api/v1"
    tags = ["judging: scoring"]
    guards = [requires_login]

    @get("/stages/{stage_id:int}/sheets", operation_id="ListStageSheets")
    async def list_sheets(
        self,
        request: Request,
        stage_id: IdPath,
        entry_id: IdQuery = None,
        judge_id: IdQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[StageSheetOut]:
        """The stage's current sheets whose teams your scope covers, optionally of one entry or judge."""
        items, total = await service.list_sheets(
            current(request), stage_id, entry_id, judge_id, limit, offset
        )
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/sheets/{sheet_id:int}/versions", operation_id="ListSheetVersions")
    async def versions(self, request: Request, sheet_id: IdPath) -> list[VersionOut]:
        """A sheet's append-only log: every version with who, when, why and from which address."""
        return await service.sheet_versions(current(request), sheet_id)
