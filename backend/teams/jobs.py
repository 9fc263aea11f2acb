"""The teams' background work: deadline reminders, overdue invitations, statuses after a change
of the rules.

Deadline reminders: an arq cron job that mails the people of every team still forming, a few
days before its track's registration closes (``Rules.reminder_days``, default 7, 3 and 1).

Idempotent by the database: each reminder is one ``ReminderSent`` row (unique team and kind)
inserted in the transaction that queues its mails, ``ON CONFLICT DO NOTHING``. A job delivered twice,
two workers running it at once (the second waits on the first's row, then finds it) or a worker
killed mid-run and started again send each team each reminder once. The kind names the deadline,
so a deadline moved by the organizers gets its own reminders.

Overdue invitations: an hourly cron job frees their seats team by team (``service`` records each),
so a lapsed invitation does not hold its seat until the team next changes. Statuses: a change of a
contest's (or track's) registration rules queues :func:`refresh_team_statuses`. Both are
idempotent: a team already freed or already in the right status writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from arq import cron

from backend.db import transaction, utcnow
from backend.errors import fill
from backend.events.tables import Event, EventKind, EventStatus, Track
from backend.i18n import translations
from backend.mail.service import queue_email
from backend.teams import mail, rules, service
from backend.teams.tables import ReminderSent, SeatState, Team, TeamMember, TeamStatus

BATCH = 500

_SUBJECT = {
    "zh": "提醒：团队「{team}」的报名尚未完成（{deadline} 截止）",
    "en": "Reminder: the team {team} is not complete yet (registration closes {deadline})",
    "ru": "Напоминание: регистрация команды «{team}» не завершена (срок — {deadline})",
}
_BODY = {
    "zh": (
        "您好：\n\n「{event}」的报名将于 {deadline} 截止，团队「{team}」的报名尚未完成：\n{missing}\n\n"
        "请在团队页面补全：\n{link}\n"
    ),
    "en": (
        "Hello,\n\nRegistration for {event} closes on {deadline}, and the team {team} is not complete "
        "yet:\n{missing}\n\nComplete it on the team's page:\n{link}\n"
    ),
    "ru": (
        "Здравствуйте!\n\nРегистрация на «{event}» закрывается {deadline}, а регистрация команды "
        "«{team}» ещё не завершена:\n{missing}\n\nЗавершите её на странице команды:\n{link}\n"
    ),
}


def due_kind(team_rules: rules.Rules, now: dt.datetime) -> str | None:
    """The reminder due now in a track (the latest offset reached before the deadline), or None."""
    closes = team_rules.registration_closes_at
    if closes is None or now >= closes:
        return None
    reached = [d for d in team_rules.reminder_days if now >= closes - dt.timedelta(days=d)]
    if not reached:
        return None
    return f"registration:{closes.astimezone(dt.UTC):%Y-%m-%dT%H:%M}:{min(reached)}d"


async def send_registration_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    """Remind every forming team of every open contest whose reminder is due; returns the count of
    teams reminded now and of those already reminded."""
    now = utcnow()
    counts = {"reminded": 0, "already": 0}
    contests = await Event.select(
        Event.id, Event.name_zh, Event.name_en, Event.name_ru, Event.time_zone
    ).where((Event.kind == EventKind.contest.value) & (Event.status == EventStatus.open.value))
    for event in contests:
        tracks = await Track.select(Track.id).where(Track.event == event["id"]).order_by(Track.id)
        for track in tracks:
            team_rules = await rules.rules_for(event["id"], track["id"])
            kind = due_kind(team_rules, now)
            if kind is not None:
                await _remind_track(ctx["settings"].base_url, event, track["id"], team_rules, kind, counts)
    return counts


async def _remind_track(
    base_url: str, event: dict[str, Any], track_id: int, team_rules: rules.Rules, kind: str, counts: dict
) -> None:
    last = 0
    while True:
        ids = [
            r["id"]
            for r in await Team.select(Team.id)
            .where(
                (Team.event == event["id"])
                & (Team.track == track_id)
                & (Team.status == TeamStatus.forming.value)
                & (Team.id > last)
            )
            .order_by(Team.id)
            .limit(BATCH)
        ]
        if not ids:
            return
        last = ids[-1]
        done = {
            r["team"]
            for r in await ReminderSent.select(ReminderSent.team).where(
                (ReminderSent.kind == kind) & ReminderSent.team.is_in(ids)
            )
        }
        counts["already"] += len(done)
        for team_id in ids:
            if team_id not in done and await _remind(base_url, event, team_id, team_rules, kind):
                counts["reminded"] += 1


async def _remind(
    base_url: str, event: dict[str, Any], team_id: int, team_rules: rules.Rules, kind: str
) -> bool:
    """Record the reminder and queue its mails in one transaction; False when the team completed,
    withdrew or was reminded meanwhile."""
    async with transaction():
        team = (
            await Team.select(Team.id, Team.name, Team.leader, Team.status).where(Team.id == team_id).first()
        )
        if team is None or team["status"] != TeamStatus.forming.value:
            return False
        inserted = (
            await ReminderSent.insert(ReminderSent(team=team_id, kind=kind))
            .on_conflict(action="DO NOTHING")
            .returning(ReminderSent.id)
        )
        if not inserted:
            return False
        missing = rules.unmet(team_rules, await rules.held_seats(team_id), team["leader"])
        people = await TeamMember.select(
            TeamMember.email, TeamMember.locale, TeamMember.user.locale.as_alias("user_locale")
        ).where((TeamMember.team == team_id) & (TeamMember.state == SeatState.confirmed.value))
        assert team_rules.registration_closes_at is not None
        zone = ZoneInfo(event["time_zone"])
        deadline = (
            f"{team_rules.registration_closes_at.astimezone(zone):%Y-%m-%d %H:%M} ({event['time_zone']})"
        )
        for person in people:
            locale = mail.locale_of(person["user_locale"], person["locale"])
            gettext = translations(locale).gettext
            values = {
                "team": team["name"],
                "event": mail.event_name(event, locale),
                "deadline": deadline,
                "missing": "\n".join(f"- {fill(gettext(text), params)}" for _, text, params in missing),
                "link": mail.team_link(base_url, team_id),
            }
            await queue_email(person["email"], fill(_SUBJECT[locale], values), fill(_BODY[locale], values))
        return True


REMINDERS = cron(send_registration_reminders, minute={17}, run_at_startup=True)  # hourly, and on start


async def free_expired_invitations(ctx: dict[str, Any]) -> dict[str, int]:
    """Free every overdue invitation, a batch of teams at a time; returns the count of teams."""
    teams, last = 0, 0
    while True:
        rows = (
            await TeamMember.select(TeamMember.team)
            .where(
                (TeamMember.state == SeatState.invited.value)
                & (TeamMember.expires_at <= utcnow())
                & (TeamMember.team > last)
            )
            .order_by(TeamMember.team)
            .limit(BATCH)
        )
        ids = sorted({r["team"] for r in rows})
        if not ids:
            return {"teams": teams}
        last = ids[-1]
        for team_id in ids:
            await service.free_expired_invitations(team_id)
        teams += len(ids)


async def refresh_team_statuses(ctx: dict[str, Any], event_id: int, track_id: int | None) -> dict[str, int]:
    """Recompute the status of every team of the contest (or of one track) that has not withdrawn,
    after its rules changed, a batch at a time; returns the count of teams checked and changed."""
    counts, last = {"checked": 0, "changed": 0}, 0
    while True:
        where = (Team.event == event_id) & (Team.status != TeamStatus.withdrawn.value) & (Team.id > last)
        if track_id is not None:
            where &= Team.track == track_id
        rows = await Team.select(Team.id, Team.status).where(where).order_by(Team.id).limit(BATCH)
        if not rows:
            return counts
        last = rows[-1]["id"]
        for row in rows:
            counts["checked"] += 1
            if await service.refresh_for_rules(row["id"]) != row["status"]:
                counts["changed"] += 1


EXPIRED_INVITATIONS = cron(free_expired_invitations, minute={47}, run_at_startup=True)  # hourly
