"""Gas target signatures: lookup tables -> unit absorption at a sensor's bands."""

from plumetrace.spectra.srf import FWHM_TO_SIGMA, convolve_to_bands, response_matrix
from plumetrace.spectra.target import (
    DEFAULT_FIT_MAX_PPM_M,
    GasTarget,
    Weighting,
    band_lookup_table,
    target_from_lookup_table,
    target_from_table,
)

__all__ = [
    "DEFAULT_FIT_MAX_PPM_M",
    "FWHM_TO_SIGMA",
    "GasTarget",
    "Weighting",
    "band_lookup_table",
    "convolve_to_bands",
    "response_matrix",
    "target_from_lookup_table",
    "target_from_table",
]
