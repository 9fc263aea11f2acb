"""Judging engine benchmark (issue 3): accuracy on the synthetic contest, adaptive second stage, speed.

Run: ``.venv/bin/python -m bench.judging [--seeds 10] [--scenarios random tracks ...] [--quick]
[--national]``. Progress goes to stderr, a Markdown report to stdout. Figures are medians over the
seeds; ratios are against the raw mean measured in the same run.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from statistics import median

import numpy as np

from judging.engine import adaptive, diagnostics, metrics, synthetic
from judging.engine.assignment import assign
from judging.engine.model import InputError, Ranking
from judging.engine.ranking import rank

METHODS = ("mean", "zscore", "percentile", "offset", "affine", "auto")
CALIBRATED = ("offset", "affine", "auto")
METRICS = ("spearman", "kendall", "p@8", "p@20", "p@40", "rec40@400", "tier_exact")
SCENARIOS = ("random", "tracks", "unbiased", "elite", "disjoint", "two-stage")
EXTRA_BUDGET = 10_000  # second-stage judgements: the top 400 x 25 of the issue


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def available_methods() -> list[str]:
    """Methods that run on a tiny contest; the others are skipped with a printed note."""
    tiny = synthetic.generate("random", n_entries=60, n_judges=12, per_entry=5, n_institutions=20, seed=0)
    found = []
    for method in METHODS:
        try:
            rank(tiny.table, method, design=tiny.design)
            found.append(method)
        except (InputError, ImportError, AttributeError) as error:
            log(f"note: method {method} is skipped: {error}")
    return found


def timed(function: Callable[[], Ranking]) -> tuple[Ranking, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


# ---------------------------------------------------------------- accuracy
def accuracy(scenario: str, seeds: list[int], methods: list[str]) -> dict[str, dict[str, float]]:
    """Median metrics and time per method over the seeds."""
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for seed in seeds:
        contest = synthetic.generate(scenario, seed=seed)
        for method in methods:
            ranking, seconds = timed(lambda m=method, c=contest: rank(c.table, m, design=c.design))
            runs[method].append({**metrics.evaluate(ranking.score, contest.quality), "time": seconds})
        log(f"  {scenario} seed {seed} done")
    return {m: {k: median(r[k] for r in rows) for k in rows[0]} for m, rows in runs.items()}


def disjoint_behaviour(methods: list[str]) -> list[tuple[str, str]]:
    """What each calibrated method does on disjoint panels: refuse, or fall back, and why."""
    contest = synthetic.generate("disjoint", seed=0)
    found = diagnostics.components(contest.table).count
    rows = [("design", f"{found} components detected")]
    for method in (m for m in methods if m in CALIBRATED):
        try:
            ranking = rank(contest.table, method, design=contest.design)
            rows.append((method, f"ranked as {ranking.method}: {' '.join(ranking.notes)[:200]}"))
        except InputError as error:
            rows.append((method, f"refused: {error}"))
    return rows


def two_stage(seeds: list[int], methods: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """K=4 for everyone, then 10,000 more judgements chosen by each design; every method ranks the result."""
    designs: dict[str, Callable] = {
        "top 400 x 25": lambda r, n, b: adaptive.top_block(r.score, 400, 25),
        "misplacement allocation": lambda r, n, b: adaptive.allocate(r.score, r.columns["se"], n, b),
    }
    waves = {"top 400 x 25": 1, "misplacement allocation": 1, "misplacement allocation, 3 waves": 3}
    designs["misplacement allocation, 3 waves"] = designs["misplacement allocation"]
    runs: dict[str, dict[str, list]] = {d: {m: [] for m in methods} for d in designs}
    for seed in seeds:
        first = synthetic.generate("random", per_entry=4, seed=seed)
        for design, choose in designs.items():
            rng = np.random.default_rng(10_000 + seed)
            contest = first
            for wave in range(waves[design]):
                guide = rank(contest.table, "auto", design=contest.design)
                judged = np.bincount(contest.table.entry, minlength=len(contest.table.entries))
                budget = EXTRA_BUDGET // waves[design] + (EXTRA_BUDGET % waves[design] if wave == 0 else 0)
                extra = choose(guide, judged, budget)
                pairs = adaptive.assign_extra(
                    extra,
                    contest.entry_institution,
                    contest.judge_institution,
                    (contest.table.judge, contest.table.entry),
                    seed=rng,
                )
                contest = synthetic.with_more_scores(contest, pairs.judge, pairs.entry, rng)
            assert contest.table.n_scores == 50_000
            for method in methods:
                ranking = rank(contest.table, method, design=contest.design)
                runs[design][method].append(metrics.evaluate(ranking.score, contest.quality))
        log(f"  two-stage seed {seed} done")
    return {
        d: {m: {k: median(r[k] for r in rows) for k in rows[0]} for m, rows in per.items()}
        for d, per in runs.items()
    }


# ---------------------------------------------------------------- targets
def target_rows(results: dict[str, dict[str, dict[str, float]]]) -> list[tuple[str, str, str, bool]]:
    """(scenario, target, measured, met) for the issue's targets, judged on ``auto``."""
    rows = []

    def get(scenario: str, method: str, key: str) -> float | None:
        return results.get(scenario, {}).get(method, {}).get(key)

    auto_r, auto_k = get("random", "auto", "spearman"), get("random", "auto", "kendall")
    if auto_r is not None:
        rows.append(("random", "auto Spearman ≥ 0.953", f"{auto_r:.4f}", auto_r >= 0.953))
        rows.append(("random", "auto Kendall ≥ 0.812", f"{auto_k:.4f}", auto_k >= 0.812))
        rec = get("random", "auto", "rec40@400")
        rows.append(("random", "auto rec40@400 ≥ 0.985 (notes)", f"{rec:.3f}", rec >= 0.985))
    auto_t, raw_t = get("tracks", "auto", "spearman"), get("tracks", "mean", "spearman")
    if auto_t is not None:
        rows.append(("tracks", "auto Spearman ≥ 0.947", f"{auto_t:.4f}", auto_t >= 0.947))
        rows.append(("tracks", "auto ≥ raw mean", f"{auto_t:.4f} vs {raw_t:.4f}", auto_t >= raw_t))
    auto_u, raw_u = get("unbiased", "auto", "spearman"), get("unbiased", "mean", "spearman")
    if auto_u is not None:
        rows.append(
            (
                "unbiased",
                "|auto − raw| ≤ 0.002 Spearman",
                f"{auto_u - raw_u:+.4f}",
                abs(auto_u - raw_u) <= 0.002,
            )
        )
    auto_e, raw_e = get("elite", "auto", "spearman"), get("elite", "mean", "spearman")
    if auto_e is not None:
        p_auto, p_raw = get("elite", "auto", "p@40"), get("elite", "mean", "p@40")
        rows.append(
            ("elite", "auto ≥ raw − 0.002 Spearman", f"{auto_e - raw_e:+.4f}", auto_e >= raw_e - 0.002)
        )
        rows.append(("elite", "auto p@40 ≥ raw − 0.02", f"{p_auto - p_raw:+.3f}", p_auto >= p_raw - 0.02))
    for design in ("misplacement allocation", "top 400 x 25"):
        p40, tier = (
            get(f"two-stage/{design}", "auto", "p@40"),
            get(f"two-stage/{design}", "auto", "tier_exact"),
        )
        if p40 is not None:
            rows.append(("two-stage", f"{design}, auto: p@40 ≥ 0.80", f"{p40:.3f}", p40 >= 0.80))
            rows.append(("two-stage", f"{design}, auto: tier_exact ≥ 0.45", f"{tier:.3f}", tier >= 0.45))
    return rows


# ---------------------------------------------------------------- speed
def speed(methods: list[str], quick: bool) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    sizes = [("50,000 scores (10k entries, 500 judges)", 10_000, 500)]
    if not quick:
        sizes.append(("500,000 scores (100k entries, 5k judges)", 100_000, 5_000))
    for label, n_entries, n_judges in sizes:
        contest = synthetic.generate(
            "random", n_entries=n_entries, n_judges=n_judges, n_institutions=700, seed=1
        )
        base = None
        for method in methods:
            _, seconds = timed(lambda m=method, c=contest: rank(c.table, m, design=c.design))
            base = seconds if method == "mean" else base
            ratio = f" ({seconds / base:.1f}× mean)" if base else ""
            rows.append((f"{method}, {label}", f"{seconds:.3f} s{ratio}"))
            log(f"  {method} at {label}: {seconds:.3f} s")
    rows += live_rerank()
    for label, n_entries, n_judges, k in [
        ("10k × 500 × K=5", 10_000, 500, 5),
        ("1M × 20k × K=3", 1_000_000, 20_000, 3),
    ]:
        if quick and n_entries > 10_000:
            continue
        rng = np.random.default_rng(2)
        entry_inst, judge_inst = rng.integers(0, 5_000, n_entries), rng.integers(0, 5_000, n_judges)
        start = time.perf_counter()
        result = assign(entry_inst, judge_inst, k, seed=3, connectivity=False)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        with_l2 = assign(entry_inst, judge_inst, k, seed=3)
        seconds_l2 = time.perf_counter() - start
        r = with_l2.report
        rows.append(
            (
                f"assignment {label}",
                f"{seconds:.2f} s ({seconds_l2:.2f} s with λ₂); loads {r.load_min}-{r.load_max}, "
                f"conflicts {r.conflicts}, components {r.components}, λ₂ {r.algebraic_connectivity:.3f}",
            )
        )
        assert result.report.conflicts == 0
        log(f"  assignment {label}: {seconds:.2f} s")
    tracks = synthetic.generate("tracks", seed=1)
    t_entries, t_judges = tracks.entry_track, tracks.judge_track
    start = time.perf_counter()
    result = assign(
        tracks.entry_institution,
        tracks.judge_institution,
        5,
        entry_track=t_entries,
        judge_track=t_judges,
        seed=4,
    )
    seconds = time.perf_counter() - start
    r = result.report
    rows.append(
        (
            "assignment 10k × 500 × K=5, 10 tracks",
            f"{seconds:.2f} s; loads {r.load_min}-{r.load_max}, conflicts {r.conflicts}, components "
            f"{r.components}, λ₂ {r.algebraic_connectivity:.3f}, cross-track {r.cross_track_share:.1%}, "
            f"pair probability ≤ {r.pair_probability_bound:.3f}",
        )
    )
    return rows


def live_rerank() -> list[tuple[str, str]]:
    """Re-rank after one new score: a live final (40 entries × 9 judges) and the online round."""
    rows = []
    final = synthetic.generate("elite", n_entries=40, n_judges=9, per_entry=9, n_institutions=10**6, seed=5)
    for method in ("trimmed", "affine"):
        _, seconds = timed(lambda m=method: rank(final.table, m))
        rows.append(
            (f"live final re-rank, {method}, full recompute (360 scores)", f"{seconds * 1000:.1f} ms")
        )
    online = synthetic.generate("random", seed=6)
    fit = rank(online.table, "affine").diagnostics.get("fit")
    if fit is not None:
        judge = online.table.judges[0]
        free = sorted(
            set(range(len(online.table.entries))) - set(online.table.entry[online.table.judge == 0].tolist())
        )
        entry = online.table.entries[free[0]]
        _, seconds = timed(lambda: fit.set_score(judge, entry, 77.0))
        rows.append(
            ("re-rank after one new score, affine warm start (50,000 scores)", f"{seconds * 1000:.1f} ms")
        )
    return rows


def national() -> tuple[str, str]:
    """offset on 5,000,000 scores over 1,000,000 entries, in a child process for a clean peak RSS."""
    code = (
        "import time, resource\n"
        "from judging.engine import synthetic\n"
        "from judging.engine.ranking import rank\n"
        "c = synthetic.generate('random', n_entries=1_000_000, n_judges=20_000, n_institutions=5_000, seed=7)\n"
        "rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter(); rank(c.table, 'offset'); t = time.perf_counter() - t\n"
        "print(t, rss0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, rss_data, rss_peak = (float(x) for x in done.stdout.split())
    return (
        "offset, 5,000,000 scores over 1,000,000 entries (20k judges)",
        f"{seconds:.1f} s; peak RSS {rss_peak / 1e6:.2f} GB (of which {rss_data / 1e6:.2f} GB before ranking: "
        "generated data)",
    )


# ---------------------------------------------------------------- report
def table(results: dict[str, dict[str, float]], keys: tuple[str, ...]) -> list[str]:
    lines = ["| method | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for method, row in results.items():
        cells = [f"{row[k]:.3f}" if k != "time" else f"{row[k]:.3f} s" for k in keys]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.judging", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per scenario (default 10)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="3 seeds and only the small timings")
    parser.add_argument("--national", action="store_true", help="also time offset at 5M scores (slow)")
    args = parser.parse_args(argv)
    seeds = list(range(3 if args.quick else args.seeds))
    methods = available_methods()
    results: dict[str, dict[str, dict[str, float]]] = {}
    out: list[str] = [
        f"Seeds: {seeds[0]}–{seeds[-1]} ({len(seeds)}); medians over seeds. Methods: {', '.join(methods)}."
    ]
    for scenario in args.scenarios:
        log(f"scenario {scenario}")
        if scenario == "disjoint":
            out += ["", "### disjoint panels", "", "| method | behaviour |", "|---|---|"]
            out += [f"| {m} | {text} |" for m, text in disjoint_behaviour(methods)]
            continue
        if scenario == "two-stage":
            for design, per_method in two_stage(seeds, methods).items():
                results[f"two-stage/{design}"] = per_method
                out += ["", f"### two stages: K=4 for all, then {design} (50,000 scores)", ""]
                out += table(per_method, METRICS)
            continue
        results[scenario] = accuracy(scenario, seeds, methods)
        out += ["", f"### {scenario}", "", *table(results[scenario], (*METRICS, "time"))]
        raw = results[scenario].get("mean", {}).get("spearman")
        if raw:
            ratios = ", ".join(f"{m} {row['spearman'] / raw:.3f}" for m, row in results[scenario].items())
            out.append(f"\nSpearman relative to the raw mean: {ratios}")
    targets = target_rows(results)
    if targets:
        out += ["", "### targets", "", "| scenario | target | measured | |", "|---|---|---|---|"]
        out += [f"| {s} | {t} | {v} | {'met' if ok else 'missed'} |" for s, t, v, ok in targets]
    log("timings")
    speed_rows = speed(methods, args.quick)
    if args.national:
        log("national scale (slow)")
        speed_rows.append(national())
    out += ["", "### speed", "", "| what | measured |", "|---|---|"] + [
        f"| {w} | {m} |" for w, m in speed_rows
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    out.append(f"\nPeak RSS of the benchmark process: {peak:.2f} GB.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
