"""The teams' mails, each in its reader's language, queued in the caller's transaction (the outbox
sends them once it commits): an invitation to a seat, a join request for the leader, and the news
that the team is complete."""

from __future__ import annotations

from typing import Any

from backend.mail.service import queue_email

LOCALES = ("zh", "en", "ru")

ROLE_NAMES = {
    "leader": {"zh": "队长", "en": "team leader", "ru": "капитан команды"},
    "member": {"zh": "队员", "en": "team member", "ru": "участник команды"},
    "university_advisor": {"zh": "校内指导老师", "en": "university advisor", "ru": "научный руководитель"},
    "enterprise_advisor": {"zh": "企业导师", "en": "enterprise advisor", "ru": "наставник от компании"},
}

_INVITE_SUBJECT = {
    "zh": "邀请您加入团队「{team}」（{event}）",
    "en": "You are invited to join the team {team} ({event})",
    "ru": "Приглашение в команду «{team}» ({event})",
}
_INVITE_BODY = {
    "zh": (
        "您好：\n\n{inviter}邀请您作为{role}加入「{event}」的参赛团队「{team}」。\n\n"
        "接受或拒绝邀请请打开以下链接（{days} 天内有效）：\n{link}\n\n"
        "如果您还没有 Podium 账户，打开链接后可以直接创建。\n"
        "如果您不认识邀请人，请忽略此邮件。\n"
    ),
    "en": (
        "Hello,\n\n{inviter} invites you to join the team {team} at {event} as {role}.\n\n"
        "To accept or decline, open this link (valid for {days} days):\n{link}\n\n"
        "If you have no Podium account yet, you can create one there.\n"
        "If you do not know who sent this, ignore this message.\n"
    ),
    "ru": (
        "Здравствуйте!\n\n{inviter} приглашает вас в команду «{team}» конкурса «{event}» "
        "(роль: {role}).\n\n"
        "Чтобы принять или отклонить приглашение, откройте ссылку (действует {days} дн.):\n{link}\n\n"
        "Если у вас ещё нет учётной записи Podium, вы сможете создать её там.\n"
        "Если вы не знаете отправителя, просто проигнорируйте это письмо.\n"
    ),
}

_REQUEST_SUBJECT = {
    "zh": "{person}申请加入团队「{team}」",
    "en": "{person} asks to join the team {team}",
    "ru": "{person} просит принять в команду «{team}»",
}
_REQUEST_BODY = {
    "zh": "您好：\n\n{person}（{email}）用邀请码申请加入您的团队「{team}」。\n请在团队页面批准或拒绝：\n{link}\n",
    "en": (
        "Hello,\n\n{person} ({email}) used the join code to ask to join your team {team}.\n"
        "Approve or refuse on the team's page:\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\n{person} ({email}) по коду приглашения просит принять в вашу команду «{team}».\n"
        "Одобрите или отклоните заявку на странице команды:\n{link}\n"
    ),
}

_COMPLETE_SUBJECT = {
    "zh": "团队「{team}」报名信息已完整",
    "en": "The team {team} is complete",
    "ru": "Команда «{team}» укомплектована",
}
_COMPLETE_BODY = {
    "zh": "您好：\n\n团队「{team}」（{event}）的所有成员和指导老师均已确认，报名信息已完整。\n{link}\n",
    "en": (
        "Hello,\n\nEvery member and advisor of the team {team} ({event}) has confirmed: "
        "the registration is complete.\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\nВсе участники и руководители команды «{team}» ({event}) подтвердили участие: "
        "регистрация завершена.\n{link}\n"
    ),
}


def locale_of(*choices: str | None) -> str:
    """The first of ``choices`` that is a language of the mails (English otherwise)."""
    return next((c for c in choices if c in LOCALES), "en")


def event_name(event: dict[str, Any], locale: str) -> str:
    """The event's name in ``locale``, falling back like the pages do."""
    return next((event[f"name_{loc}"] for loc in (locale, "en", "zh", "ru") if event.get(f"name_{loc}")), "")


def team_link(base_url: str, team_id: int) -> str:
    return f"{base_url.rstrip('/')}/teams/{team_id}"


async def invitation(
    to: str, locale: str, *, team: str, event: dict[str, Any], role: str, inviter: str, days: int, link: str
) -> None:
    values = {
        "team": team,
        "event": event_name(event, locale),
        "role": ROLE_NAMES[role][locale],
        "inviter": inviter,
        "days": days,
        "link": link,
    }
    await queue_email(to, _INVITE_SUBJECT[locale].format(**values), _INVITE_BODY[locale].format(**values))


async def join_request(to: str, locale: str, *, team: str, person: str, email: str, link: str) -> None:
    values = {"team": team, "person": person or email, "email": email, "link": link}
    await queue_email(to, _REQUEST_SUBJECT[locale].format(**values), _REQUEST_BODY[locale].format(**values))


async def complete(to: str, locale: str, *, team: str, event: dict[str, Any], link: str) -> None:
    values = {"team": team, "event": event_name(event, locale), "link": link}
    await queue_email(to, _COMPLETE_SUBJECT[locale].format(**values), _COMPLETE_BODY[locale].format(**values))
