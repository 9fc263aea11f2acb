"""The authorization matrix: every operation of the OpenAPI document and every page, tried as every
kind of caller, against the outcome the policy promises; and the audit log's count around each call.

The operations come from ``/schema/openapi.json`` and the pages from the app's routes, so an endpoint
added without its row here fails :func:`test_every_operation_has_a_row` (and its page twin).

Each cell runs in a freshly seeded world (the call may have changed it):
- contest ``draft`` (a draft, tracks A and B, stages school and province), contests ``open``,
  ``running`` and ``closed`` and the draft forum ``forum`` with a session; the event's organizer
  organizes all of them, and every other role holds its grant in each;
- ``scoped`` is an organizer narrowed to track A (region Zhejiang in the forum): a scoped admin;
- ``orgadmin`` is an admin of the organization ``alliance`` that owns all of them (and holds no
  event grant), a ``staffer`` (no role of the matrix) one of its organization-level organizers;
- ``other`` organizes another event only, and is an admin of its organization ``elsewhere``.
Allowed calls answer 2xx and write exactly one audit entry when they change something; refused ones
answer 401 (anonymous), 404 (the caller may not see the event: a draft) or 403, and write nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.accounts import passwords
from backend.accounts.tables import AccountToken, ApiToken, Invitation, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.app import create_app
from backend.audit import AuditEntry
from backend.events.tables import Event, EventSession, Stage, Track
from backend.institutions.tables import Institution
from backend.organizations.tables import Organization
from backend.settings import get_settings
from backend.teams.storage import storage
from backend.teams.tables import Material, RegistrationRules, Team, TeamMember
from judging.tables import Assignment, AssignmentRun, Rubric, StageEntry, StageJudge, StageJudging
from tests.integration.conftest import PASSWORD, ClientFactory, empty_database, prime_csrf
from tests.integration.incubator_world import EVIDENCE_PNG, seed_programme
from tests.integration.snapshot import Snapshot
from ticketing import keys
from ticketing.badges.service import link_token
from ticketing.tables import BadgeRun, Checkin, CheckinList, Device, DeviceList, Ticket, TicketType

pytestmark = pytest.mark.anyio  # at collection, so anyio's backend parameter joins the ones below

ROLES = ("anonymous", "member", "judge", "checkin", "scoped", "other", "organizer", "orgadmin", "admin")
LOGGED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
ORGANIZERS = frozenset({"organizer", "orgadmin", "admin"})
EVENT_ADMINS = ORGANIZERS | {"scoped"}  # the event's organizers, scoped ones included
ADMIN = frozenset({"admin"})
ORG_ADMINS = frozenset({"orgadmin", "admin"})  # the admins of the organization owning every event
SEE_DRAFTS = EVENT_ADMINS  # who may see the draft contest and the draft forum
ROLE_OF = {"member": "team_member", "judge": "judge", "checkin": "checkin_staff"}
_HASH = passwords.hash_password(PASSWORD)
INVITATION_TOKEN = "inv_matrix"  # a test invitation's link
TEAM_INVITATION_TOKEN = "tinv_matrix"  # the link of an invitation to the team of the open contest
TEAM_CODE = "MATRIX23"  # that team's join code
TEAM_VIEWERS = EVENT_ADMINS | {"member"}  # the team's member and the organizers whose scope covers it
JUDGING_CRITERIA = [
    {"code": "idea", "weight": 0.6, "min": 0, "max": 60, "step": 1, "name": {"en": "Idea"}, "descriptor": {}},
    {"code": "team", "weight": 0.4, "min": 0, "max": 40, "step": 1, "name": {"en": "Team"}, "descriptor": {}},
]


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    def email(self, role: str) -> str:
        return f"{role}@matrix.example"


_WORLD: Snapshot[World] = Snapshot("matrix")


async def seed() -> World:
    """An empty database holding only the world described in the module docstring: built once per
    test process, then restored from a copy of its rows (the same ids, in one round trip)."""
    return await _WORLD.restore(_build_world)


async def _build_world() -> World:
    """Empty the database and build the world described in the module docstring."""
    await empty_database()
    world = World()
    for role in ROLES[1:]:
        user = User(
            username=world.email(role),
            email=world.email(role),
            password=_HASH,
            display_name=role,
            active=True,
            admin=role == "admin",
            superuser=role == "admin",
        )
        await user.save()
        world.users[role] = user.id
        token = ApiToken(user=user.id, name="matrix", token_hash=token_digest(f"pdm_matrix_{role}"))
        await token.save()
        world.tokens[role] = token.id
    organizations = {}
    for slug in ("alliance", "elsewhere"):
        organization = Organization(slug=slug, kind="alliance", name_en=slug.title())
        await organization.save()
        organizations[slug] = organization.id
    world.ids["organization"] = organizations["alliance"]
    staffer = User(
        username="staffer@matrix.example", email="staffer@matrix.example", password=_HASH, active=True
    )
    await staffer.save()
    org_grants = [
        RoleGrant(user=world.users["orgadmin"], role="org_admin", organization=organizations["alliance"]),
        RoleGrant(user=staffer.id, role="organizer", organization=organizations["alliance"]),
        RoleGrant(user=world.users["other"], role="org_admin", organization=organizations["elsewhere"]),
    ]
    await RoleGrant.insert(*org_grants)
    world.ids["staffer_grant"] = org_grants[1].id
    world.ids["org_grant"] = org_grants[1].id
    institution = Institution(
        kind="university", country="CN", name_en="Zhejiang University", region="Zhejiang"
    )
    await institution.save()
    world.ids["institution"] = institution.id

    async def event(
        key: str, kind: str, status: str, tz: str = "Asia/Shanghai", organization: str = "alliance"
    ) -> int:
        row = Event(
            organization=organizations[organization],
            slug=f"matrix-{key}",
            kind=kind,
            status=status,
            name_en=f"Matrix {key}",
            starts_on=dt.date(2027, 8, 1),
            ends_on=dt.date(2027, 8, 2),
            time_zone=tz,
        )
        await row.save()
        world.events[key] = row.id
        return row.id

    for key, status in (("draft", "draft"), ("open", "open"), ("running", "running"), ("closed", "closed")):
        event_id = await event(key, "contest", status)
        tracks = [Track(event=event_id, code=code, name_en=code) for code in ("A", "B")]
        await Track.insert(*tracks)
        await Stage.insert(
            Stage(event=event_id, position=1, level="school", name_en="School"),
            Stage(event=event_id, position=2, level="province", name_en="Province"),
        )
        world.ids.setdefault("track_a", tracks[0].id)
        world.ids.setdefault("track_b", tracks[1].id)
        await _grant_everyone(world, event_id, {"track": tracks[0].id})
    forum = await event("forum", "forum", "draft", tz="Europe/Moscow")
    session = EventSession(
        event=forum,
        title_en="Opening",
        room="A1",
        starts_at=dt.datetime(2027, 8, 1, 9, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 8, 1, 10, tzinfo=dt.UTC),
    )
    await session.save()
    world.ids["session"] = session.id
    await _grant_everyone(world, forum, {"region": "Zhejiang"})
    elsewhere = await event("elsewhere", "contest", "draft", organization="elsewhere")
    await RoleGrant.insert(RoleGrant(user=world.users["other"], role="organizer", event=elsewhere))
    stage = (
        await Stage.select(Stage.id)
        .where((Stage.event == world.events["draft"]) & (Stage.position == 2))
        .first()
    )
    world.ids["stage"] = stage["id"]
    judge_grant = (
        await RoleGrant.select(RoleGrant.id)
        .where((RoleGrant.event == world.events["draft"]) & (RoleGrant.role == "judge"))
        .first()
    )
    world.ids["judge_grant"] = judge_grant["id"]
    for purpose, token in LINK_TOKENS.items():  # the member's one-time links (self-service accounts)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        await AccountToken(
            user=world.users["member"], purpose=purpose, token_hash=token_digest(token), expires_at=expires
        ).save()
    invitation = Invitation(  # to an address no role has, inside the scoped admin's track
        email="invitee@matrix.example",
        role="judge",
        event=world.events["draft"],
        track=world.ids["track_a"],
        token_hash=token_digest(INVITATION_TOKEN),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=14),
    )
    await invitation.save()
    world.ids["invitation"] = invitation.id
    org_invitation = Invitation(  # the organization's own role, to an address no role has
        email="deputy@matrix.example",
        role="organizer",
        organization=world.ids["organization"],
        token_hash=token_digest(INVITATION_TOKEN + "_org"),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=14),
    )
    await org_invitation.save()
    world.ids["org_invitation"] = org_invitation.id
    await _seed_review_team(world)
    await _seed_team(world)
    await _seed_material(world)
    await _seed_judging(world)
    await _seed_judging_setup(world)
    await _seed_judging_assign(world)
    await _seed_judging_advancement(world)
    await _seed_judging_live(world)
    await _seed_judging_scoring(world)
    await _seed_judging_results(world)
    await _seed_ticketing(world)
    await _seed_incubator(world)
    return world


# Incubation: who is who in the programme ``silk-incubator`` of ``alliance`` (its admins and
# organizers manage it: ``orgadmin``; ``scoped`` by a programme grant). Refusals: 404 to those with
# no role in the programme (or, for a startup, no standing to it), else 403.
INC_MANAGERS = frozenset({"scoped", "orgadmin", "admin"})
INC_PEOPLE = INC_MANAGERS | {"checkin", "member", "judge"}  # hold a role in the programme
STARTUP_PEOPLE = INC_MANAGERS | {"member", "judge"}  # see the startup's file
FOUNDERS = frozenset({"member"})  # the startup's founder (lead)
MENTORS = frozenset({"judge"})  # its one-to-one mentor, author of the meeting's private notes
INC_VIEWERS = INC_MANAGERS | {"checkin"}  # read the programme's dashboards
INC_REFUSED = dict.fromkeys(LOGGED_IN - INC_PEOPLE, 404)  # a programme's refusals
STARTUP_REFUSED = dict.fromkeys(LOGGED_IN - STARTUP_PEOPLE, 404)  # a startup's refusals


def _inc(**names: str) -> Callable[[World, str], dict[str, int]]:
    """Path values from the seeded ids: ``_inc(startup_id="startup")``."""
    return lambda w, role: {name: w.ids[ref] for name, ref in names.items()}


async def _seed_incubator(world: World) -> None:
    """The incubator world (``tests.integration.incubator_world.seed_programme``) with the matrix's
    people: ``scoped`` manages the programme, ``checkin`` views it, ``member`` leads the startup
    ``startup`` (the team ``judged_team``, which won in the running contest), ``judge`` is its
    one-to-one mentor; the other founder and the cohort's mentor are accounts of no matrix role.
    Every id it makes is in ``world.ids`` under the names ``seed_programme`` gives (``programme``,
    ``cohort``, ``startup``, ``other_startup``, ``mentor``, ``slot``, ``booking``, ``meeting``,
    ``action_item``, ``milestone``, ``evidence``, ``promise``, ``delivery``, ``period``, ``report``...)."""
    extra = {}
    for who in ("other_founder", "cohort_mentor"):
        row = User(
            username=f"{who}@matrix.example", email=f"{who}@matrix.example", password=_HASH, active=True
        )
        await row.save()
        extra[who] = row.id
    people = {
        "manager": world.users["scoped"],
        "viewer": world.users["checkin"],
        "founder": world.users["member"],
        "mentor": world.users["judge"],
        **extra,
    }
    ids = await seed_programme(
        world.ids["organization"], people, team=world.ids["judged_team"], event=world.events["running"]
    )
    world.ids |= ids


DEVICE_TOKEN = "pdv_matrix"
CHECKIN_STAFF = ORGANIZERS | {"checkin"}  # who scans and watches attendance
TICKET_VIEWERS = ORGANIZERS | {"member"}  # the seeded ticket's holder and the whole-event organizers


_NOT_TICKET_VIEWERS = dict.fromkeys(LOGGED_IN - TICKET_VIEWERS, 404)  # a ticket is not theirs to see


def _ticket(w: World, role: str) -> dict[str, int]:
    return {"ticket_id": w.ids["ticket"]}


async def _seed_ticketing(world: World) -> None:
    """Tickets and check-in (ticketing) in the running contest: a ticket type (``ticket_type``,
    number 1, team members), a ticket held by ``member`` (``ticket``) and one held by a name only
    (``guest_ticket``), a gate list (``checkin_list``) with one admission of the guest's ticket
    (``checkin``), a device on it at gate 3 (``device``, token :data:`DEVICE_TOKEN`) and a finished
    badge run (``badge_run``)."""
    event_id = world.events["running"]
    ticket_type = TicketType(event=event_id, number=1, kind="team_member", name_en="Finalist")
    await ticket_type.save()
    world.ids["ticket_type"] = ticket_type.id
    spare_type = TicketType(event=event_id, number=2, kind="guest", name_en="Guest")  # no tickets: removable
    await spare_type.save()
    world.ids["spare_ticket_type"] = spare_type.id
    day = dt.date(2027, 8, 1)
    for key, holder, name in (("ticket", world.users["member"], "member"), ("guest_ticket", None, "Guest")):
        serial, code, key_id = await keys.sign_ticket(event_id, "team_member", 1, day, day)
        ticket = Ticket(
            event=event_id,
            ticket_type=ticket_type.id,
            serial=serial,
            code=code,
            key_id=key_id,
            holder=holder,
            holder_name=name,
            valid_from=day,
            valid_until=day,
        )
        await ticket.save()
        world.ids[key] = ticket.id
        if key == "ticket":  # the key of its mailed badge link (ticketing.badges)
            world.ids["badge_link"] = link_token(ticket.id, serial)  # type: ignore[assignment]
    gate = CheckinList(event=event_id, name="Gate", kind="gate", rules={})
    await gate.save()
    world.ids["checkin_list"] = gate.id
    old_gate = CheckinList(
        event=event_id,
        name="Old gate",
        kind="gate",
        rules={},
        archived_at=dt.datetime(2027, 8, 1, tzinfo=dt.UTC),
    )
    await old_gate.save()
    world.ids["archived_list"] = old_gate.id  # ticketing.lists: a list to restore
    device = Device(event=event_id, name="Scanner", gate="Gate 3", token_hash=token_digest(DEVICE_TOKEN))
    await device.save()
    world.ids["device"] = device.id
    await DeviceList(device=device.id, checkin_list=gate.id).save()
    checkin = Checkin(
        checkin_list=gate.id,
        event=event_id,
        ticket=world.ids["guest_ticket"],
        status="admitted",
        slot=0,
        actor=f"d{device.id}",
        nonce="matrix-nonce",
        device=device.id,
        gate="Gate 3",
    )
    await checkin.save()
    world.ids["checkin"] = checkin.id
    run = BadgeRun(event=event_id, format="a6", status="done", total=2, done=2)
    await run.save()
    world.ids["badge_run"] = run.id


async def _seed_judging(world: World) -> None:
    """Judging in the running contest: its first stage (school) is being scored, its assignment
    published; ``member`` leads a team in track A with an entry in it, assigned to ``judge`` (who
    holds the judge role in track A). The stage has a rubric; ids: ``judging_stage``,
    ``judged_team``, ``judged_entry``, ``assignment``, ``rubric``."""
    event_id = world.events["running"]
    stage = await Stage.select(Stage.id).where((Stage.event == event_id) & (Stage.position == 1)).first()
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    world.ids["judging_stage"] = stage["id"]
    team = Team(
        event=event_id,
        track=track["id"],
        name="Judged team",
        entry_title="Judged entry",
        leader=world.users["member"],
        join_code="JUDGED23",
        status="approved",
    )
    await team.save()
    world.ids["judged_team"] = team.id
    await TeamMember(
        team=team.id,
        event=event_id,
        track=track["id"],
        user=world.users["member"],
        email=world.email("member"),
        role="leader",
        state="confirmed",
        joined_via="creation",
    ).save()
    await StageJudging(
        stage=stage["id"],
        event=event_id,
        status="scoring",
        assignment_published_at=dt.datetime.now(dt.UTC),
    ).save()
    rubric = Rubric(stage=stage["id"], version=1, criteria=JUDGING_CRITERIA)
    await rubric.save()
    world.ids["rubric"] = rubric.id
    entry = StageEntry(stage=stage["id"], event=event_id, team=team.id, track=track["id"], label="E-0001")
    await entry.save()
    world.ids["judged_entry"] = entry.id
    await StageJudge(stage=stage["id"], user=world.users["judge"]).save()
    assignment = Assignment(stage=stage["id"], stage_entry=entry.id, judge=world.users["judge"])
    await assignment.save()
    world.ids["assignment"] = assignment.id


TABLET_TOKEN = "tab_matrix"  # the judge's one-time tablet sign-in link (judging.setup)


async def _seed_judging_setup(world: World) -> None:
    """Set-up (judging.setup): an empty room of the scoring stage (``setup_panel``), a locked stage of
    the running contest (``setup_locked_stage``, to reopen), a conflict ``judge`` declared
    (``setup_conflict``) and a one-time tablet sign-in for ``judge`` (:data:`TABLET_TOKEN`)."""
    from backend.accounts.tokens import token_digest
    from judging.tables import JudgeConflict, Panel, TabletSignIn

    event_id = world.events["running"]
    panel = Panel(stage=world.ids["judging_stage"], name="Setup room", position=1)
    await panel.save()
    world.ids["setup_panel"] = panel.id
    locked = Stage(event=event_id, position=30, level="national", name_en="Locked")
    await locked.save()
    world.ids["setup_locked_stage"] = locked.id
    await StageJudging(stage=locked.id, event=event_id, status="locked").save()
    conflict = JudgeConflict(  # with no team of the matrix: the judge's assignments stay live
        event=event_id, user=world.users["judge"], institution=world.ids["institution"], reason="former job"
    )
    await conflict.save()
    world.ids["setup_conflict"] = conflict.id
    world.ids["judge_user"] = world.users["judge"]
    await TabletSignIn(
        user=world.users["judge"],
        event=event_id,
        token_hash=token_digest(TABLET_TOKEN),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    ).save()


def _setup_stage(**extra: str) -> Callable[[World, str], dict[str, int]]:
    return lambda w, role: {"stage_id": w.ids["judging_stage"], **{k: w.ids[v] for k, v in extra.items()}}


async def _seed_judging_assign(world: World) -> None:
    """Assignment (judging.assign): a stage of the running contest still in set-up (``assign_stage``)
    with the judged team's entry (``assign_entry``), ``judge`` and ``checkin`` as its judges, and a
    draft engine run (``assign_run``) that gives the entry to ``judge`` (``assign_assignment``)."""
    event_id = world.events["running"]
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    stage = Stage(event=event_id, position=20, level="national", name_en="Assignment")
    await stage.save()
    world.ids["assign_stage"] = stage.id
    await StageJudging(stage=stage.id, event=event_id).save()
    entry = StageEntry(
        stage=stage.id, event=event_id, team=world.ids["judged_team"], track=track["id"], label="E-ASGN"
    )
    await entry.save()
    world.ids["assign_entry"] = entry.id
    await StageJudge.insert(
        StageJudge(stage=stage.id, user=world.users["judge"]),
        StageJudge(stage=stage.id, user=world.users["checkin"]),
    )
    run = AssignmentRun(stage=stage.id, per_entry=1, report={"conflicts": 0, "components": 1})
    await run.save()
    world.ids["assign_run"] = run.id
    assignment = Assignment(stage=stage.id, stage_entry=entry.id, judge=world.users["judge"], run=run.id)
    await assignment.save()
    world.ids["assign_assignment"] = assignment.id


async def _seed_judging_live(world: World) -> None:
    """Live finals (judging.live): a live stage of the open contest in set-up (``live_setup_stage``, to
    prepare) and one of the running contest being scored (``live_stage``) with two rooms: ``live_room``
    (idle; the judged team's entry ``live_entry`` first in its running order, assigned to ``judge``)
    and ``live_closed_room`` (closed, where ``judge`` sits: a closed room's streams send its state and
    end, so they answer here like any other read)."""
    from judging.tables import Panel

    running, opened = world.events["running"], world.events["open"]
    track = await Track.select(Track.id).where((Track.event == running) & (Track.code == "A")).first()
    setup_stage = Stage(event=opened, position=40, level="final", name_en="Live set-up")
    stage = Stage(event=running, position=40, level="final", name_en="Live final")
    await setup_stage.save()
    await stage.save()
    world.ids["live_setup_stage"], world.ids["live_stage"] = setup_stage.id, stage.id
    await StageJudging(stage=setup_stage.id, event=opened, live=True).save()
    await StageJudging(
        stage=stage.id,
        event=running,
        live=True,
        status="scoring",
        assignment_published_at=dt.datetime.now(dt.UTC),
    ).save()
    await Rubric(stage=stage.id, version=1, criteria=JUDGING_CRITERIA).save()
    room = Panel(stage=stage.id, name="Matrix room", position=1)
    closed = Panel(stage=stage.id, name="Closed room", position=2, phase="closed")
    await room.save()
    await closed.save()
    world.ids["live_room"], world.ids["live_closed_room"] = room.id, closed.id
    entry = StageEntry(
        stage=stage.id,
        event=running,
        team=world.ids["judged_team"],
        track=track["id"],
        label="E-LIVE",
        panel=room.id,
        position=1,
    )
    await entry.save()
    world.ids["live_entry"] = entry.id
    await StageJudge(stage=stage.id, user=world.users["judge"], panel=closed.id).save()
    await Assignment(stage=stage.id, stage_entry=entry.id, judge=world.users["judge"], source="manual").save()


def _live_room(w: World, role: str) -> dict[str, int]:
    return {"panel_id": w.ids["live_room"], "entry_id": w.ids["live_entry"]}


def _live_closed_room(w: World, role: str) -> dict[str, int]:
    return {"panel_id": w.ids["live_closed_room"]}


ADV_SERIAL = "matrixSerial0000000000"  # the seeded certificate's serial (advancement)


async def _seed_judging_scoring(world: World) -> None:
    """Scoring (judging.scoring): a business plan of ``judged_team`` for the scoring stage
    (``scoring_material``, which its judge downloads), and a locked stage of the running contest
    where ``judge`` scored that team (``scoring_sheet``, one version), apart from the other areas'
    stages so its sheet locks no rubric they edit."""
    from judging.tables import ScoreSheet, ScoreSheetVersion

    team, judge, event_id = world.ids["judged_team"], world.users["judge"], world.events["running"]
    world.ids["scoring_material"] = await _stored_plan(team, world.ids["judging_stage"])
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    stage = Stage(event=event_id, position=9, level="final", name_en="Scored final")
    await stage.save()
    await StageJudging(stage=stage.id, event=event_id, status="locked").save()
    rubric = Rubric(stage=stage.id, version=1, criteria=JUDGING_CRITERIA, locked_at=dt.datetime.now(dt.UTC))
    await rubric.save()
    entry = StageEntry(stage=stage.id, event=event_id, team=team, track=track["id"], label="F-0001")
    await entry.save()
    assignment = Assignment(stage=stage.id, stage_entry=entry.id, judge=judge)
    await assignment.save()
    marks = {"idea": 30, "team": 20}
    sheet = ScoreSheet(
        assignment=assignment.id,
        stage=stage.id,
        stage_entry=entry.id,
        judge=judge,
        rubric=rubric.id,
        marks=marks,
        total=26.0,
    )
    await sheet.save()
    await ScoreSheetVersion(
        sheet=sheet.id, version=1, marks=marks, total=26.0, author=judge, nonce="matrix-nonce"
    ).save()
    world.ids["scoring_sheet"] = sheet.id


ADV_PAGES = "/workspace/events/{event_id}/judging/stages/{stage_id}"


def _adv_stage(w: World, role: str) -> dict[str, int]:
    return {"event_id": w.events["running"], "stage_id": w.ids["adv_stage"]}


RES_TEXT = "We contest our place: the judges did not read our market analysis."


def _res_stage(w: World, key: str) -> dict[str, int]:
    return {"event_id": w.events["running"], "stage_id": w.ids[key]}


async def _seed_judging_results(world: World) -> None:
    """Results (judging.results), each stage with the judged team's entry in track A: a locked stage
    (``res_stage``) with a sheet and a finished run made after the lock (``res_run``); a scoring stage
    (``res_scoring``) whose entry (``res_scoring_entry``) is marked for re-review, with ``judge`` and
    ``checkin`` as its judges and no assignment; two published stages with their appeal windows open,
    one with the team's open appeal (``res_appeal``), the other (``res_free``) without."""
    from judging.tables import Appeal, RankingRun, ScoreSheet, StageResult

    event_id = world.events["running"]
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    now = dt.datetime.now(dt.UTC)
    stages = {}
    for position, key, status in (
        (60, "res_stage", "locked"),
        (61, "res_scoring", "scoring"),
        (62, "res_published", "published"),
        (63, "res_free", "published"),
    ):
        stage = Stage(event=event_id, position=position, level="national", name_en=key)
        await stage.save()
        world.ids[key] = stage.id
        entry = StageEntry(
            stage=stage.id,
            event=event_id,
            team=world.ids["judged_team"],
            track=track["id"],
            label=f"E-{position}",
        )
        if status == "scoring":
            entry.rereview_requested_at = now
            entry.rereview_reason = "Judges disagree"
        await entry.save()
        stages[key] = (stage.id, entry.id)
        await StageJudging(
            stage=stage.id,
            event=event_id,
            status=status,
            locked_at=now - dt.timedelta(hours=1) if status == "locked" else None,
            assignment_published_at=now - dt.timedelta(days=1),
            published_at=now if status == "published" else None,
            objection_ends_at=now + dt.timedelta(days=7) if status == "published" else None,
            appeals_close_at=now + dt.timedelta(days=5) if status == "published" else None,
        ).save()
    world.ids["res_scoring_entry"] = stages["res_scoring"][1]
    await StageJudge.insert(
        StageJudge(stage=world.ids["res_scoring"], user=world.users["judge"]),
        StageJudge(stage=world.ids["res_scoring"], user=world.users["checkin"]),
    )
    stage_id, entry_id = stages["res_stage"]
    rubric = Rubric(stage=stage_id, version=1, criteria=JUDGING_CRITERIA)
    await rubric.save()
    assignment = Assignment(stage=stage_id, stage_entry=entry_id, judge=world.users["judge"])
    await assignment.save()
    marks = {c["code"]: c["max"] for c in JUDGING_CRITERIA}
    total = sum(c["weight"] * c["max"] for c in JUDGING_CRITERIA)
    await ScoreSheet(
        assignment=assignment.id,
        stage=stage_id,
        stage_entry=entry_id,
        judge=world.users["judge"],
        rubric=rubric.id,
        marks=marks,
        total=total,
    ).save()
    run = RankingRun(stage=stage_id, status="done", method="mean", progress=100, phase="done", diagnostics={})
    await run.save()
    world.ids["res_run"] = run.id
    await StageResult(
        run=run.id, stage_entry=entry_id, track=track["id"], rank=1, track_rank=1, score=total, n_judges=1
    ).save()
    published_run = RankingRun(stage=world.ids["res_published"], status="done", method="mean", progress=100)
    await published_run.save()
    await StageJudging.update({StageJudging.published_run: published_run.id}).where(
        StageJudging.stage == world.ids["res_published"]
    )
    appeal = Appeal(
        stage=world.ids["res_published"],
        team=world.ids["judged_team"],
        filed_by=world.users["member"],
        text=RES_TEXT,
        answer_due_at=now + dt.timedelta(days=10),
    )
    await appeal.save()
    world.ids["res_appeal"] = appeal.id


async def _seed_judging_advancement(world: World) -> None:
    """Advancement (judging.advancement): a published stage of the running contest (``adv_stage``,
    position 90) and the next one (``adv_next``); the judged team ranked first, recommended by
    ``scoped`` (``adv_recommendation``) and already an entry of the next stage, awarded the tier
    ``first`` with ``member``'s certificate (:data:`ADV_SERIAL`); a runner-up in track A ranked second
    (``adv_runner_entry``), not recommended yet."""
    from judging.tables import (
        AdvancementRules,
        Award,
        Certificate,
        PrizeTier,
        RankingRun,
        Recommendation,
        StageResult,
    )

    event_id = world.events["running"]
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    stage = Stage(event=event_id, position=90, level="national", name_en="Advancement")
    following = Stage(event=event_id, position=91, level="final", name_en="After advancement")
    await stage.save()
    await following.save()
    world.ids["adv_stage"], world.ids["adv_next"] = stage.id, following.id
    run = RankingRun(stage=stage.id, status="done", method="mean", progress=100)
    await run.save()
    await StageJudging(stage=stage.id, event=event_id, status="published", published_run=run.id).save()
    await StageJudging(stage=following.id, event=event_id).save()
    runner = User(username=world.email("runner"), email=world.email("runner"), password=_HASH, active=True)
    await runner.save()
    runner_team = Team(
        event=event_id,
        track=track["id"],
        name="Runner-up",
        leader=runner.id,
        join_code="RUNNER23",
        status="approved",
    )
    await runner_team.save()
    entries = []
    for rank, (team, label) in enumerate(
        ((world.ids["judged_team"], "E-ADV1"), (runner_team.id, "E-ADV2")), 1
    ):
        entry = StageEntry(stage=stage.id, event=event_id, team=team, track=track["id"], label=label)
        await entry.save()
        entries.append(entry.id)
        await StageResult(
            run=run.id, stage_entry=entry.id, track=track["id"], rank=rank, track_rank=rank, score=90.0 - rank
        ).save()
    world.ids["adv_runner_entry"] = entries[1]
    await StageEntry(
        stage=following.id, event=event_id, team=world.ids["judged_team"], track=track["id"], label="E-ADV3"
    ).save()
    await AdvancementRules(from_stage=stage.id, to_stage=following.id, rules={}).save()
    recommendation = Recommendation(
        from_stage=stage.id,
        to_stage=following.id,
        stage_entry=entries[0],
        team=world.ids["judged_team"],
        position=1,
        recommended_by=world.users["scoped"],
    )
    await recommendation.save()
    world.ids["adv_recommendation"] = recommendation.id
    tier = PrizeTier(stage=stage.id, code="first", name_en="First prize", size=1, position=1)
    await tier.save()
    award = Award(stage=stage.id, team=world.ids["judged_team"], tier=tier.id, rank=1)
    await award.save()
    await Certificate(
        award=award.id,
        team=world.ids["judged_team"],
        user=world.users["member"],
        holder_name="Member",
        serial=ADV_SERIAL,
    ).save()


async def _seed_team(world: World) -> None:
    """A team in track A of the open contest: led by ``mate`` (no role of the matrix), with ``member``
    confirmed, two invitations pending (one with a known link) and a join request."""
    event_id = world.events["open"]
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    stage = await Stage.select(Stage.id).where((Stage.event == event_id) & (Stage.position == 1)).first()
    world.ids["open_track_b"] = (
        await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "B")).first()
    )["id"]
    world.ids["open_stage"] = stage["id"]
    people = {}
    for name in ("mate", "joiner"):
        user = User(username=world.email(name), email=world.email(name), password=_HASH, display_name=name)
        await user.save()
        people[name] = user.id
    team = Team(
        event=event_id, track=track["id"], name="Matrix team", leader=people["mate"], join_code=TEAM_CODE
    )
    await team.save()
    world.ids["team"] = team.id
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=14)
    invited = {"role": "member", "state": "invited", "joined_via": "invitation", "expires_at": expires}
    seats = {
        "team_leader": dict(user=people["mate"], role="leader", state="confirmed", joined_via="creation"),
        "team_member": dict(user=world.users["member"], role="member", state="confirmed", joined_via="code"),
        "team_invited": dict(
            email="invitee@team.matrix.example", token_hash=token_digest(TEAM_INVITATION_TOKEN), **invited
        ),
        "team_invited_other": dict(email="other@team.matrix.example", **invited),
        "team_request": dict(user=people["joiner"], role="member", state="requested", joined_via="code"),
    }
    emails = {people["mate"]: world.email("mate"), world.users["member"]: world.email("member")}
    emails[people["joiner"]] = world.email("joiner")
    for key, values in seats.items():
        values.setdefault("email", emails.get(values.get("user")))
        seat = TeamMember(team=team.id, event=event_id, track=track["id"], **values)
        await seat.save()
        world.ids[key] = seat.id


async def _seed_material(world: World) -> None:
    """The team's business plan for the open contest's first stage, a file in the storage."""
    world.ids["material"] = await _stored_plan(world.ids["team"], world.ids["open_stage"])


async def _stored_plan(team: int, stage: int) -> int:
    """A team's business plan (a one-page PDF in the storage) for a stage: the material's id."""

    async def one_pdf():
        yield b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\nstartxref\n9\n%%EOF\n"

    stored = await storage().save(f"teams/{team}", one_pdf(), 1024)
    material = Material(
        team=team,
        stage=stage,
        kind="business_plan",
        version=1,
        storage_key=stored.key,
        file_name="plan.pdf",
        content_type="application/pdf",
        size=stored.size,
        sha256=stored.sha256,
    )
    await material.save()
    return material.id


async def _seed_review_team(world: World) -> None:
    """A complete team in track A of the draft contest, which requires approval: what the organizers
    review (led by ``captain``, no role of the matrix, with two confirmed members)."""
    event_id = world.events["draft"]
    track = await Track.select(Track.id).where((Track.event == event_id) & (Track.code == "A")).first()
    captain = User(username=world.email("captain"), email=world.email("captain"), password=_HASH, active=True)
    await captain.save()
    await RegistrationRules(event=event_id, rules={"approval_required": True}).save()
    team = Team(
        event=event_id,
        track=track["id"],
        name="Reviewed",
        leader=captain.id,
        join_code="REVIEW23",
        status="complete",
    )
    await team.save()
    world.ids["review_team"] = team.id
    await TeamMember.insert(
        *[
            TeamMember(
                team=team.id,
                event=event_id,
                track=track["id"],
                user=user,
                email=email,
                role=role,
                state="confirmed",
                joined_via="import",
            )
            for user, email, role in (
                (captain.id, world.email("captain"), "leader"),
                (None, "first@team.matrix.example", "member"),
                (None, "second@team.matrix.example", "member"),
            )
        ]
    )


async def _grant_everyone(world: World, event_id: int, scope: dict[str, Any]) -> None:
    """The organizer unscoped, the scoped admin and (inside that scope) the judge, staff and member."""
    await RoleGrant.insert(
        RoleGrant(user=world.users["organizer"], role="organizer", event=event_id),
        RoleGrant(user=world.users["scoped"], role="organizer", event=event_id, **scope),
        *[
            RoleGrant(user=world.users[key], role=role, event=event_id, **scope)
            for key, role in ROLE_OF.items()
        ],
    )


@dataclass(frozen=True)
class Row:
    """Who may call an operation, on which event, with which path values and body."""

    allowed: frozenset[str]
    event: str | None = None
    path: Callable[[World, str], dict[str, int]] = lambda w, role: {}
    body: Callable[[World, str], Any] | None = None
    view: bool = False  # seeing the event: refused by not finding it (404), even to anonymous callers
    team: bool = False  # a team's page: refused by not finding it (404) to those who may not see the team
    refused: dict[str, int] = field(default_factory=dict)  # a refused role's status, when not 403 or 404
    files: Callable[[World, str], dict[str, Any]] | None = None  # a multipart body instead of JSON
    audited: bool = True  # an allowed write adds one audit entry; False: it is its own log (check-ins)


def _on(key: str, **extra: str) -> Callable[[World, str], dict[str, int]]:
    return lambda w, role: {"event_id": w.events[key], **{name: w.ids[ref] for name, ref in extra.items()}}


def _team(**extra: str) -> Callable[[World, str], dict[str, int]]:
    return lambda w, role: {"team_id": w.ids["team"], **{name: w.ids[ref] for name, ref in extra.items()}}


def _org(**extra: str) -> Callable[[World, str], dict[str, int]]:
    return lambda w, role: {
        "organization_id": w.ids["organization"],
        **{name: w.ids[ref] for name, ref in extra.items()},
    }


SESSION_BODY = {
    "starts_at": "2027-08-01T11:00:00+03:00",
    "ends_at": "2027-08-01T12:00:00+03:00",
    "title_en": "New",
}
INSTITUTION_BODY = {"kind": "university", "country": "CN", "name_en": "Renamed University"}

# Self-service accounts: a sign-up, the member's one-time links, the caller's own profile and data.
LINK_TOKENS = {"confirm_email": "acc_matrix_confirm", "reset_password": "acc_matrix_reset"}
SIGNUP_BODY = {"email": "new@matrix.example", "password": PASSWORD, "name_native": "New", "name_latin": "New"}

MATRIX: dict[str, Row] = {
    # Judging: set-up (judging.setup), on the running contest's scoring stage (see _seed_judging and
    # _seed_judging_setup): organizers change it, scoped admins see it; a judge declares and
    # withdraws their own conflicts
    "GetStageJudging": Row(EVENT_ADMINS, "running", _setup_stage()),
    "UpdateStageJudging": Row(ORGANIZERS, "running", _setup_stage(), lambda w, role: {"trim_high": 2}),
    "LockStage": Row(ORGANIZERS, "running", _setup_stage()),
    "ReopenStage": Row(ORGANIZERS, "running", lambda w, role: {"stage_id": w.ids["setup_locked_stage"]}),
    "GetRubric": Row(EVENT_ADMINS, "running", _setup_stage()),
    "ListRubricVersions": Row(EVENT_ADMINS, "running", _setup_stage()),
    "SaveRubric": Row(ORGANIZERS, "running", _setup_stage(), lambda w, role: {"criteria": JUDGING_CRITERIA}),
    "ListPanels": Row(EVENT_ADMINS, "running", _setup_stage()),
    "CreatePanel": Row(ORGANIZERS, "running", _setup_stage(), lambda w, role: {"name": "New room"}),
    "UpdatePanel": Row(
        ORGANIZERS,
        "running",
        lambda w, role: {"panel_id": w.ids["setup_panel"]},
        lambda w, role: {"room": "B2"},
    ),
    "DeletePanel": Row(ORGANIZERS, "running", lambda w, role: {"panel_id": w.ids["setup_panel"]}),
    "ListStageEntries": Row(EVENT_ADMINS, "running", _setup_stage()),
    "SeedStageEntries": Row(ORGANIZERS, "running", _setup_stage()),
    "UpdateStageEntry": Row(
        ORGANIZERS,
        "running",
        lambda w, role: {"entry_id": w.ids["judged_entry"]},
        lambda w, role: {"position": 3},
    ),
    "ListStageJudges": Row(EVENT_ADMINS, "running", _setup_stage()),
    "AddStageJudge": Row(  # an address without the role: invited to it (one audit entry, the invitation's)
        ORGANIZERS, "running", _setup_stage(), lambda w, role: {"email": "new.judge@matrix.example"}
    ),
    "UpdateStageJudge": Row(
        ORGANIZERS, "running", _setup_stage(user_id="judge_user"), lambda w, role: {"capacity": 3}
    ),
    "RemoveStageJudge": Row(ORGANIZERS, "running", _setup_stage(user_id="judge_user")),
    "CreateTabletSignIn": Row(ORGANIZERS, "running", _setup_stage(user_id="judge_user")),
    "ListJudgeConflicts": Row(EVENT_ADMINS | {"judge"}, "running", _on("running")),
    "DeclareJudgeConflict": Row(
        ORGANIZERS | {"judge"},
        "running",
        _on("running"),
        lambda w, role: {"user_id": w.users["judge"], "team_id": w.ids["judged_team"], "reason": "cousin"},
    ),
    "WithdrawJudgeConflict": Row(
        ORGANIZERS | {"judge"}, "running", lambda w, role: {"conflict_id": w.ids["setup_conflict"]}
    ),
    "Health": Row(EVERYONE),
    "Login": Row(
        EVERYONE,
        body=lambda w, role: {
            "email": w.email("member" if role == "anonymous" else role),
            "password": PASSWORD,
        },
    ),
    "Logout": Row(LOGGED_IN),
    "Me": Row(LOGGED_IN),
    "ListTokens": Row(LOGGED_IN),
    # Without credentials in the body: for the logged-in caller only. With e-mail and password it is
    # the API login, open to anyone who has them (tests/integration/test_api_login.py).
    "CreateToken": Row(LOGGED_IN, body=lambda w, role: {"name": "laptop"}),
    "RevokeToken": Row(LOGGED_IN, path=lambda w, role: {"token_id": w.tokens.get(role, w.tokens["member"])}),
    "ListUsers": Row(ADMIN),
    "CreateUser": Row(
        ADMIN,
        body=lambda w, role: {"email": "new@matrix.example", "password": PASSWORD, "display_name": "New"},
    ),
    "GetUser": Row(ADMIN, path=lambda w, role: {"user_id": w.users["member"]}),
    "UpdateUser": Row(
        ADMIN,
        path=lambda w, role: {"user_id": w.users["member"]},
        body=lambda w, role: {"display_name": "Renamed"},
    ),
    "ListInstitutions": Row(EVERYONE),
    "GetInstitution": Row(EVERYONE, path=lambda w, role: {"institution_id": w.ids["institution"]}),
    "CreateInstitution": Row(ADMIN, body=lambda w, role: {**INSTITUTION_BODY, "name_en": "New University"}),
    "UpdateInstitution": Row(
        ADMIN,
        path=lambda w, role: {"institution_id": w.ids["institution"]},
        body=lambda w, role: INSTITUTION_BODY,
    ),
    "ListEvents": Row(EVERYONE),
    "CreateEvent": Row(
        ORG_ADMINS,
        body=lambda w, role: {
            "organization_id": w.ids["organization"],
            "kind": "contest",
            "slug": "matrix-new",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-02",
            "name_en": "New",
        },
    ),
    "GetEvent": Row(SEE_DRAFTS, "draft", _on("draft"), view=True),
    "GetEventBySlug": Row(SEE_DRAFTS, "draft", lambda w, role: {"slug": "matrix-draft"}, view=True),
    "UpdateEvent": Row(ORGANIZERS, "draft", _on("draft"), lambda w, role: {"venue_en": "Hangzhou"}),
    "OpenEvent": Row(ORGANIZERS, "draft", _on("draft")),
    "StartEvent": Row(ORGANIZERS, "open", _on("open")),
    "CloseEvent": Row(ORGANIZERS, "running", _on("running")),
    "ArchiveEvent": Row(ORG_ADMINS, "closed", _on("closed")),
    "ListOrganizations": Row(LOGGED_IN),
    "CreateOrganization": Row(
        ADMIN, body=lambda w, role: {"kind": "university", "slug": "new-org", "name_zh": "新大学"}
    ),
    "GetOrganization": Row(EVERYONE, path=_org()),
    "UpdateOrganization": Row(ORG_ADMINS, path=_org(), body=lambda w, role: {"name_en": "Renamed"}),
    "ListOrganizationEvents": Row(EVERYONE, path=_org()),
    "ListOrganizationRoles": Row(ORG_ADMINS, path=_org()),
    "GrantOrganizationRole": Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"user_id": w.users["organizer"], "role": "organizer"}
    ),
    "RevokeOrganizationRole": Row(ORG_ADMINS, path=_org(grant_id="org_grant")),
    "ListOrganizationInvitations": Row(ORG_ADMINS, path=_org()),
    "CreateOrganizationInvitation": Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"email": "new@matrix.example", "role": "org_admin"}
    ),
    "RevokeOrganizationInvitation": Row(ORG_ADMINS, path=_org(invitation_id="org_invitation")),
    "ResendOrganizationInvitation": Row(ORG_ADMINS, path=_org(invitation_id="org_invitation")),
    "ListTracks": Row(SEE_DRAFTS, "draft", _on("draft"), view=True),
    "CreateTrack": Row(ORGANIZERS, "draft", _on("draft"), lambda w, role: {"code": "NEW", "name_en": "New"}),
    "UpdateTrack": Row(
        EVENT_ADMINS,
        "draft",
        _on("draft", track_id="track_a"),
        lambda w, role: {"code": "A", "name_en": "Renamed"},
    ),
    "DeleteTrack": Row(ORGANIZERS, "draft", _on("draft", track_id="track_b")),
    "ListStages": Row(SEE_DRAFTS, "draft", _on("draft"), view=True),
    "CreateStage": Row(
        ORGANIZERS, "draft", _on("draft"), lambda w, role: {"level": "national", "name_en": "National"}
    ),
    "UpdateStage": Row(
        ORGANIZERS,
        "draft",
        _on("draft", stage_id="stage"),
        lambda w, role: {"level": "province", "name_en": "P"},
    ),
    "DeleteStage": Row(ORGANIZERS, "draft", _on("draft", stage_id="stage")),
    "ListSessions": Row(SEE_DRAFTS, "forum", _on("forum"), view=True),
    "CreateSession": Row(ORGANIZERS, "forum", _on("forum"), lambda w, role: SESSION_BODY),
    "UpdateSession": Row(
        ORGANIZERS, "forum", _on("forum", session_id="session"), lambda w, role: SESSION_BODY
    ),
    "DeleteSession": Row(ORGANIZERS, "forum", _on("forum", session_id="session")),
    "ListRoles": Row(EVENT_ADMINS, "draft", _on("draft")),
    "GrantRole": Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        lambda w, role: {"user_id": w.users["member"], "role": "mentor", "track_id": w.ids["track_a"]},
    ),
    "RevokeRole": Row(EVENT_ADMINS, "draft", _on("draft", grant_id="judge_grant")),
    "UpdateMe": Row(LOGGED_IN, body=lambda w, role: {"display_name": "Renamed", "locale": "en"}),
    # by address or by link: the same for anyone (never telling whether an address has an account)
    "SignUp": Row(EVERYONE, body=lambda w, role: {**SIGNUP_BODY, "terms": True}),
    "ConfirmEmail": Row(EVERYONE, body=lambda w, role: {"token": LINK_TOKENS["confirm_email"]}),
    "ResendConfirmation": Row(EVERYONE, body=lambda w, role: {"email": w.email("member")}),
    "RequestPasswordReset": Row(EVERYONE, body=lambda w, role: {"email": w.email("member")}),
    "ResetPassword": Row(
        EVERYONE,
        body=lambda w, role: {"token": LINK_TOKENS["reset_password"], "password": "another password"},
    ),
    "GetProfile": Row(LOGGED_IN),
    "UpdateProfile": Row(
        LOGGED_IN, body=lambda w, role: {"name_native": "Me", "name_latin": "Me", "country": "CN"}
    ),
    "GetConsents": Row(LOGGED_IN),
    "SetConsents": Row(LOGGED_IN, body=lambda w, role: {"share_sponsors": True}),
    "ExportMyData": Row(LOGGED_IN),
    # member leads the judged team (erasure refused while one leads a team that is not withdrawn)
    "EraseMyAccount": Row(
        LOGGED_IN - {"member"}, body=lambda w, role: {"password": PASSWORD}, refused={"member": 409}
    ),
    "ChangePassword": Row(
        LOGGED_IN, body=lambda w, role: {"current_password": PASSWORD, "new_password": "another password"}
    ),
    "ListInvitations": Row(EVENT_ADMINS, "draft", _on("draft")),
    "CreateInvitation": Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        lambda w, role: {"email": "new@matrix.example", "role": "judge", "track_id": w.ids["track_a"]},
    ),
    "RevokeInvitation": Row(EVENT_ADMINS, "draft", _on("draft", invitation_id="invitation")),
    "ResendInvitation": Row(EVENT_ADMINS, "draft", _on("draft", invitation_id="invitation")),
    "SearchPeople": Row(EVENT_ADMINS, "draft", _on("draft")),
    # only the invited address accepts: here an anonymous caller creating its account; every logged-in
    # role is another address (403)
    "ListEventAudit": Row(ORGANIZERS, "draft", _on("draft")),
    "AcceptInvitation": Row(
        frozenset({"anonymous"}),
        body=lambda w, role: {"token": INVITATION_TOKEN, "display_name": "Invitee", "password": PASSWORD},
    ),
    # Teams: the team of the open contest (see _seed_team); its member may look, only the organizers
    # whose scope covers it (track A) change it; to everyone else it does not exist
    "CreateTeam": Row(
        LOGGED_IN,
        "open",
        _on("open"),
        lambda w, role: {"track_id": w.ids["open_track_b"], "name": f"T {role}"},
    ),
    "MyTeams": Row(LOGGED_IN),
    "JoinTeam": Row(
        LOGGED_IN - {"member"}, body=lambda w, role: {"code": TEAM_CODE}, refused={"member": 409}
    ),
    "GetTeam": Row(TEAM_VIEWERS, path=_team(), team=True),
    "UpdateTeam": Row(EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"name": "Renamed"}),
    "InviteToTeam": Row(
        EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"email": "new@team.matrix.example"}
    ),
    "RemoveSeat": Row(EVENT_ADMINS, path=_team(seat_id="team_invited_other"), team=True),
    "ApproveJoinRequest": Row(EVENT_ADMINS, path=_team(seat_id="team_request"), team=True),
    "RefuseJoinRequest": Row(EVENT_ADMINS, path=_team(seat_id="team_request"), team=True),
    "HandOverTeam": Row(
        EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"user_id": w.users["member"]}
    ),
    "RotateJoinCode": Row(EVENT_ADMINS, path=_team(), team=True),
    # only a seat holder leaves (organizers hold none: no seat to leave)
    "LeaveTeam": Row(
        frozenset({"member"}), path=_team(), team=True, refused=dict.fromkeys(EVENT_ADMINS, 404)
    ),
    "WithdrawTeam": Row(EVENT_ADMINS, path=_team(), team=True),
    # the link is its holder's credential; its address has no account, so logged-in roles are others
    "GetTeamInvitation": Row(EVERYONE, path=lambda w, role: {"token": TEAM_INVITATION_TOKEN}),
    "AcceptTeamInvitation": Row(
        frozenset({"anonymous"}),
        path=lambda w, role: {"token": TEAM_INVITATION_TOKEN},
        body=lambda w, role: {"display_name": "Invitee", "password": PASSWORD},
    ),
    "DeclineTeamInvitation": Row(
        frozenset({"anonymous"}), path=lambda w, role: {"token": TEAM_INVITATION_TOKEN}
    ),
    "GetRegistrationRules": Row(SEE_DRAFTS, "draft", _on("draft"), view=True),
    "SetRegistrationRules": Row(ORGANIZERS, "draft", _on("draft"), lambda w, role: {"team_name_max": 20}),
    "GetTrackRegistrationRules": Row(SEE_DRAFTS, "draft", _on("draft", track_id="track_a"), view=True),
    "SetTrackRegistrationRules": Row(
        ORGANIZERS, "draft", _on("draft", track_id="track_a"), lambda w, role: {"track_category": "practical"}
    ),
    "ListPastWinners": Row(ORG_ADMINS, path=_org()),
    "AddPastWinner": Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"email": "won@matrix.example", "prize": "gold"}
    ),
    # Materials of the team of the open contest, for its first stage (see _seed_material)
    "ListTeamMaterials": Row(TEAM_VIEWERS, path=_team(), team=True),
    "SubmitMaterial": Row(
        TEAM_VIEWERS,
        path=lambda w, role: {"team_id": w.ids["team"], "stage_id": w.ids["open_stage"], "kind": "summary"},
        team=True,
        body=lambda w, role: {"text": "What the team does"},
    ),
    "DownloadMaterial": Row(TEAM_VIEWERS, path=lambda w, role: {"material_id": w.ids["material"]}, team=True),
    # The organizers' back office: lists, counts, exports and imports inside their scope (the scoped
    # admin's track A), and the review of the draft contest's complete team (see _seed_review_team)
    "ListEventTeams": Row(EVENT_ADMINS, "draft", _on("draft")),
    "CountEventTeams": Row(EVENT_ADMINS, "draft", _on("draft")),
    "ExportEventTeams": Row(EVENT_ADMINS, "draft", _on("draft")),
    "EventTeamsImportTemplate": Row(EVENT_ADMINS, "draft", _on("draft")),
    "ImportEventTeams": Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        files=lambda w, role: {"file": ("teams.csv", IMPORT_CSV.encode(), "text/csv")},
    ),
    "ReviewTeam": Row(
        EVENT_ADMINS,
        "draft",
        lambda w, role: {"team_id": w.ids["review_team"]},
        lambda w, role: {"decision": "approve"},
    ),
    # Judging: assignment (judging.assign): runs, publication and edits on the set-up stage of
    # _seed_judging_assign; the list of the scoring stage (scoped admins see their scope); the judge's
    # recusal of their own assignment (to anyone else it does not exist)
    "RunAssignment": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["assign_stage"]},
        body=lambda w, role: {"per_entry": 1, "seed": 1, "cross_track_share": 0},
    ),
    "ListAssignmentRuns": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["assign_stage"]}),
    "GetAssignmentRun": Row(ORGANIZERS, path=lambda w, role: {"run_id": w.ids["assign_run"]}),
    "PublishAssignment": Row(
        ORGANIZERS, path=lambda w, role: {"run_id": w.ids["assign_run"]}, body=lambda w, role: {}
    ),
    "ListStageAssignments": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["judging_stage"]}),
    "AddAssignment": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["assign_stage"]},
        body=lambda w, role: {"entry": w.ids["assign_entry"], "judge": w.users["checkin"]},
    ),
    "RemoveAssignment": Row(ORGANIZERS, path=lambda w, role: {"assignment_id": w.ids["assign_assignment"]}),
    "RecuseAssignment": Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        body=lambda w, role: {"reason": "I know the team"},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    # Judging: scoring (judging.scoring): the judge's queue (anyone's own, maybe empty), their
    # assignment on the scoring stage, its sheet and files (to anyone else it does not exist); the
    # organizers' sheets of the scoring stage and the log of the sheet of _seed_judging_scoring
    "JudgeQueue": Row(LOGGED_IN),
    "GetJudgeAssignment": Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    "SubmitSheet": Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        body=lambda w, role: {
            "marks": {"idea": 30, "team": 20},
            "nonce": f"matrix-{role}",
            "reason": "matrix",
        },
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    "ListOwnSheetVersions": Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    "DownloadJudgeMaterial": Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"], "material_id": w.ids["scoring_material"]},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    "ListStageSheets": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["judging_stage"]}),
    "ListSheetVersions": Row(EVENT_ADMINS, path=lambda w, role: {"sheet_id": w.ids["scoring_sheet"]}),
    # Judging: live finals (judging.live): preparing the set-up live stage of _seed_judging_live,
    # running its scoring stage's idle room; the streams of its closed room (they end at once); a judge's
    # own room (to anyone else it does not exist)
    "PrepareLiveRooms": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["live_setup_stage"]}),
    "GetLiveRoom": Row(ORGANIZERS, path=_live_room),
    "RunLiveRoomStep": Row(ORGANIZERS, path=lambda w, role: {**_live_room(w, role), "step": "start-pitch"}),
    "StreamLiveRoom": Row(EVENT_ADMINS, path=_live_closed_room),
    "StreamLiveRoomScreen": Row(EVENT_ADMINS, path=_live_closed_room),
    "GetLiveRoomResult": Row(EVENT_ADMINS, path=_live_room),
    "DownloadLiveScoreSheet": Row(EVENT_ADMINS, path=_live_room),
    "GetJudgeRoom": Row(
        frozenset({"judge"}), path=_live_closed_room, refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404)
    ),
    "StreamJudgeRoom": Row(
        frozenset({"judge"}), path=_live_closed_room, refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404)
    ),
    # Judging: advancement, prizes and certificates (judging.advancement), on the published stage of
    # _seed_judging_advancement; a certificate's document for its holder, the team and the
    # organizers whose scope covers it (to anyone else it does not exist)
    "GetAdvancementRules": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "SetAdvancementRules": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["adv_stage"]},
        body=lambda w, role: {"to_stage": w.ids["adv_next"], "rules": {"total": 5}},
    ),
    "ListRecommendations": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "RecommendTeams": Row(
        EVENT_ADMINS,
        path=lambda w, role: {"stage_id": w.ids["adv_stage"]},
        body=lambda w, role: {"entries": [w.ids["adv_runner_entry"]]},
    ),
    "AcceptRecommendations": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "WithdrawRecommendation": Row(
        EVENT_ADMINS, path=lambda w, role: {"recommendation_id": w.ids["adv_recommendation"]}
    ),
    "RefuseRecommendation": Row(
        ORGANIZERS,
        path=lambda w, role: {"recommendation_id": w.ids["adv_recommendation"]},
        body=lambda w, role: {"reason": "Too late"},
    ),
    "GetPrizeTiers": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "SetPrizeTiers": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["adv_stage"]},
        body=lambda w, role: {"tiers": [{"code": "first", "size": 2, "name_en": "First prize"}]},
    ),
    "ListAwards": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "GiveAwards": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "ListCertificates": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "IssueCertificates": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["adv_stage"]}),
    "GetCertificatePdf": Row(
        EVENT_ADMINS | {"member"},
        path=lambda w, role: {"document": f"{ADV_SERIAL}.pdf"},
        refused=dict.fromkeys(("judge", "checkin", "other"), 404),
    ),
    "RevokeCertificate": Row(
        ORGANIZERS, path=lambda w, role: {"serial": ADV_SERIAL}, body=lambda w, role: {"reason": "Wrong name"}
    ),
    # Judging: results (judging.results), on the stages of _seed_judging_results: runs and exports of
    # the locked stage, re-review on the scoring stage, appeals on the published ones (the judged
    # team's leader is ``member``, platform admins may act for anyone; to those who may not see the
    # team an appeal does not exist)
    "RequestRankingRun": Row(ORGANIZERS, path=lambda w, role: {"stage_id": w.ids["res_stage"]}),
    "ListRankingRuns": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["res_stage"]}),
    "GetRankingRun": Row(EVENT_ADMINS, path=lambda w, role: {"run_id": w.ids["res_run"]}),
    "GetRankingResults": Row(EVENT_ADMINS, path=lambda w, role: {"run_id": w.ids["res_run"]}),
    "PublishRanking": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["res_stage"]},
        body=lambda w, role: {"run": w.ids["res_run"]},
    ),
    "ExportStageResults": Row(
        EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["res_stage"], "file": "rankings.csv"}
    ),
    "ListRereview": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["res_scoring"]}),
    "RequestRereview": Row(
        ORGANIZERS,
        path=lambda w, role: {"stage_id": w.ids["res_scoring"]},
        body=lambda w, role: {"entry": w.ids["res_scoring_entry"], "reason": "Spread of 20 points"},
    ),
    "AddRereviewJudge": Row(
        ORGANIZERS,
        path=lambda w, role: {"entry_id": w.ids["res_scoring_entry"]},
        body=lambda w, role: {"judge": w.users["checkin"]},
    ),
    "FileAppeal": Row(
        frozenset({"member", "admin"}),
        path=lambda w, role: {"stage_id": w.ids["res_free"]},
        body=lambda w, role: {"team": w.ids["judged_team"], "text": RES_TEXT},
        team=True,
    ),
    "ListAppeals": Row(EVENT_ADMINS, path=lambda w, role: {"stage_id": w.ids["res_published"]}),
    "GetAppeal": Row(TEAM_VIEWERS, path=lambda w, role: {"appeal_id": w.ids["res_appeal"]}, team=True),
    "AnswerAppeal": Row(
        ORGANIZERS,
        path=lambda w, role: {"appeal_id": w.ids["res_appeal"]},
        body=lambda w, role: {"status": "dismissed", "answer": "The sheets stand."},
    ),
    "WithdrawAppeal": Row(
        frozenset({"member", "admin"}), path=lambda w, role: {"appeal_id": w.ids["res_appeal"]}, team=True
    ),
    # Ticketing: ticket types, tickets, keys, badges (ticketing.tickets, ticketing.badges) -----------
    "ListTicketTypes": Row(ORGANIZERS, "running", _on("running")),
    "CreateTicketType": Row(
        ORGANIZERS,
        "running",
        _on("running"),
        lambda w, role: {"number": 9, "kind": "guest", "name_en": "Guest"},
    ),
    "UpdateTicketType": Row(
        ORGANIZERS,
        "running",
        lambda w, role: {"type_id": w.ids["ticket_type"]},
        lambda w, role: {"name_en": "Renamed"},
    ),
    "DeleteTicketType": Row(ORGANIZERS, "running", lambda w, role: {"type_id": w.ids["spare_ticket_type"]}),
    "ListTickets": Row(ORGANIZERS, "running", _on("running")),
    "IssueTicket": Row(
        ORGANIZERS,
        "running",
        _on("running"),
        lambda w, role: {
            "ticket_type": w.ids["ticket_type"],
            "name_native": "Guest 2",
            "email": "g2@matrix.example",
        },
    ),
    "IssueMissingTickets": Row(ORGANIZERS, "running", _on("running"), lambda w, role: {}),
    "ImportTickets": Row(
        ORGANIZERS,
        "running",
        _on("running"),
        lambda w, role: {"csv": "name_native,email,type\nA,a@matrix.example,1\n"},
    ),
    "ExportTickets": Row(ORGANIZERS, "running", _on("running")),
    "ListSigningKeys": Row(ORGANIZERS, "running", _on("running")),
    "RotateSigningKey": Row(ORGANIZERS, "running", _on("running")),
    "RetireSigningKey": Row(
        ORGANIZERS, "running", lambda w, role: {"event_id": w.events["running"], "key_id": 0}
    ),
    "ListMyTickets": Row(LOGGED_IN),
    # one ticket: its holder sees it (and may not change it: 403); to anyone else it does not exist
    "GetTicket": Row(TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    "RevokeTicket": Row(ORGANIZERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    "ReissueTicket": Row(ORGANIZERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    "TransferTicket": Row(
        ORGANIZERS,
        "running",
        _ticket,
        lambda w, role: {"name_native": "New holder", "email": "new.holder@matrix.example"},
        refused=_NOT_TICKET_VIEWERS,
    ),
    "MailTicket": Row(ORGANIZERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    # badges (ticketing.badges): runs and mail are the organizers'; a ticket's images are its own
    "RequestBadgeRun": Row(ORGANIZERS, "running", _on("running"), lambda w, role: {"format": "label"}),
    "ListBadgeRuns": Row(ORGANIZERS, "running", _on("running")),
    "GetBadgeRun": Row(ORGANIZERS, "running", lambda w, role: {"run_id": w.ids["badge_run"]}),
    "DownloadBadgeRun": Row(ORGANIZERS, "running", lambda w, role: {"run_id": w.ids["badge_run"]}),
    "MailBadges": Row(ORGANIZERS, "running", _on("running")),
    "GetTicketQr": Row(TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    "GetTicketBadge": Row(TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    # (end of ticketing.tickets rows)
    # Ticketing: check-in lists and devices (ticketing.lists) -----------------------------------------
    # organizers set lists and devices up; check-in staff read the lists. A list per session is made
    # in the forum (a draft: hidden from those who may not see drafts), whose one session has none.
    "ListCheckinLists": Row(CHECKIN_STAFF, "running", _on("running")),
    "CreateCheckinList": Row(
        ORGANIZERS,
        "running",
        _on("running"),
        lambda w, role: {"name": "Matrix list", "rules": {"capacity": 10}},
    ),
    "CreateSessionLists": Row(ORGANIZERS, "forum", _on("forum")),
    "GetCheckinList": Row(CHECKIN_STAFF, "running", lambda w, role: {"list_id": w.ids["checkin_list"]}),
    "UpdateCheckinList": Row(
        ORGANIZERS,
        "running",
        lambda w, role: {"list_id": w.ids["checkin_list"]},
        lambda w, role: {"name": "Main gate", "rules": {"types": [1]}},
    ),
    "ArchiveCheckinList": Row(ORGANIZERS, "running", lambda w, role: {"list_id": w.ids["checkin_list"]}),
    "RestoreCheckinList": Row(ORGANIZERS, "running", lambda w, role: {"list_id": w.ids["archived_list"]}),
    "ListDevices": Row(ORGANIZERS, "running", _on("running")),
    "CreateDevice": Row(
        ORGANIZERS,
        "running",
        _on("running"),
        lambda w, role: {"name": "Matrix phone", "lists": [w.ids["checkin_list"]]},
    ),
    "UpdateDevice": Row(
        ORGANIZERS,
        "running",
        lambda w, role: {"device_id": w.ids["device"]},
        lambda w, role: {"gate": "Gate 4"},
    ),
    "RevokeDevice": Row(ORGANIZERS, "running", lambda w, role: {"device_id": w.ids["device"]}),
    # (end of ticketing.lists rows)
    # Ticketing: scanning, offline bundle and sync, conflicts (ticketing.checkin) -------------------
    # a scan is a row of the check-in log (its own append-only audit), not an audit entry; devices
    # are tried in tests/integration/test_ticketing_scan.py (a device is none of the matrix's roles)
    "ScanTicket": Row(
        CHECKIN_STAFF,
        "running",
        body=lambda w, role: {"code": "MATRIX", "list": w.ids["checkin_list"], "nonce": f"matrix-{role}"},
        audited=False,
    ),
    "SyncScans": Row(
        CHECKIN_STAFF,
        "running",
        body=lambda w, role: {
            "scans": [
                {
                    "code": "MATRIX",
                    "list": w.ids["checkin_list"],
                    "nonce": f"matrix-sync-{role}",
                    "scanned_at": "2026-01-01T01:00:00Z",
                    "offline_verdict": "admitted",
                }
            ]
        },
        audited=False,
    ),
    "GetOfflineBundle": Row(CHECKIN_STAFF, "running", lambda w, role: {"list_id": w.ids["checkin_list"]}),
    "ListCheckinConflicts": Row(CHECKIN_STAFF, "running", _on("running")),
    # (end of ticketing.checkin rows)
    # Ticketing: the scanner page's own API (ticketing.scanner): any signed-in caller learns the lists
    # it may scan on, maybe none (what each sees, and devices: tests/integration/test_ticketing_scanner.py)
    "GetScanner": Row(LOGGED_IN),
    # (end of ticketing.scanner rows)
    # Ticketing: attendance (ticketing.attendance) ----------------------------------------------------
    "GetAttendance": Row(CHECKIN_STAFF, "running", _on("running")),
    "ExportAttendance": Row(CHECKIN_STAFF, "running", _on("running")),
    # (end of ticketing.attendance rows)
    # Incubator: programmes, cohorts, admissions, startups, founders (incubator.programmes) -----------
    # a programme: any role in it reads it, its managers change it; a cohort: its managers and viewers;
    # admissions from a contest also need its judging (``scoped`` organizes track A of the running one)
    "ListProgrammes": Row(LOGGED_IN),
    "CreateProgramme": Row(
        ORG_ADMINS,
        body=lambda w, role: {
            "organization_id": w.ids["organization"],
            "slug": f"matrix-{role}",
            "name_en": "New",
        },
    ),
    "GetProgramme": Row(INC_PEOPLE, path=_inc(programme_id="programme"), refused=INC_REFUSED),
    "UpdateProgramme": Row(
        INC_MANAGERS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {"stalled_weeks": 8},
        refused=INC_REFUSED,
    ),
    "ListProgrammeRoles": Row(INC_MANAGERS, path=_inc(programme_id="programme"), refused=INC_REFUSED),
    "GrantProgrammeRole": Row(
        INC_MANAGERS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {"email": w.email("other"), "role": "viewer"},
        refused=INC_REFUSED,
    ),
    "RevokeProgrammeRole": Row(
        INC_MANAGERS,
        path=lambda w, role: {"programme_id": w.ids["programme"], "user_id": w.users["checkin"]},
        refused=INC_REFUSED,
    ),
    "CreateCohort": Row(
        INC_MANAGERS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {"name": "Matrix cohort", "starts_on": "2027-01-01", "ends_on": "2027-12-31"},
        refused=INC_REFUSED,
    ),
    "GetCohort": Row(INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "UpdateCohort": Row(
        INC_MANAGERS, path=_inc(cohort_id="cohort"), body=lambda w, role: {"places": 30}, refused=INC_REFUSED
    ),
    "PreviewAdmission": Row(
        INC_MANAGERS,
        path=lambda w, role: {"cohort_id": w.ids["cohort"], "event_id": w.events["running"]},
        refused=INC_REFUSED,
    ),
    "AdmitFromResults": Row(
        INC_MANAGERS,
        path=_inc(cohort_id="cohort"),
        body=lambda w, role: {"event_id": w.events["running"], "tiers": ["excellence"]},
        refused=INC_REFUSED,
    ),
    "AdmitTeams": Row(
        INC_MANAGERS,
        path=_inc(cohort_id="cohort"),
        body=lambda w, role: {"event_id": w.events["running"], "team_ids": [w.ids["winner_team"]]},
        refused=INC_REFUSED,
    ),
    "AdmitStartup": Row(
        INC_MANAGERS,
        path=_inc(cohort_id="cohort"),
        body=lambda w, role: {"name": "Matrix startup", "founder_emails": [w.email("other")]},
        refused=INC_REFUSED,
    ),
    # a startup's file: its founders, mentors and the programme's managers read it; founders own its
    # profile, managers its status and founders
    "GetStartup": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "UpdateStartup": Row(
        FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"sector": "retail"},
        refused=STARTUP_REFUSED,
    ),
    "SetStartupStatus": Row(
        INC_MANAGERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"status": "graduated"},
        refused=STARTUP_REFUSED,
    ),
    "AddFounder": Row(
        INC_MANAGERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"email": w.email("other")},
        refused=STARTUP_REFUSED,
    ),
    "RemoveFounder": Row(
        INC_MANAGERS,
        path=lambda w, role: {"startup_id": w.ids["startup"], "user_id": w.users["member"]},
        refused=STARTUP_REFUSED,
    ),
    # (end of incubator.programmes rows)
    # Incubator: mentor directory, connections, budgets, office hours, bookings (incubator.mentoring) --
    # the directory: managers, the programme's mentors and founders (a viewer is refused, 403);
    # managers add, connect and budget; a mentor edits their own profile and offers office hours;
    # founders book their mentors' slots and cancel (the slot's mentor too); everyone lists their own slots
    "ListMentors": Row(
        INC_MANAGERS | FOUNDERS | MENTORS, path=_inc(programme_id="programme"), refused=INC_REFUSED
    ),
    "AddMentor": Row(
        INC_MANAGERS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {"email": w.email("other"), "expertise": ["export"]},
        refused=INC_REFUSED,
    ),
    "GetMentor": Row(INC_MANAGERS | FOUNDERS | MENTORS, path=_inc(mentor_id="mentor"), refused=INC_REFUSED),
    "UpdateMentor": Row(
        INC_MANAGERS | MENTORS,
        path=_inc(mentor_id="mentor"),
        body=lambda w, role: {"headline": "Cross-border payments"},
        refused=INC_REFUSED,
    ),
    "ListMentorConnections": Row(INC_MANAGERS | MENTORS, path=_inc(mentor_id="mentor"), refused=INC_REFUSED),
    "ConnectMentorToStartup": Row(
        INC_MANAGERS,
        path=_inc(mentor_id="mentor"),
        body=lambda w, role: {"startup_id": w.ids["other_startup"], "budget_minutes": 120},
        refused=INC_REFUSED,
    ),
    "ConnectMentorToCohort": Row(
        INC_MANAGERS,
        path=_inc(mentor_id="mentor"),
        body=lambda w, role: {"cohort_id": w.ids["empty_cohort"], "minutes_per_startup": 60},
        refused=INC_REFUSED,
    ),
    "UpdateMentorLink": Row(
        INC_MANAGERS,
        path=_inc(link_id="mentor_link"),
        body=lambda w, role: {"budget_minutes": 900},
        refused=INC_REFUSED,
    ),
    "DisconnectMentorLink": Row(INC_MANAGERS, path=_inc(link_id="mentor_link"), refused=INC_REFUSED),
    "DisconnectMentorCohort": Row(
        INC_MANAGERS, path=_inc(connection_id="mentor_cohort"), refused=INC_REFUSED
    ),
    "ListStartupMentors": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "ListOpenOfficeHours": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "ListStartupBookings": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "BookOfficeHour": Row(
        FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"slot_id": w.ids["slot"], "topic": "Pricing"},
        refused=STARTUP_REFUSED,
    ),
    "CancelBooking": Row(FOUNDERS | MENTORS, path=_inc(booking_id="booking"), refused=STARTUP_REFUSED),
    "ListMyOfficeHours": Row(LOGGED_IN),
    "CreateOfficeHour": Row(
        MENTORS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {  # a month ahead: clear of the seeded slots
            key: (
                dt.datetime.now(dt.UTC).replace(minute=0, second=0) + dt.timedelta(days=30, hours=h)
            ).isoformat()
            for key, h in (("starts_at", 0), ("ends_at", 1))
        },
        refused=INC_REFUSED,
    ),
    "CancelOfficeHour": Row(MENTORS, path=_inc(slot_id="slot"), refused=INC_REFUSED),
    # (end of incubator.mentoring rows)
    # Incubator: meetings, private notes, action items (incubator.meetings) ---------------------------
    # everyone who sees the startup reads its meetings (private notes: their author's alone, see
    # tests/integration/test_incubator_meetings.py); its mentor logs, changes and deletes them; its
    # founders and mentors keep its action items; managers export
    "ListMeetings": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "LogMeeting": Row(
        MENTORS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {
            "held_at": "2026-11-20T15:00:00+08:00",
            "minutes": 45,
            "topics": ["pricing"],
            "private_notes": "Matrix notes",
            "action_items": [{"title": "Matrix item"}],
        },
        refused=STARTUP_REFUSED,
    ),
    "ExportMeetings": Row(INC_MANAGERS, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "GetMeeting": Row(STARTUP_PEOPLE, path=_inc(meeting_id="meeting"), refused=STARTUP_REFUSED),
    "UpdateMeeting": Row(
        MENTORS,
        path=_inc(meeting_id="meeting"),
        body=lambda w, role: {"minutes": 90, "private_notes": "Rewritten"},
        refused=STARTUP_REFUSED,
    ),
    "DeleteMeeting": Row(MENTORS, path=_inc(meeting_id="meeting"), refused=STARTUP_REFUSED),
    "ListActionItems": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "CreateActionItem": Row(
        FOUNDERS | MENTORS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"title": "Matrix item", "due_on": "2026-12-01"},
        refused=STARTUP_REFUSED,
    ),
    "UpdateActionItem": Row(
        FOUNDERS | MENTORS,
        path=_inc(item_id="action_item"),
        body=lambda w, role: {"done": True},
        refused=STARTUP_REFUSED,
    ),
    "ListMyActionItems": Row(LOGGED_IN),
    # (end of incubator.meetings rows)
    # Incubator: milestones, evidence, support promised and delivered (incubator.milestones) ----------
    # managers and founders plan milestones and back them with evidence; managers alone promise and
    # deliver support; everyone who sees the startup reads both and downloads the evidence
    "ListStartupMilestones": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "CreateMilestone": Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"title": "Matrix milestone", "due_on": "2027-03-31"},
        refused=STARTUP_REFUSED,
    ),
    "GetMilestone": Row(STARTUP_PEOPLE, path=_inc(milestone_id="milestone"), refused=STARTUP_REFUSED),
    "UpdateMilestone": Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        body=lambda w, role: {"state": "achieved"},
        refused=STARTUP_REFUSED,
    ),
    "AddMilestoneEvidenceLink": Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        body=lambda w, role: {"url": "https://example.com/matrix"},
        refused=STARTUP_REFUSED,
    ),
    "AddMilestoneEvidenceFile": Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        files=lambda w, role: {"file": ("matrix.png", EVIDENCE_PNG, "image/png")},
        refused=STARTUP_REFUSED,
    ),
    "AddDeliveryEvidenceLink": Row(
        INC_MANAGERS,
        path=_inc(delivery_id="delivery"),
        body=lambda w, role: {"url": "https://example.com/matrix"},
        refused=STARTUP_REFUSED,
    ),
    "AddDeliveryEvidenceFile": Row(
        INC_MANAGERS,
        path=_inc(delivery_id="delivery"),
        files=lambda w, role: {"file": ("matrix.png", EVIDENCE_PNG, "image/png")},
        refused=STARTUP_REFUSED,
    ),
    "DownloadEvidence": Row(STARTUP_PEOPLE, path=_inc(evidence_id="evidence_file"), refused=STARTUP_REFUSED),
    # the seeded link is the founder's: they and managers remove it, the mentor may not
    "DeleteEvidence": Row(
        INC_MANAGERS | FOUNDERS, path=_inc(evidence_id="evidence"), refused=STARTUP_REFUSED
    ),
    "GetStartupSupport": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "CreateSupportPromise": Row(
        INC_MANAGERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"kind": "cloud_credits", "quantity": "500.50", "unit": "USD"},
        refused=STARTUP_REFUSED,
    ),
    "WithdrawSupportPromise": Row(INC_MANAGERS, path=_inc(promise_id="promise"), refused=STARTUP_REFUSED),
    "RecordSupportDelivery": Row(
        INC_MANAGERS,
        path=_inc(promise_id="promise"),
        body=lambda w, role: {"quantity": "2.5", "delivered_on": "2026-11-20"},
        refused=STARTUP_REFUSED,
    ),
    # (end of incubator.milestones rows)
    # Incubator: schedules, periods, custom metrics, reports, sharing, reports due (incubator.reports) -
    "GetReportSchedule": Row(INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "SetReportSchedule": Row(
        INC_MANAGERS,
        path=_inc(cohort_id="cohort"),
        body=lambda w, role: {"frequency": "quarterly", "starts_on": "2026-09-01", "ends_on": "2027-08-31"},
        refused=INC_REFUSED,
    ),
    "ListReportsDue": Row(INC_MANAGERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "ExportCohortReports": Row(INC_MANAGERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "ListCustomMetrics": Row(INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED),
    "CreateCustomMetric": Row(
        INC_MANAGERS,
        path=_inc(programme_id="programme"),
        body=lambda w, role: {"key": "matrix_metric", "name_en": "Matrix metric", "question": "sales"},
        refused=INC_REFUSED,
    ),
    "UpdateCustomMetric": Row(
        INC_MANAGERS,
        path=_inc(metric_id="custom_metric"),
        body=lambda w, role: {"name_en": "Renamed", "archived": True},
        refused=INC_REFUSED,
    ),
    "ListStartupReports": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "GetReport": Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup", period_id="period"), refused=STARTUP_REFUSED
    ),
    "ListReportVersions": Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup", period_id="period"), refused=STARTUP_REFUSED
    ),
    "SubmitReport": Row(  # the founders' own: not even a platform admin files it for them
        FOUNDERS,
        path=_inc(startup_id="startup", period_id="period_2"),
        body=lambda w, role: {
            "answers": dict.fromkeys(("live_product", "sales", "recurring_revenue", "funding_round"), False),
            "values": {"headcount": 3, "jobs_created": 1, "graduate_jobs": 0, "patents": 0},
        },
        refused=STARTUP_REFUSED,
    ),
    "UpdateReportSharing": Row(
        FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"mentors_see_financials": True},
        refused=STARTUP_REFUSED,
    ),
    # (end of incubator.reports rows)
    # Incubator: dashboards and the impact report (incubator.dashboards) ------------------------------
    "GetStartupDashboard": Row(STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED),
    "GetCohortDashboard": Row(INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "GetProgrammeDashboard": Row(INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED),
    "ExportCohortImpactReport": Row(INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED),
    "ExportProgrammeImpactReport": Row(INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED),
    # (end of incubator.dashboards rows)
}

READS = {"GET", "HEAD"}
IMPORT_CSV = "track,team_name,leader_email\nA,Imported,judge@matrix.example\n"  # one team in track A, led by an account without a team


def expected_status(row: Row, method: str, role: str) -> int | None:
    """``None`` for allowed (any 2xx), else the refusal's status."""
    if role in row.allowed:
        return None
    hidden = row.event in ("draft", "forum") and role not in SEE_DRAFTS
    hidden = hidden or (row.team and role not in TEAM_VIEWERS)
    if row.view:
        return 404  # seeing an event is refused only by not finding it
    if role == "anonymous":
        return 401
    return row.refused.get(role, 404 if hidden else 403)


@pytest.fixture(scope="module")
def anyio_backend():
    """One event loop for the whole module, so that one running app serves all its tests."""
    return "asyncio"


@pytest.fixture(scope="module")
async def matrix_app(postgres_database) -> AsyncIterator[Litestar]:
    """The app, built and started once for the module: building it costs more than most cells."""
    app = create_app(get_settings())
    async with app.lifespan():
        yield app


@pytest.fixture
async def make_client(matrix_app, db) -> AsyncIterator[ClientFactory]:
    """As ``make_client`` in conftest (an emptied database and Redis for each test, clients that are
    closed after it), on the module's app. Each client starts with the app's cache of bearer tokens
    empty, as in an app of its own (a world restored under it sends no notification to drop it)."""
    clients: list[httpx.AsyncClient] = []

    async def factory(email: str | None = None, password: str = PASSWORD) -> httpx.AsyncClient:
        if matrix_app.state.principals is not None:
            matrix_app.state.principals.clear()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=matrix_app), base_url="http://podium.test"
        )
        clients.append(client)
        await prime_csrf(client)
        if email is not None:
            response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
            assert response.status_code == 200, response.text
        return client

    factory.app = matrix_app  # type: ignore[attr-defined]
    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def openapi(make_client) -> dict[str, Any]:
    client = await make_client()
    return (await client.get("/schema/openapi.json")).json()


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


async def test_every_operation_has_a_row(openapi):
    operations = set(_operations(openapi))
    assert operations - set(MATRIX) == set(), "operations without a row in the authorization matrix"
    assert set(MATRIX) - operations == set(), "rows for operations that no longer exist"


def _fill(template: str, params: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), template)


async def _client_as(make_client, world: World, role: str) -> httpx.AsyncClient:
    if role == "anonymous":
        return await make_client()
    return await make_client(world.email(role))


async def _audit_count() -> int:
    return await AuditEntry.count()


async def _as_bearer(make_client, role: str) -> httpx.AsyncClient:
    """A client sending the role's seeded API token (none for anonymous): no password hashing per cell."""
    client = await make_client()
    if role != "anonymous":
        client.headers["authorization"] = f"Bearer pdm_matrix_{role}"
    return client


@pytest.mark.parametrize("operation_id", sorted(MATRIX))
async def test_the_matrix(make_client, openapi, operation_id):
    method, template = _operations(openapi)[operation_id]
    row = MATRIX[operation_id]
    failures = []
    world = None
    for role in ROLES:
        if world is None:  # a fresh world, unless the last call was refused (and so changed nothing)
            world = await seed()
        client = await _as_bearer(make_client, role)
        url = _fill(template, row.path(world, role))
        body = row.body(world, role) if row.body else None
        before = await _audit_count()
        files = row.files(world, role) if row.files else None
        response = await client.request(method, url, json=body, files=files)
        written = await _audit_count() - before
        want = expected_status(row, method, role)
        if want is None:
            ok = 200 <= response.status_code < 300 and written == (
                0 if method in READS or not row.audited else 1
            )
            world = world if method in READS else None
        else:
            ok = response.status_code == want and written == 0
            ok = ok and set(response.json()) == {"code", "detail", "fields"}
        if not ok:
            failures.append(
                f"{role}: {method} {url} -> {response.status_code} {response.text[:200]} (audit +{written})"
            )
    assert not failures, "\n".join([f"{operation_id}, expected {sorted(row.allowed)} allowed:", *failures])


# Pages -----------------------------------------------------------------------------------------

# A session as the workspace's form posts it: times in the forum's own time zone (Europe/Moscow).
WORKSPACE_SESSION = {"starts_at": "2027-08-01T11:00", "ends_at": "2027-08-01T12:00", "title_en": "New"}

PAGE_MATRIX: dict[tuple[str, str], Row] = {
    # Judging: set-up (judging.setup): the hub and a stage's set-up for the event's organizers (scoped
    # admins read); the tablet's one-time sign-in link is its holder's credential, whoever opens it
    ("GET", "/workspace/events/{event_id}/judging"): Row(EVENT_ADMINS, "running", _on("running")),
    ("GET", "/workspace/events/{event_id}/judging/stages/{stage_id}"): Row(
        EVENT_ADMINS, "running", _on("running", stage_id="judging_stage")
    ),
    ("GET", "/tablet/{token}"): Row(EVERYONE, path=lambda w, role: {"token": TABLET_TOKEN}),
    ("POST", "/tablet/{token}"): Row(EVERYONE, path=lambda w, role: {"token": TABLET_TOKEN}),
    ("GET", "/"): Row(EVERYONE),
    ("GET", "/login"): Row(EVERYONE),
    ("POST", "/login"): Row(
        EVERYONE,
        body=lambda w, role: {
            "email": w.email("member" if role == "anonymous" else role),
            "password": PASSWORD,
        },
    ),
    ("POST", "/logout"): Row(LOGGED_IN),
    ("POST", "/language"): Row(EVERYONE, body=lambda w, role: {"lang": "ru", "next": "/"}),
    ("GET", "/events/{event}"): Row(
        SEE_DRAFTS, "draft", lambda w, role: {"event": w.events["draft"]}, view=True
    ),
    ("GET", "/me"): Row(LOGGED_IN),
    ("POST", "/me/profile"): Row(LOGGED_IN, body=lambda w, role: {"display_name": role, "locale": "en"}),
    ("POST", "/me/password"): Row(
        LOGGED_IN,
        body=lambda w, role: {
            "current_password": PASSWORD,
            "new_password": "another password",
            "new_password_again": "another password",
        },
    ),
    ("GET", "/signup"): Row(EVERYONE),
    ("POST", "/signup"): Row(
        EVERYONE, body=lambda w, role: {**SIGNUP_BODY, "password_again": PASSWORD, "terms": "on"}
    ),
    ("GET", "/confirm"): Row(EVERYONE),
    ("POST", "/confirm"): Row(EVERYONE, body=lambda w, role: {"email": w.email("member")}),
    ("GET", "/confirm/{token}"): Row(EVERYONE, path=lambda w, role: {"token": LINK_TOKENS["confirm_email"]}),
    ("POST", "/confirm/{token}"): Row(EVERYONE, path=lambda w, role: {"token": LINK_TOKENS["confirm_email"]}),
    ("GET", "/password-reset"): Row(EVERYONE),
    ("POST", "/password-reset"): Row(EVERYONE, body=lambda w, role: {"email": w.email("member")}),
    ("GET", "/password-reset/{token}"): Row(
        EVERYONE, path=lambda w, role: {"token": LINK_TOKENS["reset_password"]}
    ),
    ("POST", "/password-reset/{token}"): Row(
        EVERYONE,
        path=lambda w, role: {"token": LINK_TOKENS["reset_password"]},
        body=lambda w, role: {"password": "another password", "password_again": "another password"},
    ),
    ("POST", "/me/details"): Row(LOGGED_IN, body=lambda w, role: {"name_native": "Me", "name_latin": "Me"}),
    ("POST", "/me/consents"): Row(LOGGED_IN, body=lambda w, role: {"share_sponsors": "on"}),
    ("POST", "/me/erase"): Row(
        LOGGED_IN - {"member"}, body=lambda w, role: {"password": PASSWORD}, refused={"member": 409}
    ),
    # the invitation's link: its address has no account, so anonymous visitors create one (the first
    # call accepts it); every logged-in role is another address
    # the organizer's workspace: "other" is an organization admin too, of another organization
    ("GET", "/workspace"): Row(LOGGED_IN),
    ("GET", "/workspace/organizations/new"): Row(ADMIN),
    ("POST", "/workspace/organizations"): Row(
        ADMIN, body=lambda w, role: {"kind": "university", "slug": "matrix-new", "name_en": "New"}
    ),
    ("GET", "/workspace/organizations/{organization_id}"): Row(ORG_ADMINS, path=_org()),
    ("POST", "/workspace/organizations/{organization_id}"): Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"name_en": "Renamed"}
    ),
    ("POST", "/workspace/organizations/{organization_id}/roles"): Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"user_id": w.users["judge"], "role": "organizer"}
    ),
    ("POST", "/workspace/organizations/{organization_id}/roles/{grant_id}/revoke"): Row(
        ORG_ADMINS, path=_org(grant_id="staffer_grant")
    ),
    ("GET", "/workspace/events/new"): Row(ORG_ADMINS | {"other"}),  # "other" in its own organization
    ("POST", "/workspace/events"): Row(
        ORG_ADMINS,
        body=lambda w, role: {
            "organization_id": w.ids["organization"],
            "kind": "contest",
            "slug": "matrix-new",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-02",
            "name_en": "New",
        },
    ),
    ("GET", "/workspace/events/{event_id}"): Row(EVENT_ADMINS, "draft", _on("draft")),
    ("POST", "/workspace/events/{event_id}/open"): Row(ORGANIZERS, "draft", _on("draft")),
    ("POST", "/workspace/events/{event_id}/start"): Row(ORGANIZERS, "open", _on("open")),
    ("POST", "/workspace/events/{event_id}/close"): Row(ORGANIZERS, "running", _on("running")),
    ("POST", "/workspace/events/{event_id}/archive"): Row(ORG_ADMINS, "closed", _on("closed")),
    ("GET", "/workspace/events/{event_id}/settings"): Row(ORGANIZERS, "draft", _on("draft")),
    ("POST", "/workspace/events/{event_id}/settings"): Row(
        ORGANIZERS, "draft", _on("draft"), lambda w, role: {"name_en": "Renamed"}
    ),
    ("GET", "/workspace/events/{event_id}/structure"): Row(EVENT_ADMINS, "draft", _on("draft")),
    ("POST", "/workspace/events/{event_id}/tracks"): Row(
        ORGANIZERS, "draft", _on("draft"), lambda w, role: {"code": "NEW", "name_en": "New"}
    ),
    ("POST", "/workspace/events/{event_id}/tracks/{track_id}"): Row(
        EVENT_ADMINS, "draft", _on("draft", track_id="track_a"), lambda w, role: {"code": "A", "name_en": "R"}
    ),
    ("POST", "/workspace/events/{event_id}/tracks/{track_id}/delete"): Row(
        ORGANIZERS, "draft", _on("draft", track_id="track_b")
    ),
    ("POST", "/workspace/events/{event_id}/stages"): Row(
        ORGANIZERS, "draft", _on("draft"), lambda w, role: {"level": "national", "name_en": "National"}
    ),
    ("POST", "/workspace/events/{event_id}/stages/{stage_id}"): Row(
        ORGANIZERS, "draft", _on("draft", stage_id="stage"), lambda w, role: {"level": "province"}
    ),
    ("POST", "/workspace/events/{event_id}/stages/{stage_id}/delete"): Row(
        ORGANIZERS, "draft", _on("draft", stage_id="stage")
    ),
    ("POST", "/workspace/events/{event_id}/sessions"): Row(
        ORGANIZERS, "forum", _on("forum"), lambda w, role: WORKSPACE_SESSION
    ),
    ("POST", "/workspace/events/{event_id}/sessions/{session_id}"): Row(
        ORGANIZERS, "forum", _on("forum", session_id="session"), lambda w, role: WORKSPACE_SESSION
    ),
    ("POST", "/workspace/events/{event_id}/sessions/{session_id}/delete"): Row(
        ORGANIZERS, "forum", _on("forum", session_id="session")
    ),
    ("GET", "/workspace/events/{event_id}/audit"): Row(ORGANIZERS, "draft", _on("draft")),
    ("GET", "/workspace/events/{event_id}/people"): Row(EVENT_ADMINS, "draft", _on("draft")),
    # the organizers' "Teams" section (see the API rows and _seed_review_team)
    ("GET", "/workspace/events/{event_id}/teams"): Row(EVENT_ADMINS, "draft", _on("draft")),
    ("GET", "/workspace/events/{event_id}/teams/{team_id}"): Row(
        EVENT_ADMINS, "draft", _on("draft", team_id="review_team")
    ),
    ("POST", "/workspace/events/{event_id}/teams/{team_id}/review"): Row(
        EVENT_ADMINS, "draft", _on("draft", team_id="review_team"), lambda w, role: {"decision": "approve"}
    ),
    ("GET", "/workspace/events/{event_id}/teams/import"): Row(EVENT_ADMINS, "draft", _on("draft")),
    ("POST", "/workspace/events/{event_id}/teams/import"): Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        lambda w, role: {"dry_run": "false"},
        files=lambda w, role: {"file": ("teams.csv", IMPORT_CSV.encode(), "text/csv")},
    ),
    ("GET", "/workspace/organizations/{organization_id}/invitations"): Row(ORG_ADMINS, path=_org()),
    ("POST", "/workspace/organizations/{organization_id}/invitations"): Row(
        ORG_ADMINS, path=_org(), body=lambda w, role: {"email": "new@matrix.example", "role": "org_admin"}
    ),
    ("POST", "/workspace/organizations/{organization_id}/invitations/{invitation_id}/resend"): Row(
        ORG_ADMINS, path=_org(invitation_id="org_invitation")
    ),
    ("POST", "/workspace/organizations/{organization_id}/invitations/{invitation_id}/revoke"): Row(
        ORG_ADMINS, path=_org(invitation_id="org_invitation")
    ),
    ("POST", "/workspace/events/{event_id}/people/invitations"): Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        lambda w, role: {"email": "new@matrix.example", "role": "judge", "track_id": w.ids["track_a"]},
    ),
    ("POST", "/workspace/events/{event_id}/people/invitations/{invitation_id}/resend"): Row(
        EVENT_ADMINS, "draft", _on("draft", invitation_id="invitation")
    ),
    ("POST", "/workspace/events/{event_id}/people/invitations/{invitation_id}/revoke"): Row(
        EVENT_ADMINS, "draft", _on("draft", invitation_id="invitation")
    ),
    ("POST", "/workspace/events/{event_id}/people/roles"): Row(
        EVENT_ADMINS,
        "draft",
        _on("draft"),
        lambda w, role: {"user_id": w.users["member"], "role": "mentor", "track_id": w.ids["track_a"]},
    ),
    ("POST", "/workspace/events/{event_id}/people/roles/{grant_id}/revoke"): Row(
        EVENT_ADMINS, "draft", _on("draft", grant_id="judge_grant")
    ),
    ("GET", "/invitations/{token}"): Row(
        frozenset({"anonymous"}), path=lambda w, role: {"token": INVITATION_TOKEN}
    ),
    ("POST", "/invitations/{token}"): Row(
        frozenset({"anonymous"}),
        path=lambda w, role: {"token": INVITATION_TOKEN},
        body=lambda w, role: {"display_name": "Invitee", "password": PASSWORD, "password_again": PASSWORD},
    ),
    # Judging: assignment (judging.assign): the scoring stage's page, for every organizer (scoped ones
    # see their scope, without the forms)
    ("GET", "/workspace/events/{event_id}/judging/stages/{stage_id}/assignment"): Row(
        EVENT_ADMINS,
        path=lambda w, role: {"event_id": w.events["running"], "stage_id": w.ids["judging_stage"]},
    ),
    # and the judge's page to abstain from their assignment (to anyone else it does not exist)
    ("GET", "/assignments/{assignment_id}/recuse"): Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    ("POST", "/assignments/{assignment_id}/recuse"): Row(
        frozenset({"judge"}),
        path=lambda w, role: {"assignment_id": w.ids["assignment"]},
        body=lambda w, role: {"reason": "I know the team"},
        refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404),
    ),
    # the participants' team pages: the team of the open contest (see _seed_team); its member may
    # look and submit materials, only the organizers whose scope covers it change it
    ("GET", "/teams"): Row(LOGGED_IN),
    ("POST", "/teams/join"): Row(
        LOGGED_IN - {"member"}, body=lambda w, role: {"code": TEAM_CODE}, refused={"member": 409}
    ),
    ("GET", "/events/{event}/register"): Row(LOGGED_IN, path=lambda w, role: {"event": "matrix-open"}),
    ("POST", "/events/{event}/register"): Row(
        LOGGED_IN,
        path=lambda w, role: {"event": "matrix-open"},
        body=lambda w, role: {"step": "create", "track_id": w.ids["open_track_b"], "name": f"T {role}"},
    ),
    ("GET", "/teams/{team_id}"): Row(TEAM_VIEWERS, path=_team(), team=True),
    ("GET", "/teams/{team_id}/invite"): Row(TEAM_VIEWERS, path=_team(), team=True),
    ("GET", "/teams/{team_id}/summary"): Row(TEAM_VIEWERS, path=_team(), team=True),
    ("GET", "/teams/{team_id}/withdraw"): Row(TEAM_VIEWERS, path=_team(), team=True),
    ("POST", "/teams/{team_id}/withdraw"): Row(EVENT_ADMINS, path=_team(), team=True),
    ("POST", "/teams/{team_id}/seats"): Row(
        EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"email": "new@team.matrix.example"}
    ),
    ("POST", "/teams/{team_id}/seats/{seat_id}/remove"): Row(
        EVENT_ADMINS, path=_team(seat_id="team_invited_other"), team=True
    ),
    ("POST", "/teams/{team_id}/seats/{seat_id}/approve"): Row(
        EVENT_ADMINS, path=_team(seat_id="team_request"), team=True
    ),
    ("POST", "/teams/{team_id}/seats/{seat_id}/refuse"): Row(
        EVENT_ADMINS, path=_team(seat_id="team_request"), team=True
    ),
    ("POST", "/teams/{team_id}/join-code"): Row(EVENT_ADMINS, path=_team(), team=True),
    ("POST", "/teams/{team_id}/names"): Row(
        EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"name": f"N {role}"}
    ),
    ("POST", "/teams/{team_id}/leader"): Row(
        EVENT_ADMINS, path=_team(), team=True, body=lambda w, role: {"user_id": w.users["member"]}
    ),
    # only a seat holder leaves (organizers hold none: no seat to leave)
    ("POST", "/teams/{team_id}/leave"): Row(
        frozenset({"member"}), path=_team(), team=True, refused=dict.fromkeys(EVENT_ADMINS, 404)
    ),
    ("POST", "/teams/{team_id}/stages/{stage_id}/materials/{kind}"): Row(
        TEAM_VIEWERS,
        path=lambda w, role: {"team_id": w.ids["team"], "stage_id": w.ids["open_stage"], "kind": "summary"},
        team=True,
        body=lambda w, role: {"text": "Our plan"},
    ),
    # the team invitation's link is for an address without an account: logged-in roles are others
    ("GET", "/team-invitations/{token}"): Row(
        frozenset({"anonymous"}), path=lambda w, role: {"token": TEAM_INVITATION_TOKEN}
    ),
    ("POST", "/team-invitations/{token}/accept"): Row(
        frozenset({"anonymous"}),
        path=lambda w, role: {"token": TEAM_INVITATION_TOKEN},
        body=lambda w, role: {"display_name": "Invitee", "password": PASSWORD, "password_again": PASSWORD},
    ),
    ("POST", "/team-invitations/{token}/decline"): Row(
        frozenset({"anonymous"}), path=lambda w, role: {"token": TEAM_INVITATION_TOKEN}
    ),
    # Judging: live finals (judging.live), as in the API rows
    ("GET", "/workspace/events/{event_id}/judging/stages/{stage_id}/live"): Row(
        ORGANIZERS, path=lambda w, role: {"event_id": w.events["running"], "stage_id": w.ids["live_stage"]}
    ),
    ("GET", "/live/rooms/{panel_id}/screen"): Row(EVENT_ADMINS, path=_live_room),
    ("GET", "/judge/rooms/{panel_id}"): Row(
        frozenset({"judge"}), path=_live_closed_room, refused=dict.fromkeys(LOGGED_IN - {"judge"}, 404)
    ),
    # Judging: advancement, prizes and certificates (judging.advancement), as in the API rows
    **{
        (method, f"{ADV_PAGES}{rest}"): Row(allowed, path=_adv_stage, body=body)
        for method, rest, allowed, body in (
            ("GET", "/advancement", EVENT_ADMINS, None),
            ("GET", "/prizes", EVENT_ADMINS, None),
            (
                "POST",
                "/advancement/rules",
                ORGANIZERS,
                lambda w, role: {"to_stage": w.ids["adv_next"], "total": "5"},
            ),
            (
                "POST",
                "/advancement/recommend",
                EVENT_ADMINS,
                lambda w, role: {"entry": w.ids["adv_runner_entry"]},
            ),
            ("POST", "/advancement/accept", ORGANIZERS, None),
            (
                "POST",
                "/prizes/tiers",
                ORGANIZERS,
                lambda w, role: {"code_0": "first", "size_0": "2", "name_en_0": "First prize"},
            ),
            ("POST", "/prizes/awards", ORGANIZERS, None),
            ("POST", "/prizes/certificates", ORGANIZERS, None),
        )
    },
    ("GET", "/teams/{team_id}/certificates"): Row(
        TEAM_VIEWERS, path=lambda w, role: {"team_id": w.ids["judged_team"]}, team=True
    ),
    ("GET", "/verify/{serial}"): Row(EVERYONE, path=lambda w, role: {"serial": ADV_SERIAL}),
    # Judging: results (judging.results), as in the API rows
    **{
        (method, f"{ADV_PAGES}{rest}"): Row(
            allowed, path=lambda w, role, key=key: _res_stage(w, key), body=body
        )
        for method, rest, key, allowed, body in (
            ("GET", "/results", "res_stage", EVENT_ADMINS, None),
            ("POST", "/results/run", "res_stage", ORGANIZERS, None),
            (
                "POST",
                "/results/publish",
                "res_stage",
                ORGANIZERS,
                lambda w, role: {"run": str(w.ids["res_run"])},
            ),
            (
                "POST",
                "/results/rereview",
                "res_scoring",
                ORGANIZERS,
                lambda w, role: {"entry": str(w.ids["res_scoring_entry"]), "reason": "Spread"},
            ),
            ("GET", "/appeals", "res_published", EVENT_ADMINS, None),
        )
    },
    ("POST", f"{ADV_PAGES}/appeals/{{appeal_id}}/answer"): Row(
        ORGANIZERS,
        path=lambda w, role: {**_res_stage(w, "res_published"), "appeal_id": w.ids["res_appeal"]},
        body=lambda w, role: {"status": "upheld", "answer": "Re-scored."},
    ),
    ("GET", "/events/{event}/stages/{stage_id}/results"): Row(
        EVERYONE, path=lambda w, role: {"event": w.events["running"], "stage_id": w.ids["res_published"]}
    ),
    ("GET", "/teams/{team_id}/results"): Row(
        TEAM_VIEWERS, path=lambda w, role: {"team_id": w.ids["judged_team"]}, team=True
    ),
    ("POST", "/teams/{team_id}/results/appeal"): Row(
        frozenset({"member", "admin"}),
        path=lambda w, role: {"team_id": w.ids["judged_team"]},
        body=lambda w, role: {"stage": str(w.ids["res_free"]), "text": RES_TEXT},
        team=True,
    ),
    ("POST", "/teams/{team_id}/results/appeals/{appeal_id}/withdraw"): Row(
        frozenset({"member", "admin"}),
        path=lambda w, role: {"team_id": w.ids["judged_team"], "appeal_id": w.ids["res_appeal"]},
        team=True,
    ),
    # Judging: scoring (judging.scoring): the tablet page (anyone logged in: their own queue, maybe
    # empty), its service worker and web app manifest (files, like /static)
    ("GET", "/judge"): Row(LOGGED_IN),
    ("GET", "/judge/sw.js"): Row(EVERYONE),
    ("GET", "/judge/manifest.webmanifest"): Row(EVERYONE),
    # Ticketing pages: tickets, badges, holders' own tickets (ticketing.tickets, ticketing.badges) ---
    ("GET", "/workspace/events/{event_id}/ticketing"): Row(ORGANIZERS, "running", _on("running")),
    ("GET", "/workspace/events/{event_id}/ticketing/tickets"): Row(ORGANIZERS, "running", _on("running")),
    ("GET", "/tickets"): Row(LOGGED_IN),
    ("GET", "/tickets/{ticket_id}"): Row(TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS),
    # badges (ticketing.badges): the organizers' page and forms, a ticket's images, and the badge
    # behind a mailed link, whose token is the key (anyone holding the link)
    ("GET", "/workspace/events/{event_id}/ticketing/badges"): Row(ORGANIZERS, "running", _on("running")),
    ("POST", "/workspace/events/{event_id}/ticketing/badges/render"): Row(
        ORGANIZERS, "running", _on("running"), lambda w, role: {"format": "a6"}
    ),
    ("POST", "/workspace/events/{event_id}/ticketing/badges/mail"): Row(
        ORGANIZERS, "running", _on("running")
    ),
    ("GET", "/tickets/{ticket_id}/qr.png"): Row(
        TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS
    ),
    ("GET", "/tickets/{ticket_id}/badge.png"): Row(
        TICKET_VIEWERS, "running", _ticket, refused=_NOT_TICKET_VIEWERS
    ),
    ("GET", "/badges/{ticket_id}/{token}"): Row(
        EVERYONE, path=lambda w, role: {"ticket_id": w.ids["ticket"], "token": w.ids["badge_link"]}
    ),
    # (end of ticketing.tickets pages)
    # Ticketing pages: check-in lists and devices (ticketing.lists) ----------------------------------
    **{
        (method, f"/workspace/events/{{event_id}}/ticketing/{rest}"): Row(ORGANIZERS, event, path, body)
        for method, rest, event, path, body in (
            ("GET", "lists", "running", _on("running"), None),
            (
                "POST",
                "lists",
                "running",
                _on("running"),
                lambda w, role: {"name": "Matrix list", "kind": "gate", "entries_total": "1"},
            ),
            ("POST", "lists/sessions", "forum", _on("forum"), None),
            (
                "POST",
                "lists/{list_id}",
                "running",
                _on("running", list_id="checkin_list"),
                lambda w, role: {"name": "Main gate", "kind": "gate", "entries_total": "2"},
            ),
            ("POST", "lists/{list_id}/archive", "running", _on("running", list_id="checkin_list"), None),
            ("POST", "lists/{list_id}/restore", "running", _on("running", list_id="archived_list"), None),
            ("GET", "devices", "running", _on("running"), None),
            (
                "POST",
                "devices",
                "running",
                _on("running"),
                lambda w, role: {"name": "Matrix phone", "lists": str(w.ids["checkin_list"])},
            ),
            (
                "POST",
                "devices/{device_id}",
                "running",
                _on("running", device_id="device"),
                lambda w, role: {"name": "Scanner", "gate": "Gate 4", "lists": str(w.ids["checkin_list"])},
            ),
            ("POST", "devices/{device_id}/revoke", "running", _on("running", device_id="device"), None),
        )
    },
    # (end of ticketing.lists pages)
    # Ticketing pages: check-in conflicts (ticketing.checkin) -----------------------------------------
    ("GET", "/workspace/events/{event_id}/ticketing/conflicts"): Row(
        CHECKIN_STAFF, "running", _on("running")
    ),
    # (end of ticketing.checkin pages)
    # Ticketing pages: the scanner (ticketing.scanner) -------------------------------------------------
    # open to anyone: a scanning device has no session, only its token, which the page sends to the API
    ("GET", "/scan"): Row(EVERYONE),
    ("GET", "/scan/sw.js"): Row(EVERYONE),
    ("GET", "/scan/manifest.webmanifest"): Row(EVERYONE),
    # (end of ticketing.scanner pages)
    # Ticketing pages: attendance (ticketing.attendance) ---------------------------------------------
    ("GET", "/workspace/events/{event_id}/ticketing/attendance"): Row(
        CHECKIN_STAFF, "running", _on("running")
    ),
    ("GET", "/workspace/events/{event_id}/ticketing/attendance/arrivals.svg"): Row(
        CHECKIN_STAFF, "running", _on("running")
    ),
    # (end of ticketing.attendance pages)
    # Incubator pages: hub, programmes, cohorts, startup overview, admission (incubator.programmes) ---
    ("GET", "/incubator"): Row(LOGGED_IN),
    ("POST", "/incubator/programmes"): Row(
        ORG_ADMINS,
        body=lambda w, role: {
            "organization_id": str(w.ids["organization"]),
            "slug": f"matrix-{role}",
            "name_en": "New",
        },
    ),
    ("GET", "/incubator/programmes/{programme_id}"): Row(
        INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED
    ),
    **{
        ("POST", f"/incubator/programmes/{{programme_id}}{rest}"): Row(
            INC_MANAGERS, path=path, body=body, refused=INC_REFUSED
        )
        for rest, path, body in (
            (
                "",
                _inc(programme_id="programme"),
                lambda w, role: {
                    "name_en": "Renamed",
                    "currency": "CNY",
                    "cancellation_hours": "12",
                    "stalled_weeks": "8",
                },
            ),
            (
                "/roles",
                _inc(programme_id="programme"),
                lambda w, role: {"email": w.email("other"), "role": "viewer"},
            ),
            (
                "/roles/{user_id}/revoke",
                lambda w, role: {"programme_id": w.ids["programme"], "user_id": w.users["checkin"]},
                None,
            ),
            (
                "/cohorts",
                _inc(programme_id="programme"),
                lambda w, role: {
                    "name": "Matrix cohort",
                    "starts_on": "2027-01-01",
                    "ends_on": "2027-12-31",
                    "places": "10",
                },
            ),
        )
    },
    ("GET", "/incubator/cohorts/{cohort_id}"): Row(
        INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED
    ),
    **{
        ("POST", f"/incubator/cohorts/{{cohort_id}}{rest}"): Row(
            INC_MANAGERS, path=_inc(cohort_id="cohort"), body=body, refused=INC_REFUSED
        )
        for rest, body in (
            (
                "",
                lambda w, role: {
                    "name": "2026 autumn",
                    "starts_on": "2026-09-01",
                    "ends_on": "2027-08-31",
                    "mode": "online",
                    "places": "30",
                },
            ),
            ("/admit-results", lambda w, role: {"event_id": str(w.events["running"]), "tiers": "excellence"}),
            (
                "/admit-teams",
                lambda w, role: {"event_id": str(w.events["running"]), "team_ids": str(w.ids["winner_team"])},
            ),
            ("/admit-direct", lambda w, role: {"name": "Matrix startup", "founder_emails": w.email("other")}),
        )
    },
    ("GET", "/incubator/startups/{startup_id}"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/startups/{startup_id}"): Row(
        FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"name": "Silk Road Labs", "sector": "retail"},
        refused=STARTUP_REFUSED,
    ),
    **{
        ("POST", f"/incubator/startups/{{startup_id}}{rest}"): Row(
            INC_MANAGERS, path=path, body=body, refused=STARTUP_REFUSED
        )
        for rest, path, body in (
            ("/status", _inc(startup_id="startup"), lambda w, role: {"status": "graduated"}),
            (
                "/founders",
                _inc(startup_id="startup"),
                lambda w, role: {"email": w.email("other"), "role": "founder"},
            ),
            (
                "/founders/{user_id}/remove",
                lambda w, role: {"startup_id": w.ids["startup"], "user_id": w.users["member"]},
                None,
            ),
        )
    },
    # the contest workspace's section: its organizers see the winners; admitting also takes managing a
    # programme (the event's organizer has no role in it: 404)
    ("GET", "/workspace/events/{event_id}/incubation"): Row(ORGANIZERS, "running", _on("running")),
    ("POST", "/workspace/events/{event_id}/incubation"): Row(
        ORG_ADMINS,
        "running",
        _on("running"),
        lambda w, role: {"cohort_id": str(w.ids["cohort"]), "tiers": "excellence"},
        refused={"organizer": 404},
    ),
    # (end of incubator.programmes pages)
    # Incubator pages: mentors, office hours (incubator.mentoring) ------------------------------------
    # the directory as its API (managers, mentors, founders; a viewer is refused), a startup's tab for
    # those who see its file, and everyone's own office hours (a mentor's slots, or a note that they are none)
    ("GET", "/incubator/programmes/{programme_id}/mentors"): Row(
        INC_MANAGERS | FOUNDERS | MENTORS, path=_inc(programme_id="programme"), refused=INC_REFUSED
    ),
    ("GET", "/incubator/startups/{startup_id}/mentors"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/office-hours"): Row(LOGGED_IN),
    # (end of incubator.mentoring pages)
    # Incubator pages: meetings (incubator.meetings) --------------------------------------------------
    ("GET", "/incubator/startups/{startup_id}/meetings"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/startups/{startup_id}/meetings"): Row(
        MENTORS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"held_at": "2026-11-20T15:00", "minutes": "45", "item_0_title": "Matrix item"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/startups/{startup_id}/action-items"): Row(
        FOUNDERS | MENTORS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"title": "Matrix item", "side": "founders"},
        refused=STARTUP_REFUSED,
    ),
    ("GET", "/incubator/meetings/{meeting_id}"): Row(
        STARTUP_PEOPLE, path=_inc(meeting_id="meeting"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/meetings/{meeting_id}"): Row(
        MENTORS,
        path=_inc(meeting_id="meeting"),
        body=lambda w, role: {"held_at": "2026-10-12T14:00", "minutes": "90", "private_notes": "Rewritten"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/meetings/{meeting_id}/delete"): Row(
        MENTORS, path=_inc(meeting_id="meeting"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/action-items"): Row(LOGGED_IN),
    ("POST", "/incubator/action-items/{item_id}"): Row(
        FOUNDERS | MENTORS,
        path=_inc(item_id="action_item"),
        body=lambda w, role: {"done": "1"},
        refused=STARTUP_REFUSED,
    ),
    # (end of incubator.meetings pages)
    # Incubator pages: milestones, support (incubator.milestones) -------------------------------------
    ("GET", "/incubator/startups/{startup_id}/milestones"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/startups/{startup_id}/milestones"): Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"title": "Matrix milestone", "due_on": "2027-03-31"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/milestones/{milestone_id}"): Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        body=lambda w, role: {"state": "achieved"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/milestones/{milestone_id}/links"): Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        body=lambda w, role: {"url": "https://example.com/matrix"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/milestones/{milestone_id}/files"): Row(
        INC_MANAGERS | FOUNDERS,
        path=_inc(milestone_id="milestone"),
        files=lambda w, role: {"file": ("matrix.png", EVIDENCE_PNG, "image/png")},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/evidence/{evidence_id}/delete"): Row(
        INC_MANAGERS | FOUNDERS, path=_inc(evidence_id="evidence"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/startups/{startup_id}/support"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/startups/{startup_id}/support/promises"): Row(
        INC_MANAGERS,
        path=_inc(startup_id="startup"),
        body=lambda w, role: {"kind": "funding", "quantity": "5000", "unit": "CNY"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/promises/{promise_id}/deliveries"): Row(
        INC_MANAGERS,
        path=_inc(promise_id="promise"),
        body=lambda w, role: {"quantity": "2", "delivered_on": "2026-11-20"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/promises/{promise_id}/withdraw"): Row(
        INC_MANAGERS, path=_inc(promise_id="promise"), refused=STARTUP_REFUSED
    ),
    ("POST", "/incubator/deliveries/{delivery_id}/links"): Row(
        INC_MANAGERS,
        path=_inc(delivery_id="delivery"),
        body=lambda w, role: {"url": "https://example.com/matrix"},
        refused=STARTUP_REFUSED,
    ),
    ("POST", "/incubator/deliveries/{delivery_id}/files"): Row(
        INC_MANAGERS,
        path=_inc(delivery_id="delivery"),
        files=lambda w, role: {"file": ("matrix.png", EVIDENCE_PNG, "image/png")},
        refused=STARTUP_REFUSED,
    ),
    # (end of incubator.milestones pages)
    # Incubator pages: reports (incubator.reports) ----------------------------------------------------
    ("GET", "/incubator/startups/{startup_id}/reports"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/startups/{startup_id}/reports/{period_id}"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup", period_id="period"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/cohorts/{cohort_id}/reports"): Row(
        INC_MANAGERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED
    ),
    ("GET", "/incubator/programmes/{programme_id}/metrics"): Row(
        INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED
    ),
    # (end of incubator.reports pages)
    # Incubator pages: dashboards (incubator.dashboards) ----------------------------------------------
    ("GET", "/incubator/startups/{startup_id}/dashboard"): Row(
        STARTUP_PEOPLE, path=_inc(startup_id="startup"), refused=STARTUP_REFUSED
    ),
    ("GET", "/incubator/cohorts/{cohort_id}/dashboard"): Row(
        INC_VIEWERS, path=_inc(cohort_id="cohort"), refused=INC_REFUSED
    ),
    ("GET", "/incubator/programmes/{programme_id}/dashboard"): Row(
        INC_VIEWERS, path=_inc(programme_id="programme"), refused=INC_REFUSED
    ),
    # (end of incubator.dashboards pages)
}


def _page_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for route in app.routes:
        if route.path.startswith(("/static", "/admin", "/schema")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.resolve_include_in_schema() is False:
                for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                    routes.add((method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)))
    return routes


async def test_every_page_has_a_row(make_client):
    routes = _page_routes(make_client.app)
    assert routes - set(PAGE_MATRIX) == set(), "pages without a row in the page matrix"
    assert set(PAGE_MATRIX) - routes == set(), "rows for pages that no longer exist"


@pytest.mark.parametrize("page_route", sorted(PAGE_MATRIX), ids=lambda p: f"{p[0]} {p[1]}")
async def test_the_page_matrix(make_client, page_route):
    method, template = page_route
    row = PAGE_MATRIX[page_route]
    failures = []
    world = None
    for role in ROLES:
        if world is None:  # a fresh world, unless the last call changed nothing
            world = await seed()
        client = await _client_as(make_client, world, role)
        url = _fill(template, row.path(world, role))
        form = row.body(world, role) if row.body else None
        before = await _audit_count()
        files = row.files(world, role) if row.files else None
        response = await client.request(method, url, data=form, files=files, headers={"accept": "text/html"})
        written = await _audit_count() - before
        hidden = row.event in ("draft", "forum") and role not in SEE_DRAFTS
        hidden = hidden or (row.team and role not in TEAM_VIEWERS)
        if written:
            world = None
        if role in row.allowed:
            changes_state = method == "POST" and not (role == "anonymous" and template == "/language")
            ok = response.status_code in (200, 303) and written == (1 if changes_state else 0)
        elif role == "anonymous" and row.view:
            ok = response.status_code == 404 and written == 0
        elif role == "anonymous":  # pages send anonymous visitors to the login form
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
            ok = ok and written == 0
        else:
            want = row.refused.get(role, 404 if hidden else 403)
            ok = response.status_code == want and written == 0
        if not ok:
            failures.append(f"{role}: {method} {url} -> {response.status_code} (audit +{written})")
    assert not failures, "\n".join([f"{method} {template}:", *failures])


async def test_drafts_do_not_leak_through_lists_and_pages(make_client):
    """What a judge, a team member, staff and another event's organizer see contains no draft."""
    for role in ("member", "judge", "checkin", "other", "anonymous"):
        world = await seed()
        client = await _client_as(make_client, world, role)
        listed = {e["slug"] for e in (await client.get("/api/v1/events?limit=500")).json()["items"]}
        assert not listed & {"matrix-draft", "matrix-forum"}, role
        assert "matrix-open" in listed, role
        home = await client.get("/", headers={"accept": "text/html"})
        assert "Matrix draft" not in home.text, role
        assert "Matrix forum" not in home.text, role
        if role != "anonymous":
            me = await client.get("/me", headers={"accept": "text/html"})
            assert me.status_code == 200
            assert "Matrix draft" not in me.text, role
            assert "Matrix forum" not in me.text, role
    world = await seed()
    organizer = await _client_as(make_client, world, "scoped")
    listed = {e["slug"] for e in (await organizer.get("/api/v1/events?limit=500")).json()["items"]}
    assert {"matrix-draft", "matrix-forum"} <= listed


async def test_a_scoped_admin_stays_inside_its_scope(make_client):
    world = await seed()
    client = await _client_as(make_client, world, "scoped")
    draft = world.events["draft"]
    # the other track, the event itself and an unscoped grant are out of reach
    other_track = await client.put(
        f"/api/v1/events/{draft}/tracks/{world.ids['track_b']}", json={"code": "B"}
    )
    assert other_track.status_code == 403
    assert (await client.patch(f"/api/v1/events/{draft}", json={"venue_en": "x"})).status_code == 403
    for scope in ({}, {"region": "Zhejiang"}, {"track_id": world.ids["track_b"]}):
        widen = await client.post(
            f"/api/v1/events/{draft}/roles",
            json={"user_id": world.users["scoped"], "role": "organizer", **scope},
        )
        assert widen.status_code == 403, (scope, widen.text)
    # it sees only the grants inside its track, and cannot revoke the whole-event organizer
    grants = (await client.get(f"/api/v1/events/{draft}/roles")).json()
    assert {g["track_id"] for g in grants} == {world.ids["track_a"]}
    organizer_grant = (
        await RoleGrant.select(RoleGrant.id)
        .where((RoleGrant.event == draft) & (RoleGrant.user == world.users["organizer"]))
        .first()
    )
    assert (await client.delete(f"/api/v1/events/{draft}/roles/{organizer_grant['id']}")).status_code == 404
    assert await RoleGrant.count().where(RoleGrant.user == world.users["scoped"]) == 5


async def test_organizers_grant_nothing_outside_their_events_and_learn_nothing_of_strangers(make_client):
    world = await seed()
    other = await _client_as(make_client, world, "other")
    attempt = await other.post(
        f"/api/v1/events/{world.events['open']}/roles",
        json={"user_id": world.users["other"], "role": "organizer"},
    )
    assert attempt.status_code == 403
    stranger = User(
        username="stranger@matrix.example", email="stranger@matrix.example", password=_HASH, active=True
    )
    await stranger.save()
    organizer = await _client_as(make_client, world, "organizer")
    draft = world.events["draft"]
    for user_id in (stranger.id, 999_999):  # an existing stranger and nobody answer alike
        response = await organizer.post(
            f"/api/v1/events/{draft}/roles", json={"user_id": user_id, "role": "judge"}
        )
        assert (response.status_code, response.json()["code"]) == (400, "unknown_user")
        assert "stranger" not in response.text
    # "other" organizes only an event this organizer has no part in: a stranger too
    foreign = await organizer.post(
        f"/api/v1/events/{draft}/roles", json={"user_id": world.users["other"], "role": "judge"}
    )
    assert (foreign.status_code, foreign.json()["code"]) == (400, "unknown_user")
    known = await organizer.post(
        f"/api/v1/events/{draft}/roles", json={"user_id": world.users["judge"], "role": "mentor"}
    )
    assert known.status_code == 201, known.text


# The back office (/admin, a mount: not in the page matrix) --------------------------------------

WORKSPACE_HOLDERS = frozenset({"scoped", "other", "organizer", "orgadmin"})  # pointed at /workspace


async def test_the_back_office_matrix(make_client):
    """``/admin`` for every kind of caller: the platform admin gets in with the site session (no
    second login), anonymous browsers go to the site's login (401 for the admin's API), organizers
    of any scope or organization get the 403 page pointing at their workspace, everyone else the
    403 page without it, and a bearer token opens nothing. A write to a read-only table is a 405
    even for the platform admin; no refused call writes anything, nor an audit entry."""
    world = await seed()
    draft = world.events["draft"]
    failures = []
    for role in ROLES:
        client = await _client_as(make_client, world, role)
        client.cookies.set("podium_lang", "en")
        before = await _audit_count()
        page = await client.get("/admin/", headers={"accept": "text/html"})
        api = await client.get("/admin/api/tables/event/", headers={"accept": "application/json"})
        client.cookies.set("csrftoken", "matrix")  # Piccolo Admin's CSRF cookie, echoed below
        write = await client.patch(
            f"/admin/api/tables/event/{draft}/",
            json={"status": "archived"},
            headers={"accept": "application/json", "x-csrftoken": "matrix"},
        )
        bearer = await (await _as_bearer(make_client, role)).get(
            "/admin/api/tables/", headers={"accept": "application/json"}
        )
        written = await _audit_count() - before
        if role == "admin":
            ok = page.status_code == 200 and api.status_code == 200 and len(api.json()["rows"]) == 6
            ok = ok and write.status_code == 405
            ok = ok and (bearer.status_code, bearer.json()["code"]) == (403, "session_required")
        elif role == "anonymous":
            ok = (page.status_code, page.headers.get("location")) == (303, "/login?next=/admin/")
            ok = ok and api.status_code == 401 and write.status_code == 401 and bearer.status_code == 401
        else:
            ok = page.status_code == 403 and ('href="/workspace"' in page.text) == (role in WORKSPACE_HOLDERS)
            ok = ok and (api.status_code, api.json()["code"]) == (403, "forbidden")
            ok = ok and write.status_code == 403
            ok = ok and (bearer.status_code, bearer.json()["code"]) == (403, "session_required")
        ok = ok and written == 0
        if not ok:
            failures.append(
                f"{role}: page {page.status_code}, api {api.status_code}, write {write.status_code}, "
                f"bearer {bearer.status_code} (audit +{written})"
            )
    assert not failures, "\n".join(failures)
    assert (await Event.select(Event.status).where(Event.id == draft).first())["status"] == "draft"
