"""Lists of points as text: one ``lat,lon`` line each (e.g. ``airspace check --json-lines``)."""

from __future__ import annotations

import io
import math

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = ["parse_latlon_lines"]


def parse_latlon_lines(
    text: str, source: str = "input"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Parse ``lat,lon`` lines (blank lines and ``#`` comments skipped).

    The plain case goes through numpy's C parser; anything else is parsed line by line so
    that a bad line is named.

    Parameters
    ----------
    text : str
        The lines.
    source : str
        Where they come from, for messages (e.g. ``"stdin"``).

    Returns
    -------
    lat, lon : (n,) ndarray, degrees

    Raises
    ------
    InvalidParameterError
        ``"<source> line N must be lat,lon (got ...)"`` for the first bad line.
    """
    # lazily: stops at the first line with data
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in io.StringIO(text)):
        return np.zeros(0), np.zeros(0)
    try:
        data = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, comments="#")
        if data.shape[1] == 2 and np.all(np.isfinite(data)):
            return data[:, 0].copy(), data[:, 1].copy()
    except ValueError:
        pass
    lats: list[float] = []
    lons: list[float] = []
    for n, line in enumerate(text.splitlines(), start=1):
        cell = line.strip()
        if not cell or cell.startswith("#"):
            continue
        parts = [p.strip() for p in cell.split(",")]
        try:
            lat, lon = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
        except ValueError:
            lat, lon = math.nan, math.nan
        if not (math.isfinite(lat) and math.isfinite(lon)):
            shown = cell if len(cell) <= 80 else cell[:80] + "…"
            raise InvalidParameterError(f"{source} line {n} must be lat,lon (got {shown!r})")
        lats.append(lat)
        lons.append(lon)
    return np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64)
