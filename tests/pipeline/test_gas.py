from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plumetrace.data import ch4_lookup_table, sensor_bands
from plumetrace.errors import InvalidParameterError
from plumetrace.pipeline.gas import build_target
from plumetrace.spectra import target_from_lookup_table


def _bands() -> tuple[np.ndarray, np.ndarray]:
    b = sensor_bands("aviris-ng")
    return np.asarray(b.wavelength_nm), np.asarray(b.fwhm_nm)


@pytest.mark.parametrize("weighting", [None, "radiance", "absorption"])
def test_ch4_weighting(weighting: str | None) -> None:
    wl, fwhm = _bands()
    got = build_target("ch4", wl, fwhm, weighting=weighting)  # type: ignore[arg-type]
    expected = target_from_lookup_table(
        ch4_lookup_table(),
        wl,
        fwhm,
        weighting=weighting or "radiance",  # type: ignore[arg-type]
    )
    np.testing.assert_array_equal(got.absorption_per_ppm_m, expected.absorption_per_ppm_m)


def test_a_csv_target_is_band_averaged_absorption_only(tmp_path: Path) -> None:
    wl, fwhm = _bands()
    csv = tmp_path / "gas.csv"
    grid = np.arange(2000.0, 2500.0, 0.5)
    rows = "\n".join(f"{w},{-1e-6 * np.exp(-(((w - 2300) / 20) ** 2))}" for w in grid)
    csv.write_text("wavelength_nm,absorption_per_ppm_m\n" + rows + "\n")
    plain = build_target(str(csv), wl, fwhm)
    assert np.array_equal(
        plain.absorption_per_ppm_m,
        build_target(str(csv), wl, fwhm, weighting="absorption").absorption_per_ppm_m,
    )
    assert plain.absorption_per_ppm_m.min() < 0
    with pytest.raises(InvalidParameterError, match="can only be band-averaged"):
        build_target(str(csv), wl, fwhm, weighting="radiance")


def test_unknown_weighting() -> None:
    wl, fwhm = _bands()
    with pytest.raises(InvalidParameterError, match="unknown target weighting"):
        build_target("ch4", wl, fwhm, weighting="radiant")  # type: ignore[arg-type]
