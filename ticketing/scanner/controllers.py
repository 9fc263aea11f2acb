"""The scanner page's own API route: who is scanning and where (the scan, the offline bundle and
the sync are ``ticketing.checkin``'s)."""

from __future__ import annotations

from litestar import Controller, Request, get

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.security import TOKEN_SCOPE_OPT
from ticketing.scanner import service
from ticketing.scanner.schemas import ScannerOut


class ScannerController(Controller):
    path = "/api/v1/checkin/scanner"
    tags = ["ticketing: scanning"]
    guards = [requires_login]

    @get("", operation_id="GetScanner", opt={TOKEN_SCOPE_OPT: ("device", "read")})
    async def scanner(self, request: Request) -> ScannerOut:
        """This scanner: a device (with its gate) or a person, and the check-in lists it may scan on."""
        return await service.scanner(current(request), request_locale(request))
