"""The attendance API: the live figures of an event and their exports (check-in staff and
whole-event organizers; scanning devices are refused like every policy action)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Stream

from backend.guards import current, may
from backend.i18n import request_locale
from backend.policy import Action
from backend.schemas import ID_MAX, IdPath
from ticketing.attendance import exports, service
from ticketing.attendance.schemas import AttendanceOut


class AttendanceController(Controller):
    path = "/api/v1/events/{event_id:int}/attendance"
    tags = ["ticketing: attendance"]
    guards = [may(Action.view_attendance)]

    @get("", operation_id="GetAttendance")
    async def attendance(self, request: Request, event_id: IdPath) -> AttendanceOut:
        """Counts per check-in list (entries, people, inside now, refusals per reason, no-shows), per
        local hour and per session, and the event's totals, as of now. Poll it for a live view."""
        return await service.attendance(current(request), event_id)

    @get("/export", operation_id="ExportAttendance")
    async def export(
        self,
        request: Request,
        event_id: IdPath,
        table: Annotated[exports.Table, QueryParameter()] = "lists",
        format: Annotated[exports.Format, QueryParameter()] = "csv",
        list: Annotated[int | None, QueryParameter(ge=1, le=ID_MAX)] = None,
    ) -> Stream:
        """One ``table`` (``lists``, ``hours``, ``sessions``, ``no_shows``, ``scans``) as CSV or XLSX,
        or ``all`` of them but the log as one XLSX workbook. ``list`` narrows the no-shows to one
        check-in list. Columns: see ``ticketing.attendance.exports``."""
        export = await exports.export(
            current(request), event_id, table, format, list, request_locale(request)
        )
        return Stream(
            export.chunks,
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
        )
