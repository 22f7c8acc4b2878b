"""The audit map (Pillow): what it shows, and that it copes with any area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image

from plumetrace.flight.audit import Incursion
from plumetrace.io.audit_png import AuditMap, write_audit_png

LON = np.full(200, -106.45)
LAT = np.linspace(31.80, 31.60, 200)
AREA = shapely.box(-106.6, 31.70, -106.3, 31.9)  # the track leaves it at 31.70
INC = Incursion(
    first=101,
    last=199,
    entry_time_s=100.5,
    exit_time_s=199.0,
    entry_xy=(0.0, 0.0),
    exit_xy=(0.0, 0.0),
    max_depth_m=11_000.0,
    deepest=199,
)


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.size == (825, 715) and im.format == "PNG"
        return np.asarray(im.convert("RGB")).astype(int)


def _red(px: np.ndarray) -> int:
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    return int(np.count_nonzero((r > 170) & (g < 90) & (b < 90)))


def _at(m: AuditMap, lon: float, lat: float) -> tuple[int, int]:
    x, y = m.view.px(np.array([lon]), np.array([lat]))[0]
    return round(float(m.origin[1] + y)), round(float(m.origin[0] + x))


def test_map_shows_track_incursion_and_area(tmp_path: Path) -> None:
    path = write_audit_png(tmp_path / "a.png", LON, LAT, [INC], AREA, title="t: 1 incursion")
    px = _pixels(path)
    assert _red(px) > 500  # the incursion (and the depth label)
    m = AuditMap(LON, LAT, AREA)
    tint = px[_at(m, -106.49, 31.75)]
    assert tint[1] > tint[0] and tint[1] > tint[2]  # green-tinted inside the area
    assert px[_at(m, -106.49, 31.62)].tolist() == [255, 255, 255]  # white outside
    # no incursion: nothing red
    path = write_audit_png(tmp_path / "b.png", LON, LAT, [], AREA, title="t: none")
    assert _red(_pixels(path)) == 0


def test_holes_are_not_tinted(tmp_path: Path) -> None:
    area = shapely.Polygon(
        [(-106.6, 31.5), (-106.3, 31.5), (-106.3, 31.9), (-106.6, 31.9)],
        [[(-106.51, 31.60), (-106.47, 31.60), (-106.47, 31.65), (-106.51, 31.65)]],
    )
    path = write_audit_png(tmp_path / "h.png", LON, LAT, [], area, title="hole")
    px = _pixels(path)
    m = AuditMap(LON, LAT, area)
    assert px[_at(m, -106.49, 31.625)].tolist() == [255, 255, 255]
    assert px[_at(m, -106.41, 31.56)].tolist() != [255, 255, 255]


@pytest.mark.parametrize(
    "area",
    [
        shapely.GeometryCollection([AREA, shapely.LineString([(-106.5, 31.6), (-106.4, 31.6)])]),
        shapely.Polygon(),
        shapely.MultiPolygon([AREA, shapely.box(-106.5, 31.5, -106.4, 31.6)]),
    ],
)
def test_any_area_is_drawn(tmp_path: Path, area: shapely.Geometry) -> None:
    write_audit_png(tmp_path / "x.png", LON, LAT, [INC], area, title="x")
    assert _pixels(tmp_path / "x.png").shape == (715, 825, 3)


def test_a_single_sample(tmp_path: Path) -> None:
    one = Incursion(0, 0, 0.0, 0.0, (0.0, 0.0), (0.0, 0.0), 50.0, 0)
    write_audit_png(tmp_path / "x.png", LON[:1], LAT[:1], [one], AREA, title="one")
    assert _red(_pixels(tmp_path / "x.png")) > 0


def test_drawing_stretches_early_gives_the_same_map(tmp_path: Path) -> None:
    one = write_audit_png(tmp_path / "one.png", LON, LAT, [INC], AREA, title="t")
    early = AuditMap(LON, LAT, AREA, [(INC.first, INC.last)])
    two = early.write(tmp_path / "two.png", [INC], title="t")
    assert np.array_equal(_pixels(one), _pixels(two))
