"""The assignment page of a stage in the organizer's workspace: the engine's draw with its
diagnostics before publication, the assignment per entry with its edits, the judges' loads, entries
short of judges and the recusals.

Read from the service; written through the API by ``static/judging-setup.js`` (the set-up page's
forms script: each form names its endpoint), so the page and the API share one set of checks.
Scoped admins see their scope without the forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from backend import policy
from backend.errors import NotFound
from backend.guards import current, may
from backend.policy import Action, Outcome
from backend.schemas import IdPath
from backend.workspace.controllers import event_page
from judging.access import stage_access
from judging.assign import service

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
            entries=state.entries[start : start + ENTRIES_PER_PAGE],
            short=[e for e in state.entries if e.short],
            page_number=page_number,
            pages=max(1, -(-len(state.entries) // ENTRIES_PER_PAGE)),
            warnings=bool(state.health.conflicts or state.health.components > 1),
        )
