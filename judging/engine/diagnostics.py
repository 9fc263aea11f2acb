"""Diagnostics of a judging design and of a ranking.

Graph facts (components, algebraic connectivity) come from the score table alone. Judge leniency and
scale, standard errors and the noise level come from a calibrated fit (``judging.engine.calibration``)
and are stored in ``Ranking.diagnostics``; ``judging.engine.explain`` turns them into an explanation
for people (data and text).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import ArpackNoConvergence, eigsh
from scipy.special import chdtrc  # not scipy.stats: about a second to import

from judging.engine.model import Design, ScoreTable

Z95 = 1.959963984540054

#: Default cut-offs, as counts of entries: the finals' 8 special, 8 + 12 first and 8 + 12 + 20 prizes.
PRIZE_CUTOFFS = (8, 20, 40)


@dataclass(frozen=True)
class Components:
    """Connected components of the bipartite judge–entry graph; labels index the table's tuples."""

    count: int
    judge: np.ndarray  # component of each judge
    entry: np.ndarray  # component of each entry

    def describe(self) -> str:
        sizes = np.bincount(self.entry, minlength=self.count)
        return (
            f"the judge–entry graph has {self.count} separate components "
            f"(entries per component: {int(sizes.min())} to {int(sizes.max())}); "
            "judges of different components never scored a common entry, so their leniency "
            "cannot be compared"
        )


def components(table: ScoreTable) -> Components:
    """Connected components of the graph whose nodes are judges and entries, edges the scores."""
    n_j, n_e = len(table.judges), len(table.entries)
    graph = sparse.coo_matrix(
        (np.ones(table.judge.size, dtype=np.int8), (table.judge, n_j + table.entry)),
        shape=(n_j + n_e, n_j + n_e),
    )
    count, label = csgraph.connected_components(graph, directed=False)
    return Components(int(count), label[:n_j], label[n_j:])


def algebraic_connectivity(table: ScoreTable) -> float:
    """λ₂ of the normalised Laplacian of the judge co-assessment graph.

    Judges are nodes; the weight between two judges is the number of entries both scored. λ₂ is 0
    for a disconnected design and 1 - (largest other eigenvalue) in general: about 0.9 for a random
    balanced design, about 0.05 when judges stay within tracks (few cross-track links). A design whose
    λ₂ is small relies on few links to compare judges, so judge effects are poorly determined.
    """
    n_j = len(table.judges)
    if n_j < 2:
        return 0.0
    incidence = sparse.csr_matrix(
        (np.ones(table.judge.size), (table.entry, table.judge)), shape=(len(table.entries), n_j)
    )
    adjacency = (incidence.T @ incidence).tocsr()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    if np.any(degree == 0) or components(table).count > 1:
        return 0.0
    inv_sqrt = sparse.diags(1.0 / np.sqrt(degree))
    normalised = inv_sqrt @ adjacency @ inv_sqrt
    if n_j <= 100:
        eig = np.linalg.eigvalsh(normalised.toarray())
        return float(max(0.0, 1.0 - eig[-2]))
    # The two largest eigenvalues of D^-1/2 A D^-1/2 are 1 and 1 - λ₂.
    try:
        eig = eigsh(normalised, k=2, which="LA", tol=1e-6, return_eigenvectors=False)
    except ArpackNoConvergence as exc:  # pragma: no cover - ARPACK rarely fails on these graphs
        eig = exc.eigenvalues
    return float(max(0.0, 1.0 - np.sort(eig)[0]))


def disagreement(
    residual: np.ndarray, entry: np.ndarray, n_entries: int, noise_var: np.ndarray
) -> np.ndarray:
    """Entries whose judges disagree far more than the noise explains (p < 0.001, chi-square).

    ``residual`` is each score minus the model's prediction and ``noise_var`` each score's noise
    variance; an entry is flagged when the sum of its squared standardised residuals is improbable
    with ``n - 1`` degrees of freedom.
    """
    n = np.bincount(entry, minlength=n_entries)
    chi2 = np.bincount(entry, weights=residual**2 / noise_var, minlength=n_entries)
    dof = np.maximum(n - 1, 1)
    p = chdtrc(dof, chi2)  # the chi-square distribution's survival function
    return (n >= 2) & (p < 1e-3)


def cutoffs_within_noise(
    score: np.ndarray, se: np.ndarray, counts: tuple[int, ...] = PRIZE_CUTOFFS, z: float = Z95
) -> dict[int, np.ndarray]:
    """For each cut-off "the top k", the entries whose interval ``score ± z·se`` straddles it.

    The cut-off score lies halfway between the k-th and (k+1)-th scores. An empty array means the
    cut-off is clear of the noise; a long one means the ranking near it is largely luck.
    """
    order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
    out: dict[int, np.ndarray] = {}
    for k in counts:
        if not 0 < k < score.size:
            continue
        cut = 0.5 * (score[order[k - 1]] + score[order[k]])
        out[k] = np.flatnonzero((score - z * se <= cut) & (score + z * se >= cut))
    return out


def entry_spread(
    value: np.ndarray, entry: np.ndarray, n_entries: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per entry: the number of values, their mean and its standard error (NaN for a single value)."""
    n = np.bincount(entry, minlength=n_entries)
    mean = np.bincount(entry, value, n_entries) / n
    var = np.bincount(entry, (value - mean[entry]) ** 2, n_entries) / np.maximum(n - 1, 1)
    return n, mean, np.where(n > 1, np.sqrt(var / n), np.nan)


def entry_flags(
    score: np.ndarray, se: np.ndarray, cutoffs: tuple[int, ...], disagree: np.ndarray | None = None
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The ``flag`` column (``disagree``, ``near_cutoff``, both joined by ``;``, or empty) and the
    entries within the noise of each cut-off (:func:`cutoffs_within_noise`; unknown ``se`` counts as 0).
    """
    within = cutoffs_within_noise(score, np.nan_to_num(se), cutoffs)
    near = np.zeros(score.size, dtype=bool)
    for idx in within.values():
        near[idx] = True
    disagree = np.zeros(score.size, dtype=bool) if disagree is None else disagree
    flag = np.full(score.size, "", dtype=object)
    flag[disagree] = "disagree"
    flag[near & ~disagree] = "near_cutoff"
    flag[near & disagree] = "disagree;near_cutoff"
    return flag, within


def home_bias(
    table: ScoreTable, design: Design, residual: np.ndarray, by: str = "institution"
) -> dict[str, float | int | str]:
    """Do judges score entries of their own institution (or nation) higher than the model predicts?

    A score is "home" when the judge's and the entry's ``by`` attribute of ``design`` are equal and
    known: ``by="institution"`` reads ``judge_institution``/``entry_institution``, ``by="nation"``
    reads ``judge_nation``/``entry_nation``. Compares the residuals (score minus the model's
    prediction, or minus the other judges' mean) of home scores with all others by Welch's t-test.
    Returns the number of home scores, the mean excess in score points, its standard error, Welch's
    t and the two-sided p-value; ``verdict`` says it in words.
    """
    if by not in ("institution", "nation"):
        raise ValueError(f"home_bias: by must be 'institution' or 'nation', not {by!r}")
    judge_of, entry_of = getattr(design, f"judge_{by}"), getattr(design, f"entry_{by}")
    judge_key = np.array([judge_of.get(j, "") for j in table.judges], dtype=object)
    entry_key = np.array([entry_of.get(e, "") for e in table.entries], dtype=object)
    jk, ek = judge_key[table.judge], entry_key[table.entry]
    home = (jk != "") & (jk == ek)
    n_home = int(home.sum())
    if n_home < 2 or (~home).sum() < 2:
        return {"n_home": n_home, "verdict": f"too few scores of a judge's own {by} to test"}
    from scipy import stats

    test = stats.ttest_ind(residual[home], residual[~home], equal_var=False)
    excess = float(residual[home].mean() - residual[~home].mean())
    se = float(np.sqrt(residual[home].var(ddof=1) / n_home + residual[~home].var(ddof=1) / (~home).sum()))
    significant = test.pvalue < 0.01
    verdict = f"home scores are {excess:+.2f} points off the model (p = {test.pvalue:.3g})" + (
        f": a significant home-{by} bias" if significant else ": no significant bias"
    )
    return {
        "n_home": n_home,
        "excess": excess,
        "se": se,
        "t": float(test.statistic),
        "p": float(test.pvalue),
        "verdict": verdict,
    }
