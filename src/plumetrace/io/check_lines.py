"""The JSON lines of ``airspace check``, formatted column-wise.

One line per point::

    {"lat": 31.9, "lon": -106.5, "zone": "USA", "allowed": true, "distance_to_unauthorized_m": 12.3}

Numbers are written exactly as Python's ``repr`` writes them (``lat``, ``lon``) and as
``repr(round(d, 1))`` after numpy's rounding (the distance; ``null`` when unknown). A
million lines are built in numpy: every value's digits go into a byte matrix whose unused
cells hold NUL bytes, which are then squeezed out. Values whose ``repr`` is not a plain
decimal (exponent notation, more than 12 decimals, not finite) are formatted by Python.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

__all__ = ["check_json_lines", "format_check_line"]

_MAX_DECIMALS = 12
_ROWS_PER_CHUNK = 65_536
_POW10F = 10.0 ** np.arange(19)


def _group_words() -> NDArray[np.uint32]:
    """Three-digit groups as NUL-padded 4-byte words, in five tables of 1000.

    Zero-padded; right-aligned without leading zeros (all NUL for 0, or ``"0"`` in the
    last group of an integer part); left-aligned without trailing zeros (all NUL for 0,
    or ``"0"`` in the first group of a fraction).
    """
    lead = [f"{i:>3d}".replace(" ", "\0") for i in range(1000)]
    trim = [f"{i:03d}".rstrip("0").ljust(3, "\0") for i in range(1000)]
    groups = [
        *(f"{i:03d}" for i in range(1000)),
        "\0\0\0",
        *lead[1:],
        *lead,
        "\0\0\0",
        *trim[1:],
        "0\0\0",
        *trim[1:],
    ]
    return np.frombuffer("".join(g + "\0" for g in groups).encode(), dtype=np.uint32)


_PADDED, _LEAD, _LEAD_LAST, _TRIM, _TRIM_FIRST = 0, 1000, 2000, 3000, 4000
_WORDS = _group_words()
_MINUS = int(np.frombuffer(b"-\0\0\0", dtype=np.uint32)[0])
_DOT = int(np.frombuffer(b".\0\0\0", dtype=np.uint32)[0])


def format_check_line(lat: float, lon: float, zone: str, allowed: bool, dist: float) -> str:
    """One line of ``airspace check`` (``dist`` already rounded, NaN for unknown)."""
    ds = "null" if dist != dist else repr(dist)
    return (
        f'{{"lat": {lat!r}, "lon": {lon!r}, "zone": "{zone}", '
        f'"allowed": {"true" if allowed else "false"}, "distance_to_unauthorized_m": {ds}}}\n'
    )


def _decimal_parts(
    v: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64], NDArray[np.int64]]:
    """Sign, digits and decimals of the shortest round-tripping decimal of each value.

    Returns ``ok`` (the value's ``repr`` is ``[-]digits.decimals``), ``negative``, the
    digits ``m`` (a whole number below 2**53, as a float) and the number of decimals ``k``
    (>= 1), so that the value reads ``m / 10**k``. The shortest such ``k`` is the one
    ``repr`` writes: ``m / 10**k`` divides two exactly representable numbers, so comparing
    it with the value is an exact round-trip test; and where ``10**-k`` exceeds twice the
    value's spacing no other ``k``-decimal string round-trips, so ``repr`` picks this one
    (values where that does not hold are left to Python).
    """
    a = np.abs(v)
    negative = np.signbit(v)
    ok = np.isfinite(v) & ((a == 0.0) | ((a >= 1e-4) & (a < 1e15)))
    a = np.where(ok, a, 0.0)
    k = np.zeros(v.shape[0], dtype=np.int64)
    m = np.zeros(v.shape[0])
    found = np.zeros(v.shape[0], dtype=bool)
    for dec in range(1, _MAX_DECIMALS + 1):
        scale = float(10**dec)
        cand = np.rint(a * scale)
        hit = (cand / scale == a) & ~found
        k[hit] = dec
        m[hit] = cand[hit]
        found |= hit
        if found.all():
            break
    ok &= found & (m < 2.0**53)
    k[~ok] = 1
    m[~ok] = 0.0
    ok &= 10.0 ** -k.astype(np.float64) > 2.0 * np.spacing(a)
    return ok, negative, m, k


def _groups(v: NDArray[np.float64], count: int) -> list[NDArray[np.intp]]:
    """Base-1000 digits of whole numbers ``v`` (< 2**53), most significant first."""
    out: list[NDArray[np.intp]] = []
    for _ in range(count):
        q = np.floor(v / 1000.0)
        out.append((v - q * 1000.0).astype(np.intp))
        v = q
    return out[::-1]


def _number_words(
    negative: NDArray[np.bool_], m: NDArray[np.float64], k: NDArray[np.int64]
) -> NDArray[np.uint32]:
    """``(rows, words)`` text of ``[-]int.frac`` (``m / 10**k``), NUL-padded words.

    The integer part is written without leading zeros, the fraction without trailing
    zeros but with at least one digit (``k`` is the shortest, so ``repr`` has none).
    """
    n = m.shape[0]
    p = _POW10F[k]
    ip = np.floor(m / p)
    frac = m - ip * p
    gi = max(1, -(-len(str(int(ip.max()))) // 3)) if n else 1
    gt = max(1, -(-int(k.max()) // 3)) if n else 1
    out = np.empty((n, 2 + gi + gt), dtype=np.uint32)
    out[:, 0] = np.where(negative, _MINUS, 0)
    higher = np.zeros(n, dtype=bool)  # a more significant group is not zero
    for j, g in enumerate(_groups(ip, gi)):
        last = _LEAD_LAST if j == gi - 1 else _LEAD
        out[:, 1 + j] = _WORDS[g + np.where(higher, _PADDED, last)]
        higher |= g != 0
    out[:, 1 + gi] = _DOT
    tail = _groups(frac * _POW10F[3 * gt - k], gt)
    lower = np.zeros(n, dtype=bool)  # a less significant group is not zero
    for j in range(gt - 1, -1, -1):
        g = tail[j]
        first = _TRIM_FIRST if j == 0 else _TRIM
        out[:, 2 + gi + j] = _WORDS[g + np.where(lower, _PADDED, first)]
        lower |= g != 0
    return out


def _words(text: bytes) -> NDArray[np.uint32]:
    """Return a text as NUL-padded 4-byte words."""
    return np.frombuffer(text.ljust(-(-len(text) // 4) * 4, b"\0"), dtype=np.uint32)


def _const(text: str, n: int) -> NDArray[np.uint32]:
    w = _words(text.encode())
    return np.broadcast_to(w, (n, w.shape[0]))


def _chunk(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    zone: NDArray[np.str_],
    allowed: NDArray[np.bool_],
    rounded: NDArray[np.float64],
) -> bytes:
    n = lat.shape[0]
    ok_la, neg_la, m_la, k_la = _decimal_parts(lat)
    ok_lo, neg_lo, m_lo, k_lo = _decimal_parts(lon)
    unknown = np.isnan(rounded)
    # repr(np.round(d, 1)): the rounded tenths, "int.d" (finite, not huge)
    tenths = np.rint(np.where(unknown, 0.0, rounded) * 10.0)
    ok_d = unknown | (np.isfinite(rounded) & (np.abs(tenths) < 1e15))
    tenths[~ok_d] = 0.0
    m_d = np.abs(tenths)
    neg_d = np.signbit(rounded) & ~unknown
    # zone names are short ASCII codes: code points straight to bytes
    zu = np.ascontiguousarray(zone, dtype=f"<U{max(1, zone.dtype.itemsize // 4)}")
    points = zu.view(np.uint32).reshape(n, -1)
    ok_z = np.all(points < 128, axis=1)
    zw = -(-points.shape[1] // 4) * 4
    zbytes = np.zeros((n, zw), dtype=np.uint8)
    zbytes[:, : points.shape[1]] = np.where(ok_z[:, None], points, 0)
    zwords = zbytes.view(np.uint32)
    ok = ok_la & ok_lo & ok_d & ok_z
    for arr in (m_la, m_lo, m_d):
        arr[~ok] = 0.0
    dist_words = _number_words(neg_d, m_d, np.ones(n, dtype=np.int64))
    dist_words[unknown] = 0
    dist_words[unknown, 0] = _words(b"null")[0]
    flags = np.stack([_words(b"false"), _words(b"true\0\0\0\0")])
    words = np.concatenate(
        [
            _const('{"lat": ', n),
            _number_words(neg_la, m_la, k_la),
            _const(', "lon": ', n),
            _number_words(neg_lo, m_lo, k_lo),
            _const(', "zone": "', n),
            zwords,
            _const('", "allowed": ', n),
            flags[allowed.view(np.uint8)],
            _const(', "distance_to_unauthorized_m": ', n),
            dist_words,
            _const("}\n", n),
        ],
        axis=1,
    )
    out = words.view(np.uint8)
    squeeze = bytes.translate  # drop the NUL padding
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return squeeze(out.tobytes(), None, b"\0")
    parts = []
    prev = 0
    for i in bad.tolist():
        parts.append(squeeze(out[prev:i].tobytes(), None, b"\0"))
        parts.append(
            format_check_line(
                float(lat[i]), float(lon[i]), str(zone[i]), bool(allowed[i]), float(rounded[i])
            ).encode()
        )
        prev = i + 1
    parts.append(squeeze(out[prev:].tobytes(), None, b"\0"))
    return b"".join(parts)


def check_json_lines(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    zone: NDArray[np.str_],
    allowed: NDArray[np.bool_],
    dist: NDArray[np.float64],
) -> bytes:
    """Format ``airspace check`` results as JSON lines (UTF-8).

    Parameters
    ----------
    lat, lon : (n,) ndarray, degrees
    zone : (n,) ndarray of str
        ISO 3166-1 alpha-3 code or ``"international"``.
    allowed : (n,) ndarray of bool
    dist : (n,) ndarray, m
        Distance to unauthorized airspace; NaN when unknown (``null``). Rounded to 0.1 m
        here.

    Returns
    -------
    bytes
        ``n`` lines, each ending in a newline; the same text as
        :func:`format_check_line` gives line by line.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    zone = np.asarray(zone)
    if zone.dtype.kind != "U":
        zone = zone.astype(str)
    allowed = np.asarray(allowed, dtype=bool)
    rounded = np.asarray(np.round(np.asarray(dist, dtype=np.float64), 1), dtype=np.float64)

    def chunk(a: int) -> bytes:
        b = a + _ROWS_PER_CHUNK
        return _chunk(lat[a:b], lon[a:b], zone[a:b], allowed[a:b], rounded[a:b])

    starts = range(0, lat.shape[0], _ROWS_PER_CHUNK)
    if len(starts) < 2:
        return b"".join(chunk(a) for a in starts)
    # numpy releases the GIL in its loops: two threads use both cores
    with ThreadPoolExecutor(2) as pool:
        return b"".join(pool.map(chunk, starts))
