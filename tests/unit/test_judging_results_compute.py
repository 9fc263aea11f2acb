"""The ranking job's arithmetic and the objection period's working days, over random inputs."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from judging.engine.ranking import rank
from judging.results import compute
from judging.results.workdays import add_working_days, objection_end

CRITERIA = [
    {"code": "a", "weight": 0.6, "min": 0, "max": 10, "step": 1},
    {"code": "b", "weight": 0.4, "min": 0, "max": 20, "step": 0.5},
]
ZONES = ("Asia/Shanghai", "Europe/Moscow", "America/New_York", "Pacific/Auckland", "UTC", "Asia/Kolkata")


def _weekdays_after(day: dt.date, last: dt.date) -> int:
    return sum(1 for k in range(1, (last - day).days + 1) if (day + dt.timedelta(days=k)).weekday() < 5)


def test_the_objection_period_ends_after_n_weekdays_in_the_event_zone():
    rng = random.Random(20261129)
    for _ in range(3000):
        published = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(4 * 365 * 86400)
        )
        zone, n = rng.choice(ZONES), rng.randrange(0, 25)
        end = objection_end(published, zone, n)
        local_start = published.astimezone(ZoneInfo(zone)).date()
        local_end = end.astimezone(ZoneInfo(zone))
        assert local_end.time() == dt.time()  # midnight there: the end of a whole day
        last = local_end.date() - dt.timedelta(days=1)
        assert last > local_start or n == 0
        if n:
            assert last.weekday() < 5
            assert _weekdays_after(local_start, last) == n
        assert last == add_working_days(local_start, n)


def test_working_days_skip_weekends():
    friday = dt.date(2026, 11, 27)
    assert add_working_days(friday, 1) == dt.date(2026, 11, 30)
    assert add_working_days(friday, 5) == dt.date(2026, 12, 4)
    assert add_working_days(dt.date(2026, 11, 28), 5) == dt.date(2026, 12, 4)  # from a Saturday
    with pytest.raises(ValueError, match="negative"):
        add_working_days(friday, -1)


def _stage(rng: random.Random) -> tuple[list[compute.Sheet], list[compute.Entry], dict[int, int]]:
    n_entries, n_judges = rng.randrange(4, 25), rng.randrange(4, 10)
    entries = [
        compute.Entry(100 + i, rng.choice((1, 2, 3)), rng.choice((7, 8, None))) for i in range(n_entries)
    ]
    judge_institution = {j: rng.choice((7, 8, 9)) for j in range(1, n_judges + 1)}
    sheets = []
    for e in entries:
        for j in rng.sample(range(1, n_judges + 1), rng.randrange(0, min(5, n_judges) + 1)):
            sheets.append(compute.Sheet(e.id, j, {"a": rng.randrange(0, 11), "b": rng.randrange(0, 41) / 2}))
    return sheets, entries, judge_institution


@pytest.mark.parametrize("method", ["mean", "median", "trimmed", "auto", "zscore"])
def test_random_stages_rank_as_the_engine_does(method):
    """Entries with enough sheets get the engine's own score and rank; the others follow, flagged, in
    the order of their mean; entries without a sheet are unranked; track ranks order each track."""
    rng = random.Random(hash(method) % 1000)
    for _ in range(40):
        sheets, entries, judge_institution = _stage(rng)
        settings = compute.Settings(method=method, min_judges=3, judge_institution=judge_institution)
        outcome = compute.rank_stage(sheets, entries, CRITERIA, settings)
        places = {p.entry: p for p in outcome.places}
        counts = {e.id: sum(1 for s in sheets if s.entry == e.id) for e in entries}
        needed = compute.needed_sheets(settings)
        full = [s for s in sheets if counts[s.entry] >= needed]
        assert len(outcome.places) == len(entries)
        if full:
            table = compute.score_table(full, CRITERIA)
            ranking = rank(table, method, compute.engine_rubric(CRITERIA), **compute.engine_options(settings))
            for i, label in enumerate(ranking.entries):
                p = places[int(label)]
                assert p.rank == int(ranking.rank[i])
                assert p.score == pytest.approx(float(ranking.score[i]), nan_ok=True)
                assert "too_few_judges" not in p.flags
        ranked_full = sum(1 for e, n in counts.items() if n >= needed and places[e].rank)
        for e, n in counts.items():
            p = places[e]
            assert p.n_judges == n
            if n == 0:
                assert (p.rank, p.track_rank, p.score) == (0, 0, None)
            if 0 < n < needed:
                assert "too_few_judges" in p.flags
                assert p.rank > ranked_full
        for track in {e.track for e in entries}:
            mine = [p for p in outcome.places if p.track == track and p.rank]
            by_rank = sorted(mine, key=lambda p: p.rank)
            assert [p.track_rank for p in by_rank] == sorted(p.track_rank for p in mine)
            if mine:
                assert min(p.track_rank for p in mine) == 1
        assert [p.rank for p in outcome.places if p.rank] == sorted(p.rank for p in outcome.places if p.rank)


def test_diagnostics_describe_the_graph_and_the_spread():
    rng = random.Random(5)
    sheets, entries, judge_institution = _stage(rng)
    outcome = compute.rank_stage(
        sheets, entries, CRITERIA, compute.Settings(judge_institution=judge_institution)
    )
    graph = outcome.diagnostics["graph"]
    counts = {e: sum(1 for s in sheets if s.entry == e) for e in {s.entry for s in sheets}}
    ranked = {e for e, n in counts.items() if n >= compute.needed_sheets(compute.Settings())}
    assert sum(graph["component_entries"]) == len(ranked)
    assert sum(graph["component_judges"]) == len(graph["judges"])
    assert graph["connectivity"] >= 0.0
    shared = np.array(graph["shared"])
    assert (shared == shared.T).all()
    spread = outcome.diagnostics["spread"]
    assert [r["sd"] for r in spread] == sorted((r["sd"] for r in spread), reverse=True)
    for r in spread:
        assert r["min"] == r["totals"][0]
        assert r["max"] == r["totals"][-1]
    stats = outcome.diagnostics["judges"]
    assert sum(s["sheets"] for s in stats.values()) == len(sheets)
