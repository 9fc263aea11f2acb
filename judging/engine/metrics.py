"""How close an estimated ranking comes to the known truth of a synthetic contest.

Every function takes ``estimate`` (higher is better; NaN = unranked, placed last) and ``truth``
per entry. Ties in the estimate are broken by entry order, so results are deterministic.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

PRIZE_TIERS = (8, 12, 20)
ADVANCE = 400


def order(score: np.ndarray) -> np.ndarray:
    """Entry indexes from best to worst (NaN last, ties by index)."""
    s = np.where(np.isnan(score), -np.inf, np.asarray(score, dtype=np.float64))
    return np.argsort(-s, kind="stable")


def spearman(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(stats.spearmanr(_filled(estimate), truth).statistic)


def kendall(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(stats.kendalltau(_filled(estimate), truth).statistic)


def precision_at(k: int, estimate: np.ndarray, truth: np.ndarray) -> float:
    """Share of the estimated top ``k`` that is in the true top ``k``."""
    return recall_within(k, k, estimate, truth)


def recall_within(true_k: int, estimated_k: int, estimate: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true top ``true_k`` found inside the estimated top ``estimated_k``."""
    top_true = order(truth)[:true_k]
    return float(np.isin(top_true, order(estimate)[:estimated_k]).mean())


def tier_exact(estimate: np.ndarray, truth: np.ndarray, tiers: tuple[int, ...] = PRIZE_TIERS) -> float:
    """Share of the truly prize-winning entries given exactly their true prize tier."""
    true_tier, est_tier = _tiers(truth, tiers), _tiers(estimate, tiers)
    winners = true_tier > 0
    return float(np.mean(est_tier[winners] == true_tier[winners]))


def evaluate(
    estimate: np.ndarray,
    truth: np.ndarray,
    tiers: tuple[int, ...] = PRIZE_TIERS,
    advance: int = ADVANCE,
) -> dict[str, float]:
    """All benchmark metrics: spearman, kendall, p@8/20/40 (cumulative tiers), rec40@400, tier_exact."""
    winners = int(sum(tiers))
    result = {"spearman": spearman(estimate, truth), "kendall": kendall(estimate, truth)}
    for k in np.cumsum(tiers):
        result[f"p@{k}"] = precision_at(int(k), estimate, truth)
    result[f"rec{winners}@{advance}"] = recall_within(winners, advance, estimate, truth)
    result["tier_exact"] = tier_exact(estimate, truth, tiers)
    return result


def _tiers(score: np.ndarray, tiers: tuple[int, ...]) -> np.ndarray:
    """Tier per entry by position: 1 for the first ``tiers[0]``, 2 for the next ... 0 for the rest."""
    tier = np.zeros(len(score), dtype=np.int64)
    placed = order(score)[: sum(tiers)]
    tier[placed] = np.repeat(np.arange(1, len(tiers) + 1), tiers)[: placed.size]
    return tier


def _filled(estimate: np.ndarray) -> np.ndarray:
    e = np.asarray(estimate, dtype=np.float64)
    return np.where(np.isnan(e), np.nanmin(e) - 1.0, e) if np.isnan(e).any() else e
