"""The advancement pages: a stage's advancement (rules, quota usage, the caller's teams in rank order
to recommend, acceptance) and prizes (tiers, awards, certificates) in the event's workspace; a team's
certificates; and the public verification page of a certificate.

Forms post to these pages and answer Post/Redirect/Get; a refusal shows the page again with the
service's message in the reader's language. Everything goes through ``judging.advancement.service``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Template

from backend.errors import INVALID_INPUT, DomainError, NotFound
from backend.guards import current, may, requires_login
from backend.http_errors import localized_error
from backend.i18n import localized, request_locale, translations
from backend.institutions.tables import Institution
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath
from backend.teams.access import team_access
from backend.workspace.controllers import Form, _posted, _redirect, event_page
from judging.access import stage_access
from judging.advancement import service
from judging.advancement.controllers import SERIAL_PATTERN
from judging.advancement.documents import localized_text
from judging.advancement.schemas import RecommendIn, RulesIn, TiersIn

AnySerial = Annotated[str, PathParameter(max_length=200)]  # a wrong one is an unknown certificate
TIER_ROWS = 6  # rows of the tiers editor
DONE = {
    "rules": "The advancement rules were saved.",
    "recommended": "The teams were recommended.",
    "accepted": "The recommended teams were accepted into the next stage.",
    "tiers": "The prize tiers were saved.",
    "awards": "The prizes were given.",
    "certificates": "The certificates were issued.",
}


def _path(event_id: int, stage_id: int, rest: str) -> str:
    return f"/workspace/events/{event_id}/judging/stages/{stage_id}/{rest}"


async def _stage(request: Request, event_id: int, stage_id: int, action: Action = Action.view_judging) -> Any:
    access = await stage_access(current(request), stage_id, action)
    if access.stage["event"] != event_id:
        raise NotFound("Stage")
    return access


def _lines(text: str, field: str) -> dict[str, int]:
    """``name: n`` lines (a form's text area) as a mapping; a bad line is a 422 naming the field."""
    mapping: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(.+?)\s*[:=]\s*(\d{1,7})\s*", line)
        if match is None:
            raise DomainError(
                "validation_error",
                INVALID_INPUT,
                status_code=422,
                fields={field: "line {line} is not of the form name: number"},
                params={"line": number},
            )
        mapping[match[1]] = int(match[2])
    return mapping


def _count(posted: dict[str, str], field: str) -> int | None:
    """A number input: empty is ``None`` (no limit), anything but a whole number a 422 at the field."""
    value = posted.get(field, "").strip()
    if not value:
        return None
    if re.fullmatch(r"-?\d{1,9}", value) is None:
        raise DomainError(
            "validation_error", INVALID_INPUT, status_code=422, fields={field: "must be a whole number"}
        )
    return int(value)


def _shown(value: int | None) -> str:
    return "" if value is None else str(value)


def _failure(request: Request, exc: DomainError) -> Form:
    detail, fields = localized_error(exc, request_locale(request))
    # "rules.per_region.Atlantis" is the input "per_region" of the page's form
    return Form("", {}, {name.removeprefix("rules.").split(".")[0]: m for name, m in fields.items()}, detail)


class AdvancementPages(Controller):
    path = "/workspace/events/{event_id:int}/judging/stages/{stage_id:int}"
    include_in_schema = False
    guards = [may(Action.view_judging)]

    async def _advancement(
        self, request: Request, event_id: int, stage_id: int, form: Form | None = None, status_code: int = 200
    ) -> Template:
        principal = current(request)
        access = await _stage(request, event_id, stage_id)
        rules = await service.get_rules(principal, stage_id)
        recommendations = await service.list_recommendations(principal, stage_id)
        organizer = await _may_configure(request, stage_id)
        return await event_page(
            request,
            "judging/advancement/advancement.html.jinja",
            event_id,
            "judging",
            status_code,
            stage=access.stage,
            judging=access.judging,
            current="advancement",
            rules=rules,
            rules_form=Form(
                "rules-",
                {
                    "total": _shown(rules.rules.total),
                    "region_default": _shown(rules.rules.region_default),
                    "per_institution_max": _shown(rules.rules.per_institution_max),
                    "per_region": "\n".join(f"{k}: {v}" for k, v in rules.rules.per_region.items()),
                    "group_ratio": "\n".join(f"{k}: {v}" for k, v in rules.rules.group_ratio.items()),
                }
                if not (form and form.values)
                else form.values,
                form.errors if form else {},
            ),
            data=recommendations,
            organizer=organizer,
            **await _names(request, recommendations.usage),
            form=form or Form(),
            advancement_done=DONE.get(request.query_params.get("done", "")),
        )

    @get("/advancement")
    async def advancement(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Template:
        """Advancement rules, quota usage, your teams in rank order to recommend, and acceptance."""
        return await self._advancement(request, event_id, stage_id)

    @post("/advancement/rules", guards=[may(Action.configure_judging)])
    async def save_rules(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            await _stage(request, event_id, stage_id)
            rules = {
                "total": _count(posted, "total"),
                "per_region": _lines(posted.get("per_region", ""), "per_region"),
                "region_default": _count(posted, "region_default"),
                "group_ratio": _lines(posted.get("group_ratio", ""), "group_ratio"),
                "per_institution_max": _count(posted, "per_institution_max"),
            }
            try:
                data = msgspec.convert({"to_stage": _count(posted, "to_stage") or 0, "rules": rules}, RulesIn)
            except msgspec.ValidationError as exc:
                raise DomainError(
                    "validation_error", INVALID_INPUT, status_code=422, fields={"rules": str(exc)}
                ) from None
            await service.set_rules(current(request), stage_id, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            failed = _failure(request, exc)
            failed.values = posted
            return await self._advancement(request, event_id, stage_id, failed, exc.status_code)
        return _redirect(_path(event_id, stage_id, "advancement"), "rules")

    @post("/advancement/recommend", guards=[may(Action.recommend_teams)])
    async def recommend(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        form = await request.form()
        entries = (
            [int(v) for v in form.getall("entry") if isinstance(v, str) and v.isdigit()]
            if "entry" in form
            else []
        )
        try:
            await _stage(request, event_id, stage_id)
            if not entries:
                raise DomainError(
                    "validation_error",
                    INVALID_INPUT,
                    status_code=422,
                    fields={"entries": "choose at least one team"},
                )
            await service.recommend(current(request), stage_id, RecommendIn(entries=entries[:500]))
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._advancement(
                request, event_id, stage_id, _failure(request, exc), exc.status_code
            )
        return _redirect(_path(event_id, stage_id, "advancement"), "recommended")

    @post("/advancement/accept", guards=[may(Action.configure_judging)])
    async def accept(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        try:
            await _stage(request, event_id, stage_id)
            await service.accept_recommendations(current(request), stage_id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._advancement(
                request, event_id, stage_id, _failure(request, exc), exc.status_code
            )
        return _redirect(_path(event_id, stage_id, "advancement"), "accepted")

    async def _prizes(
        self, request: Request, event_id: int, stage_id: int, form: Form | None = None, status_code: int = 200
    ) -> Template:
        principal = current(request)
        access = await _stage(request, event_id, stage_id)
        tiers = await service.get_tiers(principal, stage_id)
        values: dict[str, Any] = {}
        for i, tier in enumerate(tiers):
            values.update(
                {f"code_{i}": tier.code, f"size_{i}": tier.size}
                | {f"name_{lang}_{i}": getattr(tier, f"name_{lang}") for lang in ("zh", "en", "ru")}
            )
        if form and form.values:
            values = dict(form.values)
        return await event_page(
            request,
            "judging/advancement/prizes.html.jinja",
            event_id,
            "judging",
            status_code,
            stage=access.stage,
            judging=access.judging,
            current="prizes",
            tiers=tiers,
            tier_rows=range(max(TIER_ROWS, len(tiers) + 1)),
            tier_form=Form("tier-", values, form.errors if form else {}, form.summary if form else ""),
            awards=await service.list_awards(principal, stage_id),
            certificates=await service.list_certificates(
                principal, stage_id, request.app.state.settings.base_url
            ),
            organizer=await _may_configure(request, stage_id),
            tier_name=lambda code: next(
                (localized(t, "name", request_locale(request)) or t.code for t in tiers if t.code == code),
                code,
            ),
            prizes_done=DONE.get(request.query_params.get("done", "")),
        )

    @get("/prizes")
    async def prizes(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Template:
        """Prize tiers, the awards in rank order, and the certificates with their documents."""
        return await self._prizes(request, event_id, stage_id)

    @post("/prizes/tiers", guards=[may(Action.configure_judging)])
    async def save_tiers(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        posted = await _posted(request)
        rows = []
        for i in range(20):
            code = posted.get(f"code_{i}", "").strip()
            if code:
                rows.append(
                    {
                        "code": code,
                        "size": _count(posted, f"size_{i}") or 0,
                        **{
                            f"name_{lang}": posted.get(f"name_{lang}_{i}", "").strip()
                            for lang in ("zh", "en", "ru")
                        },
                    }
                )
        try:
            await _stage(request, event_id, stage_id)
            try:
                data = msgspec.convert({"tiers": rows}, TiersIn)
            except msgspec.ValidationError as exc:
                raise DomainError(
                    "validation_error", INVALID_INPUT, status_code=422, fields={"tiers": str(exc)}
                ) from None
            await service.set_tiers(current(request), stage_id, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            failed = _failure(request, exc)
            failed.values = posted
            return await self._prizes(request, event_id, stage_id, failed, exc.status_code)
        return _redirect(_path(event_id, stage_id, "prizes"), "tiers")

    @post("/prizes/awards", guards=[may(Action.configure_judging)])
    async def give_awards(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        try:
            await _stage(request, event_id, stage_id)
            await service.give_awards(current(request), stage_id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._prizes(request, event_id, stage_id, _failure(request, exc), exc.status_code)
        return _redirect(_path(event_id, stage_id, "prizes"), "awards")

    @post("/prizes/certificates", guards=[may(Action.configure_judging)])
    async def issue_certificates(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        try:
            await _stage(request, event_id, stage_id)
            await service.issue_certificates(current(request), stage_id, request.app.state.settings.base_url)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._prizes(request, event_id, stage_id, _failure(request, exc), exc.status_code)
        return _redirect(_path(event_id, stage_id, "prizes"), "certificates")


# The states of a recommendation, by their English words (``pgettext("recommendation state", ...)``).
STATES = {
    "recommended": "Recommended",
    "accepted": "Accepted",
    "withdrawn": "Withdrawn",
    "refused": "Refused",
}


async def _names(request: Request, usage: dict[str, Any]) -> dict[str, Any]:
    """How the advancement page names regions, institutions and recommendation states."""
    locale = request_locale(request)
    t = translations(locale)
    ids = [u["key"] for u in usage["institutions"]]
    rows = await Institution.select().where(Institution.id.is_in(ids)) if ids else []
    institutions = {r["id"]: localized(r, "name", locale) for r in rows}
    return {
        "region_name": lambda key: key or t.gettext("No region"),
        "group_name": lambda key: key,
        "institution_name": lambda key: institutions.get(key, str(key)),
        "state_name": lambda state: t.pgettext("recommendation state", STATES.get(state, state)),
    }


async def _may_configure(request: Request, stage_id: int) -> bool:
    try:
        await stage_access(current(request), stage_id, Action.configure_judging)
    except DomainError:
        return False
    return True


class CertificatePages(Controller):
    include_in_schema = False

    @get("/teams/{team_id:int}/certificates", guards=[requires_login])
    async def team_certificates(self, request: Request, team_id: IdPath) -> Template:
        """The team's certificates, with their documents in each language and their public page."""
        access = await team_access(current(request), team_id)
        locale = request_locale(request)
        return page(
            request,
            "judging/advancement/team_certificates.html.jinja",
            team=access.row,
            certificates=await service.team_certificates(team_id),
            text=lambda row, prefix: localized_text(row, prefix, locale),
        )

    @get("/verify/{serial:str}")
    async def verify(self, request: Request, serial: AnySerial) -> Template:
        """Public: whether a certificate is valid, with its holder, prize, event and issue date."""
        row = await service.certificate_by_serial(serial) if re.fullmatch(SERIAL_PATTERN, serial) else None
        return page(
            request,
            "judging/advancement/verify.html.jinja",
            status_code=200 if row else 404,
            certificate=row,
            serial=serial,
            text=lambda row, prefix: localized_text(row, prefix, request_locale(request)),
        )
