"""The organizers' API for registrations: lists, counts, exports, review and bulk import of teams,
each inside the caller's organizer scopes (``backend.teams.review``, ``exports``, ``imports``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.pagination import OffsetPagination
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from backend.errors import INVALID_INPUT, FieldChecks
from backend.guards import current, may, requires_login
from backend.i18n import request_locale
from backend.policy import Action
from backend.schemas import PRINTABLE, IdPath, IdQuery, Limit, Offset, Search
from backend.teams import exports, imports, review
from backend.teams.review import ReviewIn, TeamCountsOut, TeamFilter, TeamSummaryOut
from backend.teams.tables import TeamStatus

Region = Annotated[str | None, QueryParameter(max_length=100, pattern=PRINTABLE)]
Country = Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z]{2}$")]
Filters = NamedDependency[TeamFilter]


def team_filter(
    track_id: IdQuery = None,
    institution_id: IdQuery = None,
    region: Region = None,
    country: Country = None,
    status: FromQuery[TeamStatus | None] = None,
    complete: FromQuery[bool | None] = None,
    q: Search = None,
) -> TeamFilter:
    return TeamFilter(track_id, institution_id, region, country, status, complete, q)


def attachment(file_name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{file_name}"'}


@dataclass(frozen=True)
class Upload:
    """The import's multipart body: the file's bytes and whether this is a dry run."""

    content: bytes
    dry_run: bool


async def read_upload(request: Request) -> Upload:
    """The ``file`` and ``dry_run`` parts of the import's form (every wrong part named at once)."""
    form = await request.form()
    file, dry_run = form.get("file"), str(form.get("dry_run") or "false").lower()
    checks = FieldChecks()
    if not isinstance(file, UploadFile):
        checks.add("validation_error", INVALID_INPUT, "file", "required")
    if dry_run not in ("true", "false"):
        checks.add("validation_error", INVALID_INPUT, "dry_run", "must be one of: true, false")
    checks.raise_if_any()
    assert isinstance(file, UploadFile)
    return Upload(await file.read(imports.MAX_BYTES + 1), dry_run == "true")


class ImportOperation(Operation):
    """The import's body is a multipart form, read by :func:`read_upload`."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        properties={
                            "file": Schema(type=OpenAPIType.STRING, format="binary"),
                            "dry_run": Schema(type=OpenAPIType.BOOLEAN, default=False),
                        },
                        required=["file"],
                    )
                )
            },
        )


class EventTeamsController(Controller):
    path = "/api/v1/events/{event_id:int}/teams"
    tags = ["teams (organizers)"]
    dependencies = {"filters": Provide(team_filter, sync_to_thread=False)}

    @get("", operation_id="ListEventTeams", guards=[may(Action.view_teams)])
    async def list_teams(
        self, request: Request, event_id: IdPath, filters: Filters, limit: Limit = 50, offset: Offset = 0
    ) -> OffsetPagination[TeamSummaryOut]:
        """The event's teams inside the caller's scope, filtered and searched (``q``: team name, entry
        title, a member's name or e-mail), oldest first."""
        items, total = await review.list_teams(
            current(request), event_id, filters, limit, offset, request_locale(request)
        )
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/counts", operation_id="CountEventTeams", guards=[may(Action.view_teams)])
    async def count_teams(self, request: Request, event_id: IdPath, filters: Filters) -> TeamCountsOut:
        """How many of those teams there are: in all, per status, per institution and per region."""
        return await review.count_teams(current(request), event_id, filters, request_locale(request))

    @get("/export", operation_id="ExportEventTeams", guards=[may(Action.view_teams)])
    async def export_teams(
        self,
        request: Request,
        event_id: IdPath,
        filters: Filters,
        format: FromQuery[exports.ExportFormat] = "csv",
    ) -> Stream:
        """The filtered list as CSV (UTF-8 with BOM) or XLSX: one row per team with its people."""
        export = await exports.export_teams(
            current(request), event_id, filters, format, request_locale(request)
        )
        return Stream(export.chunks, media_type=export.media_type, headers=attachment(export.file_name))

    @post(
        "/import",
        operation_id="ImportEventTeams",
        guards=[may(Action.import_teams)],
        request_max_body_size=imports.MAX_BYTES + 64 * 1024,
        status_code=200,
        operation_class=ImportOperation,
    )
    async def import_teams(self, request: Request, event_id: IdPath) -> imports.ImportReportOut:
        """Import teams from an XLSX or CSV file of the template's columns (multipart: ``file``,
        ``dry_run``). ``dry_run=true`` checks every row and reports each problem (row, column, code,
        message) without writing; otherwise every row is imported in one transaction, or none (400
        ``import_rows_invalid``)."""
        upload = await read_upload(request)
        return await imports.import_teams(
            current(request), event_id, upload.content, dry_run=upload.dry_run, locale=request_locale(request)
        )

    @get("/import-template", operation_id="EventTeamsImportTemplate", guards=[may(Action.import_teams)])
    async def import_template(
        self,
        request: Request,
        event_id: IdPath,
        format: FromQuery[exports.ExportFormat] = "xlsx",
    ) -> Response[bytes]:
        """The import's template, as XLSX (with a sheet describing each column) or CSV."""
        content = imports.template(format, request_locale(request))
        return Response(
            content,
            media_type=exports.MEDIA_TYPES[format],
            headers=attachment(f"teams-import-template.{format}"),
        )


class TeamReviewController(Controller):
    path = "/api/v1/teams/{team_id:int}/review"
    tags = ["teams (organizers)"]

    @post("", operation_id="ReviewTeam", guards=[requires_login], status_code=200)
    async def review_team(
        self, request: Request, team_id: IdPath, data: JSONBody[ReviewIn]
    ) -> TeamSummaryOut:
        """Approve or reject a complete team (a rejection says why), where the contest requires
        approval; the team is told by e-mail."""
        return await review.review_team(
            current(request), team_id, data, request.app.state.settings.base_url, request_locale(request)
        )
