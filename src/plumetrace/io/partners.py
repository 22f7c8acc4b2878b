"""Partner files (TOML): the authorities that receive leads, and each one's release policy.

A partners file lists partners as an array of tables; every key but ``name`` is optional:

```toml
[[partner]]
name = "Fiscalia General"      # required; whitespace runs collapse to one space
country = "MX"                 # ISO 3166-1 alpha-2 or alpha-3 code
[partner.policy]
tlp = "amber"                  # default TLP 2.0 level: clear, green, amber, amber+strict, red
release = ["sensor"]           # categories released (default none): platform, sensor,
                               # flight_track, method, analyst, imagery, internal, reports,
                               # attribution
cot_stale_hours = 24           # h a Cursor-on-Target event stays valid
[partner.policy.field_tlp]     # fields marked stricter than the lead
advisory = "amber+strict"      # summary, observed, advisory, recommended_action, collection,
                               # organizations, source_reports, imagery
[partner.policy.timeline]      # days before a step counts as overdue
acknowledge_days = 3
feedback_days = 30
verify_days = 60
```

A policy file (for one partner) holds a single top-level ``[policy]`` table of the same
keys (``[policy]``, ``[policy.field_tlp]``, ``[policy.timeline]``).

Sources and methods stay home unless listed: a policy without ``release`` withholds every
category of :data:`plumetrace.share.policy.CATEGORIES`. Every problem (invalid TOML, an
unknown key, a bad TLP level or category, a duplicate name) is one
:class:`~plumetrace.errors.FormatError` line naming the file and the partner.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.share.policy import ReleasePolicy

__all__ = ["PartnerSpec", "read_partners", "read_policy"]

_PARTNER_KEYS = ("name", "country", "policy")


@dataclass(frozen=True)
class PartnerSpec:
    """One partner of a partners file.

    Attributes
    ----------
    name : str
        The partner's name (whitespace runs collapsed).
    country : str
        ISO 3166-1 alpha-2 or alpha-3 code, upper case; empty if not given.
    policy : ReleasePolicy
        What the partner may receive.
    """

    name: str
    country: str
    policy: ReleasePolicy


def _load(path: str | Path, what: str) -> tuple[Path, dict[str, Any]]:
    """Return the path and parsed TOML document of a file, or raise one clear error."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataSourceError(p, f"{what} not found") from exc
    except IsADirectoryError as exc:
        raise DataSourceError(p, f"is a directory, not a {what}") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(p, f"not a UTF-8 text file (byte {exc.start})") from exc
    except OSError as exc:
        raise DataSourceError(p, f"cannot read: {exc.strerror or exc}") from exc
    try:
        return p, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(p, f"not valid TOML: {exc}") from exc
    except RecursionError:
        raise FormatError(p, "not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # an integer beyond Python's digit limit for int()
        raise FormatError(p, "not valid TOML: a number has too many digits") from None


def _policy(body: Any, path: Path, where: str) -> ReleasePolicy:
    if not isinstance(body, dict):
        raise FormatError(path, f"{where}: policy must be a table")
    timeline = body.get("timeline", {})
    numbers = {"cot_stale_hours": body.get("cot_stale_hours", 24.0)}
    if isinstance(timeline, dict):
        numbers.update({f"timeline {k}": v for k, v in timeline.items()})
    for key, value in numbers.items():
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise FormatError(path, f"{where}: policy {key} must be a finite number, not {value}")
    try:
        return ReleasePolicy.from_dict(body)
    except (InvalidParameterError, TypeError) as exc:
        raise FormatError(path, f"{where}: {exc}") from exc


def _partner(n: int, body: Any, path: Path) -> PartnerSpec:
    where = f"partner {n}"
    if not isinstance(body, dict):
        raise FormatError(path, f"{where} must be a table ([[partner]])")
    name = body.get("name")
    if not isinstance(name, str) or not " ".join(name.split()):
        raise FormatError(path, f"{where}: name must be a non-empty string")
    name = " ".join(name.split())
    where = f"partner {n} ({name!r})"
    unknown = sorted(set(body) - set(_PARTNER_KEYS))
    if unknown:
        raise FormatError(
            path, f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_PARTNER_KEYS)}"
        )
    country = body.get("country", "")
    if not isinstance(country, str) or (
        country.strip() and not re.fullmatch(r"[A-Za-z]{2,3}", country.strip())
    ):
        raise FormatError(path, f"{where}: country must be an ISO 3166 code (MX, MEX)")
    return PartnerSpec(
        name=name,
        country=country.strip().upper(),
        policy=_policy(body.get("policy", {}), path, where),
    )


def read_partners(path: str | Path) -> list[PartnerSpec]:
    """Read a partners file (the format is in this module's docstring).

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    list of PartnerSpec
        In file order; at least one.

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        With one line naming the file: invalid TOML (line and column), no ``[[partner]]``,
        an unknown key, a missing name, a bad country, TLP level, category or timeline, or
        a name given twice.
    """
    p, doc = _load(path, "partners file")
    unknown = sorted(set(doc) - {"partner"})
    if unknown:
        hint = " (a policy file? use it with `partners add --policy`)" if "policy" in doc else ""
        raise FormatError(p, f"unknown top-level key(s) {', '.join(unknown)}{hint}")
    table = doc.get("partner")
    if isinstance(table, dict):
        raise FormatError(p, "partner must be an array of tables: write [[partner]]")
    if not isinstance(table, list) or not table:
        raise FormatError(p, "no [[partner]] tables")
    specs = [_partner(n, body, p) for n, body in enumerate(table, start=1)]
    seen: set[str] = set()
    for spec in specs:
        if spec.name.casefold() in seen:
            raise FormatError(p, f"partner {spec.name!r} is listed twice")
        seen.add(spec.name.casefold())
    return specs


def read_policy(path: str | Path) -> ReleasePolicy:
    """Read a policy file: one top-level ``[policy]`` table (see this module's docstring).

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        With one line naming the file: invalid TOML, no ``[policy]`` table, another
        top-level key, or a bad policy value.
    """
    p, doc = _load(path, "policy file")
    unknown = sorted(set(doc) - {"policy"})
    if unknown:
        hint = " (a partners file? load it with `partners load`)" if "partner" in doc else ""
        raise FormatError(
            p, f"unknown top-level key(s) {', '.join(unknown)}; a policy file holds [policy]{hint}"
        )
    if "policy" not in doc:
        raise FormatError(p, "no [policy] table")
    return _policy(doc["policy"], p, "[policy]")
