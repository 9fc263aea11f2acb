"""The incubator's own pages for programmes: the hub (``/incubator``: my programmes, the startups I
found or mentor, overdue reports), a programme (settings, roles, cohorts), a cohort (its startups
and the admission forms, with a contest's prize winners previewed) and a startup's overview tab;
and the contest workspace's "Incubation" section (the contest's prize winners, admitted into a
cohort the caller manages).

Server-side forms over the same service as the API (Post/Redirect/Get with ``?done=``; a refused
form renders the page again with the values typed and each field's message next to its input).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from backend import policy
from backend.db import fetch_all
from backend.errors import DomainError
from backend.guards import current, may, requires_login
from backend.http_errors import Message, localized_error, value_problems
from backend.i18n import localized, request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action, Principal, decide
from backend.schemas import IdPath
from backend.workspace.controllers import Form, _failed_form, _redirect, event_page
from backend.workspace.forms import FormErrors
from incubator.access import allowed, may_in_programme, may_on_startup, programme_access, startup_access
from incubator.navigation import STATUS_LABELS, startup_head
from incubator.programmes import service
from incubator.programmes.schemas import (
    CohortIn,
    CohortPatch,
    DirectIn,
    FounderIn,
    ProgrammeIn,
    ProgrammePatch,
    ResultsIn,
    RoleIn,
    StartupPatch,
    StatusIn,
    TeamsIn,
)

DONE = {
    "programme-created": "The programme was created.",
    "programme-saved": "The programme was saved.",
    "role-granted": "The role was granted.",
    "role-revoked": "The role was taken away.",
    "cohort-created": "The cohort was created.",
    "cohort-saved": "The cohort was saved.",
    "admitted": "The startups were admitted. Teams that already are startups of the programme were left out.",
    "profile-saved": "The startup's profile was saved.",
    "status-saved": "The startup's status was saved.",
    "founder-added": "The founder was added.",
    "founder-removed": "The founder was removed.",
}
# Field labels (English message ids) for the error summary.
LABELS = {
    "organization_id": "Organization",
    "slug": "Address name",
    "name_zh": "Name (Chinese)",
    "name_en": "Name (English)",
    "name_ru": "Name (Russian)",
    "description": "Description",
    "currency": "Currency",
    "cancellation_hours": "Cancellation window (hours)",
    "stalled_weeks": "Stalled after (weeks)",
    "email": "E-mail address",
    "role": "Role",
    "name": "Name",
    "starts_on": "Starts on",
    "ends_on": "Ends on",
    "mode": "Mode",
    "places": "Places",
    "event_id": "Contest",
    "tiers": "Prize tiers",
    "team_ids": "Teams",
    "cohort_id": "Cohort",
    "sector": "Sector",
    "website": "Website",
    "founder_emails": "Founders' e-mail addresses",
    "status": "Status",
    "closed_on": "Closed on",
    "title": "Title",
}
MODES = {"hybrid": "Hybrid", "online": "Online", "offline": "Offline"}
VIA = {"results": "Contest results", "hand_picked": "Picked from a contest", "direct": "Directly"}
CURRENCIES = ("CNY", "USD", "EUR", "RUB", "KZT", "HKD", "UZS", "KGS", "MNT")
_INDEXED = re.compile(r"^(\w+)\[\d+\].*$")


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


async def _values(request: Request) -> dict[str, Any]:
    """The posted fields (without the CSRF token); ``tiers`` and ``team_ids``: the ticked ones."""
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}
    for name in ("tiers", "team_ids"):
        values[name] = [v for v in form.getall(name) if isinstance(v, str)] if name in form else []
    return values


def _number(value: Any) -> Any:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else (text or None)


def _form_name(name: str) -> str:
    """An API field (``founder_emails[1]``) as the form input it came from."""
    match = _INDEXED.match(name)
    return match.group(1) if match else name


def _decode(struct: type, body: dict[str, Any]) -> Any:
    """The struct for a form's body, or :class:`FormErrors` naming every wrong input at once."""
    problems = value_problems(body, struct)
    if problems:
        raise FormErrors({_form_name(k): v for k, v in problems.items()})
    return msgspec.convert(body, struct)


def _failed(request: Request, exc: Exception, prefix: str, values: dict[str, Any]) -> Form:
    if isinstance(exc, FormErrors):
        exc = FormErrors({_form_name(k): v for k, v in exc.fields.items()})
    form = _failed_form(request, exc, prefix, values)
    if isinstance(exc, DomainError):
        form.errors = {_form_name(k): v for k, v in form.errors.items()}
        if exc.code != "validation_error" and not form.summary:
            form.summary = localized_error(exc, request_locale(request))[0]
    t = translations(request_locale(request))
    form.labels = {name: t.gettext(LABELS.get(name, "Value")) for name in form.errors}
    return form


Render = Callable[[Form | None, int], Awaitable[Template]]


async def _attempt(
    request: Request,
    prefix: str,
    act: Callable[[dict[str, Any]], Awaitable[Any]],
    again: Render,
    target: str,
    done: str,
) -> Response:
    """Run a form's change; on a refusal render the page again (404s stay 404s), else redirect."""
    values = await _values(request)
    try:
        await act(values)
    except (FormErrors, DomainError) as exc:
        status = getattr(exc, "status_code", 400)
        if status == 404:
            raise
        return await again(_failed(request, exc, prefix, values), status)
    return _redirect(target, done)


def _forms(defaults: dict[str, dict[str, Any]], failed: Form | None) -> dict[str, Form]:
    forms = {prefix: Form(prefix, values) for prefix, values in defaults.items()}
    if failed is not None:
        forms[failed.prefix] = failed
    return forms


def _choices(t: Any, names: dict[str, str]) -> list[tuple[str, str]]:
    return [(value, t.gettext(text)) for value, text in names.items()]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# The hub ----------------------------------------------------------------------------------------


async def _creating_organizations(principal: Principal, locale: str) -> list[tuple[str, str]]:
    """The organizations the caller may create programmes in, as (id, name) choices."""
    if principal.is_platform_admin:
        rows = await fetch_all("SELECT id, slug, name_zh, name_en, name_ru FROM organization ORDER BY id")
    else:
        rows = await fetch_all(
            """SELECT DISTINCT o.id, o.slug, o.name_zh, o.name_en, o.name_ru FROM organization o
               JOIN role_grant g ON g.organization = o.id
               WHERE g."user" = {} AND g.role IN ('org_admin', 'organizer') ORDER BY o.id""",
            principal.id,
        )
    return [(str(r["id"]), localized(dict(r), "name", locale) or r["slug"]) for r in rows]


class IncubatorPages(Controller):
    path = "/incubator"
    include_in_schema = False
    guards = [requires_login]

    async def _hub(self, request: Request, failed: Form | None = None, status_code: int = 200) -> Template:
        principal, locale = current(request), request_locale(request)
        organizations = await _creating_organizations(principal, locale)
        defaults = {
            "programme-new-": {
                "organization_id": organizations[0][0] if organizations else "",
                "currency": "CNY",
            }
        }
        return page(
            request,
            "incubator/programmes/hub.html.jinja",
            status_code,
            **await service.hub(principal),
            organizations=organizations,
            forms=_forms(defaults, failed),
            failed=failed,
            done=_done(request),
            status_labels=STATUS_LABELS,
        )

    @get("")
    async def hub(self, request: Request) -> Template:
        """The caller's programmes, startups (as founder and as mentor) and overdue reports."""
        return await self._hub(request)

    @post("/programmes")
    async def create_programme(self, request: Request) -> Response:
        """Create a programme from the hub's form."""
        principal = current(request)
        made: list[int] = []

        async def act(values: dict[str, Any]) -> None:
            body = {k: values.get(k, "") for k in ("slug", "name_zh", "name_en", "name_ru")}
            body["organization_id"] = _number(values.get("organization_id"))
            made.append((await service.create_programme(principal, _decode(ProgrammeIn, body))).id)

        response = await _attempt(
            request,
            "programme-new-",
            act,
            lambda f, s: self._hub(request, f, s),
            "/incubator",
            "programme-created",
        )
        return _redirect(f"/incubator/programmes/{made[0]}", "programme-created") if made else response

    # A programme --------------------------------------------------------------------------------

    async def _programme(
        self, request: Request, programme_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        t = translations(locale)
        context = await programme_access(principal, programme_id, Action.view_programme)
        programme = await service.get_programme(principal, programme_id)
        manages = allowed(principal, Action.manage_programme, context)
        roles = await service.list_roles(principal, programme_id) if manages else []
        settings = {
            k: _text(v) for k, v in msgspec.structs.asdict(programme).items() if not isinstance(v, list)
        }
        defaults = {
            "settings-": settings,
            "role-": {"role": "manager"},
            "cohort-new-": {"mode": "hybrid", "places": "40"},
        }
        return page(
            request,
            "incubator/programmes/programme.html.jinja",
            status_code,
            programme=programme,
            manages=manages,
            roles=roles,
            forms=_forms(defaults, failed),
            failed=failed,
            done=_done(request),
            mode_names={k: t.gettext(v) for k, v in MODES.items()},
            mode_options=_choices(t, MODES),
            role_options=[("manager", t.gettext("Manager")), ("viewer", t.gettext("Viewer"))],
            currency_options=[(c, c) for c in CURRENCIES],
        )

    @get("/programmes/{programme_id:int}", guards=[may_in_programme(Action.view_programme)])
    async def programme(self, request: Request, programme_id: IdPath) -> Template:
        """A programme: its cohorts; for its managers its settings, roles and a new cohort's form."""
        return await self._programme(request, programme_id)

    def _on_programme(self, request: Request, programme_id: int) -> Render:
        return lambda form, status: self._programme(request, programme_id, form, status)

    @post("/programmes/{programme_id:int}", guards=[may_in_programme(Action.manage_programme)])
    async def save_programme(self, request: Request, programme_id: IdPath) -> Response:
        """Save the programme's settings."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            body: dict[str, Any] = {
                k: values.get(k, "") for k in ("name_zh", "name_en", "name_ru", "description", "currency")
            }
            body |= {k: _number(values.get(k)) for k in ("cancellation_hours", "stalled_weeks")}
            await service.update_programme(principal, programme_id, _decode(ProgrammePatch, body))

        here = f"/incubator/programmes/{programme_id}"
        return await _attempt(
            request, "settings-", act, self._on_programme(request, programme_id), here, "programme-saved"
        )

    @post("/programmes/{programme_id:int}/roles", guards=[may_in_programme(Action.manage_programme)])
    async def grant_role(self, request: Request, programme_id: IdPath) -> Response:
        """Grant a role by e-mail."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            body = {"email": values.get("email", "").strip(), "role": values.get("role", "")}
            await service.grant_role(principal, programme_id, _decode(RoleIn, body))

        here = f"/incubator/programmes/{programme_id}"
        return await _attempt(
            request, "role-", act, self._on_programme(request, programme_id), here, "role-granted"
        )

    @post(
        "/programmes/{programme_id:int}/roles/{user_id:int}/revoke",
        guards=[may_in_programme(Action.manage_programme)],
    )
    async def revoke_role(self, request: Request, programme_id: IdPath, user_id: IdPath) -> Response:
        """Take a person's roles in the programme away."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            await service.revoke_role(principal, programme_id, user_id, None)

        here = f"/incubator/programmes/{programme_id}"
        return await _attempt(
            request, "role-", act, self._on_programme(request, programme_id), here, "role-revoked"
        )

    @post("/programmes/{programme_id:int}/cohorts", guards=[may_in_programme(Action.manage_programme)])
    async def create_cohort(self, request: Request, programme_id: IdPath) -> Response:
        """Create a cohort from the programme's form."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            body = {k: values.get(k, "") for k in ("name", "starts_on", "ends_on")}
            body |= {"mode": values.get("mode") or "hybrid", "places": _number(values.get("places"))}
            await service.create_cohort(principal, programme_id, _decode(CohortIn, body))

        here = f"/incubator/programmes/{programme_id}"
        return await _attempt(
            request, "cohort-new-", act, self._on_programme(request, programme_id), here, "cohort-created"
        )

    # A cohort -----------------------------------------------------------------------------------

    async def _contests(
        self, principal: Principal, organization_id: int, locale: str
    ) -> list[tuple[str, str]]:
        """The contests of the programme's organization whose judging the caller may see."""
        rows = await fetch_all(
            """SELECT id, slug, name_zh, name_en, name_ru FROM event
               WHERE organization = {} AND kind = 'contest' ORDER BY starts_on DESC, id""",
            organization_id,
        )
        choices = []
        for row in rows:
            context = await policy.event_context(principal, row["id"])
            if (
                context is not None
                and decide(principal, Action.view_judging, event=context) is policy.Outcome.allowed
            ):
                choices.append((str(row["id"]), localized(dict(row), "name", locale) or row["slug"]))
        return choices

    async def _cohort(
        self, request: Request, cohort_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        t = translations(locale)
        cohort = await service.get_cohort(principal, cohort_id)
        context = await programme_access(principal, cohort.programme_id, Action.view_programme)
        programme = await service.get_programme(principal, cohort.programme_id)
        manages = allowed(principal, Action.manage_programme, context)
        contests: list[tuple[str, str]] = []
        preview = None
        event_id = _number(request.query_params.get("event_id")) or (
            _number(failed.values.get("event_id")) if failed else None
        )
        if manages:
            contests = await self._contests(principal, programme.organization_id, locale)
            if isinstance(event_id, int) and str(event_id) in dict(contests):
                preview = await service.preview(principal, cohort_id, event_id, None, locale)
        settings = {k: _text(getattr(cohort, k)) for k in ("name", "starts_on", "ends_on", "mode", "places")}
        defaults = {
            "cohort-": settings,
            "results-": {"event_id": _text(event_id)},
            "teams-": {"event_id": _text(event_id)},
            "direct-": {},
        }
        return page(
            request,
            "incubator/programmes/cohort.html.jinja",
            status_code,
            cohort=cohort,
            programme=programme,
            manages=manages,
            contests=contests,
            preview=preview,
            event_id=event_id,
            forms=_forms(defaults, failed),
            failed=failed,
            done=_done(request),
            status_labels=STATUS_LABELS,
            via_names={k: t.gettext(v) for k, v in VIA.items()},
            mode_names={k: t.gettext(v) for k, v in MODES.items()},
            mode_options=_choices(t, MODES),
        )

    @get("/cohorts/{cohort_id:int}", guards=[may_in_programme(Action.view_programme)])
    async def cohort(self, request: Request, cohort_id: IdPath) -> Template:
        """A cohort's startups; for managers its settings and the admission forms (``?event_id=``
        previews a contest's prize winners)."""
        return await self._cohort(request, cohort_id)

    def _on_cohort(self, request: Request, cohort_id: int) -> Render:
        return lambda form, status: self._cohort(request, cohort_id, form, status)

    @post("/cohorts/{cohort_id:int}", guards=[may_in_programme(Action.manage_programme)])
    async def save_cohort(self, request: Request, cohort_id: IdPath) -> Response:
        """Save the cohort's settings."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            body = {k: values.get(k, "") for k in ("name", "starts_on", "ends_on")}
            body |= {"mode": values.get("mode") or "hybrid", "places": _number(values.get("places"))}
            await service.update_cohort(principal, cohort_id, _decode(CohortPatch, body))

        here = f"/incubator/cohorts/{cohort_id}"
        return await _attempt(
            request, "cohort-", act, self._on_cohort(request, cohort_id), here, "cohort-saved"
        )

    @post("/cohorts/{cohort_id:int}/admit-results", guards=[may_in_programme(Action.manage_programme)])
    async def admit_results(self, request: Request, cohort_id: IdPath) -> Response:
        """Admit the winners of the ticked prize tiers."""
        principal, locale = current(request), request_locale(request)

        async def act(values: dict[str, Any]) -> None:
            body = {"event_id": _number(values.get("event_id")), "tiers": values["tiers"]}
            await service.admit_results(principal, cohort_id, _decode(ResultsIn, body), locale)

        here = f"/incubator/cohorts/{cohort_id}"
        return await _attempt(request, "results-", act, self._on_cohort(request, cohort_id), here, "admitted")

    @post("/cohorts/{cohort_id:int}/admit-teams", guards=[may_in_programme(Action.manage_programme)])
    async def admit_teams(self, request: Request, cohort_id: IdPath) -> Response:
        """Admit the ticked teams."""
        principal, locale = current(request), request_locale(request)

        async def act(values: dict[str, Any]) -> None:
            body = {
                "event_id": _number(values.get("event_id")),
                "team_ids": [_number(v) for v in values["team_ids"]],
            }
            await service.admit_teams(principal, cohort_id, _decode(TeamsIn, body), locale)

        here = f"/incubator/cohorts/{cohort_id}"
        return await _attempt(request, "teams-", act, self._on_cohort(request, cohort_id), here, "admitted")

    @post("/cohorts/{cohort_id:int}/admit-direct", guards=[may_in_programme(Action.manage_programme)])
    async def admit_direct(self, request: Request, cohort_id: IdPath) -> Response:
        """Admit a startup directly, its founders' addresses one per line."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            emails = [
                e.strip() for e in re.split(r"[\s,;，；]+", values.get("founder_emails", "")) if e.strip()
            ]
            body = {k: values.get(k, "") for k in ("name", "description", "sector", "website")}
            body["founder_emails"] = emails
            await service.admit_direct(principal, cohort_id, _decode(DirectIn, body))

        here = f"/incubator/cohorts/{cohort_id}"
        return await _attempt(request, "direct-", act, self._on_cohort(request, cohort_id), here, "admitted")

    # A startup's overview -----------------------------------------------------------------------

    async def _startup(
        self, request: Request, startup_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        t = translations(locale)
        access = await startup_access(principal, startup_id, Action.view_startup)
        startup = await service.get_startup(principal, startup_id, locale)
        profile = {k: getattr(startup, k) for k in ("name", "description", "sector", "website")}
        defaults = {
            "profile-": profile,
            "status-": {"status": startup.status, "closed_on": _text(startup.closed_on)},
            "founder-": {"role": "founder"},
        }
        return page(
            request,
            "incubator/programmes/startup.html.jinja",
            status_code,
            **await startup_head(principal, access, "overview"),
            overview=startup,
            founds=allowed(principal, Action.act_for_startup, access.context),
            manages=allowed(principal, Action.manage_programme, access.context),
            forms=_forms(defaults, failed),
            failed=failed,
            done=_done(request),
            via_names={k: t.gettext(v) for k, v in VIA.items()},
            status_options=[(k, t.gettext(v)) for k, v in STATUS_LABELS.items()],
            founder_roles=[("founder", t.gettext("Founder")), ("lead", t.gettext("Lead founder"))],
        )

    @get("/startups/{startup_id:int}", guards=[may_on_startup(Action.view_startup)])
    async def startup(self, request: Request, startup_id: IdPath) -> Template:
        """A startup's overview: profile, founders, status, its team's contest, open action items and
        reports due; the founders' profile form, the managers' status and founders forms."""
        return await self._startup(request, startup_id)

    def _on_startup(self, request: Request, startup_id: int) -> Render:
        return lambda form, status: self._startup(request, startup_id, form, status)

    @post("/startups/{startup_id:int}", guards=[may_on_startup(Action.act_for_startup)])
    async def save_profile(self, request: Request, startup_id: IdPath) -> Response:
        """The founders save their startup's profile."""
        principal, locale = current(request), request_locale(request)

        async def act(values: dict[str, Any]) -> None:
            body = {k: values.get(k, "") for k in ("name", "description", "sector", "website")}
            await service.update_startup(principal, startup_id, _decode(StartupPatch, body), locale)

        here = f"/incubator/startups/{startup_id}"
        return await _attempt(
            request, "profile-", act, self._on_startup(request, startup_id), here, "profile-saved"
        )

    @post("/startups/{startup_id:int}/status", guards=[may_on_startup(Action.view_startup)])
    async def save_status(self, request: Request, startup_id: IdPath) -> Response:
        """The managers record the startup's status."""
        principal, locale = current(request), request_locale(request)

        async def act(values: dict[str, Any]) -> None:
            body: dict[str, Any] = {"status": values.get("status", "")}
            if closed := values.get("closed_on", "").strip():
                body["closed_on"] = closed
            await service.set_status(principal, startup_id, _decode(StatusIn, body), locale)

        here = f"/incubator/startups/{startup_id}"
        return await _attempt(
            request, "status-", act, self._on_startup(request, startup_id), here, "status-saved"
        )

    @post("/startups/{startup_id:int}/founders", guards=[may_on_startup(Action.view_startup)])
    async def add_founder(self, request: Request, startup_id: IdPath) -> Response:
        """The managers add a founder by e-mail."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            body = {k: values.get(k, "").strip() for k in ("email", "role", "title")}
            await service.add_founder(principal, startup_id, _decode(FounderIn, body))

        here = f"/incubator/startups/{startup_id}"
        return await _attempt(
            request, "founder-", act, self._on_startup(request, startup_id), here, "founder-added"
        )

    @post(
        "/startups/{startup_id:int}/founders/{user_id:int}/remove",
        guards=[may_on_startup(Action.view_startup)],
    )
    async def remove_founder(self, request: Request, startup_id: IdPath, user_id: IdPath) -> Response:
        """The managers remove a founder."""
        principal = current(request)

        async def act(values: dict[str, Any]) -> None:
            await service.remove_founder(principal, startup_id, user_id)

        here = f"/incubator/startups/{startup_id}"
        return await _attempt(
            request, "founder-", act, self._on_startup(request, startup_id), here, "founder-removed"
        )


# The contest workspace's section ----------------------------------------------------------------


class IncubationSectionPages(Controller):
    """``/workspace/events/{event_id}/incubation``: the contest's prize winners and a form admitting
    the winners of chosen tiers into a cohort the caller manages."""

    path = "/workspace/events/{event_id:int}/incubation"
    include_in_schema = False

    async def _page(
        self, request: Request, event_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        winners = await service.contest_winners(None, None, event_id, None, locale)
        cohorts = await service.managed_cohorts(principal)
        cohort_options = [
            (str(c["id"]), f"{localized(dict(c), 'name', locale)} · {c['name']} ({c['places_left']})")
            for c in cohorts
        ]
        defaults = {"admit-": {"cohort_id": cohort_options[0][0] if cohort_options else ""}}
        return await event_page(
            request,
            "incubator/programmes/section.html.jinja",
            event_id,
            "incubation",
            status_code,
            winners=winners,
            cohort_options=cohort_options,
            forms=_forms(defaults, failed),
            failed=failed,
            done_here=_done(request),
        )

    @get("", guards=[may(Action.configure_judging)])
    async def show(self, request: Request, event_id: IdPath) -> Template:
        """The contest's prize winners and the admission form."""
        return await self._page(request, event_id)

    @post("", guards=[may(Action.configure_judging)])
    async def admit(self, request: Request, event_id: IdPath) -> Response:
        """Admit the winners of the ticked tiers into the chosen cohort."""
        principal, locale = current(request), request_locale(request)

        async def act(values: dict[str, Any]) -> None:
            cohort_id = _number(values.get("cohort_id"))
            if not isinstance(cohort_id, int):
                raise FormErrors({"cohort_id": Message("is required")})
            data = _decode(ResultsIn, {"event_id": event_id, "tiers": values["tiers"]})
            await service.admit_results(principal, cohort_id, data, locale)

        return await _attempt(
            request,
            "admit-",
            act,
            lambda form, status: self._page(request, event_id, form, status),
            f"/workspace/events/{event_id}/incubation",
            "admitted",
        )
