"""The results' mails, each in its reader's language, queued in the caller's transaction (the
outbox sends them once it commits): a team's place when a ranking is published, and the answer to
its appeal."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from backend.db import fetch_all, fetch_one
from backend.errors import fill
from backend.mail.service import queue_email

_PUBLISHED_SUBJECT = {
    "zh": "「{event}」{stage}结果已公布",
    "en": "{event}: the results of {stage} are published",
    "ru": "«{event}»: опубликованы результаты этапа «{stage}»",
}
_PUBLISHED_BODY = {
    "zh": (
        "您好：\n\n「{event}」{stage}的排名已公布。您的团队「{team}」排名第 {rank}（{track}赛道第 {track_rank}）。\n\n"
        "公示期至 {objection_ends}。如对结果有异议，队长可在 {appeals_close} 前提出申诉：\n{link}\n"
    ),
    "en": (
        "Hello,\n\nThe ranking of {stage} at {event} is published. Your team {team} placed {rank} "
        "({track_rank} in track {track}).\n\nObjections are open until {objection_ends}. The team leader "
        "may appeal until {appeals_close}:\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\nОпубликован рейтинг этапа «{stage}» конкурса «{event}». Ваша команда «{team}» "
        "заняла {rank}-е место ({track_rank}-е в треке {track}).\n\nВозражения принимаются до "
        "{objection_ends}. Капитан может подать апелляцию до {appeals_close}:\n{link}\n"
    ),
}
_ANSWER_SUBJECT = {
    "zh": "您的团队「{team}」的申诉已答复",
    "en": "The appeal of your team {team} is answered",
    "ru": "Апелляция вашей команды «{team}» рассмотрена",
}
_OUTCOME = {
    "upheld": {"zh": "申诉成立", "en": "upheld", "ru": "удовлетворена"},
    "dismissed": {"zh": "申诉被驳回", "en": "dismissed", "ru": "отклонена"},
}
_ANSWER_BODY = {
    "zh": "您好：\n\n「{event}」{stage}：您的团队「{team}」的申诉结果为：{outcome}。\n\n答复：\n{answer}\n\n{link}\n",
    "en": "Hello,\n\n{event}, {stage}: the appeal of your team {team} was {outcome}.\n\nThe answer:\n{answer}\n\n{link}\n",
    "ru": (
        "Здравствуйте!\n\n«{event}», этап «{stage}»: апелляция вашей команды «{team}» {outcome}.\n\n"
        "Ответ:\n{answer}\n\n{link}\n"
    ),
}

# Every confirmed person of the run's teams, with their place.
_PEOPLE = """
SELECT m.email, COALESCE(u.locale, 'zh') AS locale, t.id AS team_id, t.name AS team, tr.code AS track,
       r.rank, r.track_rank
FROM stage_result r
JOIN stage_entry e ON e.id = r.stage_entry
JOIN team t ON t.id = e.team
JOIN track tr ON tr.id = r.track
JOIN team_member m ON m.team = t.id AND m.state = 'confirmed'
LEFT JOIN podium_user u ON u.id = m."user"
WHERE r.run = {} AND r.rank > 0
ORDER BY r.rank, t.id, m.id
"""
_STAGE = """
SELECT s.name_zh, s.name_en, s.name_ru, ev.name_zh AS event_zh, ev.name_en AS event_en, ev.name_ru AS event_ru,
       j.objection_ends_at, j.appeals_close_at, ev.time_zone
FROM stage s JOIN event ev ON ev.id = s.event JOIN stage_judging j ON j.stage = s.id
WHERE s.id = {}
"""


def _name(row: dict[str, Any], prefix: str, locale: str) -> str:
    for loc in (locale, "en", "zh", "ru"):
        if row.get(f"{prefix}{loc}"):
            return row[f"{prefix}{loc}"]
    return ""


def _locale(value: str) -> str:
    return value if value in _PUBLISHED_SUBJECT else "zh"


def _team_values(stage: dict[str, Any], person: dict[str, Any], locale: str, base_url: str) -> dict[str, Any]:
    """What every mail to a team's person names: the contest, the stage, the team and its results page."""
    return {
        "event": _name(stage, "event_", locale),
        "stage": _name(stage, "name_", locale),
        "team": person["team"],
        "link": f"{base_url}/teams/{person['team_id']}/results",
    }


async def results_published(stage_id: int, run_id: int, base_url: str) -> None:
    """Mail every confirmed person of each ranked team their team's place."""
    stage = await fetch_one(_STAGE, stage_id)
    assert stage is not None
    zone = ZoneInfo(stage["time_zone"])
    people = await fetch_all(_PEOPLE, run_id)
    for p in people:
        locale = _locale(p["locale"])
        values = {
            **_team_values(stage, p, locale, base_url),
            "track": p["track"],
            "rank": p["rank"],
            "track_rank": p["track_rank"],
            "objection_ends": stage["objection_ends_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "appeals_close": stage["appeals_close_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        }
        await queue_email(
            p["email"], fill(_PUBLISHED_SUBJECT[locale], values), fill(_PUBLISHED_BODY[locale], values)
        )


_APPEAL_PEOPLE = """
SELECT m.email, COALESCE(u.locale, 'zh') AS locale, t.id AS team_id, t.name AS team, a.status, a.answer, a.stage
FROM appeal a
JOIN team t ON t.id = a.team
JOIN team_member m ON m.team = t.id AND m.state = 'confirmed'
LEFT JOIN podium_user u ON u.id = m."user"
WHERE a.id = {}
ORDER BY m.id
"""


async def appeal_answered(appeal_id: int, base_url: str = "") -> None:
    """Mail every confirmed person of the appealing team the answer."""
    people = await fetch_all(_APPEAL_PEOPLE, appeal_id)
    if not people:
        return
    stage = await fetch_one(_STAGE, people[0]["stage"])
    assert stage is not None
    for p in people:
        locale = _locale(p["locale"])
        values = {
            **_team_values(stage, p, locale, base_url),
            "outcome": _OUTCOME[p["status"]][locale],
            "answer": p["answer"],
        }
        await queue_email(
            p["email"], fill(_ANSWER_SUBJECT[locale], values), fill(_ANSWER_BODY[locale], values)
        )
