from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.flight.operators import Operator
from plumetrace.io.maritime import read_maritime_limits
from plumetrace.pipeline.airspace import AirspaceChecker

# a made-up "official" Mexican sea reaching ~0.6° (~60 km) off Veracruz
WIDE = shapely.box(-96.4, 18.8, -95.2, 20.2)
POINT = (19.5, -95.6)  # ~35 km offshore: international by the 12 nm rule


def _geojson(path: Path, props: dict[str, object]) -> None:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(WIDE),
                        "properties": props,
                    }
                ],
            }
        )
    )


def test_official_limits_replace_the_computed_belt(tmp_path: Path) -> None:
    _geojson(tmp_path / "seas.geojson", {"ISO_TER1": "MEX", "name": "Mexico"})
    seas = read_maritime_limits(tmp_path / "seas.geojson")
    assert set(seas) == {"MEX"}
    op = Operator("b", "b", ("USA", "international"))
    computed = AirspaceChecker(op).check(np.array([POINT[0]]), np.array([POINT[1]]))[0]
    official = AirspaceChecker(op, seas=seas).check(np.array([POINT[0]]), np.array([POINT[1]]))[0]
    assert computed.zone == "international" and computed.allowed
    assert official.zone == "MEX" and not official.allowed


def test_geopackage(tmp_path: Path) -> None:
    import pyogrio.raw

    path = tmp_path / "seas.gpkg"
    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(WIDE)], dtype=object),
        [np.array(["MEX"], dtype=object)],
        fields=["iso_a3"],
        geometry_type="Polygon",
        crs="EPSG:4326",
        driver="GPKG",
    )
    assert set(read_maritime_limits(path)) == {"MEX"}


def test_bad_files(tmp_path: Path) -> None:
    _geojson(tmp_path / "nocode.geojson", {"name": "Mexico"})
    with pytest.raises(FormatError, match="no alpha-3 country code"):
        read_maritime_limits(tmp_path / "nocode.geojson")
    with pytest.raises(DataSourceError, match="not found"):
        read_maritime_limits(tmp_path / "missing.gpkg")
    (tmp_path / "x.kml").write_text("<kml/>")
    with pytest.raises(FormatError, match="unknown format"):
        read_maritime_limits(tmp_path / "x.kml")
