"""The check-in lists and devices API: lists with their rules per gate, session, meal or booth, a
list per session in one call, archive and restore; scanning devices with their own tokens, their
lists and gate, revocation. Routes check the login; the service checks the event's policy."""

from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath
from ticketing.lists import service
from ticketing.lists.schemas import (
    DeviceCreatedOut,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    ListIn,
    ListOut,
    ListPatch,
    SessionListsOut,
)

TAGS = ["ticketing: lists and devices"]


class CheckinListController(Controller):
    path = "/api/v1"
    tags = TAGS
    guards = [requires_login]

    @get("/events/{event_id:int}/checkin/lists", operation_id="ListCheckinLists")
    async def list_lists(self, request: Request, event_id: IdPath) -> list[ListOut]:
        """The event's check-in lists with their rules (archived ones last)."""
        return await service.list_lists(current(request), event_id, request_locale(request))

    @post("/events/{event_id:int}/checkin/lists", operation_id="CreateCheckinList", status_code=201)
    async def create_list(self, request: Request, event_id: IdPath, data: JSONBody[ListIn]) -> ListOut:
        """Add a check-in list (a gate, a session, a meal or a booth) with its rules."""
        return await service.create_list(current(request), event_id, data, request_locale(request))

    @post("/events/{event_id:int}/checkin/session-lists", operation_id="CreateSessionLists", status_code=200)
    async def session_lists(self, request: Request, event_id: IdPath) -> SessionListsOut:
        """A check-in list for every session of the event that has none (idempotent)."""
        created = await service.create_session_lists(current(request), event_id, request_locale(request))
        return SessionListsOut(created=created)

    @get("/checkin/lists/{list_id:int}", operation_id="GetCheckinList")
    async def get_list(self, request: Request, list_id: IdPath) -> ListOut:
        """One check-in list with its rules."""
        return await service.get_list(current(request), list_id, request_locale(request))

    @patch("/checkin/lists/{list_id:int}", operation_id="UpdateCheckinList")
    async def update_list(self, request: Request, list_id: IdPath, data: JSONBody[ListPatch]) -> ListOut:
        """Rename a list, change its kind, session, place or rules (replaced as a whole)."""
        return await service.update_list(current(request), list_id, data, request_locale(request))

    @post("/checkin/lists/{list_id:int}/archive", operation_id="ArchiveCheckinList", status_code=200)
    async def archive(self, request: Request, list_id: IdPath) -> ListOut:
        """Archive a list: no more scans on it; its check-in log stays."""
        return await service.archive_list(current(request), list_id, request_locale(request))

    @post("/checkin/lists/{list_id:int}/restore", operation_id="RestoreCheckinList", status_code=200)
    async def restore(self, request: Request, list_id: IdPath) -> ListOut:
        """Bring an archived list back."""
        return await service.restore_list(current(request), list_id, request_locale(request))


class DeviceController(Controller):
    path = "/api/v1"
    tags = TAGS
    guards = [requires_login]

    @get("/events/{event_id:int}/checkin/devices", operation_id="ListDevices")
    async def list_devices(self, request: Request, event_id: IdPath) -> list[DeviceOut]:
        """The event's scanning devices with their lists, gate and last contact."""
        return await service.list_devices(current(request), event_id)

    @post("/events/{event_id:int}/checkin/devices", operation_id="CreateDevice", status_code=201)
    async def create_device(
        self, request: Request, event_id: IdPath, data: JSONBody[DeviceIn]
    ) -> DeviceCreatedOut:
        """Register a scanning device; the answer holds its token (shown once), an enrolment link
        and the link's QR code."""
        base_url = request.app.state.settings.base_url
        return await service.create_device(current(request), event_id, data, base_url)

    @patch("/checkin/devices/{device_id:int}", operation_id="UpdateDevice")
    async def update_device(
        self, request: Request, device_id: IdPath, data: JSONBody[DevicePatch]
    ) -> DeviceOut:
        """Rename a device, change its gate or its lists."""
        return await service.update_device(
            current(request), device_id, data, request.app.state.get("principals")
        )

    @post("/checkin/devices/{device_id:int}/revoke", operation_id="RevokeDevice", status_code=200)
    async def revoke_device(self, request: Request, device_id: IdPath) -> DeviceOut:
        """Revoke a device's token: its next scan is refused."""
        return await service.revoke_device(current(request), device_id, request.app.state.get("principals"))
