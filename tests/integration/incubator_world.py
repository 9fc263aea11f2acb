"""An incubation programme in full swing, built straight into the tables: what every incubator test
starts from, and what the authorization matrix seeds with its own people (``seed_programme``).

``await build_world()`` makes an organization (``alliance``) with a contest whose team ``Silk Road
Labs`` won a first prize, and a programme (``silk-incubator``, run by the organization: its
``org_admin`` manages it, as does ``manager`` by a programme grant; ``viewer`` reads its
dashboards) with:

- cohort ``2026 autumn`` (2026-09-01 to 2027-08-31, 40 places) and an empty cohort ``2027 spring``;
- startup ``startup`` (the team, admitted from the contest's results: ``founder`` leads it,
  ``cofounder`` is a founder) and startup ``other_startup`` (admitted directly: ``other_founder``);
- mentors: ``mentor`` connected one-to-one to ``startup`` (budget 600 minutes, 60 used by one
  logged meeting, which has private notes and an action item for the founders) and ``cohort_mentor``
  connected to the whole cohort (300 minutes per startup); ``mentor`` offers a free slot a week from
  now (``slot``) and a slot ``startup`` booked (``booked_slot``, ``booking``);
- a milestone of ``startup`` with a link and a PNG file (``evidence_file``) as evidence, a support
  promise (20 hours of training) half delivered;
- a monthly report schedule for the cohort with its first three periods (2026-09 to 2026-11, due
  on the 10th of the month after), a custom metric ``live_stores`` (financial: no) and the report
  of ``startup`` for 2026-09 (version 1, with financials);
- ``outsider``: an account with no role anywhere.

Every account's password is :data:`tests.integration.conftest.PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from backend.accounts import passwords
from backend.accounts.tables import RoleGrant, User
from backend.events.tables import Event, Stage, Track
from backend.organizations.tables import Organization
from backend.teams.storage import storage
from backend.teams.tables import Team
from incubator.tables import (
    ActionItem,
    Booking,
    Cohort,
    CustomMetric,
    Evidence,
    Founder,
    Meeting,
    Mentor,
    MentorCohort,
    MentorLink,
    Milestone,
    OfficeHour,
    PrivateNote,
    Programme,
    ProgrammeGrant,
    Report,
    ReportPeriod,
    ReportSchedule,
    ReportVersion,
    Startup,
    SupportDelivery,
    SupportPromise,
)
from judging.tables import Award, PrizeTier
from tests.integration.conftest import PASSWORD

PRIVATE_NOTE = "Founders are burning cash faster than they admit; check the runway next time."
SHARED_NOTE = "Agreed to focus on two marketplaces before expanding to Russia."
REVENUE = Decimal("12000.50")  # the seeded report's revenue: must never reach a mentor unshared
PEOPLE = ("org_admin", "manager", "viewer", "founder", "cofounder", "other_founder", "mentor")
PEOPLE += ("cohort_mentor", "outsider")


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # who → user id

    def email(self, who: str) -> str:
        return f"{who}@incubator.example"


async def user(email: str, name: str, hashed: str | None = None) -> int:
    row = User.account(email, hashed or passwords.hash_password(PASSWORD), name, "en")
    await row.save()
    return row.id


async def build_world() -> World:
    """The world described in the module docstring, in an empty database."""
    world = World()
    hashed = passwords.hash_password(PASSWORD)
    for who in PEOPLE:
        world.users[who] = await user(world.email(who), who.replace("_", " ").title(), hashed)
    organization = Organization(slug="alliance", kind="alliance", name_en="Alliance")
    await organization.save()
    world.ids["organization"] = organization.id
    await RoleGrant(user=world.users["org_admin"], role="org_admin", organization=organization.id).save()
    contest = Event(
        organization=organization.id,
        slug="cbec-2026",
        kind="contest",
        status="closed",
        name_en="CBEC 2026",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 7, 25),
        time_zone="Asia/Shanghai",
    )
    await contest.save()
    world.ids["contest"] = contest.id
    track = Track(event=contest.id, code="A", name_en="Undergraduate")
    await track.save()
    final = Stage(event=contest.id, position=1, level="national", name_en="National final")
    await final.save()
    team = Team(
        event=contest.id,
        track=track.id,
        name="Silk Road Labs",
        entry_title="Cross-border storefronts for rural co-ops",
        leader=world.users["founder"],
        join_code="SILKROAD",
        status="approved",
    )
    await team.save()
    tier = PrizeTier(stage=final.id, code="first", name_en="First prize", size=3)
    await tier.save()
    await Award(stage=final.id, team=team.id, tier=tier.id, rank=1).save()
    world.ids |= {"team": team.id, "stage": final.id, "prize_tier": tier.id}
    world.ids |= await seed_programme(organization.id, world.users, team=team.id, event=contest.id)
    return world


async def seed_programme(
    organization: int, people: Mapping[str, int], *, team: int | None = None, event: int | None = None
) -> dict[str, int]:
    """A programme of ``organization`` as the module docstring describes it, for ``people`` (who →
    user id: ``manager``, ``viewer``, ``founder``, ``other_founder``, ``mentor``, ``cohort_mentor``,
    and optionally ``cofounder``); ``team`` and ``event``: the contest team ``startup`` was. Returns
    the ids of what it made."""
    ids: dict[str, int] = {}

    async def saved(key: str, row):
        await row.save()
        ids[key] = row.id
        return row.id

    programme = await saved(
        "programme",
        Programme(
            organization=organization,
            slug="silk-incubator",
            name_en="Silk Road Incubator",
            name_zh="丝路孵化器",
            name_ru="Инкубатор Шёлкового пути",
        ),
    )
    await ProgrammeGrant.insert(
        ProgrammeGrant(programme=programme, user=people["manager"], role="manager"),
        ProgrammeGrant(programme=programme, user=people["viewer"], role="viewer"),
    )
    cohort = await saved(
        "cohort",
        Cohort(
            programme=programme,
            name="2026 autumn",
            starts_on=dt.date(2026, 9, 1),
            ends_on=dt.date(2027, 8, 31),
            places=40,
        ),
    )
    await saved(
        "empty_cohort",
        Cohort(
            programme=programme,
            name="2027 spring",
            starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2028, 2, 28),
        ),
    )
    startup = await saved(
        "startup",
        Startup(
            programme=programme,
            cohort=cohort,
            team=team,
            source_event=event,
            prize="First prize" if team else "",
            admitted_via="results" if team else "direct",
            name="Silk Road Labs",
            description="Cross-border storefronts for rural co-ops",
            sector="e-commerce",
        ),
    )
    other = await saved(
        "other_startup",
        Startup(programme=programme, cohort=cohort, name="Steppe Logistics", sector="logistics"),
    )
    founders = [Founder(startup=startup, user=people["founder"], role="lead", title="CEO")]
    if "cofounder" in people:
        founders.append(Founder(startup=startup, user=people["cofounder"], title="CTO"))
    founders.append(Founder(startup=other, user=people["other_founder"], role="lead"))
    await Founder.insert(*founders)
    mentor = await saved(
        "mentor",
        Mentor(
            programme=programme,
            user=people["mentor"],
            headline="Former head of cross-border at a marketplace",
            expertise=["marketplaces", "Russia", "logistics"],
            languages="zh en ru",
        ),
    )
    cohort_mentor = await saved(
        "cohort_mentor", Mentor(programme=programme, user=people["cohort_mentor"], expertise=["finance"])
    )
    await saved(
        "mentor_link", MentorLink(mentor=mentor, startup=startup, budget_minutes=600, used_minutes=60)
    )
    connection = await saved(
        "mentor_cohort", MentorCohort(mentor=cohort_mentor, cohort=cohort, minutes_per_startup=300)
    )
    await MentorLink.insert(
        *(
            MentorLink(mentor=cohort_mentor, startup=s, via_cohort=connection, budget_minutes=300)
            for s in (startup, other)
        )
    )
    week = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=7)
    await saved(
        "slot",
        OfficeHour(mentor=mentor, starts_at=week, ends_at=week + dt.timedelta(hours=1), place="Room 301"),
    )
    booked = await saved(
        "booked_slot",
        OfficeHour(
            mentor=mentor, starts_at=week + dt.timedelta(hours=2), ends_at=week + dt.timedelta(hours=3)
        ),
    )
    await saved(
        "booking",
        Booking(slot=booked, startup=startup, booked_by=people["founder"], topic="Pricing in Russia"),
    )
    meeting = await saved(
        "meeting",
        Meeting(
            startup=startup,
            mentor=mentor,
            held_at=dt.datetime(2026, 10, 12, 6, tzinfo=dt.UTC),
            minutes=60,
            topics=["marketplaces", "pricing"],
            attendees=[{"user": people["founder"], "name": "Founder"}],
            shared_notes=SHARED_NOTE,
            created_by=people["mentor"],
        ),
    )
    await saved("private_note", PrivateNote(meeting=meeting, author=people["mentor"], body=PRIVATE_NOTE))
    await saved(
        "action_item",
        ActionItem(
            startup=startup,
            meeting=meeting,
            mentor=mentor,
            title="Send the Ozon price list",
            side="founders",
            owner=people["founder"],
            due_on=dt.date(2026, 10, 26),
            created_by=people["mentor"],
        ),
    )
    milestone = await saved(
        "milestone",
        Milestone(
            startup=startup,
            title="First 100 cross-border orders",
            due_on=dt.date(2026, 12, 31),
            state="in_progress",
            created_by=people["manager"],
        ),
    )
    await saved(
        "evidence",
        Evidence(
            startup=startup,
            milestone=milestone,
            kind="link",
            url="https://example.org/orders-dashboard",
            added_by=people["founder"],
        ),
    )
    promise = await saved(
        "promise",
        SupportPromise(
            startup=startup,
            kind="training_hours",
            description="Export compliance training",
            quantity=Decimal("20"),
            unit="hours",
            due_on=dt.date(2027, 3, 1),
            promised_by=people["manager"],
        ),
    )
    await saved(
        "delivery",
        SupportDelivery(
            promise=promise,
            quantity=Decimal("10"),
            delivered_on=dt.date(2026, 11, 5),
            note="Two sessions",
            recorded_by=people["manager"],
        ),
    )
    await saved(
        "schedule",
        ReportSchedule(
            cohort=cohort, starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2026, 11, 30), due_days=10
        ),
    )
    for n, month in enumerate((9, 10, 11)):
        end = dt.date(2026, month + 1, 1) - dt.timedelta(days=1)
        await saved(
            "period" if n == 0 else f"period_{n + 1}",
            ReportPeriod(
                cohort=cohort,
                label=f"2026-{month:02d}",
                starts_on=dt.date(2026, month, 1),
                ends_on=end,
                due_on=end + dt.timedelta(days=10),
            ),
        )
    await saved(
        "custom_metric",
        CustomMetric(
            programme=programme, key="live_stores", name_en="Live stores", unit="stores", question="sales"
        ),
    )
    answers = {"live_product": True, "sales": True, "recurring_revenue": False, "funding_round": False}
    values = {
        "revenue": REVENUE,
        "cross_border_gmv": Decimal("8000.00"),
        "customers": 40,
        "headcount": 5,
        "jobs_created": 3,
        "graduate_jobs": 2,
        "patents": 1,
    }
    report = await saved(
        "report",
        Report(
            period=ids["period"],
            startup=startup,
            answers=answers,
            custom={"live_stores": 3},
            submitted_by=people["founder"],
            submitted_at=dt.datetime(2026, 10, 8, 4, tzinfo=dt.UTC),
            first_submitted_at=dt.datetime(2026, 10, 8, 4, tzinfo=dt.UTC),
            **values,
        ),
    )
    snapshot = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()} | {"live_stores": 3}
    await saved(
        "report_version",
        ReportVersion(
            report=report,
            version=1,
            answers=answers,
            values=snapshot,
            submitted_by=people["founder"],
            submitted_at=dt.datetime(2026, 10, 8, 4, tzinfo=dt.UTC),
        ),
    )
    if event is not None:  # incubator.programmes: a prize winner of the contest still to admit
        ids |= await _seed_winner(event)
    # incubator.milestones: a file as evidence too
    ids |= await _seed_evidence_file(ids["startup"], ids["milestone"], people["founder"])
    return ids


async def _seed_winner(event: int) -> dict[str, int]:
    """A team of the contest ``event`` that won an "excellence award" (tier ``excellence``) in its
    latest stage and is no startup yet (``winner_team``): what admissions take. Nothing when the
    contest has no track or stage."""
    track = await Track.select(Track.id).where(Track.event == event).order_by(Track.id).first()
    stage = (
        await Stage.select(Stage.id)
        .where(Stage.event == event)
        .order_by(Stage.position, ascending=False)
        .first()
    )
    if track is None or stage is None:
        return {}
    team = Team(
        event=event,
        track=track["id"],
        name="Amber Analytics",
        entry_title="Customs paperwork as a service",
        join_code=f"AMBER{event}",
        status="approved",
    )
    await team.save()
    tier = PrizeTier(stage=stage["id"], code="excellence", name_en="Excellence award", size=22, position=9)
    await tier.save()
    await Award(stage=stage["id"], team=team.id, tier=tier.id, rank=2).save()
    return {"winner_team": team.id, "excellence_tier": tier.id}


EVIDENCE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56  # the bytes of the seeded evidence file


async def _seed_evidence_file(startup: int, milestone: int, founder: int) -> dict[str, int]:
    """A PNG the founder uploaded as evidence of the milestone (``evidence_file``), in the storage."""

    async def chunks():
        yield EVIDENCE_PNG

    stored = await storage().save(f"incubator/{startup}", chunks(), len(EVIDENCE_PNG))
    row = Evidence(
        startup=startup,
        milestone=milestone,
        kind="file",
        storage_key=stored.key,
        filename="orders.png",
        content_type="image/png",
        size=stored.size,
        added_by=founder,
    )
    await row.save()
    return {"evidence_file": row.id}
