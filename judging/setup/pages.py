"""The judging pages of the organizer's workspace (the hub and a stage's set-up) and the tablet
sign-in page a judge's QR code opens.

The workspace pages are read from the services and written through the API by
``static/judging-setup.js`` (each form names its endpoint), so the page and the API share one set of
checks; scoped admins get the same pages without the forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend import policy
from backend.errors import DomainError, NotFound
from backend.guards import current, may
from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action, Outcome
from backend.schemas import IdPath
from backend.security import start_session
from backend.workspace.controllers import event_page
from judging.access import stage_access
from judging.engine.ranking import METHODS
from judging.setup import service
from judging.tables import EntryStatus

TokenPath = Annotated[str, PathParameter(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]
PageNumber = Annotated[int, QueryParameter(ge=1, le=100_000)]
ENTRIES_PER_PAGE = 50


class JudgingPages(Controller):
    path = "/workspace/events/{event_id:int}/judging"
    include_in_schema = False

    @get("", guards=[may(Action.view_judging)])
    async def hub(self, request: Request, event_id: IdPath) -> Template:
        """Every stage of the event with its judging state, counts and links."""
        stages = await service.overview(current(request), event_id)
        return await event_page(request, "judging/setup/hub.html.jinja", event_id, "judging", stages=stages)

    @get("/stages/{stage_id:int}", guards=[may(Action.view_judging)])
    async def stage(
        self, request: Request, event_id: IdPath, stage_id: IdPath, page_number: PageNumber = 1
    ) -> Template:
        """A stage's set-up: settings, rubric, rooms, entries, judges, conflicts, lock and reopen."""
        principal, locale = current(request), request_locale(request)
        access = await stage_access(principal, stage_id, Action.view_judging)
        if access.stage["event"] != event_id:
            raise NotFound("Stage")
        configure = policy.decide(principal, Action.configure_judging, access.event) is Outcome.allowed
        entries = await service.list_entries(
            principal, stage_id, ENTRIES_PER_PAGE, (page_number - 1) * ENTRIES_PER_PAGE, locale
        )
        judges = await service.list_judges(principal, stage_id, locale)
        conflicts = await service.list_conflicts(principal, event_id, locale) if configure else []
        panels = await service.list_panels(principal, stage_id)
        stage_judges = {j.user_id for j in judges}
        t = translations(locale)
        return await event_page(
            request,
            "judging/setup/stage.html.jinja",
            event_id,
            "judging",
            stage=access.stage,
            judging=access.judging,
            current="setup",
            configure=configure,
            methods=METHODS,
            rubric=await service.get_rubric(principal, stage_id),
            panels=panels,
            room_options=[(str(p.id), p.name) for p in panels],
            room_names={p.id: p.name for p in panels},
            judge_options=[(str(j.user_id), j.name) for j in judges],
            entries=entries.items,
            entries_total=entries.total,
            page_number=page_number,
            pages=max(1, -(-entries.total // ENTRIES_PER_PAGE)),
            status_options=[(s.value, t.gettext(s.value.capitalize())) for s in EntryStatus],
            judges=judges,
            conflicts=[c for c in conflicts if c.user_id in stage_judges] if configure else [],
            conflict_teams=sorted(
                {(str(e.team_id), e.team) for e in entries.items}, key=lambda pair: pair[1]
            ),
        )


class TabletPages(Controller):
    """The page a judge's one-time QR code opens. Opening it changes nothing (a link preview or a
    mail scanner must not use the code up); its button signs the tablet in."""

    path = "/tablet/{token:str}"
    include_in_schema = False

    async def _page(self, request: Request, token: str, status_code: int = 200, error: str = "") -> Template:
        try:
            sign_in: dict[str, Any] | None = await service.tablet_sign_in(token)
        except NotFound:
            sign_in, status_code = None, 404
        if sign_in is not None and sign_in["state"] != "ready" and status_code == 200:
            status_code = 410
        return page(
            request, "judging/setup/tablet.html.jinja", status_code, sign_in=sign_in, token=token, error=error
        )

    @get("")
    async def show(self, request: Request, token: TokenPath) -> Template:
        """Who is about to sign in, and the button that does it."""
        return await self._page(request, token)

    @post("")
    async def use(self, request: Request, token: TokenPath) -> Response:
        """Use the code up and sign the tablet in as the judge, then open their queue."""
        try:
            user_id = await service.use_tablet_sign_in(token)
        except DomainError as exc:
            return await self._page(request, token, exc.status_code)
        response: Response = Redirect("/judge", status_code=HTTP_303_SEE_OTHER)
        await start_session(request, response, user_id)
        return response
