"""Model-based calibration of judges over the judge–entry graph: ``offset``, ``affine`` and ``auto``.

The model for the score of entry i by judge j (one total per pair, criteria collapsed by the rubric):

    offset:  y_ij = m + q_i + b_j + e_ij
    affine:  y_ij = m + s_j·q_i + b_j + e_ij

with Gaussian priors q_i ~ N(0, τ²) (entry quality), b_j ~ N(0, σ_b²) (leniency, a ridge toward 0),
s_j ~ N(1, σ_s²) (scale, shrunk toward 1) and e_ij ~ N(0, σ_j²) (noise, per judge when
``heteroscedastic``). The variances are estimated from the data (empirical Bayes, MacKay's evidence
updates), so the amount of shrinkage is tuned by the data and not by a constant. Scores at the bounds of the
scale are treated as censored (Tobit E-step): a 100 means "at least 100".

Given the scales, b solves one sparse linear system exactly with the entries as fixed effects (no
prior on q there): q is eliminated per entry and the judges' Schur complement is solved by
preconditioned conjugate gradients, matrix-free, so the cost per iteration is a few sparse products
over the scores (no J×J matrix is formed). Only then is q, given b, shrunk by its prior. With the
prior inside the joint fit, a group of entries seen only by one group of judges (a track) had its real
advantage explained as those judges' leniency, which is cheaper under the priors (one offset per judge
against one quality per entry), and subtracted (issue 7). The entry score is ``m + q_i``: what an
average judge would give, shrunk toward the mean for entries with few judgements.

A fit can be refitted after new scores from where it stopped (:meth:`CalibrationFit.set_score`, or
``warm_start=`` with a new table), which keeps the variances and takes a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.special import fdtrc, log_ndtr  # not scipy.stats: about a second to import

from judging.engine import diagnostics
from judging.engine.model import (
    Criterion,
    Design,
    InputError,
    Ranking,
    Rubric,
    ScoreTable,
    competition_rank,
)

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class _Data:
    """One total per (judge, entry) as index arrays, with the scale's bounds for censoring."""

    judges: tuple[str, ...]
    entries: tuple[str, ...]
    judge: np.ndarray
    entry: np.ndarray
    value: np.ndarray
    low: float
    high: float

    @classmethod
    def from_table(cls, table: ScoreTable, rubric: Rubric | None) -> _Data:
        totals = table.totals(rubric)
        if rubric is None:
            low, high = Criterion("").min, Criterion("").max
        else:
            low = sum(c.weight * c.min for c in rubric.criteria if c.name in table.criteria)
            high = sum(c.weight * c.max for c in rubric.criteria if c.name in table.criteria)
        return cls(table.judges, table.entries, totals.judge, totals.entry, totals.value, low, high)


@dataclass
class CalibrationFit:
    """A fitted ``offset`` or ``affine`` model: estimates, variances and the data they came from.

    ``quality`` is per entry (score points relative to ``mean``); ``leniency``, ``scale`` and
    ``noise_var`` are per judge. Pass it as ``warm_start=`` or call :meth:`set_score` to refit fast.
    """

    method: str
    data: _Data
    mean: float
    quality: np.ndarray
    leniency: np.ndarray
    scale: np.ndarray
    noise_var: np.ndarray
    quality_var: float
    judge_var: float
    scale_var: float
    heteroscedastic: bool
    censor: bool
    iterations: int = 0

    def set_score(self, judge: str, entry: str, value: float, **options: object) -> Ranking:
        """Add a score (or replace the judge's score of that entry) and re-rank from this fit.

        The variances are kept, so a live final re-ranks in milliseconds after each score.
        """
        d = self.data
        if not np.isfinite(value) or not d.low <= value <= d.high:
            raise InputError(
                f"score {value:g} of judge {judge!r} for {entry!r} is outside [{d.low:g}, {d.high:g}]"
            )
        judges, entries = d.judges, d.entries
        if judge not in judges:
            judges = (*judges, judge)
        if entry not in entries:
            entries = (*entries, entry)
        j, e = judges.index(judge), entries.index(entry)
        same = np.flatnonzero((d.judge == j) & (d.entry == e))
        if same.size:
            new_value = d.value.copy()
            new_value[same] = value
            data = replace(d, judges=judges, entries=entries, value=new_value)
        else:
            data = replace(
                d,
                judges=judges,
                entries=entries,
                judge=np.r_[d.judge, j],
                entry=np.r_[d.entry, e],
                value=np.r_[d.value, value],
            )
        return _rank(self.method, data, warm_start=self, **options)  # type: ignore[arg-type]


def offset(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    design: Design | None = None,
    judge_sd: float | None = None,
    heteroscedastic: bool = False,
    censor: bool = True,
    warm_start: CalibrationFit | None = None,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
    max_iter: int = 200,
) -> Ranking:
    """Additive judge leniency, y = m + q_i + b_j + e, fitted over the connected judge–entry graph.

    ``judge_sd`` fixes the prior SD of leniency (the ridge); by default it is estimated. Refuses a
    disconnected design with :class:`InputError`.
    """
    return _rank(
        "offset",
        _Data.from_table(table, rubric),
        design=design,
        judge_sd=judge_sd,
        heteroscedastic=heteroscedastic,
        censor=censor,
        warm_start=warm_start,
        cutoffs=cutoffs,
        max_iter=max_iter,
    )


def affine(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    design: Design | None = None,
    judge_sd: float | None = None,
    scale_sd: float | None = None,
    heteroscedastic: bool = False,
    censor: bool = True,
    warm_start: CalibrationFit | None = None,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
    max_iter: int = 200,
) -> Ranking:
    """Leniency and scale, y = m + s_j·q_i + b_j + e, with s shrunk toward 1 and b toward 0.

    ``scale_sd`` fixes the prior SD of the scales (0 gives ``offset``); by default it is estimated.
    Refuses a disconnected design with :class:`InputError`.
    """
    return _rank(
        "affine",
        _Data.from_table(table, rubric),
        design=design,
        judge_sd=judge_sd,
        scale_sd=scale_sd,
        heteroscedastic=heteroscedastic,
        censor=censor,
        warm_start=warm_start,
        cutoffs=cutoffs,
        max_iter=max_iter,
    )


#: ``auto`` fits the affine model when the median judge has at least this many scores.
AFFINE_MIN_SCORES = 20
#: ... and calibrates at all only when judge effects are significant at this level (F-test).
JUDGE_EFFECT_P = 0.01
#: ... and when the median judge has at least this many scores.
MIN_SCORES_PER_JUDGE = 3


def auto(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    design: Design | None = None,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
) -> Ranking:
    """Pick the method from the design, and do no harm: fall back to the mean when calibration cannot help.

    The mean is kept when the design is disconnected, when the median judge has fewer than
    ``MIN_SCORES_PER_JUDGE`` scores, or when an F-test finds no significant judge leniency
    (two-way additive ANOVA, p > ``JUDGE_EFFECT_P``). Otherwise ``affine`` when the median judge has
    at least ``AFFINE_MIN_SCORES`` scores (enough to estimate a scale), else ``offset``.
    """
    data = _Data.from_table(table, rubric)
    per_judge = float(np.median(np.bincount(data.judge)))
    comps = diagnostics.components(table)
    reason = None
    test: dict[str, float] = {}
    if comps.count > 1:
        reason = comps.describe()
    elif per_judge < MIN_SCORES_PER_JUDGE:
        reason = f"the median judge gave only {per_judge:g} scores, too few to estimate leniency"
    else:
        test = judge_effect_test(data)
        if not test["p"] < JUDGE_EFFECT_P:
            reason = (
                f"judges' leniency does not differ significantly (F = {test['F']:.2f}, "
                f"{_p(test['p'])}): calibration cannot help"
            )
    if reason is not None:
        ranking = _mean(table, rubric)
        ranking.method = "auto:mean"
        ranking.notes.append(f"auto kept the mean: {reason}")
        ranking.diagnostics.update(components=comps.count, judge_effect_test=test)
        _add_mean_noise_columns(ranking, data, cutoffs)
        if comps.count == 1:
            ranking.diagnostics["connectivity"] = diagnostics.algebraic_connectivity(table)
        return ranking
    method = "affine" if per_judge >= AFFINE_MIN_SCORES else "offset"
    ranking = _rank(method, data, design=design, cutoffs=cutoffs, components_count=1)
    ranking.method = f"auto:{method}"
    ranking.notes.insert(
        0,
        f"auto chose {method}: judge leniency is significant (F = {test['F']:.2f}, {_p(test['p'])}) "
        f"and the median judge gave {per_judge:g} scores",
    )
    ranking.diagnostics.update(judge_effect_test=test, connectivity=diagnostics.algebraic_connectivity(table))
    return ranking


def _add_mean_noise_columns(ranking: Ranking, data: _Data, cutoffs: tuple[int, ...]) -> None:
    """``se`` (sample SD of the entry's totals / √n) and ``flag`` for a ranking by the mean."""
    n, _, se = diagnostics.entry_spread(data.value, data.entry, len(data.entries))
    flag, within = diagnostics.entry_flags(ranking.score.astype(float), se, cutoffs)
    ranking.columns.update(se=se, n_judges=n, flag=flag)
    ranking.diagnostics["cutoffs"] = within


def _p(p: float) -> str:
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"


def _mean(table: ScoreTable, rubric: Rubric | None) -> Ranking:
    from judging.engine.rules import mean  # the rule-based mean is the fallback of every guard

    return mean(table, rubric)


def judge_effect_test(data: _Data) -> dict[str, float]:
    """F-test of judge leniency in the additive two-way model (judges after entries, unweighted)."""
    n, n_e, n_j = data.value.size, len(data.entries), len(data.judges)
    entry_mean = np.bincount(data.entry, data.value, n_e) / np.bincount(data.entry, minlength=n_e)
    rss_entries = float(np.sum((data.value - entry_mean[data.entry]) ** 2))
    solver = _Solver(data.judge, data.entry, n_j, n_e)
    centred = data.value - data.value.mean()
    q, b = solver.solve_judges(centred, np.ones(n_j), None, 1e-9, np.zeros(n_j), rtol=1e-10)
    rss_full = float(np.sum((centred - q[data.entry] - b[data.judge]) ** 2))
    df_judges, df_resid = n_j - 1, n - n_e - n_j + 1
    if df_resid <= 0 or rss_full <= 0:
        return {"F": float("nan"), "p": float("nan"), "df_judges": df_judges, "df_resid": df_resid}
    f = ((rss_entries - rss_full) / df_judges) / (rss_full / df_resid)
    return {
        "F": f,
        "p": float(fdtrc(df_judges, df_resid, f)),  # the F distribution's survival function
        "df_judges": df_judges,
        "df_resid": df_resid,
    }


class _Solver:
    """Exact solve of (q, b) given the scales: q eliminated per entry, judges' system by PCG."""

    def __init__(self, judge: np.ndarray, entry: np.ndarray, n_judges: int, n_entries: int) -> None:
        self.judge, self.entry, self.n_j, self.n_e = judge, entry, n_judges, n_entries
        self._by_entry = np.argsort(entry)
        self._by_judge = np.argsort(judge)
        ptr_e = np.r_[0, np.cumsum(np.bincount(entry, minlength=n_entries))]
        self._count_j = np.bincount(judge, minlength=n_judges)
        ptr_j = np.r_[0, np.cumsum(self._count_j)]
        # The two incidence matrices are built once; each solve only refills their values.
        values = np.zeros(entry.size)
        self._cmat = sparse.csr_matrix((values, judge[self._by_entry], ptr_e), shape=(n_entries, n_judges))
        self._cmat_t = sparse.csr_matrix(
            (values.copy(), entry[self._by_judge], ptr_j), shape=(n_judges, n_entries)
        )
        self.cg_iterations = 0

    def solve(
        self,
        r: np.ndarray,
        w: np.ndarray,
        s_obs: np.ndarray,
        prec_b: float,
        b0: np.ndarray,
        rtol: float = 1e-9,
        shrink_q: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Minimise Σ w (r - s·q - b)² + prec_b Σ b² exactly, q free (fixed effects); returns (q, b).

        ``w`` and ``s_obs`` are per score. ``shrink_q`` is a prior precision on q used only once b is
        solved: q given b is shrunk toward 0 but b is fitted as if q were free, so what b cannot tell
        from q (a group of entries seen only by one group of judges) stays in q instead of being taken
        for the judges' leniency.
        """
        c = w * s_obs
        np.take(c, self._by_entry, out=self._cmat.data)
        np.take(c, self._by_judge, out=self._cmat_t.data)
        return self._solve(r, w, c, c * s_obs, prec_b, b0, rtol, shrink_q)

    def solve_judges(
        self,
        r: np.ndarray,
        w_judge: np.ndarray,
        s_judge: np.ndarray | None,
        prec_b: float,
        b0: np.ndarray,
        rtol: float = 1e-9,
        shrink_q: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve` with the judges' weights and scales (``s_judge=None``: all 1), the same floats.

        The matrices' values come straight from the judges' arrays (cmat's in row order, cmat_t's judge
        by judge) instead of gathers over all scores, the fit's costliest steps at 5,000,000 scores.
        """
        c_judge = w_judge if s_judge is None else w_judge * s_judge
        np.take(c_judge, self._cmat.indices, out=self._cmat.data)
        self._cmat_t.data = np.repeat(c_judge, self._count_j)
        c = c_judge[self.judge]
        cs = c if s_judge is None else (c_judge * s_judge)[self.judge]
        return self._solve(r, w_judge[self.judge], c, cs, prec_b, b0, rtol, shrink_q)

    def _solve(
        self,
        r: np.ndarray,
        w: np.ndarray,
        c: np.ndarray,
        cs: np.ndarray,
        prec_b: float,
        b0: np.ndarray,
        rtol: float,
        shrink_q: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The solve once the matrices hold c = w·s; ``cs`` is c·s per score."""
        cmat, cmat_t = self._cmat, self._cmat_t
        a = np.bincount(self.entry, cs, self.n_e)
        d = np.bincount(self.judge, w, self.n_j) + prec_b
        cr = np.bincount(self.entry, c * r, self.n_e)
        rhs = np.bincount(self.judge, w * r, self.n_j) - cmat_t @ (cr / a)
        diag = d - np.bincount(self.judge, c * c / a[self.entry], self.n_j)
        self.diag, self.a, self.w, self.c = diag, a, w, c

        def matvec(x: np.ndarray) -> np.ndarray:
            self.cg_iterations += 1
            return d * x - cmat_t @ ((cmat @ x) / a)

        b = _pcg(matvec, rhs, b0, diag, rtol, 20 * self.n_j + 100)
        if shrink_q:
            self.a = a = a + shrink_q
        q = (cr - cmat @ b) / a
        return q, b


#: OpenBLAS computes ``ddot`` in one thread up to 10,000 elements and in all cores' threads beyond.
_DOT_CHUNK = 10_000


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """u · v by BLAS in chunks short enough for one thread: the waiting threads of a threaded ``ddot``
    cost more CPU than the product, most of the fit's time at 20,000 judges on a busy machine.

    Up to ``_DOT_CHUNK`` elements this is ``np.dot`` itself, bit for bit.
    """
    if u.size <= _DOT_CHUNK:
        return float(np.dot(u, v))
    return float(
        sum(np.dot(u[i : i + _DOT_CHUNK], v[i : i + _DOT_CHUNK]) for i in range(0, u.size, _DOT_CHUNK))
    )


def _pcg(
    matvec: Callable[[np.ndarray], np.ndarray],
    rhs: np.ndarray,
    x0: np.ndarray,
    diag: np.ndarray,
    rtol: float,
    maxiter: int,
) -> np.ndarray:
    """Conjugate gradients with the Jacobi preconditioner ``diag``, step for step scipy's ``cg``.

    Stops when ‖rhs − A·x‖ < rtol·‖rhs‖ or after ``maxiter`` steps.
    """
    norm = np.sqrt(_dot(rhs, rhs))
    if norm == 0:
        return rhs.copy()
    atol = rtol * norm
    x = np.array(x0, dtype=np.float64)
    r = rhs - matvec(x) if x.any() else rhs.copy()
    p, rho_prev = r, 1.0
    for iteration in range(maxiter):
        if np.sqrt(_dot(r, r)) < atol:
            break
        z = r / diag
        rho = _dot(r, z)
        if iteration:
            p *= rho / rho_prev
            p += z
        else:
            p = z
        q = matvec(p)
        alpha = rho / _dot(p, q)
        x += alpha * p
        r -= alpha * q
        rho_prev = rho
    return x


def _censored(
    y: np.ndarray, mu: np.ndarray, var: np.ndarray, low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    """Tobit E-step: expected latent score and its variance for scores at the bounds of the scale."""
    y_eff, extra = y.copy(), np.zeros(y.size)
    sd = np.sqrt(var)
    for at_bound, sign in ((y >= high, 1.0), (y <= low, -1.0)):
        if not at_bound.any():
            continue
        alpha = sign * (y[at_bound] - mu[at_bound]) / sd[at_bound]
        mills = np.exp(-0.5 * alpha**2 - _LOG_SQRT_2PI - log_ndtr(-alpha))
        y_eff[at_bound] = mu[at_bound] + sign * sd[at_bound] * mills
        # E[(y* - μ)²] beyond the bound is σ²(1 + α·λ); the squared residual of y_eff is added back.
        extra[at_bound] = var[at_bound] * (1 + alpha * mills) - (sd[at_bound] * mills) ** 2
    return y_eff, np.maximum(extra, 0.0)


def _fit(
    method: str,
    data: _Data,
    *,
    judge_sd: float | None,
    scale_sd: float | None,
    heteroscedastic: bool,
    censor: bool,
    warm_start: CalibrationFit | None,
    max_iter: int,
    tol: float = 1e-3,
) -> tuple[CalibrationFit, _Solver, dict[str, np.ndarray]]:
    n_j, n_e = len(data.judges), len(data.entries)
    j, e, y = data.judge, data.entry, data.value
    n_scores_j = np.bincount(j, minlength=n_j)
    solver = _Solver(j, e, n_j, n_e)
    var_floor = 1e-12 * (float(np.var(y)) + 1.0)
    affine_model = method == "affine" and scale_sd != 0
    fixed_hyper = warm_start is not None
    if warm_start is None:
        m = float(y.mean())
        entry_mean = np.bincount(e, y, n_e) / np.bincount(e, minlength=n_e)
        within = float(np.mean((y - entry_mean[e]) ** 2)) + var_floor
        q, b, s = entry_mean - m, np.zeros(n_j), np.ones(n_j)
        noise = np.full(n_j, within / 2)
        # Start every variance well above 0: the updates never leave a variance that reached 0.
        tau2, judge_var, scale_var = float(np.var(entry_mean)) + within, within / 2, 0.1
    else:
        w0 = warm_start
        m, tau2 = w0.mean, w0.quality_var
        judge_var, scale_var = w0.judge_var, w0.scale_var
        q = _carry(w0.quality, w0.data.entries, data.entries, 0.0)
        b = _carry(w0.leniency, w0.data.judges, data.judges, 0.0)
        s = _carry(w0.scale, w0.data.judges, data.judges, 1.0)
        noise = _carry(w0.noise_var, w0.data.judges, data.judges, float(np.mean(w0.noise_var)))
    if judge_sd is not None:
        judge_var = max(judge_sd**2, var_floor)
    if scale_sd is not None:
        scale_var = max(scale_sd**2, 1e-12)
    if not affine_model:
        s = np.ones(n_j)

    # Only the scores at the bounds change in the Tobit step; the others stay y with no extra variance.
    at_bound = np.flatnonzero((y >= data.high) | (y <= data.low)) if censor else np.zeros(0, np.int64)
    j_b, e_b, y_b = j[at_bound], e[at_bound], y[at_bound]
    extra = np.zeros(y.size)
    y_eff = y.copy() if at_bound.size else y
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        q_old, hyper_old = q, np.array([tau2, judge_var, scale_var, noise.mean()])
        # Gathers over all scores are most of an iteration's cost: each is made once, and s[j]·q[e] is
        # q[e] itself in the offset model (s = 1), which is the same float.
        s_judge = s if affine_model else None
        if at_bound.size:
            mu = m + (q[e_b] if s_judge is None else s[j_b] * q[e_b]) + b[j_b]
            y_eff[at_bound], extra[at_bound] = _censored(y_b, mu, noise[j_b], data.low, data.high)
        q, b = solver.solve_judges(
            y_eff - m, 1.0 / noise, s_judge, 1.0 / judge_var, b, rtol=1e-10, shrink_q=1.0 / tau2
        )
        w, q_e, b_j = solver.w, q[e], b[j]
        sq_e = q_e if s_judge is None else s[j] * q_e
        m += float(np.sum(w * (y_eff - m - sq_e - b_j)) / np.sum(w))
        v_q, v_b = 1.0 / solver.a, 1.0 / solver.diag
        if affine_model:
            t = y_eff - m - b_j
            sxx = np.bincount(j, w * (q_e**2 + v_q[e]), n_j) + 1.0 / scale_var
            s = np.maximum((np.bincount(j, w * q_e * t, n_j) + 1.0 / scale_var) / sxx, 0.05)
            v_s = 1.0 / sxx
            g = float(np.mean(s))
            s, q, v_q = s / g, q * g, v_q * g * g
        if not fixed_hyper:
            # MacKay's evidence updates: each variance is the sum of squares over the number of
            # well-determined parameters (γ); they converge far faster than plain EM near 0.
            gamma_q = float(np.sum(1 - v_q / tau2))
            gamma_b = float(np.sum(1 - v_b / judge_var))
            gamma_s = float(np.sum(1 - v_s / scale_var)) if affine_model else 0.0
            if affine_model:  # s and q were rescaled
                sq_e = s[j] * q[e]
            resid = y_eff - m - sq_e - b_j
            sq = resid**2 + extra
            dof = max(y.size - gamma_q - gamma_b - gamma_s - 1, 1.0)
            pooled = max(float(sq.sum()) / dof, var_floor)
            if heteroscedastic:
                prior_n = 10.0
                noise = (np.bincount(j, sq, n_j) * y.size / dof + prior_n * pooled) / (n_scores_j + prior_n)
            else:
                noise = np.full(n_j, pooled)
            tau2 = max(float(np.sum(q**2)) / max(gamma_q, 1e-9), var_floor)
            if judge_sd is None:
                judge_var = max(float(np.sum(b**2)) / max(gamma_b, 1e-9), var_floor)
            if affine_model and scale_sd is None:
                scale_var = max(float(np.sum((s - 1) ** 2)) / max(gamma_s, 1e-9), 1e-6)
        hyper = np.array([tau2, judge_var, scale_var, noise.mean()])
        dq = float(np.max(np.abs(q - q_old))) / np.sqrt(tau2)
        # Variances collapsing toward 0 (unbiased judges) count as settled once tiny against the noise.
        dh = float(np.max(np.abs(hyper - hyper_old) / np.maximum(hyper_old, 1e-3 * hyper_old[3])))
        if dq < tol and dh < tol * 10:
            break
    fit = CalibrationFit(
        method, data, m, q, b, s, noise, tau2, judge_var, scale_var if affine_model else 0.0,
        heteroscedastic, censor, iteration,
    )  # fmt: skip
    extras = {"y_eff": y_eff, "v_q": 1.0 / solver.a, "v_b": 1.0 / solver.diag}
    if affine_model:
        extras["v_s"] = v_s
    return fit, solver, extras


def _carry(values: np.ndarray, old: tuple[str, ...], new: tuple[str, ...], default: float) -> np.ndarray:
    """Values of a previous fit re-indexed to new labels (``default`` for labels it did not have)."""
    where = {label: i for i, label in enumerate(old)}
    return np.array([values[where[x]] if x in where else default for x in new], dtype=np.float64)


def _rank(
    method: str,
    data: _Data,
    *,
    design: Design | None = None,
    judge_sd: float | None = None,
    scale_sd: float | None = None,
    heteroscedastic: bool = False,
    censor: bool = True,
    warm_start: CalibrationFit | None = None,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
    max_iter: int = 200,
    components_count: int | None = None,
) -> Ranking:
    table = ScoreTable(
        data.judges, data.entries, ("score",), data.judge, data.entry, np.zeros_like(data.entry), data.value
    )
    if components_count is None:
        comps = diagnostics.components(table)
        if comps.count > 1:
            raise InputError(f"{method} refuses this design: {comps.describe()}; rank it by the mean instead")
    fit, solver, x = _fit(
        method,
        data,
        judge_sd=judge_sd,
        scale_sd=scale_sd,
        heteroscedastic=heteroscedastic,
        censor=censor,
        warm_start=warm_start,
        max_iter=max_iter,
    )
    j, e, n_e = data.judge, data.entry, len(data.entries)
    score = fit.mean + fit.quality
    # Entry variance: its own posterior variance plus what the judges' leniency errors pass on.
    weight = solver.c / solver.a[e]
    se = np.sqrt(x["v_q"] + np.bincount(e, weight**2 * x["v_b"][j], n_e))
    resid = x["y_eff"] - fit.mean - fit.scale[j] * fit.quality[e] - fit.leniency[j]
    disagree = diagnostics.disagreement(resid, e, n_e, fit.noise_var[j])
    flag, within = diagnostics.entry_flags(score, se, cutoffs, disagree)
    n_scores_j = np.bincount(j, minlength=len(data.judges))
    judges = {
        "label": np.array(data.judges, dtype=object),
        "n_scores": n_scores_j,
        "leniency": fit.leniency,
        "leniency_se": np.sqrt(x["v_b"]),
    }
    if method == "affine":
        judges["scale"] = fit.scale
        judges["scale_se"] = np.sqrt(x["v_s"]) if "v_s" in x else np.zeros(len(data.judges))
    diag = {
        "fit": fit,
        "components": 1,
        "iterations": fit.iterations,
        "noise_sd": float(np.sqrt(np.mean(fit.noise_var))),
        "judge_sd": float(np.sqrt(fit.judge_var)),
        "quality_sd": float(np.sqrt(fit.quality_var)),
        "judges": judges,
        "cutoffs": within,
        "censored": int(np.sum((data.value >= data.high) | (data.value <= data.low))),
    }
    if method == "affine":
        diag["scale_sd"] = float(np.sqrt(fit.scale_var))
    if design is not None:
        diag["home_bias"] = diagnostics.home_bias(table, design, resid)
    return Ranking(
        method,
        data.entries,
        score,
        competition_rank(score),
        columns={
            "se": se,
            "n_judges": np.bincount(e, minlength=n_e),
            "flag": flag,
        },
        diagnostics=diag,
    )
