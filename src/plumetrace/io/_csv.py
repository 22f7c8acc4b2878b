"""CSV plumbing shared by the text-table readers (sniffer readings, wind, tracks).

Header names are matched case-insensitively with surrounding whitespace ignored; blank
lines and lines starting with ``#`` are skipped; a UTF-8 byte-order mark is accepted; a
file may hold at most :data:`MAX_ROWS` data rows. Every problem is a one-line
:class:`~plumetrace.errors.FormatError` or :class:`~plumetrace.errors.DataSourceError`
naming the file and line.
"""

from __future__ import annotations

import array
import csv
import datetime as dt
import math
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Self

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.tables import number_field

__all__ = [
    "MAX_ROWS",
    "CsvTable",
    "TimeColumn",
    "as_array",
    "doubles",
    "format_time",
    "not_negative",
    "records",
    "turbulence_field",
    "wrap_deg",
]

MAX_ROWS = 2_000_000
"""Most data rows one readings, beams, wind or track file may hold."""


def records(path: Path, what: str) -> Generator[tuple[int, list[str]], None, None]:
    """Yield ``(line number, fields)`` of each non-blank, non-comment CSV record."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise DataSourceError(path, f"{what} not found") from exc
    except IsADirectoryError as exc:
        raise DataSourceError(path, f"is a directory, not a {what}") from exc
    except OSError as exc:
        raise DataSourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    line_of = [0]  # the number of the last line the CSV reader consumed

    def lines() -> Iterator[str]:
        for n, line in enumerate(handle, start=1):
            line_of[0] = n
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                yield line

    with handle:
        try:
            for fields in csv.reader(lines()):
                yield line_of[0], fields
        except UnicodeDecodeError as exc:
            raise FormatError(path, f"not a UTF-8 text file (byte {exc.start})") from exc
        except csv.Error as exc:
            raise FormatError(path, f"line {line_of[0]}: {exc}") from exc
        except OSError as exc:
            raise DataSourceError(path, f"cannot read: {exc.strerror or exc}") from exc


class CsvTable:
    """A CSV file's header and its data records, counted against :data:`MAX_ROWS`."""

    def __init__(self, path: Path, what: str, known: Sequence[str]) -> None:
        self.path = path
        self.what = what
        self._records: Generator[tuple[int, list[str]], None, None] = records(path, what)
        try:
            first = next(self._records, None)
            if first is None:
                raise FormatError(path, f"no {what}: the file is empty")
            self._read_header(first, known)
        except BaseException:
            self.close()
            raise
        self.rows = 0

    def _read_header(self, first: tuple[int, list[str]], known: Sequence[str]) -> None:
        self.header_line, raw = first
        self.header = [h.strip().lower() for h in raw]
        self.index: dict[str, int] = {}
        for k, name in enumerate(self.header):
            if name in known and name in self.index:
                raise FormatError(
                    self.path,
                    f"line {self.header_line}: column {name!r} appears twice in the header",
                )
            self.index.setdefault(name, k)

    def close(self) -> None:
        """Close the file (also when reading stopped early)."""
        self._records.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        """Return whether the header names column ``name``."""
        return name in self.index

    def missing(self, names: Sequence[str]) -> list[str]:
        """Return the ``names`` the header lacks."""
        return [n for n in names if n not in self.index]

    def fail_missing(self, missing: Sequence[str], expected: str) -> None:
        """Raise the FormatError naming the missing columns and what was expected."""
        found = ", ".join(repr(h) for h in self.header if h) or "nothing"
        noun = "column" if len(missing) == 1 else "columns"
        raise FormatError(
            self.path,
            f"line {self.header_line}: missing {noun} {', '.join(missing)} (found: {found}); "
            f"{expected}",
        )

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        for lineno, fields in self._records:
            self.rows += 1
            if self.rows > MAX_ROWS:
                raise FormatError(
                    self.path,
                    f"more than {MAX_ROWS:,} rows of {self.what}; split the file or thin "
                    "the readings",
                )
            if len(fields) != width:
                raise FormatError(
                    self.path, f"line {lineno}: {len(fields)} fields, the header has {width}"
                )
            yield lineno, fields

    def require_rows(self) -> None:
        """Raise a FormatError if the file had a header but no rows."""
        if self.rows == 0:
            raise FormatError(self.path, f"no {self.what}: the file has a header but no rows")


def not_negative(text: str, path: Path, lineno: int, column: str) -> float:
    value = number_field(text, path, lineno, column)
    if value < 0.0:
        raise FormatError(path, f"line {lineno}: {column} {text.strip()!r} must not be negative")
    return value


def turbulence_field(text: str, path: Path, lineno: int) -> float:
    """Sigma-theta in degrees; an empty cell is unknown (NaN)."""
    if not text.strip():
        return math.nan
    return not_negative(text, path, lineno, "turbulence")


class TimeColumn:
    """Parses one file's time column, refusing a mix of ISO 8601 and seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.absolute: bool | None = None
        self._first_line = 0

    def parse(self, text: str, lineno: int) -> float:
        """Return the time in seconds of one cell (ISO 8601 -> seconds since 1970 UTC)."""
        s = text.strip()
        if not s:
            raise FormatError(self.path, f"line {lineno}: time is empty")
        absolute = False
        try:
            value = float(s)
        except ValueError:
            absolute = True
            try:
                stamp = dt.datetime.fromisoformat(s)
            except ValueError:
                raise FormatError(
                    self.path,
                    f"line {lineno}: time {s!r} is neither an ISO 8601 time nor a number "
                    "of seconds",
                ) from None
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=dt.UTC)
            value = stamp.timestamp()
        if not math.isfinite(value):
            raise FormatError(self.path, f"line {lineno}: time {s!r} is not finite")
        if self.absolute is None:
            self.absolute, self._first_line = absolute, lineno
        elif absolute != self.absolute:
            kinds = ("seconds", "an ISO 8601 time")
            raise FormatError(
                self.path,
                f"line {lineno}: time {s!r} is {kinds[absolute]} but line {self._first_line} "
                f"gives {kinds[not absolute]}; use one kind of time in the whole column",
            )
        return value


def wrap_deg(deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrap angles to [0, 360) (also when rounding would give exactly 360)."""
    wrapped = np.mod(np.asarray(deg, dtype=np.float64), 360.0) + 0.0
    wrapped[wrapped >= 360.0] = 0.0
    return wrapped


def doubles() -> array.array[float]:
    return array.array("d")


def as_array(values: array.array[float]) -> NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


def format_time(t: float, absolute: bool) -> str:
    if not absolute:
        return f"{t:g} s"
    stamp = dt.datetime.fromtimestamp(t, tz=dt.UTC)
    return stamp.isoformat().replace("+00:00", "Z")
