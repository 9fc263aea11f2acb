"""Deadline reminders: only teams still forming are mailed, in each reader's language, naming what
is missing; a run repeated, two runs at once and a real worker killed mid-run and started again
send each team each reminder once."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest
from argon2 import PasswordHasher

from backend.accounts import passwords
from backend.accounts.tables import User
from backend.db import utcnow
from backend.events.tables import Track
from backend.mail.tables import OutboxEmail
from backend.policy import Principal
from backend.teams import service
from backend.teams.jobs import due_kind, send_registration_reminders
from backend.teams.rules import Rules
from backend.teams.schemas import JoinIn, TeamIn
from backend.teams.tables import RegistrationRules, ReminderSent, Team, TeamMember

# Marked here, not only by the root conftest: anyio drops the parameters of tests it marks late.
pytestmark = pytest.mark.anyio

PODIUM = Path(sys.executable).parent / "podium"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


async def contest(make_event, closes_in: dt.timedelta, **declared) -> tuple[int, int]:
    """An open contest whose registration closes ``closes_in`` from now, and its track of 2-3."""
    event_id = await make_event(status="open")
    track = Track(event=event_id, code="A", name_en="Track A", team_min=2, team_max=3)
    await track.save()
    rules = {"registration_closes_at": (utcnow() + closes_in).isoformat(), **declared}
    await RegistrationRules(event=event_id, rules=msgspec.json.encode(rules).decode()).save()
    return event_id, track.id


async def person(make_user, name: str, locale: str = "en") -> Principal:
    user_id = await make_user(f"{name}@example.org")
    await User.update({User.locale: locale}).where(User.id == user_id)
    return Principal(
        id=user_id,
        email=f"{name}@example.org",
        display_name=name,
        locale=locale,
        is_platform_admin=False,
        via="session",
    )


async def team(actor: Principal, event_id: int, track_id: int, name: str) -> int:
    return (await service.create_team(actor, event_id, TeamIn(track_id=track_id, name=name))).id


def run(settings) -> dict[str, int]:
    return send_registration_reminders({"settings": settings})


async def mails() -> list[dict]:
    return await OutboxEmail.select(OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body_text)


async def test_only_teams_still_forming_are_reminded_in_their_language(make_event, make_user, settings):
    event_id, track_id = await contest(make_event, dt.timedelta(days=2, hours=12))
    ru, zh, full, gone = [
        await person(make_user, n, loc)
        for n, loc in (("ru", "ru"), ("zh", "zh"), ("full", "en"), ("gone", "en"))
    ]
    await team(ru, event_id, track_id, "Ru")
    await team(zh, event_id, track_id, "Zh")
    complete = await team(full, event_id, track_id, "Full")
    mate = await person(make_user, "mate")
    code = (await Team.select(Team.join_code).where(Team.id == complete).first())["join_code"]
    seat = await service.join_by_code(mate, JoinIn(code=code))
    await service.answer_request(full, complete, seat.id, approve=True)
    await service.withdraw(gone, await team(gone, event_id, track_id, "Gone"))
    await OutboxEmail.delete(force=True)

    assert await run(settings) == {"reminded": 2, "already": 0}
    sent = {m["to_address"]: m for m in await mails()}
    assert set(sent) == {"ru@example.org", "zh@example.org"}
    assert "«Ru»" in sent["ru@example.org"]["subject"]
    assert "не меньше 2 подтверждённых участников" in sent["ru@example.org"]["body_text"]
    assert "「Zh」" in sent["zh@example.org"]["subject"]
    assert "团队至少需要 2 名已确认的成员" in sent["zh@example.org"]["body_text"]
    assert f"/teams/{complete}" not in "".join(m["body_text"] for m in sent.values())
    kinds = {r["kind"] for r in await ReminderSent.select(ReminderSent.kind)}
    assert len(kinds) == 1
    assert kinds.pop().endswith(":3d")

    assert await run(settings) == {"reminded": 0, "already": 2}
    assert len(await mails()) == 2


async def test_the_missing_requirements_are_named_in_the_readers_language(make_event, make_user, settings):
    event_id, track_id = await contest(make_event, dt.timedelta(hours=5))
    lead = await person(make_user, "lead", "en")
    team_id = await team(lead, event_id, track_id, "Alpha")
    await service.invite(lead, team_id, service.SeatInviteIn(email="x@example.org"), "http://podium.test")
    await OutboxEmail.delete(force=True)
    await run(settings)
    [reminder] = await mails()
    assert "1 invitations are not answered yet" in reminder["body_text"]
    assert f"/teams/{team_id}" in reminder["body_text"]
    assert (await ReminderSent.select(ReminderSent.kind).first())["kind"].endswith(":1d")


@pytest.mark.parametrize(
    ("closes_in", "declared"),
    [
        (dt.timedelta(days=10), {}),  # no offset reached yet
        (-dt.timedelta(hours=1), {}),  # closed
        (dt.timedelta(days=3), {"reminder_days": [2]}),  # the contest's own offsets
    ],
    ids=["early", "closed", "own-offsets"],
)
async def test_no_reminder_outside_its_days(make_event, make_user, settings, closes_in, declared):
    event_id, track_id = await contest(make_event, dt.timedelta(days=20), **declared)
    lead = await person(make_user, "lead")
    await team(lead, event_id, track_id, "Alpha")
    rules = {"registration_closes_at": (utcnow() + closes_in).isoformat(), **declared}
    await RegistrationRules.update({RegistrationRules.rules: msgspec.json.encode(rules).decode()}).where(
        RegistrationRules.event == event_id
    )
    assert await run(settings) == {"reminded": 0, "already": 0}


def test_the_latest_offset_reached_is_due():
    closes = dt.datetime(2027, 3, 31, 10, tzinfo=dt.UTC)
    rules = Rules(registration_closes_at=closes, reminder_days=[7, 3, 1])
    assert due_kind(rules, closes - dt.timedelta(days=8)) is None
    assert due_kind(rules, closes - dt.timedelta(days=5)) == "registration:2027-03-31T10:00:7d"
    assert due_kind(rules, closes - dt.timedelta(days=2)) == "registration:2027-03-31T10:00:3d"
    assert due_kind(rules, closes - dt.timedelta(minutes=1)) == "registration:2027-03-31T10:00:1d"
    assert due_kind(rules, closes) is None
    assert due_kind(Rules(), closes) is None


async def forming_teams(event_id: int, track_id: int, count: int) -> None:
    """``count`` teams of one leader each, written directly (the job only reads them)."""
    await User.insert(
        *[User(username=f"l{i}@example.org", email=f"l{i}@example.org", password="x") for i in range(count)]
    )
    users = await User.select(User.id, User.email).where(User.email.like("l%@example.org"))
    await Team.insert(
        *[
            Team(event=event_id, track=track_id, name=f"T{u['id']}", leader=u["id"], join_code=f"C{u['id']}")
            for u in users
        ]
    )
    by_leader = {t["leader"]: t["id"] for t in await Team.select(Team.id, Team.leader)}
    await TeamMember.insert(
        *[
            TeamMember(
                team=by_leader[u["id"]],
                event=event_id,
                track=track_id,
                user=u["id"],
                email=u["email"],
                role="leader",
                state="confirmed",
                joined_via="creation",
            )
            for u in users
        ]
    )


async def assert_once_each(count: int) -> None:
    assert await ReminderSent.count() == count
    per_address = collections.Counter(m["to_address"] for m in await mails())
    assert len(per_address) == count
    assert set(per_address.values()) == {1}


async def test_two_runs_at_once_remind_each_team_once(make_event, settings):
    event_id, track_id = await contest(make_event, dt.timedelta(days=1))
    await forming_teams(event_id, track_id, 60)
    first, second = await asyncio.gather(run(settings), run(settings))
    assert first["reminded"] + second["reminded"] == 60
    await assert_once_each(60)


async def test_a_worker_killed_mid_run_and_started_again_reminds_each_team_once(make_event, tmp_path):
    event_id, track_id = await contest(make_event, dt.timedelta(days=1))
    total = 400
    await forming_teams(event_id, track_id, total)
    log = tmp_path / "worker.log"

    def start() -> subprocess.Popen:
        with log.open("ab") as out:
            return subprocess.Popen([str(PODIUM), "worker"], stdout=out, stderr=subprocess.STDOUT)

    first = start()
    try:
        deadline = time.monotonic() + 60
        while await ReminderSent.count() == 0:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 30)
    finally:
        if first.poll() is None:
            first.kill()
    reminded = await ReminderSent.count()
    assert 0 < reminded < total, "the kill should land mid-run"
    assert await OutboxEmail.count() == reminded  # every committed reminder has its mail, no other

    second = start()
    try:
        deadline = time.monotonic() + 60
        while await ReminderSent.count() < total:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)
    await assert_once_each(total)


async def test_organizers_declare_the_reminder_days(organizer, make_client):
    _, event_id = organizer
    client = await make_client("organizer@example.org")
    url = f"/api/v1/events/{event_id}/registration-rules"
    refused = await client.put(url, json={"reminder_days": [0]})
    assert refused.status_code == 400, refused.text
    assert "reminder_days[0]" in refused.json()["fields"]
    accepted = await client.put(url, json={"reminder_days": [5, 2]})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["declared"]["reminder_days"] == [5, 2]
