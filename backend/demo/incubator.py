"""The demo's incubator: the alliance's programme ``silk-road-incubator`` and its cohort ``2025 summer``
of the demo contest's 40 prize winners, eighteen months into the programme on the day the demo is
loaded.

- The prizes: the contest's online review (published) gets three prize tiers (6 + 12 + 22 teams:
  :data:`REVIEW_TIERS`), given in the published order by the judging service, so the cohort is made
  of real prize winners; the final is still under way and gives none.
- People: ``incubator@`` manages the programme, ``funder@`` reads it (viewer); ``founder@`` leads
  the first startup (the best prize winner's, with the team's students as its co-founders); each
  startup's founders are its team's confirmed students, the leader its lead. ``mentor01@`` ..
  ``mentor06@`` are in the mentor directory: ``mentor01@`` mentors ``founder@``'s startup one to one
  (20 hours), ``mentor02@`` the whole cohort (5 hours each), the others a few startups each.
- The calendar: the cohort started on the 1st of the month 18 months ago and reports monthly until
  six months ahead (due 10 days after each month, reminders 7 and 1 days before and 3 and 10 days
  after); of the periods due so far, most reports came on time, some late, about one in ten never;
  three startups closed along the way, two stalled (no meeting and no report for months).
  ``founder@``'s startup has not filed its latest due report: its reminders went out (mails in the
  outbox, with the link to the report's form).
- Every reminder the reminder job would have sent so far is recorded as sent
  (``incubation_reminder_sent``), so the job sends none of them again when Podium starts; the mails
  of the latest reminders are in the outbox, queued like the rest of the demo's mails.
- Meetings every month or two with shared notes, the mentor's private notes and action items (the
  recent ones open), open office-hour slots next week, milestones (some overdue), support promised
  and delivered (some short), and a custom metric ``cross_border_orders``.

Everything goes straight into the tables in one transaction, a few hundred rows per statement; the
programme's slug is its natural key: once it exists, a second load changes nothing (an interrupted
load left nothing, the transaction being one).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from backend.accounts.tables import User
from backend.db import fetch_all, transaction, utcnow
from backend.events.tables import Event, Stage, StageLevel
from backend.mail.tables import OutboxStatus
from backend.policy import Principal
from backend.settings import get_settings
from backend.teams.tables import STUDENT_ROLES, MemberRole, SeatState, TeamMember
from incubator.metrics import STANDARD, due
from incubator.reminders.service import reminder_message
from incubator.tables import (
    AdmittedVia,
    BookingStatus,
    CohortMode,
    Frequency,
    ItemSide,
    MilestoneState,
    ProgrammeRole,
    StartupStatus,
    SupportKind,
)
from judging.advancement import service as advancement
from judging.advancement.schemas import TierIn, TiersIn
from judging.tables import Award, JudgingStatus, PrizeTier, StageJudging

ProgressFactory = Callable[[str, int], Callable[[int], None]]
CST = ZoneInfo("Asia/Shanghai")
ROWS_PER_INSERT = 200  # SQLite caps the values of one statement

PROGRAMME_SLUG = "silk-road-incubator"
COHORT_NAME = "2025 summer"
MANAGER, VIEWER, FOUNDER = "incubator@podium.example", "funder@podium.example", "founder@podium.example"
MENTORS = [f"mentor{i:02d}@podium.example" for i in range(1, 7)]  # demo accounts (the teams' advisors)
ORGANIZER = "organizer@podium.example"
# The accounts the demo makes for the incubator (with the others, in ``backend.demo.load``).
PEOPLE = [
    {"email": MANAGER, "display_name": "Sun Li · 孙丽", "locale": "zh"},
    {"email": VIEWER, "display_name": "Elena Orlova · 叶莲娜", "locale": "ru"},
    {"email": FOUNDER, "display_name": "Zhao Min · 赵敏", "locale": "zh"},
]
LOGINS = {  # what ``podium demo`` prints
    "incubator manager": MANAGER,
    "funder (viewer)": VIEWER,
    "founder": FOUNDER,
    "mentor": MENTORS[0],
}

REVIEW_TIERS = [
    TierIn(
        code="school_first",
        size=6,
        name_zh="校赛一等奖",
        name_en="School round first prize",
        name_ru="Первая премия вузовского этапа",
    ),
    TierIn(
        code="school_second",
        size=12,
        name_zh="校赛二等奖",
        name_en="School round second prize",
        name_ru="Вторая премия вузовского этапа",
    ),
    TierIn(
        code="excellence", size=22, name_zh="优秀奖", name_en="Excellence award", name_ru="Премия за отличие"
    ),
]
STARTUPS = sum(t.size for t in REVIEW_TIERS)  # 40: the cohort's places
MONTHS_BACK, MONTHS_AHEAD = 18, 6  # the cohort's start and its schedule's end, from this month
DUE_DAYS, REMINDER_DAYS = 10, [-7, -1, 3, 10]
MENTOR01_MINUTES, MENTOR02_MINUTES, OTHER_MENTOR_MINUTES = 20 * 60, 5 * 60, 10 * 60
BUDGET_USED = 0.6  # of a mentor's hours with a startup, at most, so far
CLOSED = {5: 9, 23: 6, 34: 4}  # startup index → months ago it closed
STALLED = {17, 29}  # active startups with neither a meeting nor a report for the last months
STALLED_MONTHS = 4

PROGRAMME = {
    "name_zh": "丝路跨境电商孵化计划",
    "name_en": "Silk Road Cross-Border E-Commerce Incubator",
    "name_ru": "Инкубатор трансграничной электронной торговли «Шёлковый путь»",
    "description": (
        "联盟为跨境电商大赛获奖团队提供的两年孵化：导师辅导、办公空间、云资源与培训，按月报送经营数据。\n"
        "The alliance's two-year incubation for the prize winners of its cross-border e-commerce "
        "challenge: mentoring, office space, cloud credits and training, with monthly KPI reports."
    ),
    "currency": "CNY",
    "cancellation_hours": 24,
    "stalled_weeks": 12,
}
CUSTOM_METRIC = {
    "key": "cross_border_orders",
    "name_zh": "跨境订单数",
    "name_en": "Orders shipped abroad",
    "name_ru": "Заказы с доставкой за рубеж",
    "unit": "orders",
    "financial": False,
    "question": "sales",
    "position": 1,
}
SECTORS = {
    "CBEC-B2C": "跨境零售 · Cross-border retail",
    "CBEC-B2B": "外贸数字化 · Digital B2B trade",
    "CBEC-SERVICE": "跨境服务与物流 · Services and logistics",
}
MENTOR_PROFILES = [
    (
        "前速卖通俄语区运营负责人 · Former head of AliExpress Russia operations",
        ["marketplaces", "Russia", "Central Asia", "pricing"],
        "zh ru en",
    ),
    (
        "跨境电商天使投资人 · Angel investor in cross-border commerce",
        ["fundraising", "finance", "unit economics"],
        "zh en",
    ),
    (
        "海外仓与物流专家 · Overseas warehousing and logistics",
        ["logistics", "overseas warehouses", "customs"],
        "zh en",
    ),
    (
        "东南亚直播电商操盘手 · Live commerce in Southeast Asia",
        ["live commerce", "Southeast Asia", "TikTok Shop"],
        "zh en",
    ),
    (
        "品牌出海与独立站 · Brands and direct-to-consumer sites abroad",
        ["branding", "DTC", "Shopify", "Europe"],
        "zh en",
    ),
    (
        "跨境支付与合规律师 · Payments and compliance lawyer",
        ["payments", "compliance", "tax", "Middle East"],
        "zh en ru",
    ),
]
AVAILABILITY = "每周二、周四下午，线上或杭州 · Tuesday and Thursday afternoons, online or in Hangzhou"
TOPICS = [
    ["选品 · product selection", "定价 · pricing"],
    ["物流 · logistics", "海外仓 · overseas warehouse"],
    ["融资 · fundraising", "财务模型 · financial model"],
    ["团队 · hiring"],
    ["合规 · compliance", "支付 · payments"],
    ["营销 · marketing", "直播 · live commerce"],
]
SHARED_NOTES = [
    "先聚焦两个平台，跑通单位经济模型再扩张。\nFocus on two marketplaces; prove the unit economics before expanding.",
    "物流时效是差评主因：试用海外仓备货。\nSlow delivery drives the bad reviews: try stocking an overseas warehouse.",
    "下一轮融资前补齐月度财务报表。\nBring the monthly accounts up to date before the next round.",
    "招聘一名俄语运营，先兼职。\nHire a Russian-speaking operator, part-time first.",
    "梳理出口退税与 VAT 流程。\nMap out export tax rebates and VAT.",
    "直播试播三场，看转化再定预算。\nRun three test live streams, then set the budget from the conversion.",
]
PRIVATE_NOTES = [
    "创始人之间对股权分配有分歧，下次单独聊。 Founders disagree on equity; talk to them separately.",
    "现金流比他们说的紧，估计只够四个月。 Cash is tighter than they say: about four months of runway.",
    "CEO 过于依赖一个大客户。 The CEO leans too much on one big customer.",
    "团队执行力强，可推荐给投资人。 Strong execution: worth introducing to investors.",
]
ACTION_ITEMS = [
    ("发送俄罗斯市场价格表 · Send the Russian price list", ItemSide.founders),
    ("整理近三个月订单数据 · Compile the last three months of orders", ItemSide.founders),
    ("介绍一家海外仓服务商 · Introduce an overseas warehouse provider", ItemSide.mentor),
    ("修改融资 BP 第 5 页 · Rework page 5 of the pitch deck", ItemSide.founders),
    ("推荐一位税务顾问 · Recommend a tax adviser", ItemSide.mentor),
]
MILESTONES = [
    ("完成公司注册 · Company registered", 1),
    ("首笔跨境订单 · First cross-border order", 3),
    ("月订单过千 · 1,000 orders a month", 12),
    ("完成天使轮融资 · Angel round closed", 20),
]
SUPPORT = [  # kind, description, quantity, unit, due (months after the start), share delivered
    (SupportKind.office_space, "杭州孵化基地工位 · Desks at the Hangzhou base", 20, "m²", 1),
    (SupportKind.cloud_credits, "云服务代金券 · Cloud credits", 50000, "credits", 6),
    (SupportKind.training_hours, "出口合规培训 · Export compliance training", 40, "hours", 12),
    (SupportKind.introductions, "投资人引荐 · Introductions to investors", 5, "introductions", 15),
]
FUNDED = 6  # the first prize's startups are promised seed money too


async def load_incubator(
    events: dict[str, int], ids: dict[str, int], progress: ProgressFactory | None = None
) -> None:
    """The demo's incubator (see the module's docstring): ``events`` are the demo events' ids by role,
    ``ids`` the demo's accounts by e-mail (``PEOPLE`` and the mentors among them)."""
    step = progress("Incubator", 2) if progress else (lambda _: None)
    step(0)
    winners = await prize_winners(events["contest"], ids)
    step(1)
    if winners and not await fetch_all("SELECT id FROM incubation_programme WHERE slug = {}", PROGRAMME_SLUG):
        async with transaction():
            await _Incubator(ids, winners[:STARTUPS], today()).load(events["contest"])
    step(2)


def today() -> dt.date:
    """The day the demo is loaded on, in UTC (as the reminder job counts days)."""
    return utcnow().date()


async def prize_winners(contest_id: int, ids: dict[str, int]) -> list[dict[str, Any]]:
    """The contest's prize winners, best first: the online review's :data:`REVIEW_TIERS` set and given
    by the organizer through the judging service where they are not yet (the review must be
    published), then every award of the contest with its tier's name and the team."""
    review = (
        await Stage.select(Stage.id)
        .where((Stage.event == contest_id) & (Stage.level == StageLevel.school.value))
        .first()
    )
    if review is None:
        return []
    judging = await StageJudging.select(StageJudging.status).where(StageJudging.stage == review["id"]).first()
    published = judging is not None and judging["status"] == JudgingStatus.published.value
    if published and ORGANIZER in ids:
        organizer = Principal(
            id=ids[ORGANIZER],
            email=ORGANIZER,
            display_name=ORGANIZER,
            locale="zh",
            is_platform_admin=False,
            via="cli",
        )
        if not await PrizeTier.exists().where(PrizeTier.stage == review["id"]):
            await advancement.set_tiers(organizer, review["id"], TiersIn(tiers=REVIEW_TIERS))
        if not await Award.exists().where(Award.stage == review["id"]):
            await advancement.give_awards(organizer, review["id"])
    return await fetch_all(
        "SELECT a.team, a.rank, p.name_zh, p.name_en, t.name, t.entry_title, tr.code AS track"
        " FROM award a JOIN prize_tier p ON p.id = a.tier JOIN stage s ON s.id = a.stage"
        " JOIN team t ON t.id = a.team JOIN track tr ON tr.id = t.track"
        " WHERE s.event = {} ORDER BY s.position, p.position, a.rank, a.team",
        contest_id,
    )


def month_start(day: dt.date, months: int) -> dt.date:
    """The 1st of the month ``months`` after ``day``'s (before, when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour``:``minute`` in Hangzhou, in UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), CST).astimezone(dt.UTC)


def money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.0), 2))).quantize(Decimal("0.01"))


@dataclass
class _Startup:
    """One startup while the demo makes it."""

    index: int
    team: int
    name: str
    founders: list[int]  # users, the lead first
    status: str = StartupStatus.active.value
    closed_on: dt.date | None = None
    id: int = 0
    reports: dict[str, dt.datetime | None] = field(default_factory=dict)  # period label → submitted at


async def _add(table: str, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``, a few hundred per statement, and
    return their ids in the rows' order (the new ids are the table's highest: the demo's transaction
    is the only writer)."""
    if not rows:
        return []
    last = f"SELECT COALESCE(MAX(id), 0) AS n FROM {table}"  # noqa: S608 - the tables' names are constants
    before = (await fetch_all(last))[0]["n"]
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join(one for _ in chunk)  # noqa: S608
        await fetch_all(sql, *(row[c] for row in chunk for c in columns))
    added = f"SELECT id FROM {table} WHERE id > {{}} ORDER BY id"  # noqa: S608
    new = [r["id"] for r in await fetch_all(added, before)]
    assert len(new) == len(rows), (table, len(new), len(rows))
    return new


class _Incubator:
    """The programme, made in the caller's transaction."""

    def __init__(self, ids: dict[str, int], winners: list[dict[str, Any]], day: dt.date) -> None:
        self.ids = ids
        self.winners = winners
        self.today = day
        self.now = utcnow()
        self.rng = random.Random("demo-incubator")
        self.start = month_start(day, -MONTHS_BACK)
        self.end = month_start(day, MONTHS_AHEAD + 1) - dt.timedelta(days=1)
        self.manager = ids[MANAGER]
        self.startups: list[_Startup] = []
        self.periods: list[dict[str, Any]] = []
        self.people: dict[int, dict[str, Any]] = {}  # the founders' accounts by id

    def stamp(self, day: dt.date, hour: int = 10) -> dt.datetime:
        """A moment of ``day`` in Hangzhou's working hours, never later than now."""
        return min(at(day, hour, self.rng.randrange(60)), self.now)

    async def load(self, contest: int) -> None:
        event = await Event.select(Event.organization).where(Event.id == contest).first()
        assert event is not None
        programme = await self.programme(event["organization"])
        cohort = await self.cohort(programme)
        await self.founders_of(programme, cohort, contest)
        await self.schedule(cohort)
        await self.reports()
        await self.reminders()
        await self.mentoring(programme, cohort)
        await self.milestones()
        await self.support()

    # The programme, its cohort and startups ----------------------------------------------------

    async def programme(self, organization: int) -> int:
        created = self.stamp(self.start - dt.timedelta(days=45))
        (programme,) = await _add(
            "incubation_programme",
            [
                PROGRAMME
                | {
                    "organization": organization,
                    "slug": PROGRAMME_SLUG,
                    "created_by": self.manager,
                    "created_at": created,
                }
            ],
        )
        await _add(
            "incubation_programme_role",
            [
                {
                    "programme": programme,
                    "user": self.ids[email],
                    "role": role.value,
                    "granted_by": self.manager,
                    "created_at": created,
                }
                for email, role in ((MANAGER, ProgrammeRole.manager), (VIEWER, ProgrammeRole.viewer))
            ],
        )
        await _add("incubation_custom_metric", [CUSTOM_METRIC | {"programme": programme}])
        return programme

    async def cohort(self, programme: int) -> int:
        (cohort,) = await _add(
            "incubation_cohort",
            [
                {
                    "programme": programme,
                    "name": COHORT_NAME,
                    "starts_on": self.start,
                    "ends_on": self.end,
                    "mode": CohortMode.hybrid.value,
                    "places": STARTUPS,
                    "created_at": self.stamp(self.start - dt.timedelta(days=30)),
                }
            ],
        )
        return cohort

    async def founders_of(self, programme: int, cohort: int, contest: int) -> None:
        """A startup per prize winner, its founders its team's confirmed students (``founder@`` leads
        the first)."""
        teams = [w["team"] for w in self.winners]
        members = (
            await TeamMember.select(TeamMember.team, TeamMember.user, TeamMember.role)
            .where(
                TeamMember.team.is_in(teams)
                & (TeamMember.state == SeatState.confirmed.value)
                & TeamMember.role.is_in(list(STUDENT_ROLES))
                & TeamMember.user.is_not_null()
            )
            .order_by(TeamMember.team)
            .order_by(TeamMember.position)
            .order_by(TeamMember.id)
        )
        by_team: dict[int, list[dict[str, Any]]] = {}
        for m in members:
            by_team.setdefault(m["team"], []).append(m)
        admitted = self.stamp(self.start - dt.timedelta(days=10))
        rows = []
        for i, w in enumerate(self.winners):
            people = sorted(by_team.get(w["team"], []), key=lambda m: m["role"] != MemberRole.leader.value)
            founders = [m["user"] for m in people]
            if i == 0:
                founders.insert(0, self.ids[FOUNDER])
            startup = _Startup(i, w["team"], w["name"], founders)
            if i in CLOSED:
                startup.status = StartupStatus.closed.value
                startup.closed_on = month_start(self.today, -CLOSED[i]) + dt.timedelta(days=14)
            self.startups.append(startup)
            rows.append(
                {
                    "programme": programme,
                    "cohort": cohort,
                    "team": w["team"],
                    "source_event": contest,
                    "prize": w["name_zh"] or w["name_en"],
                    "admitted_via": AdmittedVia.results.value,
                    "name": w["name"],
                    "description": w["entry_title"],
                    "sector": SECTORS.get(w["track"], ""),
                    "website": f"https://startup{i + 1:02d}.podium.example",
                    "status": startup.status,
                    "closed_on": startup.closed_on,
                    "mentors_see_operations": True,
                    "mentors_see_financials": i % 4 == 0,
                    "admitted_by": self.manager,
                    "admitted_at": admitted,
                    "updated_at": admitted,
                }
            )
        for startup, startup_id in zip(self.startups, await _add("incubation_startup", rows), strict=True):
            startup.id = startup_id
        everyone = list({user for s in self.startups for user in s.founders})
        self.people = {
            r["id"]: r
            for r in await User.select(User.id, User.email, User.display_name, User.locale).where(
                User.id.is_in(everyone or [0])
            )
        }
        titles = ["CEO", "CTO", "COO", "CMO", ""]
        await _add(
            "incubation_founder",
            [
                {
                    "startup": s.id,
                    "user": user,
                    "role": "lead" if k == 0 else "founder",
                    "title": titles[min(k, 4)],
                    "created_at": admitted,
                }
                for s in self.startups
                for k, user in enumerate(s.founders)
            ],
        )

    # Reports ----------------------------------------------------------------------------------

    async def schedule(self, cohort: int) -> None:
        await _add(
            "incubation_report_schedule",
            [
                {
                    "cohort": cohort,
                    "frequency": Frequency.monthly.value,
                    "starts_on": self.start,
                    "ends_on": self.end,
                    "due_days": DUE_DAYS,
                    "adhoc_dates": "[]",
                    "reminder_days": json.dumps(REMINDER_DAYS),
                    "updated_at": self.stamp(self.start - dt.timedelta(days=20)),
                }
            ],
        )
        rows = []
        month = self.start
        while month <= self.end:
            ends = month_start(month, 1) - dt.timedelta(days=1)
            rows.append(
                {
                    "cohort": cohort,
                    "label": f"{month:%Y-%m}",
                    "starts_on": month,
                    "ends_on": ends,
                    "due_on": ends + dt.timedelta(days=DUE_DAYS),
                }
            )
            month = month_start(month, 1)
        for row, period_id in zip(rows, await _add("incubation_report_period", rows), strict=True):
            self.periods.append(row | {"id": period_id})

    def active_on(self, startup: _Startup, day: dt.date) -> bool:
        return startup.closed_on is None or day < startup.closed_on

    def latest_due(self) -> dict[str, Any]:
        """The latest period whose due date has passed."""
        return [p for p in self.periods if p["due_on"] < self.today][-1]

    async def reports(self) -> None:
        """Each startup's reports of the periods due so far: on time (most), late, or never; their
        metrics grow from a startup's own scale, and the due ones only are filled."""
        latest = self.latest_due()
        reports, versions = [], []
        for s in self.startups:
            rng = random.Random(f"demo-incubator-reports-{s.index}")
            scale = rng.lognormvariate(0, 0.8)
            launch, sales_from = rng.randint(0, 3), rng.randint(2, 6)
            recurring = rng.random() < 0.35
            headcount = len(s.founders)
            for n, p in enumerate(self.periods):
                if p["due_on"] >= self.today or not self.active_on(s, p["due_on"]):
                    continue
                stalled = s.index in STALLED and p["due_on"] > month_start(self.today, -STALLED_MONTHS)
                missing = (
                    stalled
                    or (s.index == 0 and p is latest)
                    or (s.index > 0 and rng.random() < 0.08)
                    or (s.closed_on is not None and p["due_on"] > s.closed_on - dt.timedelta(days=45))
                )
                if missing:
                    s.reports[p["label"]] = None
                    continue
                late = rng.random() < (0.25 if s.index % 5 == 3 else 0.1)
                offset = rng.randint(1, 12) if late else -rng.randint(0, 9)
                submitted = self.stamp(p["due_on"] + dt.timedelta(days=offset), rng.randint(9, 22))
                s.reports[p["label"]] = submitted
                growth = 1.09**n * scale
                answers = {
                    "live_product": n >= launch,
                    "sales": n >= sales_from,
                    "recurring_revenue": recurring and n >= sales_from + 2,
                    "funding_round": n in (8, 15) and rng.random() < 0.5,
                }
                hired = 1 if rng.random() < 0.3 else 0
                headcount += hired
                revenue = 40000 * growth * rng.uniform(0.8, 1.2)
                values: dict[str, Any] = {
                    "revenue": money(revenue),
                    "recurring_revenue": money(revenue * rng.uniform(0.2, 0.5)),
                    "cross_border_gmv": money(revenue * rng.uniform(1.1, 2.5)),
                    "funding_raised": money(rng.choice([500000, 1000000, 3000000]) * scale),
                    "customers": int(120 * growth * rng.uniform(0.7, 1.3)),
                    "headcount": headcount,
                    "jobs_created": hired,
                    "graduate_jobs": hired if rng.random() < 0.6 else 0,
                    "patents": 1 if n > 10 and rng.random() < 0.05 else 0,
                }
                values = {m.key: values[m.key] for m in due(STANDARD, answers)}
                columns = {m.key: values.get(m.key) for m in STANDARD}
                custom = (
                    {"cross_border_orders": int(revenue / rng.uniform(150, 260))} if answers["sales"] else {}
                )
                reports.append(
                    {
                        "period": p["id"],
                        "startup": s.id,
                        "version": 1,
                        "answers": json.dumps(answers),
                        "custom": json.dumps(custom),
                        "first_submitted_at": submitted,
                        "submitted_at": submitted,
                        "submitted_by": s.founders[0],
                        **columns,
                    }
                )
                snapshot = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()} | custom
                versions.append(
                    {
                        "version": 1,
                        "answers": json.dumps(answers),
                        "values": json.dumps(snapshot),
                        "submitted_by": s.founders[0],
                        "submitted_at": submitted,
                    }
                )
        report_ids = await _add("incubation_report", reports)
        await _add(
            "incubation_report_version",
            [v | {"report": r} for v, r in zip(versions, report_ids, strict=True)],
        )

    async def reminders(self) -> None:
        """Every reminder sent so far: a startup still active and without its report on the day of a
        reminder was reminded. Those of the latest due period (and later ones) whose report is still
        missing are in the outbox, one mail per founder, as the reminder job words them."""
        base = get_settings().base_url.rstrip("/")
        latest = self.latest_due()
        sent, mails = [], []
        for p in self.periods:
            for s in self.startups:
                for days in REMINDER_DAYS:
                    day = p["due_on"] + dt.timedelta(days=days)
                    if day > self.today or not self.active_on(s, day):
                        continue
                    submitted = s.reports.get(p["label"])
                    if submitted is not None and submitted.astimezone(dt.UTC).date() <= day:
                        continue
                    moment = min(dt.datetime.combine(day, dt.time(1), dt.UTC), self.now)
                    sent.append({"period": p["id"], "startup": s.id, "days": days, "sent_at": moment})
                    if p["due_on"] < latest["due_on"] or submitted is not None:
                        continue
                    for user in s.founders:
                        person = self.people[user]
                        row = PROGRAMME | {
                            "email": person["email"],
                            "locale": person["locale"],
                            "days": days,
                            "startup": s.id,
                            "startup_name": s.name,
                            "period": p["id"],
                            "label": p["label"],
                            "due_on": p["due_on"],
                        }
                        message = reminder_message(base, row)
                        mails.append(
                            {
                                "to_address": message.to,
                                "subject": message.subject,
                                "body_text": message.body,
                                "status": OutboxStatus.queued.value,
                                "created_at": moment,
                            }
                        )
        await _add("incubation_reminder_sent", sent)
        await _add("outbox_email", mails)

    # Mentoring ---------------------------------------------------------------------------------

    async def mentoring(self, programme: int, cohort: int) -> None:
        """The directory, the connections with their hours used, meetings with notes and action
        items, and next week's office hours."""
        joined = self.stamp(self.start - dt.timedelta(days=20))
        mentor_ids = await _add(
            "incubation_mentor",
            [
                {
                    "programme": programme,
                    "user": self.ids[email],
                    "headline": headline,
                    "bio": "{}，从业十年。\n{}, ten years in the trade.".format(*headline.split(" · ")),
                    "expertise": json.dumps(expertise),
                    "languages": languages,
                    "availability": AVAILABILITY,
                    "active": True,
                    "created_at": joined,
                }
                for email, (headline, expertise, languages) in zip(MENTORS, MENTOR_PROFILES, strict=True)
            ],
        )
        (connection,) = await _add(
            "incubation_mentor_cohort",
            [
                {
                    "mentor": mentor_ids[1],
                    "cohort": cohort,
                    "minutes_per_startup": MENTOR02_MINUTES,
                    "created_at": joined,
                }
            ],
        )
        links = [(0, self.startups[0], MENTOR01_MINUTES, None)]
        links += [(1, s, MENTOR02_MINUTES, connection) for s in self.startups]
        links += [
            (2 + k % 4, s, OTHER_MENTOR_MINUTES, None) for k, s in enumerate(self.startups) if k % 3 == 1
        ]
        meetings, used = self.meetings(links, mentor_ids)
        await _add(
            "incubation_mentor_link",
            [
                {
                    "mentor": mentor_ids[m],
                    "startup": s.id,
                    "via_cohort": via,
                    "budget_minutes": budget,
                    "used_minutes": used.get((m, s.index), 0),
                    "created_at": joined,
                }
                for m, s, budget, via in links
            ],
        )
        rows = [row for row, _, _ in meetings]
        meeting_ids = await _add("incubation_meeting", rows)
        notes, items = [], []
        for (row, note, todo), meeting in zip(meetings, meeting_ids, strict=True):
            if note:
                notes.append(
                    {
                        "meeting": meeting,
                        "author": row["created_by"],
                        "body": note,
                        "updated_at": row["created_at"],
                    }
                )
            items += [item | {"meeting": meeting} for item in todo]
        await _add("incubation_private_note", notes)
        await _add("incubation_action_item", items)
        await self.office_hours(mentor_ids)

    def meetings(
        self, links: list[tuple[int, _Startup, int, int | None]], mentor_ids: list[int]
    ) -> tuple[list[tuple[dict[str, Any], str, list[dict[str, Any]]]], dict[tuple[int, int], int]]:
        """The meetings of each connection (``mentor01@`` monthly with ``founder@``'s startup, the others
        every few months), using at most :data:`BUDGET_USED` of each one's hours (mentors have time
        left to log more); returns them (row, private note, action items) and the minutes used per
        (mentor, startup index)."""
        out, used = [], {}
        for m, s, budget, _ in links:
            rng = random.Random(f"demo-incubator-meetings-{m}-{s.index}")
            every, lengths = {0: (1, [30, 45]), 1: (6, [45, 60])}.get(m, (3, [45, 60, 60, 90]))
            spent = 0
            month = month_start(self.start, rng.randrange(every))
            while True:
                day = month + dt.timedelta(days=rng.randint(2, 24))
                if day >= self.today - dt.timedelta(days=2) or not self.active_on(s, day):
                    break
                if s.index in STALLED and day > self.today - dt.timedelta(days=31 * STALLED_MONTHS):
                    break
                minutes = rng.choice(lengths)
                if spent + minutes > budget * BUDGET_USED:
                    break
                spent += minutes
                held = at(day, rng.choice([10, 14, 15, 16]))
                mentor_user = self.ids[MENTORS[m]]
                k = rng.randrange(len(TOPICS))
                row = {
                    "startup": s.id,
                    "mentor": mentor_ids[m],
                    "booking": None,
                    "held_at": held,
                    "minutes": minutes,
                    "topics": json.dumps(TOPICS[k]),
                    "attendees": json.dumps(
                        [{"user": user, "name": self.people[user]["display_name"]} for user in s.founders[:2]]
                    ),
                    "shared_notes": SHARED_NOTES[k],
                    "created_by": mentor_user,
                    "created_at": held + dt.timedelta(hours=2),
                    "updated_at": held + dt.timedelta(hours=2),
                }
                note = rng.choice(PRIVATE_NOTES) if rng.random() < 0.6 else ""
                items = []
                for title, side in rng.sample(ACTION_ITEMS, rng.randint(1, 2)):
                    due_on = day + dt.timedelta(days=14)
                    done = due_on < self.today - dt.timedelta(days=20) and rng.random() < 0.85
                    owner = s.founders[0] if side == ItemSide.founders else mentor_user
                    items.append(
                        {
                            "startup": s.id,
                            "mentor": mentor_ids[m],
                            "title": title,
                            "side": side.value,
                            "owner": owner,
                            "due_on": due_on,
                            "done_at": min(at(due_on - dt.timedelta(days=rng.randint(0, 10)), 18), self.now)
                            if done
                            else None,
                            "done_by": owner if done else None,
                            "created_by": mentor_user,
                            "created_at": held + dt.timedelta(hours=2),
                        }
                    )
                out.append((row, note, items))
                used[(m, s.index)] = spent
                month = month_start(month, every)
        return out, used

    async def office_hours(self, mentor_ids: list[int]) -> None:
        """Free slots next week for ``mentor01@``, ``mentor02@`` and ``mentor03@``; one of ``mentor02@``'s
        booked by the second startup."""
        monday = self.today + dt.timedelta(days=7 - self.today.weekday())
        slots = []
        for m, days in ((0, (1, 3)), (1, (0, 2, 4)), (2, (1,))):
            for d in days:
                for hour in (14, 15):
                    starts = at(monday + dt.timedelta(days=d), hour)
                    slots.append(
                        {
                            "mentor": mentor_ids[m],
                            "starts_at": starts,
                            "ends_at": starts + dt.timedelta(minutes=50),
                            "place": "杭州孵化基地 3 楼 · Hangzhou base, 3rd floor"
                            if d % 2
                            else "https://meet.podium.example/" + MENTORS[m].split("@")[0],
                            "created_at": self.now - dt.timedelta(days=3),
                        }
                    )
        slot_ids = await _add("incubation_office_hour", slots)
        booked = slot_ids[len([s for s in slots if s["mentor"] == mentor_ids[0]])]  # mentor02's first
        await _add(
            "incubation_booking",
            [
                {
                    "slot": booked,
                    "startup": self.startups[1].id,
                    "booked_by": self.startups[1].founders[0],
                    "topic": "融资节奏 · Timing the angel round",
                    "status": BookingStatus.booked.value,
                    "created_at": self.now - dt.timedelta(days=1),
                }
            ],
        )

    # Milestones and support --------------------------------------------------------------------

    async def milestones(self) -> None:
        """Four milestones per startup over its two years: achieved on time, achieved late, in
        progress (overdue for some), planned; dropped where the startup closed."""
        rows, evidence = [], []
        for s in self.startups:
            rng = random.Random(f"demo-incubator-milestones-{s.index}")
            for title, months in MILESTONES:
                due_on = month_start(self.start, months) + dt.timedelta(days=rng.randint(0, 20))
                state, achieved = MilestoneState.planned.value, None
                if s.closed_on is not None and due_on > s.closed_on:
                    state = MilestoneState.dropped.value
                elif due_on < self.today and rng.random() < 0.75:
                    state = MilestoneState.achieved.value
                    achieved = min(due_on + dt.timedelta(days=rng.randint(-20, 25)), self.today)
                elif due_on < self.today + dt.timedelta(days=120):
                    state = MilestoneState.in_progress.value
                created = self.stamp(self.start + dt.timedelta(days=rng.randint(3, 20)))
                rows.append(
                    {
                        "startup": s.id,
                        "title": title,
                        "description": "",
                        "due_on": due_on,
                        "state": state,
                        "achieved_on": achieved,
                        "created_by": s.founders[0],
                        "created_at": created,
                        "updated_at": self.stamp(achieved) if achieved else created,
                    }
                )
        for row, milestone in zip(rows, await _add("incubation_milestone", rows), strict=True):
            if row["achieved_on"] is not None:
                evidence.append(
                    {
                        "startup": row["startup"],
                        "milestone": milestone,
                        "delivery": None,
                        "kind": "link",
                        "url": f"https://docs.podium.example/evidence/{milestone}",
                        "storage_key": "",
                        "filename": "",
                        "content_type": "",
                        "size": 0,
                        "added_by": row["created_by"],
                        "created_at": row["updated_at"],
                    }
                )
        await _add("incubation_evidence", evidence)

    async def support(self) -> None:
        """What the programme promised each startup and delivered: desks and credits in full, most of
        the training, a few introductions; seed money for the first prize's startups, half paid."""
        promises, deliveries = [], []
        for s in self.startups:
            rng = random.Random(f"demo-incubator-support-{s.index}")
            offer = list(SUPPORT)
            if s.index < FUNDED:
                offer.append((SupportKind.funding, "种子资金 · Seed grant", 200000, "CNY", 9))
            for kind, description, quantity, unit, months in offer:
                due_on = month_start(self.start, months)
                shares = {
                    SupportKind.office_space: [1.0],
                    SupportKind.cloud_credits: [0.5, 0.5] if rng.random() < 0.7 else [0.5],
                    SupportKind.training_hours: [0.25, 0.25, 0.25] + ([0.25] if rng.random() < 0.5 else []),
                    SupportKind.introductions: [0.2] * rng.randint(1, 5),
                    SupportKind.funding: [0.5],
                }[kind]
                promises.append(
                    {
                        "startup": s.id,
                        "kind": kind.value,
                        "description": description,
                        "quantity": Decimal(quantity),
                        "unit": unit,
                        "due_on": due_on,
                        "promised_by": self.manager,
                        "created_at": self.stamp(self.start),
                        "withdrawn_at": None,
                    }
                )
                plan = []
                for k, share in enumerate(shares):
                    delivered = month_start(self.start, k * max(months // len(shares), 1)) + dt.timedelta(
                        days=5
                    )
                    if delivered < self.today and self.active_on(s, delivered):
                        plan.append((Decimal(quantity) * Decimal(str(share)), delivered))
                deliveries.append(plan)
        promise_ids = await _add("incubation_support_promise", promises)
        await _add(
            "incubation_support_delivery",
            [
                {
                    "promise": promise,
                    "quantity": quantity.quantize(Decimal("0.01")),
                    "delivered_on": delivered,
                    "note": "",
                    "recorded_by": self.manager,
                    "created_at": self.stamp(delivered),
                }
                for promise, plan in zip(promise_ids, deliveries, strict=True)
                for quantity, delivered in plan
            ],
        )
