"""A ranking explained for the organizer: as plain data (:func:`explanation`) and as text (:func:`render`).

:func:`explanation` turns a :class:`Ranking` and its score table into dicts, lists, strings and numbers
only (JSON-ready, for the judging service's pages): which method ranked the entries and why, each
judge's leniency and scale with their standard errors (most extreme first), the entries to re-review,
the prize cut-offs that fall within the noise, and what the organizer should do. :func:`render` prints
the same thing as labelled sections of prose and tables for a terminal.

Intervals are ``estimate ± 1.96 se`` (95 %). A judge's leniency is in score points added to every
score the judge gives; scale multiplies the spread of the entries' quality (1 = the average judge).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judging.engine.diagnostics import Z95
from judging.engine.model import Ranking, ScoreTable

SECTIONS = (
    "Summary",
    "Why this method",
    "Judges",
    "Entries to re-review",
    "Cut-offs within the noise",
    "What to do",
)

_AUTO_NOTES = ("auto chose ", "auto kept the mean: ")


def explanation(ranking: Ranking, table: ScoreTable) -> dict[str, Any]:
    """The ranking's explanation as plain data; every key is always present.

    Keys: ``method`` (as asked, e.g. ``auto:affine``), ``chosen_method`` and ``reason`` (one
    sentence), ``input``, ``n_ranked``, ``notes``, ``design`` (connectivity, noise and judge SDs when
    estimated), ``judges`` (most extreme first; empty when not estimated), ``rereview`` and
    ``cutoffs`` (None when the method does not assess them), ``home_bias`` (None without a design)
    and ``actions`` (sentences for the organizer, most urgent first).
    """
    d = ranking.diagnostics
    method, reason = _choice(ranking)
    judges = _judges(d.get("judges"))
    rereview = _rereview(ranking)
    cutoffs = _cutoffs(ranking)
    design = {
        key: _plain(d[key])
        for key in (
            "components",
            "connectivity",
            "noise_sd",
            "judge_sd",
            "scale_sd",
            "quality_sd",
            "censored",
        )
        if key in d
    }
    result = {
        "method": ranking.method,
        "chosen_method": method,
        "reason": reason,
        "input": {
            "n_scores": table.n_scores,
            "n_judges": len(table.judges),
            "n_entries": len(table.entries),
            "criteria": list(table.criteria),
        },
        "n_ranked": int(np.sum(ranking.rank > 0)),
        "notes": [n for n in ranking.notes if not n.startswith(_AUTO_NOTES)],
        "design": design,
        "judges": judges,
        "rereview": rereview,
        "cutoffs": cutoffs,
        "home_bias": _plain(d["home_bias"]) if "home_bias" in d else None,
    }
    result["actions"] = _actions(result, ranking)
    return result


def _choice(ranking: Ranking) -> tuple[str, str]:
    """The method that produced the scores and one sentence on why."""
    if not ranking.method.startswith("auto:"):
        return ranking.method, f"the {ranking.method} method was asked for, so no choice was made"
    chosen = ranking.method.split(":", 1)[1]
    note = next((n for n in ranking.notes if n.startswith(_AUTO_NOTES)), "")
    why = note.split(": ", 1)[1] if ": " in note else "no reason was recorded"
    if chosen == "mean":
        return chosen, f"auto ranked by the plain mean of the scores because {why}"
    what = "each judge's leniency and scale" if chosen == "affine" else "each judge's leniency"
    return chosen, f"auto chose {chosen}, correcting {what}, because {why}"


def _judges(judges: dict[str, np.ndarray] | None) -> list[dict[str, Any]]:
    """One dict per judge, most extreme first (largest departure from the average judge, in se)."""
    if judges is None:
        return []
    leniency, lse = judges["leniency"], judges["leniency_se"]
    z = np.abs(leniency) / np.where(lse > 0, lse, np.inf)
    if "scale" in judges:
        sse = judges["scale_se"]
        z = np.maximum(z, np.abs(judges["scale"] - 1) / np.where(sse > 0, sse, np.inf))
    out = []
    for i in np.argsort(-z, kind="stable").tolist():
        row = {
            "judge": str(judges["label"][i]),
            "n_scores": int(judges["n_scores"][i]),
            "leniency": float(leniency[i]),
            "leniency_se": float(lse[i]),
        }
        if "scale" in judges:
            row.update(scale=float(judges["scale"][i]), scale_se=float(judges["scale_se"][i]))
        row["significant"] = bool(z[i] > Z95)
        out.append(row)
    return out


def _entry(ranking: Ranking, i: int) -> dict[str, Any]:
    se = ranking.columns.get("se")
    return {
        "entry": ranking.entries[i],
        "rank": int(ranking.rank[i]),
        "score": _plain(ranking.score[i]),
        "se": _plain(se[i]) if se is not None else None,
    }


def _rereview(ranking: Ranking) -> list[dict[str, Any]] | None:
    """Entries whose judges disagree; None unless a calibrated fit (offset, affine) assessed it."""
    flag = ranking.columns.get("flag")
    if flag is None or "judges" not in ranking.diagnostics:
        return None
    idx = [i for i, f in enumerate(flag.tolist()) if "disagree" in f]
    idx.sort(key=lambda i: ranking.rank[i])
    reason = "the judges disagree far more than the noise of one score explains (p < 0.001)"
    return [{**_entry(ranking, i), "reason": reason} for i in idx]


def _cutoffs(ranking: Ranking) -> list[dict[str, Any]] | None:
    """Each prize cut-off and the entries within the noise of it; None when the method has no se."""
    if "cutoffs" not in ranking.diagnostics:
        return None
    out = []
    for k, inside in ranking.diagnostics.get("cutoffs", {}).items():
        idx = sorted(inside.tolist(), key=lambda i: ranking.rank[i])
        out.append({"top": int(k), "within_noise": bool(idx), "entries": [_entry(ranking, i) for i in idx]})
    return out


def _actions(e: dict[str, Any], ranking: Ranking) -> list[str]:
    """What the organizer should do, most urgent first."""
    actions = []
    if e["design"].get("components", 1) > 1:
        actions.append(
            "Have a few judges score entries of more than one group of judges, or rank each group "
            "separately: judges who never scored a common entry cannot be compared."
        )
    if e["chosen_method"] == "mean" and "too few to estimate" in e["reason"]:
        actions.append("Give each judge more entries to score, so that their leniency can be estimated.")
    if e["rereview"]:
        actions.append(
            f"Have the {len(e['rereview'])} entries listed under 'Entries to re-review' scored again by "
            "another judge, or check their scores for typing errors, before publishing."
        )
    noisy = [cut for cut in e["cutoffs"] or [] if cut["within_noise"]]
    if noisy:
        tops = ", ".join(f"top {cut['top']} ({len(cut['entries'])} entries)" for cut in noisy)
        actions.append(
            f"Prize cut-offs within the noise: {tops}. Add a judge to the entries listed under "
            "'Cut-offs within the noise' (more scores shrink the uncertainty) or decide them in a final "
            "round; do not present their order as certain."
        )
    strong = [j["judge"] for j in e["judges"] if j["significant"]]
    if strong:
        actions.append(
            f"{len(strong)} judges depart significantly from the average judge (first: "
            f"{', '.join(strong[:3])}); the ranking already corrects for it. Show judges their figures "
            "before the next round."
        )
    bias = e["home_bias"]
    if bias and bias.get("p", 1.0) < 0.01:
        actions.append("Judges favour entries of their own institution: check the conflict rules.")
    if e["cutoffs"] is None:
        actions.append(
            "This method estimates no uncertainty; rank with --method auto to see judges' leniency "
            "and which places are within the noise."
        )
    if not actions:
        actions.append(
            "Nothing needs doing: no entry needs re-review and every cut-off is clear of the noise."
        )
    return actions


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists; NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def render(e: dict[str, Any], top: int = 10) -> str:
    """The explanation as labelled sections for a terminal; at most ``top`` rows per list."""
    n = e["input"]
    criteria = len(n["criteria"])
    method = e["method"] if e["method"] == e["chosen_method"] else f"auto, which chose {e['chosen_method']}"
    summary = [
        f"Method: {method}. {e['n_ranked']} of {n['n_entries']} entries ranked from {n['n_scores']} scores "
        f"by {n['n_judges']} judges on {criteria} {'criterion' if criteria == 1 else 'criteria'}.",
        *(f"Note: {note}." for note in e["notes"]),
    ]
    summary += _design_lines(e["design"])
    if e["home_bias"]:
        summary.append(f"Home-institution bias: {e['home_bias']['verdict']}.")
    sections = {
        "Summary": summary,
        "Why this method": [_sentence(e["reason"])],
        "Judges": _judge_lines(e["judges"], top),
        "Entries to re-review": _rereview_lines(e["rereview"], top),
        "Cut-offs within the noise": _cutoff_lines(e["cutoffs"], top),
        "What to do": [f"- {a}" for a in e["actions"]],
    }
    out = []
    for title in SECTIONS:
        out += [title, "-" * len(title), *sections[title], ""]
    return "\n".join(out)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _design_lines(design: dict[str, Any]) -> list[str]:
    lines = []
    if design.get("components", 1) > 1:
        lines.append(
            f"Design: {design['components']} separate groups; no judge scored entries of two groups."
        )
    if "connectivity" in design:
        c = design["connectivity"]
        how = "well linked" if c >= 0.5 else "thinly linked: judge effects rest on few shared entries"
        lines.append(f"Design: algebraic connectivity {c:.3f} (1 is ideal, 0 is disconnected), {how}.")
    parts = [
        f"{label} {design[key]:.2f} points"
        for key, label in (("noise_sd", "noise SD of one score"), ("judge_sd", "SD of judges' leniency"))
        if key in design
    ]
    if "scale_sd" in design:
        parts.append(f"SD of judges' scale {design['scale_sd']:.3f}")
    if parts:
        lines.append("Estimated: " + ", ".join(parts) + ".")
    if design.get("censored"):
        lines.append(f"{design['censored']} scores sit at an end of the scale and were treated as censored.")
    return lines


def _judge_lines(judges: list[dict[str, Any]], top: int) -> list[str]:
    if not judges:
        return ["Not estimated by this method: it takes every judge's scores as given."]
    has_scale = "scale" in judges[0]
    lines = [
        "Most extreme first (largest departure from the average judge, in standard errors). Leniency: points the judge adds to every score (0 = average judge); "
        + ("scale: how widely the judge spreads entries (1 = average). " if has_scale else "")
        + "± is a 95% interval; * marks a judge significantly different from the average.",
        f"{'judge':<14}{'scores':>7}  {'leniency':>16}" + (f"  {'scale':>16}" if has_scale else ""),
    ]
    for j in judges[:top]:
        row = f"{j['judge']:<14}{j['n_scores']:>7}  {j['leniency']:+8.2f} ± {Z95 * j['leniency_se']:5.2f}"
        if has_scale:
            row += f"  {j['scale']:8.3f} ± {Z95 * j['scale_se']:5.3f}"
        lines.append(row + (" *" if j["significant"] else ""))
    if len(judges) > top:
        rest = sum(j["significant"] for j in judges[top:])
        lines.append(f"... and {len(judges) - top} more judges ({rest} of them significant).")
    return lines


def _entry_lines(entries: list[dict[str, Any]], top: int, why: str | None = None) -> list[str]:
    lines = []
    for x in entries[:top]:
        se = f" ± {Z95 * x['se']:.2f}" if x.get("se") is not None else ""
        score = f"{x['score']:.2f}" if isinstance(x["score"], float) else str(x["score"])
        lines.append(f"{x['entry']} (rank {x['rank']}, score {score}{se})" + (f": {x[why]}" if why else ""))
    if len(entries) > top:
        lines.append(f"... and {len(entries) - top} more.")
    return lines


def _rereview_lines(entries: list[dict[str, Any]] | None, top: int) -> list[str]:
    if entries is None:
        return ["Not assessed: only the offset and affine models estimate the noise of one score."]
    if not entries:
        return ["None: no entry's judges disagree more than the noise explains."]
    reasons = {x["reason"] for x in entries}
    if len(reasons) > 1:
        return _entry_lines(entries, top, "reason")
    return [
        f"{len(entries)} entries, because {reasons.pop()}:",
        *("  " + line for line in _entry_lines(entries, top)),
    ]


def _cutoff_lines(cutoffs: list[dict[str, Any]] | None, top: int) -> list[str]:
    if cutoffs is None:
        return ["Not assessed: this method estimates no standard errors."]
    lines = []
    for cut in cutoffs:
        if not cut["within_noise"]:
            lines.append(f"Top {cut['top']}: clear of the noise.")
            continue
        lines.append(
            f"Top {cut['top']}: {len(cut['entries'])} entries' 95% intervals straddle it; "
            "their order around the cut-off is largely luck:"
        )
        lines += ["  " + line for line in _entry_lines(cut["entries"], top)]
    return lines
