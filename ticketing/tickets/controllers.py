"""The tickets API: ticket types, tickets (issue, bulk issue, import, export, revoke, reissue,
transfer, mail), the caller's own tickets and the events' signing keys. Routes check the login; the
service checks the policy (``manage_tickets`` for organizers, ``view_ticket`` for one ticket)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath, IdQuery, Limit, Offset, Search
from ticketing.tickets import exports, service
from ticketing.tickets.schemas import (
    ImportIn,
    IssuedOut,
    IssueMissingIn,
    MailedOut,
    SigningKeyOut,
    TicketIn,
    TicketOut,
    TicketsPage,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePatch,
    TransferIn,
)

KeyIdPath = Annotated[int, PathParameter(ge=0, le=15)]
StatusQuery = Annotated[Literal["valid", "revoked"] | None, QueryParameter()]
FormatQuery = Annotated[Literal["csv", "xlsx"], QueryParameter()]
TAGS = ["ticketing: tickets"]


class EventTicketsController(Controller):
    path = "/api/v1/events/{event_id:int}"
    tags = TAGS
    guards = [requires_login]

    @get("/ticket-types", operation_id="ListTicketTypes")
    async def list_types(self, request: Request, event_id: IdPath) -> list[TicketTypeOut]:
        """The event's ticket types with their counts of valid tickets."""
        return await service.list_types(current(request), event_id, request_locale(request))

    @post("/ticket-types", operation_id="CreateTicketType", status_code=201)
    async def create_type(
        self, request: Request, event_id: IdPath, data: JSONBody[TicketTypeIn]
    ) -> TicketTypeOut:
        """Add a ticket type (its number unique in the event: codes carry it)."""
        return await service.create_type(current(request), event_id, data, request_locale(request))

    @get("/tickets", operation_id="ListTickets")
    async def list_tickets(
        self,
        request: Request,
        event_id: IdPath,
        q: Search = None,
        ticket_type: IdQuery = None,
        status: StatusQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TicketsPage:
        """The event's tickets, searched by holder, address, institution or serial (``q``)."""
        return await service.list_tickets(
            current(request),
            event_id,
            query=q,
            type_id=ticket_type,
            status=status,
            limit=limit,
            offset=offset,
            locale=request_locale(request),
        )

    @post("/tickets", operation_id="IssueTicket", status_code=201)
    async def issue(self, request: Request, event_id: IdPath, data: JSONBody[TicketIn]) -> TicketOut:
        """Issue one ticket to an account or to a name and an address."""
        return await service.issue_ticket(current(request), event_id, data, request_locale(request))

    @post("/tickets/issue-missing", operation_id="IssueMissingTickets", status_code=200)
    async def issue_missing(
        self, request: Request, event_id: IdPath, data: JSONBody[IssueMissingIn]
    ) -> IssuedOut:
        """Issue a ticket to every eligible person lacking one; running it again issues nothing."""
        return await service.issue_missing(current(request), event_id, data)

    @post("/tickets/import", operation_id="ImportTickets", status_code=200)
    async def import_csv(self, request: Request, event_id: IdPath, data: JSONBody[ImportIn]) -> IssuedOut:
        """Issue tickets to the people of a CSV file (``name_native,name_latin,email,institution,type``):
        every row is checked first; people holding a ticket of the type already are skipped."""
        return await service.import_csv(current(request), event_id, data.csv)

    @get("/tickets/export", operation_id="ExportTickets")
    async def export(
        self, request: Request, event_id: IdPath, format: FormatQuery = "csv"
    ) -> Response[bytes]:
        """Every ticket of the event as ``csv`` or ``xlsx`` (columns ticket, holder, type, code, then
        the holder's details, status, validity and serial)."""
        tickets = await service.export_rows(current(request), event_id, request_locale(request))
        return Response(
            await exports.export(tickets, format),
            media_type=exports.MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="tickets-{event_id}.{format}"'},
        )

    @get("/signing-keys", operation_id="ListSigningKeys")
    async def list_keys(self, request: Request, event_id: IdPath) -> list[SigningKeyOut]:
        """The event's Ed25519 signing keys (public halves), newest first."""
        return await service.list_keys(current(request), event_id)

    @post("/signing-keys", operation_id="RotateSigningKey", status_code=201)
    async def rotate_key(self, request: Request, event_id: IdPath) -> SigningKeyOut:
        """Make a new signing key: new codes use it, older codes stay valid."""
        return await service.rotate_key(current(request), event_id)

    @post("/signing-keys/{key_id:int}/retire", operation_id="RetireSigningKey", status_code=200)
    async def retire_key(self, request: Request, event_id: IdPath, key_id: KeyIdPath) -> SigningKeyOut:
        """Retire a signing key: every code it signed stops verifying."""
        return await service.retire_key(current(request), event_id, key_id)


class TicketTypeController(Controller):
    path = "/api/v1/ticket-types/{type_id:int}"
    tags = TAGS
    guards = [requires_login]

    @patch("", operation_id="UpdateTicketType")
    async def update(
        self, request: Request, type_id: IdPath, data: JSONBody[TicketTypePatch]
    ) -> TicketTypeOut:
        """Change a ticket type; its number and kind only while it has no tickets."""
        return await service.update_type(current(request), type_id, data, request_locale(request))

    @delete("", operation_id="DeleteTicketType")
    async def remove(self, request: Request, type_id: IdPath) -> None:
        """Remove a ticket type that never had a ticket."""
        await service.delete_type(current(request), type_id)


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = TAGS
    guards = [requires_login]

    @get("/mine", operation_id="ListMyTickets")
    async def mine(self, request: Request) -> list[TicketOut]:
        """The caller's own tickets."""
        return await service.my_tickets(current(request), request_locale(request))

    @get("/{ticket_id:int}", operation_id="GetTicket")
    async def get_ticket(self, request: Request, ticket_id: IdPath) -> TicketOut:
        """One ticket with its code: for its holder and the event's organizers."""
        return await service.get_ticket(current(request), ticket_id, request_locale(request))

    @post("/{ticket_id:int}/revoke", operation_id="RevokeTicket", status_code=200)
    async def revoke(self, request: Request, ticket_id: IdPath) -> TicketOut:
        """Revoke a ticket: its code is refused from now on."""
        return await service.revoke_ticket(current(request), ticket_id, request_locale(request))

    @post("/{ticket_id:int}/reissue", operation_id="ReissueTicket", status_code=200)
    async def reissue(self, request: Request, ticket_id: IdPath) -> TicketOut:
        """Give a ticket a new code; the old one is refused as revoked."""
        return await service.reissue_ticket(current(request), ticket_id, request_locale(request))

    @post("/{ticket_id:int}/transfer", operation_id="TransferTicket", status_code=200)
    async def transfer(self, request: Request, ticket_id: IdPath, data: JSONBody[TransferIn]) -> TicketOut:
        """Give a ticket to another holder with a new code; the old one is refused as revoked."""
        return await service.transfer_ticket(current(request), ticket_id, data, request_locale(request))

    @post("/{ticket_id:int}/mail", operation_id="MailTicket", status_code=202)
    async def mail(self, request: Request, ticket_id: IdPath) -> MailedOut:
        """Mail the ticket (a link to it and its code) to its holder through the outbox."""
        return MailedOut(mailed=await service.mail_ticket(current(request), ticket_id))
