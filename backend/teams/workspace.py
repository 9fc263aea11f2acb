"""The "Teams" section of an event's workspace: the organizers' back office for registrations.

The list with its filters, search and counts, a team's record (seats and their confirmation, the
timeline, materials) with the review form, the exports, and the bulk import with its per-row report;
every page inside the caller's organizer scopes, through ``backend.teams.review``, ``exports`` and
``imports`` (the API's own functions and guards).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import Template

from backend.errors import DomainError, NotFound, fill
from backend.events import service as events
from backend.guards import current, may
from backend.http_errors import localized_error
from backend.i18n import localized, request_locale, translations
from backend.policy import Action
from backend.schemas import IdPath
from backend.teams import imports, review
from backend.teams.pages import TERMS, TIMELINE
from backend.teams.review import ReviewIn, TeamFilter
from backend.teams.review_controllers import Filters, read_upload
from backend.teams.tables import TeamStatus
from backend.workspace.controllers import Form, _failed_form, _posted, _redirect, event_page
from backend.workspace.forms import FormErrors, decode

PAGE = 50
DONE = {
    "approved": "The team's registration was approved.",
    "rejected": "The team's registration was rejected.",
}
LABELS = {"decision": "Decision", "note": "Note to the team", "file": "File", "dry_run": "What to do"}


def _path(event_id: int, rest: str = "") -> str:
    return f"/workspace/events/{event_id}/teams{rest}"


def _vocabulary(request: Request) -> dict[str, Any]:
    """What the templates need to name the teams' words (statuses, roles, states, timeline)."""
    t = translations(request_locale(request))

    def term(context: str, value: str) -> str:
        return t.pgettext(context, TERMS[context].get(value, value))

    def timeline_line(line: Any) -> str:
        params = {k: v for k, v in line.data.items() if isinstance(v, str | int)}
        if "role" in params:
            params["role"] = term("team role", str(params["role"]))
        return fill(t.gettext(TIMELINE[line.kind]), params) if line.kind in TIMELINE else line.kind

    return {"term": term, "timeline_line": timeline_line}


async def _track_options(request: Request, event_id: int) -> list[tuple[str, str]]:
    locale = request_locale(request)
    return [
        (str(t.id), f"{t.code} · {localized(t, 'name', locale)}") for t in await events.list_tracks(event_id)
    ]


def page_filter(request: Request) -> TeamFilter:
    """The list's filters from the page's own form, which sends its empty fields too."""
    given = {
        k: v.strip()[:100]
        for k, v in request.query_params.items()
        if k in TeamFilter.__struct_fields__ and v.strip()
    }
    try:
        return msgspec.convert(given, TeamFilter, strict=False)
    except msgspec.ValidationError as exc:
        raise DomainError(
            "validation_error", "Invalid input: {problems}", params={"problems": str(exc)}
        ) from None


class TeamsPages(Controller):
    path = "/workspace/events/{event_id:int}/teams"
    include_in_schema = False
    dependencies = {"filters": Provide(page_filter, sync_to_thread=False)}

    @get("", guards=[may(Action.view_teams)])
    async def teams(
        self, request: Request, event_id: IdPath, filters: Filters, page_number: FromQuery[int] = 1
    ) -> Template:
        """The event's teams inside the caller's scope: filters, search, counts and exports."""
        principal, locale = current(request), request_locale(request)
        page_number = max(1, min(page_number, 100_000))
        items, total = await review.list_teams(
            principal, event_id, filters, PAGE, (page_number - 1) * PAGE, locale
        )
        counts = await review.count_teams(principal, event_id, filters, locale)
        vocabulary = _vocabulary(request)
        query = {k: v for k, v in msgspec.structs.asdict(filters).items() if v not in (None, "")}
        shown = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()}
        return await event_page(
            request,
            "workspace/teams.html.jinja",
            event_id,
            "teams",
            teams=items,
            total=total,
            counts=counts,
            filters=Form("filter-", shown),
            track_options=[("", "—"), *await _track_options(request, event_id)],
            status_options=[(s.value, vocabulary["term"]("team status", s.value)) for s in TeamStatus],
            page_number=page_number,
            pages=max(1, -(-total // PAGE)),
            query=urlencode(shown),
            **vocabulary,
        )

    async def _team_page(
        self, request: Request, event_id: int, team_id: int, form: Form | None = None, status_code: int = 200
    ) -> Template:
        record = await review.team_record(current(request), team_id, request_locale(request))
        if record.team.event_id != event_id:
            raise NotFound("Team")
        return await event_page(
            request,
            "workspace/teams_detail.html.jinja",
            event_id,
            "teams",
            status_code,
            record=record,
            team=record.team,
            form=form or Form("review-", {"decision": "approve"}),
            team_done=DONE.get(request.query_params.get("done", "")),
            **_vocabulary(request),
        )

    @get("/{team_id:int}", guards=[may(Action.view_teams)])
    async def team(self, request: Request, event_id: IdPath, team_id: IdPath) -> Template:
        """One team: its people and their confirmation, its timeline and materials, and the review."""
        return await self._team_page(request, event_id, team_id)

    @post("/{team_id:int}/review", guards=[may(Action.review_team)])
    async def review_team(self, request: Request, event_id: IdPath, team_id: IdPath) -> Response:
        posted = await _posted(request)
        await self._team_page(request, event_id, team_id)  # the team of this event, in the caller's scope
        try:
            data = decode(ReviewIn, posted)
            summary = await review.review_team(
                current(request), team_id, data, request.app.state.settings.base_url, request_locale(request)
            )
        except (FormErrors, DomainError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            form = _failed_form(request, exc, "review-", posted)
            form.labels = {
                name: translations(request_locale(request)).gettext(LABELS.get(name, name))
                for name in form.errors
            }
            return await self._team_page(request, event_id, team_id, form, getattr(exc, "status_code", 400))
        return _redirect(_path(event_id, f"/{team_id}"), summary.status)

    async def _import_page(
        self,
        request: Request,
        event_id: int,
        report: imports.ImportReportOut | None = None,
        form: Form | None = None,
        status_code: int = 200,
    ) -> Template:
        return await event_page(
            request,
            "workspace/teams_import.html.jinja",
            event_id,
            "teams",
            status_code,
            report=report,
            form=form or Form("import-", {"dry_run": "true"}),
            columns=imports.COLUMNS,
        )

    @get("/import", guards=[may(Action.import_teams)])
    async def import_form(self, request: Request, event_id: IdPath) -> Template:
        """Import teams from a spreadsheet: the template, a dry run and the import."""
        return await self._import_page(request, event_id)

    @post("/import", guards=[may(Action.import_teams)], request_max_body_size=imports.MAX_BYTES + 64 * 1024)
    async def import_teams(self, request: Request, event_id: IdPath) -> Template:
        locale = request_locale(request)
        form = await request.form()
        values = {"dry_run": str(form.get("dry_run") or "false")}
        try:
            upload = await read_upload(request)
            report = await imports.run_import(
                current(request), event_id, upload.content, dry_run=upload.dry_run, locale=locale
            )
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            failed = _failed_form(request, exc, "import-", values)
            failed.summary = localized_error(exc, locale)[0]
            failed.labels = {
                name: translations(locale).gettext(LABELS.get(name, name)) for name in failed.errors
            }
            return await self._import_page(request, event_id, None, failed, exc.status_code)
        status = 400 if report.problems and not upload.dry_run else 200
        return await self._import_page(request, event_id, report, Form("import-", values), status)
