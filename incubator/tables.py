"""The incubator's tables: programmes and cohorts, startups and their founders, the mentor directory
and who mentors whom, office hours and bookings, meeting logs (with the mentor's private notes kept
in a table of their own), action items, milestones and their evidence, support promised and
delivered, periodic KPI reports with their versions, and the reminders sent for them.

The database holds what no race may break:

- a team is admitted once per programme (``incubation_startup_team_once``);
- a person is a founder of a startup once, in the directory of a programme once;
- an office-hour slot holds one live booking (``incubation_booking_live``): two founders racing
  for one slot get one booking;
- a mentor's hours with a startup are never overdrawn (``used_minutes <= budget_minutes``, debited
  by one conditional UPDATE per meeting logged);
- a startup files one report per period, and each resubmission is a new numbered version;
- each reminder (period, startup, days from the due date) is sent once
  (``incubation_reminder_once``), however many workers run the job and however often.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.events.tables import Event
from backend.organizations.tables import Organization
from backend.teams.tables import Team

MONEY = (16, 2)  # NUMERIC(16, 2): amounts in the programme's currency
QUANTITY = (14, 2)  # NUMERIC(14, 2): hours, credits, introductions


class ProgrammeRole(StrEnum):
    """A role held in one programme (``incubation_programme_role``). The admins and organizers of the
    organization running a programme are its managers without holding this row."""

    manager = "manager"  # runs the programme: cohorts, admissions, mentors, schedules, support
    viewer = "viewer"  # the alliance's or a funder's read-only view of the dashboards and reports


class Programme(Table, tablename="incubation_programme"):
    """An incubation programme of an alliance or an incubator (an organization). ``cancellation_hours``:
    founders may cancel a booking until that many hours before the slot; ``stalled_weeks``: a startup
    with neither a meeting nor a report for that long is flagged as stalled."""

    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    slug = Varchar(length=80, unique=True)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    name_ru = Varchar(length=200, default="")
    description = Text(default="")
    currency = Varchar(length=3, default="CNY")
    cancellation_hours = Integer(default=24)
    stalled_weeks = Integer(default=12)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class ProgrammeGrant(Table, tablename="incubation_programme_role"):
    """A person's role in a programme (see :class:`ProgrammeRole`)."""

    programme = ForeignKey(Programme, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20, choices=ProgrammeRole)
    granted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class CohortMode(StrEnum):
    online = "online"
    offline = "offline"
    hybrid = "hybrid"


class Cohort(Table, tablename="incubation_cohort"):
    """A class of startups going through a programme together; ``places`` caps its admissions."""

    programme = ForeignKey(Programme, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    starts_on = Date()
    ends_on = Date()
    mode = Varchar(length=10, choices=CohortMode, default=CohortMode.hybrid.value)
    places = Integer(default=40)
    created_at = Timestamptz(default=TimestamptzNow())


class StartupStatus(StrEnum):
    active = "active"
    graduated = "graduated"  # finished the programme and still operating
    closed = "closed"  # ceased operating: what "survival" counts
    withdrawn = "withdrawn"  # left the programme


SURVIVING = (StartupStatus.active.value, StartupStatus.graduated.value)


class AdmittedVia(StrEnum):
    results = "results"  # a prize tier of a contest's published results
    hand_picked = "hand_picked"  # chosen teams of a contest
    direct = "direct"  # a startup that never entered a contest


class Startup(Table, tablename="incubation_startup"):
    """A startup in a cohort. Admitted from a contest, it keeps the team's identity: ``team`` is the
    team it was (entries, scores and prizes are read from there), ``source_event`` the contest and
    ``prize`` the prize it won, in the contest's own words.

    Founders own its data and choose what its mentors see: ``mentors_see_operations`` (headcount,
    jobs, customers, patents) and ``mentors_see_financials`` (revenue, cross-border GMV, funding and
    the programme's financial custom metrics), hidden by default."""

    programme = ForeignKey(Programme, null=False, on_delete=OnDelete.cascade, index=True)
    cohort = ForeignKey(Cohort, null=False, on_delete=OnDelete.restrict, index=True)
    team = ForeignKey(Team, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    source_event = ForeignKey(Event, null=True, default=None, on_delete=OnDelete.set_null)
    prize = Varchar(length=200, default="")
    admitted_via = Varchar(length=20, choices=AdmittedVia, default=AdmittedVia.direct.value)
    name = Varchar(length=200)
    description = Text(default="")
    sector = Varchar(length=100, default="")
    website = Varchar(length=300, default="")
    status = Varchar(length=20, choices=StartupStatus, default=StartupStatus.active.value, index=True)
    closed_on = Date(null=True, default=None)  # the day it ceased operating or left
    mentors_see_operations = Boolean(default=True)
    mentors_see_financials = Boolean(default=False)
    admitted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    admitted_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FounderRole(StrEnum):
    lead = "lead"  # the team's leader, the startup's first contact
    founder = "founder"


class Founder(Table, tablename="incubation_founder"):
    """A founder of a startup (from the team's confirmed students, or added later)."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20, choices=FounderRole, default=FounderRole.founder.value)
    title = Varchar(length=100, default="")  # CEO, CTO ...
    created_at = Timestamptz(default=TimestamptzNow())


class Mentor(Table, tablename="incubation_mentor"):
    """A mentor in a programme's directory. ``expertise`` is a list of tags (markets, functions,
    sectors); ``availability`` says in words when they can help; an inactive mentor keeps their
    history but mentors no one."""

    programme = ForeignKey(Programme, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    headline = Varchar(length=200, default="")
    bio = Text(default="")
    expertise = JSON(default="[]")
    languages = Varchar(length=50, default="")  # e.g. "zh en"
    availability = Varchar(length=500, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class MentorCohort(Table, tablename="incubation_mentor_cohort"):
    """A mentor connected one-to-many to a whole cohort: each of its startups gets a
    :class:`MentorLink` with ``minutes_per_startup`` of the mentor's time (startups admitted later too)."""

    mentor = ForeignKey(Mentor, null=False, on_delete=OnDelete.cascade, index=True)
    cohort = ForeignKey(Cohort, null=False, on_delete=OnDelete.cascade, index=True)
    minutes_per_startup = Integer(default=600)
    created_at = Timestamptz(default=TimestamptzNow())


class MentorLink(Table, tablename="incubation_mentor_link"):
    """A mentor connected to one startup (one-to-one, or through ``via_cohort``) with an hour budget:
    meetings logged debit ``used_minutes``, which the database keeps within ``budget_minutes``. A mentor
    sees and mentors exactly the startups they have a link to."""

    mentor = ForeignKey(Mentor, null=False, on_delete=OnDelete.cascade, index=True)
    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    via_cohort = ForeignKey(MentorCohort, null=True, default=None, on_delete=OnDelete.cascade)
    budget_minutes = Integer(default=600)
    used_minutes = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class OfficeHour(Table, tablename="incubation_office_hour"):
    """A slot a mentor offers for founders to book."""

    mentor = ForeignKey(Mentor, null=False, on_delete=OnDelete.cascade, index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    place = Varchar(length=300, default="")  # a room or a video link
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)  # withdrawn by the mentor


class BookingStatus(StrEnum):
    booked = "booked"
    cancelled = "cancelled"


class Booking(Table, tablename="incubation_booking"):
    """A startup's booking of an office-hour slot; one live booking per slot."""

    slot = ForeignKey(OfficeHour, null=False, on_delete=OnDelete.cascade, index=True)
    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    booked_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    topic = Varchar(length=300, default="")
    status = Varchar(length=20, choices=BookingStatus, default=BookingStatus.booked.value)
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


class Meeting(Table, tablename="incubation_meeting"):
    """A mentoring meeting as its mentor logged it. ``shared_notes`` are the founders' to read too;
    the mentor's private notes live in :class:`PrivateNote`, so no query of this table can leak them.
    ``attendees`` is a list of ``{"user": id | null, "name": str}``; ``topics`` a list of strings."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    mentor = ForeignKey(Mentor, null=False, on_delete=OnDelete.cascade, index=True)
    booking = ForeignKey(Booking, null=True, default=None, on_delete=OnDelete.set_null)
    held_at = Timestamptz()
    minutes = Integer()
    topics = JSON(default="[]")
    attendees = JSON(default="[]")
    shared_notes = Text(default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PrivateNote(Table, tablename="incubation_private_note"):
    """A mentor's private notes on a meeting: read and written by their author only."""

    meeting = ForeignKey(Meeting, null=False, on_delete=OnDelete.cascade, unique=True)
    author = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    body = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ItemSide(StrEnum):
    founders = "founders"
    mentor = "mentor"


class ActionItem(Table, tablename="incubation_action_item"):
    """Something to do, agreed in a meeting (or later): owned by the founders' side or the mentor's
    (``owner`` is the person, when named), shown on both sides until done."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    meeting = ForeignKey(Meeting, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    mentor = ForeignKey(Mentor, null=True, default=None, on_delete=OnDelete.set_null)
    title = Varchar(length=300)
    side = Varchar(length=10, choices=ItemSide)
    owner = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    due_on = Date(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    done_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class MilestoneState(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    achieved = "achieved"
    dropped = "dropped"


class Milestone(Table, tablename="incubation_milestone"):
    """A startup's milestone; overdue when its due date has passed and it is neither achieved nor
    dropped."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    description = Text(default="")
    due_on = Date()
    state = Varchar(length=20, choices=MilestoneState, default=MilestoneState.planned.value)
    achieved_on = Date(null=True, default=None)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SupportKind(StrEnum):
    office_space = "office_space"
    cloud_credits = "cloud_credits"
    training_hours = "training_hours"
    introductions = "introductions"
    funding = "funding"
    other = "other"


class SupportPromise(Table, tablename="incubation_support_promise"):
    """What the programme promised a startup: ``quantity`` of ``unit`` (m² of office space, credits,
    hours, introductions, an amount of money) by ``due_on``."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20, choices=SupportKind)
    description = Varchar(length=500, default="")
    quantity = Numeric(digits=QUANTITY)
    unit = Varchar(length=30, default="")
    due_on = Date(null=True, default=None)
    promised_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)


class SupportDelivery(Table, tablename="incubation_support_delivery"):
    """Part (or all) of a promise delivered, when, with what evidence (see :class:`Evidence`)."""

    promise = ForeignKey(SupportPromise, null=False, on_delete=OnDelete.cascade, index=True)
    quantity = Numeric(digits=QUANTITY)
    delivered_on = Date()
    note = Varchar(length=1000, default="")
    recorded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class EvidenceKind(StrEnum):
    link = "link"
    file = "file"


class Evidence(Table, tablename="incubation_evidence"):
    """A link or an uploaded file backing a milestone or a support delivery (exactly one of the two).
    Files are kept in the storage under ``storage_key``."""

    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    milestone = ForeignKey(Milestone, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    delivery = ForeignKey(SupportDelivery, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10, choices=EvidenceKind)
    url = Varchar(length=1000, default="")
    storage_key = Varchar(length=200, default="")
    filename = Varchar(length=255, default="")
    content_type = Varchar(length=100, default="")
    size = Integer(default=0)
    added_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    adhoc = "adhoc"  # the dates listed in ``adhoc_dates``


class ReportSchedule(Table, tablename="incubation_report_schedule"):
    """When a cohort's startups report: periods of ``frequency`` from ``starts_on`` to ``ends_on``
    (or the ``adhoc_dates`` listed), each due ``due_days`` after it ends. ``reminder_days`` lists
    when founders are reminded, in days relative to the due date (``[-7, -1, 3, 10]``: a week and a
    day before, three and ten days after)."""

    cohort = ForeignKey(Cohort, null=False, on_delete=OnDelete.cascade, unique=True)
    frequency = Varchar(length=10, choices=Frequency, default=Frequency.monthly.value)
    starts_on = Date()
    ends_on = Date()
    due_days = Integer(default=10)
    adhoc_dates = JSON(default="[]")
    reminder_days = JSON(default="[-7, -1, 3, 10]")
    updated_at = Timestamptz(default=TimestamptzNow())


class ReportPeriod(Table, tablename="incubation_report_period"):
    """One period a cohort's startups report on (made from the schedule)."""

    cohort = ForeignKey(Cohort, null=False, on_delete=OnDelete.cascade, index=True)
    label = Varchar(length=20)  # "2026-03", "2026-Q1", "2026", or the ad-hoc date
    starts_on = Date()
    ends_on = Date()
    due_on = Date(index=True)


class CustomMetric(Table, tablename="incubation_custom_metric"):
    """A metric a programme adds to the standard ones (``incubator.metrics``). ``question``, when set,
    is the yes/no question whose "yes" makes it due; ``financial`` ones are hidden from mentors
    unless the founders share financials."""

    programme = ForeignKey(Programme, null=False, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=40)
    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    name_ru = Varchar(length=200, default="")
    unit = Varchar(length=30, default="")
    financial = Boolean(default=False)
    question = Varchar(length=40, null=True, default=None)
    position = Integer(default=0)
    archived_at = Timestamptz(null=True, default=None)


class Report(Table, tablename="incubation_report"):
    """A startup's report for one period: its current (latest) version, with the standard metrics
    in columns for the dashboards to add up and the custom ones in ``custom`` (key → value). Every
    submission is kept as a :class:`ReportVersion`; ``version`` is the latest one's number."""

    period = ForeignKey(ReportPeriod, null=False, on_delete=OnDelete.cascade, index=True)
    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer(default=1)
    answers = JSON(default="{}")  # question → true / false
    revenue = Numeric(digits=MONEY, null=True, default=None)
    recurring_revenue = Numeric(digits=MONEY, null=True, default=None)
    cross_border_gmv = Numeric(digits=MONEY, null=True, default=None)
    funding_raised = Numeric(digits=MONEY, null=True, default=None)
    headcount = Integer(null=True, default=None)
    jobs_created = Integer(null=True, default=None)
    graduate_jobs = Integer(null=True, default=None)
    customers = Integer(null=True, default=None)
    patents = Integer(null=True, default=None)
    custom = JSON(default="{}")
    first_submitted_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(default=TimestamptzNow())
    submitted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


class ReportVersion(Table, tablename="incubation_report_version"):
    """One submission of a report, as it was sent: answers and every metric (``values``)."""

    report = ForeignKey(Report, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    answers = JSON(default="{}")
    values = JSON(default="{}")
    submitted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    submitted_at = Timestamptz(default=TimestamptzNow())


class ReminderSent(Table, tablename="incubation_reminder_sent"):
    """One reminder of one period sent to one startup's founders, ``days`` from the due date
    (negative: before). Unique, so a job run twice, interrupted or run by two workers at once sends
    each reminder once; ``skipped`` ones were recorded but not sent (see ``incubator.reminders``)."""

    period = ForeignKey(ReportPeriod, null=False, on_delete=OnDelete.cascade, index=True)
    startup = ForeignKey(Startup, null=False, on_delete=OnDelete.cascade, index=True)
    days = Integer()
    skipped = Boolean(default=False)  # recorded, never sent: a later reminder of the period was due
    sent_at = Timestamptz(default=TimestamptzNow())
