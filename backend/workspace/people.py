"""The event's "People and roles" page: the roles inside the caller's scope (revoke), invitations by
e-mail (invite, resend, revoke) and a search among the people of the caller's own events to grant a
role directly. Every change goes through ``backend.accounts.service`` and
``backend.accounts.invitations``, the same functions as the API, with the same guards.
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend.accounts import invitations
from backend.accounts import service as accounts
from backend.accounts.schemas import InvitationIn, OrganizationInvitationIn, RoleGrantIn
from backend.accounts.tables import Role
from backend.errors import DomainError
from backend.events import service as events
from backend.guards import current, may
from backend.i18n import LANGUAGE_NAMES, localized, request_locale
from backend.organizations import service as organizations
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath, Search
from backend.workspace.controllers import (
    Form,
    _allowed,
    _choices,
    _context,
    _failed_form,
    _posted,
    event_page,
)
from backend.workspace.forms import FormErrors, decode

# Event-level roles an organizer may give (organization admins are named on the organization).
EVENT_ROLES = tuple(r.value for r in Role if r is not Role.org_admin)
ORGANIZATION_ROLES = ("organizer", "org_admin")
# The confirmations after this page's forms (``?done=<key>``).
DONE = {
    "invited": "The invitation was sent.",
    "invitation-resent": "The invitation was sent again with a new link.",
    "invitation-revoked": "The invitation was withdrawn.",
    "role-granted": "The role was granted.",
    "role-revoked": "The role was revoked.",
}


def _path(event_id: int) -> str:
    return f"/workspace/events/{event_id}/people"


def _back(event_id: int, done: str, anchor: str = "") -> Redirect:
    return Redirect(f"{_path(event_id)}?{urlencode({'done': done})}{anchor}", status_code=HTTP_303_SEE_OTHER)


class PeoplePages(Controller):
    path = "/workspace/events/{event_id:int}/people"
    include_in_schema = False

    async def _page(
        self,
        request: Request,
        event_id: int,
        status_code: int = 200,
        invite_form: Form | None = None,
        grant_form: Form | None = None,
        q: str | None = None,
    ) -> Template:
        principal = current(request)
        context = await _context(principal, event_id)
        tracks = await events.list_tracks(event_id)
        locale = request_locale(request)
        track_names = {t.id: f"{t.code} · {localized(t, 'name', locale)}" for t in tracks}
        scopes = context.organizer_scopes()
        whole = principal.is_platform_admin or any(s.is_whole_event for s in scopes)
        mine = {s.track_id for s in scopes if s.track_id is not None}
        track_choices = [(t.id, track_names[t.id]) for t in tracks if whole or t.id in mine]
        found = await invitations.search_people(principal, event_id, q) if q is not None else None
        return await event_page(
            request,
            "workspace/people.html.jinja",
            event_id,
            "people",
            status_code=status_code,
            grants=await accounts.list_grants(principal, event_id),
            invitations=await invitations.list_invitations(principal, event_id),
            may_manage=_allowed(principal, Action.manage_roles, event=context),
            track_names=track_names,
            track_choices=track_choices,
            whole_event=whole,
            role_options=_choices(request, EVENT_ROLES),
            person_form=lambda user_id: Form(f"grant-{user_id}-", {"role": "judge"}),
            language_names=LANGUAGE_NAMES,
            invite_form=invite_form or Form("invite-", {"role": "judge"}),
            grant_form=grant_form or Form("grant-", {"role": "judge"}),
            q=q,
            found=found,
            people_done=DONE.get(request.query_params.get("done", "")),
        )

    @get("", guards=[may(Action.view_roles)])
    async def people(self, request: Request, event_id: IdPath, q: FromQuery[Search] = None) -> Template:
        """The event's roles and invitations inside the caller's scope; ``?q=`` searches the people
        of the caller's events."""
        return await self._page(request, event_id, q=q)

    @post("/invitations", guards=[may(Action.manage_roles)])
    async def invite(self, request: Request, event_id: IdPath) -> Response:
        """Invite an address to a role (a pending invitation of the same role and scope is refreshed)."""
        posted = await _posted(request)
        try:
            data = decode(InvitationIn, {k: v for k, v in posted.items() if v.strip() or k == "email"})
            await invitations.invite(current(request), event_id, data, request.app.state.settings.base_url)
        except (FormErrors, DomainError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            form = _failed_form(request, exc, "invite-", posted)
            return await self._page(request, event_id, getattr(exc, "status_code", 400), invite_form=form)
        return _back(event_id, "invited", "#invitations")

    @post("/invitations/{invitation_id:int}/resend", guards=[may(Action.manage_roles)])
    async def resend(self, request: Request, event_id: IdPath, invitation_id: IdPath) -> Response:
        try:
            await invitations.resend_invitation(
                current(request), event_id, invitation_id, request.app.state.settings.base_url
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(
                request, event_id, exc.status_code, _failed_form(request, exc, "invite-", {})
            )
        return _back(event_id, "invitation-resent", "#invitations")

    @post("/invitations/{invitation_id:int}/revoke", guards=[may(Action.manage_roles)])
    async def revoke_invitation(self, request: Request, event_id: IdPath, invitation_id: IdPath) -> Response:
        try:
            await invitations.revoke_invitation(current(request), event_id, invitation_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(
                request, event_id, exc.status_code, _failed_form(request, exc, "invite-", {})
            )
        return _back(event_id, "invitation-revoked", "#invitations")

    @post("/roles", guards=[may(Action.manage_roles)])
    async def grant(self, request: Request, event_id: IdPath) -> Response:
        """Give a role to someone found by the search (a person of the caller's events)."""
        posted = await _posted(request)
        try:
            data = decode(RoleGrantIn, {k: v for k, v in posted.items() if v.strip() or k == "user_id"})
            await accounts.grant_role(current(request), event_id, data)
        except (FormErrors, DomainError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            form = _failed_form(request, exc, f"grant-{posted.get('user_id', '')}-", posted)
            return await self._page(
                request, event_id, getattr(exc, "status_code", 400), grant_form=form, q=posted.get("q", "")
            )
        return _back(event_id, "role-granted", "#roles")

    @post("/roles/{grant_id:int}/revoke", guards=[may(Action.manage_roles)])
    async def revoke_role(self, request: Request, event_id: IdPath, grant_id: IdPath) -> Response:
        try:
            await accounts.revoke_role(current(request), event_id, grant_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(
                request, event_id, exc.status_code, grant_form=_failed_form(request, exc, "grant-", {})
            )
        return _back(event_id, "role-revoked", "#roles")


class OrganizationInvitationPages(Controller):
    """The organization's own roles offered by e-mail: the form on the organization's page
    (``workspace/people_organization_invite.html.jinja``) and a page listing its invitations."""

    path = "/workspace/organizations/{organization_id:int}/invitations"
    include_in_schema = False
    guards = [may(Action.manage_organization)]

    async def _page(
        self, request: Request, organization_id: int, status_code: int = 200, form: Form | None = None
    ) -> Template:
        principal = current(request)
        return page(
            request,
            "workspace/people_organization.html.jinja",
            status_code=status_code,
            organization=await organizations.get_organization(organization_id),
            invitations=await invitations.list_organization_invitations(principal, organization_id),
            invite_form=form or Form("org-invite-", {"role": "organizer"}),
            role_options=_choices(request, ORGANIZATION_ROLES),
            language_names=LANGUAGE_NAMES,
            people_done=DONE.get(request.query_params.get("done", "")),
        )

    def _back(self, organization_id: int, done: str) -> Redirect:
        return Redirect(
            f"/workspace/organizations/{organization_id}/invitations?{urlencode({'done': done})}",
            status_code=HTTP_303_SEE_OTHER,
        )

    @get("")
    async def list_invitations(self, request: Request, organization_id: IdPath) -> Template:
        """The organization's invitations, with the form to send another."""
        return await self._page(request, organization_id)

    @post("")
    async def invite(self, request: Request, organization_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            data = decode(
                OrganizationInvitationIn, {k: v for k, v in posted.items() if v.strip() or k == "email"}
            )
            await invitations.invite_to_organization(
                current(request), organization_id, data, request.app.state.settings.base_url
            )
        except (FormErrors, DomainError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            form = _failed_form(request, exc, "org-invite-", posted)
            return await self._page(request, organization_id, getattr(exc, "status_code", 400), form)
        return self._back(organization_id, "invited")

    @post("/{invitation_id:int}/resend")
    async def resend(self, request: Request, organization_id: IdPath, invitation_id: IdPath) -> Response:
        try:
            await invitations.resend_organization_invitation(
                current(request), organization_id, invitation_id, request.app.state.settings.base_url
            )
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(
                request, organization_id, exc.status_code, _failed_form(request, exc, "org-invite-", {})
            )
        return self._back(organization_id, "invitation-resent")

    @post("/{invitation_id:int}/revoke")
    async def revoke(self, request: Request, organization_id: IdPath, invitation_id: IdPath) -> Response:
        try:
            await invitations.revoke_organization_invitation(current(request), organization_id, invitation_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(
                request, organization_id, exc.status_code, _failed_form(request, exc, "org-invite-", {})
            )
        return self._back(organization_id, "invitation-revoked")
