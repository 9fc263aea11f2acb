"""The mentoring pages: a programme's mentor directory (search; its managers add mentors, connect them
and set their hour budgets; a mentor edits their own profile there), a startup's "Mentors and office
hours" tab (its mentors' hours budgeted, used and left, their open slots for the founders to book, its
bookings) and a mentor's own office hours (``/incubator/office-hours``: their slots and bookings, the
form to offer one).

The pages only read; their forms are sent to the JSON API by ``static/api-forms.js`` (the same
service, the same refusals shown next to each field). Times are shown and entered in :data:`ZONE`.
"""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from backend.db import fetch_all, fetch_one
from backend.guards import current, requires_login
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath, Search
from incubator.access import allowed, programme_access, startup_access
from incubator.mentoring import service
from incubator.navigation import startup_head

ZONE = "Asia/Shanghai"  # the programme's clock (UTC+8, no daylight saving time): slots are shown in it
OFFSET = "+08:00"  # what the slot form appends to the local time it is given


class MentoringPages(Controller):
    path = "/incubator"
    guards = [requires_login]
    include_in_schema = False

    @get("/programmes/{programme_id:int}/mentors")
    async def directory(
        self,
        request: Request,
        programme_id: IdPath,
        q: Search = None,
        expertise: Search = None,
        language: Search = None,
    ) -> Template:
        """The programme's mentor directory; its managers' forms to add, connect and budget."""
        principal = current(request)
        mentors = await service.list_mentors(principal, programme_id, q, expertise, language)
        context = await programme_access(principal, programme_id, Action.view_mentor_directory)
        managing = allowed(principal, Action.manage_programme, context)
        programme = await fetch_one(
            "SELECT id, name_zh, name_en, name_ru FROM incubation_programme WHERE id = {}", programme_id
        )
        me = await fetch_one(
            'SELECT id, headline, bio, languages, availability FROM incubation_mentor WHERE programme = {} AND "user" = {} AND active',
            programme_id,
            principal.id,
        )
        connections = startups = cohorts = None
        if managing:
            connections = await service.programme_connections(principal, programme_id)
            startups, cohorts = await service.programme_choices(programme_id)
        return page(
            request,
            "incubator/mentoring/directory.html.jinja",
            programme=programme,
            mentors=mentors,
            managing=managing,
            programme_page=allowed(principal, Action.view_programme, context),
            me=me,
            connections=connections,
            startups=startups,
            cohorts=cohorts,
            search={"q": q or "", "expertise": expertise or "", "language": language or ""},
        )

    @get("/startups/{startup_id:int}/mentors")
    async def startup_tab(self, request: Request, startup_id: IdPath) -> Template:
        """A startup's mentors with their hours, the slots its founders may book, its bookings."""
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        return page(
            request,
            "incubator/mentoring/startup.html.jinja",
            **await startup_head(principal, access, "mentors"),
            startup_id=startup_id,
            mentors=await service.startup_mentors(principal, startup_id),
            slots=await service.open_slots(principal, startup_id),
            bookings=await service.startup_bookings(principal, startup_id),
            founder=allowed(principal, Action.act_for_startup, access.context),
            zone=ZONE,
        )

    @get("/office-hours")
    async def office_hours(self, request: Request) -> Template:
        """The caller's own slots and bookings as a mentor, and the form to offer a slot."""
        principal = current(request)
        programmes = await fetch_all(
            """SELECT p.id, p.name_zh, p.name_en, p.name_ru FROM incubation_mentor m
               JOIN incubation_programme p ON p.id = m.programme
               WHERE m."user" = {} AND m.active ORDER BY p.id""",
            principal.id,
        )
        return page(
            request,
            "incubator/mentoring/office_hours.html.jinja",
            programmes=programmes,
            slots=await service.my_office_hours(principal),
            zone=ZONE,
            offset=OFFSET,
        )
