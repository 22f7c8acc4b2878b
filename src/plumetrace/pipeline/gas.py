"""Choosing a gas target and retrieval window for a sensor's bands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from plumetrace.data import ch4_lookup_table
from plumetrace.errors import InvalidParameterError, InvalidRadianceError
from plumetrace.io.tables import read_gas_csv
from plumetrace.spectra import GasTarget, Weighting, target_from_lookup_table, target_from_table

__all__ = [
    "DEFAULT_WINDOWS_NM",
    "build_target",
    "parse_window",
    "resolve_weighting",
    "window_bands",
]

DEFAULT_WINDOWS_NM: dict[str, tuple[float, float]] = {"ch4": (2122.0, 2488.0)}
"""Default retrieval windows per built-in gas, nm (MAG1C's CH4 window)."""


def resolve_weighting(gas: str, weighting: Weighting | None) -> Weighting:
    """Return the target weighting ``gas`` is built with: ``weighting``, or its default.

    The built-in gas defaults to ``"radiance"``; a CSV gives the absorption itself,
    which is band-averaged (``"absorption"``; ``"radiance"`` is refused).
    """
    if weighting not in (None, "radiance", "absorption"):
        raise InvalidParameterError(
            f"unknown target weighting {weighting!r}: use radiance or absorption"
        )
    if gas.lower() == "ch4":
        return weighting or "radiance"
    if weighting == "radiance":
        raise InvalidParameterError(
            f"gas {gas!r}: a CSV absorption spectrum can only be band-averaged "
            "(--target-weighting absorption); radiance weighting needs a radiance lookup "
            "table (the built-in ch4)"
        )
    return "absorption"


def build_target(
    gas: str,
    wavelength_nm: NDArray[np.float64],
    fwhm_nm: NDArray[np.float64],
    weighting: Weighting | None = None,
) -> GasTarget:
    """Build the target of ``gas`` (``"ch4"`` or a CSV path) at the given bands.

    ``weighting`` (:data:`plumetrace.spectra.Weighting`; :func:`resolve_weighting` gives
    its default and refuses ``"radiance"`` for a CSV).
    """
    resolved = resolve_weighting(gas, weighting)
    if gas.lower() == "ch4":
        return target_from_lookup_table(
            ch4_lookup_table(), wavelength_nm, fwhm_nm, weighting=resolved
        )
    path = Path(gas)
    if path.suffix.lower() != ".csv":
        raise InvalidParameterError(
            f"unknown gas {gas!r}: use 'ch4' or a CSV file with columns "
            "wavelength_nm, absorption_per_ppm_m"
        )
    wl, ab = read_gas_csv(path)
    return target_from_table(path.stem, wl, ab, wavelength_nm, fwhm_nm)


def parse_window(text: str) -> tuple[float, float]:
    """Parse ``"MIN:MAX"`` (nm) into a pair of floats."""
    parts = text.split(":")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(
            f"window {text!r} must be MIN:MAX in nm, e.g. 2122:2488"
        ) from None
    if not lo < hi:
        raise InvalidParameterError(f"window {text!r}: MIN must be smaller than MAX")
    return lo, hi


def window_bands(
    source: str,
    wavelength_nm: NDArray[np.float64],
    target: GasTarget,
    window_nm: tuple[float, float] | None,
) -> tuple[NDArray[np.intp], tuple[float, float]]:
    """Return the indices of the bands used by the retrieval.

    Parameters
    ----------
    source : str
        Name of the radiance file, for error messages.
    wavelength_nm : (bands,) ndarray, nm
    target : GasTarget
    window_nm : (float, float) or None
        Window; default: the gas's default window, or for a user gas the span where its
        absorption is non-zero.

    Returns
    -------
    indices : (k,) ndarray of int
        Bands inside the window where the target is defined.
    window : (float, float)
        The window used, nm.
    """
    if window_nm is None:
        if target.gas in DEFAULT_WINDOWS_NM:
            window_nm = DEFAULT_WINDOWS_NM[target.gas]
        else:
            nz = np.flatnonzero(target.absorption_per_ppm_m != 0)
            if nz.size == 0:
                raise InvalidRadianceError(
                    f"{source}: the {target.gas} target is zero at every band"
                )
            window_nm = (float(wavelength_nm[nz[0]]), float(wavelength_nm[nz[-1]]))
    lo, hi = window_nm
    idx = np.flatnonzero((wavelength_nm >= lo) & (wavelength_nm <= hi))
    if idx.size == 0:
        raise InvalidRadianceError(
            f"{source}: no band falls in the window {lo:g}-{hi:g} nm "
            f"(the file covers {wavelength_nm.min():.0f}-{wavelength_nm.max():.0f} nm)"
        )
    if idx.size < 3:
        raise InvalidRadianceError(
            f"{source}: only {idx.size} band(s) in the window {lo:g}-{hi:g} nm; need at least 3"
        )
    if not np.any(target.absorption_per_ppm_m[idx] != 0):
        raise InvalidRadianceError(
            f"{source}: the {target.gas} target is zero at every band in {lo:g}-{hi:g} nm"
        )
    return idx, (float(lo), float(hi))
