"""The live final's pages: the organizers' control of the rooms in the workspace, the room screen
for the projector, and a judge's room page on the tablet. Each reads its room from the service and
then follows it through its stream (``static/judging-live.js``); steps and reordering go through the
API, so the pages and the API share one set of checks."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from backend.errors import NotFound
from backend.guards import current, may, requires_login
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath
from backend.workspace.controllers import event_page
from judging.live import service


class LivePages(Controller):
    include_in_schema = False

    @get(
        "/workspace/events/{event_id:int}/judging/stages/{stage_id:int}/live",
        guards=[may(Action.configure_judging)],
    )
    async def control(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Template:
        """The rooms of a live final: running order, steps, timer, marks as they come, results."""
        access, rooms = await service.rooms_of_stage(current(request), stage_id)
        if access.stage["event"] != event_id:
            raise NotFound("Stage")
        return await event_page(
            request,
            "judging/live/control.html.jinja",
            event_id,
            "judging",
            stage=access.stage,
            judging=access.judging,
            current="live",
            rooms=rooms,
        )

    @get("/live/rooms/{panel_id:int}/screen", guards=[requires_login])
    async def screen(self, request: Request, panel_id: IdPath) -> Template:
        """The room screen (projector): the team on stage, the timer, the result once complete."""
        panel, access = await service.panel_access(current(request), panel_id, Action.view_judging)
        return page(
            request, "judging/live/screen.html.jinja", room=await service.room_snapshot(panel, access)
        )

    @get("/judge/rooms/{panel_id:int}", guards=[requires_login])
    async def judge(self, request: Request, panel_id: IdPath) -> Template:
        """A judge's room: the timer, the team on stage and the link to score it."""
        return page(
            request,
            "judging/live/judge.html.jinja",
            room=await service.judge_room(current(request), panel_id),
        )
