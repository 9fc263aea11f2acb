"""Domain errors with stable machine codes: framework-free, raised by services and the policy.

:mod:`backend.http_errors` turns them (and every other failure) into ``{"code", "detail", "fields"}``,
in the reader's language: ``detail`` and each message of ``fields`` are English message ids with
``{name}`` placeholders filled from ``params`` (never f-strings, or no catalogue can translate them),
translated through ``backend/translations/<locale>/LC_MESSAGES/*.po`` like the pages. A param that is
a :class:`Term` (an event status, the kind of object) is translated too.
"""

from __future__ import annotations

import re

# Every stable error code a client can receive, with its meaning. Clients branch on these strings,
# so a code is added here (one line) before it is raised, and never renamed. Listed in OpenAPI.
CODES: dict[str, str] = {
    # Protocol level: any endpoint
    "bad_request": "The request is malformed (unreadable body, bad path or header)",
    "validation_error": "A field of the body, query or path is invalid; `fields` names each",
    "not_authenticated": "Log in or send a valid bearer token",
    "invalid_credentials": "The e-mail or password is wrong",
    "forbidden": "The caller may not do this",
    "csrf_failed": "A cookie-authenticated write lacks a valid CSRF token",
    "session_required": "This needs the site's login session (the back office); bearer tokens are refused",
    "not_found": "The object or route does not exist (or is not visible to the caller)",
    "method_not_allowed": "The route does not accept this HTTP method",
    "conflict": "The request conflicts with the current state",
    "payload_too_large": "The body is larger than the server accepts",
    "unsupported_media_type": "The body must be application/json (or a form, for pages)",
    "rate_limited": "Too many attempts; wait and retry",
    "http_error": "Another client error without a more specific code",
    "server_error": "The server could not answer (e.g. a dependency is down)",
    "internal_error": "An unexpected fault on the server; it has been logged",
    "font_missing": "A document needs a font the server lacks (a CJK font); `detail` names the package to install",
    # Accounts and roles
    "email_taken": "An account with this e-mail exists",
    "cannot_demote_self": "A platform admin cannot remove their own admin rights",
    "cannot_deactivate_self": "A user cannot deactivate their own account",
    "unknown_user": "The referenced user does not exist",
    "unknown_track": "The referenced track is not part of this event",
    "unknown_institution": "The referenced institution does not exist",
    "role_exists": "The user already holds this role with this scope",
    "insufficient_scope": "The bearer token lacks the scope this operation needs (read, write or device)",
    "token_exceeds_parent": "A token cannot make a token with more scopes or a longer life than its own",
    "wrong_password": "The current password given to change it is wrong",
    # Invitations (roles offered by e-mail)
    "invitation_closed": "The invitation was already accepted or revoked",
    "invitation_wrong_account": "The invitation is for another e-mail address than the logged-in account's",
    "invitation_login_required": "An account with the invited e-mail exists: log in as it to accept",
    "invitation_used": "The invitation has already been accepted",
    "invitation_revoked": "The organizer withdrew the invitation",
    "invitation_expired": "The invitation has expired; the organizer can send it again",
    "organization_role": "The organization admin role is granted on an organization, not on one event",
    # Organizations
    "organization_slug_taken": "Another organization uses this slug",
    "unknown_organization": "The referenced organization does not exist",
    # Institutions
    "invalid_csv": "A row of an imported CSV file is wrong (the detail names the line)",
    # Events and their structure
    "name_required": "Give a name in at least one language",
    "invalid_time_zone": "The time zone is not an IANA zone name such as Asia/Shanghai",
    "invalid_dates": "The event ends before it starts",
    "slug_taken": "Another event uses this slug",
    "slug_digits_only": "An event's slug needs a letter or a hyphen (digits alone are read as its id in links)",
    "event_locked": "The event's status no longer allows set-up changes",
    "event_published": "This part can only be removed while the event is a draft",
    "invalid_transition": "The event's status does not allow this status change",
    "incomplete_structure": "A contest needs at least one track and one stage before it opens",
    "wrong_event_kind": "The operation does not apply to this kind of event",
    "invalid_team_size": "team_min is above team_max",
    "track_code_taken": "The event has a track with this code",
    "naive_datetime": "A date-time lacks its time zone offset",
    "invalid_deadlines": "Deadlines are out of order",
    "invalid_stage_order": "The stage's level cannot follow the previous stage's level",
    "invalid_times": "The session ends before it starts",
    "outside_event_dates": "The session falls outside the event's dates",
    # Self-service accounts (backend.accounts: sign-up, confirmation, reset, profile, consents, erasure)
    "terms_required": "Signing up needs the terms of use accepted",
    "email_unconfirmed": "The account's e-mail address is not confirmed yet (the link can be sent again)",
    "link_invalid": "The one-time link (confirmation or password reset) is unknown or was replaced",
    "link_used": "The one-time link has already been used",
    "link_expired": "The one-time link has expired; ask for a new one",
    "unknown_country": "The country is not an ISO 3166-1 alpha-2 code",
    "invalid_birth_date": "The date of birth is not possible",
    "invalid_graduation_year": "A graduate's graduation year lies in the future",
    "erasure_leads_team": "The account leads a team that is not withdrawn: hand the leadership over first",
    # Teams and the contests' registration rules (backend.teams.service, backend.teams.rules)
    "registration_not_open": "The contest is not taking registrations yet (or is not open)",
    "registration_closed": "The contest's registration deadline has passed",
    "member_changes_locked": "Members and advisors can no longer change (the contest's lock date has passed)",
    "team_withdrawn": "The team has withdrawn; it cannot change any more",
    "team_name_too_long": "The team name exceeds the contest's limit (`limit`)",
    "entry_title_too_long": "The entry title exceeds the contest's limit (`title_limit`)",
    "team_full": "The team has its maximum of members (`limit`), counting pending invitations",
    "advisors_full": "The team has its maximum of advisors of this kind (`limit`)",
    "advisor_position_taken": "Another advisor of the team has this place in the order",
    "advisor_entries_limit": "The advisor advises the most entries the contest allows (`limit`)",
    "first_advisor_limit": "The advisor is first advisor of the most entries the contest allows (`limit`)",
    "already_in_track": "The person already holds a seat in a team of this track",
    "already_in_contest": "The contest allows one team per person, and the person has one",
    "already_in_category": "The contest allows one team per person in each kind of track (`category`)",
    "already_in_team": "The address already has a seat, an invitation or a request in this team",
    "age_limit": "The person is older than the contest allows (`limit`)",
    "study_status_not_eligible": "The person's study status is not among the contest's (`statuses`)",
    "graduated_too_long_ago": "The person graduated longer ago than the contest allows (`limit` years)",
    "institution_not_eligible": "The team's institution is not of a country or kind the contest admits",
    "institution_required": "The contest admits listed institutions only: the team needs one",
    "past_winner": "The person won a prize at an earlier edition that the contest excludes (`prize`)",
    "profile_incomplete": "The contest's rules need a part of the profile that is empty (`missing`)",
    "invalid_join_code": "No team has this join code",
    "seat_not_pending": "The seat or request was already answered or freed",
    "leader_cannot_leave": "The leader hands over the leadership (or withdraws the team) instead of leaving",
    "leader_must_be_member": "Leadership goes to a confirmed member of the team only",
    # Materials (backend.teams.materials)
    "material_too_large": "The file is larger than its kind allows (`limit` MiB); nothing was kept",
    "not_a_pdf": "The file is not a PDF, judged from its content (not its name or declared type)",
    "materials_locked": "The stage's submission deadline has passed (`deadline`): its materials are closed",
    "invalid_video_link": "The video link is not an https:// address of a host",
    "summary_too_long": "The summary is longer than the limit (`max` characters)",
    "material_version_taken": "Another upload took this version number at the same moment; retry",
    # Organizers' review, exports and imports (backend.teams.review, backend.teams.imports)
    "approval_not_required": "The contest does not ask organizers to approve teams",
    "team_not_complete": "Only a complete team can be approved",
    "team_not_reviewable": "Only a complete or approved team can be rejected",
    "team_already_reviewed": "The team already has this decision",
    "review_note_required": "A rejection needs a note saying why",
    "invalid_spreadsheet": "The file is not a readable XLSX or CSV spreadsheet, or lacks the template's columns",
    "spreadsheet_too_large": "The spreadsheet has more rows, columns or bytes than an import accepts",
    "import_rows_invalid": "Rows of the import are wrong; `fields` names each as rows[<row>].<column>; nothing was imported",
    # Judging: every area (the stage's judging state: setup, scoring, locked, published)
    "judging_state": "The stage's judging state does not allow this change (`state` names it)",
    # Judging: set-up (judging.setup)
    "rubric_locked": "The rubric can no longer change: the stage has a score sheet (a new version is refused)",
    "panel_name_taken": "The stage has a room or panel with this name",
    "panel_in_use": "The room or panel still has entries or judges; move them first",
    "judge_exists": "The person is already a judge of this stage",
    "not_a_judge": "The person does not hold the event's judge role (invite them by e-mail)",
    "judge_has_sheets": "The judge has submitted score sheets in this stage; they cannot be removed",
    "not_first_stage": "Entries of a later stage come from advancement, not from registration",
    "sign_in_used": "The tablet sign-in code has already been used",
    "sign_in_expired": "The tablet sign-in code has expired; the organizer can make a new one",
    # Judging: assignment (judging.assign)
    "conflict_of_interest": "The judge has a conflict of interest with the entry (`kind`: institution, declared, advisor)",
    "assignment_exists": "The judge is already assigned to this entry",
    "assignment_infeasible": "No assignment satisfies the rules (judges, capacities, conflicts); `fields` names the entry at fault",
    "assignment_warnings": "The assignment run has conflicts or a split judge–entry graph; resend with accept_warnings",
    "assignment_scored": "The judge has already submitted a sheet for this assignment",
    "assignment_not_active": "The assignment was already removed or recused",
    "run_not_draft": "Only the stage's current draft assignment run can be published",
    # Judging: results, publication and appeals (judging.results)
    "ranking_not_done": "The ranking run has not finished (`status`: queued, running or failed)",
    "ranking_stale": "The ranking run is provisional or older than the stage's last lock; run it again",
    "rereview_not_requested": "The entry is not marked for re-review",
    "appeal_window_closed": "Appeals against the stage's ranking are closed (or the ranking is not published)",
    "appeal_exists": "The team has already appealed against this stage's ranking",
    "appeal_answered": "The appeal has already been answered or withdrawn",
    # Judging: scoring (judging.scoring)
    "stage_locked": "The stage is not scoring (set up, locked or published): sheets cannot be submitted or changed",
    "rubric_missing": "The stage has no rubric yet, so no sheet can be scored",
    "nonce_reused": "The nonce was already used for another sheet; each new submission needs a new nonce",
    # Judging: live finals (judging.live)
    "stage_not_live": "The stage is not a live final: it has no rooms to run",
    "live_phase": "The room's phase does not allow this step (`phase` names it), or no team is left to call",
    # Judging: advancement, prizes and certificates (judging.advancement)
    "skipped_level": "Teams advance to the next stage by position only; `next` names it",
    "no_advancement_rules": "The stage has no advancement rules yet (they name the next stage and the quotas)",
    "quota_exceeded": "A team does not fit the quotas; `rule` (total_full, region_full, institution_full, group_ratio), `subject`, `limit` and `used` say why; nothing was saved",
    "rank_order": "A better-ranked team of your scope that still fits the quotas is not recommended (`team`, `place`)",
    "already_recommended": "The team already has a live recommendation into the next stage",
    "recommendation_closed": "The recommendation was already accepted, withdrawn or refused",
    "tier_awarded": "The prize tier has been given; it can be renamed but not removed",
    "no_prize_tiers": "The stage has no prize tiers yet",
    "certificate_revoked": "The certificate was revoked",
    # Tickets (ticketing.tickets)
    "ticket_type_number_taken": "The event has a ticket type with this number",
    "ticket_type_in_use": "Tickets of this type exist: its number and kind cannot change, and it cannot be removed",
    "unknown_ticket_type": "The referenced ticket type is not one of this event's",
    "invalid_validity": "The validity dates cannot be signed into a code (out of order, or more than 255 days)",
    "holder_required": "A ticket needs a holder: an account, or a name and an e-mail address",
    "ticket_held": "The holder already has a valid ticket of this type",
    "ticket_revoked": "The ticket is revoked (or already was): issue a new one",
    "key_retired": "The signing key is already retired",
    "keys_exhausted": "The event has used all 16 signing key ids; no new key can be made",
    # Badges (ticketing.badges)
    "badges_not_ready": "The badge run has not finished; its zip is there once it is done",
    # Check-in lists and devices (ticketing.lists)
    "list_name_taken": "The event has a check-in list with this name",
    "list_archived": "The check-in list is archived: no scans on it (or it is already archived, or not archived when restored)",
    "list_mode_locked": "The list has admissions: its rules may not switch into or out of once-a-day counting",
    "device_revoked": "The scanning device is revoked; register a new one",
    # Incubator: meetings, private notes, action items (incubator.meetings)
    "budget_exceeded": "The meeting needs more of the mentor's hours with the startup than are left (`left` minutes)",
    "meeting_logged": "The meeting of this office-hour booking is already logged",
    "private_note_exists": "The meeting already has private notes",
    # (end of incubator.meetings codes)
    # Incubator: programmes, cohorts, admissions, startups and founders (incubator.programmes)
    "programme_slug_taken": "Another programme uses this slug",
    "programme_role_exists": "The person already holds this role in the programme",
    "no_account": "No account has this e-mail address: the person signs up first",
    "cohort_name_taken": "The programme has a cohort with this name",
    "cohort_full": "The cohort has too few places left for the startups admitted (`places`, `admitted`)",
    "places_below_admitted": "A cohort's places cannot drop below the startups it has admitted (`admitted`)",
    "team_admitted": "The team is already a startup of this programme",
    "founder_exists": "The person is already a founder of this startup",
    # (end of incubator.programmes codes)
    # Incubator: mentor directory, connections, office hours and bookings (incubator.mentoring)
    "mentor_exists": "The person is already in the programme's mentor directory",
    "mentor_connected": "The mentor is already connected to this startup or cohort",
    "mentor_inactive": "The mentor is inactive in the directory: reactivate them first",
    "mentor_not_connected": "The slot's mentor is not (or no longer) connected to this startup",
    "budget_below_used": "A mentor's hour budget cannot go below the minutes already used (`used`)",
    "slot_overlaps": "The mentor already offers a slot overlapping this time",
    "slot_in_past": "An office-hour slot must start in the future",
    "slot_cancelled": "The mentor cancelled this office-hour slot",
    "slot_taken": "Someone else booked this office-hour slot first",
    "booking_cancelled": "The booking is already cancelled",
    "cancellation_window_closed": "Founders may cancel until the programme's cancellation window (`hours` before the slot)",
    # (end of incubator.mentoring codes)
    # Incubator: schedules, periods, custom metrics, versioned reports (incubator.reports)
    "schedule_exists": "The cohort already has a report schedule",
    "period_exists": "The cohort already reports on a period starting then",
    "metric_key_taken": "The programme has a metric with this key (or it is a standard metric's)",
    "report_exists": "The period's report exists: submit a new version of it (expected_version)",
    "report_version_taken": "Another submission of the report took this version number; reload and submit again",
    "report_version_stale": "Another version of the report came first (`current`): reload it and submit again",
    "period_not_open": "The period has not begun yet: its report cannot be filed",
    # (end of incubator.reports codes)
    # Incubator: milestones, evidence, support promised and delivered (incubator.milestones)
    "milestone_state": "A milestone moves planned → in_progress → achieved or dropped (`current`, `wanted`); achieved and dropped are final",
    "evidence_type": "Evidence files must be PDF documents or PNG or JPEG images, judged from their content",
    "evidence_too_large": "The evidence file is larger than the limit (`limit` MiB); nothing was kept",
    "promise_withdrawn": "The support promise was withdrawn: nothing more is delivered on it",
    "delivery_exceeds_promise": "The delivery is more than is left of the promise (`left`)",
    # (end of incubator.milestones codes)
}


class Term(str):
    """A word of a fixed vocabulary put into a message (an event status, the kind of object): the
    reader's language translates it with its ``context`` (``pgettext(context, word)``)."""

    context: str

    def __new__(cls, word: str, context: str) -> Term:
        term = super().__new__(cls, word)
        term.context = context
        return term


def status_term(status: str) -> Term:
    """An event's status (``open``, ``running``...) as a word in a message."""
    return Term(status, "status")


class DomainError(Exception):
    """A rule was broken. ``code`` is stable for clients (one of :data:`CODES`); ``fields`` maps
    field names to messages. ``detail`` and the field messages are English message ids whose
    ``{name}`` placeholders ``params`` fill (see the module's docstring); ``.detail`` and ``.fields``
    hold the English text, ``.template`` and ``.field_templates`` the ids."""

    status_code = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status_code: int | None = None,
        fields: dict[str, str] | None = None,
        params: dict[str, object] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unregistered error code {code!r}: add it to backend.errors.CODES")
        self.code = code
        self.params = dict(params or {})
        self.template = detail
        self.field_templates = dict(fields or {})
        self.fields = {name: self._fill(message) for name, message in self.field_templates.items()}
        self.detail = self._fill(detail, problems=problems(self.fields))
        super().__init__(self.detail)
        if status_code is not None:
            self.status_code = status_code

    def _fill(self, template: str, **extra: object) -> str:
        return fill(template, {**extra, **self.params})


# The detail of an error about fields: ``{problems}`` is filled with every field and its message.
INVALID_INPUT = "Invalid input: {problems}"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, params: dict[str, object]) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``params``. Only plain names are
    replaced (no format specs, so a brace of user input in an old f-string cannot ask for a
    gigabyte of padding), and an unknown name stays as it is."""
    return _PLACEHOLDER.sub(lambda m: str(params[m[1]]) if m[1] in params else m[0], template)


def problems(fields: dict[str, str]) -> str:
    """``name: message; other: message`` for the ``{problems}`` placeholder of a detail."""
    return "; ".join(f"{name}: {message}" for name, message in fields.items())


class FieldChecks:
    """A service's checks of several fields, reported in one answer instead of one per request:
    ``add`` each problem as it is found, then ``raise_if_any()``. One problem raises its own error;
    several raise one with the first problem's code, every field's message and the detail
    :data:`INVALID_INPUT` (so the field messages must read on their own: "must not be before the
    start date"). The params of all problems share one namespace."""

    def __init__(self) -> None:
        self._problems: list[tuple[str, str, str, str, dict[str, object]]] = []

    def add(self, code: str, detail: str, field: str, message: str, **params: object) -> None:
        self._problems.append((code, detail, field, message, params))

    def raise_if_any(self, status_code: int | None = None) -> None:
        if not self._problems:
            return
        code, detail, *_ = self._problems[0]
        if len(self._problems) > 1:
            detail = INVALID_INPUT
        params = {k: v for *_, more in self._problems for k, v in more.items()}
        fields = {field: message for _, _, field, message, _ in self._problems}
        raise DomainError(code, detail, status_code=status_code, fields=fields, params=params)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str) -> None:
        super().__init__("not_found", "{what} not found", params={"what": Term(what, "object")})


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, detail: str = "You do not have permission to do this") -> None:
        super().__init__("forbidden", detail)


class CsrfFailed(DomainError):
    """A cookie-authenticated write without a valid CSRF token (raised by the CSRF middleware)."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("csrf_failed", "The form or request lacks a valid CSRF token")
