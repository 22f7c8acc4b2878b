"""Inputs of ``plumetrace locate``: in-situ readings, beam geometry and wind.

Every file is a CSV whose first row names the columns. Header names are matched
case-insensitively with surrounding whitespace ignored; unknown columns are ignored;
blank lines and lines starting with ``#`` are skipped; a UTF-8 byte-order mark is
accepted. A file may hold at most :data:`MAX_ROWS` data rows.

The local frame is metres with x east, y north and z up (height above ground). Wind
directions are meteorological: the bearing the wind blows *from*, degrees clockwise from
north; any finite value is accepted and wrapped to [0, 360). ``turbulence`` is
sigma-theta: the standard deviation of the horizontal wind direction, in degrees.

READINGS.csv
    ``time``
        ISO 8601 (``2017-05-09 11:26:00``, ``2017-05-09T11:26:00Z``,
        ``2017-05-09T12:26:00+01:00``; a time without offset is UTC) or a number of
        seconds (any origin). One file uses one kind.
    ``x_m, y_m, z_m`` *or* ``beam_id``
        A point sensor's position, or the id of a path (open-path laser) in BEAMS.csv.
    ``conc_ppm``
        Total concentration in ppm (path-averaged for beams), not negative.
    ``background_ppm`` (optional)
        Background in ppm, on every row or on none (an all-empty column counts as absent).
    ``wind_speed_m_s, wind_dir_deg`` (both or neither)
        Wind per reading; needed unless a wind file is given, which then wins.
    ``turbulence`` (optional)
        Sigma-theta in degrees; an empty cell means unknown (NaN).

BEAMS.csv
    ``beam_id, sensor_x_m, sensor_y_m, sensor_z_m, reflector_x_m, reflector_y_m,
    reflector_z_m``: one row per beam, unique ids (compared as text after stripping
    whitespace), sensor and reflector at distinct points.

WIND.csv
    ``time, wind_speed_m_s, wind_dir_deg[, turbulence]``: one row per distinct time. It
    is interpolated linearly in time to the readings (directions through their unit
    vectors, so 350° and 10° average to 0°), held constant beyond its ends, and must reach
    to within :data:`WIND_MAX_EXTRAPOLATION_S` of every reading. Its times and the
    readings' must be of the same kind (both ISO 8601 or both seconds). When it has a
    ``turbulence`` column with at least one value, that replaces the readings' own.
"""

from __future__ import annotations

import array
import csv
import datetime as dt
import logging
import math
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io.tables import number_field

__all__ = [
    "BEAMS_COLUMNS",
    "MAX_ROWS",
    "WIND_MAX_EXTRAPOLATION_S",
    "CsvTable",
    "ReadingsTable",
    "TimeColumn",
    "WindTable",
    "interpolate_wind",
    "read_beams",
    "read_readings",
    "read_wind",
]

logger = logging.getLogger(__name__)

MAX_ROWS = 2_000_000
"""Most data rows one readings, beams or wind file may hold."""

WIND_MAX_EXTRAPOLATION_S = 600.0
"""How far (s) a reading may lie before the first or after the last wind record."""

BEAMS_COLUMNS = (
    "beam_id",
    "sensor_x_m",
    "sensor_y_m",
    "sensor_z_m",
    "reflector_x_m",
    "reflector_y_m",
    "reflector_z_m",
)
"""Required columns of BEAMS.csv."""

_POINT = ("x_m", "y_m", "z_m")
_WIND = ("wind_speed_m_s", "wind_dir_deg")
_MIN_BEAM_LENGTH_M = 1e-6

_READINGS_KNOWN = ("time", *_POINT, "beam_id", "conc_ppm", "background_ppm", *_WIND, "turbulence")
_READINGS_EXPECTED = (
    "expected 'time', either 'x_m,y_m,z_m' (point sensor) or 'beam_id' (path sensor), "
    "'conc_ppm', and optionally 'background_ppm', 'wind_speed_m_s,wind_dir_deg' and "
    "'turbulence'"
)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class WindTable:
    """A wind record: N rows sorted by strictly increasing time.

    Attributes
    ----------
    time_s : (N,) ndarray, s
        Times: seconds since 1970-01-01 UTC when ``time_is_absolute``, else as given.
    wind_speed_m_s : (N,) ndarray, m/s
        Mean wind speed, not negative.
    wind_dir_deg : (N,) ndarray, degrees in [0, 360)
        Meteorological direction (from), clockwise from north.
    turbulence_deg : (N,) ndarray, degrees
        Sigma-theta (standard deviation of the horizontal wind direction); NaN where
        unknown (everywhere when the file has no ``turbulence`` column).
    time_is_absolute : bool
        True when the file's times were ISO 8601.
    path : Path or None
        The file the record came from, named in error messages.
    """

    time_s: NDArray[np.float64]
    wind_speed_m_s: NDArray[np.float64]
    wind_dir_deg: NDArray[np.float64]
    turbulence_deg: NDArray[np.float64]
    time_is_absolute: bool
    path: Path | None = None

    def __post_init__(self) -> None:
        n = self.time_s.shape[0] if self.time_s.ndim == 1 else -1
        if n < 1:
            raise InvalidParameterError("a wind record needs a one-dimensional, non-empty time_s")
        for name in ("wind_speed_m_s", "wind_dir_deg", "turbulence_deg"):
            if getattr(self, name).shape != (n,):
                raise InvalidParameterError(f"{name} must have shape ({n},)")
        if np.any(np.diff(self.time_s) <= 0.0):
            raise InvalidParameterError("wind record times must be strictly increasing")

    @property
    def size(self) -> int:
        """Number of wind records N."""
        return int(self.time_s.shape[0])


@dataclass(frozen=True)
class ReadingsTable:
    """M readings as read from READINGS.csv, sorted by time (stably), with their wind.

    Attributes
    ----------
    time_s : (M,) ndarray, s
        Seconds since 1970-01-01 UTC when ``time_is_absolute``, else as given.
    start : (M, 3) ndarray, m
        Point sensor position, or the beam's sensor position (x east, y north, z up).
    end : (M, 3) ndarray, m
        Equal to ``start`` for point readings; the beam's reflector for path readings.
    beam_id : tuple of M str, or None
        Beam id of each path reading; None for point readings.
    conc_ppm : (M,) ndarray, ppm
        Total concentration (path-averaged for beams), not negative.
    background_ppm : (M,) ndarray, ppm, or None
        Background per reading when the file gives it; None to estimate it later.
    wind_speed_m_s : (M,) ndarray, m/s
        Wind speed at each reading, not negative.
    wind_dir_deg : (M,) ndarray, degrees in [0, 360)
        Meteorological wind direction (from), clockwise from north.
    turbulence_deg : (M,) ndarray, degrees
        Sigma-theta (standard deviation of the horizontal wind direction); NaN where
        unknown.
    time_is_absolute : bool
        True when the times were ISO 8601.
    """

    time_s: NDArray[np.float64]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    beam_id: tuple[str, ...] | None
    conc_ppm: NDArray[np.float64]
    background_ppm: NDArray[np.float64] | None
    wind_speed_m_s: NDArray[np.float64]
    wind_dir_deg: NDArray[np.float64]
    turbulence_deg: NDArray[np.float64]
    time_is_absolute: bool

    def __post_init__(self) -> None:
        m = self.conc_ppm.shape[0] if self.conc_ppm.ndim == 1 else -1
        if m < 0:
            raise InvalidParameterError("conc_ppm must be one-dimensional")
        for name in ("start", "end"):
            if getattr(self, name).shape != (m, 3):
                raise InvalidParameterError(f"{name} must have shape ({m}, 3)")
        vectors = ["time_s", "wind_speed_m_s", "wind_dir_deg", "turbulence_deg"]
        if self.background_ppm is not None:
            vectors.append("background_ppm")
        for name in vectors:
            if getattr(self, name).shape != (m,):
                raise InvalidParameterError(f"{name} must have shape ({m},)")
        if self.beam_id is not None and len(self.beam_id) != m:
            raise InvalidParameterError(f"beam_id must hold {m} ids")

    @property
    def size(self) -> int:
        """Number of readings M."""
        return int(self.conc_ppm.shape[0])

    def group_labels(self) -> tuple[str, ...]:
        """Return the beam id of each group of :meth:`groups` (``()`` for point readings).

        Ids are sorted naturally: all-digit ids by their number, before the others,
        which are sorted as text.
        """
        if self.beam_id is None:
            return ()
        return tuple(sorted(set(self.beam_id), key=_natural_key))

    def groups(self) -> NDArray[np.intp]:
        """Return the (M,) group index 0..G-1 of each reading.

        One group per beam id, numbered in the order of :meth:`group_labels`; all zeros
        for point readings. Used for per-beam backgrounds.
        """
        if self.beam_id is None:
            return np.zeros(self.size, dtype=np.intp)
        index = {label: k for k, label in enumerate(self.group_labels())}
        return np.fromiter((index[b] for b in self.beam_id), dtype=np.intp, count=self.size)


def _natural_key(label: str) -> tuple[int, int, str]:
    return (0, int(label), "") if label.isdigit() else (1, 0, label)


# --------------------------------------------------------------------------- CSV plumbing


def _records(path: Path, what: str) -> Generator[tuple[int, list[str]], None, None]:
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
        self._records: Generator[tuple[int, list[str]], None, None] = _records(path, what)
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


def _not_negative(text: str, path: Path, lineno: int, column: str) -> float:
    value = number_field(text, path, lineno, column)
    if value < 0.0:
        raise FormatError(path, f"line {lineno}: {column} {text.strip()!r} must not be negative")
    return value


def _turbulence(text: str, path: Path, lineno: int) -> float:
    """Sigma-theta in degrees; an empty cell is unknown (NaN)."""
    if not text.strip():
        return math.nan
    return _not_negative(text, path, lineno, "turbulence")


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


def _wrap_deg(deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrap angles to [0, 360) (also when rounding would give exactly 360)."""
    wrapped = np.mod(np.asarray(deg, dtype=np.float64), 360.0) + 0.0
    wrapped[wrapped >= 360.0] = 0.0
    return wrapped


def _doubles() -> array.array[float]:
    return array.array("d")


def _as_array(values: array.array[float]) -> NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


def _format_time(t: float, absolute: bool) -> str:
    if not absolute:
        return f"{t:g} s"
    stamp = dt.datetime.fromtimestamp(t, tz=dt.UTC)
    return stamp.isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- beams


def read_beams(path: str | Path) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Read the geometry of the beams of path (open-path laser) sensors.

    Parameters
    ----------
    path : str or Path
        BEAMS.csv with columns ``beam_id, sensor_x_m, sensor_y_m, sensor_z_m,
        reflector_x_m, reflector_y_m, reflector_z_m`` (local metres, x east, y north,
        z up); other columns are ignored.

    Returns
    -------
    dict of str to (sensor, reflector)
        For each beam id (stripped of surrounding whitespace), in file order: the
        sensor's and the reflector's position, each a (3,) ndarray in m.

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        Naming the file and line: missing columns, no beams, wrong field count, an empty
        or duplicate beam id, a non-numeric or non-finite coordinate, a beam of zero
        length, or more than :data:`MAX_ROWS` rows.
    """
    p = Path(path)
    with CsvTable(p, "beams", BEAMS_COLUMNS) as table:
        missing = table.missing(BEAMS_COLUMNS)
        if missing:
            table.fail_missing(missing, f"expected {','.join(BEAMS_COLUMNS)}")
        cols = [table.index[c] for c in BEAMS_COLUMNS]
        beams: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        where: dict[str, int] = {}
        for lineno, fields in table:
            beam = fields[cols[0]].strip()
            if not beam:
                raise FormatError(p, f"line {lineno}: beam_id is empty")
            if beam in beams:
                raise FormatError(
                    p, f"line {lineno}: beam_id {beam!r} is already defined on line {where[beam]}"
                )
            xyz = [
                number_field(fields[k], p, lineno, name)
                for k, name in zip(cols[1:], BEAMS_COLUMNS[1:], strict=True)
            ]
            sensor = np.array(xyz[:3], dtype=np.float64)
            reflector = np.array(xyz[3:], dtype=np.float64)
            if float(np.linalg.norm(reflector - sensor)) <= _MIN_BEAM_LENGTH_M:
                raise FormatError(
                    p,
                    f"line {lineno}: beam {beam!r} has zero length (sensor and reflector are both "
                    f"at {xyz[0]:g}, {xyz[1]:g}, {xyz[2]:g})",
                )
            beams[beam] = (sensor, reflector)
            where[beam] = lineno
        table.require_rows()
        return beams


# --------------------------------------------------------------------------- wind


def read_wind(path: str | Path) -> WindTable:
    """Read a wind record.

    Parameters
    ----------
    path : str or Path
        WIND.csv with columns ``time, wind_speed_m_s, wind_dir_deg`` and optionally
        ``turbulence`` (sigma-theta: the standard deviation of the horizontal wind
        direction, degrees; an empty cell means unknown). Times are ISO 8601 (a time
        without offset is UTC) or seconds; directions are meteorological (from,
        clockwise from north), any finite value.

    Returns
    -------
    WindTable
        Rows sorted by time; directions wrapped to [0, 360).

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        Naming the file and line: missing columns, no rows, wrong field count, a bad
        time (or a mix of ISO 8601 and seconds), a non-numeric or non-finite value, a
        negative speed or turbulence, two rows with the same time, or more than
        :data:`MAX_ROWS` rows.
    """
    p = Path(path)
    required = ("time", *_WIND)
    with CsvTable(p, "wind records", (*required, "turbulence")) as table:
        missing = table.missing(required)
        if missing:
            table.fail_missing(
                missing, "expected 'time,wind_speed_m_s,wind_dir_deg' and optionally 'turbulence'"
            )
        it, isp, idr = (table.index[c] for c in required)
        iturb = table.index.get("turbulence")
        times = TimeColumn(p)
        t, speed, direction, turb = _doubles(), _doubles(), _doubles(), _doubles()
        lines = array.array("q")
        for lineno, fields in table:
            t.append(times.parse(fields[it], lineno))
            speed.append(_not_negative(fields[isp], p, lineno, "wind_speed_m_s"))
            direction.append(number_field(fields[idr], p, lineno, "wind_dir_deg"))
            turb.append(math.nan if iturb is None else _turbulence(fields[iturb], p, lineno))
            lines.append(lineno)
        table.require_rows()
        t_a = _as_array(t)
        order = np.argsort(t_a, kind="stable")
        t_a, line_a = t_a[order], np.asarray(lines)[order]
        same = np.flatnonzero(np.diff(t_a) == 0.0)
        if same.size:
            k = int(same[0])
            a, b = sorted((int(line_a[k]), int(line_a[k + 1])))
            raise FormatError(
                p,
                f"lines {a} and {b} give the same time "
                f"({_format_time(float(t_a[k]), bool(times.absolute))}); one wind record per time",
            )
        return WindTable(
            time_s=t_a,
            wind_speed_m_s=_as_array(speed)[order],
            wind_dir_deg=_wrap_deg(_as_array(direction)[order]),
            turbulence_deg=_as_array(turb)[order],
            time_is_absolute=bool(times.absolute),
            path=p,
        )


def _wind_error(table: WindTable, problem: str) -> Exception:
    if table.path is None:
        return InvalidParameterError(f"wind record: {problem}")
    return FormatError(table.path, problem)


def _interpolate(
    table: WindTable,
    time_s: NDArray[np.float64],
    time_is_absolute: bool | None,
    describe: Callable[[int], str],
    readings_name: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    if time_is_absolute is not None and time_is_absolute != table.time_is_absolute:
        kinds = ("seconds", "ISO 8601 times")
        raise _wind_error(
            table,
            f"the wind record has {kinds[table.time_is_absolute]} but {readings_name} "
            f"{kinds[time_is_absolute]}; use the same kind of time in both",
        )
    t0, t1 = float(table.time_s[0]), float(table.time_s[-1])
    before = t0 - time_s
    after = time_s - t1
    for gap, side, edge, edge_t in ((before, "before", "starts", t0), (after, "after", "ends", t1)):
        bad = np.flatnonzero(gap > WIND_MAX_EXTRAPOLATION_S)
        if bad.size:
            k = int(bad[0])
            absolute = table.time_is_absolute
            raise _wind_error(
                table,
                f"{describe(k)} at {_format_time(float(time_s[k]), absolute)} lies "
                f"{float(gap[k]):g} s {side} the wind record, which {edge} at "
                f"{_format_time(edge_t, absolute)}; the wind must cover every reading to "
                f"within {WIND_MAX_EXTRAPOLATION_S:g} s",
            )
    rad = np.deg2rad(table.wind_dir_deg)
    east = np.interp(time_s, table.time_s, np.sin(rad))
    north = np.interp(time_s, table.time_s, np.cos(rad))
    direction = _wrap_deg(np.rad2deg(np.arctan2(east, north)))
    speed = np.interp(time_s, table.time_s, table.wind_speed_m_s)
    turbulence = np.interp(time_s, table.time_s, table.turbulence_deg)
    return (
        np.asarray(speed, dtype=np.float64),
        direction,
        np.asarray(turbulence, dtype=np.float64),
    )


def interpolate_wind(
    table: WindTable, time_s: ArrayLike, *, time_is_absolute: bool | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Interpolate a wind record to the given times.

    Speed and turbulence are interpolated linearly in time; the direction through the
    east and north components of its unit vector (so it is wrap-safe: 350° and 10°
    average to 0°; exactly opposite directions average to 0°). Beyond the record's ends
    the first or last record is held.

    Parameters
    ----------
    table : WindTable
        The wind record.
    time_s : (M,) array_like, s
        Times, on the same time base as ``table.time_s``.
    time_is_absolute : bool, optional
        Whether ``time_s`` came from ISO 8601 times; when given it must match
        ``table.time_is_absolute``.

    Returns
    -------
    wind_speed_m_s : (M,) ndarray, m/s
    wind_dir_deg : (M,) ndarray, degrees in [0, 360)
        Meteorological direction (from), clockwise from north.
    turbulence_deg : (M,) ndarray, degrees
        Sigma-theta; NaN where the record's neighbouring values are unknown.

    Raises
    ------
    FormatError
        Naming the wind file (when ``table.path`` is set; InvalidParameterError
        otherwise): a time lies more than :data:`WIND_MAX_EXTRAPOLATION_S` before the
        first or after the last record, or ``time_is_absolute`` differs from the record's.
    InvalidParameterError
        If ``time_s`` is not one-dimensional or holds non-finite values.
    """
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    if t.ndim != 1:
        raise InvalidParameterError(f"time_s must be one-dimensional, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InvalidParameterError("time_s holds non-finite values")
    return _interpolate(table, t, time_is_absolute, lambda k: f"time_s[{k}]", "the readings have")


# --------------------------------------------------------------------------- readings


def read_readings(
    path: str | Path,
    *,
    beams: str | Path | None = None,
    wind: str | Path | None = None,
) -> ReadingsTable:
    """Read the in-situ readings of ``plumetrace locate``.

    Parameters
    ----------
    path : str or Path
        READINGS.csv (see the module documentation for its columns): ``time``, then
        ``x_m,y_m,z_m`` (point sensor) or ``beam_id`` (path sensor), ``conc_ppm``, and
        optionally ``background_ppm``, ``wind_speed_m_s,wind_dir_deg`` and
        ``turbulence`` (sigma-theta, degrees).
    beams : str or Path, optional
        BEAMS.csv (see :func:`read_beams`); required when the readings have ``beam_id``.
    wind : str or Path, optional
        WIND.csv (see :func:`read_wind`), interpolated to the reading times; required
        when the readings have no wind columns, and preferred (with a logged warning)
        when they have. Its ``turbulence`` column, if it holds any value, replaces the
        readings' own.

    Returns
    -------
    ReadingsTable
        The M readings sorted by time (stably).

    Raises
    ------
    DataSourceError
        If a file cannot be read.
    FormatError
        Naming the file and, where there is one, the line: missing or ambiguous columns
        (both ``x_m..`` and ``beam_id``; only one wind column), ``beam_id`` without
        ``beams``, no wind, no readings, a bad or mixed time, a non-numeric or non-finite
        value, a negative concentration, speed or turbulence, an unknown beam id,
        ``background_ppm`` on some rows only, more than :data:`MAX_ROWS` rows, and
        the errors of :func:`read_beams` and :func:`read_wind`; a wind file whose times
        are of another kind than the readings' or that ends more than
        :data:`WIND_MAX_EXTRAPOLATION_S` away from a reading (the wind file is named).
    """
    p = Path(path)
    with CsvTable(p, "readings", _READINGS_KNOWN) as table:
        wind_cols = _check_reading_columns(table, beams is not None, wind is not None)
        is_beam = table.has("beam_id")
        beam_table = None if beams is None else read_beams(beams)
        if beam_table is not None and not is_beam:
            logger.warning(
                "%s: point readings (x_m,y_m,z_m); the beams file %s is unused", p, beams
            )
        wind_table = None if wind is None else read_wind(wind)
        if wind_cols and wind_table is not None:
            logger.warning(
                "%s: the wind columns are ignored; the wind comes from the wind file %s", p, wind
            )
        wind_file_turbulence = wind_table is not None and bool(
            np.any(np.isfinite(wind_table.turbulence_deg))
        )
        if table.has("turbulence") and wind_file_turbulence:
            logger.warning(
                "%s: the turbulence column is ignored; the turbulence comes from the wind file %s",
                p,
                wind,
            )
        rows = _read_reading_rows(table, beam_table, beams, wind_columns=wind_table is None)

    order = np.argsort(rows.time_s, kind="stable")
    t_a = rows.time_s[order]
    m = t_a.shape[0]
    beam_ids: tuple[str, ...] | None = None
    if beam_table is not None and rows.beam_id is not None:
        beam_ids = tuple(rows.beam_id[k] for k in order)
        start = np.array([beam_table[b][0] for b in beam_ids], dtype=np.float64).reshape(m, 3)
        end = np.array([beam_table[b][1] for b in beam_ids], dtype=np.float64).reshape(m, 3)
    else:
        start = rows.xyz[order]
        end = start.copy()
    turbulence = rows.turbulence[order]
    if wind_table is not None:
        line_sorted = rows.lines[order]
        speed, direction, wind_turb = _interpolate(
            wind_table,
            t_a,
            rows.time_is_absolute,
            lambda k: f"the reading on line {int(line_sorted[k])} of {p}",
            f"{p} has",
        )
        if wind_file_turbulence:
            turbulence = wind_turb
    else:
        speed = rows.wind_speed[order]
        direction = _wrap_deg(rows.wind_dir[order])
    return ReadingsTable(
        time_s=t_a,
        start=start,
        end=end,
        beam_id=beam_ids,
        conc_ppm=rows.conc[order],
        background_ppm=None if rows.background is None else rows.background[order],
        wind_speed_m_s=speed,
        wind_dir_deg=direction,
        turbulence_deg=turbulence,
        time_is_absolute=rows.time_is_absolute,
    )


def _check_reading_columns(table: CsvTable, has_beams: bool, has_wind: bool) -> list[str]:
    """Check READINGS.csv's header; return the wind columns it has (both or none)."""
    p, line = table.path, table.header_line
    point_cols = [c for c in _POINT if table.has(c)]
    is_beam = table.has("beam_id")
    if is_beam and point_cols:
        raise FormatError(
            p,
            f"line {line}: the header has both 'beam_id' and "
            f"{', '.join(repr(c) for c in point_cols)}; a file holds either point readings "
            "(x_m,y_m,z_m) or path readings (beam_id), not both",
        )
    missing = table.missing(["time"])
    if not is_beam:
        missing += (
            table.missing(_POINT) if point_cols else ["x_m,y_m,z_m (point sensor) or beam_id"]
        )
    missing += table.missing(["conc_ppm"])
    if missing:
        table.fail_missing(missing, _READINGS_EXPECTED)
    wind_cols = [c for c in _WIND if table.has(c)]
    if len(wind_cols) == 1:
        other = next(c for c in _WIND if c not in wind_cols)
        raise FormatError(
            p,
            f"line {line}: the header has {wind_cols[0]!r} but not {other!r}; "
            "give both wind columns, or neither and pass --wind WIND.csv",
        )
    if not wind_cols and not has_wind:
        raise FormatError(
            p,
            f"line {line}: no wind: add the columns 'wind_speed_m_s' and 'wind_dir_deg', "
            "or pass --wind WIND.csv",
        )
    if is_beam and not has_beams:
        raise FormatError(
            p,
            f"line {line}: the readings name beams (column 'beam_id'); pass "
            "--beams BEAMS.csv with each beam's sensor and reflector positions",
        )
    return wind_cols


@dataclass(frozen=True)
class _ReadingRows:
    """READINGS.csv's values in file order (wind arrays empty unless read)."""

    lines: NDArray[np.int64]
    time_s: NDArray[np.float64]
    time_is_absolute: bool
    xyz: NDArray[np.float64]
    beam_id: list[str] | None
    conc: NDArray[np.float64]
    background: NDArray[np.float64] | None
    wind_speed: NDArray[np.float64]
    wind_dir: NDArray[np.float64]
    turbulence: NDArray[np.float64]


def _read_reading_rows(
    table: CsvTable,
    beam_table: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] | None,
    beams: str | Path | None,
    *,
    wind_columns: bool,
) -> _ReadingRows:
    p = table.path
    col = table.index
    it, ic = col["time"], col["conc_ppm"]
    ibeam, ibg, iturb = col.get("beam_id"), col.get("background_ppm"), col.get("turbulence")
    ipos = [] if ibeam is not None else [col[c] for c in _POINT]
    iwind = [col[c] for c in _WIND] if wind_columns else []
    times = TimeColumn(p)
    t, conc, bg, turb = _doubles(), _doubles(), _doubles(), _doubles()
    xyz = (_doubles(), _doubles(), _doubles())
    speed, direction = _doubles(), _doubles()
    lines = array.array("q")
    ids: list[str] = []
    interned: dict[str, str] = {}
    bg_given_line = bg_empty_line = 0
    for lineno, fields in table:
        t.append(times.parse(fields[it], lineno))
        if ibeam is not None:
            beam = fields[ibeam].strip()
            if not beam:
                raise FormatError(p, f"line {lineno}: beam_id is empty")
            if beam_table is not None and beam not in beam_table:
                known = ", ".join(sorted(beam_table, key=_natural_key))
                raise FormatError(
                    p, f"line {lineno}: beam_id {beam!r} is not in {beams} (it defines: {known})"
                )
            ids.append(interned.setdefault(beam, beam))
        for store, k, name in zip(xyz, ipos, _POINT, strict=False):
            store.append(number_field(fields[k], p, lineno, name))
        conc.append(_not_negative(fields[ic], p, lineno, "conc_ppm"))
        if ibg is not None:
            if fields[ibg].strip():
                bg.append(number_field(fields[ibg], p, lineno, "background_ppm"))
                bg_given_line = bg_given_line or lineno
            else:
                bg.append(math.nan)
                bg_empty_line = bg_empty_line or lineno
            if bg_given_line and bg_empty_line:
                state = "empty" if lineno == bg_empty_line else "given"
                first = bg_given_line if state == "empty" else bg_empty_line
                other = "gives one" if state == "empty" else "leaves it empty"
                raise FormatError(
                    p,
                    f"line {lineno}: background_ppm is {state} but line {first} {other}; "
                    "give it on every row or on none",
                )
        if iwind:
            speed.append(_not_negative(fields[iwind[0]], p, lineno, "wind_speed_m_s"))
            direction.append(number_field(fields[iwind[1]], p, lineno, "wind_dir_deg"))
        turb.append(math.nan if iturb is None else _turbulence(fields[iturb], p, lineno))
        lines.append(lineno)
    table.require_rows()
    m = len(t)
    return _ReadingRows(
        lines=np.asarray(lines, dtype=np.int64),
        time_s=_as_array(t),
        time_is_absolute=bool(times.absolute),
        xyz=np.column_stack([_as_array(c) for c in xyz]) if ipos else np.zeros((m, 3)),
        beam_id=ids if ibeam is not None else None,
        conc=_as_array(conc),
        background=_as_array(bg) if bg_given_line else None,
        wind_speed=_as_array(speed),
        wind_dir=_as_array(direction),
        turbulence=_as_array(turb),
    )
