"""The policy's decisions, without HTTP or a database: who may do what to which part of an event."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

from backend.errors import DomainError
from backend.policy import (
    FOUNDER,
    MANAGER,
    MENTOR,
    VIEWER,
    WHOLE_EVENT,
    Action,
    AssignmentContext,
    DeviceIdentity,
    EventContext,
    Grant,
    OrganizationContext,
    Outcome,
    Principal,
    ProgrammeContext,
    Scope,
    StartupStanding,
    TeamContext,
    TicketContext,
    decide,
    require,
    within_scope,
)

PLATFORM_ACTIONS = [Action.create_organization, Action.manage_directory, Action.manage_users]
ORGANIZATION_ACTIONS = [
    Action.view_organization,
    Action.manage_organization,
    Action.create_event,
    Action.create_programme,
]
# incubation's, about one programme or startup: tested below
PROGRAMME_ACTIONS = {
    Action.manage_programme,
    Action.view_programme,
    Action.offer_office_hours,
    Action.view_mentor_directory,
    Action.view_startup,
    Action.view_startup_operations,
    Action.view_startup_financials,
    Action.act_for_startup,
    Action.mentor_startup,
}
# about one team (or, for register_team, open to everyone signed in): tested below
TEAM_ACTIONS = (Action.register_team, Action.view_team, Action.manage_team, Action.submit_materials)
EVENT_ACTIONS = [
    a
    for a in Action
    if a not in PLATFORM_ACTIONS
    and a not in ORGANIZATION_ACTIONS
    and a not in TEAM_ACTIONS
    and a is not Action.manage_own_account
    and a not in (Action.view_event, Action.archive_event)
    and a not in (Action.score_entry, Action.file_appeal)  # about one assignment or team: tested below
    and a is not Action.view_ticket  # about one ticket: tested below
    and a is not Action.declare_conflict  # a judge's own: tested below
    and a not in PROGRAMME_ACTIONS
]


def person(admin: bool = False) -> Principal:
    return Principal(
        id=7, email="p@example.org", display_name="P", locale="en", is_platform_admin=admin, via="session"
    )


def event(status: str = "draft", *grants: Grant) -> EventContext:
    return EventContext(event_id=1, status=status, grants=tuple(grants))


ORGANIZER = Grant("organizer")
ORG_ADMIN_GRANT = Grant("org_admin")  # event_context adds it (with ORGANIZER) for the organization's admins
TRACK_ADMIN = Grant("organizer", Scope(track_id=10))
JUDGE = Grant("judge")


PERSONAL = {Action.score_entry, Action.offer_office_hours, Action.act_for_startup, Action.mentor_startup}
STRANGER_TO_STARTUP = ProgrammeContext(1, startup=StartupStanding())


@pytest.mark.parametrize("action", [a for a in Action if a not in PERSONAL])
def test_platform_admins_may_do_everything_even_on_drafts(action):
    programme = STRANGER_TO_STARTUP  # ignored by every action that is not incubation's
    assert decide(person(admin=True), action, event("draft"), programme=programme) is Outcome.allowed


@pytest.mark.parametrize("action", sorted(PERSONAL - {Action.score_entry}))
def test_what_founders_and_mentors_do_in_person_no_admin_does_for_them(action):
    """Filing a startup's report, logging a mentor's meeting or offering a mentor's office hours:
    refused to a platform admin who is neither (403: they see the startup), allowed to one who is."""
    admin = person(admin=True)
    assert decide(admin, action, programme=STRANGER_TO_STARTUP) is Outcome.forbidden
    standing = StartupStanding(founder=True, mentor=True)
    both = ProgrammeContext(1, frozenset({MENTOR, FOUNDER}), standing)
    assert decide(admin, action, programme=both) is Outcome.allowed


def _startup(roles=(), **standing) -> ProgrammeContext:
    return ProgrammeContext(1, frozenset(roles), StartupStanding(**standing))


STARTUP_CALLERS = {  # who → the context of a startup as they see it
    "manager": _startup({MANAGER}),
    "viewer": _startup({VIEWER}),
    "founder": _startup({FOUNDER}, founder=True),
    "mentor": _startup({MENTOR}, mentor=True),
    "sharing_mentor": _startup({MENTOR}, mentor=True, financials_shared=True),
    "private_mentor": _startup({MENTOR}, mentor=True, operations_shared=False),
    "other_mentor": _startup({MENTOR}),  # in the directory, not connected to this startup
    "other_founder": _startup({FOUNDER}),  # founds another startup of the programme
    "stranger": _startup(),
}
A, F, H = Outcome.allowed, Outcome.forbidden, Outcome.hidden
STARTUP_TABLE = {  # action → expected outcome for each caller, in STARTUP_CALLERS' order
    Action.view_startup: (A, H, A, A, A, A, H, H, H),
    Action.view_startup_operations: (A, H, A, A, A, F, H, H, H),
    Action.view_startup_financials: (A, H, A, F, A, F, H, H, H),
    Action.act_for_startup: (F, H, A, F, F, F, H, H, H),
    Action.mentor_startup: (F, H, F, A, A, A, H, H, H),
}


@pytest.mark.parametrize("action", list(STARTUP_TABLE))
def test_a_startup_is_seen_by_its_managers_founders_and_mentors_within_what_founders_share(action):
    """Viewers read aggregates only; mentors see operations and financials only as shared; the data
    is the founders' to file, the meetings the mentors' to log; to strangers a startup does not exist."""
    for (who, programme), expected in zip(STARTUP_CALLERS.items(), STARTUP_TABLE[action], strict=True):
        assert decide(person(), action, programme=programme) is expected, who
    assert decide(None, action, programme=STARTUP_CALLERS["founder"]) is Outcome.unauthenticated


def test_a_programme_is_run_by_managers_read_by_viewers_and_hidden_from_strangers():
    def outcome(action, *roles):
        return decide(person(), action, programme=ProgrammeContext(1, frozenset(roles)))

    assert outcome(Action.manage_programme, MANAGER) is Outcome.allowed
    assert outcome(Action.manage_programme, VIEWER) is Outcome.forbidden
    assert outcome(Action.manage_programme, MENTOR, FOUNDER) is Outcome.forbidden
    assert outcome(Action.view_programme, VIEWER) is Outcome.allowed
    assert outcome(Action.view_programme, MENTOR) is Outcome.forbidden
    assert outcome(Action.offer_office_hours, MENTOR) is Outcome.allowed
    assert outcome(Action.offer_office_hours, MANAGER) is Outcome.forbidden
    assert outcome(Action.view_mentor_directory, FOUNDER) is Outcome.allowed
    assert outcome(Action.view_mentor_directory, VIEWER) is Outcome.forbidden
    for action in (Action.manage_programme, Action.view_programme, Action.offer_office_hours):
        assert outcome(action) is Outcome.hidden


def test_a_score_sheet_belongs_to_its_judge_alone():
    """Only the judge holding a live assignment scores it: not an admin or organizer in their place,
    and not the judge once the assignment has ended; to everyone else it does not exist."""
    me = person()
    live = AssignmentContext(judge_id=me.id, live=True)
    assert decide(me, Action.score_entry, assignment=live) is Outcome.allowed
    assert decide(me, Action.score_entry, assignment=AssignmentContext(me.id, False)) is Outcome.hidden
    admin = dataclasses.replace(person(admin=True), id=me.id + 1)
    assert decide(admin, Action.score_entry, assignment=live) is Outcome.hidden
    other = AssignmentContext(judge_id=me.id + 1, live=True)
    assert decide(me, Action.score_entry, event("running", ORGANIZER), assignment=other) is Outcome.hidden
    assert decide(None, Action.score_entry, assignment=live) is Outcome.unauthenticated


def test_only_a_team_leader_files_its_appeal():
    me = person()
    scope = Scope(track_id=10)
    led = TeamContext(team_id=1, scope=scope, leader_id=me.id, member_ids=frozenset({me.id}))
    joined = TeamContext(team_id=1, scope=scope, leader_id=me.id + 1, member_ids=frozenset({me.id}))
    stranger = TeamContext(team_id=1, scope=scope, leader_id=me.id + 1)
    running = event("running")
    assert decide(me, Action.file_appeal, running, team=led) is Outcome.allowed
    assert decide(me, Action.file_appeal, running, team=joined) is Outcome.forbidden
    assert decide(me, Action.file_appeal, running, team=stranger) is Outcome.hidden
    assert decide(me, Action.file_appeal, event("running", TRACK_ADMIN), team=stranger) is Outcome.forbidden


def test_judges_declare_their_conflicts_and_whole_event_organizers_record_them():
    """A judge grant of any scope lets its holder declare (the service keeps it to their own); a
    whole-event organizer records any judge's; scoped admins, other roles and strangers may not."""
    me = person()
    assert decide(me, Action.declare_conflict, event("running", JUDGE)) is Outcome.allowed
    assert (
        decide(me, Action.declare_conflict, event("running", Grant("judge", Scope(track_id=3))))
        is Outcome.allowed
    )
    assert decide(me, Action.declare_conflict, event("running", ORGANIZER)) is Outcome.allowed
    assert decide(me, Action.declare_conflict, event("running", TRACK_ADMIN)) is Outcome.forbidden
    for role in ("team_member", "checkin_staff", "exhibitor", "mentor"):
        assert decide(me, Action.declare_conflict, event("running", Grant(role))) is Outcome.forbidden
    assert decide(me, Action.declare_conflict, event("draft", JUDGE)) is Outcome.hidden
    assert decide(None, Action.declare_conflict, event("running")) is Outcome.unauthenticated


def test_a_ticket_is_its_holders_and_the_whole_event_organizers():
    """Its holder and whole-event organizers see a ticket; to a scoped admin, check-in staff or a
    stranger it does not exist."""
    me = person()
    mine, theirs, nameless = TicketContext(me.id), TicketContext(me.id + 1), TicketContext(None)
    running = event("running")
    assert decide(me, Action.view_ticket, running, ticket=mine) is Outcome.allowed
    assert decide(me, Action.view_ticket, event("running", ORGANIZER), ticket=nameless) is Outcome.allowed
    for grant in (TRACK_ADMIN, Grant("checkin_staff"), JUDGE):
        assert decide(me, Action.view_ticket, event("running", grant), ticket=theirs) is Outcome.hidden
    assert decide(me, Action.view_ticket, running, ticket=theirs) is Outcome.hidden
    assert decide(None, Action.view_ticket, running, ticket=mine) is Outcome.unauthenticated


def test_check_in_staff_scan_and_watch_attendance_but_set_nothing_up():
    staff = event("running", Grant("checkin_staff"))
    for action in (Action.scan_tickets, Action.view_attendance):
        assert decide(person(), action, staff) is Outcome.allowed
        assert decide(person(), action, event("running", TRACK_ADMIN)) is Outcome.forbidden
    for action in (Action.manage_tickets, Action.manage_checkin):
        assert decide(person(), action, staff) is Outcome.forbidden
        assert decide(person(), action, event("running", TRACK_ADMIN)) is Outcome.forbidden


def test_a_scanning_device_is_refused_every_policy_action():
    """A device's token is no person: scanning reaches it through ticketing.access, never the policy."""
    device = dataclasses.replace(
        person(admin=True), id=0, via="device", device=DeviceIdentity(1, 1, frozenset({1}), "Gate 3")
    )
    for action in Action:
        if action is not Action.view_event:
            outcome = decide(device, action, event("running", ORGANIZER), ticket=TicketContext(0))
            assert outcome is Outcome.forbidden, action


@pytest.mark.parametrize("role", ["judge", "team_member", "checkin_staff", "exhibitor", "mentor"])
def test_a_draft_does_not_exist_for_anyone_but_its_organizers(role):
    draft = event("draft", Grant(role))
    assert decide(None, Action.view_event, draft) is Outcome.hidden
    assert decide(person(), Action.view_event, draft) is Outcome.hidden
    for action in EVENT_ACTIONS:
        assert decide(person(), action, draft) is Outcome.hidden, action
    assert decide(person(), Action.view_event, event("draft", TRACK_ADMIN)) is Outcome.allowed


@pytest.mark.parametrize("status", ["open", "running", "closed", "archived"])
def test_published_events_are_public_but_not_editable(status):
    assert decide(None, Action.view_event, event(status)) is Outcome.allowed
    assert decide(None, Action.edit_event, event(status)) is Outcome.unauthenticated
    for action in EVENT_ACTIONS:
        assert decide(person(), action, event(status, JUDGE)) is Outcome.forbidden, action


def test_only_platform_admins_create_organizations_and_manage_the_directory_and_accounts():
    admin_everywhere = OrganizationContext(1, frozenset({"org_admin", "organizer"}))
    for action in PLATFORM_ACTIONS:
        assert decide(person(), action, event("running", ORGANIZER, ORG_ADMIN_GRANT)) is Outcome.forbidden
        assert decide(person(), action, organization=admin_everywhere) is Outcome.forbidden
        assert decide(person(), action) is Outcome.forbidden
        assert decide(None, action) is Outcome.unauthenticated


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (frozenset(), set()),
        (frozenset({"organizer"}), {Action.view_organization, Action.create_programme}),
        (frozenset({"org_admin"}), set(ORGANIZATION_ACTIONS)),
    ],
)
def test_organization_roles_decide_the_organization_actions(roles, allowed):
    """Organizations are public, so a refusal there is a 403, never a 404; and an organization
    action asked without the organization is refused."""
    for action in ORGANIZATION_ACTIONS:
        expected = Outcome.allowed if action in allowed else Outcome.forbidden
        assert decide(person(), action, organization=OrganizationContext(1, roles)) is expected, action
        assert decide(person(), action) is Outcome.forbidden
        assert decide(None, action, organization=OrganizationContext(1, roles)) is Outcome.unauthenticated


def test_only_the_organizations_admins_archive_its_events():
    assert (
        decide(person(), Action.archive_event, event("closed", ORGANIZER, ORG_ADMIN_GRANT)) is Outcome.allowed
    )
    assert decide(person(), Action.archive_event, event("closed", ORGANIZER)) is Outcome.forbidden
    assert decide(person(), Action.archive_event, event("draft", JUDGE)) is Outcome.hidden


def test_the_whole_event_organizer_runs_it():
    for action in EVENT_ACTIONS:
        assert decide(person(), action, event("draft", ORGANIZER), Scope(track_id=3)) is Outcome.allowed


def test_a_track_admin_works_inside_its_track_only():
    scoped = event("draft", TRACK_ADMIN)
    assert decide(person(), Action.edit_track, scoped, Scope(track_id=10)) is Outcome.allowed
    assert decide(person(), Action.edit_track, scoped, Scope(track_id=11)) is Outcome.forbidden
    for action in (Action.edit_event, Action.run_event, Action.edit_structure):
        assert decide(person(), action, scoped) is Outcome.forbidden
    # roles: inside the track, never the whole event (no self-promotion to an unscoped grant)
    assert (
        decide(person(), Action.manage_roles, scoped, Scope(track_id=10, region="Zhejiang"))
        is Outcome.allowed
    )
    assert decide(person(), Action.manage_roles, scoped, WHOLE_EVENT) is Outcome.forbidden
    assert decide(person(), Action.manage_roles, scoped, Scope(region="Zhejiang")) is Outcome.forbidden
    assert decide(person(), Action.view_roles, scoped) is Outcome.allowed


def test_require_raises_the_matching_domain_errors():
    with pytest.raises(DomainError) as hidden:
        require(person(), Action.edit_event, event("draft", JUDGE))
    assert (hidden.value.status_code, hidden.value.code) == (404, "not_found")
    with pytest.raises(DomainError) as forbidden:
        require(person(), Action.edit_event, event("open", TRACK_ADMIN))
    assert (forbidden.value.status_code, forbidden.value.code) == (403, "forbidden")
    require(person(), Action.edit_event, event("open", ORGANIZER))


def _random_scope(rng: random.Random) -> Scope:
    return Scope(
        rng.choice([None, 1, 2]), rng.choice([None, "Zhejiang", "Guangdong"]), rng.choice([None, 5, 6])
    )


def test_containment_is_a_partial_order_and_grants_never_widen():
    """Over every scope of a small universe: reflexive, antisymmetric, transitive; a holder may give
    exactly the grants its own scope contains, so a chain of grants can only narrow."""
    universe = [
        Scope(t, r, i)
        for t, r, i in itertools.product([None, 1, 2], [None, "Zhejiang", "Guangdong"], [None, 5, 6])
    ]
    for a in universe:
        assert a.contains(a)
        assert WHOLE_EVENT.contains(a)
        for b in universe:
            if a.contains(b) and b.contains(a):
                assert a == b
            for c in universe:
                if a.contains(b) and b.contains(c):
                    assert a.contains(c)
    rng = random.Random(20261128)
    for _ in range(500):
        holder = _random_scope(rng)
        chain = [holder]
        for _ in range(4):  # each holder grants the next an organizer role it is allowed to give
            context = event("open", Grant("organizer", chain[-1]))
            candidate = _random_scope(rng)
            if decide(person(), Action.manage_roles, context, candidate) is Outcome.allowed:
                assert chain[-1].contains(candidate)
                chain.append(candidate)
        assert all(holder.contains(s) for s in chain)


def test_within_scope_filters_what_a_scoped_admin_sees():
    scopes = [WHOLE_EVENT, Scope(track_id=10), Scope(track_id=10, region="Zhejiang"), Scope(track_id=11)]
    assert within_scope(person(), event("open", TRACK_ADMIN), scopes) == [False, True, True, False]
    assert within_scope(person(), event("open", ORGANIZER), scopes) == [True] * 4
    assert within_scope(person(admin=True), event("open"), scopes) == [True] * 4
    assert within_scope(person(), event("open", JUDGE), scopes) == [False] * 4


# Teams -----------------------------------------------------------------------------------------

TEAM_SCOPE = Scope(track_id=10, region="Zhejiang", institution_id=5)


def team(leader: int = 1, *members: int) -> TeamContext:
    return TeamContext(
        team_id=3, scope=TEAM_SCOPE, leader_id=leader, member_ids=frozenset({leader, *members})
    )


def test_anyone_signed_in_may_register_a_team_in_a_visible_contest_but_not_in_a_draft():
    assert decide(person(), Action.register_team, event("open")) is Outcome.allowed
    assert decide(None, Action.register_team, event("open")) is Outcome.unauthenticated
    assert decide(person(), Action.register_team, event("draft")) is Outcome.hidden


def test_the_leader_manages_the_team_members_see_it_and_strangers_do_not_know_it_exists():
    leader, member, stranger = person(), Principal(8, "m@x", "M", "en", False, "session"), person()
    assert decide(leader, Action.manage_team, event("open"), team=team(7)) is Outcome.allowed
    assert decide(member, Action.view_team, event("open"), team=team(7, 8)) is Outcome.allowed
    assert decide(member, Action.submit_materials, event("open"), team=team(7, 8)) is Outcome.allowed
    assert decide(member, Action.manage_team, event("open"), team=team(7, 8)) is Outcome.forbidden
    assert decide(member, Action.review_team, event("open"), team=team(7, 8)) is Outcome.forbidden
    for action in (*TEAM_ACTIONS[1:], Action.review_team):
        assert decide(stranger, action, event("open", JUDGE), team=team(1, 2)) is Outcome.hidden, action


@pytest.mark.parametrize(
    ("scope", "covers"),
    [
        (WHOLE_EVENT, True),
        (Scope(track_id=10), True),
        (Scope(region="Zhejiang"), True),
        (Scope(institution_id=5), True),
        (Scope(region="Zhejiang", institution_id=5), True),
        (Scope(track_id=11), False),
        (Scope(region="Jiangsu"), False),
        (Scope(institution_id=6), False),
        (Scope(region="Zhejiang", institution_id=6), False),
    ],
)
def test_organizers_reach_a_team_only_when_their_scope_covers_it(scope, covers):
    ctx = event("open", Grant("organizer", scope))
    expected = Outcome.allowed if covers else Outcome.hidden
    for action in (*TEAM_ACTIONS[1:], Action.review_team):
        assert decide(person(), action, ctx, team=team(1, 2)) is expected, action
    # without a team, the route-level question: any organizer grant may ask for its own part
    for action in (Action.view_teams, Action.review_team, Action.import_teams):
        assert decide(person(), action, ctx, target=None) is Outcome.allowed


def test_everyone_signed_in_manages_their_own_account_and_nobody_else_does():
    assert decide(person(), Action.manage_own_account) is Outcome.allowed
    assert decide(None, Action.manage_own_account) is Outcome.unauthenticated
