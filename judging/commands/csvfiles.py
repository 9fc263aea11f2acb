"""Reading and writing the judging commands' CSV files, column by column, with errors that name the
file and line.

A file is read once as bytes. Its header is parsed by Python's ``csv`` module (so names, BOM and
quoting behave exactly as before); the data rows are parsed by pyarrow's multithreaded CSV reader
into one text array per wanted column, stripped of Unicode white space. The physical line of every
row (what ``csv.reader.line_num`` reported: the line on which the record ends, header = line 1,
blank lines and line breaks inside quoted cells counted) is computed with numpy from the positions of
the line ends and of the quote characters. Checks are boolean masks over all rows; the first row that
fails any of them is reported, and within that row the first check in the order the caller lists
them, so messages are the ones the former row-by-row reader gave.

A file pyarrow cannot take as a rectangle (rows with missing or extra cells) is read by Python's
``csv`` module instead: slower, same columns, same messages. Writing joins whole columns into CSV
lines (``write_lines``) and writes their bytes a chunk of rows at a time.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

EXIT_INPUT_ERROR = 2

# Numbers that pyarrow parses exactly as Python's float() does: the last resort of ``numbers`` for
# cells of digits and signs that pyarrow refuses; the rest is handed to float() one cell at a time.
_PLAIN_NUMBER = r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_NEEDS_QUOTES = r"[,\"\n]"  # csv.writer's minimal quoting with lineterminator="\n"
CHUNK_ROWS = 1 << 20  # rows per written chunk

Check = tuple[np.ndarray, Callable[[int], str]]


class FileError(Exception):
    """A problem in one of the command's files, already phrased with the file and line."""


def not_a_number(name: str, text: str) -> str:
    return f"{name} {text!r} is not a number"


def not_finite(name: str, text: str) -> str:
    return f"{name} {text!r} is not a finite number"


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


# ------------------------------------------------------------------------------------------ reading
@dataclass
class Columns:
    """The wanted columns of a file's non-blank data rows, as stripped text, and each row's line."""

    path: str
    names: tuple[str, ...]
    data: dict[str, pa.Array]
    lines: np.ndarray

    def __len__(self) -> int:
        return int(self.lines.size)

    def text(self, name: str, row: int) -> str:
        return self.data[name][row].as_py()

    def empty(self, name: str) -> np.ndarray:
        return np.diff(_offsets(self.data[name])) == 0

    def empty_checks(self) -> list[Check]:
        """``NAME is empty``, in column order: the first checks of every row."""
        return [(self.empty(name), lambda _row, name=name: f"{name} is empty") for name in self.names]

    def numbers(self, name: str) -> tuple[np.ndarray, list[Check]]:
        """The column as float64 (NaN where unparsed) and its checks: not a number, not finite.

        pyarrow parses the cells; cells it cannot parse, or parses as infinite or NaN, are given
        to Python's float() in file order up to the first that is an error, so the verdict on every
        row that can be reported is Python's."""
        column = self.data[name]
        try:
            values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            suspect = ~np.isfinite(values)
            if suspect.any():
                values = values.copy()  # Python's float() fills in some cells below
        except pa.ArrowInvalid:
            raw, offsets = _utf8(column), _offsets(column)
            odd_rows = (
                np.searchsorted(offsets, np.flatnonzero(_UNUSUAL_IN_NUMBERS[raw]) + offsets[0], "right") - 1
            )
            suspect = np.diff(offsets) == 0
            suspect[odd_rows] = True
            try:
                parsed = pc.cast(
                    pc.if_else(pa.array(suspect), pa.scalar(None, pa.string()), column), pa.float64()
                )
            except pa.ArrowInvalid:  # digits and signs in an order pyarrow refuses ('1-2'): ask a regex
                suspect = ~np.asarray(pc.match_substring_regex(column, _PLAIN_NUMBER))
                parsed = pc.cast(
                    pc.if_else(pa.array(suspect), pa.scalar(None, pa.string()), column), pa.float64()
                )
            values = parsed.fill_null(np.nan).to_numpy(zero_copy_only=False, writable=True)
        bad = np.zeros(values.size, dtype=bool)
        for row in np.flatnonzero(suspect).tolist():  # rare: '+5', '1_0', 'inf', or the bad cell
            try:
                values[row] = float(self.text(name, row))
            except ValueError:
                bad[row] = True
                break  # every later row comes after this error: no need to look further
            if not math.isfinite(values[row]):
                break  # an error too
        return values, [
            (bad, lambda row: not_a_number(name, self.text(name, row))),
            (~bad & ~np.isfinite(values), lambda row: not_finite(name, self.text(name, row))),
        ]

    def codes(self, name: str) -> tuple[pa.Array, np.ndarray]:
        """Distinct labels in first-seen order and each row's int64 index into them."""
        return encode(self.data[name])

    def raise_first(self, checks: Sequence[Check]) -> None:
        """Raise :class:`FileError` for the first row failing a check (the first listed check of it)."""
        first = len(self)
        for mask, _ in checks:
            at = int(np.argmax(mask)) if mask.size else 0
            if mask.size and mask[at]:
                first = min(first, at)
        if first == len(self):
            return
        message = next(describe(first) for mask, describe in checks if mask[first])
        raise FileError(f"{self.path} line {self.lines[first]}: {message}")


def _offsets(column: pa.Array) -> np.ndarray:
    """Where each cell of a string array starts in its data, and where the last one ends."""
    return np.frombuffer(column.buffers()[1], dtype=np.int32, count=len(column) + 1, offset=column.offset * 4)


def _utf8(column: pa.Array) -> np.ndarray:
    """The bytes of a string array's cells, one after another."""
    offsets, data = _offsets(column), column.buffers()[2]
    if data is None or len(column) == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


_UNUSUAL_IN_NUMBERS = np.ones(256, dtype=bool)  # bytes that cannot be part of a plain number
_UNUSUAL_IN_NUMBERS[list(b"0123456789.-+eE")] = False


def _stripped(column: pa.Array) -> pa.Array:
    """Cells without surrounding white space (as str.strip() removes it). ASCII text without bytes
    up to 32 (where str.isspace finds its ASCII spaces) has none: the common case costs two scans."""
    raw = _utf8(column)
    if raw.size == 0 or (raw.min() > 32 and raw.max() < 0x80):
        return column
    return pc.utf8_trim_whitespace(column)


def encode(column: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Dictionary-encode: distinct values in first-seen order and the int64 code of every value."""
    if isinstance(column, pa.Array) and column.null_count == 0:
        lengths = np.diff(_offsets(column))
        if lengths.size and 0 < lengths.min() == lengths.max() <= 8:
            return _encode_words(column, int(lengths[0]))
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        if encoded.num_chunks == 0:
            return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
        dictionary = encoded.chunk(encoded.num_chunks - 1).dictionary
        indices = [np.asarray(chunk.indices) for chunk in encoded.chunks]
        return dictionary, np.concatenate(indices).astype(np.int64)
    return encoded.dictionary, np.asarray(encoded.indices).astype(np.int64)


def _encode_words(column: pa.Array, width: int) -> tuple[pa.Array, np.ndarray]:
    """``encode`` for labels of one byte length up to 8 (ids such as ``E0012345``): each label's
    bytes as one 64-bit integer, which pyarrow hashes about three times as fast as text."""
    words = np.zeros((len(column), 8), dtype=np.uint8)
    words[:, :width] = _utf8(column).reshape(-1, width)
    encoded = pc.dictionary_encode(pa.array(words.view(np.uint64).ravel()))
    distinct = np.ascontiguousarray(np.asarray(encoded.dictionary).view(np.uint8).reshape(-1, 8)[:, :width])
    offsets = np.arange(0, (len(distinct) + 1) * width, width, dtype=np.int32)
    labels = pa.Array.from_buffers(
        pa.string(), len(distinct), [None, pa.py_buffer(offsets), pa.py_buffer(distinct)]
    )
    return labels, np.asarray(encoded.indices).astype(np.int64)


def read_columns(path: str, required: tuple[str, ...], columns: tuple[str, ...]) -> Columns:
    """Read ``columns`` (in this order; those the header lacks and ``required`` does not name are left
    out) of the file's non-blank data rows; a missing required column, an unreadable file or one that
    is not UTF-8 is a :class:`FileError`. Empty cells are not errors here: see ``empty_checks``."""
    data = _read_bytes(path)
    raw = np.frombuffer(data, dtype=np.uint8)
    if not data.isascii():
        _check_utf8(path, data)
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    quoted = b'"' in data
    ends, lines_before, n_line_ends = _record_ends(raw, start, b"\r" in data, quoted)
    header_end = int(ends[0]) if ends.size else len(data)
    header_text = data[start:header_end].decode("utf-8")
    rows = csv.reader(io.StringIO(header_text + "\n" if start < len(data) else "", newline=""))
    positions = read_header(path, rows, required)
    names = tuple(name for name in columns if name in positions)
    after = _after(raw, ends)  # where the record after each record end starts
    body = int(after[0]) if ends.size else len(data)
    try:
        table = _parse(data, body, quoted, [positions[name] for name in names])
    except (pa.ArrowInvalid, pa.ArrowKeyError):  # rows of differing lengths, or all shorter than the header
        return _read_slow(path, data, positions, names)
    # the data records: where each starts and ends, and the line it ends on (csv.reader.line_num)
    record_start, record_end, lines = after[:-1], ends[1:], lines_before[1:] + 1
    if ends.size and after[-1] < len(data):  # a last record without a line end
        record_start = np.r_[record_start, after[-1]]
        record_end = np.r_[record_end, len(data)]
        lines = np.r_[lines, n_line_ends + 1]
    nonempty = record_end > record_start  # pyarrow skips empty lines
    if int(nonempty.sum()) != table.num_rows:
        return _read_slow(path, data, positions, names)
    if not nonempty.all():
        record_start, record_end, lines = record_start[nonempty], record_end[nonempty], lines[nonempty]
    del after, ends, lines_before, nonempty
    data_columns = {}
    for name in names:  # one column at a time, each freed from the table as soon as it is copied
        data_columns[name] = _stripped(table.column(f"f{positions[name]}").combine_chunks())
        table = table.drop_columns([f"f{positions[name]}"])
    result = Columns(path, names, data_columns, lines)
    return _drop_blank_rows(result, data, record_start, record_end)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise FileError(f"cannot read {path}: {error.strerror or error}") from error
    return data


def _check_utf8(path: str, data: bytes) -> None:
    whole = pa.Array.from_buffers(
        pa.large_binary(),
        1,
        [None, pa.py_buffer(np.array([0, len(data)], dtype=np.int64)), pa.py_buffer(data)],
    )
    try:
        whole.cast(pa.large_string())  # validates UTF-8 without decoding into a Python string
    except pa.ArrowInvalid:
        raise FileError(f"cannot read {path}: it is not UTF-8 text") from None


def _after(raw: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Where the record after each line end starts: past ``\\n``, ``\\r`` or ``\\r\\n``."""
    ends = np.asarray(ends, dtype=np.int64)
    if ends.size == 0:
        return ends
    at_cr = raw[ends] == 13
    if not at_cr.any():
        return ends + 1
    following = raw[np.minimum(ends + 1, raw.size - 1)]
    crlf = at_cr & (ends + 1 < raw.size) & (following == 10)
    return ends + 1 + crlf


def _record_ends(
    raw: np.ndarray, start: int, has_cr: bool, quoted: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Positions where records end (line ends outside quotes; a CRLF counts from its CR), for each
    how many line ends precede it, and how many line ends there are: Python's universal newlines, as
    ``csv`` counts lines."""
    newline = np.flatnonzero(raw == 10)
    ret = np.flatnonzero(raw == 13) if has_cr else np.zeros(0, dtype=np.int64)
    if ret.size:
        after_cr = np.zeros(newline.size, dtype=bool)
        hit = np.searchsorted(ret, newline - 1)
        inside = hit < ret.size
        after_cr[inside] = ret[hit[inside]] == newline[inside] - 1
        line_ends = np.sort(np.r_[newline[~after_cr], ret])
    else:
        line_ends = newline
    line_ends = line_ends[line_ends >= start]
    if quoted:
        quotes = np.flatnonzero(raw == 34)
        outside = np.searchsorted(quotes, line_ends) % 2 == 0
        index = np.flatnonzero(outside)
        return line_ends[index], index, int(line_ends.size)
    return line_ends, np.arange(line_ends.size), int(line_ends.size)


def _parse(data: bytes, body: int, quoted: bool, wanted: list[int]) -> pa.Table:
    if body >= len(data):
        return pa.table({f"f{p}": pa.array([], pa.string()) for p in wanted})
    # a lone CR ends a line for Python and for pyarrow alike; nothing else needs handling
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)[body:]),
        read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=quoted, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(
            include_columns=[f"f{p}" for p in wanted],
            column_types={f"f{p}": pa.string() for p in wanted},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _drop_blank_rows(columns: Columns, data: bytes, starts: np.ndarray, stops: np.ndarray) -> Columns:
    """Leave out rows whose every cell is blank (``,,``), as the csv reader did; rows blank in the
    wanted columns only are kept (they are errors: a cell is empty)."""
    all_empty = np.logical_and.reduce([columns.empty(name) for name in columns.names])
    blank = np.zeros(len(columns), dtype=bool)
    for row in np.flatnonzero(all_empty).tolist():
        record = next(csv.reader(io.StringIO(data[starts[row] : stops[row]].decode("utf-8"), newline="")), [])
        if any(cell.strip() for cell in record):
            break  # this row is an error; nothing after it matters
        blank[row] = True
    if not blank.any():
        return columns
    keep = ~blank
    kept = {name: columns.data[name].filter(pa.array(keep)) for name in columns.names}
    return Columns(columns.path, columns.names, kept, columns.lines[keep])


def _read_slow(path: str, data: bytes, positions: dict[str, int], names: tuple[str, ...]) -> Columns:
    """Python's csv module, record by record: files with rows of differing lengths."""
    texts: dict[str, list[str]] = {name: [] for name in names}
    lines: list[int] = []
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    try:
        next(reader, None)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            for name in names:
                position = positions[name]
                texts[name].append(record[position].strip() if position < len(record) else "")
            lines.append(reader.line_num)
    except csv.Error as error:
        raise FileError(f"{path}: not a valid CSV file ({error})") from error
    arrays = {name: pa.array(texts[name], pa.string()) for name in names}  # stripped already
    return Columns(path, names, arrays, np.array(lines, dtype=np.int64))


# ------------------------------------------------------------------------------------------ writing
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


def quoted(column: pa.Array) -> pa.Array:
    """CSV cells as Python's csv.writer writes them: quoted (with doubled quotes) only when needed."""
    needs = pc.match_substring_regex(column, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return column
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, wrapped, column)


def write_lines(
    out: IO[str], header: Sequence[str], cells: Callable[[slice], list[pa.Array]], n: int
) -> None:
    """Write the header, then ``n`` rows whose cells ``cells(rows)`` gives as text columns, a chunk of
    rows at a time, as bytes."""
    target = out.buffer if hasattr(out, "buffer") else None
    csv.writer(out, lineterminator="\n").writerow(header)
    if target is not None:
        out.flush()
    for begin in range(0, n, CHUNK_ROWS):
        columns = cells(slice(begin, min(n, begin + CHUNK_ROWS)))
        columns[-1] = pc.binary_join_element_wise(columns[-1], "", "\n")
        lines = pc.binary_join_element_wise(*columns, ",")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        offsets = np.frombuffer(
            lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
        )
        chunk = memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]
        if target is not None:
            target.write(chunk)
        else:
            out.write(bytes(chunk).decode("utf-8"))
    if target is not None:
        target.flush()


def decimals6(values: np.ndarray) -> pa.Array:
    """Floats as ``f"{v:.6f}"`` with trailing zeros (and a bare '.') dropped, ``-0`` as ``0``, NaN
    and infinities empty; vectorised, with Python's formatting for the rare values near a tie."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    scaled = np.where(finite, values, 0.0) * 1e6
    units = np.rint(scaled)
    fraction = np.abs(scaled - np.trunc(scaled))
    doubtful = finite & (
        (np.abs(fraction - 0.5) < np.maximum(1e-7, np.abs(scaled) * 1e-15)) | (np.abs(scaled) > 2**52)
    )
    whole = np.where(doubtful, 0, np.abs(units)).astype(np.int64)
    integer = pa.array(whole // 1_000_000).cast(pa.string())
    fraction_text = pc.utf8_rtrim(pc.utf8_lpad(pa.array(whole % 1_000_000).cast(pa.string()), 6, "0"), "0")
    text = pc.utf8_rtrim(pc.binary_join_element_wise(integer, fraction_text, "."), ".")
    text = pc.if_else(pa.array((units < 0) & (whole > 0)), pc.binary_join_element_wise("-", text, ""), text)
    text = pc.if_else(pa.array(finite), text, "")
    if doubtful.any():
        exact = text.to_pylist()
        for i in np.flatnonzero(doubtful).tolist():
            formatted = f"{values[i]:.6f}".rstrip("0").rstrip(".")
            exact[i] = "0" if formatted == "-0" else formatted
        text = pa.array(exact, pa.string())
    return text


def text_cells(values: Any) -> pa.Array:
    """An output column as CSV text: numbers as ``cell`` writes them, labels quoted where needed."""
    if isinstance(values, pa.Array):
        return quoted(values)
    array = np.asarray(values) if not isinstance(values, tuple | list) else None
    if array is not None and array.dtype.kind == "b":
        return pc.if_else(pa.array(array), "true", "false")
    if array is not None and array.dtype.kind in "iu":
        return pa.array(array).cast(pa.string())
    if array is not None and array.dtype.kind == "f":
        return decimals6(array)
    try:
        return quoted(pa.array(list(values) if array is None else array, pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # Decimals of the rule methods, mixed objects
        return quoted(pa.array([cell(value) for value in values], pa.string()))


def cell(value: Any) -> str:
    """Decimals as computed, integers as integers, floats with up to 6 decimals, NaN as empty."""
    if isinstance(value, Decimal):
        return "" if value.is_nan() else str(value)
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)
