"""The mentoring API: the programme's mentor directory, connections with hour budgets, office-hour
slots and bookings. Routes check the login; the service checks the programme's policy."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody

from backend.guards import current, requires_login
from backend.schemas import IdPath, Search
from incubator.mentoring import service
from incubator.mentoring.schemas import (
    BookingIn,
    BookingOut,
    CohortLinkIn,
    CohortLinkOut,
    ConnectionsOut,
    LinkIn,
    LinkOut,
    LinkPatch,
    MentorIn,
    MentorOut,
    MentorPatch,
    SlotIn,
    SlotOut,
)

TAGS = ["incubator: mentoring"]


class MentoringController(Controller):
    path = "/api/v1/incubator"
    tags = TAGS
    guards = [requires_login]

    @get("/programmes/{programme_id:int}/mentors", operation_id="ListMentors")
    async def list_mentors(
        self,
        request: Request,
        programme_id: IdPath,
        q: Search = None,
        expertise: Search = None,
        language: Search = None,
    ) -> list[MentorOut]:
        """The programme's mentor directory, searchable by a word, an expertise tag and a language
        code (managers also see inactive mentors)."""
        return await service.list_mentors(current(request), programme_id, q, expertise, language)

    @post("/programmes/{programme_id:int}/mentors", operation_id="AddMentor", status_code=201)
    async def add_mentor(self, request: Request, programme_id: IdPath, data: JSONBody[MentorIn]) -> MentorOut:
        """Add a person (the e-mail of an existing account) to the directory."""
        return await service.add_mentor(current(request), programme_id, data)

    @get("/mentors/{mentor_id:int}", operation_id="GetMentor")
    async def get_mentor(self, request: Request, mentor_id: IdPath) -> MentorOut:
        """One mentor of the directory."""
        return await service.get_mentor(current(request), mentor_id)

    @patch("/mentors/{mentor_id:int}", operation_id="UpdateMentor")
    async def update_mentor(
        self, request: Request, mentor_id: IdPath, data: JSONBody[MentorPatch]
    ) -> MentorOut:
        """Edit a mentor's profile (managers, or the mentor themself); managers (de)activate."""
        return await service.update_mentor(current(request), mentor_id, data)

    @get("/mentors/{mentor_id:int}/connections", operation_id="ListMentorConnections")
    async def connections(self, request: Request, mentor_id: IdPath) -> ConnectionsOut:
        """The mentor's startups with their hour budgets, and the cohorts they mentor."""
        return await service.connections(current(request), mentor_id)

    @post("/mentors/{mentor_id:int}/links", operation_id="ConnectMentorToStartup", status_code=201)
    async def connect_startup(self, request: Request, mentor_id: IdPath, data: JSONBody[LinkIn]) -> LinkOut:
        """Connect the mentor one-to-one to a startup, with a budget of minutes."""
        return await service.connect_startup(current(request), mentor_id, data)

    @post("/mentors/{mentor_id:int}/cohorts", operation_id="ConnectMentorToCohort", status_code=201)
    async def connect_cohort(
        self, request: Request, mentor_id: IdPath, data: JSONBody[CohortLinkIn]
    ) -> CohortLinkOut:
        """Connect the mentor to a whole cohort, with minutes for each of its startups."""
        return await service.connect_cohort(current(request), mentor_id, data)

    @patch("/mentor-links/{link_id:int}", operation_id="UpdateMentorLink")
    async def update_link(self, request: Request, link_id: IdPath, data: JSONBody[LinkPatch]) -> LinkOut:
        """Change a mentor's budget with a startup (never below the minutes used)."""
        return await service.update_link(current(request), link_id, data)

    @delete("/mentor-links/{link_id:int}", operation_id="DisconnectMentorLink")
    async def disconnect_link(self, request: Request, link_id: IdPath) -> None:
        """End a mentor's connection to a startup (its meetings stay logged)."""
        await service.disconnect_link(current(request), link_id)

    @delete("/mentor-cohorts/{connection_id:int}", operation_id="DisconnectMentorCohort")
    async def disconnect_cohort(self, request: Request, connection_id: IdPath) -> None:
        """End a mentor's connection to a cohort, with the startups' links it made."""
        await service.disconnect_cohort(current(request), connection_id)

    @get("/startups/{startup_id:int}/mentors", operation_id="ListStartupMentors")
    async def startup_mentors(self, request: Request, startup_id: IdPath) -> list[LinkOut]:
        """The startup's mentors with their hour budgets: budgeted, used and left."""
        return await service.startup_mentors(current(request), startup_id)

    @get("/startups/{startup_id:int}/office-hours", operation_id="ListOpenOfficeHours")
    async def open_slots(self, request: Request, startup_id: IdPath) -> list[SlotOut]:
        """The open slots of the startup's mentors, to book."""
        return await service.open_slots(current(request), startup_id)

    @get("/startups/{startup_id:int}/bookings", operation_id="ListStartupBookings")
    async def startup_bookings(self, request: Request, startup_id: IdPath) -> list[BookingOut]:
        """The startup's office-hour bookings (a mentor sees their own)."""
        return await service.startup_bookings(current(request), startup_id)

    @post("/startups/{startup_id:int}/bookings", operation_id="BookOfficeHour", status_code=201)
    async def book(self, request: Request, startup_id: IdPath, data: JSONBody[BookingIn]) -> BookingOut:
        """A founder books an open slot of one of the startup's mentors (one booking per slot)."""
        return await service.book(current(request), startup_id, data)

    @post("/bookings/{booking_id:int}/cancel", operation_id="CancelBooking", status_code=200)
    async def cancel_booking(self, request: Request, booking_id: IdPath) -> BookingOut:
        """Cancel a booking: founders until the programme's cancellation window, the mentor always."""
        return await service.cancel_booking(current(request), booking_id)

    @get("/office-hours", operation_id="ListMyOfficeHours")
    async def my_office_hours(self, request: Request) -> list[SlotOut]:
        """The caller's own office-hour slots as a mentor, with their bookings."""
        return await service.my_office_hours(current(request))

    @post("/programmes/{programme_id:int}/office-hours", operation_id="CreateOfficeHour", status_code=201)
    async def create_slot(self, request: Request, programme_id: IdPath, data: JSONBody[SlotIn]) -> SlotOut:
        """Offer an office-hour slot as a mentor of the programme (future, no overlap)."""
        return await service.create_slot(current(request), programme_id, data)

    @post("/office-hours/{slot_id:int}/cancel", operation_id="CancelOfficeHour", status_code=200)
    async def cancel_slot(self, request: Request, slot_id: IdPath) -> SlotOut:
        """Withdraw one of your slots; its booking is cancelled and the founders mailed."""
        return await service.cancel_slot(current(request), slot_id)
