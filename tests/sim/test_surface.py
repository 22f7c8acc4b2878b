from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.sim import (
    LAND_COVER_CLASSES,
    SceneInputs,
    SurfaceMap,
    band_reflectance,
    generate_surface,
    smooth_field,
)


@pytest.fixture(scope="module")
def surface(avirisng_inputs: SceneInputs) -> SurfaceMap:
    b = avirisng_inputs.bands
    return generate_surface(
        avirisng_inputs.library,
        240,
        200,
        5.0,
        b.wavelength_nm,
        b.fwhm_nm,
        np.random.default_rng(11),
    )


def test_band_reflectance_flat_extension_below_library(avirisng_inputs: SceneInputs) -> None:
    lib = avirisng_inputs.library
    b = avirisng_inputs.bands
    refl = band_reflectance(lib.wavelength_nm, lib.reflectance[:5], b.wavelength_nm, b.fwhm_nm)
    assert refl.shape == (5, b.wavelength_nm.size)
    assert np.all(np.isfinite(refl))
    vnir = b.wavelength_nm < 1350
    expected = lib.reflectance[:5, lib.wavelength_nm <= 1450].mean(axis=1)
    np.testing.assert_allclose(
        refl[:, vnir], np.repeat(expected[:, None], vnir.sum(), 1), rtol=1e-9
    )
    # inside the library the band value is a local average of the spectrum
    i = np.argmin(np.abs(b.wavelength_nm - 2000))
    j = np.abs(lib.wavelength_nm - b.wavelength_nm[i]) <= 3
    np.testing.assert_allclose(refl[:, i], lib.reflectance[:5, j].mean(axis=1), rtol=0.05)


def test_surface_shapes_and_ranges(surface: SurfaceMap, avirisng_inputs: SceneInputs) -> None:
    k = len(surface.endmember_names)
    assert surface.abundance.shape == (240, 200, k) and surface.abundance.dtype == np.float32
    assert surface.reflectance.shape == (k, avirisng_inputs.bands.wavelength_nm.size)
    assert np.all(surface.abundance >= 0)
    total = surface.abundance.sum(axis=2)
    assert total.min() > 0.7 and total.max() < 1.3  # mixtures plus shading texture
    refl = surface.reflectance_rows(0, 240)
    swir = refl[:, :, np.argmin(np.abs(avirisng_inputs.bands.wavelength_nm - 2200))]
    assert swir.min() >= 0.0 and swir.max() < 1.0
    assert 0.1 < np.median(swir) < 0.5  # semi-arid land


def test_surface_has_the_false_positive_structures(surface: SurfaceMap) -> None:
    present = {LAND_COVER_CLASSES[c] for c in np.unique(surface.land_cover)}
    assert {"caliche_pad", "tank"} <= present
    assert present & {"road_paved", "road_caliche"}
    assert len(present & {"soil", "dry_vegetation", "green_vegetation", "soil_vegetation"}) >= 3
    assert surface.sites.shape[1] == 2 and len(surface.sites) >= 4
    assert np.all(surface.land_cover[surface.sites[:, 0], surface.sites[:, 1]] <= 9)
    # pads (calcite-rich caliche) are brighter than the land around them at 2200 nm
    cal = LAND_COVER_CLASSES.index("caliche_pad")
    refl = surface.reflectance_rows(0, 240)[:, :, 300]
    assert refl[surface.land_cover == cal].mean() > np.median(refl)


def test_surface_is_deterministic(avirisng_inputs: SceneInputs) -> None:
    b = avirisng_inputs.bands

    def make(seed: int) -> SurfaceMap:
        return generate_surface(
            avirisng_inputs.library,
            64,
            48,
            10.0,
            b.wavelength_nm,
            b.fwhm_nm,
            np.random.default_rng(seed),
        )

    a, a2, c = make(3), make(3), make(4)
    np.testing.assert_array_equal(a.abundance, a2.abundance)
    assert a.endmember_names == a2.endmember_names
    assert not np.array_equal(a.reflectance_rows(0, 64), c.reflectance_rows(0, 64))


def test_surface_rejects_bad_size(avirisng_inputs: SceneInputs) -> None:
    b = avirisng_inputs.bands
    with pytest.raises(InvalidParameterError):
        generate_surface(
            avirisng_inputs.library,
            0,
            10,
            5.0,
            b.wavelength_nm,
            b.fwhm_nm,
            np.random.default_rng(0),
        )


def test_smooth_field_statistics() -> None:
    f = smooth_field((256, 256), 8.0, np.random.default_rng(0))
    assert f.dtype == np.float32 and f.shape == (256, 256)
    assert abs(float(f.mean())) < 1e-5 and float(f.std()) == pytest.approx(1.0, rel=1e-4)
    lag1 = np.corrcoef(f[:, :-1].ravel(), f[:, 1:].ravel())[0, 1]
    lag32 = np.corrcoef(f[:, :-32].ravel(), f[:, 32:].ravel())[0, 1]
    assert lag1 > 0.9 and abs(lag32) < 0.3
    big = smooth_field((300, 200), 60.0, np.random.default_rng(0))  # coarse-grid path
    assert (
        big.shape == (300, 200)
        and np.corrcoef(big[:, :-1].ravel(), big[:, 1:].ravel())[0, 1] > 0.99
    )
