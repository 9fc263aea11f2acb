"""The milestones and support tabs of a startup's file.

Milestones: each with its state, due date, overdue flag and evidence (links, files to download); the
programme's managers and the startup's founders add milestones, move them on, and back them with a
link or a file. Support: each promise with what was delivered and the gap, the startup's gap per kind
and unit; managers promise, record deliveries (with a link or a file as evidence) and withdraw.

Server-side forms over the same service as the API (Post/Redirect/Get with ``?done=``; a refused
form renders the tab again with the values typed and each field's message next to its input). A
file arrives as the ``file`` part of the form's multipart body, read by the API's own reader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from backend.errors import DomainError, NotFound
from backend.guards import current, requires_login
from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath
from backend.workspace.controllers import Form, _failed_form, _redirect
from backend.workspace.forms import FormErrors, decode
from incubator.access import startup_access
from incubator.milestones import service
from incubator.milestones.controllers import UPLOAD_MAX, evidence_file
from incubator.milestones.schemas import DeliveryIn, MilestoneIn, MilestonePatch, PromiseIn
from incubator.navigation import startup_head
from incubator.tables import Evidence, Milestone, SupportKind, SupportPromise

DONE = {
    "milestone-added": "The milestone was added.",
    "milestone-saved": "The milestone was saved.",
    "evidence-added": "The evidence was added.",
    "evidence-removed": "The evidence was removed.",
    "promise-added": "The support was promised.",
    "promise-withdrawn": "The promise was withdrawn.",
    "delivery-recorded": "The delivery was recorded.",
}
STATES = {
    "planned": "Planned",
    "in_progress": "In progress",
    "achieved": "Achieved",
    "dropped": "Dropped",
}
KINDS = {
    "office_space": "Office space",
    "cloud_credits": "Cloud credits",
    "training_hours": "Training hours",
    "introductions": "Introductions",
    "funding": "Funding",
    "other": "Other support",
}
# Field labels (English message ids) for the error summary.
LABELS = {
    "title": "Title",
    "description": "Description",
    "due_on": "Due on",
    "state": "State",
    "achieved_on": "Achieved on",
    "url": "Link",
    "file": "File",
    "kind": "Kind of support",
    "quantity": "Quantity",
    "unit": "Unit",
    "delivered_on": "Delivered on",
    "note": "Note",
    "promise_id": "Promise",
}


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


async def _values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}


def _failed(request: Request, exc: Exception, prefix: str, values: dict[str, Any]) -> Form:
    form = _failed_form(request, exc, prefix, values)
    t = translations(request_locale(request))
    form.labels = {name: t.gettext(LABELS.get(name, "Value")) for name in form.errors}
    return form


async def _startup_of(table: type, row_id: int, what: str) -> int:
    row = await table.select(table.startup).where(table.id == row_id).first()
    if row is None:
        raise NotFound(what)
    return row["startup"]


async def _form_change(
    request: Request,
    startup_id: int,
    tab: str,
    render: Callable[[Request, int, Form, int], Awaitable[Template]],
    prefix: str,
    change: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    """Make ``change`` with the form's values, then back to the startup's ``tab``; a refused form
    renders the tab again (``render``) with the values typed and the messages (403 and 404 raise)."""
    values: dict[str, str] = {}
    try:
        values = await _values(request)
        await change()
    except (FormErrors, DomainError) as exc:
        if getattr(exc, "status_code", 400) in (403, 404):
            raise
        return await render(
            request, startup_id, _failed(request, exc, prefix, values), getattr(exc, "status_code", 400)
        )
    return _redirect(f"/incubator/startups/{startup_id}/{tab}", done)


class MilestonePages(Controller):
    include_in_schema = False
    guards = [requires_login]

    async def _tab(
        self, request: Request, startup_id: int, failed: Form | None = None, status: int = 200
    ) -> Template:
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        t = translations(request_locale(request))
        milestones = await service.list_milestones(principal, startup_id)
        planner = service.may_plan(principal, access)
        forms = {"new-": Form("new-", {})}
        for m in milestones:
            forms[f"m{m.id}-"] = Form(
                f"m{m.id}-", {"title": m.title, "description": m.description, "due_on": m.due_on.isoformat()}
            )
            forms[f"e{m.id}-"] = Form(f"e{m.id}-", {})
        if failed is not None:
            forms[failed.prefix] = failed
        return page(
            request,
            "incubator/milestones/milestones.html.jinja",
            status,
            **await startup_head(principal, access, "milestones"),
            milestones=milestones,
            planner=planner,
            removable={
                e.id
                for m in milestones
                for e in m.evidence
                if service.may_remove(principal, access, {"added_by": e.added_by_id, "milestone": m.id})
            },
            next_states={
                m.id: [(s.value, t.gettext(STATES[s.value])) for s in service.TRANSITIONS[m.state]]
                for m in milestones
            },
            state_names={k: t.gettext(v) for k, v in STATES.items()},
            overdue_count=sum(m.overdue for m in milestones),
            forms=forms,
            failed=failed,
            done_here=_done(request),
            startup_id=startup_id,
            evidence_max=service.EVIDENCE_MAX // service.MiB,
        )

    @get("/incubator/startups/{startup_id:int}/milestones")
    async def tab(self, request: Request, startup_id: IdPath) -> Template:
        """The startup's milestones with their evidence; forms for its managers and founders."""
        return await self._tab(request, startup_id)

    async def _change(
        self, request: Request, startup_id: int, prefix: str, change: Callable[[], Awaitable[Any]], done: str
    ) -> Response:
        return await _form_change(request, startup_id, "milestones", self._tab, prefix, change, done)

    @post("/incubator/startups/{startup_id:int}/milestones")
    async def add(self, request: Request, startup_id: IdPath) -> Response:
        """Add a milestone from the form."""
        principal = current(request)

        async def change() -> None:
            data = decode(MilestoneIn, await _values(request))
            await service.create_milestone(principal, startup_id, data)

        return await self._change(request, startup_id, "new-", change, "milestone-added")

    @post("/incubator/milestones/{milestone_id:int}")
    async def save(self, request: Request, milestone_id: IdPath) -> Response:
        """Change a milestone, or move it on (the ``state`` chosen)."""
        principal = current(request)
        startup_id = await _startup_of(Milestone, milestone_id, "Milestone")

        async def change() -> None:
            values = {k: v for k, v in (await _values(request)).items() if v.strip() or k == "description"}
            await service.update_milestone(
                principal, milestone_id, decode(MilestonePatch, values, partial=True)
            )

        return await self._change(request, startup_id, f"m{milestone_id}-", change, "milestone-saved")

    @post("/incubator/milestones/{milestone_id:int}/links")
    async def add_link(self, request: Request, milestone_id: IdPath) -> Response:
        """Back a milestone with a link."""
        principal = current(request)
        startup_id = await _startup_of(Milestone, milestone_id, "Milestone")

        async def change() -> None:
            target = await service.milestone_target(principal, milestone_id)
            await service.add_link(principal, target, (await _values(request)).get("url", ""))

        return await self._change(request, startup_id, f"e{milestone_id}-", change, "evidence-added")

    @post("/incubator/milestones/{milestone_id:int}/files", request_max_body_size=UPLOAD_MAX)
    async def add_file(self, request: Request, milestone_id: IdPath) -> Response:
        """Back a milestone with a file (the form's ``file``)."""
        principal = current(request)
        startup_id = await _startup_of(Milestone, milestone_id, "Milestone")

        async def change() -> None:
            target = await service.milestone_target(principal, milestone_id)
            part = await evidence_file(request)
            await service.add_file(principal, target, part.file_name, part.chunks)

        return await self._change(request, startup_id, f"e{milestone_id}-", change, "evidence-added")

    @post("/incubator/evidence/{evidence_id:int}/delete")
    async def remove(self, request: Request, evidence_id: IdPath) -> Response:
        """Remove a link or a file, then back to its tab."""
        row = (
            await Evidence.select(Evidence.startup, Evidence.milestone)
            .where(Evidence.id == evidence_id)
            .first()
        )
        await service.delete_evidence(current(request), evidence_id)
        tab = "milestones" if row["milestone"] is not None else "support"
        return _redirect(f"/incubator/startups/{row['startup']}/{tab}", "evidence-removed")


class SupportPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    async def _tab(
        self, request: Request, startup_id: int, failed: Form | None = None, status: int = 200
    ) -> Template:
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        t = translations(request_locale(request))
        support = await service.get_support(principal, startup_id)
        forms = {"promise-": Form("promise-", {"kind": "training_hours"})}
        for p in support.promises:
            forms[f"p{p.id}-"] = Form(f"p{p.id}-", {"quantity": str(p.gap) if p.gap > 0 else ""})
            for d in p.deliveries:
                forms[f"d{d.id}-"] = Form(f"d{d.id}-", {})
        if failed is not None:
            forms[failed.prefix] = failed
        manager = service.is_manager(principal, access)
        return page(
            request,
            "incubator/milestones/support.html.jinja",
            status,
            **await startup_head(principal, access, "support"),
            support=support,
            manager=manager,
            removable={e.id for p in support.promises for d in p.deliveries for e in d.evidence}
            if manager
            else set(),
            kind_names={k: t.gettext(v) for k, v in KINDS.items()},
            kind_options=[(k.value, t.gettext(KINDS[k.value])) for k in SupportKind],
            forms=forms,
            failed=failed,
            done_here=_done(request),
            startup_id=startup_id,
            evidence_max=service.EVIDENCE_MAX // service.MiB,
        )

    @get("/incubator/startups/{startup_id:int}/support")
    async def tab(self, request: Request, startup_id: IdPath) -> Template:
        """What the programme promised the startup and delivered, and the gap; forms for managers."""
        return await self._tab(request, startup_id)

    async def _change(
        self, request: Request, startup_id: int, prefix: str, change: Callable[[], Awaitable[Any]], done: str
    ) -> Response:
        return await _form_change(request, startup_id, "support", self._tab, prefix, change, done)

    @post("/incubator/startups/{startup_id:int}/support/promises")
    async def promise(self, request: Request, startup_id: IdPath) -> Response:
        """Promise support from the form (managers)."""
        principal = current(request)

        async def change() -> None:
            values = {
                k: v for k, v in (await _values(request)).items() if v.strip() or k in ("description", "unit")
            }
            await service.create_promise(principal, startup_id, decode(PromiseIn, values))

        return await self._change(request, startup_id, "promise-", change, "promise-added")

    @post("/incubator/promises/{promise_id:int}/deliveries")
    async def deliver(self, request: Request, promise_id: IdPath) -> Response:
        """Record a delivery from the form (managers)."""
        principal = current(request)
        startup_id = await _startup_of(SupportPromise, promise_id, "Support promise")

        async def change() -> None:
            values = {k: v for k, v in (await _values(request)).items() if v.strip() or k == "note"}
            await service.record_delivery(principal, promise_id, decode(DeliveryIn, values))

        return await self._change(request, startup_id, f"p{promise_id}-", change, "delivery-recorded")

    @post("/incubator/promises/{promise_id:int}/withdraw")
    async def withdraw(self, request: Request, promise_id: IdPath) -> Response:
        """Withdraw a promise (managers)."""
        principal = current(request)
        startup_id = await _startup_of(SupportPromise, promise_id, "Support promise")
        return await self._change(
            request,
            startup_id,
            f"p{promise_id}-",
            lambda: service.withdraw_promise(principal, promise_id),
            "promise-withdrawn",
        )

    @post("/incubator/deliveries/{delivery_id:int}/links")
    async def add_link(self, request: Request, delivery_id: IdPath) -> Response:
        """Back a delivery with a link (managers)."""
        principal = current(request)
        target = await service.delivery_target(principal, delivery_id)

        async def change() -> None:
            await service.add_link(principal, target, (await _values(request)).get("url", ""))

        return await self._change(
            request, target.access.startup_id, f"d{delivery_id}-", change, "evidence-added"
        )

    @post("/incubator/deliveries/{delivery_id:int}/files", request_max_body_size=UPLOAD_MAX)
    async def add_file(self, request: Request, delivery_id: IdPath) -> Response:
        """Back a delivery with a file (managers)."""
        principal = current(request)
        target = await service.delivery_target(principal, delivery_id)

        async def change() -> None:
            part = await evidence_file(request)
            await service.add_file(principal, target, part.file_name, part.chunks)

        return await self._change(
            request, target.access.startup_id, f"d{delivery_id}-", change, "evidence-added"
        )
