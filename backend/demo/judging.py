"""The demo contest judged end to end, through the judging services as an organizer, its judges, its
scoped admin and a team leader would use them.

The school round is the judged online review: it is the contest's first stage, so its entries are
seeded from the approved teams (the only stage ``seed_entries`` fills from registration), and its
teams uploaded their business plans to it, which is what an online review reads. The rules forbid
skipped levels, so its winners advance to the next stage by position, the provincial round, which
the demo runs as a live final in three rooms.

Every step looks at the state first and does only what is missing, so a second ``podium demo``
changes nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from piccolo.querystring import QueryString

from backend import policy, tasks
from backend.accounts.tables import Role, RoleGrant
from backend.db import engine, transaction
from backend.events.tables import Stage, StageLevel
from backend.policy import Action, Principal
from backend.settings import get_settings
from backend.teams.tables import Team
from judging.access import stage_access
from judging.advancement import quotas
from judging.advancement import service as advancement
from judging.advancement.schemas import QuotaRules, RecommendIn, TierIn, TiersIn
from judging.advancement.schemas import RulesIn as AdvancementRulesIn
from judging.assign import service as assign
from judging.assign.schemas import PublishIn, RunIn
from judging.engine.synthetic import AMATEUR
from judging.live import service as live
from judging.results import service as results
from judging.results.jobs import rank_stage
from judging.results.schemas import AppealIn
from judging.rubrics import current_rubric
from judging.scoring import service as scoring
from judging.scoring.schemas import SheetIn
from judging.setup import service as setup
from judging.setup.schemas import EntryPatch, JudgeIn, PanelIn, RubricIn, SettingsIn
from judging.tables import (
    AdvancementRules,
    Appeal,
    EntryStatus,
    JudgingStatus,
    Panel,
    PanelPhase,
    PrizeTier,
    RankingRun,
    Recommendation,
    RecommendationState,
    RunStatus,
    ScoreSheet,
    StageEntry,
    StageJudge,
    StageJudging,
)

RUBRIC = [
    {
        "code": "market",
        "weight": 0.3,
        "min": 0,
        "max": 10,
        "step": 0.5,
        "name": {"zh": "市场与选品", "en": "Market and sourcing", "ru": "Рынок и ассортимент"},
        "descriptor": {
            "zh": "目标市场分析是否扎实，选品是否有数据支撑",
            "en": "A sound analysis of the target market; products chosen on evidence",
            "ru": "Обоснованный анализ целевого рынка; ассортимент выбран по данным",
        },
    },
    {
        "code": "model",
        "weight": 0.3,
        "min": 0,
        "max": 10,
        "step": 0.5,
        "name": {"zh": "商业模式", "en": "Business model", "ru": "Бизнес-модель"},
        "descriptor": {
            "zh": "盈利路径清晰，成本与定价合理",
            "en": "A clear path to profit, with realistic costs and prices",
            "ru": "Понятный путь к прибыли, реалистичные затраты и цены",
        },
    },
    {
        "code": "operations",
        "weight": 0.25,
        "min": 0,
        "max": 10,
        "step": 0.5,
        "name": {"zh": "跨境运营", "en": "Cross-border operations", "ru": "Трансграничные операции"},
        "descriptor": {
            "zh": "物流、支付、合规与本地化方案可行",
            "en": "Workable logistics, payments, compliance and localisation",
            "ru": "Реализуемые логистика, платежи, соответствие требованиям и локализация",
        },
    },
    {
        "code": "team",
        "weight": 0.15,
        "min": 0,
        "max": 10,
        "step": 0.5,
        "name": {"zh": "团队", "en": "Team", "ru": "Команда"},
        "descriptor": {
            "zh": "团队分工明确，具备执行能力",
            "en": "Clear roles and the skills to carry the plan out",
            "ru": "Чёткое распределение ролей и умение выполнить план",
        },
    },
]

# The demo's judges, in the order of their accounts (judge@, judge02 … judge30): a few stand out, so
# the diagnostics have something to show: two harsh, two lenient, one who hardly tells entries apart.
NOTABLE_LENIENCY = {4: -1.6, 11: -1.3, 17: 1.4, 23: 1.2}
NOTABLE_SCALE = {8: 0.35}
CENTRE, SPREAD = 6.2, 1.1  # a typical mark, and how far one standard deviation of quality moves it


def team_quality(team_ids: list[int], seed: int = 2027) -> dict[int, float]:
    """Each team's latent quality, N(0, 1), the same on every load."""
    return {t: random.Random(f"{seed}-quality-{t}").gauss(0.0, 1.0) for t in team_ids}


def judge_biases(judge_ids: list[int], seed: int = 2027) -> dict[int, tuple[float, float]]:
    """Each judge's (leniency, scale) as the synthetic contest's amateur judges draw them
    (:data:`judging.engine.synthetic.AMATEUR`), with the :data:`NOTABLE_LENIENCY` and
    :data:`NOTABLE_SCALE` judges (by position in ``judge_ids``) set apart."""
    biases = {}
    for k, judge in enumerate(judge_ids):
        rng = random.Random(f"{seed}-judge-{judge}")
        leniency = NOTABLE_LENIENCY.get(k, rng.gauss(0.0, AMATEUR.leniency_sd))
        scale = NOTABLE_SCALE.get(k, rng.lognormvariate(0.0, AMATEUR.scale_sd))
        biases[judge] = (leniency, scale)
    return biases


def on_step(value: float, criterion: dict[str, Any]) -> float:
    """``value`` rounded to the nearest mark the criterion allows: a whole number of steps above its
    minimum, and no higher than its maximum."""
    low, high = Decimal(str(criterion["min"])), Decimal(str(criterion["max"]))
    step = Decimal(str(criterion.get("step") or 1))
    steps = ((Decimal(str(value)) - low) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    most = ((high - low) / step).to_integral_value(rounding=ROUND_FLOOR)
    return float(low + min(max(steps, Decimal(0)), most) * step)


def marks_for(
    criteria: list[dict[str, Any]], quality: float, bias: tuple[float, float], rng: random.Random
) -> dict[str, float]:
    """One judge's marks for one entry: per criterion, the team's quality with a little of the
    criterion's own (a team is not equally good at everything), through the judge's leniency and
    scale, plus the judge's noise, placed on the criterion's range and step."""
    leniency, scale = bias
    marks = {}
    for c in criteria:
        own = quality + rng.gauss(0.0, 0.4)
        z = leniency + scale * own + rng.gauss(0.0, AMATEUR.noise_sd)
        fraction = (CENTRE + SPREAD * z) / 10.0
        marks[c["code"]] = on_step(c["min"] + fraction * (c["max"] - c["min"]), c)
    return marks


# Loading -----------------------------------------------------------------------------------------

ProgressFactory = Callable[[str, int], Callable[[int], None]]
APPEAL_TEXT = (
    "我们认为评审对我们的跨境物流方案理解有误：计划书第 4 节已给出海外仓的成本测算。请复核运营一项的评分。\n"
    "We believe the judges misread our logistics plan: section 4 of the business plan costs the overseas "
    "warehouse. Please review the marks for cross-border operations."
)
CHANGE_REASON = "重新阅读计划书后修正市场分 / Market mark corrected after rereading the plan"


ORGANIZER, JUDGE, LEADER = "organizer@podium.example", "judge@podium.example", "leader@podium.example"
SCHOOL_ADMIN = "school@podium.example"  # an organizer of the contest for the leader's institution


class _RankingHere(tasks.InlineQueue):
    """The demo's queue while it judges: the ranking job runs in this process (the demo ends with a
    published ranking whether or not a worker runs), other jobs are left undone: the mails stay in
    the outbox for the app's sweep, as while the teams load."""

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        if name in self.jobs:
            await super().enqueue(name, *args, job_id=job_id)


@dataclass(frozen=True)
class _Demo:
    """Who acts in the demo's judging, and on which stages."""

    contest: int
    review: int  # the school round: the online review
    final: int  # the provincial round: the live final
    ids: dict[str, int]
    queue: _RankingHere
    progress: ProgressFactory | None

    def counter(self, label: str, total: int) -> Callable[[int], None]:
        """A progress counter on the command line (nothing without one), shown at 0 at once."""
        step = self.progress(label, total) if self.progress else (lambda _: None)
        step(0)
        return step

    def person(self, email: str) -> Principal:
        """``email``'s account acting from the command line, as the services expect a caller."""
        return Principal(
            id=self.ids[email],
            email=email,
            display_name=email,
            locale="zh",
            is_platform_admin=False,
            via="cli",
        )

    @property
    def organizer(self) -> Principal:
        return self.person(ORGANIZER)

    @property
    def emails(self) -> dict[int, str]:
        """The judges' e-mails by account id."""
        return {self.ids[email]: email for email in self.judges}

    @property
    def judges(self) -> list[str]:
        """The contest's 30 judges' e-mails, the demo's ``judge@`` first."""
        return [JUDGE] + [f"judge{i:02d}@podium.example" for i in range(2, 31)]


async def load_judging(contest_id: int, ids: dict[str, int], progress: ProgressFactory | None = None) -> None:
    """Judge the demo contest (see the module's docstring): ``ids`` are the demo's accounts by e-mail."""
    stages = {
        r["level"]: r["id"]
        for r in await Stage.select(Stage.id, Stage.level).where(Stage.event == contest_id)
    }
    steps = [_set_up_review, _score_review, _publish_review, _advance, _final]
    queue = _RankingHere(get_settings(), [rank_stage])
    demo = _Demo(
        contest_id, stages[StageLevel.school.value], stages[StageLevel.province.value], ids, queue, progress
    )
    step = demo.counter("Judging", len(steps))
    previous = tasks.install(queue)
    try:
        for done, function in enumerate(steps, 1):
            await function(demo)
            step(done)
    finally:
        tasks.install(previous)
        await queue.close()


def _json(value: Any) -> Any:
    """A JSON column's value (Piccolo gives it as text on SQLite)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


async def _status(stage_id: int) -> str:
    row = await StageJudging.select(StageJudging.status).where(StageJudging.stage == stage_id).first()
    return row["status"] if row else JudgingStatus.setup.value


async def _set_up_review(demo: _Demo) -> None:
    """The online review's settings, rubric, entries and judges, and the engine's assignment of five
    judges per entry, published (which opens scoring)."""
    if await _status(demo.review) != JudgingStatus.setup.value:
        return
    organizer = demo.organizer
    settings = SettingsIn(method="auto", judges_per_entry=5, min_judges=3)
    await setup.update_settings(organizer, demo.review, settings)
    if await current_rubric(demo.review) is None:
        await setup.save_rubric(organizer, demo.review, msgspec.convert({"criteria": RUBRIC}, RubricIn))
    await setup.seed_entries(organizer, demo.review)
    workplaces = await _judge_institutions(demo)
    async with transaction():
        await _add_judges(demo, demo.review, {email: None for email in demo.judges}, workplaces)
    run = await assign.run_engine(organizer, demo.review, RunIn(per_entry=5, seed=2027))
    await assign.publish_run(organizer, run.id, PublishIn())


async def _judge_institutions(demo: _Demo) -> dict[int, int | None]:
    """Where each judge works: the institution of their judge role in the contest (the demo gives
    each judge a different university, so few teams share a judge's)."""
    rows = await RoleGrant.select(RoleGrant.user, RoleGrant.institution).where(
        (RoleGrant.event == demo.contest) & (RoleGrant.role == Role.judge.value)
    )
    return {r["user"]: r["institution"] for r in rows}


async def _add_judges(
    demo: _Demo, stage_id: int, rooms: dict[str, int | None], workplaces: dict[int, int | None]
) -> None:
    """Make the judges (e-mail -> room, or ``None``) judges of the stage, those not yet."""
    present = {
        r["user"] for r in await StageJudge.select(StageJudge.user).where(StageJudge.stage == stage_id)
    }
    for email, room in rooms.items():
        user = demo.ids[email]
        if user not in present:
            judge = JudgeIn(user_id=user, institution_id=workplaces.get(user), panel_id=room)
            await setup.add_judge(demo.organizer, stage_id, judge, get_settings().base_url)


async def _score_review(demo: _Demo) -> None:
    """Every assignment of the online review scored by its judge through the scoring service, the
    marks drawn from each team's quality and each judge's biases; then one judge changes one sheet,
    with the reason, so the version log has a change to show."""
    if await _status(demo.review) != JudgingStatus.scoring.value:
        return
    todo = await _unscored(demo.review)
    step = demo.counter("Score sheets", len(todo))
    rubric = await current_rubric(demo.review)
    assert rubric is not None  # set up with the stage
    criteria = _json(rubric["criteria"])
    quality = team_quality(sorted({a["team"] for a in todo}))
    leader_team = await _leader_team(demo)
    if leader_team in quality:
        quality[leader_team] = LEADER_QUALITY
    biases = judge_biases([demo.ids[email] for email in demo.judges])
    for start in range(0, len(todo), SHEETS_PER_TRANSACTION):
        async with transaction():
            for a in todo[start : start + SHEETS_PER_TRANSACTION]:
                rng = random.Random(f"2027-sheet-{a['stage_entry']}-{a['judge']}")
                marks = marks_for(criteria, quality[a["team"]], biases[a["judge"]], rng)
                comment = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
                sheet = SheetIn(marks=marks, nonce=f"demo-sheet-{a['id']}", comment=comment)
                await scoring.submit_sheet(demo.person(demo.emails[a["judge"]]), a["id"], sheet)
        step(min(start + SHEETS_PER_TRANSACTION, len(todo)))
    await _change_one_sheet(demo, criteria)


SHEETS_PER_TRANSACTION = 50  # SQLite pays for each commit
LEADER_QUALITY = 1.0  # the demo leader's team: near the final's cut, which its appeal contests
COMMENTS = [
    "选品数据扎实，物流成本测算可再细化。",
    "Strong market analysis; the unit economics need more evidence.",
    "Хороший анализ рынка, но план логистики слишком общий.",
    "团队分工清晰，建议补充合规风险分析。",
    "A credible pilot; localisation for the target market is thin.",
]

# A stage's active assignments with no sheet yet, with each entry's team.
_UNSCORED = """
SELECT a.id, a.stage_entry, a.judge, e.team
FROM assignment a JOIN stage_entry e ON e.id = a.stage_entry
WHERE a.stage = {} AND a.state = 'active' AND e.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM score_sheet s WHERE s.assignment = a.id)
"""


async def _unscored(stage_id: int, entry_id: int | None = None) -> list[dict[str, Any]]:
    """The stage's (or one of its entries') assignments still to score, in id order."""
    if entry_id is None:
        return await engine().run_querystring(QueryString(_UNSCORED + " ORDER BY a.id", stage_id))
    sql = _UNSCORED + " AND a.stage_entry = {} ORDER BY a.id"
    return await engine().run_querystring(QueryString(sql, stage_id, entry_id))


async def _change_one_sheet(demo: _Demo, criteria: list[dict[str, Any]]) -> None:
    """The demo judge moves the market mark of their first sheet by a step (up, or down from the
    top), saying why (once)."""
    if await ScoreSheet.exists().where((ScoreSheet.stage == demo.review) & (ScoreSheet.version > 1)):
        return
    sheet = (
        await ScoreSheet.select(ScoreSheet.assignment, ScoreSheet.marks)
        .where((ScoreSheet.stage == demo.review) & (ScoreSheet.judge == demo.ids[JUDGE]))
        .order_by(ScoreSheet.id)
        .first()
    )
    if sheet is None:
        return
    marks = _json(sheet["marks"])
    market = criteria[0]
    step = market.get("step", 1) if marks[market["code"]] < market["max"] else -market.get("step", 1)
    marks[market["code"]] = on_step(marks[market["code"]] + step, market)
    change = SheetIn(marks=marks, nonce=f"demo-change-{sheet['assignment']}", reason=CHANGE_REASON)
    await scoring.submit_sheet(demo.person(JUDGE), sheet["assignment"], change)


async def _publish_review(demo: _Demo) -> None:
    """The online review locked, ranked by the ranking job, published, and the demo leader's appeal."""
    organizer = demo.organizer
    if await _status(demo.review) == JudgingStatus.scoring.value:
        await setup.lock_stage(organizer, demo.review)
    if await _status(demo.review) == JudgingStatus.locked.value:
        run_id = await _final_ranking(demo)
        await results.publish_ranking(organizer, demo.review, run_id, get_settings().base_url)
    await _appeal(demo)


async def _final_ranking(demo: _Demo) -> int:
    """A finished ranking run of the locked review (requested after it was locked): the one there is,
    or a new one run to completion by the ranking job in this process, whether or not a worker runs."""
    judging = await StageJudging.select().where(StageJudging.stage == demo.review).first()
    assert judging is not None
    done = (
        await RankingRun.select(RankingRun.id)
        .where(
            (RankingRun.stage == demo.review)
            & (RankingRun.status == RunStatus.done.value)
            & (RankingRun.requested_at >= judging["locked_at"])
        )
        .order_by(RankingRun.id, ascending=False)
        .first()
    )
    if done:
        return done["id"]
    run = await results.request_run(demo.organizer, demo.review)
    await demo.queue.drain()
    return run.id


async def _appeal(demo: _Demo) -> None:
    """The demo leader's team appeals against the published ranking, and the appeal stays open."""
    if await _status(demo.review) != JudgingStatus.published.value:
        return
    team = await _leader_team(demo)
    if team is None or await Appeal.exists().where((Appeal.stage == demo.review) & (Appeal.team == team)):
        return
    await results.file_appeal(demo.person(LEADER), demo.review, AppealIn(team=team, text=APPEAL_TEXT))


async def _leader_team(demo: _Demo) -> int | None:
    """The demo leader's team (approved, so an entry of the online review)."""
    row = (
        await Team.select(Team.id)
        .where((Team.event == demo.contest) & (Team.leader == demo.ids[LEADER]))
        .first()
    )
    return row["id"] if row else None


FINALISTS = 18  # six teams per room of the final
REGION_MAX = 3  # finalists per province (region) at most
PRIZE_TIERS = [
    TierIn(code="special", size=3, name_zh="特等奖", name_en="Grand prize", name_ru="Гран-при"),
    TierIn(code="first", size=6, name_zh="一等奖", name_en="First prize", name_ru="Первая премия"),
    TierIn(code="second", size=9, name_zh="二等奖", name_en="Second prize", name_ru="Вторая премия"),
]


async def _advance(demo: _Demo) -> None:
    """The quotas for the final (18 teams, at most 3 per province and 1 per institution), the teams that
    fit them in rank order recommended (the school admin recommends those of their institution,
    the organizer the rest) and accepted into the final, and the final's prize tiers."""
    if await _status(demo.review) != JudgingStatus.published.value:
        return
    organizer = demo.organizer
    if not await AdvancementRules.exists().where(AdvancementRules.from_stage == demo.review):
        rules = QuotaRules(total=FINALISTS, region_default=REGION_MAX, per_institution_max=1)
        await advancement.set_rules(
            organizer, demo.review, AdvancementRulesIn(to_stage=demo.final, rules=rules)
        )
    if not await Recommendation.exists().where(Recommendation.from_stage == demo.review):
        await _recommend(demo)
    if await Recommendation.exists().where(
        (Recommendation.from_stage == demo.review)
        & (Recommendation.state == RecommendationState.recommended.value)
    ):
        await advancement.accept_recommendations(organizer, demo.review)
    if not await PrizeTier.exists().where(PrizeTier.stage == demo.final):
        await advancement.set_tiers(organizer, demo.final, TiersIn(tiers=PRIZE_TIERS))


async def _recommend(demo: _Demo) -> None:
    """Recommend the entries that fit the quotas, walking the published ranking in order."""
    rules = (
        await AdvancementRules.select(AdvancementRules.rules)
        .where(AdvancementRules.from_stage == demo.review)
        .first()
    )
    assert rules is not None
    ranking = await advancement.standings(demo.review)
    fits = quotas.check(quotas.Rules.of(_json(rules["rules"])), [], [s.quota_place for s in ranking])
    chosen = [s for s, breach in zip(ranking, fits, strict=True) if breach is None]
    school = demo.person(SCHOOL_ADMIN)
    access = await stage_access(school, demo.review, Action.recommend_teams)
    theirs = [
        s.entry
        for s, mine in zip(
            chosen, policy.within_scope(school, access.event, [s.scope for s in chosen]), strict=True
        )
        if mine
    ]
    if theirs:
        await advancement.recommend(school, demo.review, RecommendIn(entries=theirs))
    rest = [s.entry for s in chosen if s.entry not in theirs]
    if rest:
        await advancement.recommend(demo.organizer, demo.review, RecommendIn(entries=rest))


async def _final(demo: _Demo) -> None:
    """The final set up as a live final in three rooms and prepared (every room's judges assigned to
    its teams, scoring open), then room 1 under way: its first two teams pitched, questioned and
    scored by the room's judges, the second one's room result on the organizers' screen."""
    if not await StageEntry.exists().where(StageEntry.stage == demo.final):
        return  # nobody advanced (yet)
    if await _status(demo.final) == JudgingStatus.setup.value:
        await _set_up_final(demo)
        await live.prepare_rooms(demo.organizer, demo.final)
    room = await Panel.select(Panel.id).where(Panel.stage == demo.final).order_by(Panel.position).first()
    if room is None or await _status(demo.final) != JudgingStatus.scoring.value:
        return
    rubric = await current_rubric(demo.final)
    assert rubric is not None
    criteria = _json(rubric["criteria"])
    opening = (
        await StageEntry.select(StageEntry.id, StageEntry.team)
        .where((StageEntry.panel == room["id"]) & (StageEntry.status == EntryStatus.active.value))
        .order_by(StageEntry.position)
        .order_by(StageEntry.id)
        .limit(2)
    )
    quality = team_quality([e["team"] for e in opening])
    biases = judge_biases([demo.ids[email] for email in demo.judges])
    for entry in opening:
        todo = await _unscored(demo.final, entry["id"])
        if not todo:
            continue
        await _on_stage(demo, room["id"], entry["id"])
        for a in todo:
            rng = random.Random(f"2027-final-{a['stage_entry']}-{a['judge']}")
            marks = marks_for(criteria, quality[entry["team"]], biases[a["judge"]], rng)
            judge = demo.person(demo.emails[a["judge"]])
            await scoring.submit_sheet(judge, a["id"], SheetIn(marks=marks, nonce=f"demo-final-{a['id']}"))


async def _on_stage(demo: _Demo, room_id: int, entry_id: int) -> None:
    """Take the room through its steps until ``entry_id`` has pitched, answered and is being scored."""
    room = await Panel.select(Panel.phase, Panel.current_entry).where(Panel.id == room_id).first()
    assert room is not None
    phase = room["phase"]
    if phase == PanelPhase.scoring.value and room["current_entry"] != entry_id:
        await live.run_step(demo.organizer, room_id, "next")
        phase = PanelPhase.idle.value
    if phase == PanelPhase.idle.value:
        await live.run_step(demo.organizer, room_id, "start-pitch", entry_id)
        phase = PanelPhase.pitch.value
    if phase == PanelPhase.pitch.value:
        await live.run_step(demo.organizer, room_id, "start-questions")
        phase = PanelPhase.questions.value
    if phase == PanelPhase.questions.value:
        await live.run_step(demo.organizer, room_id, "start-scoring")


FINAL_RUBRIC = [
    *RUBRIC[:3],
    {
        "code": "pitch",
        "weight": 0.15,
        "min": 0,
        "max": 10,
        "step": 0.5,
        "name": {"zh": "路演与答辩", "en": "Pitch and answers", "ru": "Выступление и ответы"},
        "descriptor": {
            "zh": "8 分钟路演清楚有力，7 分钟答辩回答到位",
            "en": "A clear 8-minute pitch and sound answers in the 7 minutes of questions",
            "ru": "Ясное 8-минутное выступление и точные ответы за 7 минут вопросов",
        },
    },
]
ROOMS = [
    ("一号厅 · Room 1", "A101"),
    ("二号厅 · Room 2", "A102"),
    ("三号厅 · Room 3", "A103"),
]
JUDGES_PER_ROOM = 5


async def _set_up_final(demo: _Demo) -> None:
    """The final as a live final judged by the trimmed mean (the highest and the lowest mark
    dropped): its rubric, three rooms of five judges (the demo's judge in room 1), and the finalists
    spread over the rooms by their review rank (1, 2, 3, 3, 2, 1 ...) with a running order drawn by
    lot."""
    organizer = demo.organizer
    settings = SettingsIn(live=True, method="trimmed", trim_high=1, trim_low=1, min_judges=3)
    await setup.update_settings(organizer, demo.final, settings)
    if await current_rubric(demo.final) is None:
        await setup.save_rubric(organizer, demo.final, msgspec.convert({"criteria": FINAL_RUBRIC}, RubricIn))
    async with transaction():
        rooms = [
            r["id"]
            for r in await Panel.select(Panel.id).where(Panel.stage == demo.final).order_by(Panel.position)
        ]
        for position, (name, where) in enumerate(ROOMS[len(rooms) :], len(rooms) + 1):
            room = await setup.create_panel(
                organizer, demo.final, PanelIn(name=name, room=where, position=position)
            )
            rooms.append(room.id)
        seats = {
            email: rooms[k // JUDGES_PER_ROOM]
            for k, email in enumerate(demo.judges[: JUDGES_PER_ROOM * len(rooms)])
        }
        await _add_judges(demo, demo.final, seats, await _judge_institutions(demo))
        await _seat_finalists(demo, rooms)


async def _seat_finalists(demo: _Demo, rooms: list[int]) -> None:
    """Each finalist not yet in a room goes to one, by its place in the review's ranking, snaking
    across the rooms so each gets strong and weaker teams; each room's running order is drawn."""
    entries = await StageEntry.select(StageEntry.id, StageEntry.team, StageEntry.panel).where(
        StageEntry.stage == demo.final
    )
    if all(e["panel"] is not None for e in entries):
        return
    place = {
        r["team"]: r["position"]
        for r in await Recommendation.select(Recommendation.team, Recommendation.position).where(
            Recommendation.from_stage == demo.review
        )
    }
    ordered = sorted(entries, key=lambda e: (place.get(e["team"], len(entries)), e["id"]))
    lot = random.Random(2027)
    for k, room in enumerate(rooms):
        members = [e for i, e in enumerate(ordered) if snake_room(i, len(rooms)) == k]
        lot.shuffle(members)
        for position, entry in enumerate(members, 1):
            if entry["panel"] is None:
                patch = EntryPatch(panel_id=room, position=position)
                await setup.update_entry(demo.organizer, entry["id"], patch)


def snake_room(i: int, rooms: int) -> int:
    """The room of the ``i``-th best finalist: 0, 1, 2, 2, 1, 0, 0, 1 ... for three rooms."""
    turn, k = divmod(i, rooms)
    return k if turn % 2 == 0 else rooms - 1 - k
