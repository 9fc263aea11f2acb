"""The judges' mails about their assignment, each in the judge's language, queued in the caller's
transaction (the outbox sends them once it commits)."""

from __future__ import annotations

from backend.mail.service import queue_email
from backend.settings import get_settings
from backend.teams.mail import event_name, locale_of

_PUBLISHED_SUBJECT = {
    "zh": "评审任务已发布：{event}",
    "en": "Your judging assignment: {event}",
    "ru": "Ваши работы для оценки: {event}",
}
_PUBLISHED_BODY = {
    "zh": "您好：\n\n「{event}」的{stage}评审分配已发布，您需要评审 {count} 个作品。\n请打开评审页面开始评分：\n{link}\n",
    "en": (
        "Hello,\n\nThe judging assignment of {stage} at {event} is published: you have {count} "
        "entries to score.\nOpen your judging page to start:\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\nРаспределение работ этапа «{stage}» конкурса «{event}» опубликовано: "
        "вам предстоит оценить работ: {count}.\nОткройте страницу оценки, чтобы начать:\n{link}\n"
    ),
}
_ADDED_SUBJECT = {
    "zh": "新的评审作品：{event}",
    "en": "A new entry to score: {event}",
    "ru": "Новая работа для оценки: {event}",
}
_ADDED_BODY = {
    "zh": "您好：\n\n「{event}」的{stage}为您新分配了一个作品（{label}）。\n请打开评审页面：\n{link}\n",
    "en": (
        "Hello,\n\nAn entry ({label}) of {stage} at {event} has been added to your assignment.\n"
        "Open your judging page:\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\nВам добавлена работа ({label}) этапа «{stage}» конкурса «{event}».\n"
        "Откройте страницу оценки:\n{link}\n"
    ),
}


def _values(judge: dict, event: dict, stage: dict, **more: object) -> tuple[str, dict[str, object]]:
    locale = locale_of(judge.get("locale"))
    values = {
        "event": event_name(event, locale),
        "stage": event_name(stage, locale),
        "link": get_settings().base_url.rstrip("/") + "/judge",
        **more,
    }
    return locale, values


async def assignment_published(judge: dict, event: dict, stage: dict, count: int) -> None:
    """Tell ``judge`` (a user row) that the stage's assignment is out and how many entries are theirs."""
    locale, values = _values(judge, event, stage, count=count)
    await queue_email(
        judge["email"], _PUBLISHED_SUBJECT[locale].format(**values), _PUBLISHED_BODY[locale].format(**values)
    )


async def entry_added(judge: dict, event: dict, stage: dict, label: str) -> None:
    """Tell ``judge`` that an entry joined their published assignment (an edit or a reassignment)."""
    locale, values = _values(judge, event, stage, label=label)
    await queue_email(
        judge["email"], _ADDED_SUBJECT[locale].format(**values), _ADDED_BODY[locale].format(**values)
    )
