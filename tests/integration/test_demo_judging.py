"""The demo contest judged end to end: its marks stay on each criterion's range and step and carry
the judges' biases, and ``podium demo`` on the embedded default leaves an online review fully scored,
a published ranking, an open appeal and a live final in three rooms under way, the same after a
second load."""

from __future__ import annotations

import random
import sqlite3
import statistics
import subprocess
import sys
import time

from backend.demo.judging import (
    NOTABLE_LENIENCY,
    RUBRIC,
    SHEETS_PER_TRANSACTION,
    judge_biases,
    marks_for,
    on_step,
    snake_room,
)
from backend.demo.load import CONTEST
from judging.rubrics import check_marks
from tests.integration.test_migrations_and_cli import embedded_env, podium

SLUG = CONTEST["slug"]


def test_marks_are_valid_for_any_criterion_and_bias():
    """Random criteria (ranges, steps) and extreme biases: every mark passes the scoring service's
    own check, and snapping to the step is idempotent."""
    rng = random.Random(10)
    for _ in range(500):
        low = rng.choice([0, 1, 5, -10])
        step = rng.choice([0.5, 1, 0.25, 2, 0.1])
        criteria = [
            {"code": f"c{k}", "weight": 1, "min": low, "max": low + step * rng.randint(1, 60), "step": step}
            for k in range(rng.randint(1, 5))
        ]
        bias = (rng.uniform(-4, 4), rng.uniform(0.1, 3))
        marks = marks_for(criteria, rng.gauss(0, 3), bias, rng)
        assert check_marks(criteria, marks) == {}
        for c in criteria:
            assert on_step(marks[c["code"]], c) == marks[c["code"]]


def test_harsh_and_lenient_judges_stand_out():
    """The same entries marked by the demo's judges: the notable judges' average marks are the
    lowest and highest, and better teams get better marks."""
    judges = list(range(100, 130))
    biases = judge_biases(judges)
    rng = random.Random(3)
    qualities = [rng.gauss(0, 1) for _ in range(60)]

    def total(judge: int, quality: float) -> float:
        marks = marks_for(RUBRIC, quality, biases[judge], rng)
        return sum(c["weight"] * marks[c["code"]] for c in RUBRIC)

    average = {j: statistics.mean(total(j, q) for q in qualities) for j in judges}
    ordered = sorted(judges, key=average.__getitem__)
    harsh = {judges[k] for k, v in NOTABLE_LENIENCY.items() if v < 0}
    lenient = {judges[k] for k, v in NOTABLE_LENIENCY.items() if v > 0}
    assert set(ordered[: len(harsh)]) == harsh
    assert set(ordered[-len(lenient) :]) == lenient
    best, worst = max(qualities), min(qualities)
    assert (
        statistics.mean(total(j, best) for j in judges) > statistics.mean(total(j, worst) for j in judges) + 2
    )


def test_finalists_snake_across_the_rooms():
    """Any number of finalists and rooms: room sizes differ by at most one, and each full round of
    the snake gives every room the same sum of review places."""
    for rooms in range(1, 7):
        for finalists in range(0, 60):
            seats = [snake_room(i, rooms) for i in range(finalists)]
            sizes = [seats.count(k) for k in range(rooms)]
            assert max(sizes) - min(sizes) <= 1
            whole = finalists - finalists % (2 * rooms)
            sums = {sum(i for i in range(whole) if seats[i] == k) for k in range(rooms)}
            assert len(sums) <= 1


def _judging_state(path) -> dict[str, object]:
    """What the demo's judging left in the SQLite file at ``path``."""
    with sqlite3.connect(path) as conn:

        def one(sql: str, *args: object) -> object:
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None

        review, final = (
            one(
                "SELECT s.id FROM stage s JOIN event e ON e.id = s.event WHERE e.slug = ? AND s.level = ?",
                SLUG,
                level,
            )
            for level in ("school", "province")
        )
        return {
            "status": one("SELECT status FROM stage_judging WHERE stage = ?", review),
            "entries": one("SELECT count(*) FROM stage_entry WHERE stage = ?", review),
            "judges": one("SELECT count(DISTINCT user) FROM stage_judge WHERE stage = ?", review),
            "assignments": one(
                "SELECT count(*) FROM assignment WHERE stage = ? AND state = 'active'", review
            ),
            "unscored": one(
                "SELECT count(*) FROM assignment a WHERE a.stage = ? AND a.state = 'active' "
                "AND NOT EXISTS (SELECT 1 FROM score_sheet s WHERE s.assignment = a.id)",
                review,
            ),
            "sheets": one("SELECT count(*) FROM score_sheet WHERE stage = ?", review),
            # sheets changed with a reason to other marks than they were first given
            "changed": one(
                "SELECT count(*) FROM score_sheet_version v JOIN score_sheet s ON s.id = v.sheet "
                "JOIN score_sheet_version first ON first.sheet = v.sheet AND first.version = 1 "
                "WHERE s.stage = ? AND v.version > 1 AND v.reason != '' AND v.marks != first.marks",
                review,
            ),
            "published_run": one(
                "SELECT r.status FROM stage_judging j JOIN ranking_run r ON r.id = j.published_run WHERE j.stage = ?",
                review,
            ),
            "results": one(
                "SELECT count(*) FROM stage_result r JOIN stage_judging j ON j.published_run = r.run "
                "WHERE j.stage = ?",
                review,
            ),
            "open_appeals": one(
                "SELECT group_concat(u.email) FROM appeal a JOIN team t ON t.id = a.team "
                "JOIN podium_user u ON u.id = t.leader WHERE a.stage = ? AND a.status = 'open'",
                review,
            ),
            "finalists": one("SELECT count(*) FROM stage_entry WHERE stage = ?", final),
            "final": one(
                "SELECT status || ' ' || method || ' ' || live FROM stage_judging WHERE stage = ?", final
            ),
            "rooms": one("SELECT count(*) FROM panel WHERE stage = ?", final),
            "seated": one("SELECT count(*) FROM stage_entry WHERE stage = ? AND panel IS NOT NULL", final),
            # room 1's teams in running order: (sheets, judges) each
            "room_1": conn.execute(
                "SELECT (SELECT count(*) FROM score_sheet s WHERE s.stage_entry = e.id), "
                "(SELECT count(*) FROM assignment a WHERE a.stage_entry = e.id AND a.state = 'active') "
                "FROM stage_entry e WHERE e.panel = (SELECT id FROM panel WHERE stage = ? ORDER BY position LIMIT 1) "
                "ORDER BY e.position",
                (final,),
            ).fetchall(),
            "on_stage": one(
                "SELECT p.phase || ' ' || e.position FROM panel p JOIN stage_entry e ON e.id = p.current_entry "
                "WHERE p.stage = ? ORDER BY p.position LIMIT 1",
                final,
            ),
            "tiers": one("SELECT group_concat(code || ':' || size) FROM prize_tier WHERE stage = ?", final),
            "awards": one("SELECT count(*) FROM award WHERE stage = ?", final),
            "recommenders": one(
                "SELECT count(DISTINCT recommended_by) FROM recommendation WHERE from_stage = ? AND state = 'accepted'",
                review,
            ),
            "judging_audit": one("SELECT count(*) FROM audit_entry WHERE action LIKE 'judging.%'"),
            "versions": one("SELECT count(*) FROM score_sheet_version"),
        }


# ``podium demo`` stopped dead once its first chunk of score sheets is committed: the command line's
# progress counter, told that chunk is done, ends the process (no clean-up runs but the interpreter's).
STOPPED_WHILE_SCORING = """
import os, sys
from backend import cli

class Stopping(cli.Progress):
    def __call__(self, done):
        super().__call__(done)
        if self.label == "Score sheets" and done > 0:
            sys.stderr.flush()
            os._exit(3)

cli.Progress = Stopping
sys.exit(cli.main(["demo"]))
"""


def test_an_interrupted_demo_completes_its_judging_and_then_changes_nothing(tmp_path):
    """The demo stopped dead after its first sheets: the next ``podium demo`` finishes
    the judging (every step checks what is there first), and the one after changes nothing."""
    env = embedded_env(tmp_path)
    database = tmp_path / "data" / "podium.sqlite"
    stopped = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_SCORING], env=env, capture_output=True, text=True, timeout=300
    )
    assert stopped.returncode == 3, stopped.stderr
    halfway = _judging_state(database)
    assert halfway["status"] == "scoring"
    assert halfway["sheets"] == SHEETS_PER_TRANSACTION < halfway["assignments"]
    started = time.monotonic()
    first = podium("demo", env=env)
    seconds = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr, first.stderr
    assert "Judging: 5/5" in first.stderr  # its progress
    state = _judging_state(database)
    assert state["status"] == "published"
    assert state["judges"] == 30
    assert state["assignments"] == 5 * state["entries"] > 0
    assert state["unscored"] == 0
    assert state["sheets"] == state["assignments"]
    assert state["versions"] == state["sheets"] + 1 + sum(sheets for sheets, _ in state["room_1"])
    assert state["changed"] == 1
    assert state["published_run"] == "done"
    assert state["results"] == state["entries"]
    assert state["open_appeals"] == "leader@podium.example"
    assert state["finalists"] == 18
    assert state["final"] == "scoring trimmed 1"
    assert state["rooms"] == 3
    assert state["seated"] == 18
    assert state["recommenders"] == 2  # the school admin (their institution's team) and the organizer
    room_1 = state["room_1"]
    assert len(room_1) == 6
    assert [sheets == judges >= 3 for sheets, judges in room_1[:2]] == [True, True]
    assert [sheets for sheets, _ in room_1[2:]] == [0, 0, 0, 0]
    assert state["on_stage"] == "scoring 2"  # the second team's room result on the screens
    assert state["tiers"] == "special:3,first:6,second:9"
    assert state["awards"] == 0  # the final is not over (the review's prizes: backend.demo.incubator)
    again = podium("demo", env=env)
    assert again.returncode == 0, again.stderr
    assert _judging_state(database) == state
    print(f"the demo's judging completed in {seconds:.1f} s")
