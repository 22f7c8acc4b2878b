"""xarray entry point: labelled radiance in, labelled retrieval out."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from plumetrace.detect.filters import retrieve
from plumetrace.errors import InvalidRadianceError

__all__ = ["retrieve_dataarray"]


def retrieve_dataarray(
    radiance: xr.DataArray,
    absorption_per_ppm_m: xr.DataArray,
    *,
    window_nm: tuple[float, float] | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Retrieve a gas enhancement from a labelled radiance cube.

    Parameters
    ----------
    radiance : xarray.DataArray, dims ("row", "col", "band"), µW cm⁻² sr⁻¹ nm⁻¹
        Must carry a ``wavelength`` coordinate (nm) along ``band``.
    absorption_per_ppm_m : xarray.DataArray, dims ("band",), (ppm·m)⁻¹
        Unit absorption at the same bands (same ``band`` labels).
    window_nm : (float, float), optional
        Keep only bands whose wavelength lies in this window.
    **kwargs
        Passed to :func:`plumetrace.detect.retrieve` (method, group_cols, ...).

    Returns
    -------
    xarray.Dataset
        ``enhancement`` and ``uncertainty`` (ppm·m), ``flags`` (uint8) and ``albedo`` on
        dims ("row", "col"), with the radiance's row/col coordinates; ``residual`` (the
        target-fit residual on enhanced pixels, NaN elsewhere; not for mf); ``score``
        for ACE.
    """
    missing = {"row", "col", "band"} - set(radiance.dims)
    if missing:
        raise InvalidRadianceError(f"radiance lacks dimension(s) {sorted(missing)}")
    if "wavelength" not in radiance.coords:
        raise InvalidRadianceError("radiance needs a 'wavelength' coordinate along 'band'")
    cube = radiance.transpose("row", "col", "band")
    target = (
        absorption_per_ppm_m.reindex_like(cube.band)
        if "band" in absorption_per_ppm_m.coords
        else absorption_per_ppm_m
    )
    wl = cube["wavelength"].values.astype(np.float64)
    keep = np.ones(wl.size, dtype=bool)
    if window_nm is not None:
        keep = (wl >= window_nm[0]) & (wl <= window_nm[1])
        if not keep.any():
            raise InvalidRadianceError(f"no band in the window {window_nm[0]}-{window_nm[1]} nm")
    res = retrieve(
        np.asarray(cube.values[..., keep], dtype=np.float32),
        np.asarray(target.values, dtype=np.float64)[keep],
        wavelength_nm=wl[keep],
        **kwargs,
    )
    coords = {k: v for k, v in cube.coords.items() if set(v.dims) <= {"row", "col"}}
    dims = ("row", "col")
    data: dict[str, Any] = {
        "enhancement": (dims, res.enhancement, {"units": "ppm m"}),
        "uncertainty": (dims, res.uncertainty, {"units": "ppm m"}),
        "flags": (dims, res.flags),
        "albedo": (dims, res.albedo),
    }
    if res.residual is not None:
        data["residual"] = (dims, res.residual, {"units": "1"})
    if res.score is not None:
        data["score"] = (dims, res.score)
    return xr.Dataset(data, coords=coords, attrs={"iterations": res.iterations})
