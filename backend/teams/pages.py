"""The participants' team pages: my teams, the registration wizard, the team's page (people, join
code, requests, materials, timeline) and the team invitation link.

Pages over the same services as the API (``backend.teams.service`` and ``backend.teams.materials``):
every form posts with the CSRF token and answers Post/Redirect/Get; a refused change shows the page
again with the service's message (the rule and its limit, in the reader's language) next to the field
it concerns. The wizard keeps its steps in the form itself (hidden fields): nothing is saved before
the team is created, and every step works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend import policy
from backend.accounts.profile import get_profile
from backend.db import utcnow
from backend.errors import DomainError, fill
from backend.events import service as events
from backend.events.tables import EventKind, EventStatus
from backend.guards import current, requires_login
from backend.i18n import request_locale, translations
from backend.institutions.service import get_institution
from backend.pages.controllers import login_url, page
from backend.policy import Action, Outcome, Principal
from backend.schemas import IdPath
from backend.security import load_principal, start_session
from backend.teams import materials, rules, service
from backend.teams.access import team_access
from backend.teams.material_controllers import BODY_MAX, file_part
from backend.teams.materials import FILE_LIMITS, MaterialKind
from backend.teams.schemas import JoinIn, LeaderIn, SeatInviteIn, TeamAcceptIn, TeamIn, TeamPatch
from backend.workspace.controllers import Form, _failed_form, _posted
from backend.workspace.forms import FormErrors, decode

TokenPath = Annotated[str, PathParameter(min_length=1, max_length=200)]

# The confirmation after each change (``?done=<key>``).
DONE = {
    "created": "Your team is registered. Now invite its members and advisors.",
    "invited": "The invitation was sent.",
    "removed": "The seat is free again.",
    "approved": "The request was approved: the person is in the team.",
    "refused": "The request was refused.",
    "code": "The team has a new join code; the old one no longer works.",
    "leader": "The leadership was handed over.",
    "left": "You left the team.",
    "withdrawn": "The team has withdrawn from the contest.",
    "requested": "Your request was sent to the team's leader, who will approve or refuse it.",
    "joined": "You are in the team.",
    "declined": "You declined the invitation.",
    "uploaded": "The new version was saved.",
    "renamed": "The new names were saved.",
}

# Field labels (English message ids) for the error summaries.
LABELS = {
    "track_id": "Track",
    "name": "Team name",
    "entry_title": "Entry title",
    "institution_id": "Institution",
    "email": "E-mail",
    "role": "Role",
    "code": "Join code",
    "user_id": "New leader",
    "file": "File",
    "url": "Video link",
    "text": "Summary",
    "display_name": "Your name",
    "password": "Password",
    "password_again": "Password again",
}

# Refusals of the rules that name no field of their own: the input each concerns.
REFUSAL_FIELD = {
    "already_in_track": "track_id",
    "already_in_contest": "track_id",
    "already_in_category": "track_id",
    "registration_not_open": "track_id",
    "registration_closed": "track_id",
    "institution_not_eligible": "institution_id",
    "team_full": "email",
    "already_in_team": "email",
    "advisor_entries_limit": "email",
    "advisors_full": "role",
    "first_advisor_limit": "email",
    "member_changes_locked": "email",
    "invalid_join_code": "code",
    "materials_locked": "file",
}

# Refusals that concern the person's profile (the wizard's institution step prompts to complete it).
PROFILE_CODES = {
    "profile_incomplete",
    "age_limit",
    "study_status_not_eligible",
    "graduated_too_long_ago",
    "past_winner",
}
WIZARD_STEPS = ("track", "names", "institution", "invite", "summary")
STEP_OF_FIELD = {"track_id": "track", "name": "names", "entry_title": "names"}
INVITE_ROLES = ("member", "university_advisor", "enterprise_advisor")


# Words of the teams' vocabularies, by context (``term(context, value)`` in the templates).
TERMS = {
    "team status": {
        "forming": "Forming",
        "complete": "Complete",
        "approved": "Approved",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
    },
    "team role": {
        "leader": "Leader",
        "member": "Member",
        "university_advisor": "University advisor",
        "enterprise_advisor": "Enterprise advisor",
    },
    "seat state": {"invited": "Invited", "requested": "Asked to join", "confirmed": "Confirmed"},
    "material": {
        "business_plan": "Business plan",
        "slides": "Slides",
        "video_link": "Video link",
        "summary": "Summary",
    },
    "profile part": {
        "institution": "institution",
        "birth_date": "date of birth",
        "study_status": "student or graduate status",
        "graduation_year": "year of graduation",
    },
}

# A line of the team's timeline per kind of change (``{placeholders}`` from the change's data).
TIMELINE = {
    "created": "The team was registered.",
    "invited": "{email} was invited as {role}.",
    "member_confirmed": "An invitation was accepted ({role}).",
    "invitation_declined": "{email} declined the invitation.",
    "join_requested": "Someone asked to join with the join code.",
    "join_approved": "A request to join was approved.",
    "join_refused": "A request to join was refused.",
    "join_code_rotated": "The join code was replaced.",
    "seat_removed": "{email} ({role}) was removed from the team.",
    "member_left": "A member left the team ({role}).",
    "leader_changed": "The leadership was handed over.",
    "renamed": "The team or its entry was renamed.",
    "completed": "The team became complete.",
    "incomplete": "The team is no longer complete.",
    "withdrawn": "The team withdrew from the contest.",
    "review_dropped": "The organizers' decision was dropped after a change of members.",
    "approved": "The organizers approved the registration.",
    "rejected": "The organizers rejected the registration: {note}",
    "material_submitted": "A new version of a material was submitted.",
}


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Template:
    """:func:`backend.pages.controllers.page` with the teams' vocabulary: ``term``, ``say`` (an English
    message id with ``{placeholders}``, as the services' requirements carry) and ``timeline_line``."""
    t = translations(request_locale(request))

    def term(context: str, value: str) -> str:
        return t.pgettext(context, TERMS[context].get(value, value))

    def say(message: str, **params: Any) -> str:
        return fill(t.gettext(message), params)

    def timeline_line(line: Any) -> str:
        params = {k: v for k, v in line.data.items() if isinstance(v, str | int)}
        if "role" in params:
            params["role"] = term("team role", str(params["role"]))
        return say(TIMELINE[line.kind], **params) if line.kind in TIMELINE else line.kind

    return page(request, name, status_code, term=term, say=say, timeline_line=timeline_line, **context)


def _redirect(path: str, done: str | None = None, anchor: str = "") -> Redirect:
    query = f"?{urlencode({'done': done})}" if done else ""
    return Redirect(f"{path}{query}{anchor}", status_code=HTTP_303_SEE_OTHER)


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def _refused(request: Request, exc: Exception, prefix: str, values: Mapping[str, Any]) -> Form:
    """The form again after a refusal: each message next to its field (a rule's refusal next to the
    input it concerns), labelled for the summary in the reader's language."""
    form = _failed_form(request, exc, prefix, values)
    if isinstance(exc, DomainError) and not form.errors and exc.code in REFUSAL_FIELD:
        form.errors, form.summary = {REFUSAL_FIELD[exc.code]: form.summary}, ""
    t = translations(request_locale(request))
    form.labels = {name: t.gettext(LABELS.get(name, name)) for name in form.errors}
    return form


async def _open_contests(principal: Principal) -> list[Any]:
    items, _ = await events.list_events(principal, 100, 0, EventKind.contest, EventStatus.open)
    return items


# The wizard's read-side: tracks with their rules, the profile and what the rules need of it --------


async def _tracks(event_id: int) -> list[dict[str, Any]]:
    return [
        {"track": track, "rules": await rules.rules_for(event_id, track.id)}
        for track in await events.list_tracks(event_id)
    ]


def _profile_gaps(team_rules: rules.Rules, profile: Any) -> list[str]:
    """The parts of the profile the track's rules need that are still empty."""
    gaps = []
    if (team_rules.countries or team_rules.institution_kinds) and profile.institution_id is None:
        gaps.append("institution")
    if team_rules.age_max is not None and profile.birth_date is None:
        gaps.append("birth_date")
    if (team_rules.statuses or team_rules.graduated_within_years is not None) and profile.updated_at is None:
        gaps.append("study_status")
    return gaps


class WizardForm(msgspec.Struct):
    step: str = "track"
    track_id: str = ""
    name: str = ""
    entry_title: str = ""


class TeamPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    # My teams ---------------------------------------------------------------------------------

    @get("/teams")
    async def my_teams(self, request: Request) -> Template:
        """The teams you lead, are in, advise, are invited to or asked to join; a registration entry
        per open contest; the join-by-code form."""
        return await self._my_teams(request)

    async def _my_teams(self, request: Request, status_code: int = 200, join: Form | None = None) -> Template:
        principal = current(request)
        cards = []
        for team in await service.my_teams(principal):
            detail = await service.get_team(principal, team.id) if team.my_state == "confirmed" else None
            cards.append(
                {
                    "team": team,
                    "event": await events.get_event(principal, team.event_id),
                    "unmet": detail.unmet if detail else [],
                }
            )
        return _page(
            request,
            "teams/mine.html.jinja",
            status_code=status_code,
            cards=cards,
            contests=await _open_contests(principal),
            join=join or Form("join-"),
            done=_done(request),
        )

    @post("/teams/join")
    async def join(self, request: Request) -> Response:
        """Ask to join a team with its code; its leader approves."""
        posted = await _posted(request)
        try:
            await service.join_by_code(current(request), decode(JoinIn, posted))
        except (FormErrors, DomainError) as exc:
            form = _refused(request, exc, "join-", posted)
            return await self._my_teams(request, getattr(exc, "status_code", 400), join=form)
        return _redirect("/teams", "requested")

    # The registration wizard ------------------------------------------------------------------

    @get("/events/{event:str}/register")
    async def wizard(
        self, request: Request, event: Annotated[str, PathParameter(max_length=100)]
    ) -> Template:
        """Step 1 of registering a team: the track."""
        return await self._wizard(request, event, WizardForm(), Form("team-"))

    @post("/events/{event:str}/register")
    async def wizard_step(
        self, request: Request, event: Annotated[str, PathParameter(max_length=100)]
    ) -> Response:
        """The next step of the wizard (each checks what it asked), or the team's creation."""
        posted = await _posted(request)
        data = msgspec.convert(
            {k: v for k, v in posted.items() if k in WizardForm.__struct_fields__}, WizardForm
        )
        contest = await events.find_event(request.user, event)
        if data.step == "create":
            try:
                team_in = decode(TeamIn, {k: posted.get(k, "") for k in ("track_id", "name", "entry_title")})
                team = await service.create_team(current(request), contest.id, team_in)
            except (FormErrors, DomainError) as exc:
                form = _refused(request, exc, "team-", posted)
                step = next((STEP_OF_FIELD[f] for f in form.errors if f in STEP_OF_FIELD), "institution")
                data.step = step
                return await self._wizard(request, event, data, form, getattr(exc, "status_code", 400))
            return _redirect(f"/teams/{team.id}/invite", "created")
        form = Form("team-", posted)
        try:
            if data.step == "names":  # the track was chosen: check it
                track = int(data.track_id) if data.track_id.isdigit() else 0
                if track not in {t.id for t in await events.list_tracks(contest.id)}:
                    raise DomainError(
                        "unknown_track", "Choose a track", fields={"track_id": "Choose a track"}
                    )
            elif data.step == "institution":  # the names were given: check them against the limits
                team_rules = await rules.rules_for(contest.id, int(data.track_id))
                decode(TeamIn, {k: posted.get(k, "") for k in ("track_id", "name", "entry_title")})
                rules.check_names(team_rules, data.name, data.entry_title)
            elif data.step != "track":
                data.step = "track"
        except (FormErrors, DomainError) as exc:
            form = _refused(request, exc, "team-", posted)
            data.step = WIZARD_STEPS[WIZARD_STEPS.index(data.step) - 1]
            return await self._wizard(request, event, data, form, 400)
        return await self._wizard(request, event, data, form)

    async def _wizard(
        self, request: Request, reference: str, data: WizardForm, form: Form, status_code: int = 200
    ) -> Template:
        principal = current(request)
        contest = await events.find_event(principal, reference)
        tracks = await _tracks(contest.id)
        chosen = next((t for t in tracks if str(t["track"].id) == data.track_id), None)
        if data.step != "track" and chosen is None:
            data.step = "track"
        profile = await get_profile(principal)
        institution = await get_institution(profile.institution_id) if profile.institution_id else None
        return _page(
            request,
            "teams/register.html.jinja",
            status_code=status_code,
            contest=contest,
            tracks=tracks,
            chosen=chosen,
            wizard=data,
            step_number=WIZARD_STEPS.index(data.step) + 1,
            steps=len(WIZARD_STEPS),
            form=Form("team-", msgspec.structs.asdict(data), form.errors, form.summary, form.labels),
            profile=profile,
            institution=institution,
            profile_gaps=_profile_gaps(chosen["rules"], profile) if chosen else [],
            profile_refusal=form.summary if form.summary and data.step == "institution" else "",
            open=contest.kind == "contest" and contest.status == "open",
        )

    @get("/teams/{team_id:int}/invite")
    async def invite_step(self, request: Request, team_id: IdPath) -> Template:
        """Step 4 of the wizard: invite the members and advisors."""
        return await self._team(request, team_id, template="teams/invite.html.jinja")

    @get("/teams/{team_id:int}/summary")
    async def summary_step(self, request: Request, team_id: IdPath) -> Template:
        """Step 5 of the wizard: the registration as it stands, and what is missing."""
        return await self._team(request, team_id, template="teams/summary.html.jinja")

    # The team's page ---------------------------------------------------------------------------

    @get("/teams/{team_id:int}")
    async def team(self, request: Request, team_id: IdPath) -> Template:
        """The team: its people and their confirmation, the join code, requests, materials per stage,
        what is missing and its timeline."""
        return await self._team(request, team_id)

    async def _team(
        self,
        request: Request,
        team_id: int,
        status_code: int = 200,
        forms: dict[str, Form] | None = None,
        template: str = "teams/team.html.jinja",
    ) -> Template:
        principal = current(request)
        detail = await service.get_team(principal, team_id)
        access = await team_access(principal, team_id, Action.view_team)
        contest = await events.get_event(principal, detail.event_id)
        track = next((t for t in await events.list_tracks(contest.id) if t.id == detail.track_id), None)
        team_rules = await rules.rules_for(contest.id, detail.track_id)
        submits = policy.decide(principal, Action.submit_materials, access.event, team=access.team)
        found = await materials.list_materials(principal, team_id)
        now = utcnow()
        stages = [
            {
                "stage": stage,
                "locked": stage.submission_deadline is not None and now >= stage.submission_deadline,
                "latest": {m.kind.value: m for m in found.latest if m.stage_id == stage.id},
                "earlier": [
                    m
                    for m in reversed(found.versions)
                    if m.stage_id == stage.id and not any(m.id == latest.id for latest in found.latest)
                ],
            }
            for stage in await events.list_stages(contest.id)
        ]
        forms = forms or {}
        lock_at = team_rules.changes_lock_at
        return _page(
            request,
            template,
            status_code=status_code,
            team=detail,
            contest=contest,
            track=track,
            rules=team_rules,
            manages=detail.join_code is not None,
            submits=submits is Outcome.allowed and detail.status != "withdrawn",
            changes_locked=detail.status == "withdrawn" or (lock_at is not None and now >= lock_at),
            people=[s for s in detail.seats if s.state != "requested"],
            requests=[s for s in detail.seats if s.state == "requested"],
            members=[s for s in detail.seats if s.role == "member" and s.state == "confirmed" and s.user_id],
            me=principal,
            stages=stages,
            file_kinds=[k.value for k in FILE_LIMITS],
            file_limit_mib={k.value: v // materials.MiB for k, v in FILE_LIMITS.items()},
            summary_max=materials.SUMMARY_MAX,
            forms=forms,
            form=lambda key: forms.get(key) or Form(f"{key}-"),
            names=forms.get("names")
            or Form("names-", {"name": detail.name, "entry_title": detail.entry_title}),
            invite_roles=INVITE_ROLES,
            done=_done(request),
        )

    async def _change(
        self, request: Request, team_id: int, key: str, action: Any, done: str, anchor: str = ""
    ) -> Response:
        """Run one change of the team's page; on a refusal, the page again with the message at ``key``'s
        form."""
        posted = await _posted(request)
        try:
            target = await action(current(request), posted)
        except (FormErrors, DomainError) as exc:
            form = _refused(request, exc, f"{key}-", posted)
            next_template = (
                "teams/invite.html.jinja" if posted.get("next") == "invite" else "teams/team.html.jinja"
            )
            return await self._team(
                request, team_id, getattr(exc, "status_code", 400), {key: form}, template=next_template
            )
        if posted.get("next") == "invite":
            return _redirect(f"/teams/{team_id}/invite", done)
        return _redirect(target or f"/teams/{team_id}", done, anchor)

    @post("/teams/{team_id:int}/seats")
    async def invite(self, request: Request, team_id: IdPath) -> Response:
        """Invite a member or an advisor by e-mail (the leader)."""
        base_url = request.app.state.settings.base_url

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            values = {k: v for k, v in posted.items() if k in ("email", "role", "position") and v != ""}
            await service.invite(actor, team_id, decode(SeatInviteIn, values), base_url)

        return await self._change(request, team_id, "invite", act, "invited", "#people")

    @post("/teams/{team_id:int}/seats/{seat_id:int}/remove")
    async def remove_seat(self, request: Request, team_id: IdPath, seat_id: IdPath) -> Response:
        """Remove a member or advisor, or revoke an invitation (the leader)."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.remove_seat(actor, team_id, seat_id)

        return await self._change(request, team_id, "people", act, "removed", "#people")

    @post("/teams/{team_id:int}/seats/{seat_id:int}/approve")
    async def approve(self, request: Request, team_id: IdPath, seat_id: IdPath) -> Response:
        """Let a person who asked with the join code into the team."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.answer_request(actor, team_id, seat_id, approve=True)

        return await self._change(request, team_id, "requests", act, "approved", "#requests")

    @post("/teams/{team_id:int}/seats/{seat_id:int}/refuse")
    async def refuse(self, request: Request, team_id: IdPath, seat_id: IdPath) -> Response:
        """Turn a join request down."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.answer_request(actor, team_id, seat_id, approve=False)

        return await self._change(request, team_id, "requests", act, "refused", "#requests")

    @post("/teams/{team_id:int}/join-code")
    async def rotate_code(self, request: Request, team_id: IdPath) -> Response:
        """A new join code; the old one stops working."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.rotate_code(actor, team_id)

        return await self._change(request, team_id, "code", act, "code", "#join-code")

    @post("/teams/{team_id:int}/names")
    async def rename(self, request: Request, team_id: IdPath) -> Response:
        """Rename the team or its entry (the leader), within the contest's limits."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            values = {k: posted.get(k, "") for k in ("name", "entry_title")}
            await service.update_team(actor, team_id, decode(TeamPatch, values))

        return await self._change(request, team_id, "names", act, "renamed", "#names")

    @post("/teams/{team_id:int}/leader")
    async def hand_over(self, request: Request, team_id: IdPath) -> Response:
        """Make a confirmed member the leader."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.hand_over(actor, team_id, decode(LeaderIn, {"user_id": posted.get("user_id", "")}))

        return await self._change(request, team_id, "leader", act, "leader", "#people")

    @post("/teams/{team_id:int}/leave")
    async def leave(self, request: Request, team_id: IdPath) -> Response:
        """Leave the team (members and advisors)."""

        async def act(actor: Principal, posted: dict[str, str]) -> str:
            await service.leave(actor, team_id)
            return "/teams"

        return await self._change(request, team_id, "leave", act, "left")

    @get("/teams/{team_id:int}/withdraw")
    async def withdraw_confirm(self, request: Request, team_id: IdPath) -> Template:
        """The step before withdrawing: what it means, and the button."""
        return await self._team(request, team_id, template="teams/withdraw.html.jinja")

    @post("/teams/{team_id:int}/withdraw")
    async def withdraw(self, request: Request, team_id: IdPath) -> Response:
        """Withdraw the team from the contest (final)."""

        async def act(actor: Principal, posted: dict[str, str]) -> None:
            await service.withdraw(actor, team_id)

        return await self._change(request, team_id, "withdraw", act, "withdrawn")

    @post(
        "/teams/{team_id:int}/stages/{stage_id:int}/materials/{kind:str}",
        request_max_body_size=BODY_MAX,
    )
    async def submit_material(
        self, request: Request, team_id: IdPath, stage_id: IdPath, kind: Annotated[str, PathParameter()]
    ) -> Response:
        """A new version of a material: a PDF (multipart ``file``), a video link or a summary."""
        key = f"material-{stage_id}-{kind}"
        values: dict[str, str] = {}
        try:
            material = MaterialKind(kind)
        except ValueError:
            raise DomainError("not_found", "No such material", status_code=404) from None
        actor = current(request)
        try:
            access = await materials.submittable(actor, team_id, stage_id)
            if material in FILE_LIMITS:
                part = await file_part(request, material)
                await materials.submit_file(actor, access, stage_id, material, part.file_name, part.chunks)
            else:
                values = await _posted(request)
                if material is MaterialKind.video_link:
                    await materials.submit_link(actor, access, stage_id, values.get("url", ""))
                else:
                    await materials.submit_summary(actor, access, stage_id, values.get("text", ""))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            form = _refused(request, exc, f"{key}-", values)
            return await self._team(request, team_id, exc.status_code, {key: form})
        return _redirect(f"/teams/{team_id}", "uploaded", f"#stage-{stage_id}")


class TeamInvitationPages(Controller):
    """The link of a team invitation (no login needed to look at it or to decline it)."""

    include_in_schema = False

    @get("/team-invitations/{token:str}")
    async def invitation(self, request: Request, token: TokenPath) -> Template:
        """Accept or decline: logged in as the invited address, or log in, or create the account."""
        return await self._invitation(request, token)

    async def _invitation(
        self,
        request: Request,
        token: str,
        status_code: int = 200,
        form: Form | None = None,
        user: Principal | None = None,
    ) -> Template:
        """``user``: the caller, or the account the link has just created."""
        user = user or request.scope.get("user")
        gaps: list[str] = []
        try:
            found = await service.view_invitation(token)
        except DomainError:
            found = None
        if found is None:
            state, status_code = "unknown", 404
        elif found.status == "accepted" and user is not None and user.email.lower() == found.email:
            state = "accepted_by_you"
        elif user is not None and user.email.lower() != found.email:
            state, status_code = "wrong_account", 403
        elif found.status != "pending":
            state, status_code = found.status, 410
        elif user is not None:
            # The contest's rules need parts of the profile first: the invitation waits meanwhile.
            gaps = await service.invitation_profile_gaps(user, token)
            state = "complete_profile" if gaps else "accept"
        elif found.has_account:
            state = "log_in"
        else:
            state = "create_account"
        if state == "declined" and request.query_params.get("done") == "declined":
            status_code = 200  # the answer to your own decline
        contest = await events.get_event(None, found.event_id) if found else None
        return _page(
            request,
            "teams/invitation.html.jinja",
            status_code=status_code,
            state=state,
            invitation=found,
            contest=contest,
            token=token,
            login_link=login_url(f"/team-invitations/{token}"),
            form=form or Form("accept-"),
            profile_gaps=gaps,
        )

    @post("/team-invitations/{token:str}/accept")
    async def accept(self, request: Request, token: TokenPath) -> Response:
        """Take the seat; without a login, a name and password create the account (logged in at once,
        and kept when the contest's rules ask for the profile first: the page then says what to fill in)."""
        posted = await _posted(request)
        user = request.scope.get("user")
        created: int | None = None
        try:
            if user is None:
                if posted.get("password", "") != posted.get("password_again", ""):
                    raise DomainError(
                        "validation_error",
                        "The two passwords differ.",
                        fields={"password_again": "The two passwords differ."},
                    )
                data = decode(
                    TeamAcceptIn,
                    {k: posted.get(k, "") for k in ("display_name", "password")},
                )
                created = await service.create_invited_account(token, data)
                user = await load_principal(created, "session")
            seat = await service.accept_invitation(user, token)
        except (FormErrors, DomainError) as exc:
            profile_first = isinstance(exc, DomainError) and exc.code == "profile_incomplete"
            values = {"display_name": posted.get("display_name", "")}
            form = None if profile_first else _refused(request, exc, "accept-", values)
            status = 200 if profile_first and created else getattr(exc, "status_code", 400)
            response: Response = await self._invitation(request, token, status, form, user)
        else:
            response = _redirect(f"/teams/{seat.team_id}", "joined")
        if created is not None:
            await start_session(request, response, created)
        return response

    @post("/team-invitations/{token:str}/decline")
    async def decline(self, request: Request, token: TokenPath) -> Response:
        """Say no: the seat is freed."""
        try:
            await service.decline_invitation(request.scope.get("user"), token)
        except DomainError as exc:
            return await self._invitation(
                request, token, exc.status_code, _refused(request, exc, "accept-", {})
            )
        return _redirect(f"/team-invitations/{token}", "declined")
