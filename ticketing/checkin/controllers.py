"""The scan API: one scan, an upload of offline scans, a list's offline bundle, an event's conflicts.
Devices call them with their own tokens; people with a session or a token holding ``write``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.pagination import OffsetPagination
from litestar.params import JSONBody

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath, Limit, Offset
from backend.security import TOKEN_SCOPE_OPT
from ticketing.checkin import service
from ticketing.checkin.schemas import ConflictOut, ScanIn, ScanOut, SyncIn, SyncOut


class ScanController(Controller):
    path = "/api/v1"
    tags = ["ticketing: scanning"]
    guards = [requires_login]

    @post(
        "/checkin/scan",
        operation_id="ScanTicket",
        status_code=200,
        opt={TOKEN_SCOPE_OPT: ("device", "write")},
    )
    async def scan(self, request: Request, data: JSONBody[ScanIn]) -> ScanOut:
        """Scan a code on a check-in list: admitted or rejected with the reason, exactly once per
        ticket and slot; a retry with the same nonce returns the first answer and changes nothing."""
        return await service.scan(current(request), data, request_locale(request))

    @post(
        "/checkin/sync",
        operation_id="SyncScans",
        status_code=200,
        opt={TOKEN_SCOPE_OPT: ("device", "write")},
    )
    async def sync(self, request: Request, data: JSONBody[SyncIn]) -> SyncOut:
        """Upload scans made offline (each with its nonce, time and the device's verdict): recorded,
        never refused after the fact; admissions the server would have refused become conflicts."""
        return SyncOut(results=await service.sync(current(request), data.scans, request_locale(request)))

    @get(
        "/checkin/lists/{list_id:int}/offline",
        operation_id="GetOfflineBundle",
        opt={TOKEN_SCOPE_OPT: ("device", "read")},
    )
    async def offline(self, request: Request, list_id: IdPath) -> dict[str, Any]:
        """What a scanner needs to decide offline on the list: public keys, revoked serials, rules,
        ticket types and holders' names sealed under each ticket's own serial."""
        return await service.offline_bundle(current(request), list_id)

    @get("/events/{event_id:int}/checkin/conflicts", operation_id="ListCheckinConflicts")
    async def conflicts(
        self, request: Request, event_id: IdPath, limit: Limit = 100, offset: Offset = 0
    ) -> OffsetPagination[ConflictOut]:
        """Offline admissions the server would have refused (a ticket let in twice), newest first."""
        items, total = await service.conflicts(current(request), event_id, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)
