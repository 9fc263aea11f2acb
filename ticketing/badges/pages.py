"""The badges pages: the organizer's badges page of an event (render every badge in the background
with its progress, download the zip, mail holders their badge link), a ticket's QR code and badge as
images for its holder's page, and the badge behind a mailed link (the link is its own key).

Forms post to these pages (they work without JavaScript); ``static/ticketing-badges.js`` only moves
the progress bar of a running run and reloads the page when it ends.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend.errors import DomainError
from backend.guards import current, may, requires_login
from backend.http_errors import localized_error
from backend.i18n import request_locale, translations
from backend.policy import Action
from backend.schemas import IdPath
from backend.workspace.controllers import _posted, event_page
from ticketing.badges import service
from ticketing.badges.controllers import png
from ticketing.badges.schemas import FormatQuery

TokenPath = Annotated[str, PathParameter(min_length=1, max_length=64)]
DONE = {
    "render": "The badges are being rendered; the progress shows below.",
    "mail": "The holders with an address are being mailed the link to their badge.",
}
STATUS = {"queued": "Waiting for a worker", "running": "Rendering", "done": "Done", "failed": "Failed"}
FORMAT_NAMES = {"a6": "A6 page (105 × 148 mm)", "label": "Label (4 × 3 in)"}


class TicketImagePages(Controller):
    """A ticket's QR code and badge, for its holder's page (its holder and the event's organizers)."""

    path = "/tickets"
    include_in_schema = False
    guards = [requires_login]

    @get("/{ticket_id:int}/qr.png")
    async def qr(self, request: Request, ticket_id: IdPath) -> Response:
        return png(await service.ticket_qr(current(request), ticket_id), f"ticket-{ticket_id}.png")

    @get("/{ticket_id:int}/badge.png")
    async def badge(self, request: Request, ticket_id: IdPath, format: FormatQuery = "a6") -> Response:
        data = await service.ticket_badge(current(request), ticket_id, format)
        return png(data, f"badge-{ticket_id}-{format}.png")


class BadgeLinkPages(Controller):
    """The badge behind the link mailed to its holder: no login, the link's token is the key."""

    path = "/badges"
    include_in_schema = False

    @get("/{ticket_id:int}/{token:str}")
    async def linked(
        self, request: Request, ticket_id: IdPath, token: TokenPath, format: FormatQuery = "a6"
    ) -> Response:
        data = await service.linked_badge(ticket_id, token, format)
        return png(data, f"badge-{ticket_id}-{format}.png")


class BadgePages(Controller):
    """The organizer's badges page of an event."""

    path = "/workspace/events/{event_id:int}/ticketing/badges"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self, request: Request, event_id: int, problem: str = "", fields=None, status_code: int = 200
    ) -> Template:
        principal, t = current(request), translations(request_locale(request))
        runs = await service.list_runs(principal, event_id)
        done = DONE.get(request.query_params.get("done", ""))
        return await event_page(
            request,
            "ticketing/badges/badges.html.jinja",
            event_id,
            "ticketing",
            status_code=status_code,
            runs=runs[:10],
            badges_done=done,
            problem=problem,
            fields=fields or {},
            statuses={k: t.gettext(v) for k, v in STATUS.items()},
            formats={k: t.gettext(v) for k, v in FORMAT_NAMES.items()},
            counts=await service.holder_counts(event_id),
        )

    @get("", guards=[may(Action.manage_tickets)])
    async def badges(self, request: Request, event_id: IdPath) -> Template:
        """Render every badge, watch the progress, download the zip, mail the holders."""
        return await self._page(request, event_id)

    async def _act(self, request: Request, event_id: int, action, done: str) -> Response:
        try:
            await action(await _posted(request))
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            detail, fields = localized_error(exc, request_locale(request))
            return await self._page(request, event_id, detail, fields, exc.status_code)
        return Redirect(
            f"/workspace/events/{event_id}/ticketing/badges?done={done}", status_code=HTTP_303_SEE_OTHER
        )

    @post("/render", guards=[may(Action.manage_tickets)])
    async def render(self, request: Request, event_id: IdPath) -> Response:
        principal = current(request)

        async def act(posted: dict[str, str]) -> None:
            fmt = posted.get("format", "")
            if fmt not in service.FORMATS:
                raise DomainError(
                    "validation_error", "Invalid input: {problems}",
                    params={"problems": "format"}, fields={"format": "Choose a badge format"},
                )  # fmt: skip
            await service.request_run(principal, event_id, fmt)

        return await self._act(request, event_id, act, "render")

    @post("/mail", guards=[may(Action.manage_tickets)])
    async def mail(self, request: Request, event_id: IdPath) -> Response:
        principal = current(request)

        async def act(posted: dict[str, str]) -> None:
            await service.mail_badges(principal, event_id)

        return await self._act(request, event_id, act, "mail")
