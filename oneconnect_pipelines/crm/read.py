"""Read a CRM export (CSV or JSON Lines) into a table of strings with the user's row numbers.

Whole-file problems raise ``CrmFileError`` (the file cannot be trusted at all): an empty
file, bytes that are not UTF-8, a header with repeated names, a quote never closed or
anywhere else RFC 4180 allows none, or a JSON Lines file in which no line is an object.
Problems confined to one row (a CSV row with the wrong number of fields, a JSON line that
does not parse or is not an object) become rejected rows, so the rest of the file still
syncs. Blank lines (and CSV rows whose every field is blank) are skipped and never counted.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from ..masking import mask_text
from ..storage import Location, location
from .quotes import count_outside_quotes, misquoted, records_with_stray_cr

#: The ``string`` dtype read tables use: Arrow-backed, so 100 MB of cells stay compact.
READ_STRING = pd.StringDtype("pyarrow")
ROW = "row"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")

_BOM = codecs.BOM_UTF8
_QUOTE, _NEWLINE, _CR = ord('"'), ord("\n"), ord("\r")
_CHUNK = 1 << 20
#: Arrow's CSV block (its default); larger when a row is longer.
_ARROW_BLOCK = 1 << 20


class CrmFileError(ValueError):
    """A CRM export that cannot be read at all; the message names the file and the place."""


@dataclass(frozen=True)
class Rejection:
    """A row the reader could not turn into values, with the reason a user can act on."""

    row: int
    reason: str


@dataclass(frozen=True, repr=False)
class CrmExport:
    """The readable rows of one export and the rest. ``frame`` holds the file's columns,
    all ``string``, indexed by ``row`` (the line number): an index, not a column, so a
    file may have a column of that name too."""

    path: Location
    columns: tuple[str, ...]
    frame: pd.DataFrame
    rejected: tuple[Rejection, ...] = field(default=())

    def __repr__(self) -> str:  # never the cells: they hold phone numbers and birthdays
        return (
            f"CrmExport({self.path.name!r}, rows={len(self.frame)}, "
            f"rejected={len(self.rejected)}, columns={len(self.columns)})"
        )


def read_export(path: str | Location, data: bytes | None = None) -> CrmExport:
    """Read ``path`` (or ``data``, its bytes already read): JSON Lines when its suffix
    says so, CSV otherwise."""
    path = location(path)
    if data is None:
        data = path.read_bytes()
    json_lines = path.suffix.lower() in JSON_LINES_SUFFIXES
    if not json_lines:
        data = _lf_line_ends(data)
    start = len(_BOM) if data.startswith(_BOM) else 0
    _check_utf8(path, data, start)
    if not data[start:].strip():
        raise CrmFileError(f"{path.name}: the file is empty")
    if json_lines:
        return _read_json_lines(path, data, start)
    return _read_csv(path, data, start)


def _lf_line_ends(data: bytes) -> bytes:
    """A classic Mac export (Excel's "CSV (Macintosh)") ends its lines with a lone CR:
    read those as LF, so rows and line numbers come out as the user sees them. Only a
    file with no LF outside quotes is one; in any other file a lone CR is part of a value."""
    first_lf = data.find(b"\n")
    if _CR not in data or (first_lf >= 0 and data.count(b'"', 0, first_lf) % 2 == 0):
        return data  # the usual case, settled by the first line end
    buffer = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buffer == _QUOTE)
    newlines = np.flatnonzero(buffer == _NEWLINE)
    if (np.searchsorted(quotes, newlines) % 2 == 0).any():
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


# ----------------------------------------------------------------------------- encoding
def _check_utf8(path: Location, data: bytes, start: int) -> None:
    """Decode in 1 MB steps (nothing kept) so a bad byte is found with its position."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for offset in range(start, len(data), _CHUNK):
        held = len(decoder.getstate()[0])  # bytes of a character split across chunks
        try:
            decoder.decode(view[offset : offset + _CHUNK], final=offset + _CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            bad = offset - held + exc.start
            line = data.count(b"\n", 0, bad) + 1
            column = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
            raise CrmFileError(
                f"{path.name}: line {line} is not UTF-8 (byte 0x{data[bad]:02x} at column "
                f"{column}, file offset {bad}); export the file as UTF-8"
            ) from None


# ----------------------------------------------------------------------------- CSV
def _read_csv(path: Location, data: bytes, start: int) -> CrmExport:
    buffer = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buffer == _QUOTE)
    newlines = np.flatnonzero(buffer == _NEWLINE)
    # A newline inside quotes is part of a value; every other one ends a record. Quotes
    # pair in file order, which is right only if the quoting is: _check_quotes, below.
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([start], ends + 1))
    ends = np.concatenate((ends, [len(data)]))
    blank = _blank(buffer, starts, ends)
    lines = np.searchsorted(newlines, starts) + 1  # physical line each record starts on

    content = np.flatnonzero(~blank)
    header_index = int(content[0])
    header_line = data[starts[header_index] : ends[header_index]].decode("utf-8").rstrip("\r")
    separator = (
        ";"
        if count_outside_quotes(header_line, ";") > count_outside_quotes(header_line, ",")
        else ","
    )
    bad = misquoted(buffer, quotes, newlines, starts, ends, separator)
    if bad is not None:
        raise CrmFileError(f"{path.name}: {bad}")
    columns = _header(path, header_line, separator, int(lines[header_index]))

    seps = np.flatnonzero(buffer == ord(separator))
    seps = seps[np.searchsorted(quotes, seps) % 2 == 0]
    fields = np.bincount(np.searchsorted(ends, seps), minlength=len(starts)) + 1
    records = content[content > header_index]
    stray = np.zeros(len(starts), dtype=bool)
    stray[records_with_stray_cr(buffer, quotes, ends)] = True
    reasons = {
        int(i): f"has {int(fields[i])} field(s) where the header has {len(columns)} "
        f"(separator {separator!r})"
        for i in records[fields[records] != len(columns)]
    }
    reasons.update(
        {
            int(i): "holds a carriage return (CR) inside an unquoted value; quote the value"
            for i in records[stray[records]]
        }
    )
    rejected = [Rejection(int(lines[i]), reason) for i, reason in sorted(reasons.items())]
    good = records[(fields[records] == len(columns)) & ~stray[records]]
    good_lines = lines[good]

    skipped = 0

    def skip(_row: Any) -> str:
        nonlocal skipped
        skipped += 1
        return "skip"

    if not len(good):
        empty_frame = pd.DataFrame(
            {name: pd.array([], dtype=READ_STRING) for name in columns},
            index=_row_index([]),
        )
        return CrmExport(path, columns, empty_frame, tuple(rejected))
    body = _body(data, starts[good], ends[good])
    longest = int((ends[good] - starts[good]).max(initial=0))
    table = pa_csv.read_csv(
        pa.BufferReader(body),
        read_options=pa_csv.ReadOptions(
            column_names=list(columns),
            use_threads=True,
            block_size=max(_ARROW_BLOCK, 2 * longest),  # a row must fit in one block
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=separator,
            quote_char='"',
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=skip,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_rows != len(good_lines) or skipped:
        raise CrmFileError(
            f"{path.name}: rows could not be told apart reliably (a quote inside an "
            f"unquoted value?); quote every value that contains {separator!r}, '\"' or a newline"
        )
    frame = table.to_pandas(types_mapper={pa.string(): READ_STRING}.get)
    del table
    frame.index = _row_index(good_lines)
    empty = pd.Series(True, index=frame.index)
    for name in columns:  # a row of blank cells is a blank line a spreadsheet padded
        empty &= frame[name].str.strip() == ""
    return CrmExport(path, columns, frame[~empty], tuple(rejected))


def _blank(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Any:
    """Which records are empty or hold only spaces, tabs and CRs: skipped, never counted."""
    blank = ends == starts
    filled = np.flatnonzero(~blank)
    if len(filled):
        visible = buffer != ord(" ")
        visible &= buffer != ord("\t")
        visible &= buffer != _CR
        visible &= buffer != _NEWLINE
        # each filled record's bytes run on to the next filled one's start: line ends
        # and empty records between them, nothing visible
        blank[filled] = ~np.logical_or.reduceat(visible, starts[filled])
    return blank


def _body(data: bytes, starts: np.ndarray, ends: np.ndarray) -> pa.Buffer:
    """The bytes of these records, each with its line end: a slice of the file when they
    follow one another (the usual file), else runs of adjacent records joined."""
    stops = np.minimum(ends + 1, len(data))
    breaks = np.flatnonzero(starts[1:] != stops[:-1]) + 1
    firsts, lasts = np.concatenate(([0], breaks)), np.concatenate((breaks - 1, [len(starts) - 1]))
    if len(firsts) == 1:
        return pa.py_buffer(data).slice(int(starts[0]), int(stops[-1] - starts[0]))
    view = memoryview(data)
    runs = zip(starts[firsts], stops[lasts], strict=True)
    return pa.py_buffer(b"".join(view[begin:stop] for begin, stop in runs))


def _header(path: Location, line: str, separator: str, number: int) -> tuple[str, ...]:
    """The column names on line ``number``. A line of customer data instead (an export
    saved without its header) is refused: its first customer would be lost as a header
    and every message naming the columns would show that customer's data."""
    try:
        names = next(csv.reader([line], delimiter=separator))
    except csv.Error as exc:  # a lone CR inside a file of LF lines
        raise CrmFileError(
            f"{path.name}: the header on line {number} cannot be read ({exc})"
        ) from None
    data_like = [str(i) for i, name in enumerate(names, start=1) if looks_like_data(name)]
    if data_like:
        raise CrmFileError(
            f"{path.name}: line {number} is not a header: column(s) {', '.join(data_like)} "
            "hold what looks like a phone number, a date or an e-mail; export the file "
            "with its header row (the column names) first"
        )
    columns = tuple(
        name.strip() or f"unnamed_{position}" for position, name in enumerate(names, start=1)
    )
    first_at: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if name in first_at:
            raise CrmFileError(
                f"{path.name}: the header names column {name!r} twice "
                f"(columns {first_at[name]} and {position})"
            )
        first_at[name] = position
    return columns


def looks_like_data(text: str) -> bool:
    """A cell that reads like a customer's phone number, birthday or e-mail rather than a
    column's name: six digits or more (however spaced), an ``@``, or a date."""
    return sum(char.isdigit() for char in text) >= 6 or "@" in text or mask_text(text) != text


def column_list(columns: Sequence[str]) -> str:
    """``1 'First Name', 2 'Phone'``: columns by position, for messages. A name that looks
    like a customer's data is not shown (messages reach run logs)."""
    return ", ".join(
        f"{position} (not shown: it looks like data)"
        if looks_like_data(name)
        else f"{position} {name!r}"
        for position, name in enumerate(columns, start=1)
    )


# ----------------------------------------------------------------------------- JSON Lines
def _read_json_lines(path: Location, data: bytes, start: int) -> CrmExport:
    """One object per line. Parsed line by line (orjson, C speed) because one broken line
    must cost only that row, which no whole-file JSON reader allows."""
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    rejected: list[Rejection] = []
    for number, raw in enumerate(data[start:].split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            rejected.append(Rejection(number, f"is not valid JSON ({_json_reason(exc)})"))
            continue
        if not isinstance(value, dict):
            rejected.append(Rejection(number, f"is a JSON {type(value).__name__}, not an object"))
            continue
        data_like = [str(i) for i, key in enumerate(value, start=1) if looks_like_data(key)]
        if data_like:  # keyed by a customer's number: the key would reach every message
            rejected.append(
                Rejection(
                    number,
                    f"field(s) {', '.join(data_like)} are named with what looks like a "
                    "phone number, a date or an e-mail, not a column name",
                )
            )
            continue
        try:
            records.append({str(key): _json_text(key, item) for key, item in value.items()})
        except ValueError as exc:
            rejected.append(Rejection(number, str(exc)))
            continue
        lines.append(number)
    if not records and rejected:
        if data[start:].lstrip().startswith(b"["):
            raise CrmFileError(
                f"{path.name}: a JSON array, not JSON Lines; export one object per line "
                "(.jsonl, .ndjson or .json)"
            )
        raise CrmFileError(
            f"{path.name}: no line is a JSON object (line {rejected[0].row} {rejected[0].reason})"
        )
    columns = tuple(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame(
        {
            name: pd.array([record.get(name) for record in records], dtype=READ_STRING)
            for name in columns
        },
        index=_row_index(lines),
    )
    return CrmExport(path, columns, frame, tuple(rejected))


def _row_index(lines: Any) -> pd.Index:
    return pd.Index(pd.array(lines, dtype="Int64"), name=ROW)


def _json_text(key: str, value: Any) -> str | None:
    """JSON values as the strings a CSV would have held; objects have no such form."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return ", ".join(str(item) for item in value)
    raise ValueError(f"field {key!r} holds a JSON {type(value).__name__}, not a value")


def _json_reason(exc: orjson.JSONDecodeError) -> str:
    # Only the parser's description and column: the line's text may hold a phone number.
    return f"{exc.msg.split(':')[0]} at column {exc.colno}"
