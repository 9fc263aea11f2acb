"""Ordinal aggregation for finals: Borda, Copeland and Bradley–Terry.

Input is a :class:`Ballots`: either each judge's ordered list of entries (best first, a judge may
rank only the entries they saw), or pairwise outcomes "winner beat loser". Ranked lists imply a
pairwise outcome for every pair on the list, so Copeland and Bradley–Terry accept both kinds; Borda
needs ranked lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from judging.engine.model import InputError, Ranking, competition_rank


@dataclass(frozen=True)
class Ballots:
    """``wins[a, b]`` counts how often entry ``a`` was preferred to entry ``b``.

    ``orders`` holds the ranked lists (entry indexes, best first), or is ``None`` for pairwise input.
    """

    entries: tuple[str, ...]
    wins: np.ndarray
    orders: tuple[np.ndarray, ...] | None = None

    @classmethod
    def ranked(cls, lists: Mapping[str, Sequence[str]]) -> Ballots:
        """One ordered list per judge, best first; row numbers in errors count ballots from 1."""
        if not lists:
            raise InputError("there are no ballots")
        index: dict[str, int] = {}
        orders = []
        for row, (judge, ballot) in enumerate(lists.items(), start=1):
            if len(set(ballot)) != len(ballot):
                twice = next(e for e in ballot if list(ballot).count(e) > 1)
                raise InputError(f"judge {judge!r} ranks {twice!r} twice", row=row)
            if not ballot:
                raise InputError(f"judge {judge!r} ranks no entry", row=row)
            orders.append(np.array([index.setdefault(e, len(index)) for e in ballot], dtype=np.int64))
        wins = np.zeros((len(index), len(index)))
        for order in orders:
            better, worse = np.triu_indices(order.size, 1)
            np.add.at(wins, (order[better], order[worse]), 1)
        return cls(tuple(index), wins, tuple(orders))

    @classmethod
    def pairwise(cls, outcomes: Iterable[tuple[str, str]]) -> Ballots:
        """``(winner, loser)`` pairs; row numbers in errors count outcomes from 1."""
        index: dict[str, int] = {}
        pairs = []
        for row, (winner, loser) in enumerate(outcomes, start=1):
            if winner == loser:
                raise InputError(f"{winner!r} is compared with itself", row=row)
            pairs.append((index.setdefault(winner, len(index)), index.setdefault(loser, len(index))))
        if not pairs:
            raise InputError("there are no pairwise outcomes")
        wins = np.zeros((len(index), len(index)))
        np.add.at(wins, tuple(np.array(pairs).T), 1)
        return cls(tuple(index), wins)


def borda(ballots: Ballots, *, normalise: bool = False) -> Ranking:
    """Borda count: on a list of m entries, position p (0 = best) earns m - 1 - p points.

    With ``normalise`` each ballot's points are divided by m - 1 and averaged over the ballots that
    list the entry, so a judge who ranked more entries does not weigh more (HackUTD Jury's complaint).
    """
    if ballots.orders is None:
        raise InputError("Borda needs ranked ballots, not pairwise outcomes")
    n = len(ballots.entries)
    points = np.zeros(n)
    n_ballots = np.zeros(n, dtype=np.int64)
    for order in ballots.orders:
        earned = np.arange(order.size - 1, -1, -1, dtype=np.float64)
        if normalise and order.size > 1:
            earned /= order.size - 1
        points[order] += earned
        n_ballots[order] += 1
    score = points / n_ballots if normalise else points
    return Ranking(
        "borda",
        ballots.entries,
        score,
        competition_rank(score),
        columns={"n_ballots": n_ballots},
        diagnostics={"n_ballots": len(ballots.orders), "normalise": normalise},
    )


def copeland(ballots: Ballots) -> Ranking:
    """Copeland: 1 point per opponent beaten by a majority of comparisons, ½ per even pair."""
    wins, losses = ballots.wins, ballots.wins.T
    met = (wins + losses) > 0
    beat = met & (wins > losses)
    even = met & (wins == losses)
    score = beat.sum(axis=1) + 0.5 * even.sum(axis=1)
    return Ranking(
        "copeland",
        ballots.entries,
        score,
        competition_rank(score),
        columns={
            "pairs_won": beat.sum(axis=1),
            "pairs_lost": (met & (wins < losses)).sum(axis=1),
            "pairs_even": even.sum(axis=1),
        },
        diagnostics={"n_comparisons": int(wins.sum())},
    )


def bradley_terry(
    ballots: Ballots, *, prior: float = 0.5, tol: float = 1e-12, max_iter: int = 100
) -> Ranking:
    """Bradley–Terry log-strengths by Newton's method on the (concave) log-likelihood.

    Each entry also gets ``prior`` wins and ``prior`` losses against a virtual opponent of strength 1
    (log-strength 0), which anchors the scale and keeps an entry that won (or lost) everything
    finite. ``se`` is the log-strength's standard error from the observed information. Strengths
    equal to 9 decimals share a rank, so symmetric results tie despite rounding noise.
    """
    if prior <= 0:
        raise InputError("the Bradley–Terry prior must be positive")
    games = ballots.wins + ballots.wins.T
    won = ballots.wins.sum(axis=1) + prior
    theta = np.zeros(len(ballots.entries))
    iterations, converged = 0, False
    while not converged and iterations < max_iter:
        iterations += 1
        gradient, info = _bt_gradient_information(theta, games, won, prior)
        step = np.linalg.solve(info, gradient)
        largest = np.max(np.abs(step))
        if largest > 1:  # damp long steps; near the optimum Newton converges quadratically
            step /= largest
        theta += step
        converged = largest < tol
    _, info = _bt_gradient_information(theta, games, won, prior)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    notes = [] if converged else [f"Bradley–Terry did not converge in {max_iter} iterations"]
    return Ranking(
        "bradley_terry",
        ballots.entries,
        theta,
        competition_rank(np.round(theta, 9)),
        columns={"se": se, "n_comparisons": games.sum(axis=1).astype(np.int64)},
        diagnostics={"iterations": iterations, "converged": bool(converged), "prior": prior},
        notes=notes,
    )


def _bt_gradient_information(
    theta: np.ndarray, games: np.ndarray, won: np.ndarray, prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and observed information (negative Hessian) of the log-likelihood in ``theta``."""
    p_beats = expit(theta[:, None] - theta[None, :])
    p_virtual = expit(theta)
    gradient = won - (games * p_beats).sum(axis=1) - 2 * prior * p_virtual
    info = -games * p_beats * p_beats.T
    info[np.diag_indices_from(info)] = -info.sum(axis=1) + 2 * prior * p_virtual * (1 - p_virtual)
    return gradient, info
