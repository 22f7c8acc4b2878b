"""WIND.csv: a wind record (speed, direction, turbulence) and its interpolation in time.

``time, wind_speed_m_s, wind_dir_deg[, turbulence]``: one row per distinct time. Wind
directions are meteorological (the bearing the wind blows *from*, degrees clockwise from
north), any finite value wrapped to [0, 360); ``turbulence`` is sigma-theta in degrees.
The record is interpolated linearly in time (directions through their unit vectors, so
350° and 10° average to 0°), held constant beyond its ends, and must reach to within
:data:`WIND_MAX_EXTRAPOLATION_S` of every time asked for. Times are ISO 8601 or seconds,
one kind per file.
"""

from __future__ import annotations

import array
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.io._csv import (
    CsvTable,
    TimeColumn,
    as_array,
    doubles,
    format_time,
    not_negative,
    turbulence_field,
    wrap_deg,
)
from plumetrace.io.tables import number_field

__all__ = [
    "WIND_COLUMNS",
    "WIND_MAX_EXTRAPOLATION_S",
    "WindTable",
    "interpolate_at",
    "interpolate_wind",
    "read_wind",
]

WIND_COLUMNS = ("wind_speed_m_s", "wind_dir_deg")
"""The wind columns of WIND.csv (and of READINGS.csv when it carries its own wind)."""

WIND_MAX_EXTRAPOLATION_S = 600.0
"""How far (s) a reading may lie before the first or after the last wind record."""


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
        :data:`~plumetrace.io._csv.MAX_ROWS` rows.
    """
    p = Path(path)
    required = ("time", *WIND_COLUMNS)
    with CsvTable(p, "wind records", (*required, "turbulence")) as table:
        missing = table.missing(required)
        if missing:
            table.fail_missing(
                missing, "expected 'time,wind_speed_m_s,wind_dir_deg' and optionally 'turbulence'"
            )
        it, isp, idr = (table.index[c] for c in required)
        iturb = table.index.get("turbulence")
        times = TimeColumn(p)
        t, speed, direction, turb = doubles(), doubles(), doubles(), doubles()
        lines = array.array("q")
        for lineno, fields in table:
            t.append(times.parse(fields[it], lineno))
            speed.append(not_negative(fields[isp], p, lineno, "wind_speed_m_s"))
            direction.append(number_field(fields[idr], p, lineno, "wind_dir_deg"))
            turb.append(math.nan if iturb is None else turbulence_field(fields[iturb], p, lineno))
            lines.append(lineno)
        table.require_rows()
        t_a = as_array(t)
        order = np.argsort(t_a, kind="stable")
        t_a, line_a = t_a[order], np.asarray(lines)[order]
        same = np.flatnonzero(np.diff(t_a) == 0.0)
        if same.size:
            k = int(same[0])
            a, b = sorted((int(line_a[k]), int(line_a[k + 1])))
            raise FormatError(
                p,
                f"lines {a} and {b} give the same time "
                f"({format_time(float(t_a[k]), bool(times.absolute))}); one wind record per time",
            )
        return WindTable(
            time_s=t_a,
            wind_speed_m_s=as_array(speed)[order],
            wind_dir_deg=wrap_deg(as_array(direction)[order]),
            turbulence_deg=as_array(turb)[order],
            time_is_absolute=bool(times.absolute),
            path=p,
        )


def _wind_error(table: WindTable, problem: str) -> Exception:
    if table.path is None:
        return InvalidParameterError(f"wind record: {problem}")
    return FormatError(table.path, problem)


def interpolate_at(
    table: WindTable,
    time_s: NDArray[np.float64],
    time_is_absolute: bool | None,
    describe: Callable[[int], str],
    readings_name: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Interpolate (see :func:`interpolate_wind`), naming offending times by ``describe``.

    ``describe(k)`` names the k-th time in errors (e.g. its line in READINGS.csv) and
    ``readings_name`` the file the times come from.
    """
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
                f"{describe(k)} at {format_time(float(time_s[k]), absolute)} lies "
                f"{float(gap[k]):g} s {side} the wind record, which {edge} at "
                f"{format_time(edge_t, absolute)}; the wind must cover every reading to "
                f"within {WIND_MAX_EXTRAPOLATION_S:g} s",
            )
    rad = np.deg2rad(table.wind_dir_deg)
    east = np.interp(time_s, table.time_s, np.sin(rad))
    north = np.interp(time_s, table.time_s, np.cos(rad))
    direction = wrap_deg(np.rad2deg(np.arctan2(east, north)))
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
    return interpolate_at(table, t, time_is_absolute, lambda k: f"time_s[{k}]", "the readings have")
