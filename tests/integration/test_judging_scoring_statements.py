"""The statements a sheet's submission sends to PostgreSQL, pinned: the benchmarked hot path
(``bench/scoring.py``) keeps its locks and its audit entry, and a change that adds a round trip fails
here instead of slowing every judge's tablet silently."""

from __future__ import annotations

from backend.audit import Actor, acting_as
from backend.security import load_principal
from judging.scoring import service
from judging.scoring.schemas import SheetIn
from judging.tables import Assignment
from tests.integration.judging_world import build_world, marks_for, publish_assignment

# The access check, BEGIN, the lock-and-read, the sheet's upsert, its version, the audit entry and
# COMMIT. The stage's first sheet also locks the rubric version: one more.
SUBMIT_MAX = 7
FIRST_MAX = SUBMIT_MAX + 1


async def test_a_submission_takes_few_statements(db, sent):
    world = await build_world(teams=4, judges=4)
    await publish_assignment(world)
    rows = await Assignment.select(Assignment.id, Assignment.judge).order_by(Assignment.id)
    first, second = rows[0], next(r for r in rows[1:] if r["judge"] == rows[0]["judge"])
    judge = await load_principal(first["judge"], "session")
    with acting_as(Actor(judge.id, judge.email, "127.0.0.1", "session")):
        sent.clear()
        await service.submit_sheet(judge, first["id"], SheetIn(marks=marks_for(0.5), nonce="first-000"))
        assert len(sent) <= FIRST_MAX, sent
        sent.clear()
        await service.submit_sheet(judge, second["id"], SheetIn(marks=marks_for(0.5), nonce="second-00"))
        assert len(sent) <= SUBMIT_MAX, sent
        sent.clear()
        change = SheetIn(marks=marks_for(0.6), nonce="change-00", reason="second look")
        out = await service.submit_sheet(judge, second["id"], change)
        assert out.version == 2
        assert len(sent) <= SUBMIT_MAX, sent
        sent.clear()
        replay = await service.submit_sheet(judge, second["id"], change)
        assert replay.replayed
        assert len(sent) <= SUBMIT_MAX - 3, sent  # no writes, no audit
