"""The organizer's workspace: pages over the same services (and guards) as the API.

Every form posts with the CSRF token, and answers Post/Redirect/Get: on success a 303 to the page
with ``?done=<what>`` (a confirmation), on a refused change the same page again with the posted values,
each field's message next to its input and a summary at the top. Reads and writes go through
``backend.events.service`` and ``backend.organizations.service``, never to a table from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.pagination import OffsetPagination
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend import audit, domain, policy
from backend.errors import DomainError, NotFound
from backend.events import service as events
from backend.events.schemas import EventIn, EventOut, EventPatch, SessionIn, StageIn, TrackIn
from backend.events.tables import EventKind, StageLevel
from backend.guards import current, may, requires_login
from backend.http_errors import localized_error
from backend.i18n import LANGUAGE_NAMES, localized, request_locale, translations
from backend.organizations import service as organizations
from backend.organizations.schemas import OrganizationGrantIn, OrganizationIn, OrganizationPatch
from backend.organizations.tables import OrganizationKind
from backend.pages.controllers import page
from backend.policy import Action, Outcome, Principal
from backend.schemas import IdPath, Limit, Offset, PositiveInt
from backend.workspace.forms import FormErrors, datetime_local_value, decode
from backend.workspace.schemas import AuditEntryOut

AUDIT_PAGE = 50

# The confirmation shown after each successful change (``?done=<key>``).
DONE = {
    "created": "The event was created as a draft. Add its structure, then open it.",
    "saved": "Your changes were saved.",
    "open": "The event is open: it is published.",
    "start": "The event is running.",
    "close": "The event is closed.",
    "archive": "The event is archived.",
    "track-added": "The track was added.",
    "track-saved": "The track was saved.",
    "track-removed": "The track was removed.",
    "stage-added": "The stage was added.",
    "stage-saved": "The stage was saved.",
    "stage-removed": "The stage was removed.",
    "session-added": "The session was added.",
    "session-saved": "The session was saved.",
    "session-removed": "The session was removed.",
    "organization-created": "The organization was created.",
    "role-granted": "The role was granted.",
    "role-revoked": "The role was revoked.",
}

# What each status means for the organizer.
STATUS_HELP = {
    "draft": "A draft: only its organizers see it. Set it up, then open it to publish it.",
    "open": "Open: the event is published.",
    "running": "Running: the event is under way.",
    "closed": "Closed: the event is over. Archive it when nothing more will change.",
    "archived": "Archived: kept for the record.",
}

# Field labels (English message ids), for the error summary; a text given per language is labelled
# with its base label and the language's name ("Venue (English)").
LABELS = {
    "kind": "Kind",
    "slug": "Short name for links",
    "name": "Name",
    "title": "Title",
    "edition": "Edition",
    "venue": "Venue",
    "description": "Description",
    "starts_on": "First day",
    "ends_on": "Last day",
    "time_zone": "Time zone",
    "code": "Code",
    "team_min": "Smallest team",
    "team_max": "Largest team",
    "university_advisors_max": "University advisors per team",
    "enterprise_advisors_max": "Enterprise advisors per team",
    "entries_per_advisor_max": "Entries per advisor",
    "level": "Level",
    "submission_deadline": "Submissions close",
    "judging_deadline": "Judging ends",
    "room": "Room",
    "starts_at": "Starts",
    "ends_at": "Ends",
    "capacity": "Capacity",
    "user_id": "User number",
    "role": "Role",
}


def _label(name: str, t: Any) -> str:
    base, _, code = name.rpartition("_")
    if code in LANGUAGE_NAMES and base in LABELS:
        return f"{t.gettext(LABELS[base])} ({LANGUAGE_NAMES[code]})"
    return t.gettext(LABELS.get(name, name))


# The status steps the overview offers, in life-cycle order: (step, from status, action, button).
STEPS = (
    ("open", "draft", Action.run_event, "Open the event"),
    ("start", "open", Action.run_event, "Start the event"),
    ("close", "running", Action.run_event, "Close the event"),
    ("archive", "closed", Action.archive_event, "Archive the event"),
)
_STEP_SERVICE: dict[str, Callable[[Principal, int], Awaitable[EventOut]]] = {
    "open": events.open_event,
    "start": events.start_event,
    "close": events.close_event,
    "archive": events.archive_event,
}


@dataclass
class Form:
    """One form on a page: its id prefix, the values shown in its inputs and each field's message."""

    prefix: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.summary)


def _form_values(row: Any, time_zone: str = "UTC") -> dict[str, str]:
    """An object's fields as the strings the inputs show (date-times in the event's time zone)."""
    values = msgspec.structs.asdict(row) if isinstance(row, msgspec.Struct) else dict(row)
    shown = {}
    for name, value in values.items():
        if value is None:
            shown[name] = ""
        elif hasattr(value, "tzinfo") and hasattr(value, "hour"):
            shown[name] = datetime_local_value(value, time_zone)
        elif hasattr(value, "isoformat"):
            shown[name] = value.isoformat()
        else:
            shown[name] = str(value)
    return shown


def _failed_form(request: Request, exc: Exception, prefix: str, values: Mapping[str, Any]) -> Form:
    """The form again after ``exc``: its values, and the messages in the reader's language."""
    locale = request_locale(request)
    t = translations(locale)
    summary = ""
    if isinstance(exc, FormErrors):
        errors = {name: message.render(t) for name, message in exc.fields.items()}
    elif isinstance(exc, DomainError):
        detail, errors = localized_error(exc, locale)
        if not errors:
            summary = detail
    else:
        raise exc
    labels = {name: _label(name, t) for name in errors}
    return Form(prefix, {k: v for k, v in values.items() if k != "_csrf_token"}, errors, summary, labels)


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}


def _redirect(path: str, done: str | None = None, anchor: str = "") -> Redirect:
    query = f"?{urlencode({'done': done})}" if done else ""
    return Redirect(f"{path}{query}{anchor}", status_code=HTTP_303_SEE_OTHER)


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def _allowed(principal: Principal, action: Action, **context: Any) -> bool:
    return policy.decide(principal, action, **context) is Outcome.allowed


async def _context(principal: Principal, event_id: int) -> policy.EventContext:
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    return context


def _sections(principal: Principal, event: EventOut, context: policy.EventContext) -> list[dict[str, str]]:
    """The event's workspace sections (every installed domain's) that the caller may use."""
    return [
        {"key": s.key, "title": s.title, "href": s.path(event.id)}
        for s in domain.workspace_sections()
        if (not s.kinds or event.kind in s.kinds) and _allowed(principal, Action(s.action), event=context)
    ]


async def event_page(
    request: Request, template: str, event_id: int, section: str, status_code: int = 200, **values: Any
) -> Template:
    """A page of the event's workspace, with the event and its sub-navigation; for other domains'
    sections too (``backend/templates/workspace/_event_nav.html.jinja`` renders the navigation)."""
    principal = current(request)
    event = await events.get_event(principal, event_id)
    context = await _context(principal, event_id)
    organization = await organizations.get_organization(event.organization_id)
    return page(
        request,
        template,
        status_code=status_code,
        event=event,
        event_context=context,
        organization=organization,
        organization_link=_allowed(
            principal,
            Action.view_organization,
            organization=await organizations.context(principal, event.organization_id),
        ),
        sections=_sections(principal, event, context),
        section=section,
        done=_done(request),
        **values,
    )


def _choices(request: Request, names: Any) -> list[tuple[str, str]]:
    t = translations(request_locale(request))
    return [(str(v), t.gettext(str(v).replace("_", " ").capitalize())) for v in names]


class WorkspaceController(Controller):
    path = "/workspace"
    include_in_schema = False

    # The start page -----------------------------------------------------------------------------

    @get("", guards=[requires_login])
    async def home(self, request: Request) -> Template:
        """The caller's organizations and the events they organize, with their status."""
        principal = current(request)
        mine = await organizations.list_organizations(principal)
        organized = set(await policy.organized_event_ids(principal))
        visible, _ = await events.list_events(principal, 500, 0, None, None)
        listed = [e for e in visible if principal.is_platform_admin or e.id in organized]
        cards = []
        for organization in mine:
            context = await organizations.context(principal, organization.id)
            cards.append(
                {
                    "organization": organization,
                    "events": [e for e in listed if e.organization_id == organization.id],
                    "may_create_event": _allowed(principal, Action.create_event, organization=context),
                }
            )
        shown = {e.id for card in cards for e in card["events"]}
        return page(
            request,
            "workspace/home.html.jinja",
            cards=cards,
            other_events=[e for e in listed if e.id not in shown],
            may_create_organization=_allowed(principal, Action.create_organization),
            done=_done(request),
        )

    # Organizations ------------------------------------------------------------------------------

    @get("/organizations/new", guards=[may(Action.create_organization)])
    async def new_organization(self, request: Request) -> Template:
        return self._organization_form(request, Form("organization-"))

    def _organization_form(self, request: Request, form: Form, status_code: int = 200) -> Template:
        return page(
            request,
            "workspace/organization_new.html.jinja",
            status_code=status_code,
            form=form,
            kinds=_choices(request, OrganizationKind),
        )

    @post("/organizations", guards=[may(Action.create_organization)])
    async def create_organization(self, request: Request) -> Response:
        posted = await _posted(request)
        try:
            created = await organizations.create_organization(
                current(request), decode(OrganizationIn, posted)
            )
        except (FormErrors, DomainError) as exc:
            status = getattr(exc, "status_code", 400)
            return self._organization_form(
                request, _failed_form(request, exc, "organization-", posted), status
            )
        return _redirect(f"/workspace/organizations/{created.id}", "organization-created")

    async def _organization_page(
        self,
        request: Request,
        organization_id: int,
        status_code: int = 200,
        settings_form: Form | None = None,
        grant_form: Form | None = None,
    ) -> Template:
        principal = current(request)
        context = await organizations.context(principal, organization_id)
        organization = await organizations.get_organization(organization_id)
        items, _ = await events.list_events(principal, 500, 0, None, None, organization_id=organization_id)
        manage = _allowed(principal, Action.manage_organization, organization=context)
        return page(
            request,
            "workspace/organization.html.jinja",
            status_code=status_code,
            organization=organization,
            organization_events=items,
            grants=await organizations.list_organization_roles(principal, organization_id),
            may_manage=manage,
            may_create_event=_allowed(principal, Action.create_event, organization=context),
            settings_form=settings_form or Form("organization-", _form_values(organization)),
            grant_form=grant_form or Form("grant-", {"role": "organizer"}),
            kinds=_choices(request, OrganizationKind),
            done=_done(request),
        )

    @get("/organizations/{organization_id:int}", guards=[may(Action.view_organization)])
    async def organization(self, request: Request, organization_id: IdPath) -> Template:
        """The organization's events (its drafts included) and its people."""
        return await self._organization_page(request, organization_id)

    @post("/organizations/{organization_id:int}", guards=[may(Action.manage_organization)])
    async def update_organization(self, request: Request, organization_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            await organizations.update_organization(
                current(request), organization_id, decode(OrganizationPatch, posted, partial=True)
            )
        except (FormErrors, DomainError) as exc:
            form = _failed_form(request, exc, "organization-", posted)
            return await self._organization_page(
                request, organization_id, getattr(exc, "status_code", 400), settings_form=form
            )
        return _redirect(f"/workspace/organizations/{organization_id}", "saved")

    @post("/organizations/{organization_id:int}/roles", guards=[may(Action.manage_organization)])
    async def grant_organization_role(self, request: Request, organization_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            await organizations.grant_organization_role(
                current(request), organization_id, decode(OrganizationGrantIn, posted)
            )
        except (FormErrors, DomainError) as exc:
            form = _failed_form(request, exc, "grant-", posted)
            return await self._organization_page(
                request, organization_id, getattr(exc, "status_code", 400), grant_form=form
            )
        return _redirect(f"/workspace/organizations/{organization_id}", "role-granted", "#people")

    @post(
        "/organizations/{organization_id:int}/roles/{grant_id:int}/revoke",
        guards=[may(Action.manage_organization)],
    )
    async def revoke_organization_role(
        self, request: Request, organization_id: IdPath, grant_id: IdPath
    ) -> Response:
        try:
            await organizations.revoke_organization_role(current(request), organization_id, grant_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            form = _failed_form(request, exc, "grant-", {})
            return await self._organization_page(request, organization_id, exc.status_code, grant_form=form)
        return _redirect(f"/workspace/organizations/{organization_id}", "role-revoked", "#people")

    # Creating an event --------------------------------------------------------------------------

    async def _new_event_page(
        self, request: Request, organization_id: int | None, form: Form, status_code: int = 200
    ) -> Template:
        """The form, for one organization (``organization_id``) or to choose among those the
        caller creates events in; refused (403) when there is none."""
        principal = current(request)
        if organization_id is not None:
            await _require_create_event(principal, organization_id)
            choices = [await organizations.get_organization(organization_id)]
        else:
            choices = await _organizations_creating_events(principal)
        if not choices:
            policy.refuse_unless_allowed(Outcome.forbidden, Action.create_event)
        return page(
            request,
            "workspace/event_new.html.jinja",
            status_code=status_code,
            organization=choices[0] if len(choices) == 1 else None,
            organization_choices=[
                (str(o.id), localized(o, "name", request_locale(request))) for o in choices
            ],
            form=form,
            kinds=_choices(request, EventKind),
        )

    @get("/events/new", guards=[requires_login])
    async def new_event(
        self, request: Request, organization_id: FromQuery[PositiveInt | None] = None
    ) -> Template:
        """The form for a new event of an organization (its admins, platform admins)."""
        form = Form("event-", {"kind": "contest", "time_zone": "Asia/Shanghai"})
        return await self._new_event_page(request, organization_id, form)

    @post("/events", guards=[requires_login])
    async def create_event(self, request: Request) -> Response:
        posted = await _posted(request)
        raw = posted.get("organization_id", "").strip()
        chosen = int(raw) if raw.isdigit() and len(raw) < 10 else None
        await self._new_event_page(request, chosen, Form())  # refused before the form is read
        try:
            created = await events.create_event(current(request), decode(EventIn, posted))
        except (FormErrors, DomainError) as exc:
            form = _failed_form(request, exc, "event-", posted)
            return await self._new_event_page(request, chosen, form, getattr(exc, "status_code", 400))
        return _redirect(f"/workspace/events/{created.id}", "created")

    # One event ----------------------------------------------------------------------------------

    async def _overview(
        self, request: Request, event_id: int, error: Form | None = None, status_code: int = 200
    ) -> Template:
        principal = current(request)
        event = await events.get_event(principal, event_id)
        context = await _context(principal, event_id)
        tracks = await events.list_tracks(event_id)
        stages = await events.list_stages(event_id)
        sessions = await events.list_sessions(event_id)
        steps = [
            {"step": step, "label": label}
            for step, source, action, label in STEPS
            if event.status == source and _allowed(principal, action, event=context)
        ]
        missing = []
        if event.kind == EventKind.contest.value and event.status == "draft":
            if not tracks:
                missing.append("Add at least one track before opening the contest.")
            if not stages:
                missing.append("Add at least one stage before opening the contest.")
        return await event_page(
            request,
            "workspace/event.html.jinja",
            event_id,
            "overview",
            status_code=status_code,
            tracks=tracks,
            stages=stages,
            event_sessions=sessions,
            steps=steps,
            missing=missing,
            error=error,
            status_help=STATUS_HELP,
        )

    @get("/events/{event_id:int}", guards=[may(Action.edit_track)])
    async def event(self, request: Request, event_id: IdPath) -> Template:
        """The event's status, the next step it can take, and links to its sections."""
        return await self._overview(request, event_id)

    async def _step(self, request: Request, event_id: int, step: str) -> Response:
        try:
            await _STEP_SERVICE[step](current(request), event_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._overview(
                request, event_id, _failed_form(request, exc, "", {}), exc.status_code
            )
        return _redirect(f"/workspace/events/{event_id}", step)

    @post("/events/{event_id:int}/open", guards=[may(Action.run_event)])
    async def open_event(self, request: Request, event_id: IdPath) -> Response:
        return await self._step(request, event_id, "open")

    @post("/events/{event_id:int}/start", guards=[may(Action.run_event)])
    async def start_event(self, request: Request, event_id: IdPath) -> Response:
        return await self._step(request, event_id, "start")

    @post("/events/{event_id:int}/close", guards=[may(Action.run_event)])
    async def close_event(self, request: Request, event_id: IdPath) -> Response:
        return await self._step(request, event_id, "close")

    @post("/events/{event_id:int}/archive", guards=[may(Action.archive_event)])
    async def archive_event(self, request: Request, event_id: IdPath) -> Response:
        return await self._step(request, event_id, "archive")

    # Settings -----------------------------------------------------------------------------------

    async def _settings(
        self, request: Request, event_id: int, form: Form | None = None, status_code: int = 200
    ) -> Template:
        if form is None:
            form = Form("event-", _form_values(await events.get_event(current(request), event_id)))
        return await event_page(
            request, "workspace/event_settings.html.jinja", event_id, "settings", status_code, form=form
        )

    @get("/events/{event_id:int}/settings", guards=[may(Action.edit_event)])
    async def settings(self, request: Request, event_id: IdPath) -> Template:
        """Edit the event's names, edition, venue, dates and time zone."""
        return await self._settings(request, event_id)

    @post("/events/{event_id:int}/settings", guards=[may(Action.edit_event)])
    async def save_settings(self, request: Request, event_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            await events.update_event(current(request), event_id, decode(EventPatch, posted, partial=True))
        except (FormErrors, DomainError) as exc:
            if getattr(exc, "status_code", 400) == 404:
                raise
            form = _failed_form(request, exc, "event-", posted)
            return await self._settings(request, event_id, form, getattr(exc, "status_code", 400))
        return _redirect(f"/workspace/events/{event_id}/settings", "saved")

    # Structure: tracks, stages, sessions --------------------------------------------------------

    async def _structure(
        self,
        request: Request,
        event_id: int,
        failed: Form | None = None,
        status_code: int = 200,
    ) -> Template:
        principal = current(request)
        event = await events.get_event(principal, event_id)
        context = await _context(principal, event_id)
        tz = event.time_zone
        may_structure = _allowed(principal, Action.edit_structure, event=context)
        tracks = [
            t
            for t in await events.list_tracks(event_id)
            if _allowed(principal, Action.edit_track, event=context, target=policy.Scope(track_id=t.id))
        ]
        forms: dict[str, Form] = {}
        for t in tracks:
            forms[f"track-{t.id}-"] = Form(f"track-{t.id}-", _form_values(t))
        stages = await events.list_stages(event_id)
        for s in stages:
            forms[f"stage-{s.id}-"] = Form(f"stage-{s.id}-", _form_values(s, tz))
        sessions = await events.list_sessions(event_id)
        for s in sessions:
            forms[f"session-{s.id}-"] = Form(f"session-{s.id}-", _form_values(s, tz))
        forms["track-new-"] = Form("track-new-", _form_values(TrackIn(code="")) | {"code": ""})
        forms["stage-new-"] = Form("stage-new-", {"level": _next_level(stages)})
        forms["session-new-"] = Form("session-new-", {"capacity": "0"})
        if failed is not None:
            forms[failed.prefix] = failed
        return await event_page(
            request,
            "workspace/event_structure.html.jinja",
            event_id,
            "structure",
            status_code,
            tracks=tracks,
            stages=stages,
            event_sessions=sessions,
            forms=forms,
            failed=failed,
            may_structure=may_structure,
            is_draft=event.status == "draft",
            levels=_choices(request, StageLevel),
        )

    @get("/events/{event_id:int}/structure", guards=[may(Action.edit_track)])
    async def structure(self, request: Request, event_id: IdPath) -> Template:
        """Tracks and stages of a contest, or sessions of a forum, fair or training."""
        return await self._structure(request, event_id)

    async def _change(
        self,
        request: Request,
        event_id: int,
        prefix: str,
        change: Callable[[dict[str, str], str], Awaitable[Any]],
        done: str,
        anchor: str,
    ) -> Response:
        """Run one structure change from the posted form; the page again with the form's errors."""
        posted = await _posted(request)
        try:
            event = await events.get_event(current(request), event_id)
            await change(posted, event.time_zone)
        except (FormErrors, DomainError) as exc:
            if getattr(exc, "status_code", 400) == 404:
                raise
            form = _failed_form(request, exc, prefix, posted)
            return await self._structure(request, event_id, form, getattr(exc, "status_code", 400))
        return _redirect(f"/workspace/events/{event_id}/structure", done, anchor)

    @post("/events/{event_id:int}/tracks", guards=[may(Action.edit_structure)])
    async def add_track(self, request: Request, event_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            "track-new-",
            lambda form, tz: events.create_track(actor, event_id, decode(TrackIn, form)),
            "track-added",
            "#tracks",
        )

    @post(
        "/events/{event_id:int}/tracks/{track_id:int}",
        guards=[may(Action.edit_track, track_param="track_id")],
    )
    async def save_track(self, request: Request, event_id: IdPath, track_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"track-{track_id}-",
            lambda form, tz: events.update_track(actor, event_id, track_id, decode(TrackIn, form)),
            "track-saved",
            f"#track-{track_id}",
        )

    @post("/events/{event_id:int}/tracks/{track_id:int}/delete", guards=[may(Action.edit_structure)])
    async def remove_track(self, request: Request, event_id: IdPath, track_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"track-{track_id}-",
            lambda form, tz: events.delete_track(actor, event_id, track_id),
            "track-removed",
            "#tracks",
        )

    @post("/events/{event_id:int}/stages", guards=[may(Action.edit_structure)])
    async def add_stage(self, request: Request, event_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            "stage-new-",
            lambda form, tz: events.create_stage(actor, event_id, decode(StageIn, form, time_zone=tz)),
            "stage-added",
            "#stages",
        )

    @post("/events/{event_id:int}/stages/{stage_id:int}", guards=[may(Action.edit_structure)])
    async def save_stage(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"stage-{stage_id}-",
            lambda form, tz: events.update_stage(
                actor, event_id, stage_id, decode(StageIn, form, time_zone=tz)
            ),
            "stage-saved",
            f"#stage-{stage_id}",
        )

    @post("/events/{event_id:int}/stages/{stage_id:int}/delete", guards=[may(Action.edit_structure)])
    async def remove_stage(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"stage-{stage_id}-",
            lambda form, tz: events.delete_stage(actor, event_id, stage_id),
            "stage-removed",
            "#stages",
        )

    @post("/events/{event_id:int}/sessions", guards=[may(Action.edit_structure)])
    async def add_session(self, request: Request, event_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            "session-new-",
            lambda form, tz: events.create_session(actor, event_id, decode(SessionIn, form, time_zone=tz)),
            "session-added",
            "#sessions",
        )

    @post("/events/{event_id:int}/sessions/{session_id:int}", guards=[may(Action.edit_structure)])
    async def save_session(self, request: Request, event_id: IdPath, session_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"session-{session_id}-",
            lambda form, tz: events.update_session(
                actor, event_id, session_id, decode(SessionIn, form, time_zone=tz)
            ),
            "session-saved",
            f"#session-{session_id}",
        )

    @post("/events/{event_id:int}/sessions/{session_id:int}/delete", guards=[may(Action.edit_structure)])
    async def remove_session(self, request: Request, event_id: IdPath, session_id: IdPath) -> Response:
        actor = current(request)
        return await self._change(
            request,
            event_id,
            f"session-{session_id}-",
            lambda form, tz: events.delete_session(actor, event_id, session_id),
            "session-removed",
            "#sessions",
        )

    # Audit trail --------------------------------------------------------------------------------

    @get("/events/{event_id:int}/audit", guards=[may(Action.view_audit)])
    async def audit_trail(
        self, request: Request, event_id: IdPath, page_number: FromQuery[int] = 1
    ) -> Template:
        """The event's audit trail, newest first, 50 entries a page."""
        page_number = max(1, min(page_number, 200_000))
        entries, total = await audit.list_entries(event_id, AUDIT_PAGE, (page_number - 1) * AUDIT_PAGE)
        pages = max(1, -(-total // AUDIT_PAGE))
        return await event_page(
            request,
            "workspace/event_audit.html.jinja",
            event_id,
            "audit",
            entries=entries,
            total=total,
            page_number=page_number,
            pages=pages,
        )


async def _organizations_creating_events(principal: Principal) -> list[Any]:
    """The organizations in which the caller may create events."""
    found = []
    for organization in await organizations.list_organizations(principal):
        context = await organizations.context(principal, organization.id)
        if _allowed(principal, Action.create_event, organization=context):
            found.append(organization)
    return found


async def _require_create_event(principal: Principal, organization_id: int) -> None:
    """New events are for the organization's admins and platform admins (404 for no organization)."""
    context = await organizations.context(principal, organization_id)
    policy.require(principal, Action.create_event, organization=context)


def _next_level(stages: list[Any]) -> str:
    """The level a new stage most likely has: the one after the last stage's."""
    order = ["school", "province", "national", "final"]
    if not stages:
        return "school"
    last = stages[-1].level
    return order[min(order.index(last) + 1, len(order) - 1)] if last in order else "final"


class AuditController(Controller):
    path = "/api/v1/events/{event_id:int}/audit"
    tags = ["audit"]

    @get("", operation_id="ListEventAudit", guards=[may(Action.view_audit)])
    async def list_audit(
        self, event_id: IdPath, limit: Limit = 50, offset: Offset = 0
    ) -> OffsetPagination[AuditEntryOut]:
        """The event's audit trail, newest first: who did what, when, and from where."""
        entries, total = await audit.list_entries(event_id, limit, offset)
        items = [msgspec.convert(e, AuditEntryOut) for e in entries]
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)
