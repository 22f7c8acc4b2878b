"""Shared pieces of the benchmark scripts: window, target, machine facts, timing."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"

WINDOW_NM = (2122.0, 2485.0)
"""Retrieval window used by every method, nm.

The issue's CH4 window is 2122-2488 nm. mag1c 1.2.0 always drops bands above 2485 nm
(``get_mask_bad_bands``), which on the AVIRIS-NG grid removes the 2485.5 nm band; so that
every method sees exactly the same bands, the window here is 2122-2485 nm (72 AVIRIS-NG
bands, 2124.9-2480.5 nm)."""

MACHINE = "2 cores / 24 GiB, python-svc"


def window_bands(wavelength_nm: NDArray[np.float64]) -> NDArray[np.intp]:
    """Indices of the bands inside :data:`WINDOW_NM`."""
    wl = np.asarray(wavelength_nm)
    return np.flatnonzero((wl >= WINDOW_NM[0]) & (wl <= WINDOW_NM[1]))


def ch4_target(
    wavelength_nm: NDArray[np.float64], fwhm_nm: NDArray[np.float64]
) -> NDArray[np.float64]:
    """plumetrace's CH4 unit absorption (per ppm·m) at the given bands (default weighting)."""
    from plumetrace.data import ch4_lookup_table
    from plumetrace.spectra import target_from_lookup_table

    return target_from_lookup_table(ch4_lookup_table(), wavelength_nm, fwhm_nm).absorption_per_ppm_m


def machine_info() -> dict[str, Any]:
    """Machine and software facts recorded with every result."""
    import plumetrace

    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": MACHINE,
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "executable": sys.executable,
        "plumetrace": plumetrace.__version__,
        "git": _git_rev(),
        "retrieval_src_sha256": _src_digest(),
    }
    from _peers import versions  # the scripts put this folder on sys.path

    info.update(versions())
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted(
            {f"{d.get('internal_api')} {d.get('version')}" for d in threadpool_info()}
        )
    except Exception:  # pragma: no cover - informational only
        pass
    return info


def _src_digest() -> str:
    """Digest of the retrieval sources, to tie a result to the code it ran (the work tree
    may be ahead of the last commit)."""
    import hashlib

    h = hashlib.sha256()
    src = ROOT / "src" / "plumetrace"
    files = sorted((src / "detect").glob("*.py")) + sorted((src / "spectra").glob("*.py"))
    files += [src / "pipeline" / "detect.py"]
    for f in files:
        if f.exists():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    m = re.search(r"model name\s*:\s*(.+)", text)
    return m.group(1).strip() if m else platform.processor()


def _git_rev() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out + ("+dirty-src" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@dataclass
class Timing:
    best: float
    runs: list[float]


def best_of(fn: Callable[[], Any], repeats: int = 3, warmup: int = 1) -> tuple[Timing, Any]:
    """Best wall time of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    result = None
    for _ in range(warmup):
        result = fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return Timing(min(runs), runs), result


@dataclass
class CommandRun:
    seconds: float
    max_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def run_timed(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> CommandRun:
    """Run ``cmd`` under ``/usr/bin/time -v``; wall time and the peak RSS of the command.

    Falls back to ``resource.getrusage(RUSAGE_CHILDREN)`` when GNU time is missing (then the
    RSS is the largest of all children so far).
    """
    full_env = {**os.environ, **(env or {})}
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        t0 = time.perf_counter()
        p = subprocess.run(
            [str(gnu_time), "-v", *cmd], capture_output=True, text=True, env=full_env, cwd=cwd
        )
        wall = time.perf_counter() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss = int(m.group(1)) * 1024 if m else -1
        return CommandRun(wall, rss, p.returncode, p.stdout, p.stderr)
    import resource

    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=cwd)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return CommandRun(wall, rss, p.returncode, p.stdout, p.stderr)


def plumetrace_cmd() -> list[str]:
    """The ``plumetrace`` command line of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("plumetrace")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "plumetrace"]


def dump(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=_jsonable))


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def others_cpu(interval: float = 1.0) -> float:
    """CPU use (in cores) of processes outside this process tree over ``interval`` s."""
    import psutil

    me = psutil.Process()
    mine = {me.pid, *(c.pid for c in me.children(recursive=True))}
    procs = []
    for p in psutil.process_iter():
        if p.pid in mine:
            continue
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.cpu_percent(None)
            procs.append(p)
    time.sleep(interval)
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.cpu_percent(None)
    return total / 100.0


def wait_until_quiet(threshold: float = 0.2, timeout: float = 1800.0, quiet_for: int = 3) -> float:
    """Wait until other processes use < ``threshold`` cores for ``quiet_for`` seconds in a row.

    Returns the last measured load of the others (cores); gives up after ``timeout`` s and
    returns the load then (the caller records it next to the timing).
    """
    t0 = time.perf_counter()
    calm = 0
    load = others_cpu()
    warned = False
    while time.perf_counter() - t0 < timeout:
        if load < threshold:
            calm += 1
            if calm >= quiet_for:
                return load
        else:
            calm = 0
            if not warned:
                print(f"  (waiting: other processes use {load:.2f} cores)", flush=True)
                warned = True
        load = others_cpu()
    print(f"  (gave up waiting after {timeout:.0f} s: others use {load:.2f} cores)", flush=True)
    return load


class CpuWatch:
    """Measure how many cores *other* processes used while the block ran.

    ``others_cores = (Δ busy CPU time of the machine - Δ CPU time of this process and its
    waited-for children) / Δ wall time``. Use around timings to show they were not shared.
    """

    others_cores: float = float("nan")

    @staticmethod
    def _busy() -> float:
        import psutil

        t = psutil.cpu_times()
        return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))

    @staticmethod
    def _mine() -> float:
        import resource

        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def __enter__(self) -> CpuWatch:
        self._t = time.perf_counter()
        self._b = self._busy()
        self._m = self._mine()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._t
        others = (self._busy() - self._b) - (self._mine() - self._m)
        self.others_cores = max(0.0, others / wall) if wall > 0 else float("nan")


def measured(fn: Callable[[], Any], *, limit: float = 0.3, retries: int = 2) -> tuple[Any, float]:
    """Run ``fn`` (a whole timing group) on a quiet machine.

    Waits until other processes are idle, runs ``fn`` inside :class:`CpuWatch`, and repeats
    (after waiting again) up to ``retries`` times while others used more than ``limit``
    cores during it. Returns ``fn``'s result and the others' load of the kept run.
    """
    for attempt in range(retries + 1):
        wait_until_quiet()
        with CpuWatch() as w:
            result = fn()
        if w.others_cores <= limit or attempt == retries:
            return result, w.others_cores
        print(f"  (others used {w.others_cores:.2f} cores during the run: repeating)", flush=True)
    raise AssertionError("unreachable")
