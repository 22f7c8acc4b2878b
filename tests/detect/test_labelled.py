from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.detect import retrieve, retrieve_dataarray
from plumetrace.errors import InvalidRadianceError

from .conftest import Scene


def _labelled(scene: Scene) -> tuple[xr.DataArray, xr.DataArray]:
    rows, cols, bands = scene.cube.shape
    band = np.arange(bands)
    da = xr.DataArray(
        scene.cube,
        dims=("row", "col", "band"),
        coords={
            "row": np.arange(rows) * 5.0,
            "col": np.arange(cols) * 5.0,
            "band": band,
            "wavelength": ("band", scene.wavelength),
        },
    )
    return da, xr.DataArray(scene.s, dims=("band",), coords={"band": band})


def test_labelled_retrieval_equals_array_retrieval(scene: Scene) -> None:
    da, target = _labelled(scene)
    ds = retrieve_dataarray(da.transpose("band", "col", "row"), target, method="mf")
    ref = retrieve(scene.cube, scene.s, method="mf", wavelength_nm=scene.wavelength)
    np.testing.assert_array_equal(ds["enhancement"].values, ref.enhancement)
    assert ref.residual is None and "residual" not in ds  # mf: no residual
    it = retrieve_dataarray(da, target, method="iterative")
    assert "residual" in it and it["residual"].dims == ("row", "col")
    assert ds["enhancement"].dims == ("row", "col") and ds["enhancement"].attrs["units"] == "ppm m"
    np.testing.assert_array_equal(ds["row"].values, da["row"].values)


def test_window_and_missing_coordinates(scene: Scene) -> None:
    da, target = _labelled(scene)
    ds = retrieve_dataarray(da, target, window_nm=(2200.0, 2400.0), method="ace")
    assert "score" in ds
    with pytest.raises(InvalidRadianceError, match="window"):
        retrieve_dataarray(da, target, window_nm=(500.0, 600.0))
    with pytest.raises(InvalidRadianceError, match="wavelength"):
        retrieve_dataarray(da.drop_vars("wavelength"), target)
    with pytest.raises(InvalidRadianceError, match="dimension"):
        retrieve_dataarray(da.rename(band="spectral"), target)
