"""Judging set-up: stage settings and the states that refuse them, rubric versions and their lock
(also racing a first sheet), rooms, entries seeded from registration (idempotent, also under twenty
concurrent seeds), judges and invitations, declared conflicts, the tablet's one-time sign-in (one
session out of twenty concurrent uses), lock and reopen, the pages; and every refusal's status."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
from typing import Any

import pytest

from backend.accounts.tables import Invitation, Profile, Role, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from backend.db import utcnow
from backend.errors import NotFound
from backend.teams.tables import Team
from judging.setup import service
from judging.tables import (
    Assignment,
    JudgeConflict,
    Panel,
    Rubric,
    ScoreSheet,
    StageEntry,
    StageJudge,
    StageJudging,
    TabletSignIn,
)
from tests.integration.judging_world import CRITERIA, World, build_world, marks_for, publish_assignment

pytestmark = pytest.mark.anyio
STAGES = "/api/v1/stages"


async def organizer(make_client, world: World):
    client = await make_client(world.email(world.organizer))
    client.cookies.set("podium_lang", "en")
    return client


async def audit(kind: str) -> int:
    return await AuditEntry.count().where(AuditEntry.action == f"judging.{kind}")


def criterion(code: str = "idea", **changes: Any) -> dict[str, Any]:
    body = {"code": code, "weight": 1, "min": 0, "max": 10, "step": 0.5, "name": {"en": code.title()}}
    body.update(changes)
    return body


# Settings, lock and reopen ----------------------------------------------------------------------


async def test_settings_change_in_their_states_and_each_change_is_audited(db, make_client):
    world = await build_world(teams=2, judges=2)
    client = await organizer(make_client, world)
    url = f"{STAGES}/{world.stage}/judging"
    got = (await client.get(url)).json()
    assert got["status"] == "setup"
    assert got["method"] == "auto"
    assert got["judges_per_entry"] == 5
    response = await client.put(
        url, json={"method": "trimmed", "trim_high": 2, "live": True, "anonymous": True}
    )
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("method", "trim_high", "live", "anonymous")} == {
        "method": "trimmed",
        "trim_high": 2,
        "live": True,
        "anonymous": True,
    }
    entry = await AuditEntry.select().where(AuditEntry.action == "judging.settings_changed").first()
    data = entry["data"] if isinstance(entry["data"], dict) else __import__("json").loads(entry["data"])
    assert data["changes"] == {
        "method": ["auto", "trimmed"],
        "trim_high": [1, 2],
        "live": [False, True],
        "anonymous": [False, True],
    }
    # the same values again: nothing changes, nothing is written
    assert (await client.put(url, json={"method": "trimmed"})).status_code == 200
    assert await audit("settings_changed") == 1
    # once scoring, the set-up-only fields are refused at their field; the method still changes
    await publish_assignment(world)
    refused = await client.put(url, json={"judges_per_entry": 3, "live": False, "method": "mean"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "judging_state"
    assert set(refused.json()["fields"]) == {"judges_per_entry", "live"}
    assert (await client.get(url)).json()["method"] == "trimmed"  # nothing of the refused change
    assert (await client.put(url, json={"method": "mean", "min_judges": 2})).status_code == 200
    # published: the method is frozen too
    await StageJudging.update({StageJudging.status: "published"}).where(StageJudging.stage == world.stage)
    refused = await client.put(url, json={"method": "median"})
    assert refused.status_code == 409
    assert set(refused.json()["fields"]) == {"method"}


BAD_SETTINGS = [
    ({"trim_high": 6}, "trim_high"),
    ({"trim_low": -1}, "trim_low"),
    ({"min_judges": 0}, "min_judges"),
    ({"judges_per_entry": 21}, "judges_per_entry"),
    ({"pitch_seconds": 59}, "pitch_seconds"),
    ({"questions_seconds": 3601}, "questions_seconds"),
    ({"round_places": 5}, "round_places"),
    ({"objection_working_days": 31}, "objection_working_days"),
    ({"appeal_days": 61}, "appeal_days"),
    ({"appeal_answer_days": 0}, "appeal_answer_days"),
    ({"method": "borda"}, "method"),
    ({"anonymous": "yes"}, "anonymous"),
    ({"trim_high": 1.5}, "trim_high"),
    ({"colour": "red"}, "colour"),
    ({"trim_high": None, "appeal_days": 10**20}, "appeal_days"),
]


async def test_bad_settings_name_their_field_and_change_nothing(db, make_client):
    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    for body, field in BAD_SETTINGS:
        response = await client.put(f"{STAGES}/{world.stage}/judging", json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["code"] == "validation_error", body
        assert field in response.json()["fields"], body
    assert await audit("settings_changed") == 0


async def test_lock_and_reopen_move_only_from_their_state(db, make_client):
    world = await build_world(teams=2, judges=2)
    client = await organizer(make_client, world)
    lock, reopen = f"{STAGES}/{world.stage}/lock", f"{STAGES}/{world.stage}/reopen"
    refused = await client.post(lock)
    assert refused.status_code == 409
    assert refused.json()["code"] == "judging_state"
    assert "setup" in refused.json()["detail"] or "set up" in refused.json()["detail"]
    await publish_assignment(world)
    locked = await client.post(lock)
    assert locked.status_code == 200
    assert locked.json()["status"] == "locked"
    assert locked.json()["locked_at"]
    assert (await client.post(lock)).status_code == 409
    reopened = await client.post(reopen)
    assert reopened.json()["status"] == "scoring"
    assert reopened.json()["locked_at"] is None
    await client.post(lock)
    await StageJudging.update({StageJudging.status: "published"}).where(StageJudging.stage == world.stage)
    assert (await client.post(reopen)).json()["code"] == "judging_state"
    assert await audit("stage_locked") == 2
    assert await audit("stage_reopened") == 1


async def test_twenty_concurrent_locks_move_the_stage_once(db, make_client):
    world = await build_world(teams=2, judges=2)
    await publish_assignment(world)
    client = await organizer(make_client, world)
    responses = await asyncio.gather(*[client.post(f"{STAGES}/{world.stage}/lock") for _ in range(20)])
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    assert await audit("stage_locked") == 1


# Rubric -----------------------------------------------------------------------------------------


async def test_rubric_versions_are_written_never_edited_and_lock_with_the_first_sheet(db, make_client):
    world = await build_world(teams=2, judges=3)
    client = await organizer(make_client, world)
    url = f"{STAGES}/{world.stage}/rubric"
    assert (await client.get(url)).json()["version"] == 1
    body = {"criteria": [criterion("idea", weight=0.6), criterion("team", weight=0.4, max=20, step=2)]}
    saved = await client.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    assert [c["code"] for c in saved.json()["criteria"]] == ["idea", "team"]
    assert saved.json()["criteria"][1] == {
        "code": "team",
        "weight": 0.4,
        "min": 0,
        "max": 20,
        "step": 2,
        "name": {"zh": "", "en": "Team", "ru": ""},
        "descriptor": {"zh": "", "en": "", "ru": ""},
    }
    versions = (await client.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["criteria"] == CRITERIA  # the first version is as it was
    # the first sheet locks it
    await client.put(url, json={"criteria": CRITERIA})  # version 3, the world's criteria again
    assignments = await publish_assignment(world, per_entry=2)
    assignment = next(iter(assignments.values()))[0]
    judge = (await Assignment.select(Assignment.judge).where(Assignment.id == assignment).first())["judge"]
    judge_client = await make_client(world.email(judge))
    sheet = await judge_client.put(
        f"/api/v1/judge/assignments/{assignment}/sheet", json={"marks": marks_for(0.5), "nonce": "nonce-001"}
    )
    assert sheet.status_code in (200, 201), sheet.text
    refused = await client.put(url, json=body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "rubric_locked"
    assert (await client.get(url)).json()["locked_at"] is not None
    assert await Rubric.count().where(Rubric.stage == world.stage) == 3


async def test_a_sheet_alone_locks_the_rubric_even_if_its_version_is_not_marked(db, make_client):
    """Belt and braces: a score sheet in the stage refuses a new version whatever ``locked_at`` says."""
    world = await build_world(teams=1, judges=2, institutions=2)
    assignments = await publish_assignment(world, per_entry=1)
    assignment = next(iter(assignments.values()))[0]
    row = await Assignment.select().where(Assignment.id == assignment).first()
    await ScoreSheet.insert(
        ScoreSheet(
            assignment=assignment,
            stage=world.stage,
            stage_entry=row["stage_entry"],
            judge=row["judge"],
            rubric=world.rubric,
            marks={},
            total=0,
        )
    )
    client = await organizer(make_client, world)
    refused = await client.put(f"{STAGES}/{world.stage}/rubric", json={"criteria": [criterion()]})
    assert refused.json()["code"] == "rubric_locked"


BAD_RUBRICS = [
    ([criterion("Idea")], {"criteria[0].code"}),
    ([criterion("1idea")], {"criteria[0].code"}),
    ([criterion("a" * 41)], {"criteria[0].code"}),
    ([criterion("idea"), criterion("idea")], {"criteria[1].code"}),
    ([criterion(min=10, max=10)], {"criteria[0].max"}),
    ([criterion(min=5, max=1)], {"criteria[0].max"}),
    ([criterion(max=10, step=3)], {"criteria[0].step"}),
    ([criterion(max=1, step=0.3)], {"criteria[0].step"}),
    ([criterion(max=100000, step=0.001)], {"criteria[0].step"}),  # a million marks to choose from
    ([criterion(max=1, step=1e-300)], {"criteria[0].step"}),  # beyond Decimal's precision
    ([criterion(step=0)], {"criteria[0].step"}),
    ([criterion(step=-1)], {"criteria[0].step"}),
    ([criterion(weight=-1)], {"criteria[0].weight"}),
    ([criterion(weight=1001)], {"criteria[0].weight"}),
    ([criterion(weight=0), criterion("team", weight=0)], {"criteria"}),
    ([criterion(name={"en": "   "})], {"criteria[0].name"}),
    ([criterion(name={})], {"criteria[0].name"}),
    ([criterion(name={"en": "x" * 201})], {"criteria[0].name.en"}),
    ([criterion(descriptor={"ru": "x" * 2001})], {"criteria[0].descriptor.ru"}),
    ([criterion(name={"de": "Idee"})], {"criteria[0].name.de"}),
    ([criterion(max="ten")], {"criteria[0].max"}),
    ([criterion(max=None)], {"criteria[0].max"}),
    ([criterion(min=-2_000_000)], {"criteria[0].min"}),
    (
        [criterion(), criterion("b", step=7), criterion("C")],
        {"criteria[1].step", "criteria[2].code"},
    ),
    ([], {"criteria"}),
    ([criterion(f"c{i}") for i in range(21)], {"criteria"}),
]


async def test_bad_rubrics_name_each_field_and_write_nothing(db, make_client):
    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    for criteria, fields in BAD_RUBRICS:
        response = await client.put(f"{STAGES}/{world.stage}/rubric", json={"criteria": criteria})
        assert response.status_code in (400, 422), (criteria, response.text)
        assert response.json()["code"] == "validation_error", criteria
        assert set(response.json()["fields"]) == fields, criteria
    # JSON has no NaN or infinity: a body spelling them is refused as a whole
    nan = '{"criteria": [{"code": "a", "weight": NaN, "min": 0, "max": 1, "name": {"en": "A"}}]}'
    response = await client.put(
        f"{STAGES}/{world.stage}/rubric", content=nan, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert await Rubric.count().where(Rubric.stage == world.stage) == 1


async def test_random_rubrics_are_stored_exactly_when_every_step_divides_its_range(db, make_client):
    """Property: for random ranges and steps, a rubric is accepted iff (max - min) / step is a whole
    number of at most 10000 (decided in decimals, as the service must), and is stored as sent."""
    from decimal import Decimal

    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    rng = random.Random(20261129)
    for _ in range(40):
        low = rng.choice([0, 1, -5, 0.5, 2.25])
        step = rng.choice([0.1, 0.25, 0.5, 1, 2, 3, 0.3, 0.05, 7])
        span = rng.choice([1, 2, 3, 4.5, 10, 9.9, 100, 0.7])
        high = float(Decimal(str(low)) + Decimal(str(span)))
        quotient = Decimal(str(span)) / Decimal(str(step))
        fits = quotient == quotient.to_integral_value() and quotient <= 10_000
        response = await client.put(
            f"{STAGES}/{world.stage}/rubric",
            json={"criteria": [criterion(min=low, max=high, step=step)]},
        )
        if fits:
            assert response.status_code == 200, (low, high, step, response.text)
            stored = response.json()["criteria"][0]
            assert (stored["min"], stored["max"], stored["step"]) == (low, high, step)
        else:
            assert response.status_code == 422, (low, high, step)
            assert set(response.json()["fields"]) == {"criteria[0].step"}


async def test_a_rubric_racing_the_first_sheet_never_changes_under_it(db, make_client):
    """Twenty requests at once: ten new rubric versions, ten judges' first sheets. Whatever the
    order, every sheet is scored on the version that ends up locked, that version is the last one,
    and each refused version is refused with rubric_locked."""
    world = await build_world(teams=10, judges=10, institutions=5)
    assignments = await publish_assignment(world, per_entry=1)
    client = await organizer(make_client, world)
    judges = {}
    for _entry, (assignment,) in assignments.items():
        judge = (await Assignment.select(Assignment.judge).where(Assignment.id == assignment).first())[
            "judge"
        ]
        judges[assignment] = await make_client(world.email(judge))
    rubric = {"criteria": CRITERIA}  # the same codes and ranges: any version fits the sheets' marks

    def sheet(assignment: int):
        return judges[assignment].put(
            f"/api/v1/judge/assignments/{assignment}/sheet",
            json={"marks": marks_for(0.6), "nonce": f"race-nonce-{assignment}"},
        )

    calls = [client.put(f"{STAGES}/{world.stage}/rubric", json=rubric) for _ in range(10)]
    calls += [sheet(a) for a in judges]
    random.Random(7).shuffle(calls)
    responses = await asyncio.gather(*calls)
    rubric_answers = [r for r in responses if r.request.url.path.endswith("/rubric")]
    sheet_answers = [r for r in responses if "/sheet" in r.request.url.path]
    assert all(r.status_code in (200, 201) for r in sheet_answers), [r.text for r in sheet_answers]
    for r in rubric_answers:
        assert r.status_code == 200 or r.json()["code"] == "rubric_locked", r.text
    versions = await Rubric.select().where(Rubric.stage == world.stage).order_by(Rubric.version)
    locked = [v for v in versions if v["locked_at"] is not None]
    assert len(locked) == 1
    assert locked[0]["id"] == versions[-1]["id"]
    used = {
        r["rubric"] for r in await ScoreSheet.select(ScoreSheet.rubric).where(ScoreSheet.stage == world.stage)
    }
    assert used == {locked[0]["id"]}
    assert len(versions) == 1 + sum(r.status_code == 200 for r in rubric_answers)


# Rooms ------------------------------------------------------------------------------------------


async def test_rooms_have_unique_names_and_only_empty_rooms_are_removed(db, make_client):
    world = await build_world(teams=2, judges=2)
    client = await organizer(make_client, world)
    url = f"{STAGES}/{world.stage}/panels"
    a = await client.post(url, json={"name": "Hall A", "room": "B1-101", "position": 1})
    assert a.status_code == 201, a.text
    assert (await client.post(url, json={"name": "Hall B"})).status_code == 201
    taken = await client.post(url, json={"name": "Hall A"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "panel_name_taken"
    assert taken.json()["fields"] == {"name": "is taken"}
    for lang, detail, field in (
        ("ru", "На этапе уже есть зал с таким названием", "занято"),
        ("zh", "本阶段已有同名会场", "已被占用"),
    ):
        client.cookies.set("podium_lang", lang)
        said = (await client.post(url, json={"name": "Hall A"})).json()
        assert (said["detail"], said["fields"]) == (detail, {"name": field})
    client.cookies.set("podium_lang", "en")
    renamed = await client.patch(f"/api/v1/panels/{a.json()['id']}", json={"name": "Hall B"})
    assert renamed.json()["code"] == "panel_name_taken"
    renamed = await client.patch(f"/api/v1/panels/{a.json()['id']}", json={"name": "Hall C", "position": 3})
    assert renamed.json()["name"] == "Hall C"
    assert renamed.json()["room"] == "B1-101"
    assert (await client.post(url, json={"name": "  "})).status_code == 422
    assert (await client.post(url, json={"name": "x" * 101})).status_code in (400, 422)
    assert (await client.post(url, json={"name": "Bad\x00name"})).status_code in (400, 422)
    # an entry in the room keeps it
    moved = await client.patch(f"/api/v1/stage-entries/{world.entries[0]}", json={"panel_id": a.json()["id"]})
    assert moved.status_code == 200
    assert moved.json()["panel"] == "Hall C"
    in_use = await client.delete(f"/api/v1/panels/{a.json()['id']}")
    assert in_use.status_code == 409
    assert in_use.json()["code"] == "panel_in_use"
    listed = (await client.get(url)).json()
    assert [(p["name"], p["entries"]) for p in listed] == [("Hall B", 0), ("Hall C", 1)]
    await client.patch(f"/api/v1/stage-entries/{world.entries[0]}", json={"panel_id": 0})
    assert (await client.delete(f"/api/v1/panels/{a.json()['id']}")).status_code == 204
    assert await Panel.count().where(Panel.stage == world.stage) == 1
    # another stage's room is no room of this one
    final_room = await client.post(f"{STAGES}/{world.final}/panels", json={"name": "Final hall"})
    wrong = await client.patch(
        f"/api/v1/stage-entries/{world.entries[0]}", json={"panel_id": final_room.json()["id"]}
    )
    assert wrong.status_code == 422
    assert wrong.json()["fields"] == {"panel_id": "is not a room of this stage"}


async def test_a_room_name_of_only_zero_width_characters_is_refused(db, make_client):
    """Found by the hostile-input probes: such a name passed the blank check and was saved."""
    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    room = await client.post(f"{STAGES}/{world.stage}/panels", json={"name": "Hall A"})
    for blank in ("\u200b", "\u200b\u200c\u200d\ufeff", "\u2060", "\u3164"):
        created = await client.post(f"{STAGES}/{world.stage}/panels", json={"name": blank})
        renamed = await client.patch(f"/api/v1/panels/{room.json()['id']}", json={"name": blank})
        for answer in (created, renamed):
            assert answer.status_code == 422, (blank, answer.text)
            assert answer.json()["fields"] == {"name": "must contain visible text"}
    assert [p["name"] for p in (await client.get(f"{STAGES}/{world.stage}/panels")).json()] == ["Hall A"]


# Entries ----------------------------------------------------------------------------------------


async def fresh_contest(teams: int = 6) -> World:
    """The world without its entries, its teams in every status."""
    world = await build_world(teams=teams, judges=2)
    await StageEntry.delete().where(StageEntry.stage == world.stage)
    statuses = ["approved", "complete", "forming", "rejected", "withdrawn", "approved"]
    for team, status in zip(world.teams, statuses * 10, strict=False):
        await Team.update({Team.status: status}).where(Team.id == team)
    return world


async def test_seeding_enters_approved_or_complete_teams_once_with_random_labels(db, make_client):
    world = await fresh_contest()
    client = await organizer(make_client, world)
    seeded = await client.post(f"{STAGES}/{world.stage}/entries/seed")
    assert seeded.json() == {"added": 3}  # two approved, one complete (approval not required)
    again = await client.post(f"{STAGES}/{world.stage}/entries/seed")
    assert again.json() == {"added": 0}
    entries = (await client.get(f"{STAGES}/{world.stage}/entries")).json()
    assert entries["total"] == 3
    assert {e["team_id"] for e in entries["items"]} == {world.teams[0], world.teams[1], world.teams[5]}
    labels = [e["label"] for e in entries["items"]]
    assert all(re.fullmatch(r"E-[A-HJ-NP-Z2-9]{6}", label) for label in labels)
    assert len(set(labels)) == 3
    # random draws (tests/unit/test_judging_setup.py checks the alphabet): a digit of a team's id may
    # appear in its label by chance, so "the id is not in the label" is no property to assert
    # a contest that asks for approval: the complete team is not entered
    await StageEntry.delete().where(StageEntry.stage == world.stage)
    rules = await client.put(
        f"/api/v1/events/{world.event}/registration-rules", json={"approval_required": True}
    )
    assert rules.status_code == 200, rules.text
    assert (await client.post(f"{STAGES}/{world.stage}/entries/seed")).json() == {"added": 2}
    # a later stage takes its entries from advancement
    later = await client.post(f"{STAGES}/{world.final}/entries/seed")
    assert later.status_code == 409
    assert later.json()["code"] == "not_first_stage"
    # locked: no seeding
    await StageJudging.update({StageJudging.status: "locked"}).where(StageJudging.stage == world.stage)
    assert (await client.post(f"{STAGES}/{world.stage}/entries/seed")).json()["code"] == "judging_state"


async def test_twenty_concurrent_seeds_enter_each_team_once(db, make_client):
    world = await fresh_contest(teams=12)
    client = await organizer(make_client, world)
    responses = await asyncio.gather(
        *[client.post(f"{STAGES}/{world.stage}/entries/seed") for _ in range(20)]
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["added"] for r in responses) == [0] * 19 + [6]
    rows = await StageEntry.select(StageEntry.team, StageEntry.label).where(StageEntry.stage == world.stage)
    assert len(rows) == 6 == len({r["team"] for r in rows}) == len({r["label"] for r in rows})


async def test_add_entry_is_idempotent_and_labels_stay_unique(db):
    world = await build_world(teams=4, judges=1)
    first = await service.add_entry(world.final, world.teams[0], "advancement", world.organizer)
    again = await service.add_entry(world.final, world.teams[0], "advancement", world.organizer)
    assert first["id"] == again["id"]
    assert first["source"] == "advancement"
    others = [await service.add_entry(world.final, t, "manual", None) for t in world.teams[1:]]
    labels = {first["label"], *(o["label"] for o in others)}
    assert len(labels) == 4
    assert await audit("entry_added") == 4
    other = await build_world(teams=1, judges=1, slug="other-2027")
    with pytest.raises(NotFound):
        await service.add_entry(world.final, other.teams[0], "manual", None)


async def test_labels_never_repeat_even_when_the_random_source_does(monkeypatch):
    """The label generator skips labels already taken, whatever the random draw."""
    draws = iter("AAAAAA" + "AAAAAA" + "BBBBBB")
    monkeypatch.setattr(service.secrets, "choice", lambda alphabet: next(draws))
    taken = {"E-AAAAAA"}
    assert service.new_label(taken) == "E-BBBBBB"
    assert taken == {"E-AAAAAA", "E-BBBBBB"}


async def test_entries_move_and_change_status_with_the_reason_kept(db, make_client):
    world = await build_world(teams=3, judges=1)
    client = await organizer(make_client, world)
    url = f"/api/v1/stage-entries/{world.entries[1]}"
    changed = await client.patch(url, json={"position": 4, "status": "disqualified", "reason": "plagiarism"})
    assert changed.status_code == 200
    assert changed.json()["status"] == "disqualified"
    entry = await AuditEntry.select().where(AuditEntry.action == "judging.entry_changed").first()
    assert "plagiarism" in str(entry["data"])
    for body in (
        {"status": "gone"},
        {"position": -1},
        {"panel_id": -3},
        {"position": 10**12},
        {"reason": "x" * 501},
    ):
        assert (await client.patch(url, json=body)).status_code in (400, 422), body
    assert (await client.patch("/api/v1/stage-entries/999999", json={"position": 1})).status_code == 404


async def test_scoped_admins_see_entries_of_their_scope_only(db, make_client):
    world = await build_world(teams=6, judges=1, tracks=("A", "B"))
    scoped = User.account("scoped@judged.example", "!", "Scoped", "en")
    await scoped.save()
    await RoleGrant.insert(
        RoleGrant(user=scoped.id, role=Role.organizer.value, event=world.event, track=world.tracks["A"])
    )
    from backend.accounts import passwords
    from tests.integration.conftest import PASSWORD

    await User.update({User.password: passwords.hash_password(PASSWORD)}).where(User.id == scoped.id)
    client = await make_client("scoped@judged.example")
    entries = (await client.get(f"{STAGES}/{world.stage}/entries")).json()
    assert entries["total"] == 3
    assert {e["track"] for e in entries["items"]} == {"A"}
    assert (await client.put(f"{STAGES}/{world.stage}/judging", json={"trim_high": 2})).status_code == 403
    assert (await client.post(f"{STAGES}/{world.stage}/entries/seed")).status_code == 403
    page = await client.get(f"/workspace/events/{world.event}/judging/stages/{world.stage}")
    assert page.status_code == 200
    for control in (
        "Save the settings",
        "Save the rubric",
        "Lock the stage",
        "Sign in a tablet",
        "Add a judge",
    ):
        assert control not in page.text, control
    assert "organizers change its set-up" in page.text
    assert "Team 2" not in page.text  # track B's team


# Judges -----------------------------------------------------------------------------------------


async def test_judges_are_added_by_account_or_invited_by_address(db, make_client):
    world = await build_world(teams=2, judges=3)
    client = await organizer(make_client, world)
    url = f"{STAGES}/{world.final}/judges"
    judge = world.judges[0]
    await Profile(user=judge, institution=world.institutions[1]).save()
    added = await client.post(url, json={"user_id": judge, "capacity": 4})
    assert added.status_code == 201, added.text
    assert added.json()["institution_id"] == world.institutions[1]
    assert added.json()["capacity"] == 4
    by_mail = await client.post(url, json={"email": world.email(world.judges[1]).upper()})
    assert by_mail.status_code == 201
    assert by_mail.json()["user_id"] == world.judges[1]
    twice = await client.post(url, json={"user_id": judge})
    assert twice.status_code == 409
    assert twice.json()["code"] == "judge_exists"
    # an address without the role: invited to it (one invitation, refreshed on a second try)
    invited = await client.post(url, json={"email": "new.judge@example.org"})
    assert invited.status_code == 202
    assert invited.json() == {
        "invited": True,
        "email": "new.judge@example.org",
    }
    await client.post(url, json={"email": "new.judge@example.org"})
    assert await Invitation.count().where(Invitation.email == "new.judge@example.org") == 1
    # an account without the role, named by id: refused at the field
    leader = world.leaders[0]
    refused = await client.post(url, json={"user_id": leader})
    assert refused.status_code == 422
    assert refused.json()["code"] == "not_a_judge"
    assert (await client.post(url, json={"user_id": 999999})).json()["code"] == "unknown_user"
    assert (await client.post(url, json={})).status_code == 422
    assert (await client.post(url, json={"user_id": judge, "email": "x@example.org"})).status_code == 422
    assert (
        await client.post(url, json={"user_id": world.judges[2], "institution_id": 999999})
    ).status_code == 422
    # change and remove
    changed = await client.patch(f"{url}/{judge}", json={"institution_id": 0, "capacity": 0})
    assert changed.json()["institution_id"] is None
    assert changed.json()["capacity"] is None
    assert (await client.patch(f"{url}/{world.judges[2]}", json={"capacity": 1})).status_code == 404
    assert (await client.delete(f"{url}/{judge}")).status_code == 204
    assert not await StageJudge.exists().where((StageJudge.stage == world.final) & (StageJudge.user == judge))


async def test_a_judge_with_sheets_stays_and_one_without_loses_their_assignments(db, make_client):
    world = await build_world(teams=4, judges=4, institutions=2)
    assignments = await publish_assignment(world, per_entry=2)
    client = await organizer(make_client, world)
    first = next(iter(assignments.values()))[0]
    scorer = (await Assignment.select(Assignment.judge).where(Assignment.id == first).first())["judge"]
    sheet = await (await make_client(world.email(scorer))).put(
        f"/api/v1/judge/assignments/{first}/sheet", json={"marks": marks_for(0.3), "nonce": "nonce-keep"}
    )
    assert sheet.status_code in (200, 201), sheet.text
    refused = await client.delete(f"{STAGES}/{world.stage}/judges/{scorer}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "judge_has_sheets"
    idle = next(j for j in world.judges if j != scorer)
    assert await Assignment.exists().where((Assignment.judge == idle) & (Assignment.state == "active"))
    assert (await client.delete(f"{STAGES}/{world.stage}/judges/{idle}")).status_code == 204
    assert not await Assignment.exists().where((Assignment.judge == idle) & (Assignment.state == "active"))


# Declared conflicts -----------------------------------------------------------------------------


async def test_judges_declare_their_own_conflicts_and_organizers_anyones(db, make_client):
    world = await build_world(teams=3, judges=2)
    judge, other = world.judges
    mine = await make_client(world.email(judge))
    url = f"/api/v1/events/{world.event}/judge-conflicts"
    declared = await mine.post(url, json={"team_id": world.teams[0], "reason": "my cousin leads it"})
    assert declared.status_code == 201
    assert declared.json()["user_id"] == judge
    for_other = await mine.post(url, json={"user_id": other, "team_id": world.teams[1]})
    assert for_other.status_code == 403
    client = await organizer(make_client, world)
    recorded = await client.post(url, json={"user_id": other, "institution_id": world.institutions[2]})
    assert recorded.status_code == 201
    assert [c["user_id"] for c in (await mine.get(url)).json()] == [judge]
    assert len((await client.get(url)).json()) == 2
    assert (await mine.delete(f"/api/v1/judge-conflicts/{recorded.json()['id']}")).status_code == 403
    assert (await mine.delete(f"/api/v1/judge-conflicts/{declared.json()['id']}")).status_code == 204
    # one of institution and team; a judge of the event; a team of the event
    for body in (
        {"reason": "nothing"},
        {"team_id": world.teams[0], "institution_id": world.institutions[0]},
        {"user_id": world.leaders[0], "team_id": world.teams[0]},
        {"institution_id": 999999},
        {"team_id": 999999},
        {"team_id": world.teams[0], "reason": "x" * 501},
    ):
        assert (await client.post(url, json=body)).status_code in (400, 422), body
    leader = await make_client(world.email(world.leaders[0]))
    assert (await leader.post(url, json={"team_id": world.teams[1]})).status_code == 403
    assert (await leader.get(url)).status_code == 403
    assert await JudgeConflict.count() == 1


# Tablet sign-in ---------------------------------------------------------------------------------


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def test_the_tablet_code_signs_the_judge_in_once(db, make_client):
    world = await build_world(teams=1, judges=2)
    client = await organizer(make_client, world)
    judge = world.judges[0]
    made = await client.post(f"{STAGES}/{world.stage}/judges/{judge}/tablet-sign-in")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["url"].startswith("http")
    assert "/tablet/tab_" in body["url"]
    assert body["qr_svg"].lstrip().startswith("<")
    assert "<svg" in body["qr_svg"]
    token = token_of(body["url"])
    stored = await TabletSignIn.select().where(TabletSignIn.user == judge).first()
    assert stored["token_hash"] == token_digest(token)
    assert token not in str(stored)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(minutes=14) < expires - utcnow() <= dt.timedelta(minutes=15)
    tablet = await make_client()
    shown = await tablet.get(f"/tablet/{token}")
    assert shown.status_code == 200
    assert "Judge 1" in shown.text
    assert (await tablet.get(f"/tablet/{token}")).status_code == 200  # looking uses nothing up
    signed = await tablet.post(f"/tablet/{token}", data={"_csrf_token": tablet.cookies["podium_csrf"]})
    assert signed.status_code == 303
    assert signed.headers["location"] == "/judge"
    me = await tablet.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == judge
    again = await (await make_client()).post(f"/tablet/{token}", data={})
    assert again.status_code in (403, 410)  # without its CSRF token, or used
    second = await make_client()
    await second.get(f"/tablet/{token}")
    used = await second.post(f"/tablet/{token}", data={"_csrf_token": second.cookies["podium_csrf"]})
    assert used.status_code == 410
    assert "already been used" in used.text
    assert (await second.get("/tablet/tab_unknown")).status_code == 404
    # not a judge of the stage, or another stage's: no code
    assert (await client.post(f"{STAGES}/{world.final}/judges/{judge}/tablet-sign-in")).status_code == 404
    assert (
        await client.post(f"{STAGES}/{world.stage}/judges/{world.leaders[0]}/tablet-sign-in")
    ).status_code == 404


async def test_an_expired_tablet_code_is_refused(db, make_client):
    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    made = (await client.post(f"{STAGES}/{world.stage}/judges/{world.judges[0]}/tablet-sign-in")).json()
    await TabletSignIn.update({TabletSignIn.expires_at: utcnow() - dt.timedelta(seconds=1)}).where(
        TabletSignIn.user == world.judges[0]
    )
    tablet = await make_client()
    token = token_of(made["url"])
    assert (await tablet.get(f"/tablet/{token}")).status_code == 410
    refused = await tablet.post(f"/tablet/{token}", data={"_csrf_token": tablet.cookies["podium_csrf"]})
    assert refused.status_code == 410
    assert "expired" in refused.text
    assert (await tablet.get("/api/v1/auth/me")).status_code == 401


async def test_twenty_concurrent_uses_of_a_tablet_code_make_one_session(db, make_client):
    world = await build_world(teams=1, judges=1)
    client = await organizer(make_client, world)
    made = (await client.post(f"{STAGES}/{world.stage}/judges/{world.judges[0]}/tablet-sign-in")).json()
    token = token_of(made["url"])
    tablets = [await make_client() for _ in range(20)]
    responses = await asyncio.gather(
        *[t.post(f"/tablet/{token}", data={"_csrf_token": t.cookies["podium_csrf"]}) for t in tablets]
    )
    assert sorted(r.status_code for r in responses) == [303] + [410] * 19
    signed_in = [t for t in tablets if (await t.get("/api/v1/auth/me")).status_code == 200]
    assert len(signed_in) == 1
    assert await audit("tablet_signed_in") == 1


# Refusals: other callers, other events ---------------------------------------------------------


async def test_nobody_but_the_events_organizers_sets_judging_up(db, make_client):
    world = await build_world(teams=2, judges=2)
    other = await build_world(teams=1, judges=1, slug="elsewhere-2027")
    stranger = await make_client(other.email(other.organizer))  # organizes another event
    judge = await make_client(world.email(world.judges[0]))
    leader = await make_client(world.email(world.leaders[0]))
    anonymous = await make_client()
    panel = (
        await (await organizer(make_client, world)).post(f"{STAGES}/{world.stage}/panels", json={"name": "P"})
    ).json()
    calls = [
        ("GET", f"{STAGES}/{world.stage}/judging", None),
        ("PUT", f"{STAGES}/{world.stage}/judging", {"trim_high": 2}),
        ("PUT", f"{STAGES}/{world.stage}/rubric", {"criteria": [criterion()]}),
        ("GET", f"{STAGES}/{world.stage}/rubric", None),
        ("POST", f"{STAGES}/{world.stage}/panels", {"name": "X"}),
        ("PATCH", f"/api/v1/panels/{panel['id']}", {"name": "Y"}),
        ("DELETE", f"/api/v1/panels/{panel['id']}", None),
        ("GET", f"{STAGES}/{world.stage}/entries", None),
        ("POST", f"{STAGES}/{world.stage}/entries/seed", None),
        ("PATCH", f"/api/v1/stage-entries/{world.entries[0]}", {"position": 2}),
        ("GET", f"{STAGES}/{world.stage}/judges", None),
        ("POST", f"{STAGES}/{world.stage}/judges", {"user_id": world.judges[0]}),
        ("DELETE", f"{STAGES}/{world.stage}/judges/{world.judges[1]}", None),
        ("POST", f"{STAGES}/{world.stage}/judges/{world.judges[0]}/tablet-sign-in", None),
        ("POST", f"{STAGES}/{world.stage}/lock", None),
    ]
    before = await AuditEntry.count()
    for method, url, body in calls:
        assert (await anonymous.request(method, url, json=body)).status_code == 401, url
        for who in (stranger, judge, leader):
            assert (await who.request(method, url, json=body)).status_code == 403, (method, url)
    assert await AuditEntry.count() == before
    # ids that do not exist, or belong to another event's organizer
    own = await organizer(make_client, other)
    assert (await own.get(f"{STAGES}/999999/judging")).status_code == 404
    assert (await own.patch(f"/api/v1/panels/{panel['id']}", json={"name": "Z"})).status_code == 403
    assert (await own.patch("/api/v1/panels/999999", json={"name": "Z"})).status_code == 404
    # a stage of another event is not found under this event's pages
    org = await organizer(make_client, world)
    assert (await org.get(f"/workspace/events/{world.event}/judging/stages/{other.stage}")).status_code in (
        403,
        404,
    )


# Pages ------------------------------------------------------------------------------------------


async def test_the_hub_and_the_stage_page_show_the_set_up(db, make_client):
    world = await build_world(teams=3, judges=2)
    await publish_assignment(world, per_entry=1)
    client = await organizer(make_client, world)
    hub = await client.get(f"/workspace/events/{world.event}/judging")
    assert hub.status_code == 200
    assert "Online review" in hub.text
    assert "Final" in hub.text
    assert "Scoring" in hub.text
    assert "0 of 3" in hub.text  # sheets submitted of the active assignments
    stage = await client.get(f"/workspace/events/{world.event}/judging/stages/{world.stage}")
    assert stage.status_code == 200
    for text in (
        "Lock the stage",
        "Save the rubric",
        "market",
        "Sign in a tablet",
        "Judge 1",
        "E-0001",
        "judging-setup.js",
    ):
        assert text in stage.text, text
    assert f"/workspace/events/{world.event}/judging/stages/{world.stage}/assignment" in stage.text
    assert "/live" not in stage.text.split('class="subnav"')[1].split("</nav>")[0]  # not a live stage
    final = await client.get(f"/workspace/events/{world.event}/judging/stages/{world.final}")
    assert "/live" in final.text.split('class="subnav"')[1].split("</nav>")[0]
    for lang, word in (("zh", "评审"), ("ru", "Экспертиза")):
        client.cookies.set("podium_lang", lang)
        assert word in (await client.get(f"/workspace/events/{world.event}/judging")).text
    leader = await make_client(world.email(world.leaders[0]))
    assert (await leader.get(f"/workspace/events/{world.event}/judging")).status_code == 403
