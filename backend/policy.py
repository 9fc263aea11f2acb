"""Who may do what: the caller as the rest of Podium sees it, and the one set of rules that decides.

Framework-free on purpose: guards, services and pages all ask :func:`decide`, so a rule is written
once and holds on every path. The rules:

- A platform admin may do everything.
- Anyone, even anonymous, may see a published event (status other than ``draft``) with its tracks,
  stages and sessions. A draft is visible only to platform admins and the event's organizers
  (any organizer grant, scoped or not); to everyone else it does not exist (404, never 403).
- An organizer grant without a scope runs the whole event: edits, status changes, structure, and
  reads its audit trail.
- An organizer grant narrowed to a track, a region or an institution is a *scoped admin*: it sees
  the event, edits only what lies inside its scope (its own track), and sees, grants and revokes
  roles only inside its scope. A grant can never create a grant wider than its holder's.
- Other roles (judge, check-in staff, team member, exhibitor, mentor) give no rights over the event
  itself; the services that use them (judging, tickets, teams) add their own actions here.
- Events belong to an organization. An organization-level grant reaches every event of the
  organization: ``organizer`` runs them all like an unscoped organizer, ``org_admin`` also creates
  the organization's events, archives them and grants and revokes the organization's own roles.
- Organizations, the directory and user accounts belong to platform admins.
- Teams (``backend.teams``): any signed-in user may register a team in a visible contest (the
  contest's rules decide the rest). A team is private: its confirmed members and advisors see it, its
  leader manages it, and organizers see, manage and review it when their scope covers the team's
  (track, region and institution of the team), so a school admin sees their own school's teams only.
  To everyone else a team does not exist (404).
- Judging (``judging``): the event's whole-event organizers set judging up and run it (rubrics,
  judges, rooms, assignment, locking, ranking, publication, prizes, appeals' answers); scoped admins
  see judging within their scope (entries, sheets, results, exports) and recommend their own teams to
  the next stage. A score sheet belongs to its judge: only the judge holding an active assignment may
  submit or change it (not even a platform admin in their place); to anyone else the assignment does
  not exist. A team's leader files its appeal. A judge of the event declares their own conflicts of
  interest; its whole-event organizers record any judge's.
- Tickets and check-in (``ticketing``): the event's whole-event organizers run ticketing (ticket
  types, issuing, revoking, reissuing and transferring tickets, signing keys, badges) and check-in
  (lists, devices, conflicts). Check-in staff of the event and its whole-event organizers scan
  tickets and watch attendance. A ticket is its holder's: they and the whole-event organizers see it,
  its code and its badge; to anyone else it does not exist. A scanning *device* is not a person: its
  token (``Principal.device``) reaches only the scanning endpoints, on its own event's lists, which
  ``ticketing.access`` checks.
- Incubation (``incubator``): programmes belong to an organization, whose admins and organizers
  create them and are their managers, as are the people granted ``manager`` in one programme.
  Managers run a programme (cohorts, admissions, mentors, schedules, milestones, support) and see
  every startup's file, financials included. The programme's ``viewer``s (an alliance's or a
  funder's people) read its dashboards and impact report: aggregates, never a startup's file. A
  startup's founders act for it (reports, what its mentors see, bookings, evidence): their data
  is theirs, so managers read it but do not file it. A mentor in the programme's directory offers
  office hours and mentors the startups they are connected to: they see those startups' files,
  operations and financials only as far as the founders share them, and log their meetings. A
  mentor's private notes are their own: no one else reads them, not even a platform admin
  (``incubator.meetings`` selects them for their author only). What founders and mentors do in
  person (file a report, log a meeting, offer office hours) no platform admin does in their place. To anyone with no role in the
  programme, it and its startups do not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backend.accounts.tables import RoleGrant
from backend.errors import Forbidden, NotFound
from backend.events.tables import Event
from backend.organizations.tables import Organization

ORGANIZER = "organizer"
ORG_ADMIN = "org_admin"
DRAFT = "draft"
JUDGE = "judge"
CHECKIN_STAFF = "checkin_staff"


@dataclass(frozen=True)
class DeviceIdentity:
    """A scanning device acting through its own token: its event, the lists it may scan and the gate
    its admissions show."""

    device_id: int
    event_id: int
    lists: frozenset[int]
    gate: str


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: int
    email: str
    display_name: str
    locale: str
    is_platform_admin: bool
    via: str  # "session" or "token"
    token_id: int | None = None  # the bearer token's id (``via == "token"``)
    scopes: frozenset[str] = frozenset({"read", "write", "device"})  # a session holds every TokenScope
    device: DeviceIdentity | None = None  # a scanning device's token (then ``id`` is 0, no account)


class Action(StrEnum):
    view_event = "view_event"  # the event, its tracks, stages and sessions
    create_organization = "create_organization"
    view_organization = "view_organization"  # its people and its drafts, in the workspace
    manage_organization = "manage_organization"  # its names, and its organization-level roles
    create_event = "create_event"  # in an organization
    edit_event = "edit_event"  # names, dates, venue, time zone
    run_event = "run_event"  # open, start, close
    archive_event = "archive_event"
    edit_structure = "edit_structure"  # add, change and remove tracks, stages and sessions
    edit_track = "edit_track"  # one track's settings: also its scoped admins
    view_roles = "view_roles"  # within the holder's scope
    manage_roles = "manage_roles"  # grant and revoke within the holder's scope
    manage_directory = "manage_directory"  # institutions
    manage_users = "manage_users"
    view_audit = "view_audit"  # the event's audit trail: who changed what, when, from where
    register_team = "register_team"  # create a team in a contest (its rules decide eligibility)
    view_team = "view_team"  # a team's page, members, advisors and materials
    manage_team = "manage_team"  # change a team: members, advisors, names, withdrawal
    submit_materials = "submit_materials"  # upload a team's materials
    view_teams = "view_teams"  # the organizers' lists, counts and exports, within their scope
    review_team = "review_team"  # approve or reject a registration, within the organizer's scope
    import_teams = "import_teams"  # bulk import, each row within the organizer's scope
    manage_own_account = "manage_own_account"  # one's own profile, consents, data export and erasure
    configure_judging = (
        "configure_judging"  # set up and run a stage's judging, publish, award, answer appeals
    )
    view_judging = "view_judging"  # entries, sheets, results, diagnostics and exports, within scope
    recommend_teams = "recommend_teams"  # propose teams of one's scope to the next stage
    score_entry = "score_entry"  # see an assigned entry and submit or change one's own sheet for it
    file_appeal = "file_appeal"  # a team leader's appeal against a published ranking
    declare_conflict = "declare_conflict"  # a judge's own conflicts of interest (organizers: any judge's)
    manage_tickets = "manage_tickets"  # ticket types, issue, revoke, reissue, transfer, keys, badges
    manage_checkin = "manage_checkin"  # check-in lists and their rules, devices, offline conflicts
    scan_tickets = "scan_tickets"  # scan at a gate, the scanner page and its offline bundle
    view_attendance = "view_attendance"  # live counts, arrival curves, session attendance, exports
    view_ticket = "view_ticket"  # one ticket, its code and badge: its holder and the organizers
    create_programme = "create_programme"  # an incubation programme of an organization
    manage_programme = "manage_programme"  # cohorts, admissions, mentors, schedules, milestones, support
    view_programme = "view_programme"  # its dashboards and impact report: managers and viewers
    offer_office_hours = "offer_office_hours"  # a mentor of the programme: their own slots and profile
    view_mentor_directory = "view_mentor_directory"  # the programme's mentors: managers, mentors, founders
    view_startup = "view_startup"  # a startup's file: its managers, founders and connected mentors
    view_startup_operations = "view_startup_operations"  # headcount, jobs, customers, patents
    view_startup_financials = "view_startup_financials"  # revenue, GMV, funding, financial metrics
    act_for_startup = "act_for_startup"  # its founders: reports, sharing, bookings, evidence
    mentor_startup = "mentor_startup"  # its connected mentors: meetings, private notes, action items


class Outcome(StrEnum):
    allowed = "allowed"
    unauthenticated = "unauthenticated"  # log in first (401)
    hidden = "hidden"  # the object does not exist for this caller (404)
    forbidden = "forbidden"  # visible, but not yours to change (403)


@dataclass(frozen=True)
class Scope:
    """What a grant covers inside its event; ``None`` in a dimension means all of it."""

    track_id: int | None = None
    region: str | None = None
    institution_id: int | None = None

    @property
    def is_whole_event(self) -> bool:
        return self.track_id is None and self.region is None and self.institution_id is None

    def contains(self, other: Scope) -> bool:
        """Whether everything ``other`` covers lies inside this scope."""
        return all(
            mine is None or mine == theirs
            for mine, theirs in (
                (self.track_id, other.track_id),
                (self.region, other.region),
                (self.institution_id, other.institution_id),
            )
        )


WHOLE_EVENT = Scope()


@dataclass(frozen=True)
class Grant:
    role: str
    scope: Scope = WHOLE_EVENT


@dataclass(frozen=True)
class EventContext:
    """An event as the policy needs it: its status, its organization and the caller's grants in it
    (organization-level grants included, see :func:`event_context`)."""

    event_id: int
    status: str
    grants: tuple[Grant, ...] = ()
    organization_id: int | None = None

    def organizer_scopes(self) -> list[Scope]:
        return [g.scope for g in self.grants if g.role == ORGANIZER]

    @property
    def by_organization_admin(self) -> bool:
        return any(g.role == ORG_ADMIN for g in self.grants)


@dataclass(frozen=True)
class TeamContext:
    """A team as the policy needs it: where it sits in its event (``scope``: its track, region and
    institution) and who is in it (confirmed members and advisors, the leader included)."""

    team_id: int
    scope: Scope
    leader_id: int | None
    member_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class AssignmentContext:
    """A judge's assignment as the policy needs it: whose it is and whether it is live (active, in
    a stage whose assignment is published)."""

    judge_id: int
    live: bool


@dataclass(frozen=True)
class TicketContext:
    """A ticket as the policy needs it: whose it is (``None`` for a holder without an account)."""

    holder_id: int | None


@dataclass(frozen=True)
class StartupStanding:
    """How the caller stands to one startup: a founder, a mentor connected to it, and what its
    founders share with its mentors."""

    founder: bool = False
    mentor: bool = False
    operations_shared: bool = True
    financials_shared: bool = False


@dataclass(frozen=True)
class ProgrammeContext:
    """An incubation programme as the policy needs it: the caller's roles in it (``manager``,
    ``viewer``, ``mentor`` when in its directory, ``founder`` when founding one of its startups) and,
    for a startup's actions, how the caller stands to that startup."""

    programme_id: int
    roles: frozenset[str] = frozenset()
    startup: StartupStanding | None = None


@dataclass(frozen=True)
class OrganizationContext:
    """An organization and the caller's organization-level roles in it."""

    organization_id: int
    roles: frozenset[str] = frozenset()


_PLATFORM_ONLY = frozenset({Action.create_organization, Action.manage_directory, Action.manage_users})
_ORGANIZATION_ACTIONS = {
    Action.view_organization: frozenset({ORG_ADMIN, ORGANIZER}),
    Action.manage_organization: frozenset({ORG_ADMIN}),
    Action.create_event: frozenset({ORG_ADMIN}),
    Action.create_programme: frozenset({ORG_ADMIN, ORGANIZER}),
}
_WHOLE_EVENT_ORGANIZER = frozenset(
    {
        Action.edit_event,
        Action.run_event,
        Action.edit_structure,
        Action.view_audit,
        Action.configure_judging,
        Action.manage_tickets,
        Action.manage_checkin,
    }
)
_CHECKIN_STAFF_ACTIONS = frozenset({Action.scan_tickets, Action.view_attendance})
_SCOPED_ORGANIZER = frozenset(
    {
        Action.edit_track,
        Action.view_roles,
        Action.manage_roles,
        Action.view_teams,
        Action.review_team,
        Action.import_teams,
        Action.view_judging,
        Action.recommend_teams,
    }
)
_TEAM_ACTIONS = frozenset({Action.view_team, Action.manage_team, Action.submit_materials})
MANAGER = "manager"
VIEWER = "viewer"
MENTOR = "mentor"
FOUNDER = "founder"
_PROGRAMME_ACTIONS = {  # action → the programme roles allowed it
    Action.manage_programme: frozenset({MANAGER}),
    Action.view_programme: frozenset({MANAGER, VIEWER}),
    Action.offer_office_hours: frozenset({MENTOR}),
    Action.view_mentor_directory: frozenset({MANAGER, MENTOR, FOUNDER}),
}
_PERSONAL_PROGRAMME_ACTIONS = frozenset(
    {Action.offer_office_hours, Action.act_for_startup, Action.mentor_startup}
)
_STARTUP_ACTIONS = frozenset(
    {
        Action.view_startup,
        Action.view_startup_operations,
        Action.view_startup_financials,
        Action.act_for_startup,
        Action.mentor_startup,
    }
)


def may_see(principal: Principal | None, event: EventContext) -> bool:
    if event.status != DRAFT:
        return True
    if principal is None:
        return False
    return principal.is_platform_admin or bool(event.organizer_scopes())


def decide(
    principal: Principal | None,
    action: Action,
    event: EventContext | None = None,
    target: Scope | None = None,
    organization: OrganizationContext | None = None,
    team: TeamContext | None = None,
    assignment: AssignmentContext | None = None,
    ticket: TicketContext | None = None,
    programme: ProgrammeContext | None = None,
) -> Outcome:
    """May ``principal`` do ``action`` (inside ``event`` for event actions, ``organization`` for
    organization actions, ``team`` too for team actions, ``assignment`` for scoring, ``ticket`` for
    one ticket, ``programme`` for incubation, with its ``startup`` standing for a startup's actions)?

    ``target`` is the part of the event acted on (a track, or the scope of a grant being given or
    taken); ``None`` asks whether the caller may do it to some part of the event, which is the
    route-level question before a service narrows it to the object. Organizations are public (their
    names appear on their events), so refusing an organization action is a 403, never a 404.
    """
    if action is Action.view_event:
        assert event is not None, "view_event needs the event"
        return Outcome.allowed if may_see(principal, event) else Outcome.hidden
    if principal is None:
        return Outcome.unauthenticated
    if principal.device is not None:  # a device's token: scanning on its own lists only (ticketing.access)
        return Outcome.forbidden
    if action is Action.score_entry:
        assert assignment is not None, "score_entry needs the assignment"
        mine = assignment.live and assignment.judge_id == principal.id
        return Outcome.allowed if mine else Outcome.hidden
    if action in _PERSONAL_PROGRAMME_ACTIONS:  # a founder's or a mentor's own: not a platform admin's
        assert programme is not None, f"{action} needs the programme"
        outcome = _decide_programme(action, programme)
        hidden = outcome is Outcome.hidden and principal.is_platform_admin
        return Outcome.forbidden if hidden else outcome
    if principal.is_platform_admin or action is Action.manage_own_account:
        return Outcome.allowed
    if action in _ORGANIZATION_ACTIONS:
        holders = _ORGANIZATION_ACTIONS[action]
        return Outcome.allowed if organization and organization.roles & holders else Outcome.forbidden
    if action in _PROGRAMME_ACTIONS or action in _STARTUP_ACTIONS:
        assert programme is not None, f"{action} needs the programme"
        return _decide_programme(action, programme)
    if event is None or action in _PLATFORM_ONLY:
        return Outcome.forbidden
    if not may_see(principal, event):
        return Outcome.hidden
    scopes = event.organizer_scopes()
    if action is Action.register_team:
        return Outcome.allowed
    if action is Action.file_appeal:
        assert team is not None, "file_appeal needs the team"
        if principal.id == team.leader_id:
            return Outcome.allowed
        covered = principal.id in team.member_ids or any(s.contains(team.scope) for s in scopes)
        return Outcome.forbidden if covered else Outcome.hidden
    if action is Action.declare_conflict:
        judge = any(g.role == JUDGE for g in event.grants)
        return Outcome.allowed if judge or any(s.is_whole_event for s in scopes) else Outcome.forbidden
    if action is Action.view_ticket:
        assert ticket is not None, "view_ticket needs the ticket"
        if principal.id == ticket.holder_id or any(s.is_whole_event for s in scopes):
            return Outcome.allowed
        return Outcome.hidden
    if action in _CHECKIN_STAFF_ACTIONS:
        staff = any(g.role == CHECKIN_STAFF for g in event.grants)
        return Outcome.allowed if staff or any(s.is_whole_event for s in scopes) else Outcome.forbidden
    if action in _TEAM_ACTIONS or (action is Action.review_team and team is not None):
        return _decide_team(principal, action, scopes, team)
    if action is Action.archive_event:
        return Outcome.allowed if event.by_organization_admin else Outcome.forbidden
    if action in _WHOLE_EVENT_ORGANIZER:
        return Outcome.allowed if any(s.is_whole_event for s in scopes) else Outcome.forbidden
    if action in _SCOPED_ORGANIZER:
        covered = any(target is None or s.contains(target) for s in scopes)
        return Outcome.allowed if covered else Outcome.forbidden
    return Outcome.forbidden


def _decide_team(
    principal: Principal, action: Action, scopes: list[Scope], team: TeamContext | None
) -> Outcome:
    assert team is not None, f"{action} needs the team"
    if any(s.contains(team.scope) for s in scopes):
        return Outcome.allowed
    if action is Action.review_team:
        return Outcome.hidden if principal.id not in team.member_ids else Outcome.forbidden
    if principal.id == team.leader_id:
        return Outcome.allowed
    if principal.id in team.member_ids:
        return Outcome.forbidden if action is Action.manage_team else Outcome.allowed
    return Outcome.hidden


def _decide_programme(action: Action, programme: ProgrammeContext) -> Outcome:
    roles = programme.roles
    if action in _PROGRAMME_ACTIONS:
        if roles & _PROGRAMME_ACTIONS[action]:
            return Outcome.allowed
        return Outcome.forbidden if roles else Outcome.hidden
    standing = programme.startup
    assert standing is not None, f"{action} needs the caller's standing to the startup"
    manager, founder, mentor = MANAGER in roles, standing.founder, standing.mentor
    if not (manager or founder or mentor):
        return Outcome.hidden
    allowed = {
        Action.view_startup: True,
        Action.view_startup_operations: manager or founder or standing.operations_shared,
        Action.view_startup_financials: manager or founder or standing.financials_shared,
        Action.act_for_startup: founder,
        Action.mentor_startup: mentor,
    }[action]
    return Outcome.allowed if allowed else Outcome.forbidden


_DENIED_DETAIL = {
    Action.create_organization: "Only platform admins create organizations",
    Action.view_organization: "Only the organization's admins and organizers may see this",
    Action.manage_organization: "Only the organization's admins may change it or its roles",
    Action.create_event: "Only the organization's admins create its events",
    Action.archive_event: "Only the organization's admins archive its events",
    Action.manage_directory: "Only platform admins edit the directory",
    Action.manage_users: "Only platform admins manage accounts",
    Action.edit_event: "Only the event's organizers may change it",
    Action.run_event: "Only the event's organizers may change its status",
    Action.edit_structure: "Only the event's organizers may change its structure",
    Action.edit_track: "Only the event's organizers and the track's admins may change it",
    Action.view_roles: "Only the event's organizers may see its roles",
    Action.manage_roles: "Only the event's organizers may grant roles, and only within their own scope",
    Action.view_audit: "Only the event's organizers may read its audit trail",
    Action.manage_team: "Only the team's leader may change the team",
    Action.view_teams: "Only the event's organizers may see its teams, and only within their scope",
    Action.review_team: "Only the event's organizers may review teams, and only within their scope",
    Action.import_teams: "Only the event's organizers may import teams, and only within their scope",
    Action.configure_judging: "Only the event's organizers may set up and run its judging",
    Action.view_judging: "Only the event's organizers may see its judging, and only within their scope",
    Action.recommend_teams: "Only the event's organizers may recommend teams, and only within their scope",
    Action.file_appeal: "Only the team's leader may file its appeal",
    Action.declare_conflict: "Only the event's judges declare conflicts of interest, and organizers record them",
    Action.manage_tickets: "Only the event's organizers may issue and change its tickets",
    Action.manage_checkin: "Only the event's organizers may set up its check-in",
    Action.scan_tickets: "Only the event's check-in staff and organizers may scan its tickets",
    Action.view_attendance: "Only the event's check-in staff and organizers may see its attendance",
    Action.create_programme: "Only the organization's admins and organizers create its programmes",
    Action.manage_programme: "Only the programme's managers may change it",
    Action.view_programme: "Only the programme's managers and viewers may see its dashboards",
    Action.offer_office_hours: "Only the programme's mentors offer office hours",
    Action.view_mentor_directory: "Only the programme's managers, mentors and founders see its mentors",
    Action.view_startup_operations: "The founders have not shared these figures with mentors",
    Action.view_startup_financials: "The founders have not shared their financials with mentors",
    Action.act_for_startup: "Only the startup's founders may do this: its data is theirs",
    Action.mentor_startup: "Only the startup's mentors may do this",
}


def refuse_unless_allowed(outcome: Outcome, action: Action, what: str = "Event") -> None:
    """Raise the domain error for a refusal (404 for hidden, 403 for forbidden); return when allowed.

    Unauthenticated callers are the web layer's business (a 401 or a login redirect): the guards
    handle them before services are reached.
    """
    if outcome is Outcome.hidden:
        raise NotFound(what)
    if outcome is not Outcome.allowed:
        raise Forbidden(_DENIED_DETAIL.get(action, "You do not have permission to do this"))


def require(
    principal: Principal,
    action: Action,
    event: EventContext | None = None,
    target: Scope | None = None,
    organization: OrganizationContext | None = None,
    team: TeamContext | None = None,
    assignment: AssignmentContext | None = None,
    ticket: TicketContext | None = None,
    programme: ProgrammeContext | None = None,
) -> None:
    """:func:`decide`, raising when refused: what services call for object-level checks."""
    what = "Assignment" if assignment is not None else "Team" if team is not None else "Event"
    what = "Ticket" if ticket is not None else what
    if programme is not None:
        what = "Startup" if programme.startup is not None else "Programme"
    outcome = decide(principal, action, event, target, organization, team, assignment, ticket, programme)
    refuse_unless_allowed(outcome, action, what)


def within_scope(principal: Principal, event: EventContext, scopes: Iterable[Scope]) -> list[bool]:
    """For each of ``scopes`` (e.g. the grants of a role list), whether the caller's organizer
    grants cover it: what a scoped admin may see of the people of an event."""
    if principal.is_platform_admin:
        return [True for _ in scopes]
    mine = event.organizer_scopes()
    return [any(s.contains(other) for s in mine) for other in scopes]


# Loading what the rules need --------------------------------------------------------------------


def _grant(row: dict[str, Any]) -> Grant:
    return Grant(row["role"], Scope(row["track"], row["region"], row["institution"]))


def _organization_grants(role: str) -> tuple[Grant, ...]:
    """What an organization-level grant means inside each of the organization's events."""
    return (Grant(ORGANIZER), Grant(ORG_ADMIN)) if role == ORG_ADMIN else (Grant(ORGANIZER),)


async def event_context(principal: Principal | None, event_id: int) -> EventContext | None:
    """The event's status and organization and the caller's grants in it (those held on its
    organization included), or ``None`` when there is no such event.

    Anonymous callers and platform admins cost one query; everyone else two small indexed ones.
    """
    row = await Event.select(Event.status, Event.organization).where(Event.id == event_id).first()
    if row is None:
        return None
    grants: list[Grant] = []
    if principal is not None and not principal.is_platform_admin:
        rows = await RoleGrant.select(
            RoleGrant.role, RoleGrant.track, RoleGrant.region, RoleGrant.institution, RoleGrant.event
        ).where(
            (RoleGrant.user == principal.id)
            & ((RoleGrant.event == event_id) | (RoleGrant.organization == row["organization"]))
        )
        for r in rows:
            grants.extend((_grant(r),) if r["event"] is not None else _organization_grants(r["role"]))
    return EventContext(event_id, row["status"], tuple(grants), row["organization"])


async def organization_context(
    principal: Principal | None, organization_id: int
) -> OrganizationContext | None:
    """The caller's organization-level roles in the organization, or ``None`` when there is none."""
    if not await Organization.exists().where(Organization.id == organization_id):
        return None
    roles: frozenset[str] = frozenset()
    if principal is not None and not principal.is_platform_admin:
        rows = await RoleGrant.select(RoleGrant.role).where(
            (RoleGrant.user == principal.id) & (RoleGrant.organization == organization_id)
        )
        roles = frozenset(r["role"] for r in rows)
    return OrganizationContext(organization_id, roles)


async def my_organization_ids(principal: Principal) -> list[int]:
    """Organizations in which the caller holds an organization-level grant."""
    rows = await RoleGrant.select(RoleGrant.organization).where(
        (RoleGrant.user == principal.id) & RoleGrant.organization.is_not_null()
    )
    return sorted({r["organization"] for r in rows})


async def organized_event_ids(principal: Principal) -> list[int]:
    """Events in which the caller holds an organizer grant of any scope, directly or through their
    organization (their drafts are visible)."""
    rows = await RoleGrant.select(RoleGrant.event).where(
        (RoleGrant.user == principal.id) & (RoleGrant.role == ORGANIZER) & RoleGrant.event.is_not_null()
    )
    ids = {r["event"] for r in rows}
    organizations = await my_organization_ids(principal)
    if organizations:
        rows = await Event.select(Event.id).where(Event.organization.is_in(organizations))
        ids.update(r["id"] for r in rows)
    return sorted(ids)
