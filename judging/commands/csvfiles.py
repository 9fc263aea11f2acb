"""Reading and writing the judging commands' CSV files, with errors that name the file and line."""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

EXIT_INPUT_ERROR = 2


class FileError(Exception):
    """A problem in one of the command's files, already phrased with the file and line."""


@contextmanager
def open_csv(path: str) -> Iterator[IO[str]]:
    """Open a CSV for reading; unreadable files become one clear error."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            yield handle
    except OSError as error:
        raise FileError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise FileError(f"cannot read {path}: it is not UTF-8 text") from error
    except csv.Error as error:
        raise FileError(f"{path}: not a valid CSV file ({error})") from error


def read_header(path: str, reader: Any, required: tuple[str, ...]) -> dict[str, int]:
    """Column positions by lower-cased name; every ``required`` column must be there."""
    header = next(reader, None)
    if header is None:
        raise FileError(f"{path} is empty; it needs a header line with {','.join(required)}")
    names = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise FileError(f"{path} line 1: missing column {missing[0]!r} (needs {','.join(required)})")
    return {name: names.index(name) for name in names}


def read_records(path: str, reader: Any, columns: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
    """Non-blank data rows as ``(line number, {column: stripped text})``; empty cells are errors."""
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        values = {}
        for name, position in columns.items():
            text = record[position].strip() if position < len(record) else ""
            if not text:
                raise FileError(f"{path} line {reader.line_num}: {name} is empty")
            values[name] = text
        yield reader.line_num, values


def parse_number(path: str, line: int, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FileError(f"{path} line {line}: {name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise FileError(f"{path} line {line}: {name} {text!r} is not a finite number")
    return value


@contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            yield handle
    except OSError as error:
        raise FileError(f"cannot write {path}: {error.strerror or error}") from error
