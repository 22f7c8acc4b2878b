"""Thin adapters that call the peer implementations with plumetrace's target and window.

Peers (installed into ``benchmarks/.env`` by ``setup_peers.sh``):

* **mag1c 1.2.0** (Foote et al. 2020, IEEE TGRS 58, 6480): ``mag1c.mag1c.acrwl1mf`` and the
  ``python -m mag1c`` command line. It still uses the alias ``np.int`` that NumPy removed;
  :func:`import_mag1c` restores it here (``np.int = int``) before importing, instead of
  patching site-packages.
* **fastmag1c 0.1.0**: ``fastmag1c.filters.fastmag1c`` (MAG1C with a rank-2 covariance
  update). Its template loader downloads a file; it is never called here: our target is
  passed instead.
* **SPy (spectral)**: ``spectral.calc_stats`` + ``spectral.MatchedFilter``, run column by
  column.

Units. Every peer takes the target as 1e5 x d ln(L)/d(ppm·m) (or, for SPy, a target mean
spectrum) so that its output is in ppm·m:

* mag1c / fastmag1c: ``template = 1e5 * s``; their ``scaling = 1e5`` turns the result into
  ppm·m.
* SPy: ``MatchedFilter(stats, target)`` uses ``target - stats.mean`` as the signature, so
  ``target = mean + s * mean`` gives ``(x - μ)ᵀC⁻¹t / (tᵀC⁻¹t)`` with ``t = s ⊙ μ``: ppm·m.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

SCALING = 1e5


def have_peers() -> bool:
    """True when mag1c, fastmag1c, torch and spectral can be imported."""
    try:
        import_mag1c()
        import fastmag1c.filters  # noqa: F401
        import spectral  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def import_mag1c() -> ModuleType:
    """Import ``mag1c.mag1c`` with NumPy's removed ``np.int`` alias restored."""
    if not hasattr(np, "int"):
        setattr(np, "int", int)  # noqa: B010  (ruff would rewrite `np.int = int`)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mag1c.mag1c as m
    return m


def versions() -> dict[str, str]:
    """Versions of the peers (empty values for the ones missing)."""
    out: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for name in ("mag1c", "fastmag1c", "torch", "spectral", "numpy", "scipy", "threadpoolctl"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out


def mag1c_acrwl1mf(
    cube: NDArray[np.float32],
    s: NDArray[np.float64],
    *,
    num_iter: int = 30,
    double: bool = True,
) -> NDArray[np.float32]:
    """mag1c's ``acrwl1mf`` over every column, as its command line calls it by default.

    One column per call (``-g 1 -b 1``), float64 compute unless ``double=False``
    (``--single``), albedo correction, non-negativity and sparsity on,
    ``covariance_update_scaling=1``, ``alpha=0`` (the CLI defaults), no saturation mask.

    Parameters
    ----------
    cube : (rows, cols, bands) ndarray, radiance in the retrieval window
    s : (bands,) ndarray, d ln(L)/d(ppm·m)

    Returns
    -------
    (rows, cols) ndarray of float32, ppm·m
    """
    import torch

    m = import_mag1c()
    dtype = torch.float64 if double else torch.float32
    spec = torch.from_numpy(np.asarray(s, dtype=np.float64) * SCALING).to(dtype=dtype)
    rows, cols, _ = cube.shape
    out = np.empty((rows, cols), dtype=np.float32)
    for c in range(cols):
        x = torch.from_numpy(np.ascontiguousarray(cube[:, c, :])).to(dtype=dtype)[None]
        mask = torch.ones(x.shape[:-1], dtype=torch.bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.cholesky is deprecated
            mf, _ = m.acrwl1mf(x, spec, num_iter, False, False, False, 1.0, 0.0, mask)
        out[:, c] = mf[0, :, 0].numpy()
    return out


def fastmag1c_retrieve(
    cube: NDArray[np.float32],
    s: NDArray[np.float64],
    *,
    num_iter: int = 30,
    batch_size: int = 64,
    alpha: float | None = None,
    double: bool = False,
) -> NDArray[np.float32]:
    """``fastmag1c.filters.fastmag1c`` over every column, ``batch_size`` columns at a time.

    Uses fastmag1c's own defaults (float32, ``alpha=1e-4`` diagonal loading, 64 columns per
    batch, as ``fastmag1c.scene.retrieve``) unless told otherwise.

    Returns
    -------
    (rows, cols) ndarray of float32, ppm·m
    """
    import torch
    from fastmag1c import filters

    dtype = torch.float64 if double else torch.float32
    t = torch.as_tensor(np.asarray(s, dtype=np.float64) * SCALING, dtype=dtype)
    x = torch.as_tensor(np.ascontiguousarray(cube.transpose(1, 0, 2))).to(dtype=dtype)
    cols = x.shape[0]
    kw: dict[str, Any] = {"num_iter": num_iter, "scaling": SCALING}
    if alpha is not None:
        kw["alpha"] = alpha
    out = torch.empty(cols, x.shape[1], dtype=dtype)
    for i in range(0, cols, batch_size):
        mf, _ = filters.fastmag1c(x[i : i + batch_size], t, **kw)
        out[i : i + batch_size] = mf[..., 0]
    return np.ascontiguousarray(out.T.numpy().astype(np.float32))


def spy_columnwise_mf(cube: NDArray[np.float32], s: NDArray[np.float64]) -> NDArray[np.float64]:
    """SPy's matched filter with per-column background statistics (loop over columns).

    For each column: ``stats = spectral.calc_stats(column)`` (mean and N-1 covariance,
    float64), ``target = stats.mean * (1 + s)``, output ``MatchedFilter(stats, target)``.

    Returns
    -------
    (rows, cols) ndarray of float64, ppm·m
    """
    import spectral

    rows, cols, _ = cube.shape
    out = np.empty((rows, cols))
    sv = np.asarray(s, dtype=np.float64)
    for c in range(cols):
        col = np.ascontiguousarray(cube[:, c, :])
        stats = spectral.calc_stats(col)
        mf = spectral.MatchedFilter(stats, stats.mean * (1.0 + sv))
        out[:, c] = np.asarray(mf(col)).reshape(rows)
    return out


def write_mag1c_spec(
    path: Path, wavelength_nm: NDArray[np.float64], s_full: NDArray[np.float64]
) -> Path:
    """Write a mag1c ``--spec`` text file: band number, wavelength (nm), 1e5 x s per band."""
    rows = np.column_stack([np.arange(1, wavelength_nm.size + 1), wavelength_nm, s_full * SCALING])
    np.savetxt(path, rows, fmt=["%d", "%.6f", "%.10e"])
    return path


def mag1c_command(
    rdn_data: Path, spec: Path, out: Path, extra: list[str] | None = None
) -> list[str]:
    """mag1c's command line (through ``_mag1c_cli.py``, which only restores ``np.int``).

    ``rdn_data`` is the radiance *data* file, not its header.
    """
    return [
        sys.executable,
        str(Path(__file__).with_name("_mag1c_cli.py")),
        str(rdn_data),
        "--spec",
        str(spec),
        "--out",
        str(out),
        "--overwrite",
        "--quiet",
        *(extra or []),
    ]
