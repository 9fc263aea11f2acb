"""The synthetic contest of issue 3: entries with known true quality, scored by biased judges.

Judge ``j`` scores entry ``i`` as ``clip(round(70 + 10·(a_j + s_j·q_i + e)), 0, 100)`` with leniency
``a ~ N(0, σa)``, scale ``s = exp(N(0, σs))`` and noise ``e ~ N(0, σe)``. Scenarios (notes §3.3):

* ``random``: balanced random assignment without same-institution pairs, amateur judges;
* ``tracks``: 10 tracks whose mean quality differs by ``N(0, 0.5)`` (added to q), judges matched
  to their track, 20 % cross-track links;
* ``disjoint``: fixed disjoint panels of K judges, each judging its own block of entries;
* ``unbiased``: the random design with ``a = 0``, ``s = 1`` (the noise ceiling);
* ``elite``: the random design with ISU-like judges (σa = 0.175, σs = 0.1, σe = 0.39).

:func:`nested_tracks` draws the wider family of issue 7: judges nested in tracks with uneven loads, a
share of entries given one judge from another track, any judge model, track-mean SD and centre.

Labels are ``E00000``/``J000``/``I000``/``T0``; table indexes equal the generator's indexes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judging.engine.assignment import assign
from judging.engine.model import SINGLE_CRITERION, Design, InputError, ScoreTable


@dataclass(frozen=True)
class JudgeModel:
    leniency_sd: float
    scale_sd: float
    noise_sd: float


AMATEUR = JudgeModel(leniency_sd=0.5, scale_sd=0.3, noise_sd=0.7)
ELITE = JudgeModel(leniency_sd=0.175, scale_sd=0.1, noise_sd=0.39)
UNBIASED = JudgeModel(leniency_sd=0.0, scale_sd=0.0, noise_sd=0.7)

SCENARIOS = {
    "random": ("random", AMATEUR),
    "tracks": ("tracks", AMATEUR),
    "disjoint": ("disjoint", AMATEUR),
    "unbiased": ("random", UNBIASED),
    "elite": ("random", ELITE),
}


@dataclass(frozen=True)
class Contest:
    """A generated contest: the scores, the truth and everything needed to score more pairs."""

    table: ScoreTable
    quality: np.ndarray
    design: Design
    leniency: np.ndarray
    scale: np.ndarray
    noise_sd: float
    entry_institution: np.ndarray
    judge_institution: np.ndarray
    entry_track: np.ndarray | None = None
    judge_track: np.ndarray | None = None
    centre: float = 70.0


def generate(
    scenario: str = "random",
    *,
    n_entries: int = 10_000,
    n_judges: int = 500,
    per_entry: int = 5,
    n_institutions: int = 700,
    n_tracks: int = 10,
    cross_track_share: float = 0.2,
    seed: int | np.random.Generator | None = 0,
) -> Contest:
    """Generate one contest of the named scenario (see the module docstring)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    layout, model = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    quality = rng.normal(0.0, 1.0, n_entries)
    entry_inst = rng.integers(0, n_institutions, n_entries)
    judge_inst = rng.integers(0, n_institutions, n_judges)
    entry_track = judge_track = None
    if layout == "tracks":
        entry_track = rng.integers(0, n_tracks, n_entries)
        judge_track = rng.permutation(np.arange(n_judges) % n_tracks)
        quality = quality + rng.normal(0.0, 0.5, n_tracks)[entry_track]
    if layout == "disjoint":
        judge, entry = _disjoint_panels(entry_inst, judge_inst, per_entry, rng)
    else:
        pairs = assign(
            entry_inst,
            judge_inst,
            per_entry,
            entry_track=entry_track,
            judge_track=judge_track,
            cross_track_share=cross_track_share,
            connectivity=False,
            seed=rng,
        )
        judge, entry = pairs.judge, pairs.entry
    leniency = rng.normal(0.0, model.leniency_sd, n_judges)
    scale = np.exp(rng.normal(0.0, model.scale_sd, n_judges))
    contest = Contest(
        table=_table(n_judges, n_entries, judge, entry, np.zeros(0)),
        quality=quality,
        design=_design(entry_inst, judge_inst, entry_track, judge_track),
        leniency=leniency,
        scale=scale,
        noise_sd=model.noise_sd,
        entry_institution=entry_inst,
        judge_institution=judge_inst,
        entry_track=entry_track,
        judge_track=judge_track,
    )
    values = score_pairs(contest, judge, entry, rng)
    return _replace_table(contest, _table(n_judges, n_entries, judge, entry, values))


def nested_tracks(
    *,
    n_entries: int,
    n_judges: int,
    per_entry: int,
    n_tracks: int,
    cross_track_share: float,
    model: JudgeModel,
    track_sd: float,
    centre: float = 70.0,
    load_sd: float = 0.5,
    seed: int | np.random.Generator | None = 0,
) -> Contest:
    """Judges nested in ``n_tracks`` tracks, each entry judged by ``per_entry`` judges of its own track.

    Track means ``N(0, track_sd)`` are real quality (added to q). Judges' loads are uneven: a judge is
    picked with probability proportional to ``exp(N(0, load_sd))``. On ``cross_track_share`` of the
    entries (when there are several tracks) one of the judges is replaced by a judge of another track:
    the only links between tracks. ``centre`` moves the scale so some scores sit at 0 or 100.
    """
    rng = np.random.default_rng(seed)
    if n_judges < n_tracks * per_entry:
        raise InputError(f"{n_judges} judges cannot give {n_tracks} tracks {per_entry} judges each")
    entry_track = rng.integers(0, n_tracks, n_entries)
    judge_track = rng.permutation(np.arange(n_judges) % n_tracks)
    quality = rng.normal(0.0, 1.0, n_entries) + rng.normal(0.0, track_sd, n_tracks)[entry_track]
    log_load = rng.normal(0.0, load_sd, n_judges)
    panels = np.empty((n_entries, per_entry), dtype=np.int64)
    for t in range(n_tracks):
        members, entries = np.flatnonzero(judge_track == t), np.flatnonzero(entry_track == t)
        for block in np.array_split(entries, max(1, entries.size * members.size // 2_000_000 + 1)):
            # Gumbel top-k: K distinct judges per entry, each drawn in proportion to its load.
            keys = log_load[members] + rng.gumbel(size=(block.size, members.size))
            panels[block] = members[np.argpartition(-keys, per_entry - 1, axis=1)[:, :per_entry]]
    if n_tracks > 1:
        cross = np.flatnonzero(rng.random(n_entries) < cross_track_share)
        other = (entry_track[cross] + rng.integers(1, n_tracks, cross.size)) % n_tracks
        by_track = np.argsort(judge_track, kind="stable")
        start = np.r_[0, np.cumsum(np.bincount(judge_track, minlength=n_tracks))]
        cum = np.cumsum(np.exp(log_load[by_track]))
        low = np.where(start[other] > 0, cum[np.maximum(start[other] - 1, 0)], 0.0)
        pick = np.searchsorted(cum, low + rng.random(cross.size) * (cum[start[other + 1] - 1] - low), "right")
        panels[cross, -1] = by_track[np.minimum(pick, start[other + 1] - 1)]
    judge, entry = panels.ravel(), np.repeat(np.arange(n_entries), per_entry)
    # Every entry and judge has an institution of its own: no conflicts of interest in this family.
    entry_inst, judge_inst = np.arange(n_entries), n_entries + np.arange(n_judges)
    contest = Contest(
        table=_table(n_judges, n_entries, judge, entry, np.zeros(0)),
        quality=quality,
        design=_design(entry_inst, judge_inst, entry_track, judge_track),
        leniency=rng.normal(0.0, model.leniency_sd, n_judges),
        scale=np.exp(rng.normal(0.0, model.scale_sd, n_judges)),
        noise_sd=model.noise_sd,
        entry_institution=entry_inst,
        judge_institution=judge_inst,
        entry_track=entry_track,
        judge_track=judge_track,
        centre=centre,
    )
    values = score_pairs(contest, judge, entry, rng)
    return _replace_table(contest, _table(n_judges, n_entries, judge, entry, values))


def score_pairs(
    contest: Contest, judge: np.ndarray, entry: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Fresh scores of the contest's judges for the given (judge, entry) index pairs."""
    noise = rng.normal(0.0, contest.noise_sd, len(judge))
    raw = contest.centre + 10.0 * (
        contest.leniency[judge] + contest.scale[judge] * contest.quality[entry] + noise
    )
    return np.clip(np.rint(raw), 0.0, 100.0)


def with_more_scores(
    contest: Contest, judge: np.ndarray, entry: np.ndarray, rng: np.random.Generator
) -> Contest:
    """The same contest with extra scores for new (judge, entry) pairs, e.g. a second stage."""
    t = contest.table
    table = ScoreTable(
        t.judges,
        t.entries,
        t.criteria,
        np.r_[t.judge, np.asarray(judge, dtype=np.int64)],
        np.r_[t.entry, np.asarray(entry, dtype=np.int64)],
        np.zeros(t.n_scores + len(judge), dtype=np.int64),
        np.r_[t.value, score_pairs(contest, judge, entry, rng)],
    )
    return _replace_table(contest, table)


def _replace_table(contest: Contest, table: ScoreTable) -> Contest:
    return Contest(**{**contest.__dict__, "table": table})


def _table(
    n_judges: int, n_entries: int, judge: np.ndarray, entry: np.ndarray, value: np.ndarray
) -> ScoreTable:
    return ScoreTable(
        judges=tuple(f"J{j:0{len(str(n_judges - 1))}d}" for j in range(n_judges)),
        entries=tuple(f"E{i:0{len(str(n_entries - 1))}d}" for i in range(n_entries)),
        criteria=(SINGLE_CRITERION,),
        judge=np.asarray(judge, dtype=np.int64),
        entry=np.asarray(entry, dtype=np.int64),
        criterion=np.zeros(len(judge), dtype=np.int64),
        value=np.asarray(value, dtype=np.float64),
    )


def _design(
    entry_inst: np.ndarray,
    judge_inst: np.ndarray,
    entry_track: np.ndarray | None,
    judge_track: np.ndarray | None,
) -> Design:
    n_entries, n_judges = entry_inst.size, judge_inst.size
    entries = [f"E{i:0{len(str(n_entries - 1))}d}" for i in range(n_entries)]
    judges = [f"J{j:0{len(str(n_judges - 1))}d}" for j in range(n_judges)]
    return Design(
        judge_institution={j: f"I{c:03d}" for j, c in zip(judges, judge_inst.tolist(), strict=True)},
        entry_institution={e: f"I{c:03d}" for e, c in zip(entries, entry_inst.tolist(), strict=True)},
        judge_track={}
        if judge_track is None
        else {j: f"T{t}" for j, t in zip(judges, judge_track.tolist(), strict=True)},
        entry_track={}
        if entry_track is None
        else {e: f"T{t}" for e, t in zip(entries, entry_track.tolist(), strict=True)},
    )


def _disjoint_panels(
    entry_inst: np.ndarray, judge_inst: np.ndarray, per_entry: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed panels of ``per_entry`` judges, each judging an equal block of entries, no conflicts."""
    n_entries, n_judges = entry_inst.size, judge_inst.size
    if n_judges % per_entry:
        raise InputError(f"{n_judges} judges cannot form disjoint panels of {per_entry}")
    n_panels = n_judges // per_entry
    members = rng.permutation(n_judges).reshape(n_panels, per_entry)
    panel_has = np.zeros((n_panels, int(max(entry_inst.max(), judge_inst.max())) + 1), dtype=bool)
    panel_has[np.repeat(np.arange(n_panels), per_entry), judge_inst[members].ravel()] = True
    panel = rng.permutation(np.arange(n_entries) % n_panels)
    for _ in range(1000):  # swap conflicting entries with random partners until none conflict
        bad = np.flatnonzero(panel_has[panel, entry_inst])
        if bad.size == 0:
            break
        partner = rng.integers(0, n_entries, bad.size)
        ok = ~panel_has[panel[partner], entry_inst[bad]] & ~panel_has[panel[bad], entry_inst[partner]]
        b, p = bad[ok], partner[ok]
        keep = np.zeros(p.size, dtype=bool)
        keep[np.unique(p, return_index=True)[1]] = True  # each partner once, and never a bad entry
        keep &= np.isin(p, bad, invert=True)
        b, p = b[keep], p[keep]
        panel[b], panel[p] = panel[p], panel[b].copy()
    else:
        raise InputError("the disjoint panels cannot avoid same-institution pairs")
    entry = np.repeat(np.arange(n_entries), per_entry)
    return members[panel].ravel(), entry
