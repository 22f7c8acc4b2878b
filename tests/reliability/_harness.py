"""Kill a plumetrace command at random points, finish it, and compare with a clean run.

A command runs as a subprocess (``python -m plumetrace ...``) in a working directory of
its own, always with the same relative paths, so the paths files embed are the same in
every run. :func:`run_killed` sends ``SIGKILL`` after a delay; :func:`run_ok` re-runs the
command to completion. :func:`tree_snapshot` and :func:`db_snapshot` reduce the outputs
to comparable values, leaving out exactly what the callers name (and nothing else).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PLUMETRACE = [sys.executable, "-m", "plumetrace"]


def env_for(home: Path | None) -> dict[str, str]:
    """The environment of a command: the store under ``home`` (never the user's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUMETRACE_")}
    if home is not None:
        env["PLUMETRACE_HOME"] = str(home)
    env["PYTHONHASHSEED"] = "0"
    return env


def run_ok(args: list[str], cwd: Path, home: Path | None = None, timeout: float = 600) -> float:
    """Run a command to completion (it must succeed); return its duration in seconds."""
    t0 = time.perf_counter()
    p = subprocess.run(
        [*PLUMETRACE, *args],
        cwd=cwd,
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert p.returncode == 0, f"{args} failed ({p.returncode}): {p.stderr[-2000:]}"
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Kill:
    """One kill: after how long, and whether the command had finished by then."""

    delay_s: float
    finished_first: bool


def run_killed(args: list[str], cwd: Path, delay_s: float, home: Path | None = None) -> Kill:
    """Start a command and ``SIGKILL`` it after ``delay_s`` (unless it finished first)."""
    p = subprocess.Popen(
        [*PLUMETRACE, *args],
        cwd=cwd,
        env=env_for(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        p.wait(timeout=delay_s)
        return Kill(delay_s, True)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return Kill(delay_s, False)


# --------------------------------------------------------------------------- files


def drop_keys(doc: Any, keys: frozenset[str]) -> Any:
    """Return JSON ``doc`` without the (nested) keys ``keys``."""
    if isinstance(doc, dict):
        return {k: drop_keys(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [drop_keys(v, keys) for v in doc]
    return doc


def json_without(keys: frozenset[str]) -> Callable[[bytes], Any]:
    """A normaliser: the parsed JSON minus ``keys`` (timings a file legitimately embeds)."""
    return lambda data: drop_keys(json.loads(data), keys)


def csv_without(columns: frozenset[str]) -> Callable[[bytes], Any]:
    """A normaliser: the CSV's rows minus ``columns`` (timings)."""

    def norm(data: bytes) -> Any:
        lines = data.decode().splitlines()
        head = lines[0].split(",")
        keep = [i for i, c in enumerate(head) if c not in columns]
        return [[row.split(",")[i] for i in keep] for row in lines]

    return norm


def tree_snapshot(
    root: Path,
    normalise: Mapping[str, Callable[[bytes], Any]] | None = None,
    skip: Callable[[str], bool] = lambda _rel: False,
) -> dict[str, Any]:
    """Every file under ``root``: its SHA-256, or its normalised content.

    ``normalise`` maps a file name (the last path component) to a normaliser; ``skip``
    leaves files out (the caller compares them otherwise, e.g. databases).
    """
    normalise = normalise or {}
    out: dict[str, Any] = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        if skip(rel):
            continue
        data = p.read_bytes()
        fn = normalise.get(p.name)
        out[rel] = fn(data) if fn else hashlib.sha256(data).hexdigest()
    return out


# --------------------------------------------------------------------------- database

_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:?00)?")


def mask_wall_clock(since: datetime) -> Callable[[str], str]:
    """A masker: timestamps at or after ``since`` (written by the run's clock) -> ``<now>``.

    Times of the simulated data (2025) are kept and compared.
    """

    def sub(m: re.Match[str]) -> str:
        text = m.group(0).replace(" ", "T").replace("Z", "+00:00")
        t = datetime.fromisoformat(text)
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t
        return "<now>" if t >= since else m.group(0)

    return lambda s: _STAMP.sub(sub, s)


def db_snapshot(
    path: Path,
    exclude: Mapping[str, frozenset[str]],
    mask: Callable[[str], str] | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (sorted), without the columns ``exclude`` names per table.

    ``mask``, if given, rewrites every text value (e.g. wall-clock timestamps, random
    identifiers) before comparison.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for t in tables:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            keep = [c for c in cols if c not in exclude.get(t, frozenset())]
            rows = conn.execute(
                f'SELECT {", ".join(chr(34) + c + chr(34) for c in keep)} FROM "{t}"'
            ).fetchall()
            if mask is not None:
                rows = [tuple(mask(v) if isinstance(v, str) else v for v in r) for r in rows]
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def audit_chain_ok(home: Path) -> None:
    """``plumetrace audit-log verify`` on the store under ``home`` must pass."""
    run_ok(["audit-log", "verify"], cwd=home, home=home)


def diff_report(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """A short description of how two snapshots differ (for assertion messages)."""
    lines = []
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b:
            lines.append(f"{k}: only in {'reference' if k in a else 'rerun'}")
        elif a[k] != b[k]:
            va, vb = a[k], b[k]
            if isinstance(va, list) and isinstance(vb, list):
                lines.append(f"{k}: {len(va)} vs {len(vb)} rows; first difference:")
                for x, y in zip(va, vb, strict=False):
                    if x != y:
                        lines.append(f"  ref   {str(x)[:300]}\n  rerun {str(y)[:300]}")
                        break
            else:
                lines.append(f"{k}: differs")
    return "\n".join(lines[:40])
