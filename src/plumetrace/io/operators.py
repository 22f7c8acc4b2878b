"""The operators file (TOML): who may fly where.

```toml
[operator.border-unit]
name = "Border surveillance unit"
authorized = ["USA", "international"]
exclude = "no-fly.geojson"          # optional, relative to this file
include_extra = "corridor.geojson"  # optional
```

Codes are ISO 3166-1 alpha-3 (as in the packaged Natural Earth countries) or
``"international"``. ``exclude`` and ``include_extra`` name GeoJSON files of polygons
(lon/lat), relative to the operators file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from plumetrace.data import country_land
from plumetrace.errors import DataSourceError, FormatError
from plumetrace.flight.airspace import INTERNATIONAL
from plumetrace.flight.operators import Operator
from plumetrace.io.geojson import read_polygons

__all__ = ["OPERATORS_ENV", "default_operators_file", "read_operators"]


OPERATORS_ENV = "PLUMETRACE_OPERATORS"
"""Environment setting naming the default operators file."""


def default_operators_file() -> Path:
    """Return the default operators file: ``$PLUMETRACE_OPERATORS``, else the packaged one.

    The packaged file holds the demo's two operators.
    """
    configured = os.environ.get(OPERATORS_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[1] / "data" / "operators.toml"


def _operator(key: str, body: Any, path: Path, known: set[str]) -> Operator:
    if not isinstance(body, dict):
        raise FormatError(path, f"[operator.{key}] must be a table")
    unknown = set(body) - {"name", "authorized", "exclude", "include_extra"}
    if unknown:
        raise FormatError(path, f"[operator.{key}]: unknown key(s) {', '.join(sorted(unknown))}")
    auth = body.get("authorized")
    if not isinstance(auth, list) or not auth or not all(isinstance(a, str) for a in auth):
        raise FormatError(path, f"[operator.{key}]: authorized must be a non-empty list of codes")
    codes = []
    for a in auth:
        code = a if a == INTERNATIONAL else a.upper()
        if code != INTERNATIONAL and code not in known:
            raise FormatError(
                path,
                f"[operator.{key}]: {a!r} is not an ISO 3166-1 alpha-3 code of a known country "
                f'(or "{INTERNATIONAL}")',
            )
        codes.append(code)
    name = body.get("name", key)
    if not isinstance(name, str):
        raise FormatError(path, f"[operator.{key}]: name must be a string")
    extra: dict[str, BaseGeometry | None] = {"exclude": None, "include_extra": None}
    for field in extra:
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise FormatError(path, f"[operator.{key}]: {field} must be a GeoJSON file name")
        extra[field] = read_polygons(path.parent / value, f"{field} of {path.name}")
    return Operator(
        id=key,
        name=name,
        authorized=tuple(dict.fromkeys(codes)),
        exclude=extra["exclude"],
        include_extra=extra["include_extra"],
    )


def read_operators(path: str | Path | None = None) -> dict[str, Operator]:
    """Read an operators file (the packaged one by default).

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        With one line naming the file: invalid TOML (line and column), no operators, an
        unknown country code, a bad exclusion file.
    """
    p = default_operators_file() if path is None else Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataSourceError(p, "operators file not found") from exc
    except IsADirectoryError as exc:
        raise DataSourceError(p, "is a directory, not an operators file") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(p, f"not a UTF-8 text file (byte {exc.start})") from exc
    except OSError as exc:
        raise DataSourceError(p, f"cannot read: {exc.strerror or exc}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(p, f"not valid TOML: {exc}") from exc
    except RecursionError:
        raise FormatError(p, "not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # an integer beyond Python's digit limit for int()
        raise FormatError(p, "not valid TOML: a number has too many digits") from None
    table = doc.get("operator")
    if not isinstance(table, dict) or not table:
        raise FormatError(p, "no [operator.<id>] tables")
    known = set(country_land().code.tolist())
    return {key: _operator(key, body, p, known) for key, body in table.items()}
