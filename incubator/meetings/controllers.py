"""The meetings API: a startup's meeting logs (its connected mentors log, change and delete their
own; everyone who sees the startup reads them, private notes only by their author), the managers'
CSV export, and action items kept by the founders and mentors. Routes check the login (and the
startup where the path names it); the service checks the rest."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.policy import Action
from backend.schemas import IdPath
from incubator.access import may_on_startup
from incubator.meetings import service
from incubator.meetings.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
)

TAGS = ["incubator: meetings and action items"]


class StartupMeetingController(Controller):
    path = "/api/v1/incubator/startups/{startup_id:int}"
    tags = TAGS
    guards = [may_on_startup(Action.view_startup)]

    @get("/meetings", operation_id="ListMeetings")
    async def list_meetings(self, request: Request, startup_id: IdPath) -> list[MeetingOut]:
        """The startup's meetings, latest first, with their action items (``private_notes`` only in
        the meetings the caller logged)."""
        return await service.list_meetings(current(request), startup_id)

    @post("/meetings", operation_id="LogMeeting", status_code=201)
    async def log_meeting(
        self, request: Request, startup_id: IdPath, data: JSONBody[MeetingIn]
    ) -> MeetingOut:
        """A connected mentor logs a meeting; its minutes come out of their hour budget with the
        startup (409 ``budget_exceeded`` when fewer are left)."""
        return await service.log_meeting(current(request), startup_id, data)

    @get("/meetings/export", operation_id="ExportMeetings")
    async def export(self, request: Request, startup_id: IdPath) -> Stream:
        """The startup's meetings as CSV for the programme's managers (no private notes)."""
        export = await service.export_meetings(current(request), startup_id, request_locale(request))
        return Stream(
            export.chunks,
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
        )

    @get("/action-items", operation_id="ListActionItems")
    async def list_items(self, request: Request, startup_id: IdPath) -> list[ActionItemOut]:
        """The startup's action items, open ones first."""
        return await service.list_startup_items(current(request), startup_id)

    @post("/action-items", operation_id="CreateActionItem", status_code=201)
    async def create_item(
        self, request: Request, startup_id: IdPath, data: JSONBody[ActionItemIn]
    ) -> ActionItemOut:
        """A founder or a connected mentor adds an action item."""
        return await service.create_action_item(current(request), startup_id, data)


class MeetingController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/meetings/{meeting_id:int}", operation_id="GetMeeting")
    async def get_meeting(self, request: Request, meeting_id: IdPath) -> MeetingOut:
        """One meeting with its action items."""
        return await service.get_meeting(current(request), meeting_id)

    @patch("/meetings/{meeting_id:int}", operation_id="UpdateMeeting")
    async def update_meeting(
        self, request: Request, meeting_id: IdPath, data: JSONBody[MeetingPatch]
    ) -> MeetingOut:
        """The meeting's mentor changes it (a change of minutes debits or credits the difference)."""
        return await service.update_meeting(current(request), meeting_id, data)

    @delete("/meetings/{meeting_id:int}", operation_id="DeleteMeeting", status_code=204)
    async def delete_meeting(self, request: Request, meeting_id: IdPath) -> None:
        """The meeting's mentor deletes it; its minutes go back to their budget."""
        await service.delete_meeting(current(request), meeting_id)

    @get("/action-items", operation_id="ListMyActionItems")
    async def my_items(self, request: Request) -> list[ActionItemOut]:
        """The open action items of the startups the caller founds or mentors."""
        return await service.my_open_items(current(request))

    @patch("/action-items/{item_id:int}", operation_id="UpdateActionItem")
    async def update_item(
        self, request: Request, item_id: IdPath, data: JSONBody[ActionItemPatch]
    ) -> ActionItemOut:
        """Mark an action item done, or not done after all (its startup's founders and mentors)."""
        return await service.update_action_item(current(request), item_id, data)
