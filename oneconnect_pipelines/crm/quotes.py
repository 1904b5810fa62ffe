"""CSV quoting for the CRM reader: whether a file's quotes follow RFC 4180, and where
characters fall outside quoted values. Rows are told apart by pairing quotes across the
file (numpy, no per-line Python), which is right only when the quoting is."""

from __future__ import annotations

from typing import Any

import numpy as np

_NEWLINE, _CR = ord("\n"), ord("\r")


def misquoted(
    buffer: np.ndarray,
    quotes: np.ndarray,
    newlines: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    separator: str,
) -> str | None:
    """RFC 4180 quoting, checked for the whole file at once: a value is either unquoted
    with no quote in it, or quoted with each quote inside written twice and its closing
    quote followed by the separator, a line end or the end of the file. Rows are told
    apart by pairing quotes in file order, so one quote anywhere else (``12" pizza``, a
    quote never closed) would fold the rows after it into one value, to be neither
    synced nor rejected. The first bad quote, described by its line and field (never by
    the cells: they hold phone numbers); None when the quoting is right."""
    size, sep = len(buffer), ord(separator)
    opening, closing = quotes[0::2], quotes[1::2]
    # a quote written twice is a closing quote with the next opening one right after it
    follower = np.full(len(closing), -1, dtype=np.int64)
    follower[: len(opening) - 1] = opening[1:]
    doubled = follower == closing + 1
    after_doubled = np.zeros(len(opening), dtype=bool)
    after_doubled[1:] = doubled[: len(opening) - 1]
    before = buffer[np.maximum(opening - 1, 0)]
    # ``starts[0]`` is where the data begins (after a BOM)
    opens_well = (opening == starts[0]) | (before == sep) | (before == _NEWLINE) | after_doubled
    after = buffer[np.minimum(closing + 1, size - 1)]
    # a CR that is not part of a CRLF is the stray-CR check's (a rejected row)
    closes_well = (closing + 1 == size) | (after == sep) | (after == _NEWLINE) | (after == _CR)
    closes_well |= doubled
    bad_open = opening[~opens_well][:1]
    bad_close = closing[~closes_well][:1]

    def line(position: int) -> int:
        return int(np.searchsorted(newlines, position)) + 1

    def field(position: int) -> int:
        """The field ``position`` is in, counted from its record's start (the records
        before the first bad quote are told apart right)."""
        record = int(np.searchsorted(ends, position))
        text = buffer[starts[record] : position].tobytes().decode("utf-8", errors="replace")
        return count_outside_quotes(text, separator) + 1

    fix = "quote the whole value and write each quote inside it twice"
    if len(bad_open) and (not len(bad_close) or bad_open[0] < bad_close[0]):
        at = int(bad_open[0])
        return (
            f"line {line(at)}, field {field(at)}: a quote inside a value that is not quoted; {fix}"
        )
    if len(bad_close):
        at = int(bad_close[0])
        opened = int(quotes[np.searchsorted(quotes, at) - 1])
        place = f"line {line(opened)}, field {field(opened)}"
        if line(opened) == line(at):
            return f"{place}: a quoted value goes on after its closing quote; {fix}"
        return (
            f"{place}: a quote opens a value that is not closed where a value can end (the "
            f"next quote, on line {line(at)}, is followed by more text); close the quote, "
            f"or {fix}"
        )
    if len(quotes) % 2:
        at = int(quotes[-1])
        return f"a quote is never closed (the last one is on line {line(at)}, field {field(at)})"
    return None


def records_with_stray_cr(buffer: np.ndarray, quotes: np.ndarray, ends: np.ndarray) -> Any:
    """Records with a CR outside quotes that does not end the line (``Ann\rMarie``):
    Arrow would end the row there, where the rows were told apart by LF alone."""
    crs = np.flatnonzero(buffer == _CR)
    crs = crs[(np.searchsorted(quotes, crs) % 2 == 0) & (crs + 1 < len(buffer))]
    following = buffer[crs + 1]
    stray = crs[(following != _CR) & (following != _NEWLINE)]
    return np.unique(np.searchsorted(ends, stray))


def count_outside_quotes(line: str, char: str) -> int:
    """How often ``char`` appears in ``line`` outside quoted values."""
    return sum(part.count(char) for part in line.split('"')[::2])
