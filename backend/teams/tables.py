"""Teams of a contest: the registration, its people, its materials and the contest's rules.

The database holds what no race may break (one seat per person per track, one version number per
material, one join code per team); the rules that span rows (team size, advisors per team and
entries per advisor, eligibility) are checked by ``backend.teams.rules`` inside the transaction that
makes the change, under row locks taken in a fixed order (team, then people by id).
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.events.tables import Event, Stage, Track
from backend.institutions.tables import Institution
from backend.organizations.tables import Organization


class TeamStatus(StrEnum):
    forming = "forming"  # not yet complete: seats, confirmations or advisors missing
    complete = "complete"  # every rule holds and everyone confirmed; awaits review where required
    approved = "approved"  # accepted by an organizer (contests that require approval)
    rejected = "rejected"  # refused by an organizer, with a reason; the leader may fix and resubmit
    withdrawn = "withdrawn"  # left the contest; final


class MemberRole(StrEnum):
    leader = "leader"
    member = "member"
    university_advisor = "university_advisor"
    enterprise_advisor = "enterprise_advisor"


STUDENT_ROLES = (MemberRole.leader.value, MemberRole.member.value)
ADVISOR_ROLES = (MemberRole.university_advisor.value, MemberRole.enterprise_advisor.value)


class SeatState(StrEnum):
    invited = "invited"  # invited by e-mail; holds a seat until confirmed, declined, revoked or expired
    requested = "requested"  # asked to join with the join code; the leader approves (holds no seat)
    confirmed = "confirmed"  # in the team
    declined = "declined"  # the invited person said no
    refused = "refused"  # the leader turned the join request down
    left = "left"  # left, was removed, or the invitation was revoked or expired


HOLDS_SEAT = (SeatState.invited.value, SeatState.confirmed.value)


class JoinedVia(StrEnum):
    creation = "creation"  # the leader, creating the team
    invitation = "invitation"
    code = "code"
    import_ = "import"  # an organizer's bulk import


class Team(Table):
    """A registration in one track of a contest. ``institution``, ``region`` and ``country`` are the
    team's (the leader's institution when created; region and country copied from it so scoped
    admins' lists are one indexed filter). ``join_code`` lets people ask to join; the leader can
    rotate it. ``status`` is kept by ``backend.teams.service`` after every change."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    track = ForeignKey(Track, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    entry_title = Varchar(length=200, default="")
    leader = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    institution = ForeignKey(Institution, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    region = Varchar(length=100, default="", index=True)
    country = Varchar(length=2, default="", index=True)
    join_code = Varchar(length=16, unique=True)
    status = Varchar(length=20, choices=TeamStatus, default=TeamStatus.forming.value, index=True)
    review_note = Varchar(length=2000, default="")
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)


class TeamMember(Table):
    """A seat in a team: a student (leader or member) or an advisor, from invitation or join request
    to confirmation or departure. ``user`` is empty while an invited address has no account;
    ``email`` is always the address invited or the member's. ``position`` orders advisors (1 is the
    first advisor). ``track`` and ``event`` are copied from the team for the unique index that keeps
    one seat per person per track (partial: students whose seat is held)."""

    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade)
    track = ForeignKey(Track, null=False, on_delete=OnDelete.restrict)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=255, index=True)
    role = Varchar(length=20, choices=MemberRole)
    position = Integer(default=0)
    state = Varchar(length=20, choices=SeatState)
    joined_via = Varchar(length=20, choices=JoinedVia)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)  # the invitation link's SHA-256
    locale = Varchar(length=5, default="zh")  # the language of the invitation mail
    invited_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)  # of the invitation
    confirmed_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)  # declined, refused or left


class TeamEvent(Table):
    """The team's timeline as its members see it (created, joined, confirmed, completed, approved,
    withdrawn...): what happened, when and by whom, in the words of ``kind``. The audit log keeps the
    full record for organizers; this is the team's own story, shown on its page."""

    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class RegistrationRules(Table):
    """A contest's registration rules (``track`` empty) or one track's overrides, as JSON validated
    by ``backend.teams.rules.Rules``; team size and advisor limits come from the track's own columns."""

    event = ForeignKey(Event, null=False, on_delete=OnDelete.cascade, index=True)
    track = ForeignKey(Track, null=True, default=None, on_delete=OnDelete.cascade)
    rules = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class PastWinner(Table):
    """A prize won at an earlier edition, for the rule that excludes past winners. Matched by
    e-mail (lower case) and, when known, the account."""

    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=255, index=True)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    name = Varchar(length=200, default="")
    edition = Varchar(length=80, default="")
    prize = Varchar(length=40)  # e.g. gold, silver, bronze, first, special
    created_at = Timestamptz(default=TimestamptzNow())


class MaterialKind(StrEnum):
    business_plan = "business_plan"  # PDF
    slides = "slides"  # PDF
    video_link = "video_link"  # an https URL
    summary = "summary"  # free text


class Material(Table):
    """One version of one material of a team for a stage; every upload adds a version, none is
    changed. Files live in the storage (``backend.teams.storage``) under ``storage_key``; text kinds
    keep ``text``."""

    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade, index=True)
    stage = ForeignKey(Stage, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=20, choices=MaterialKind)
    version = Integer()
    storage_key = Varchar(length=200, null=True, default=None)
    file_name = Varchar(length=255, default="")
    content_type = Varchar(length=100, default="")
    size = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    text = Text(default="")
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class ReminderSent(Table):
    """One deadline reminder sent to one team: the unique key (team, kind) makes a second delivery of
    the same reminder job a no-op."""

    team = ForeignKey(Team, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=80)  # e.g. "registration:2026-12-01:3d"
    sent_at = Timestamptz(default=TimestamptzNow())
