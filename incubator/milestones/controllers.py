"""The milestones, evidence and support API. Routes check the login; the service checks the startup's
policy (and, for an upload, before a byte of the file is read).

An evidence file arrives as the ``file`` part of a multipart body, streamed into the storage as it is
read and refused as soon as it passes :data:`incubator.milestones.service.EVIDENCE_MAX` (the
multipart reading is the team materials' own); a link is a small JSON body."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, delete, get, patch, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import JSONBody
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.schemas import IdPath
from backend.teams.material_controllers import (
    MULTIPART_SLACK,
    _FilePart,
    attachment,
    multipart_file,
)
from incubator.milestones import service
from incubator.milestones.schemas import (
    DeliveryIn,
    EvidenceOut,
    LinkIn,
    MilestoneIn,
    MilestoneOut,
    MilestonePatch,
    PromiseIn,
    PromiseOut,
    SupportOut,
)

TAGS = ["incubator: milestones and support"]
UPLOAD_MAX = service.EVIDENCE_MAX + 2 * MULTIPART_SLACK  # Litestar's own cap, above ours


async def evidence_file(request: Request) -> _FilePart:
    """The ``file`` part of the request's multipart body, read as it arrives, at most
    :data:`service.EVIDENCE_MAX` bytes (plus the multipart framing)."""
    return await multipart_file(request, service.EVIDENCE_MAX, service.file_too_large())


@dataclass
class UploadOperation(Operation):
    """An evidence file's body: the multipart part ``file``."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={"file": Schema(type=OpenAPIType.STRING, format="binary")},
                        required=["file"],
                    )
                )
            },
        )


class MilestoneController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/startups/{startup_id:int}/milestones", operation_id="ListStartupMilestones")
    async def list_milestones(self, request: Request, startup_id: IdPath) -> list[MilestoneOut]:
        """The startup's milestones by due date, with their evidence and overdue flags (whoever sees
        the startup)."""
        return await service.list_milestones(current(request), startup_id)

    @post("/startups/{startup_id:int}/milestones", operation_id="CreateMilestone", status_code=201)
    async def create_milestone(
        self, request: Request, startup_id: IdPath, data: JSONBody[MilestoneIn]
    ) -> MilestoneOut:
        """Plan a milestone (the programme's managers and the startup's founders)."""
        return await service.create_milestone(current(request), startup_id, data)

    @get("/milestones/{milestone_id:int}", operation_id="GetMilestone")
    async def get_milestone(self, request: Request, milestone_id: IdPath) -> MilestoneOut:
        """One milestone with its evidence."""
        return await service.get_milestone(current(request), milestone_id)

    @patch("/milestones/{milestone_id:int}", operation_id="UpdateMilestone")
    async def update_milestone(
        self, request: Request, milestone_id: IdPath, data: JSONBody[MilestonePatch]
    ) -> MilestoneOut:
        """Change a milestone or move it on: planned → in_progress → achieved or dropped (managers
        and founders)."""
        return await service.update_milestone(current(request), milestone_id, data)

    @post(
        "/milestones/{milestone_id:int}/evidence/links",
        operation_id="AddMilestoneEvidenceLink",
        status_code=201,
    )
    async def add_milestone_link(
        self, request: Request, milestone_id: IdPath, data: JSONBody[LinkIn]
    ) -> EvidenceOut:
        """Back a milestone with a link (managers and founders)."""
        actor = current(request)
        return await service.add_link(actor, await service.milestone_target(actor, milestone_id), data.url)

    @post(
        "/milestones/{milestone_id:int}/evidence/files",
        operation_id="AddMilestoneEvidenceFile",
        status_code=201,
        request_max_body_size=UPLOAD_MAX,
        operation_class=UploadOperation,
    )
    async def add_milestone_file(self, request: Request, milestone_id: IdPath) -> EvidenceOut:
        """Back a milestone with a file: a PDF, PNG or JPEG of at most 10 MiB as the multipart part
        `file` (its type told from its content) (managers and founders)."""
        actor = current(request)
        target = await service.milestone_target(actor, milestone_id)  # before the body is read
        part = await evidence_file(request)
        return await service.add_file(actor, target, part.file_name, part.chunks)

    @post(
        "/deliveries/{delivery_id:int}/evidence/links",
        operation_id="AddDeliveryEvidenceLink",
        status_code=201,
    )
    async def add_delivery_link(
        self, request: Request, delivery_id: IdPath, data: JSONBody[LinkIn]
    ) -> EvidenceOut:
        """Back a support delivery with a link (managers)."""
        actor = current(request)
        return await service.add_link(actor, await service.delivery_target(actor, delivery_id), data.url)

    @post(
        "/deliveries/{delivery_id:int}/evidence/files",
        operation_id="AddDeliveryEvidenceFile",
        status_code=201,
        request_max_body_size=UPLOAD_MAX,
        operation_class=UploadOperation,
    )
    async def add_delivery_file(self, request: Request, delivery_id: IdPath) -> EvidenceOut:
        """Back a support delivery with a file: a PDF, PNG or JPEG of at most 10 MiB as the multipart
        part `file` (managers)."""
        actor = current(request)
        target = await service.delivery_target(actor, delivery_id)
        part = await evidence_file(request)
        return await service.add_file(actor, target, part.file_name, part.chunks)

    @get("/evidence/{evidence_id:int}/file", operation_id="DownloadEvidence")
    async def download_evidence(self, request: Request, evidence_id: IdPath) -> Stream:
        """An evidence file, as an attachment (whoever sees the startup)."""
        evidence, chunks = await service.open_file(current(request), evidence_id)
        return attachment(chunks, evidence.content_type, evidence.filename or "evidence", evidence.size)

    @delete("/evidence/{evidence_id:int}", operation_id="DeleteEvidence", status_code=204)
    async def delete_evidence(self, request: Request, evidence_id: IdPath) -> None:
        """Remove a link or a file (who added it, or a manager)."""
        await service.delete_evidence(current(request), evidence_id)


class SupportController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/startups/{startup_id:int}/support", operation_id="GetStartupSupport")
    async def get_support(self, request: Request, startup_id: IdPath) -> SupportOut:
        """What the programme promised the startup and delivered, each promise's gap and the startup's
        (whoever sees the startup)."""
        return await service.get_support(current(request), startup_id)

    @post("/startups/{startup_id:int}/support/promises", operation_id="CreateSupportPromise", status_code=201)
    async def create_promise(
        self, request: Request, startup_id: IdPath, data: JSONBody[PromiseIn]
    ) -> PromiseOut:
        """Promise the startup support: office space, cloud credits, training hours, introductions,
        funding (managers)."""
        return await service.create_promise(current(request), startup_id, data)

    @post("/promises/{promise_id:int}/withdraw", operation_id="WithdrawSupportPromise", status_code=200)
    async def withdraw_promise(self, request: Request, promise_id: IdPath) -> PromiseOut:
        """Withdraw a promise: what was delivered stays, nothing more is owed (managers)."""
        return await service.withdraw_promise(current(request), promise_id)

    @post("/promises/{promise_id:int}/deliveries", operation_id="RecordSupportDelivery", status_code=201)
    async def record_delivery(
        self, request: Request, promise_id: IdPath, data: JSONBody[DeliveryIn]
    ) -> PromiseOut:
        """Record part (or the rest) of a promise as delivered, never more than is left (managers)."""
        return await service.record_delivery(current(request), promise_id, data)
