"""The judging commands' columnar CSV reading and writing (issue 13) against Python's csv module.

The reference below is the former row-by-row reader: Python's ``csv`` module, one record at a time,
``ScoreTable.from_columns`` on lists of labels, and ``csv.writer`` with the former cell formatting.
The columnar reader must give the same table, the same line numbers and the same first error; the
columnar writer the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from judging.commands import assign as assign_command
from judging.commands import csvfiles, rank
from judging.commands.csvfiles import FileError
from judging.engine.assignment import assign
from judging.engine.model import Criterion, InputError, Rubric, ScoreTable
from judging.engine.ranking import rank as rank_table


# ------------------------------------------------------------------ the reference: csv, row by row
def reference_scores(path: str) -> tuple[ScoreTable, list[int]] | str:
    """The former ``read_scores`` (no rubric): the table and lines, or the error text."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return f"{path} is empty; it needs a header line with judge,entry,score"
            names = [name.strip().lower() for name in header]
            for name in ("judge", "entry", "score"):
                if name not in names:
                    return f"{path} line 1: missing column {name!r} (needs judge,entry,score)"
            wanted = [n for n in ("judge", "entry", "criterion", "score") if n in names]
            rows, lines = [], []
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                row = {}
                for name in wanted:
                    position = names.index(name)
                    row[name] = record[position].strip() if position < len(record) else ""
                    if not row[name]:
                        return f"{path} line {reader.line_num}: {name} is empty"
                try:
                    value = float(row["score"])
                except ValueError:
                    return f"{path} line {reader.line_num}: score {row['score']!r} is not a number"
                if not math.isfinite(value):
                    return f"{path} line {reader.line_num}: score {row['score']!r} is not a finite number"
                rows.append((row["judge"], row["entry"], row.get("criterion", "score"), value))
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        return f"cannot read {path}: it is not UTF-8 text"
    if not rows:
        return f"{path} has a header but no score rows"
    judges, entries, criteria, values = (list(column) for column in zip(*rows, strict=True))
    check = Rubric(tuple(Criterion(name) for name in dict.fromkeys(criteria)))
    try:
        return ScoreTable.from_columns(judges, entries, values, criteria, rubric=check), lines
    except InputError as error:
        return f"{path} line {lines[error.row - 1]}: {error.message}"


def columnar_scores(path: str) -> tuple[ScoreTable, list[int]] | str:
    try:
        table, lines = rank.read_scores(path, None)
    except FileError as error:
        return str(error)
    return table, lines.tolist()


def reference_ranking(ranking) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "entry", "score", *ranking.columns])
    scores = ranking.exact if ranking.exact is not None else ranking.score.tolist()
    order = sorted(range(len(ranking.entries)), key=lambda i: (ranking.rank[i] == 0, ranking.rank[i], i))
    for i in order:
        writer.writerow(
            [
                ranking.rank[i] or "",
                ranking.entries[i],
                csvfiles.cell(scores[i]),
                *(csvfiles.cell(column[i]) for column in ranking.columns.values()),
            ]
        )
    return out.getvalue()


def same_table(a: ScoreTable, b: ScoreTable) -> bool:
    return (
        (a.judges, a.entries, a.criteria) == (b.judges, b.entries, b.criteria)
        and all(
            np.array_equal(x, y)
            for x, y in ((a.judge, b.judge), (a.entry, b.entry), (a.criterion, b.criterion))
        )
        and np.array_equal(a.value, b.value)
    )


# ------------------------------------------------------------------ random small files
LABELS = [
    "j1",
    "张伟",
    "李娜",
    "Zoë",
    "a,b",
    'say "hi"',
    "line\nbreak",
    " padded ",
    "E-01",
    "王芳",
    "x\ty",
    "\u3000全角",
]
NUMBERS = ["7", "8.5", "0", "100", " 42 ", "1e1", ".5", "5.", "+3", "1_0", "0099", "3.14159"]


def random_file(rng: random.Random, bad: bool) -> bytes:
    """A scores file with random ids (Chinese, commas, quotes, line breaks inside cells), CRLF or LF,
    maybe a BOM, blank lines, extra columns and padding; with ``bad``, a few broken cells."""
    with_criterion = rng.random() < 0.4
    header = ["Judge", " entry ", "score", "note"]
    if with_criterion:
        header.insert(2, "criterion")
    rng.shuffle(header)
    rows, used = [], set()
    for _ in range(rng.randint(1, 40)):
        judge, entry = rng.choice(LABELS), rng.choice(LABELS) + str(rng.randint(0, 3))
        criterion = rng.choice(["技术", "market"])
        if (judge, entry, criterion) in used and not bad:
            continue
        used.add((judge, entry, criterion))
        cells = {
            "Judge": judge,
            " entry ": entry,
            "criterion": criterion,
            "score": rng.choice(NUMBERS),
            "note": rng.choice(["", "ok", "好", "a,b"]),
        }
        if bad and rng.random() < 0.05:
            cells[rng.choice(header)] = rng.choice(["", "abc", "nan", "101", "-1", " "])
        rows.append([cells[name] for name in header])
    terminator = rng.choice(["\n", "\r\n"])
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator=terminator, quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    )
    writer.writerow(header)
    for row in rows:
        if rng.random() < 0.1:
            out.write(rng.choice([terminator, "," * (len(header) - 1) + terminator]))  # blank lines
        writer.writerow(row)
    text = out.getvalue()
    if rng.random() < 0.5:
        text = text.rstrip("\r\n")  # no line end after the last row
    return (b"\xef\xbb\xbf" if rng.random() < 0.5 else b"") + text.encode("utf-8")


@pytest.mark.parametrize("bad", [False, True])
def test_random_files_read_as_the_csv_module_reads_them(tmp_path, bad):
    rng = random.Random(13 + bad)
    path = tmp_path / "s.csv"
    outcomes = set()
    for _ in range(150):
        path.write_bytes(random_file(rng, bad))
        expected, got = reference_scores(str(path)), columnar_scores(str(path))
        if isinstance(expected, str):
            assert got == expected, path.read_bytes()
            outcomes.add(expected.split(": ", 1)[-1].split(" ")[0])
            continue
        assert not isinstance(got, str), (got, path.read_bytes())
        assert same_table(got[0], expected[0]), path.read_bytes()
        assert got[1] == expected[1], path.read_bytes()
        outcomes.add("ok")
        ranking = rank_table(got[0], "mean", missing="zero")
        out = io.StringIO()
        rank.write_ranking(ranking, out)
        assert out.getvalue() == reference_ranking(ranking)
    assert "ok" in outcomes
    if bad:
        assert len(outcomes) >= 4, outcomes  # several kinds of error were met


def test_line_numbers_count_crlf_bom_blank_lines_and_breaks_inside_quotes(tmp_path):
    path = tmp_path / "s.csv"
    text = (
        "\ufeffjudge,entry,score\r\n"  # line 1
        'j1,"第一\r\n行",5\r\n'  # lines 2-3
        "\r\n"  # line 4
        "j2,E2,6\r"  # line 5 (a lone CR ends a line too)
        ",,\r\n"  # line 6, blank
        'j3,"E,3",7\r\n'  # line 7
        "j4,E4,seven\r\n"  # line 8
    )
    path.write_bytes(text.encode("utf-8"))
    expected = reference_scores(str(path))
    assert expected == f"{path} line 8: score 'seven' is not a number"
    assert columnar_scores(str(path)) == expected
    path.write_bytes(text.replace("seven", "8").encode("utf-8"))
    table, lines = columnar_scores(str(path))
    assert lines == [3, 5, 7, 8]
    assert table.entries == ("第一\r\n行", "E2", "E,3", "E4")


def test_rows_of_other_lengths_are_read_by_the_csv_module(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("judge,entry,score,note\nj1,A,5\nj2,A,6,x,extra\n  \nj3,B,7,\n", encoding="utf-8")
    table, lines = columnar_scores(str(path))
    assert (table.entries, lines) == (("A", "B"), [2, 3, 5])
    path.write_text("judge,entry,score,note\nj1,A,5\nj2\n", encoding="utf-8")
    assert columnar_scores(str(path)) == f"{path} line 3: entry is empty"
    path.write_text("judge,entry,score\nj1,A\nj2,B\n", encoding="utf-8")  # every row short
    assert columnar_scores(str(path)) == f"{path} line 2: score is empty"
    path.write_text("judge,entry,score\nj1,A,5,,\nj2,B,6,,\n", encoding="utf-8")  # every row long
    assert columnar_scores(str(path))[1] == [2, 3]


def test_non_utf8_and_empty_files(tmp_path):
    path = tmp_path / "s.csv"
    for data, message in [
        (b"", "is empty; it needs a header line with judge,entry,score"),
        (b"\xef\xbb\xbf", "is empty; it needs a header line with judge,entry,score"),
        (b"\njudge,entry,score\n", "line 1: missing column 'judge'"),
        (b"judge,entry,score\nj1,A,5\nj2,\xe5\xbc,5\n", "it is not UTF-8 text"),
        (b"judge,entry,score\r\n\r\n", "has a header but no score rows"),
    ]:
        path.write_bytes(data)
        assert message in columnar_scores(str(path))
        assert columnar_scores(str(path)) == reference_scores(str(path))


# ------------------------------------------------------------------ national scale
def write_rows(path: Path, n: int, last: bytes) -> None:
    """``n`` data rows ``jJJJJJ,eEEEEEEE,SS`` (20,000 judges, 5 per entry), the last one replaced by
    ``last``; built with numpy in about a second."""
    row = np.frombuffer(b"j000000,e0000000,00\n", dtype=np.uint8)
    grid = np.tile(row, (n, 1))
    index = np.arange(n, dtype=np.int64)
    for field, (start, width) in {"judge": (1, 6), "entry": (9, 7), "score": (17, 2)}.items():
        number = {"judge": index % 20_000, "entry": index // 5, "score": index % 97}[field]
        for digit in range(width):
            grid[:, start + width - 1 - digit] = 48 + (number // 10**digit) % 10
    with path.open("wb") as handle:
        handle.write(b"judge,entry,score\n")
        handle.write(grid[:-1].tobytes())
        handle.write(last)


def test_a_bad_row_at_the_end_of_five_million_rows(tmp_path):
    # 50,000 distinct rows written 100 times: the reader reports the bad cell before it looks for
    # duplicates, and the file is ready in a fraction of a second
    path = tmp_path / "national.csv"
    write_rows(path, 50_000, b"j000001,e0009999,55\n")
    block = path.read_bytes().split(b"\n", 1)[1]
    with path.open("wb") as handle:
        handle.write(b"judge,entry,score\n" + block * 99 + block[: -len(b"j000001,e0009999,55\n")])
        handle.write(b"j000001,e0999999,x5\n")
    started = time.perf_counter()
    with pytest.raises(FileError) as caught:
        rank.read_scores(str(path), None)
    assert str(caught.value) == f"{path} line 5000001: score 'x5' is not a number"
    assert time.perf_counter() - started < 60  # seconds on a loaded machine; the former reader took minutes


def test_a_duplicate_at_the_end_of_half_a_million_rows(tmp_path):
    path = tmp_path / "national.csv"
    write_rows(path, 500_000, b"j000000,e0000000,50\n")  # the very first row again
    with pytest.raises(FileError) as caught:
        rank.read_scores(str(path), None)
    assert str(caught.value) == f"{path} line 500001: duplicate judge, entry and criterion"


# ------------------------------------------------------------------ writing
@pytest.mark.parametrize("width", range(1, 10))
def test_labels_of_one_length_are_encoded_as_pyarrow_encodes_text(width):
    """Up to 8 bytes a label is hashed as an integer: same labels, same first-seen order, same codes."""
    rng = random.Random(width)
    alphabet = ["a", "Z", "0", "-", "é", "张", "\x00"]  # 1, 2 and 3 bytes; NUL pads shorter words
    words = ("".join(rng.choice(alphabet) for _ in range(width)) for _ in range(400))
    pool = sorted({w for w in words if len(w.encode("utf-8")) == width} | {"a" * width})
    labels = pa.array([rng.choice(pool) for _ in range(500)], pa.string()).slice(3)
    got_labels, got_codes = csvfiles.encode(labels)
    expected = pc.dictionary_encode(labels)
    got_labels.validate(full=True)
    assert got_labels.to_pylist() == expected.dictionary.to_pylist()
    assert got_codes.tolist() == expected.indices.to_pylist()


def test_numbers_are_written_as_the_former_cell_formatting_wrote_them():
    rng = np.random.default_rng(5)
    values = np.r_[
        rng.normal(0, 50, 20_000),
        rng.normal(0, 1e-5, 2_000),
        np.round(rng.normal(0, 50, 2_000), 6),
        np.arange(-20, 21) * 5e-7,  # halfway at the sixth decimal
        [0.0, -0.0, 1e-7, -1e-7, 0.5, 2.5e-6, 1e16, -3e17, 123456789.1234565, math.nan, math.inf, -math.inf],
    ]
    assert csvfiles.decimals6(values).to_pylist() == [csvfiles.cell(float(v)) for v in values]


def test_labels_are_quoted_as_csv_writer_quotes_them():
    labels = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "张伟", " spaced ", "", "'"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[label, "x"] for label in labels])
    mine = io.StringIO()
    csvfiles.write_lines(
        mine,
        ["a", "b"],
        lambda rows: [csvfiles.text_cells(labels[rows]), csvfiles.text_cells(["x"] * 9)[rows]],
        9,
    )
    assert mine.getvalue() == "a,b\n" + out.getvalue()


def test_writing_in_chunks_gives_the_same_bytes(monkeypatch, tmp_path):
    scores = tmp_path / "s.csv"
    write_rows(scores, 30_000, b"j000001,e0005999,50\n")
    table, _ = rank.read_scores(str(scores), None)
    ranking = rank_table(table, "mean")
    whole = io.StringIO()
    rank.write_ranking(ranking, whole)
    monkeypatch.setattr(csvfiles, "CHUNK_ROWS", 1000)
    target = tmp_path / "r.csv"
    with target.open("w", newline="", encoding="utf-8") as handle:
        rank.write_ranking(ranking, handle)
    assert target.read_text(encoding="utf-8") == whole.getvalue() == reference_ranking(ranking)


# ------------------------------------------------------------------ assign from files
def test_assign_from_files_matches_the_engine_on_label_lists(tmp_path, capsys):
    rng = random.Random(3)
    entries = [(f"项目{i}" if i % 3 else f"E,{i}", f"大学{rng.randint(0, 30)}") for i in range(300)]
    judges = [(f"J{i}", f"大学{rng.randint(0, 60)}", rng.randint(15, 25)) for i in range(60)]
    (tmp_path / "e.csv").write_bytes(
        ("\ufeffentry,institution\r\n" + "".join(f'"{e}",{i}\r\n' for e, i in entries)).encode("utf-8")
    )
    (tmp_path / "j.csv").write_text(
        "judge,institution,capacity\n" + "".join(f"{j},{i},{c}\n" for j, i, c in judges), encoding="utf-8"
    )
    (tmp_path / "c.csv").write_text('judge,entry\nJ1,项目1\nJ2,"E,3"\n', encoding="utf-8")
    argv = [str(tmp_path / "e.csv"), str(tmp_path / "j.csv"), "--per-entry", "3", "--seed", "9"]
    parser = __import__("argparse").ArgumentParser(prog="podium")
    assign_command.register(parser.add_subparsers())
    args = parser.parse_args(["assign", *argv, "--conflicts", str(tmp_path / "c.csv"), "--timings"])
    assert args.handler(args) == 0
    out, err = capsys.readouterr()
    expected = assign(
        [i for _, i in entries],
        [i for _, i, _ in judges],
        3,
        capacity=[c for _, _, c in judges],
        conflicts=(np.array([1, 2]), np.array([1, 3])),
        seed=9,
    )
    reference = io.StringIO()
    csv.writer(reference, lineterminator="\n").writerows(
        [["judge", "entry"]]
        + [
            [judges[j][0], entries[e][0]]
            for j, e in zip(expected.judge.tolist(), expected.entry.tolist(), strict=True)
        ]
    )
    assert out == reference.getvalue()
    assert "podium assign: timing engine" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "judge,institution,capacity\r\nJ1,u1,3\r\nJ2,u2,٣\r\nJ3,u3,3.0\r\n",
            "line 4: capacity '3.0' is not",
        ),
        ('judge,institution\nJ1,u1\n\nJ2,u2\n"J1",u3\n', "line 5: judge 'J1' already appears on line 2"),
        ("judge,institution,capacity\nJ1,u1,\nJ1,u1,x\n", "line 2: capacity is empty"),
    ],
)
def test_bad_judges_files(tmp_path, capsys, text, message):
    (tmp_path / "e.csv").write_text("entry,institution\nE1,u1\n", encoding="utf-8")
    (tmp_path / "j.csv").write_text(text, encoding="utf-8")
    parser = __import__("argparse").ArgumentParser(prog="podium")
    assign_command.register(parser.add_subparsers())
    args = parser.parse_args(["assign", str(tmp_path / "e.csv"), str(tmp_path / "j.csv"), "--per-entry", "1"])
    assert args.handler(args) == 2
    assert f"{tmp_path / 'j.csv'} {message}" in capsys.readouterr().err


# ------------------------------------------------------------------ the command's start
def test_rank_mean_does_not_load_the_web_stack_or_scipy(tmp_path):
    scores = tmp_path / "s.csv"
    scores.write_text("judge,entry,score\nj1,A,5\nj2,A,6\nj1,B,7\n", encoding="utf-8")
    probe = (
        "import sys\nfrom backend.cli import main\n"
        f"code = main(['rank', {str(scores)!r}, '--method', 'mean', '--timings'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'litestar', 'piccolo', 'scipy', 'asyncpg'})\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout == "rank,entry,score,n_judges\n1,B,7,1\n2,A,5.5,2\n"
    assert "podium rank: timing read" in done.stderr
    assert done.stderr.rstrip().endswith("0 []"), done.stderr


def test_rank_offset_does_not_load_scipy_stats(tmp_path):
    """scipy.stats takes about a second to import; the model methods need only scipy.special."""
    scores = tmp_path / "s.csv"
    marks = [(j, e, 50 + 3 * j - 2 * e) for j in range(4) for e in range(6) if (j + e) % 3]
    scores.write_text("judge,entry,score\n" + "".join(f"j{j},E{e},{m}\n" for j, e, m in marks))
    probe = (
        "import sys\nfrom backend.cli import main\n"
        f"code = main(['rank', {str(scores)!r}, '--method', 'offset', '--out', {str(tmp_path / 'r.csv')!r}])\n"
        "print(code, 'scipy.stats' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.rstrip().endswith("0 False"), done.stderr
