"""The organizer's conflicts page: offline admissions the server would have refused."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from backend.guards import current, may
from backend.policy import Action
from backend.schemas import IdPath, Offset
from backend.workspace.controllers import event_page
from ticketing.checkin import service

PER_PAGE = 100


class ConflictPages(Controller):
    path = "/workspace/events/{event_id:int}/ticketing/conflicts"
    include_in_schema = False

    @get("", guards=[may(Action.view_attendance)])
    async def conflicts(self, request: Request, event_id: IdPath, offset: Offset = 0) -> Template:
        """Every conflict of the event with the admission it clashes with."""
        items, total = await service.conflicts(current(request), event_id, PER_PAGE, offset)
        return await event_page(
            request,
            "ticketing/checkin/conflicts.html.jinja",
            event_id,
            "ticketing",
            conflicts=items,
            total=total,
            offset=offset,
            per_page=PER_PAGE,
        )
