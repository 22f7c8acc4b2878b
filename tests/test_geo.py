from __future__ import annotations

import numpy as np

from plumetrace.geo import local_projection, lonlat_box


def test_lonlat_box_holds_every_point_within_the_margin() -> None:
    rng = np.random.default_rng(0)
    lat0, lon0 = 31.75, -106.45
    lats = lat0 + rng.uniform(-0.05, 0.05, 200)
    lons = lon0 + rng.uniform(-0.05, 0.05, 200)
    w, s, e, n = lonlat_box(lats, lons, 1000.0)
    assert (w, s, e, n) == lonlat_box(lats, lons, 1000.0)
    assert w < lons.min() and e > lons.max() and s < lats.min() and n > lats.max()
    # points 1 km from the extreme points in every direction stay inside the box
    fwd, inv = local_projection(lon0, lat0)
    x, y = fwd.transform(lons, lats)
    for dx, dy in ((999, 0), (-999, 0), (0, 999), (0, -999)):
        lo, la = inv.transform(np.asarray(x) + dx, np.asarray(y) + dy)
        assert np.all((lo >= w) & (lo <= e) & (la >= s) & (la <= n))
    assert lonlat_box(lats, lons) == (lons.min(), lats.min(), lons.max(), lats.max())
