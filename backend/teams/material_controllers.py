"""A team's materials over HTTP: the list, a submission per stage and kind, a file's download.

A PDF arrives as the ``file`` part of a multipart body and is streamed into the storage as it is
read (never held whole in memory), stopping as soon as it passes its kind's limit; a link or a
summary is a small JSON body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, get, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import PathParameter
from litestar.response import Stream
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from backend.errors import INVALID_INPUT, DomainError
from backend.guards import current, requires_login
from backend.schemas import IdPath
from backend.teams import materials
from backend.teams.materials import FILE_LIMITS, MaterialKind, MaterialOut, MaterialsOut
from backend.teams.storage import CHUNK

MULTIPART_SLACK = 64 * 1024  # the parts' headers and boundaries around the file, and a CSRF field
JSON_MAX = 64 * 1024  # a link or a summary
BODY_MAX = max(FILE_LIMITS.values()) + 2 * MULTIPART_SLACK  # Litestar's own cap, above ours

KindPath = Annotated[
    MaterialKind, PathParameter(description="business_plan and slides: PDF; video_link; summary")
]


async def _capped(chunks: AsyncIterator[bytes], cap: int, error: DomainError) -> AsyncIterator[bytes]:
    """The request's bytes, refused with ``error`` as soon as there are more than ``cap``."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > cap:
            raise error
        yield chunk


def _refuse_announced(request: Request, cap: int, error: DomainError) -> None:
    """A body announced (``Content-Length``) larger than ``cap`` is refused before it is read."""
    if (request.content_length or 0) > cap:
        raise error


@dataclass
class _FilePart:
    """The ``file`` part of a multipart body: its name as the client gave it, and its bytes."""

    file_name: str | None
    chunks: AsyncIterator[bytes] = field(repr=False)


async def _multipart_events(chunks: AsyncIterator[bytes], boundary: str) -> AsyncIterator[Any]:
    """The multipart parser's events (a part's headers, its bytes, ``None`` at its end) as they come."""
    try:
        with PushMultipartParser(boundary, max_segment_count=8) as parser:
            async for chunk in chunks:
                for event in parser.parse(chunk):
                    yield event
                if parser.closed:
                    return
    except MultipartError:
        raise DomainError(
            "bad_request",
            "The multipart body could not be read",
            fields={"file": "is not a complete multipart/form-data part"},
        ) from None


async def _part_body(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for event in events:
        if event is None:  # the end of the part (its closing boundary was seen)
            return
        yield bytes(event)
    raise DomainError(  # the body ended inside the part
        "bad_request",
        "The multipart body could not be read",
        fields={"file": "is not a complete multipart/form-data part"},
    )


async def _uploaded_form_file(request: Request) -> _FilePart | None:
    """The file when the CSRF check has already read the form (a page's form, its token in a field)."""
    if ScopeState.from_scope(request.scope).form is Empty:
        return None
    upload = (await request.form()).get("file")
    if upload is None or isinstance(upload, str):
        raise DomainError("validation_error", INVALID_INPUT, fields={"file": "is required"})

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(CHUNK):
            yield chunk

    return _FilePart(upload.filename, chunks())


async def file_part(request: Request, kind: MaterialKind) -> _FilePart:
    """The ``file`` part of the request's multipart body, read as it arrives, at most the kind's
    limit (plus the multipart framing)."""
    limit = FILE_LIMITS[kind]
    return await multipart_file(
        request,
        limit,
        materials.file_too_large(limit),
        no_boundary=DomainError(
            "bad_request", "The multipart body could not be read", fields={"file": "is required"}
        ),
    )


async def multipart_file(
    request: Request, limit: int, error: DomainError, *, no_boundary: DomainError | None = None
) -> _FilePart:
    """The ``file`` part of the request's multipart body, read as it arrives, at most ``limit`` bytes
    (plus the multipart framing; ``error`` past it, also when the body announces more). A body with
    no boundary raises ``no_boundary``, or else the 400 that the file is required."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise DomainError(
            "unsupported_media_type",
            "Send the file as multipart/form-data, not {media_type}",
            status_code=415,
            params={"media_type": media_type or "-"},
        )
    _refuse_announced(request, limit + MULTIPART_SLACK, error)
    form_file = await _uploaded_form_file(request)
    if form_file is not None:
        return form_file
    boundary = options.get("boundary", "")
    if boundary:
        events = _multipart_events(_capped(request.stream(), limit + MULTIPART_SLACK, error), boundary)
        async for event in events:
            if isinstance(event, MultipartSegment) and event.name == "file" and event.filename is not None:
                return _FilePart(event.filename, _part_body(events))
    elif no_boundary is not None:
        raise no_boundary
    raise DomainError("validation_error", INVALID_INPUT, fields={"file": "is required"})


async def json_text(request: Request, name: str) -> str:
    """The one text field ``name`` of a small JSON object body."""
    media_type, _ = request.content_type
    if not (media_type == "application/json" or media_type.endswith("+json")):
        raise DomainError(
            "unsupported_media_type",
            "Send the body as application/json, not {media_type}",
            status_code=415,
            params={"media_type": media_type or "-"},
        )
    error = DomainError("payload_too_large", "The body is larger than the server accepts", status_code=413)
    _refuse_announced(request, JSON_MAX, error)
    raw = b"".join([chunk async for chunk in _capped(request.stream(), JSON_MAX, error)])
    try:
        body = msgspec.json.decode(raw or b"null")
    except msgspec.DecodeError:
        raise DomainError(
            "bad_request", "The request could not be read; check that the body is valid JSON"
        ) from None
    if not isinstance(body, dict):
        raise DomainError("validation_error", INVALID_INPUT, fields={"body": "must be an object"})
    problems = {key: "is not a field of this request" for key in body if key != name}
    if body.get(name) is None:
        problems[name] = "is required"
    elif not isinstance(body[name], str):
        problems[name] = "must be text"
    if problems:
        raise DomainError("validation_error", INVALID_INPUT, fields=problems)
    return body[name]


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name twice: plain ASCII for old clients, and RFC 5987's UTF-8 form
    (``filename*``) that browsers prefer, so a Chinese or Russian name arrives whole and nothing in
    it can break out of the header."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in " .-_()") else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def attachment(
    chunks: AsyncIterator[bytes], content_type: str | None, file_name: str, size: int | None
) -> Stream:
    """A stored file's download: an attachment named ``file_name``, never sniffed, run or cached."""
    return Stream(
        chunks,
        media_type=content_type,
        headers={
            "content-disposition": content_disposition(file_name),
            "content-length": str(size),
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, no-store",
        },
    )


@dataclass
class SubmitMaterialOperation(Operation):
    """The submission's body depends on the kind: a multipart file or a small JSON object."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING)
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={"file": Schema(type=OpenAPIType.STRING, format="binary")},
                        required=["file"],
                    )
                ),
                "application/json": OpenAPIMediaType(
                    schema=Schema(
                        one_of=[
                            Schema(type=OpenAPIType.OBJECT, properties={"url": text}, required=["url"]),
                            Schema(type=OpenAPIType.OBJECT, properties={"text": text}, required=["text"]),
                        ]
                    )
                ),
            },
        )


class MaterialController(Controller):
    path = "/api/v1"
    tags = ["team materials"]

    @get("/teams/{team_id:int}/materials", operation_id="ListTeamMaterials", guards=[requires_login])
    async def list_materials(self, request: Request, team_id: IdPath) -> MaterialsOut:
        """The team's materials: the latest version of each stage and kind, and every version (the
        team and the organizers whose scope covers it)."""
        return await materials.list_materials(current(request), team_id)

    @post(
        "/teams/{team_id:int}/stages/{stage_id:int}/materials/{kind:str}",
        operation_id="SubmitMaterial",
        guards=[requires_login],
        request_max_body_size=BODY_MAX,
        operation_class=SubmitMaterialOperation,
    )
    async def submit_material(
        self, request: Request, team_id: IdPath, stage_id: IdPath, kind: KindPath
    ) -> MaterialOut:
        """Submit a new version of a material for a stage of the team's contest (its confirmed
        members, and organizers in scope), until the stage's submission deadline. `business_plan` and
        `slides`: a PDF of at most 20 MiB as the multipart part `file` (checked from its content);
        `video_link`: `{"url": "https://..."}`; `summary`: `{"text": "..."}` (at most 5000 characters)."""
        actor = current(request)
        access = await materials.submittable(actor, team_id, stage_id)  # before the body is read
        if kind in FILE_LIMITS:
            part = await file_part(request, kind)
            return await materials.submit_file(actor, access, stage_id, kind, part.file_name, part.chunks)
        if kind is MaterialKind.video_link:
            return await materials.submit_link(actor, access, stage_id, await json_text(request, "url"))
        return await materials.submit_summary(actor, access, stage_id, await json_text(request, "text"))

    @get("/materials/{material_id:int}/file", operation_id="DownloadMaterial", guards=[requires_login])
    async def download_material(self, request: Request, material_id: IdPath) -> Stream:
        """A material's file, as an attachment (whoever may see the team)."""
        material, chunks = await materials.open_file(current(request), material_id)
        return attachment(chunks, material.content_type, material.file_name or "material.pdf", material.size)
