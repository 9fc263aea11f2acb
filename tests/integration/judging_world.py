"""A contest ready for judging, built straight into the tables: what every judging test starts from.

``await build_world()`` makes an organization, a running contest with tracks, an online-review stage
and a final, institutions in regions, approved teams (leader and members) with their entries in the
first stage, judges holding the event's ``judge`` role (each at an institution, ``stage_judge``), a
rubric of three weighted criteria and the stage's judging set-up. ``await publish_assignment(world)``
then gives every entry ``per_entry`` judges of other institutions (round robin) and opens scoring.
Every account's password is :data:`tests.integration.conftest.PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from backend.accounts import passwords
from backend.accounts.tables import Role, RoleGrant, User
from backend.events.tables import Event, Stage, Track
from backend.institutions.tables import Institution
from backend.organizations.tables import Organization
from backend.teams.tables import Team, TeamMember
from judging.tables import (
    Assignment,
    JudgingStatus,
    Rubric,
    StageEntry,
    StageJudge,
    StageJudging,
)
from tests.integration.conftest import PASSWORD

CRITERIA = [
    {
        "code": "market",
        "weight": 0.4,
        "min": 0,
        "max": 40,
        "step": 1,
        "name": {"zh": "市场", "en": "Market", "ru": "Рынок"},
        "descriptor": {"zh": "市场分析", "en": "Market analysis", "ru": "Анализ рынка"},
    },
    {
        "code": "product",
        "weight": 0.35,
        "min": 0,
        "max": 35,
        "step": 1,
        "name": {"zh": "产品", "en": "Product", "ru": "Продукт"},
        "descriptor": {"zh": "产品与技术", "en": "Product and technology", "ru": "Продукт и технологии"},
    },
    {
        "code": "team",
        "weight": 0.25,
        "min": 0,
        "max": 25,
        "step": 0.5,
        "name": {"zh": "团队", "en": "Team", "ru": "Команда"},
        "descriptor": {"zh": "团队能力", "en": "Team strength", "ru": "Сильная команда"},
    },
]
REGIONS = ("Zhejiang", "Guangdong", "Sichuan", "Beijing")


@dataclass
class World:
    organization: int = 0
    event: int = 0
    tracks: dict[str, int] = field(default_factory=dict)
    stage: int = 0  # the online review
    final: int = 0
    institutions: list[int] = field(default_factory=list)
    teams: list[int] = field(default_factory=list)
    leaders: list[int] = field(default_factory=list)  # per team
    entries: list[int] = field(default_factory=list)  # per team, in the online review
    judges: list[int] = field(default_factory=list)
    judge_institution: dict[int, int] = field(default_factory=dict)
    organizer: int = 0
    rubric: int = 0
    emails: dict[int, str] = field(default_factory=dict)  # user id -> e-mail

    def email(self, user_id: int) -> str:
        return self.emails[user_id]


async def _user(world: World, email: str, name: str, hashed: str, locale: str = "zh") -> int:
    user = User.account(email, hashed, name, locale)
    await user.save()
    world.emails[user.id] = email
    return user.id


async def build_world(
    *,
    teams: int = 12,
    judges: int = 6,
    institutions: int = 4,
    tracks: tuple[str, ...] = ("A", "B"),
    method: str = "auto",
    anonymous: bool = False,
    live: bool = False,
    slug: str = "judged-2027",
) -> World:
    """The world described in the module docstring (the database is expected empty)."""
    world = World()
    hashed = passwords.hash_password(PASSWORD)
    organization = Organization(slug=f"org-{slug}", kind="alliance", name_en="Alliance")
    await organization.save()
    world.organization = organization.id
    event = Event(
        organization=organization.id,
        slug=slug,
        kind="contest",
        status="running",
        name_en="Judged contest",
        name_zh="评审赛",
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 7, 25),
    )
    await event.save()
    world.event = event.id
    for code in tracks:
        track = Track(event=event.id, code=code, name_en=f"Track {code}", team_min=1)
        await track.save()
        world.tracks[code] = track.id
    review = Stage(event=event.id, position=1, level="online_review", name_en="Online review")
    final = Stage(event=event.id, position=2, level="final", name_en="Final")
    await review.save()
    await final.save()
    world.stage, world.final = review.id, final.id
    for i in range(institutions):
        inst = Institution(
            name_en=f"University {i + 1}",
            name_zh=f"大学{i + 1}",
            kind="university",
            country="CN",
            region=REGIONS[i % len(REGIONS)],
        )
        await inst.save()
        world.institutions.append(inst.id)
    world.organizer = await _user(world, f"organizer@{slug}.example", "Organizer", hashed)
    await RoleGrant.insert(RoleGrant(user=world.organizer, role=Role.organizer.value, event=event.id))
    track_ids = list(world.tracks.values())
    for i in range(teams):
        inst = world.institutions[i % institutions]
        leader = await _user(world, f"leader{i + 1}@{slug}.example", f"Leader {i + 1}", hashed)
        track = track_ids[i % len(track_ids)]
        team = Team(
            event=event.id,
            track=track,
            name=f"Team {i + 1}",
            entry_title=f"Entry {i + 1}",
            leader=leader,
            institution=inst,
            region=REGIONS[(i % institutions) % len(REGIONS)],
            country="CN",
            join_code=f"J{slug[:6].upper()}{i:05d}",
            status="approved",
        )
        await team.save()
        await TeamMember.insert(
            TeamMember(
                team=team.id,
                event=event.id,
                track=track,
                user=leader,
                email=world.email(leader),
                role="leader",
                state="confirmed",
                joined_via="creation",
            )
        )
        entry = StageEntry(stage=review.id, event=event.id, team=team.id, track=track, label=f"E-{i + 1:04d}")
        await entry.save()
        world.teams.append(team.id)
        world.leaders.append(leader)
        world.entries.append(entry.id)
    await StageJudging.insert(
        StageJudging(stage=review.id, event=event.id, method=method, anonymous=anonymous, live=live)
    )
    await StageJudging.insert(StageJudging(stage=final.id, event=event.id, method="trimmed", live=True))
    rubric = Rubric(stage=review.id, version=1, criteria=CRITERIA, created_by=world.organizer)
    await rubric.save()
    world.rubric = rubric.id
    for j in range(judges):
        judge = await _user(world, f"judge{j + 1}@{slug}.example", f"Judge {j + 1}", hashed, "en")
        inst = world.institutions[j % institutions]
        await RoleGrant.insert(RoleGrant(user=judge, role=Role.judge.value, event=event.id))
        await StageJudge.insert(StageJudge(stage=review.id, user=judge, institution=inst))
        world.judges.append(judge)
        world.judge_institution[judge] = inst
    return world


async def publish_assignment(world: World, per_entry: int = 3) -> dict[int, list[int]]:
    """Give each entry ``per_entry`` judges from other institutions (round robin), publish the
    assignment and open scoring. Returns ``{entry id: [assignment ids]}``."""
    team_institution = {
        row["id"]: row["institution"]
        for row in await Team.select(Team.id, Team.institution).where(Team.id.is_in(world.teams))
    }
    assignments: dict[int, list[int]] = {}
    cursor = 0
    for team, entry in zip(world.teams, world.entries, strict=True):
        chosen: list[int] = []
        tries = 0
        while len(chosen) < per_entry and tries < 10 * len(world.judges):
            judge = world.judges[cursor % len(world.judges)]
            cursor += 1
            tries += 1
            if world.judge_institution[judge] != team_institution[team] and judge not in chosen:
                chosen.append(judge)
        rows = [Assignment(stage=world.stage, stage_entry=entry, judge=j) for j in chosen]
        created = await Assignment.insert(*rows).returning(Assignment.id)
        assignments[entry] = [r["id"] for r in created]
    await StageJudging.update(
        {
            StageJudging.status: JudgingStatus.scoring.value,
            StageJudging.assignment_published_at: dt.datetime.now(dt.UTC),
        }
    ).where(StageJudging.stage == world.stage)
    return assignments


def marks_for(total_share: float) -> dict[str, Any]:
    """Marks for the rubric :data:`CRITERIA` at ``total_share`` (0..1) of each criterion's range."""
    return {c["code"]: round(c["max"] * total_share / c["step"]) * c["step"] for c in CRITERIA}
