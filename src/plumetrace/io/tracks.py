"""Flown tracks: GPX, CSV (``time,lat,lon,alt_m``) and MAVLink telemetry logs.

* **GPX** 1.0/1.1: every ``trkpt`` (``lat``, ``lon`` attributes, ``<time>``, ``<ele>``).
* **CSV**: columns ``time`` (ISO 8601 or seconds), ``lat``, ``lon``, ``alt_m`` (optional).
* **MAVLink** (``.tlog`` telemetry logs, ArduPilot ``.bin`` dataflash logs), read with
  pymavlink: ``GLOBAL_POSITION_INT`` (tlog) or ``GPS`` (bin) messages, timed by the log.

Samples are returned in time order. Out-of-order samples are sorted and exact duplicates
dropped, each with a warning the audit report carries; two different positions at one
time, missing fields, unreadable or corrupt files are a :class:`FormatError` naming the
file.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io._csv import MAX_ROWS, CsvTable, TimeColumn
from plumetrace.io.tables import number_field

__all__ = ["Track", "read_track"]


@dataclass(frozen=True)
class Track:
    """A flown track in time order.

    Attributes
    ----------
    time_s : (n,) ndarray, s
        Seconds since 1970-01-01 UTC (absolute) or since an arbitrary origin.
    lat, lon : (n,) ndarray, degrees
    alt_m : (n,) ndarray, m
        NaN where unknown.
    time_is_absolute : bool
    warnings : list of str
        What was repaired while reading (sorted, duplicates dropped).
    """

    time_s: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    time_is_absolute: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of samples."""
        return int(self.time_s.shape[0])


def _finish(
    path: Path,
    t: NDArray[np.float64],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    alt: NDArray[np.float64],
    absolute: bool,
) -> Track:
    if t.size == 0:
        raise FormatError(path, "no track points")
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(path, f"point {i + 1}: lat {lat[i]}, lon {lon[i]} is not a position")
    warnings: list[str] = []
    if np.all(t[1:] > t[:-1]):
        return Track(t, lat, lon, alt, absolute, warnings)  # in order, no duplicates
    if np.any(np.diff(t) < 0):
        warnings.append(f"{path.name}: samples were out of time order and have been sorted")
    order = np.lexsort((lon, lat, t))
    t, lat, lon, alt = t[order], lat[order], lon[order], alt[order]
    same_time = np.flatnonzero(np.diff(t) == 0) + 1
    if same_time.size:
        moved = (lat[same_time] != lat[same_time - 1]) | (lon[same_time] != lon[same_time - 1])
        if np.any(moved):
            k = int(same_time[np.flatnonzero(moved)[0]])
            raise FormatError(
                path, f"two different positions at one time ({t[k]} s): the track is ambiguous"
            )
        keep = np.ones(t.size, dtype=bool)
        keep[same_time] = False
        t, lat, lon, alt = t[keep], lat[keep], lon[keep], alt[keep]
        warnings.append(f"{path.name}: {same_time.size} duplicate sample(s) dropped")
    return Track(t, lat, lon, alt, absolute, warnings)


def _fast_csv(path: Path) -> Track | None:
    """Numeric-only CSV through numpy's C parser; None when the careful path is needed."""
    try:
        with path.open(encoding="utf-8-sig") as f:
            header = [h.strip().lower() for h in f.readline().split(",")]
    except (OSError, UnicodeDecodeError):
        return None
    cols = {name: k for k, name in enumerate(header)}
    if not {"time", "lat", "lon"} <= set(cols):
        return None
    use = [cols["time"], cols["lat"], cols["lon"]] + ([cols["alt_m"]] if "alt_m" in cols else [])
    try:
        data = np.loadtxt(
            path,
            delimiter=",",
            skiprows=1,
            usecols=use,
            ndmin=2,
            encoding="utf-8-sig",
            comments="#",
        )
    except (ValueError, OSError):
        return None
    if data.shape[0] == 0 or data.shape[0] > MAX_ROWS or not np.all(np.isfinite(data)):
        return None
    col = [np.ascontiguousarray(data[:, k], dtype=np.float64) for k in range(data.shape[1])]
    alt = col[3] if data.shape[1] == 4 else np.full(data.shape[0], math.nan)
    return _finish(path, col[0], col[1], col[2], alt, False)


def _read_csv(path: Path) -> Track:
    fast = _fast_csv(path)
    if fast is not None:
        return fast
    t: list[float] = []
    lat: list[float] = []
    lon: list[float] = []
    alt: list[float] = []
    with CsvTable(path, "track points", ("time", "lat", "lon", "alt_m")) as table:
        missing = table.missing(["time", "lat", "lon"])
        if missing:
            table.fail_missing(missing, "a track CSV has time,lat,lon[,alt_m]")
        it, ila, ilo = table.index["time"], table.index["lat"], table.index["lon"]
        ial = table.index.get("alt_m")
        times = TimeColumn(path)
        for lineno, fields in table:
            t.append(times.parse(fields[it], lineno))
            lat.append(number_field(fields[ila], path, lineno, "lat"))
            lon.append(number_field(fields[ilo], path, lineno, "lon"))
            alt.append(
                number_field(fields[ial], path, lineno, "alt_m")
                if ial is not None and fields[ial].strip()
                else math.nan
            )
        table.require_rows()
    return _finish(
        path, np.array(t), np.array(lat), np.array(lon), np.array(alt), bool(times.absolute)
    )


def _iso(text: str, path: Path, i: int) -> float:
    try:
        stamp = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(path, f"trkpt {i + 1}: time {text.strip()!r} is not ISO 8601") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _read_gpx(path: Path) -> Track:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FormatError(path, f"not valid GPX XML: {exc}") from exc
    except OSError as exc:
        raise DataSourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    pts = root.iter(f"{ns}trkpt")
    t, lat, lon, alt = [], [], [], []
    for i, p in enumerate(pts):
        try:
            lat.append(float(p.attrib["lat"]))
            lon.append(float(p.attrib["lon"]))
        except (KeyError, ValueError):
            raise FormatError(path, f"trkpt {i + 1}: missing or bad lat/lon") from None
        te = p.find(f"{ns}time")
        if te is None or not (te.text or "").strip():
            raise FormatError(path, f"trkpt {i + 1}: no <time>")
        t.append(_iso(te.text or "", path, i))
        ee = p.find(f"{ns}ele")
        ele = ee.text if ee is not None else None
        try:
            alt.append(float(ele) if ele else math.nan)
        except ValueError:
            raise FormatError(path, f"trkpt {i + 1}: <ele> {ele!r} is not a number") from None
    return _finish(path, np.array(t), np.array(lat), np.array(lon), np.array(alt), True)


def _read_mavlink(path: Path) -> Track:
    from pymavlink import mavutil

    try:
        log = mavutil.mavlink_connection(str(path), robust_parsing=True)
    except Exception as exc:  # pymavlink raises plain Exceptions for unreadable logs
        raise FormatError(path, f"not a MAVLink log pymavlink can open: {exc}") from exc
    t, lat, lon, alt = [], [], [], []
    try:
        while True:
            msg = log.recv_match(type=["GLOBAL_POSITION_INT", "GPS"], blocking=False)
            if msg is None:
                break
            kind = msg.get_type()
            if kind == "GLOBAL_POSITION_INT":
                la, lo, al = msg.lat * 1e-7, msg.lon * 1e-7, msg.alt * 1e-3
            elif kind == "GPS" and hasattr(msg, "Lat"):
                if getattr(msg, "Status", 3) < 3:  # no 3-D fix
                    continue
                la, lo, al = msg.Lat, msg.Lng, msg.Alt
            else:
                continue
            if la == 0.0 and lo == 0.0:
                continue  # no fix yet
            t.append(float(msg._timestamp))
            lat.append(float(la))
            lon.append(float(lo))
            alt.append(float(al))
    except Exception as exc:
        raise FormatError(path, f"corrupt MAVLink log after {len(t)} positions: {exc}") from exc
    finally:
        log.close()
    if not t:
        raise FormatError(path, "no position messages (GLOBAL_POSITION_INT or GPS) in the log")
    return _finish(path, np.array(t), np.array(lat), np.array(lon), np.array(alt), True)


def read_track(path: str | Path) -> Track:
    """Read a flown track (GPX, CSV, or a MAVLink ``.tlog``/``.bin`` log) by its extension."""
    p = Path(path)
    if not p.exists():
        raise DataSourceError(p, "track not found")
    if p.is_dir():
        raise DataSourceError(p, "is a directory, not a track")
    ext = p.suffix.lower()
    if ext == ".gpx":
        return _read_gpx(p)
    if ext in (".csv", ".txt"):
        return _read_csv(p)
    if ext in (".tlog", ".bin", ".log"):
        return _read_mavlink(p)
    raise FormatError(p, f"unknown track format {ext!r}: use .gpx, .csv, .tlog or .bin")
