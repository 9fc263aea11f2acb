"""The live final's routes: preparing the rooms, running a room, its streams (Server-Sent Events),
a team's room result and signable score sheet. The services check every object."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, PathParameter
from litestar.response import ServerSentEvent

from backend.db import utcnow
from backend.guards import current, requires_login
from backend.i18n import request_locale, translations
from backend.policy import Action
from backend.schemas import IdPath
from judging.live import events, push, service, sheet
from judging.live.channels import RoomChannels, stream
from judging.live.schemas import EntryResultOut, JudgeRoomOut, PrepareOut, RoomOut, StepIn

assert push.push_sheet  # imported for its listener: every app pushes saved sheets to their rooms

StepPath = Annotated[str, PathParameter(max_length=40, pattern=r"^[a-z-]+$")]
NO_BUFFERING = {"cache-control": "no-store", "x-accel-buffering": "no"}


def _sse(content: Any) -> ServerSentEvent:
    return ServerSentEvent(content, headers=NO_BUFFERING, retry_duration=2000)


async def _watch(request: Request, panel_id: int, audience: str) -> ServerSentEvent:
    """A room's stream for those who may view its stage (``events.CONTROL`` or ``events.SCREEN``):
    access is checked before the stream opens, and the first state is read after subscribing."""
    principal = current(request)
    await service.panel_access(principal, panel_id, Action.view_judging)

    async def first() -> list[tuple[str, dict[str, Any]]]:
        panel, access = await service.panel_access(principal, panel_id, Action.view_judging)
        return [("state", await service.room_snapshot(panel, access))]

    channels = request.app.plugins.get(RoomChannels)
    return _sse(stream(channels, [channels.room(panel_id, audience)], first))


class LiveStageController(Controller):
    path = "/api/v1/stages/{stage_id:int}/live"
    tags = ["judging: live final"]
    guards = [requires_login]

    @post("/prepare", operation_id="PrepareLiveRooms", status_code=200)
    async def prepare(self, request: Request, stage_id: IdPath) -> PrepareOut:
        """Assign each room's judges to each team of the room (conflicts left out) and open scoring."""
        return await service.prepare_rooms(current(request), stage_id)


class LiveRoomController(Controller):
    path = "/api/v1/panels/{panel_id:int}"
    tags = ["judging: live final"]
    guards = [requires_login]

    @get("/live", operation_id="GetLiveRoom")
    async def room(self, request: Request, panel_id: IdPath) -> RoomOut:
        """The room: phase, team on stage, timer and the running order with each team's sheets in."""
        return await service.room_state(current(request), panel_id)

    @post("/live/{step:str}", operation_id="RunLiveRoomStep", status_code=200)
    async def step(
        self, request: Request, panel_id: IdPath, step: StepPath, data: JSONBody[StepIn | None] = None
    ) -> RoomOut:
        """One step of the room: start-pitch, start-questions, start-scoring, next or close."""
        entry = data.entry if data is not None else None
        return await service.run_step(current(request), panel_id, step, entry)

    @get("/stream", operation_id="StreamLiveRoom")
    async def control_stream(self, request: Request, panel_id: IdPath) -> ServerSentEvent:
        """The organizers' stream: the state, then phases, each judge's marks as they come, results."""
        return await _watch(request, panel_id, events.CONTROL)

    @get("/screen/stream", operation_id="StreamLiveRoomScreen")
    async def screen_stream(self, request: Request, panel_id: IdPath) -> ServerSentEvent:
        """The room screen's stream: the state, then phases and each team's result once complete."""
        return await _watch(request, panel_id, events.SCREEN)

    @get("/entries/{entry_id:int}/result", operation_id="GetLiveRoomResult")
    async def result(self, request: Request, panel_id: IdPath, entry_id: IdPath) -> EntryResultOut:
        """A team's room result: complete once every judge's sheet is in."""
        return await service.entry_result(current(request), panel_id, entry_id)

    @get(
        "/entries/{entry_id:int}/score-sheet.pdf",
        operation_id="DownloadLiveScoreSheet",
        media_type="application/pdf",
    )
    async def score_sheet(self, request: Request, panel_id: IdPath, entry_id: IdPath) -> Response[bytes]:
        """A team's signable score sheet (PDF): every judge's marks, the dropped ones, the result."""
        data = await service.score_sheet_data(current(request), panel_id, entry_id)
        locale = request_locale(request)
        t = translations(locale)
        body = sheet.render(sheet.sheet_model(data, locale, t, utcnow()), t)
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "content-disposition": f'attachment; filename="score-sheet-{data["entry"]["label"]}.pdf"',
                "cache-control": "private, no-store",
            },
        )


class JudgeRoomController(Controller):
    path = "/api/v1/judge/rooms/{panel_id:int}"
    tags = ["judging: live final"]
    guards = [requires_login]

    @get("", operation_id="GetJudgeRoom")
    async def room(self, request: Request, panel_id: IdPath) -> JudgeRoomOut:
        """Your room: phase, timer, the team on stage and your assignment for it (judges seated there)."""
        return await service.judge_room(current(request), panel_id)

    @get("/stream", operation_id="StreamJudgeRoom")
    async def judge_stream(self, request: Request, panel_id: IdPath) -> ServerSentEvent:
        """Your room's stream: the state, then phases and "your sheet is in"; never others' marks."""
        principal = current(request)
        await service.judge_room(principal, panel_id)

        async def first() -> list[tuple[str, dict[str, Any]]]:
            return [("state", await service.judge_room(principal, panel_id))]

        def mine(kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
            if kind == "sheet_in":
                return {"entry": data["entry"]} if data["judge"] == principal.id else None
            return data if kind == "phase" else None

        channels = request.app.plugins.get(RoomChannels)
        return _sse(stream(channels, [channels.room(panel_id, events.JUDGES)], first, mine))
