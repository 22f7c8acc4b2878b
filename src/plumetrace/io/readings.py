"""Inputs of ``plumetrace locate``: in-situ readings, beam geometry and wind.

Every file is a CSV whose first row names the columns. Header names are matched
case-insensitively with surrounding whitespace ignored; unknown columns are ignored;
blank lines and lines starting with ``#`` are skipped; a UTF-8 byte-order mark is
accepted. A file may hold at most :data:`~plumetrace.io._csv.MAX_ROWS` data rows. The
wind file is read by :mod:`plumetrace.io.wind`.

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
    to within :data:`~plumetrace.io.wind.WIND_MAX_EXTRAPOLATION_S` of every reading. Its
    times and the readings' must be of the same kind (both ISO 8601 or both seconds). When it has a
    ``turbulence`` column with at least one value, that replaces the readings' own.
"""

from __future__ import annotations

import array
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.io._csv import (
    CsvTable,
    TimeColumn,
    as_array,
    doubles,
    not_negative,
    turbulence_field,
    wrap_deg,
)
from plumetrace.io.tables import number_field
from plumetrace.io.wind import WIND_COLUMNS, interpolate_at, read_wind

__all__ = ["BEAMS_COLUMNS", "ReadingsTable", "read_beams", "read_readings"]

logger = logging.getLogger(__name__)

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
_WIND = WIND_COLUMNS
_MIN_BEAM_LENGTH_M = 1e-6

_READINGS_KNOWN = ("time", *_POINT, "beam_id", "conc_ppm", "background_ppm", *_WIND, "turbulence")
_READINGS_EXPECTED = (
    "expected 'time', either 'x_m,y_m,z_m' (point sensor) or 'beam_id' (path sensor), "
    "'conc_ppm', and optionally 'background_ppm', 'wind_speed_m_s,wind_dir_deg' and "
    "'turbulence'"
)


# --------------------------------------------------------------------------- tables


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
    # all-ASCII-digit ids by their number, compared as (length, text) without leading
    # zeros: int() refuses digits such as "²" and numbers of over 4300 digits
    if label.isascii() and label.isdigit():
        number = label.lstrip("0")
        return (0, len(number), number)
    return (1, 0, label)


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
        length, or more than :data:`~plumetrace.io._csv.MAX_ROWS` rows.
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
        ``background_ppm`` on some rows only, more than
        :data:`~plumetrace.io._csv.MAX_ROWS` rows, and
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
        speed, direction, wind_turb = interpolate_at(
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
        direction = wrap_deg(rows.wind_dir[order])
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
    t, conc, bg, turb = doubles(), doubles(), doubles(), doubles()
    xyz = (doubles(), doubles(), doubles())
    speed, direction = doubles(), doubles()
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
        conc.append(not_negative(fields[ic], p, lineno, "conc_ppm"))
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
            speed.append(not_negative(fields[iwind[0]], p, lineno, "wind_speed_m_s"))
            direction.append(number_field(fields[iwind[1]], p, lineno, "wind_dir_deg"))
        turb.append(math.nan if iturb is None else turbulence_field(fields[iturb], p, lineno))
        lines.append(lineno)
    table.require_rows()
    m = len(t)
    return _ReadingRows(
        lines=np.asarray(lines, dtype=np.int64),
        time_s=as_array(t),
        time_is_absolute=bool(times.absolute),
        xyz=np.column_stack([as_array(c) for c in xyz]) if ipos else np.zeros((m, 3)),
        beam_id=ids if ibeam is not None else None,
        conc=as_array(conc),
        background=as_array(bg) if bg_given_line else None,
        wind_speed=as_array(speed),
        wind_dir=as_array(direction),
        turbulence=as_array(turb),
    )
