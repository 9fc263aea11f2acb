"""The ticketing pages: the hub of an event's ticketing in the organizer's workspace, its tickets
page (types, issuing, import, search, revoke, reissue, transfer, mail, signing keys) and the holders'
own pages (``/tickets`` and ``/tickets/{ticket_id}``).

The workspace pages are read from the service and written through the API by
``static/ticketing-tickets.js`` (each form names its endpoint), so the page and the API share one set
of checks.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from backend.db import fetch_one
from backend.events.tables import Event
from backend.guards import current, may, requires_login
from backend.i18n import request_locale
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import ID_MAX, IdPath, Search
from backend.workspace.controllers import Form, event_page
from ticketing.tables import ParticipantKind
from ticketing.tickets import service

PageNumber = Annotated[int, QueryParameter(ge=1, le=100_000)]
# The filters as the search form sends them: "" for "all" (a select's empty option).
TypeFilter = Annotated[str | None, QueryParameter(max_length=12)]
StatusFilter = Annotated[str | None, QueryParameter(max_length=12)]
TICKETS_PER_PAGE = 50
KIND_NAMES = {
    "team_member": "Team member",
    "advisor": "Advisor",
    "judge": "Judge",
    "guest": "Guest",
    "speaker": "Speaker",
    "exhibitor_staff": "Exhibitor staff",
    "visitor": "Visitor",
    "staff": "Staff",
}
assert set(KIND_NAMES) == {k.value for k in ParticipantKind}

_COUNTS = (
    "SELECT (SELECT COUNT(*) FROM ticket_type WHERE event = {}) AS types,"
    " (SELECT COUNT(*) FROM ticket WHERE event = {} AND status = 'valid') AS tickets,"
    " (SELECT COUNT(*) FROM checkin_list WHERE event = {} AND archived_at IS NULL) AS lists,"
    " (SELECT COUNT(*) FROM checkin_device WHERE event = {} AND revoked_at IS NULL) AS devices,"
    " (SELECT COUNT(*) FROM checkin WHERE event = {} AND status = 'admitted') AS admitted,"
    " (SELECT COUNT(*) FROM checkin WHERE event = {} AND conflict) AS conflicts"
)


class TicketingPages(Controller):
    path = "/workspace/events/{event_id:int}/ticketing"
    include_in_schema = False

    @get("", guards=[may(Action.manage_checkin)])
    async def hub(self, request: Request, event_id: IdPath) -> Template:
        """The event's ticketing at a glance, with a link to each of its pages."""
        counts = await fetch_one(_COUNTS, *[event_id] * 6)
        base = f"/workspace/events/{event_id}/ticketing"
        links = [
            ("tickets", f"{base}/tickets", "Tickets", "Ticket types, issuing, import, revoking and signing keys."),
            ("badges", f"{base}/badges", "Badges", "Printable badges for the whole event, rendered in the background."),
            ("lists", f"{base}/lists", "Check-in lists", "Gates, sessions, meals and booths with their rules."),
            ("devices", f"{base}/devices", "Scanning devices", "Phones and tablets at the gates, with their own tokens."),
            ("attendance", f"{base}/attendance", "Attendance", "Who came, when, and to which session."),
            ("conflicts", f"{base}/conflicts", "Offline conflicts", "Tickets admitted twice by gates that were offline."),
            ("scanner", "/scan", "Scanner", "The scanning page for staff and devices."),
        ]  # fmt: skip
        return await event_page(
            request, "ticketing/tickets/hub.html.jinja", event_id, "ticketing", counts=counts, links=links
        )

    @get("/tickets", guards=[may(Action.manage_tickets)])
    async def tickets(
        self,
        request: Request,
        event_id: IdPath,
        q: Search = None,
        ticket_type: TypeFilter = None,
        status: StatusFilter = None,
        page_number: PageNumber = 1,
    ) -> Template:
        """Ticket types, issuing, import, the tickets found and the signing keys."""
        principal, locale = current(request), request_locale(request)
        type_id = (
            int(ticket_type) if ticket_type and ticket_type.isdigit() and int(ticket_type) <= ID_MAX else None
        )
        status = status if status in ("valid", "revoked") else None
        types = await service.list_types(principal, event_id, locale)
        found = await service.list_tickets(
            principal,
            event_id,
            query=q,
            type_id=type_id,
            status=status,
            limit=TICKETS_PER_PAGE,
            offset=(page_number - 1) * TICKETS_PER_PAGE,
            locale=locale,
        )
        event = await Event.select(Event.starts_on, Event.ends_on).where(Event.id == event_id).first()
        return await event_page(
            request,
            "ticketing/tickets/tickets.html.jinja",
            event_id,
            "ticketing",
            types=types,
            tickets=found.items,
            total=found.total,
            page_number=page_number,
            pages=max(1, -(-found.total // TICKETS_PER_PAGE)),
            q=q or "",
            ticket_type=type_id,
            status=status or "",
            keys=await service.list_keys(principal, event_id),
            kinds=[(k, v) for k, v in KIND_NAMES.items()],
            kind_names=KIND_NAMES,
            form=Form(
                "new-type-",
                {"colour": "#1f6feb", "number": str(max((t.number for t in types), default=0) + 1)},
            ),
            issue_form=Form("issue-"),
            transfer_form=lambda ticket_id: Form(f"transfer-{ticket_id}-"),
            dates=event,
        )


class HolderTicketPages(Controller):
    """A holder's own tickets: the list, and one ticket with its QR code and badge."""

    path = "/tickets"
    include_in_schema = False
    guards = [requires_login]

    @get("")
    async def mine(self, request: Request) -> Template:
        """The caller's tickets."""
        tickets = await service.my_tickets(current(request), request_locale(request))
        return page(
            request, "ticketing/tickets/mine.html.jinja", tickets=tickets, events=await _events(tickets)
        )

    @get("/{ticket_id:int}")
    async def one(self, request: Request, ticket_id: IdPath) -> Template:
        """One ticket: its QR code, validity, status and badge (its holder and the organizers)."""
        ticket = await service.get_ticket(current(request), ticket_id, request_locale(request))
        events = await _events([ticket])
        return page(
            request,
            "ticketing/tickets/ticket.html.jinja",
            ticket=ticket,
            ticket_event=events[ticket.event_id],
        )


async def _events(tickets: list[Any]) -> dict[int, dict[str, Any]]:
    ids = sorted({t.event_id for t in tickets})
    if not ids:
        return {}
    rows = await Event.select(
        Event.id, Event.slug, Event.name_zh, Event.name_en, Event.name_ru, Event.venue_zh, Event.venue_en,
        Event.venue_ru,
    ).where(Event.id.is_in(ids))  # fmt: skip
    return {r["id"]: r for r in rows}
