"""Flown tracks: GPX, CSV (``time,lat,lon,alt_m``) and MAVLink telemetry logs.

* **GPX** 1.0/1.1: every ``trkpt`` (``lat``, ``lon`` attributes, ``<time>``, ``<ele>``).
* **CSV**: columns ``time`` (ISO 8601 or seconds), ``lat``, ``lon``, ``alt_m`` (optional).
  Files of plain decimals (``123.4``, ``-106.45``: at most 15 digits each, comma
  separated) are decoded by a vectorized byte-pattern reader; anything else (ISO times,
  exponents, blanks, comments, quotes) goes through numpy's text parser or, failing that,
  the careful per-line parser whose errors name the line. All three give the same numbers.
* **MAVLink** (``.tlog`` telemetry logs, ArduPilot ``.bin`` dataflash logs), read with
  pymavlink: ``GLOBAL_POSITION_INT`` (tlog) or ``GPS`` (bin) messages, timed by the log.

Samples are returned in time order. Out-of-order samples are sorted and exact duplicates
dropped, each with a warning the audit report carries; two different positions at one
time, missing fields, unreadable or corrupt files are a :class:`FormatError` naming the
file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import mmap
import os
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError, PlumetraceError
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


# --------------------------------------------------------------------- plain decimals
#
# A machine-written track CSV is mostly lines of one byte pattern: ``12.0,31.799960,
# -106.449995,100.0`` has its digits, signs, points and commas at the same offsets as the
# next line whenever the lines have the same length. Such a run of lines is a 2-D
# (lines, bytes) view of the file; checking every byte against the pattern (a digit where
# the pattern has one, the very same byte elsewhere) and summing digit columns times
# powers of ten decodes a million lines in a few vectorized passes. A field of at most 15
# digits gives an integer mantissa m < 2**53 summed exactly in float64, and m / 10**k
# (10**k exact) is the correctly rounded decimal, the very double numpy's parser gives.

_NUMBER = re.compile(rb"(-?)(\d*)(?:\.(\d*))?")
_MAX_DIGITS = 15
_MAX_LAYOUTS = 256  # more distinct line patterns than this: leave it to numpy's parser
_THREADED_LINES = 200_000  # longer files are decoded in two threads
_BLOCK_BYTES = 1 << 20  # most bytes of lines decoded together (a block stays in cache)
_POW10 = [10.0**k for k in range(_MAX_DIGITS + 1)]


@dataclass(frozen=True)
class _Field:
    """Where one field's digits are in a line pattern and how to scale them."""

    offsets: list[int]
    weights: list[np.float64]
    ascii_zero: float  # 48 x sum(weights): the digits' byte values less their values
    divisor: float  # 10**(digits after the decimal point)
    negative: bool

    def decode(
        self, block: NDArray[np.uint8], out: NDArray[np.float64], tmp: NDArray[np.float64]
    ) -> None:
        """Write this field's values in ``block`` (lines x bytes of the pattern) to ``out``.

        ``tmp`` is scratch space of ``out``'s shape.
        """
        np.multiply(block[:, self.offsets[0]], self.weights[0], out=out)
        for j, w in zip(self.offsets[1:], self.weights[1:], strict=True):
            np.multiply(block[:, j], w, out=tmp)
            out += tmp
        out -= self.ascii_zero
        if self.divisor != 1.0:
            out /= self.divisor
        if self.negative:
            np.negative(out, out=out)


@dataclass(frozen=True)
class _Layout:
    """The byte pattern of a line of plain decimals; ``lo <= byte <= hi`` where it fits."""

    lo: NDArray[np.uint8]
    hi: NDArray[np.uint8]
    fields: list[_Field]


def _layout(line: bytes, ncols: int, use: Sequence[int]) -> _Layout | None:
    """Return the pattern of ``line`` (ending in a newline), or None if not plain decimals."""
    text = line[:-1]
    if text.endswith(b"\r"):
        text = text[:-1]
    cells = text.split(b",")
    if len(cells) != ncols:
        return None
    lo = np.frombuffer(line, dtype=np.uint8).copy()
    hi = lo.copy()
    parsed: list[tuple[list[int], int, bool]] = []
    start = 0
    for cell in cells:
        m = _NUMBER.fullmatch(cell)
        if m is None:
            return None
        sign, whole, frac = m.group(1), m.group(2), m.group(3) or b""
        if not 1 <= len(whole) + len(frac) <= _MAX_DIGITS:
            return None
        first = start + len(sign)
        after = first + len(whole) + 1
        offsets = [*range(first, first + len(whole)), *range(after, after + len(frac))]
        lo[offsets] = ord("0")
        hi[offsets] = ord("9")
        parsed.append((offsets, len(frac), bool(sign)))
        start += len(cell) + 1
    fields = []
    for k in use:
        offsets, nfrac, negative = parsed[k]
        weights = [np.float64(_POW10[len(offsets) - 1 - i]) for i in range(len(offsets))]
        fields.append(_Field(offsets, weights, 48.0 * float(sum(weights)), _POW10[nfrac], negative))
    return _Layout(lo, hi, fields)


def _decode_run(
    data: bytes,
    span_of: tuple[int, int],
    row: int,
    layout: _Layout,
    out: list[NDArray[np.float64]],
) -> tuple[int, int]:
    """Decode lines into ``out`` while they fit ``layout``; return where the others start.

    The lines are those in bytes ``span_of``, the first of them line ``row``; the byte and
    line number of the first line that does not fit are returned. Lines fitting the
    pattern byte for byte have its length and fields, so no line ends need finding.
    Blocks start small and grow, so a pattern that soon stops fitting costs little.
    """
    pos, stop = span_of
    width = layout.lo.shape[0]
    span = layout.hi - layout.lo
    most = max(1, _BLOCK_BYTES // width)
    rows = min(256, most)
    scratch = np.empty(most * width, dtype=np.uint8)
    tmp = np.empty(most)
    while pos < stop:
        k = min(rows, (stop - pos) // width)
        if k == 0:
            break
        block = np.ndarray((k, width), dtype=np.uint8, buffer=data, offset=pos)
        # fits where lo <= byte <= hi: below lo, byte - lo wraps round (uint8) above span
        fits = np.less_equal(
            np.subtract(block, layout.lo, out=scratch[: k * width].reshape(k, width)), span
        )
        whole = bool(fits.all())
        if not whole:
            k = int(np.argmin(fits.all(axis=1)))  # the first line that does not fit
            block = block[:k]
        for f, dst in zip(layout.fields, out, strict=True):
            f.decode(block, dst[row : row + k], tmp[:k])
        pos += k * width
        row += k
        if not whole:
            break
        rows = min(2 * rows, most)
    return pos, row


def _decode_lines(
    data: bytes,
    span_of: tuple[int, int],
    row: int,
    ncols: int,
    use: Sequence[int],
    out: list[NDArray[np.float64]],
) -> bool:
    """Decode the lines in bytes ``span_of`` (the first is line ``row``) into ``out``.

    Return False if a line is not plain decimals or there are too many line patterns.
    """
    pos, stop = span_of
    for _ in range(_MAX_LAYOUTS):
        if pos == stop:
            return True
        layout = _layout(data[pos : data.find(b"\n", pos) + 1], ncols, use)
        if layout is None:
            return False
        pos, row = _decode_run(data, (pos, stop), row, layout, out)
    return pos == stop


def _plain_decimals(
    data: bytes, start: int, ncols: int, use: Sequence[int]
) -> list[NDArray[np.float64]] | None:
    """Decode ``data[start:]``, lines of ``ncols`` plain decimals, columns ``use``.

    A long file is decoded in two halves at once (numpy releases the GIL).

    Returns
    -------
    list of (n,) ndarray or None
        One array per column of ``use``; None when a line is anything else, there are
        more than :data:`MAX_ROWS` lines or too many line patterns, for a general parser
        to take over.
    """
    if len(data) <= start:
        return None
    if not data.endswith(b"\n"):
        data += b"\n"
    n = data.count(b"\n", start)
    if n > MAX_ROWS:
        return None
    out = [np.empty(n) for _ in use]
    if n < _THREADED_LINES:
        return out if _decode_lines(data, (start, len(data)), 0, ncols, use, out) else None
    mid = data.find(b"\n", (start + len(data)) // 2) + 1
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(
            _decode_lines, data, (mid, len(data)), data.count(b"\n", start, mid), ncols, use, out
        )
        first = _decode_lines(data, (start, mid), 0, ncols, use, out)
        return out if first and second.result() else None


def _columns(header: list[str]) -> list[int] | None:
    """Return the indices of time, lat, lon (and alt_m if there) in ``header``, or None."""
    cols = {name: k for k, name in enumerate(header)}
    if not {"time", "lat", "lon"} <= set(cols):
        return None
    return [cols["time"], cols["lat"], cols["lon"]] + ([cols["alt_m"]] if "alt_m" in cols else [])


def _plain_csv(path: Path) -> Track | None:
    """Read a CSV of plain decimals, vectorized; return None if another parser is needed."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    cut = data.find(b"\n")
    if cut < 0:
        return None
    try:
        header = [h.strip().lower() for h in data[:cut].decode("utf-8-sig").split(",")]
    except UnicodeDecodeError:
        return None
    use = _columns(header)
    if use is None:
        return None
    col = _plain_decimals(data, cut + 1, len(header), use)
    if col is None:
        return None
    alt = col[3] if len(col) == 4 else np.full(col[0].shape[0], math.nan)
    return _finish(path, col[0], col[1], col[2], alt, False)


def _fast_csv(path: Path) -> Track | None:
    """Numeric-only CSV through numpy's C parser; None when the careful path is needed."""
    try:
        with path.open(encoding="utf-8-sig") as f:
            header = [h.strip().lower() for h in f.readline().split(",")]
    except (OSError, UnicodeDecodeError):
        return None
    use = _columns(header)
    if use is None:
        return None
    try:
        with warnings.catch_warnings():
            # a header without rows: the careful parser then says so
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
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
    fast = _plain_csv(path)
    if fast is None:
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
    import xml.etree.ElementTree as ET  # only GPX needs it (not loaded for a CSV)

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FormatError(path, f"not valid GPX XML: {exc}") from exc
    except (LookupError, ValueError) as exc:  # unknown or wrong declared encoding
        raise FormatError(path, f"not valid GPX XML: {_one_line(exc)}") from exc
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


def _close_quietly(reader: Any) -> None:
    """Close what a half-constructed pymavlink log reader opened."""
    for name in ("data_map", "filehandle", "f"):
        handle = getattr(reader, name, None)
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.close()


_DATAFLASH_FMT = b"\xa3\x95\x80"  # a DataFlash message header of type 128 (FMT)


def _check_dataflash_formats(path: Path) -> None:
    """Refuse a DataFlash log with an FMT record declaring a message shorter than 3 bytes.

    pymavlink advances by the declared length: a length of 0 loops forever.
    """
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            at = data.find(_DATAFLASH_FMT)
            while 0 <= at < len(data) - 4:
                if data[at + 4] < 3:
                    raise FormatError(
                        path,
                        f"DataFlash FMT record at byte {at} declares messages of "
                        f"{data[at + 4]} bytes (a message has at least 3)",
                    )
                at = data.find(_DATAFLASH_FMT, at + 1)
    except ValueError:  # an empty file cannot be mapped: pymavlink reports it
        return
    except DataSourceError:
        raise
    except OSError as exc:
        raise DataSourceError(path, f"cannot read: {exc.strerror or exc}") from exc


def _open_mavlink(path: Path) -> Any:
    """Open a log with the reader :func:`pymavlink.mavutil.mavlink_connection` would pick.

    The readers are built here rather than through ``mavlink_connection``, which also
    opens network links and *executes* files whose path holds ``/bin/`` or ends in
    ``.elf``; and so that a log a constructor rejects does not leave its file open.
    """
    from pymavlink import DFReader, mavutil

    name = str(path)
    reader_class: Any
    if name.lower().endswith(".bin"):
        _check_dataflash_formats(path)
        reader_class = DFReader.DFReader_binary
    elif name.endswith(".log") and DFReader.DFReader_is_text_log(name):
        reader_class = DFReader.DFReader_text
    else:
        reader_class = mavutil.mavmmaplog
    reader = reader_class.__new__(reader_class)
    try:
        reader.__init__(name)
    except BaseException:
        _close_quietly(reader)
        raise
    return reader


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _Discard:
    """A text sink for what pymavlink prints per bad byte of a corrupt log.

    It prints to stdout for telemetry logs and to stderr for DataFlash ``.bin``; our
    errors are one line.
    """

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _read_mavlink(path: Path) -> Track:
    if path.suffix.lower() == ".tlog":
        return _read_tlog(path)
    with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()):
        return _read_mavlink_quietly(path)


_TLOG_US = (946_684_800_000_000, 4_102_444_800_000_000)
"""Plausible tlog timestamps (years 2000-2100, microseconds since 1970): what tells a
record's start from a corrupt stretch."""
_GLOBAL_POSITION_INT = 33


def _tlog_candidate(data: Any, start: int) -> int:
    """Return the next record offset >= ``start`` whose frame could begin there.

    That is, 8 bytes on (after the timestamp) is a MAVLink magic byte; ``len(data)`` if
    there is none.
    """
    found = [i for i in (data.find(b"\xfe", start + 8), data.find(b"\xfd", start + 8)) if i >= 0]
    return min(found) - 8 if found else len(data)


def _read_tlog(path: Path) -> Track:
    """Read GLOBAL_POSITION_INT fixes of a telemetry log, in time linear in its size.

    A ``.tlog`` is a sequence of records: an 8-byte big-endian timestamp (microseconds
    since 1970) and one MAVLink 1 or 2 frame. Each frame is decoded (and its checksum
    checked) with pymavlink's message parser; a corrupt stretch is skipped to the next
    offset that holds a plausible timestamp and a frame that decodes. pymavlink's own log
    reader rescans corrupt timestamps byte by byte and can take minutes on a damaged log.
    """
    from pymavlink.dialects.v20 import ardupilotmega as mav

    try:
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_size < 16:  # not even one record (mmap needs bytes)
                raise FormatError(path, "no position messages (GLOBAL_POSITION_INT) in the log")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _tlog_records(path, data, mav)
    except PlumetraceError:  # our own errors are OSErrors too: pass them on as they are
        raise
    except OSError as exc:
        raise DataSourceError(path, f"cannot be read: {exc.strerror or exc}") from None


def _tlog_records(path: Path, data: Any, mav: Any) -> Track:
    """Read the records of a mapped ``.tlog`` (see :func:`_read_tlog`)."""
    link = mav.MAVLink(None)
    t: list[float] = []
    lat: list[float] = []
    lon: list[float] = []
    alt: list[float] = []
    pos, n = 0, len(data)
    while pos + 16 <= n:  # a timestamp and the shortest frame
        frame_at = pos + 8
        magic = data[frame_at]
        if magic == 0xFE:
            size = 8 + data[frame_at + 1]
        elif magic == 0xFD:
            size = 12 + data[frame_at + 1] + (13 if data[frame_at + 2] & 1 else 0)
        else:
            pos = _tlog_candidate(data, pos + 1)
            continue
        stamp = int.from_bytes(data[pos:frame_at], "big")
        frame = data[frame_at : frame_at + size]
        msg = None
        if len(frame) == size and _TLOG_US[0] <= stamp <= _TLOG_US[1]:
            try:
                msg = link.decode(bytearray(frame))
            except Exception:  # pymavlink raises MAVError and struct errors: not a frame
                msg = None
        if msg is None or isinstance(msg, mav.MAVLink_unknown):  # unknown: no checksum
            pos = _tlog_candidate(data, pos + 1)
            continue
        if msg.get_msgId() == _GLOBAL_POSITION_INT and not (msg.lat == 0 and msg.lon == 0):
            t.append(stamp * 1e-6)
            lat.append(msg.lat * 1e-7)
            lon.append(msg.lon * 1e-7)
            alt.append(msg.alt * 1e-3)
        pos = frame_at + size
    if not t:
        raise FormatError(path, "no position messages (GLOBAL_POSITION_INT) in the log")
    return _finish(path, np.array(t), np.array(lat), np.array(lon), np.array(alt), True)


def _read_mavlink_quietly(path: Path) -> Track:
    try:
        log = _open_mavlink(path)
    except PlumetraceError:
        raise
    except Exception as exc:  # pymavlink raises plain Exceptions for unreadable logs
        raise FormatError(path, f"not a MAVLink log pymavlink can open: {_one_line(exc)}") from exc
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
        raise FormatError(
            path, f"corrupt MAVLink log after {len(t)} positions: {_one_line(exc)}"
        ) from exc
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
