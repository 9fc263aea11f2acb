"""The badges API: badge runs of an event (render every badge as jobs, their progress, the zip),
mailing holders their badge link, and one ticket's QR code and badge as PNG. Routes check the login;
the service checks the policy (``manage_tickets`` for runs and mail, ``view_ticket`` for one ticket)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.http_errors import ERROR_STATUSES_OPT
from backend.schemas import IdPath
from ticketing.badges import service
from ticketing.badges.schemas import BadgeMailOut, BadgeRunIn, BadgeRunOut, FormatQuery

TAGS = ["ticketing: badges"]
PNG = "image/png"
CONFLICTS = {ERROR_STATUSES_OPT: {409: True}}  # a revoked ticket, a run not finished
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def png(data: bytes, name: str) -> Response:
    """A PNG answer shown inline, never cached (a ticket's code is a key to the venue)."""
    return Response(
        data, media_type=PNG, headers={**PRIVATE, "Content-Disposition": f'inline; filename="{name}"'}
    )


class BadgeController(Controller):
    path = "/api/v1"
    tags = TAGS
    guards = [requires_login]

    @post("/events/{event_id:int}/badge-runs", operation_id="RequestBadgeRun", status_code=201)
    async def request_run(
        self, request: Request, event_id: IdPath, data: JSONBody[BadgeRunIn]
    ) -> BadgeRunOut:
        """Render every valid ticket's badge of the event (A6 or label) in the background; poll the
        run for its progress, then download its zip (organizers)."""
        return await service.request_run(current(request), event_id, data.format)

    @get("/events/{event_id:int}/badge-runs", operation_id="ListBadgeRuns")
    async def list_runs(self, request: Request, event_id: IdPath) -> list[BadgeRunOut]:
        """The event's badge runs, newest first."""
        return await service.list_runs(current(request), event_id)

    @get("/badge-runs/{run_id:int}", operation_id="GetBadgeRun")
    async def get_run(self, request: Request, run_id: IdPath) -> BadgeRunOut:
        """A badge run's status and progress (``done`` of ``total``)."""
        return await service.get_run(current(request), run_id)

    @get("/badge-runs/{run_id:int}/badges.zip", operation_id="DownloadBadgeRun", opt=CONFLICTS)
    async def download(self, request: Request, run_id: IdPath) -> Stream:
        """A finished run's badges as a zip of PNG files, one folder per ticket type."""
        run, files = await service.run_files(current(request), run_id)
        name = f"badges-{run['event']}-{run['format']}.zip"
        return Stream(
            service.zip_chunks(files),
            media_type="application/zip",
            headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post("/events/{event_id:int}/badges/mail", operation_id="MailBadges", status_code=200)
    async def mail(self, request: Request, event_id: IdPath) -> BadgeMailOut:
        """Mail every valid ticket's holder the link to their badge, in their language."""
        return await service.mail_badges(current(request), event_id)

    @get("/tickets/{ticket_id:int}/qr.png", operation_id="GetTicketQr", media_type=PNG, opt=CONFLICTS)
    async def qr(self, request: Request, ticket_id: IdPath) -> Response:
        """The ticket's QR code (its holder and the event's organizers)."""
        return png(await service.ticket_qr(current(request), ticket_id), f"ticket-{ticket_id}.png")

    @get("/tickets/{ticket_id:int}/badge.png", operation_id="GetTicketBadge", media_type=PNG, opt=CONFLICTS)
    async def badge(self, request: Request, ticket_id: IdPath, format: FormatQuery = "a6") -> Response:
        """The ticket's printable badge: ``a6`` (105 × 148 mm) or ``label`` (4 × 3 in), 300 dpi."""
        data = await service.ticket_badge(current(request), ticket_id, format)
        return png(data, f"badge-{ticket_id}-{format}.png")
