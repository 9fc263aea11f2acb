"""The statements a team's creation and a join request send to PostgreSQL, pinned: every check and
lock of the contest's rules stays, and a change that adds a round trip to these hot paths (the
registration benchmark's) fails here instead of slowing registration silently."""

from __future__ import annotations

import datetime as dt

import pytest

from backend import tasks
from backend.accounts.tables import Profile
from backend.audit import Actor, acting_as
from backend.events.tables import Track
from backend.institutions.tables import Institution
from backend.security import load_principal
from backend.teams import service
from backend.teams.schemas import JoinIn, TeamIn
from backend.teams.tables import RegistrationRules

# BEGIN and COMMIT included; before these limits 21 and 22. Creating reads the creator's lapsed
# invitations before its locks (their teams are locked first, to free those seats): one more.
CREATE_MAX = 15
JOIN_MAX = 17


class Held:
    """A job queue that keeps the mails' delivery jobs (this test has no worker)."""

    async def enqueue(self, name: str, *args: object, job_id: str | None = None) -> None:
        pass


@pytest.fixture(autouse=True)
def held_jobs():
    previous = tasks.install(Held())
    yield
    tasks.install(previous)


async def person(make_user, email: str, institution_id: int):
    user_id = await make_user(email)
    await Profile(
        user=user_id,
        birth_date=dt.date(2004, 5, 1),
        study_status="student",
        institution=institution_id,
    ).save()
    return await load_principal(user_id, "token")


async def test_creating_a_team_and_asking_to_join_take_few_statements(make_event, make_user, sent):
    """Under every kind of rule (eligibility, past prizes, institutions, a track's overrides)."""
    event_id = await make_event(status="open")
    track = Track(event=event_id, code="A", name_en="Track A", team_min=2, team_max=3)
    await track.save()
    home = Institution(name_en="Home U", kind="university", country="CN", region="Beijing")
    await home.save()
    await RegistrationRules.insert(
        RegistrationRules(
            event=event_id,
            rules='{"age_max": 35, "statuses": ["student"], "exclude_past_prizes": ["gold"],'
            ' "countries": ["CN"], "teams_per_person": "one_per_contest"}',
        ),
        RegistrationRules(event=event_id, track=track.id, rules='{"team_name_max": 20}'),
    )
    lead = await person(make_user, "lead@example.org", home.id)
    bob = await person(make_user, "bob@example.org", home.id)

    sent.clear()
    with acting_as(Actor(lead.id, lead.email, channel="api")):
        team = await service.create_team(lead, event_id, TeamIn(track_id=track.id, name="Alpha"))
    created = list(sent)
    sent.clear()
    with acting_as(Actor(bob.id, bob.email, channel="api")):
        seat = await service.join_by_code(bob, JoinIn(code=team.join_code))
    joined = list(sent)

    assert team.status == "forming"
    assert seat.state == "requested"
    assert len(created) <= CREATE_MAX, "\n".join(created)
    assert len(joined) <= JOIN_MAX, "\n".join(joined)


async def test_a_join_code_taken_already_is_drawn_again(make_event, make_user, monkeypatch):
    """The code's unique index finds the collision; the team gets the next code drawn."""
    event_id = await make_event(status="open")
    track = Track(event=event_id, code="A", name_en="Track A")
    await track.save()
    first = await load_principal(await make_user("first@example.org"), "token")
    second = await load_principal(await make_user("second@example.org"), "token")
    codes = iter(["TAKEN234", "TAKEN234", "FRESH234"])
    monkeypatch.setattr(service, "_code", lambda: next(codes))
    assert (await service.create_team(first, event_id, TeamIn(track_id=track.id, name="A"))).join_code == (
        "TAKEN234"
    )
    team = await service.create_team(second, event_id, TeamIn(track_id=track.id, name="B"))
    assert team.join_code == "FRESH234"
    assert team.leader_id == second.id
