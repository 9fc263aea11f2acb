"""The assignment page of a stage in the organizer's workspace: the engine's draw with its
diagnostics before publication, the assignment per entry with its edits, the judges' loads, entries
short of judges and the recusals; and the judge's page to abstain from an entry.

Read from the service; written through the API by ``static/judging-setup.js`` (the set-up page's
forms script: each form names its endpoint), so the page and the API share one set of checks.
Scoped admins see their scope without the forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from backend import policy
from backend.errors import DomainError, NotFound
from backend.guards import current, may, requires_login
from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action, Outcome
from backend.schemas import IdPath
from backend.workspace.controllers import Form, _failed_form, _posted, event_page
from backend.workspace.forms import FormErrors, decode
from judging.access import assignment_access, stage_access
from judging.assign import service
from judging.assign.schemas import RecuseIn

PageNumber = Annotated[int, QueryParameter(ge=1, le=100_000)]
ENTRIES_PER_PAGE = 50
WELL_LINKED = 0.1  # λ₂ below this: judges are compared through few shared entries (diagnostics.py)


def connectivity_reading(report: dict[str, Any]) -> str:
    """What the judge–entry graph of a run means for the ranking, as a message id."""
    if report.get("components", 1) > 1:
        return (
            "Judges and entries fall into separate groups that share no judge: scores of different "
            "groups cannot be compared. Draw again with more judges per entry, or publish knowingly."
        )
    if (report.get("algebraic_connectivity") or 0) < WELL_LINKED:
        return (
            "Everything is linked, but through few shared entries (as when judges stay within their "
            "tracks): how strict each judge is will be estimated roughly."
        )
    return (
        "Every entry is linked to every other through shared judges: how strict each judge is can be "
        "compared across the whole stage."
    )


class AssignmentPages(Controller):
    path = "/workspace/events/{event_id:int}/judging/stages/{stage_id:int}/assignment"
    include_in_schema = False

    @get("", guards=[may(Action.view_judging)])
    async def show(
        self, request: Request, event_id: IdPath, stage_id: IdPath, page_number: PageNumber = 1
    ) -> Template:
        """The stage's assignment: draw, diagnostics, publication, edits, loads and recusals."""
        principal = current(request)
        access = await stage_access(principal, stage_id, Action.view_judging)
        if access.stage["event"] != event_id:
            raise NotFound("Stage")
        configure = policy.decide(principal, Action.configure_judging, access.event) is Outcome.allowed
        state = await service.stage_assignments(principal, stage_id)
        runs = await service.list_runs(principal, stage_id) if configure else []
        run = next((r for r in runs if r.status in ("draft", "published")), None)
        histogram = run.report.get("histogram", {}) if run else {}
        start = (page_number - 1) * ENTRIES_PER_PAGE
        page_entries = state.entries[start : start + ENTRIES_PER_PAGE]
        short = [e for e in state.entries if e.short]
        return await event_page(
            request,
            "judging/assign/assignment.html.jinja",
            event_id,
            "judging",
            stage=access.stage,
            judging=access.judging,
            current="assignment",
            configure=configure,
            state=state,
            run=run,
            reading=connectivity_reading(run.report) if run else "",
            histogram=[(int(load), count) for load, count in histogram.items()],
            histogram_max=max(histogram.values(), default=1),
            entries=page_entries,
            short=short,
            # the entries to give a judge: those short of judges, then this page's (not thousands)
            add_options=list({e.id: e for e in [*short, *page_entries] if e.status == "active"}.values()),
            page_number=page_number,
            pages=max(1, -(-len(state.entries) // ENTRIES_PER_PAGE)),
            warnings=bool(state.health.conflicts or state.health.components > 1),
        )


class RecusalPages(Controller):
    """A judge abstains from one of their entries, with a reason (the tablet's entry view links here).
    To anyone but the assignment's judge the page does not exist."""

    path = "/assignments/{assignment_id:int}/recuse"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self, request: Request, assignment_id: int, form: Form | None = None, status_code: int = 200
    ) -> Template:
        access = await assignment_access(current(request), assignment_id)
        return page(
            request,
            "judging/assign/recuse.html.jinja",
            status_code,
            entry=await service.recusal_view(access),
            form=form or Form("recuse-"),
        )

    @get("")
    async def show(self, request: Request, assignment_id: IdPath) -> Template:
        """The entry and the form to abstain from it."""
        return await self._page(request, assignment_id)

    @post("")
    async def recuse(self, request: Request, assignment_id: IdPath) -> Template:
        """Abstain: the entry goes to another judge (or waits for the organizers to find one)."""
        posted = await _posted(request)
        try:
            data = decode(RecuseIn, posted)
            result = await service.recuse(current(request), assignment_id, data)
        except (FormErrors, DomainError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            failed = _failed_form(request, exc, "recuse-", posted)
            t = translations(request_locale(request))
            failed.labels = {name: t.gettext("Why you abstain") for name in failed.errors}
            return await self._page(request, assignment_id, failed, getattr(exc, "status_code", 400))
        return page(request, "judging/assign/recused.html.jinja", result=result)
