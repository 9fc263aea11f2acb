"""``podium assign``: the output contract, its summary, and every bad-input case."""

from __future__ import annotations

import argparse
import csv
import io

import pytest

from judging.commands import assign

ENTRIES = "entry,institution,notes\nE1,u1,x\nE2,u2,\nE3,u3,\nE4,u1,\nE5,u2,\nE6,u3,\n"
JUDGES = "judge,institution\nJ1,u1\nJ2,u2\nJ3,u3\nJ4,u4\n"
INSTITUTION = {"E1": "u1", "E2": "u2", "E3": "u3", "E4": "u1", "E5": "u2", "E6": "u3"}
JUDGE_INSTITUTION = {"J1": "u1", "J2": "u2", "J3": "u3", "J4": "u4"}


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="podium")
    assign.register(parser.add_subparsers())
    args = parser.parse_args(["assign", *argv])
    return args.handler(args)


def pairs(text: str) -> list[tuple[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["judge", "entry"]
    return [(judge, entry) for judge, entry in rows[1:]]


def test_every_entry_gets_k_judges_without_conflicts(files, capsys):
    argv = [files("e.csv", ENTRIES), files("j.csv", JUDGES), "--per-entry", "2", "--seed", "4"]
    assert run(argv) == 0
    out, err = capsys.readouterr()
    result = pairs(out)
    assert len(result) == 12
    assert sorted(entry for _, entry in result) == sorted([*INSTITUTION, *INSTITUTION])
    assert len(set(result)) == 12
    assert all(JUDGE_INSTITUTION[j] != INSTITUTION[e] for j, e in result)
    loads = [sum(j == judge for j, _ in result) for judge in JUDGE_INSTITUTION]
    assert loads == [3, 3, 3, 3]
    assert "judge load 3-3 (spread 0); conflicts 0" in err
    assert "connectivity: 1 component(s)" in err
    assert "seed 4" in err
    assert run(argv) == 0
    assert capsys.readouterr().out == out  # the same seed gives the same assignment


def test_out_file_conflicts_and_capacities(files, capsys):
    judges = "judge,institution,capacity\nJ1,u1,1\nJ2,u2,5\nJ3,u3,5\nJ4,u4,5\n"
    conflicts = files("c.csv", "judge,entry\nJ4,E1\nJ4,E2\n")
    out_path = files("out.csv", "")
    argv = [files("e.csv", ENTRIES), files("j.csv", judges), "--per-entry", "2", "--conflicts", conflicts]
    assert run([*argv, "--seed", "3", "--out", out_path]) == 0
    assert capsys.readouterr().out == ""
    with open(out_path, encoding="utf-8") as handle:
        result = pairs(handle.read())
    assert len(result) == 12
    assert not {("J4", "E1"), ("J4", "E2")} & set(result)
    assert sum(j == "J1" for j, _ in result) == 1
    assert all(JUDGE_INSTITUTION[j] != INSTITUTION[e] for j, e in result)


def test_tracks_report_the_cross_track_share(files, capsys):
    entries = "entry,institution,track\n" + "".join(f"E{i},u{i % 7},t{i % 2}\n" for i in range(40))
    judges = "judge,institution,track\n" + "".join(f"J{i},v{i},t{i % 2}\n" for i in range(10))
    assert run([files("e.csv", entries), files("j.csv", judges), "--per-entry", "5", "--seed", "2"]) == 0
    out, err = capsys.readouterr()
    result = pairs(out)
    cross = sum(int(j[1:]) % 2 != int(e[1:]) % 2 for j, e in result) / len(result)
    assert cross >= 0.2
    assert f"cross-track links: {cross:.1%}" in err


def error_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    return err.strip()


@pytest.mark.parametrize(
    ("entries", "judges", "message"),
    [
        ("", JUDGES, "{e} is empty; it needs a header line with entry,institution"),
        ("entry,inst\nE1,u1\n", JUDGES, "{e} line 1: missing column 'institution' (needs entry,institution)"),
        ("entry,institution\n", JUDGES, "{e} has a header but no entries"),
        ("entry,institution\nE1,u1\nE1,u2\n", JUDGES, "{e} line 3: entry 'E1' already appears on line 2"),
        ("entry,institution\nE1,\n", JUDGES, "{e} line 2: institution is empty"),
        (ENTRIES, "judge,institution\nJ1,u1\nJ1,u2\n", "{j} line 3: judge 'J1' already appears on line 2"),
        (ENTRIES, "judge\nJ1\n", "{j} line 1: missing column 'institution' (needs judge,institution)"),
        (ENTRIES, "judge,institution\n", "{j} has a header but no judges"),
        (
            ENTRIES,
            "judge,institution,capacity\nJ1,u1,x\n",
            "{j} line 2: capacity 'x' is not a whole number of 0 or more",
        ),
        (
            ENTRIES,
            "judge,institution,capacity\nJ1,u1,-1\n",
            "{j} line 2: capacity '-1' is not a whole number of 0 or more",
        ),
        (
            ENTRIES,
            "judge,institution,capacity\nJ1,u1,2.5\n",
            "{j} line 2: capacity '2.5' is not a whole number of 0 or more",
        ),
        (
            ENTRIES,
            "judge,institution,track\nJ1,u1,t\n",
            "{j} has a track column but the other file has none; give both or neither",
        ),
        (
            "entry,institution\nE1,u9\nE2,u1\n",
            "judge,institution\nJ1,u1\nJ2,u2\nJ3,u1\n",
            "{e} line 3: entry 'E2' needs 2 judges but only 1 may judge it "
            "(same institution, listed conflicts or zero capacity rule out the others)",
        ),
        (
            ENTRIES,
            "judge,institution,capacity\nJ1,u1,2\nJ2,u2,2\nJ3,u3,2\nJ4,u4,2\n",
            "{e} and {j}: the judges can take 8 places but 12 are needed (6 entries); "
            "add judges or raise capacities",
        ),
    ],
)
def test_bad_files_exit_2_with_one_line(files, capsys, entries, judges, message):
    e, j = files("e.csv", entries), files("j.csv", judges)
    assert run([e, j, "--per-entry", "2", "--seed", "0"]) == 2
    assert error_line(capsys) == "podium assign: error: " + message.format(e=e, j=j)


@pytest.mark.parametrize(
    ("conflicts", "message"),
    [
        ("judge,entry\nJ9,E1\n", "{c} line 2: judge 'J9' is not in the judges file"),
        ("judge,entry\nJ1,E1\nJ1,E9\n", "{c} line 3: entry 'E9' is not in the entries file"),
        ("judge\nJ1\n", "{c} line 1: missing column 'entry' (needs judge,entry)"),
        ("", "{c} is empty; it needs a header line with judge,entry"),
    ],
)
def test_bad_conflict_files_exit_2_with_one_line(files, capsys, conflicts, message):
    c = files("c.csv", conflicts)
    argv = [files("e.csv", ENTRIES), files("j.csv", JUDGES), "--per-entry", "2", "--conflicts", c]
    assert run(argv) == 2
    assert error_line(capsys) == "podium assign: error: " + message.format(c=c)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--per-entry", "0"], "--per-entry must be at least 1"),
        (["--per-entry", "2", "--seed", "-3"], "--seed must not be negative"),
        (["--per-entry", "2", "--max-probability", "1.5"], "--max-probability must lie in (0, 1]"),
        (
            ["--per-entry", "1"],
            "{e} and {j}: 6 judgements cannot connect 6 entries and 4 judges in one graph; "
            "ask for more judges per entry",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line(files, capsys, options, message):
    e, j = files("e.csv", ENTRIES), files("j.csv", JUDGES)
    assert run([e, j, *options]) == 2
    assert error_line(capsys) == "podium assign: error: " + message.format(e=e, j=j)


def test_missing_file_exits_2(files, capsys, tmp_path):
    missing = str(tmp_path / "nope.csv")
    assert run([missing, files("j.csv", JUDGES), "--per-entry", "2"]) == 2
    assert error_line(capsys).startswith(f"podium assign: error: cannot read {missing}: ")
