"""Small text tables and documents: user gas-target CSVs and JSON.

Gas CSV
    A header row naming at least ``wavelength_nm`` and ``absorption_per_ppm_m`` (any
    order, case-insensitive; other columns are ignored), then one row per wavelength.
    Blank lines and lines starting with ``#`` are skipped. Rows are sorted by wavelength
    and exact duplicate rows dropped; the same wavelength with two different
    absorptions is an error.

JSON
    :func:`write_json` is atomic, indented by 2, converts numpy scalars and arrays,
    ``Path`` and ``datetime`` values, and writes NaN/inf as ``null`` (strict JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io._atomic import atomic_path, atomic_write_bytes

__all__ = [
    "GAS_CSV_COLUMNS",
    "number_field",
    "read_gas_csv",
    "read_json",
    "to_jsonable",
    "write_csv",
    "write_json",
]

logger = logging.getLogger(__name__)

GAS_CSV_COLUMNS = ("wavelength_nm", "absorption_per_ppm_m")
"""Required columns of a gas target CSV."""


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataSourceError(path, f"{what} not found") from exc
    except IsADirectoryError as exc:
        raise DataSourceError(path, f"is a directory, not a {what}") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not a UTF-8 text file (byte {exc.start})") from exc
    except OSError as exc:
        raise DataSourceError(path, f"cannot read: {exc.strerror or exc}") from exc


def number_field(text: str, path: Path, lineno: int, column: str) -> float:
    """Parse one finite number of a text table, or raise a FormatError naming the cell."""
    s = text.strip()
    if not s:
        raise FormatError(path, f"line {lineno}: {column} is empty")
    try:
        value = float(s)
    except ValueError:
        raise FormatError(path, f"line {lineno}: {column} {s!r} is not a number") from None
    if not math.isfinite(value):
        raise FormatError(path, f"line {lineno}: {column} {s!r} is not finite")
    return value


def read_gas_csv(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read a user gas target table.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``wavelength_nm`` and ``absorption_per_ppm_m``.

    Returns
    -------
    wavelength_nm : (m,) ndarray, nm
        Strictly increasing (sorted, exact duplicates removed).
    absorption_per_ppm_m : (m,) ndarray, (ppm·m)⁻¹
        d ln(L) / d(ppm·m), negative where the gas absorbs.

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        Naming the file and line: missing header or columns, wrong field count,
        non-numeric or non-finite value, non-positive wavelength, fewer than 2 distinct
        wavelengths, or one wavelength with two absorptions.
    """
    p = Path(path)
    text = _read_text(p, "gas table")
    rows = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise FormatError(p, "the gas table is empty")
    parsed: list[list[str]] = []
    for lineno, line in rows:  # one line at a time: a quote cannot swallow the next lines
        try:
            parsed.append(next(csv.reader([line]), []))
        except csv.Error as exc:
            raise FormatError(p, f"line {lineno}: {exc}") from None
    header = [h.strip().lower() for h in parsed[0]]
    missing = [c for c in GAS_CSV_COLUMNS if c not in header]
    if missing:
        raise FormatError(
            p,
            f"line {rows[0][0]}: missing column {', '.join(repr(m) for m in missing)} in the "
            f"header (found: {', '.join(header)}); the first row must name the columns",
        )
    iw, ia = header.index(GAS_CSV_COLUMNS[0]), header.index(GAS_CSV_COLUMNS[1])
    wl: list[float] = []
    ab: list[float] = []
    lines: list[int] = []
    for (lineno, _), fields in zip(rows[1:], parsed[1:], strict=True):
        if len(fields) != len(header):
            raise FormatError(
                p, f"line {lineno}: {len(fields)} fields, the header has {len(header)}"
            )
        w = number_field(fields[iw], p, lineno, GAS_CSV_COLUMNS[0])
        if w <= 0:
            raise FormatError(p, f"line {lineno}: wavelength_nm must be positive, got {w}")
        wl.append(w)
        ab.append(number_field(fields[ia], p, lineno, GAS_CSV_COLUMNS[1]))
        lines.append(lineno)
    if not wl:
        raise FormatError(p, "the gas table needs at least 2 distinct wavelengths, has 0")
    w_arr, a_arr, l_arr = np.array(wl), np.array(ab), np.array(lines)
    order = np.argsort(w_arr, kind="stable")
    if np.any(np.diff(order) < 0):
        logger.info("%s: rows sorted by wavelength", p)
    w_arr, a_arr, l_arr = w_arr[order], a_arr[order], l_arr[order]
    same = np.flatnonzero(np.diff(w_arr) == 0)
    conflict = same[a_arr[same] != a_arr[same + 1]]
    if conflict.size:
        k = int(conflict[0])
        raise FormatError(
            p,
            f"lines {l_arr[k]} and {l_arr[k + 1]} give wavelength {w_arr[k]:g} nm two "
            f"different absorptions ({a_arr[k]:g}, {a_arr[k + 1]:g})",
        )
    keep = np.r_[True, np.diff(w_arr) != 0]
    w_arr, a_arr = w_arr[keep], a_arr[keep]
    if w_arr.size < 2:
        raise FormatError(
            p, f"the gas table needs at least 2 distinct wavelengths, has {w_arr.size}"
        )
    return w_arr.astype(np.float64), a_arr.astype(np.float64)


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types (NaN/inf -> None, numpy -> Python).

    Raises
    ------
    InvalidParameterError
        For a value with no JSON form.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = k.item() if isinstance(k, np.generic) else k
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise InvalidParameterError(
                    f"JSON object keys must be strings, got {type(k).__name__}"
                )
            out[key if isinstance(key, str) else json.dumps(key)] = to_jsonable(v)
        return out
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.datetime):
        if obj.tzinfo is not None:
            obj = obj.astimezone(dt.UTC)
            return obj.isoformat().replace("+00:00", "Z")
        return obj.isoformat()
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    raise InvalidParameterError(f"cannot write a value of type {type(obj).__name__!r} as JSON")


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (an existing file survives a failure).

    Raises
    ------
    InvalidParameterError
        If ``obj`` holds a value with no JSON form (nothing is written).
    DataSourceError
        If the file cannot be written.
    """
    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def read_json(path: str | Path) -> Any:
    """Read a JSON document.

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        If it is not valid JSON (the message gives line and column).
    """
    p = Path(path)
    text = _read_text(p, "JSON file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            p, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError:
        raise FormatError(p, "invalid JSON: arrays or objects nested too deeply") from None
    except ValueError:  # an integer beyond Python's digit limit for int()
        raise FormatError(p, "invalid JSON: a number has too many digits") from None


def write_csv(path: str | Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write rows (mappings) as a CSV with a header, atomically; None becomes an empty cell."""
    with atomic_path(path, suffix=".csv") as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
