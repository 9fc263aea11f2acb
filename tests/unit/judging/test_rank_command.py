"""``podium rank``: golden output, every bad-input case, and the real console entry."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from judging.commands import rank
from judging.engine import explain, ranking, synthetic
from judging.engine.model import ScoreTable

SCORES = """judge,entry,criterion,score,comment
j1,E1,innovation,8,
j2,E1,innovation,9,
j3,E1,innovation,7,
j4,E1,innovation,10,
j1,E1,market,6,
j2,E1,market,7,
j3,E1,market,7,
j4,E1,market,5,
j1,E2,innovation,9,
j2,E2,innovation,9,
j3,E2,innovation,9,
j4,E2,innovation,9,
j1,E2,market,5,
j2,E2,market,4,
j3,E2,market,6,
j4,E2,market,5,
j1,E3,innovation,7.5,late
j2,E3,innovation,8,
j3,E3,innovation,8.25,
j4,E3,innovation,9,
j1,E3,market,8,
j2,E3,market,7,
j3,E3,market,9,
j4,E3,market,6,
"""
RUBRIC = "criterion,weight,min,max\ninnovation,0.6,0,10\nmarket,0.4,0,10\n"

# Trimmed (drop 1 high, 1 low: mean of the middle two), each panel score and the total rounded to 2:
#   E1 innovation 8, 9 -> 8.5;   market 6, 7 -> 6.5;  0.6 * 8.5 + 0.4 * 6.5 = 7.70
#   E2 innovation 9, 9 -> 9;     market 5, 5 -> 5;    0.6 * 9 + 0.4 * 5 = 7.40
#   E3 innovation 8, 8.25 -> 8.125 -> 8.13 (half up); market 7, 8 -> 7.5;
#      0.6 * 8.13 + 0.4 * 7.5 = 7.878 -> 7.88
GOLDEN = """rank,entry,score,n_judges,panel:innovation,panel:market
1,E3,7.88,4,8.13,7.5
2,E1,7.70,4,8.5,6.5
3,E2,7.40,4,9,5
"""


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def podium(capsys):
    """Run ``podium rank ...`` through a parser built with ``register``; returns (code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="podium")
    rank.register(parser.add_subparsers())

    def run(*argv: str) -> tuple[int, str, str]:
        args = parser.parse_args(["rank", *argv])
        code = args.handler(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_golden_trimmed_weighted_rounded(podium, files):
    code, out, err = podium(
        files("s.csv", SCORES), "--rubric", files("r.csv", RUBRIC), "--method", "trimmed", "--round", "2"
    )
    assert (code, out, err) == (0, GOLDEN, "")


def test_out_file_and_explain(podium, files, tmp_path):
    target = tmp_path / "ranking.csv"
    argv = [files("s.csv", SCORES), "--rubric", files("r.csv", RUBRIC), "--method", "trimmed", "--round", "2"]
    code, out, err = podium(*argv, "--out", str(target), "--explain")
    assert code == 0
    assert target.read_text(encoding="utf-8") == GOLDEN
    assert err == ""
    assert out.startswith(
        "Summary\n-------\nMethod: trimmed. 3 of 3 entries ranked from 24 scores by 4 judges on 2 criteria.\n"
    )
    assert "Note: dropped the 1 highest and 1 lowest marks per entry and criterion." in out
    assert "Why this method\n---------------\nThe trimmed method was asked for, so no choice was made." in out
    assert "Cut-offs within the noise\n-------------------------\nNot assessed" in out
    # with the CSV on stdout the explanation goes to stderr
    code, out, err = podium(*argv, "--explain")
    assert out == GOLDEN
    assert err.startswith("Summary\n")


def write_contest(path: Path, scenario: str, **sizes: int) -> ScoreTable:
    """A synthetic contest's scores as ``judge,entry,score`` rows (2 decimals); returns its table."""
    table = synthetic.generate(scenario, seed=3, **sizes).table
    with path.open("w", encoding="utf-8") as handle:
        handle.write("judge,entry,score\n")
        for j, e, v in zip(table.judge.tolist(), table.entry.tolist(), table.value.tolist(), strict=True):
            handle.write(f"{table.judges[j]},{table.entries[e]},{v:.2f}\n")
    return table


def sections(text: str) -> list[str]:
    """The section titles: lines underlined with dashes."""
    lines = text.splitlines()
    return [a for a, b in itertools.pairwise(lines) if b and set(b) == {"-"} and len(b) == len(a)]


@pytest.mark.parametrize(
    ("scenario", "chosen", "because"),
    [
        ("random", "affine", "judge leniency is significant"),
        ("unbiased", "mean", "leniency does not differ significantly"),
        ("disjoint", "mean", "separate components"),
    ],
)
def test_explain_reads_as_sections_without_object_dumps(podium, tmp_path, scenario, chosen, because):
    scores = tmp_path / "s.csv"
    write_contest(scores, scenario, n_entries=400, n_judges=40)
    code, out, _ = podium(str(scores), "--out", str(tmp_path / "r.csv"), "--explain")
    assert code == 0
    assert sections(out) == list(explain.SECTIONS)
    for dump in ("array(", "CalibrationFit(", "_Data(", "dtype", "np.float", "{'", " object at 0x"):
        assert dump not in out
    assert not re.search(r"<[A-Za-z_]", out)  # no <...> reprs
    why = out.split("Why this method\n---------------\n")[1].splitlines()[0]
    assert why.startswith(f"Auto {'chose' if chosen != 'mean' else 'ranked by the plain mean'}")
    assert because in why
    assert "What to do\n----------\n- " in out


def test_explanation_as_data(tmp_path):
    table = write_contest(tmp_path / "s.csv", "random", n_entries=400, n_judges=40)
    # one entry whose judges disagree wildly: its first judge gives 0, the others their scores
    value = table.value.copy()
    value[np.flatnonzero(table.entry == 7)[0]] = 0.0
    table = dataclasses.replace(table, value=value)
    data = explain.explanation(ranking.rank(table, "auto"), table)
    json.dumps(data)  # plain data only, for the service's pages
    assert (data["method"], data["chosen_method"]) == ("auto:affine", "affine")
    assert data["reason"].startswith("auto chose affine, correcting each judge's leniency and scale, because")
    assert "the median judge gave 50 scores" in data["reason"]
    assert len(data["judges"]) == 40
    departure = [
        max(abs(j["leniency"]) / j["leniency_se"], abs(j["scale"] - 1) / j["scale_se"])
        for j in data["judges"]
    ]
    assert departure == sorted(departure, reverse=True)  # most extreme first
    assert [x["entry"] for x in data["rereview"]] == [table.entries[7]]
    assert "disagree" in data["rereview"][0]["reason"]
    assert [c["top"] for c in data["cutoffs"]] == [8, 20, 40]
    assert any("re-review" in action for action in data["actions"])


def test_explanation_with_a_design_reports_home_bias():
    # the synthetic assignment avoids every judge's own institution, so there is nothing to test
    contest = synthetic.generate("random", n_entries=400, n_judges=40, seed=3)
    data = explain.explanation(ranking.rank(contest.table, "auto", design=contest.design), contest.table)
    json.dumps(data)
    assert data["home_bias"] == {
        "n_home": 0,
        "verdict": "too few scores of a judge's own institution to test",
    }
    assert f"Home-institution bias: {data['home_bias']['verdict']}." in explain.render(data)


def test_help_documents_the_output_columns(capsys):
    parser = argparse.ArgumentParser(prog="podium")
    rank.register(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["rank", "--help"])
    text = capsys.readouterr().out
    for column in ("rank", "entry", "score", "se", "n_judges", "flag", "panel:NAME"):
        assert f"\n  {column} " in text
    assert "disagree:" in text
    assert "near_cutoff:" in text


def test_ties_share_a_rank_and_extra_columns_and_bom_are_ignored(podium, files):
    text = (
        "\ufeffJudge , Entry,Score,notes\n"
        "j1,A,7,x\nj2,A,8,\nj3,A,9.5,\nj1,B,6,\nj2,B,8.5,\nj3,B,9,\n\nj1,C,8,\nj2,C,8,\nj3,C,8,\n"
    )
    # medians: A 8, B 8.5, C 8
    code, out, _ = podium(files("s.csv", text), "--method", "median", "--round", "2")
    assert code == 0
    assert out == "rank,entry,score,n_judges\n1,B,8.50,3\n2,A,8.00,3\n2,C,8.00,3\n"
    # unrounded means: A 24.5 / 3, B 23.5 / 3, C 8
    code, out, _ = podium(files("s.csv", text), "--method", "mean")
    assert out == "rank,entry,score,n_judges\n1,A,8.166667,3\n2,C,8,3\n3,B,7.833333,3\n"


def test_single_score_file_with_a_one_criterion_rubric(podium, files):
    scores = files("s.csv", "judge,entry,score\nj1,A,-2\nj2,A,-3\nj1,B,1\nj2,B,2\n")
    code, out, _ = podium(
        scores, "--rubric", files("r.csv", "criterion,weight,min,max\ngoe,2,-3,3\n"), "--method", "mean"
    )
    assert (code, out) == (0, "rank,entry,score,n_judges\n1,B,3,2\n2,A,-5,2\n")


def test_trim_options(podium, files):
    scores = files("s.csv", "judge,entry,score\nj1,A,1\nj2,A,2\nj3,A,9\nj1,B,4\nj2,B,5\nj3,B,6\n")
    # drop the 1 highest only: A (1 + 2) / 2 = 1.5, B (4 + 5) / 2 = 4.5
    code, out, _ = podium(scores, "--method", "trimmed", "--trim-high", "1", "--trim-low", "0")
    assert (code, out) == (0, "rank,entry,score,n_judges\n1,B,4.5,3\n2,A,1.5,3\n")


def test_sum_and_missing_zero(podium, files):
    scores = files(
        "s.csv",
        "judge,entry,criterion,score\nj1,A,x,1\nj2,A,x,2\nj3,A,x,3\nj1,A,y,4\nj2,A,y,5\nj3,A,y,6\n"
        "j1,B,x,5\nj2,B,x,6\nj3,B,x,9\n",
    )
    # B has no mark for y: refused by default, with the option that would accept it
    code, _, err = podium(scores, "--method", "trimmed", "--sum")
    assert code == 2
    assert error_line(err).endswith(
        "line 8: entry 'B' has no score for criterion 'y'; --missing zero would count it as 0"
    )
    # sum of the kept (middle) marks: A 2 + 5 = 7, B 6 + 0 = 6; with --trim 0 every mark: A 21, B 20
    head = "rank,entry,score,n_judges,panel:x,panel:y\n"
    code, out, _ = podium(scores, "--method", "trimmed", "--sum", "--missing", "zero")
    assert (code, out) == (0, head + "1,A,7,3,2,5\n2,B,6,3,6,0\n")
    argv = ["--trim-high", "0", "--trim-low", "0", "--round", "1"]
    code, out, _ = podium(scores, "--method", "trimmed", "--sum", "--missing", "zero", *argv)
    assert (code, out) == (0, head + "1,A,21.0,3,6,15\n2,B,20.0,3,20,0\n")
    # the mean of the marks, a missing criterion 0: A 2 + 5 = 7, B 20 / 3; --explain says so
    code, out, err = podium(scores, "--method", "mean", "--missing", "zero", "--explain")
    assert (code, out) == (0, head + "1,A,7,3,2,5\n2,B,6.666667,3,6.666667,0\n")
    assert "1 missing (entry, criterion) panel scores counted as 0" in err


def error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("podium rank: error: ")
    return lines[0]


BAD_SCORES = [
    ("", "is empty; it needs a header line with judge,entry,score"),
    ("judge,entry,score\n", "has a header but no score rows"),
    ("judge,entry,points\nj1,A,5\n", "line 1: missing column 'score' (needs judge,entry,score)"),
    ("judge,entry,score\nj1,A,5\nj2,A,abc\n", "line 3: score 'abc' is not a number"),
    ("judge,entry,score\nj1,A,nan\n", "line 2: score 'nan' is not a finite number"),
    ("judge,entry,score\nj1,A,5\nj1,,5\n", "line 3: entry is empty"),
    ("judge,entry,score\nj1,A,5\nj1\n", "line 3: entry is empty"),
    ("judge,entry,score\nj1,A,5\n\nj1,B,101\n", "line 4: score 101 is outside [0, 100]"),
    ("judge,entry,score\nj1,A,5\nj2,A,6\nj1,A,7\n", "line 4: duplicate judge, entry and criterion"),
    (
        "judge,entry,criterion,score\nj1,A,x,5\nj1,A,y,5\nj1,B,x,5\n",
        "line 4: entry 'B' has no score for criterion 'y'",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_SCORES)
def test_bad_scores_exit_2_with_one_line(podium, files, text, message):
    path = files("s.csv", text)
    code, out, err = podium(path, "--method", "mean")
    assert code == 2
    assert out == ""
    assert error_line(err).startswith(f"podium rank: error: {path}")
    assert message in err


def test_unknown_directory_and_non_utf8_files(podium, files, tmp_path):
    code, _, err = podium(str(tmp_path / "missing.csv"), "--method", "mean")
    assert code == 2
    assert error_line(err).endswith("missing.csv: No such file or directory")
    code, _, err = podium(str(tmp_path), "--method", "mean")
    assert code == 2
    assert error_line(err).endswith("Is a directory")
    code, _, err = podium(files("s.csv", b"judge,entry,score\nj1,\xff,5\n"), "--method", "mean")
    assert code == 2
    assert error_line(err).endswith("it is not UTF-8 text")


BAD_RUBRICS = [
    ("criterion,min,max\nx,0,10\n", "line 1: missing column 'weight' (needs criterion,weight,min,max)"),
    ("criterion,weight,min,max\n", "has a header but no criteria"),
    ("criterion,weight,min,max\nscore,heavy,0,10\n", "line 2: weight 'heavy' is not a number"),
    ("criterion,weight,min,max\nscore,1,0,10\nscore,2,0,10\n", "line 3: criterion 'score' appears twice"),
    ("criterion,weight,min,max\nscore,1,10,10\n", "line 2: min must be below max"),
    ("criterion,weight,min,max\nscore,-1,0,10\n", "line 2: weight must not be negative"),
]


@pytest.mark.parametrize(("text", "message"), BAD_RUBRICS)
def test_bad_rubric_exit_2_with_one_line(podium, files, text, message):
    rubric = files("r.csv", text)
    code, _, err = podium(
        files("s.csv", "judge,entry,score\nj1,A,5\n"), "--rubric", rubric, "--method", "mean"
    )
    assert code == 2
    assert rubric in error_line(err)
    assert message in err


def test_scores_that_do_not_fit_the_rubric(podium, files):
    rubric = files("r.csv", RUBRIC)
    cases = [
        ("judge,entry,score\nj1,A,5\n", "line 1: no criterion column, but the rubric has 2 criteria"),
        (
            "judge,entry,criterion,score\nj1,A,innovation,5\nj1,A,style,5\n",
            "line 3: criterion 'style' is not in the rubric",
        ),
        (
            "judge,entry,criterion,score\nj1,A,innovation,5\nj1,A,market,11\n",
            "line 3: score 11 is outside [0, 10]",
        ),
    ]
    for text, message in cases:
        code, _, err = podium(files("s.csv", text), "--rubric", rubric, "--method", "mean")
        assert code == 2
        assert message in error_line(err)


def test_engine_errors_name_the_line_of_the_file(podium, files):
    # C's first mark is on line 6 (the blank line 4 counts); two marks cannot lose a highest and a lowest
    scores = files("s.csv", "judge,entry,score\nj1,A,1\nj2,A,2\n\nj3,A,3\nj1,C,4\nj2,C,5\n")
    code, _, err = podium(scores, "--method", "trimmed")
    assert code == 2
    assert f"{scores} line 6: entry 'C' has 2 marks for criterion 'score': too few to drop" in error_line(err)


def test_bad_options(podium, files, tmp_path):
    scores = files("s.csv", "judge,entry,score\nj1,A,5\n")
    cases = [
        (
            ["--method", "mean", "--trim-high", "1"],
            "--trim-high and --trim-low apply only to --method trimmed",
        ),
        (["--method", "trimmed", "--trim-low", "-1"], "--trim-low must not be negative"),
        (["--method", "mean", "--round", "-2"], "--round must not be negative"),
        (["--method", "mean", "--sum"], "--sum applies only to --method trimmed"),
        (["--method", "offset", "--missing", "zero"], "--missing zero applies only to the rule methods"),
        (["--method", "mean", "--out", str(tmp_path / "no" / "such" / "dir.csv")], "cannot write"),
    ]
    for argv, message in cases:
        code, _, err = podium(scores, *argv)
        assert code == 2
        assert message in error_line(err)


def test_real_console_entry(files):
    """The installed ``podium`` command (backend.cli) runs the same code: golden output, then a bad file."""
    podium = Path(sys.executable).with_name("podium")
    argv = [files("s.csv", SCORES), "--rubric", files("r.csv", RUBRIC), "--method", "trimmed", "--round", "2"]
    done = subprocess.run([podium, "rank", *argv], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, GOLDEN), done.stderr
    bad = files("bad.csv", "judge,entry,score\nj1,A,x\n")
    done = subprocess.run([podium, "rank", bad], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"podium rank: error: {bad} line 2: score 'x' is not a number\n"
