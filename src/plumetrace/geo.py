"""Geodesy and georeferencing helpers (pyproj): value types and local projections.

Coordinates are WGS84; local computations run in metres on a UTM projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from plumetrace.errors import InvalidParameterError

__all__ = [
    "Georef",
    "local_projection",
    "local_to_lonlat",
    "lonlat_box",
    "utm_crs_for",
    "utm_georef",
]


@dataclass(frozen=True)
class Georef:
    """Where the pixels of a ``(rows, cols)`` raster lie on the Earth.

    Either a regular grid (``crs`` + ``transform``) or per-pixel coordinates
    (``lat``/``lon``, as in EMIT L1B), or neither (unreferenced).

    Attributes
    ----------
    crs : str or None
        CRS as ``"EPSG:nnnn"`` or WKT.
    transform : tuple of 6 float or None
        Affine coefficients ``(a, b, c, d, e, f)`` in rasterio's order: ``x = a*col + b*row
        + c``, ``y = d*col + e*row + f``, for the pixel's upper-left corner.
    lat, lon : (rows, cols) ndarray or None, degrees
        Per-pixel centre coordinates.
    """

    crs: str | None = None
    transform: tuple[float, float, float, float, float, float] | None = None
    lat: NDArray[np.float64] | None = None
    lon: NDArray[np.float64] | None = None

    @property
    def is_referenced(self) -> bool:
        """True when the pixels have a location."""
        return (self.crs is not None and self.transform is not None) or (
            self.lat is not None and self.lon is not None
        )

    def pixel_centers_lonlat(
        self, rows: NDArray[np.float64], cols: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return WGS84 lon, lat (degrees) of fractional pixel positions (row, col).

        Pixel ``(r, c)`` has its centre at fractional position ``(r + 0.5, c + 0.5)`` of the
        grid, so pass ``rows + 0.5`` for centres when using a regular grid; with per-pixel
        lat/lon the values are interpolated bilinearly at ``(rows, cols)`` taken as centre
        indices.
        """
        r = np.asarray(rows, dtype=np.float64)
        c = np.asarray(cols, dtype=np.float64)
        if self.crs is not None and self.transform is not None:
            a, b, xoff, d, e, yoff = self.transform
            x = a * c + b * r + xoff
            y = d * c + e * r + yoff
            tr = Transformer.from_crs(CRS.from_user_input(self.crs), "EPSG:4326", always_xy=True)
            lon, lat = tr.transform(x, y)
            return np.asarray(lon), np.asarray(lat)
        if self.lat is not None and self.lon is not None:
            from scipy.ndimage import map_coordinates

            coords = np.stack([r.ravel(), c.ravel()])
            lat = map_coordinates(self.lat, coords, order=1, mode="nearest").reshape(r.shape)
            lon = map_coordinates(self.lon, coords, order=1, mode="nearest").reshape(r.shape)
            return lon, lat
        raise InvalidParameterError("the raster is not georeferenced")

    def grid_to_lonlat(
        self, rows: NDArray[np.float64], cols: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return WGS84 lon, lat (degrees) of continuous grid coordinates.

        Grid coordinates put pixel ``(r, c)``'s upper-left corner at ``(r, c)`` and its
        centre at ``(r + 0.5, c + 0.5)``, whatever the kind of georeferencing.
        """
        r = np.asarray(rows, dtype=np.float64)
        c = np.asarray(cols, dtype=np.float64)
        if self.crs is not None and self.transform is not None:
            return self.pixel_centers_lonlat(r, c)
        return self.pixel_centers_lonlat(r - 0.5, c - 0.5)

    def jacobian_m(self, shape: tuple[int, int]) -> NDArray[np.float64]:
        """Return the grid's Jacobian at the raster centre, metres per pixel.

        ``[east, north] = J @ [dcol, drow]``, from the positions of the centre pixel and
        its neighbours projected to the local UTM zone (works for projected, geographic
        and per-pixel lat/lon grids, rotated or not).

        Parameters
        ----------
        shape : (rows, cols)
        """
        rc = max(shape[0] // 2, 0) + 0.5
        cc = max(shape[1] // 2, 0) + 0.5
        step_r = 1.0 if shape[0] > 1 else 0.0
        step_c = 1.0 if shape[1] > 1 else 0.0
        lon, lat = self.grid_to_lonlat(
            np.array([rc, rc, rc + step_r]), np.array([cc, cc + step_c, cc])
        )
        tr = Transformer.from_crs(
            "EPSG:4326", utm_crs_for(float(lat[0]), float(lon[0])), always_xy=True
        )
        x, y = tr.transform(lon, lat)
        jac = np.array([[x[1] - x[0], x[2] - x[0]], [y[1] - y[0], y[2] - y[0]]])
        if not abs(np.linalg.det(jac)) > 0:
            raise InvalidParameterError("the raster's georeferencing has zero pixel area")
        return jac


def utm_crs_for(lat: float, lon: float) -> str:
    """Return ``"EPSG:326zz"``/``"EPSG:327zz"``, the WGS84 UTM zone containing a point."""
    if not (-80.0 <= lat <= 84.0) or not (-180.0 <= lon <= 180.0):
        raise InvalidParameterError(f"no UTM zone for lat {lat}, lon {lon}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def utm_georef(lat: float, lon: float, rows: int, cols: int, pixel_size_m: float) -> Georef:
    """Return a north-up UTM grid whose centre pixel lies at (lat, lon).

    Parameters
    ----------
    lat, lon : float, degrees
        Scene centre.
    rows, cols : int
        Raster size.
    pixel_size_m : float, m
        Square pixel size.
    """
    if pixel_size_m <= 0:
        raise InvalidParameterError("pixel size must be positive")
    crs = utm_crs_for(lat, lon)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0 = tr.transform(lon, lat)
    left = x0 - cols * pixel_size_m / 2.0
    top = y0 + rows * pixel_size_m / 2.0
    return Georef(crs=crs, transform=(pixel_size_m, 0.0, left, 0.0, -pixel_size_m, top))


def local_to_lonlat(
    x_m: ArrayLike, y_m: ArrayLike, origin_lat: float, origin_lon: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude and latitude of local east/north offsets from an origin.

    Uses the azimuthal equidistant projection centred on the origin (WGS 84), exact in
    distance and bearing from the origin: the frame of a survey's local metres.

    Parameters
    ----------
    x_m, y_m : array_like, m
        East and north offsets.
    origin_lat, origin_lon : float, degrees
        The frame's origin.

    Returns
    -------
    lon, lat : ndarray, degrees
    """
    if not (-90.0 <= origin_lat <= 90.0 and -180.0 <= origin_lon <= 360.0):
        raise InvalidParameterError(
            f"origin must be LAT,LON in degrees (got {origin_lat},{origin_lon})"
        )
    _, proj = local_projection(origin_lon, origin_lat)
    lon, lat = proj.transform(np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def local_projection(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward (lon/lat -> m) and inverse transformers of an AEQD centred on (lon, lat).

    The azimuthal equidistant projection on WGS 84 is exact in distance and bearing from
    its centre: the local metric frame of surveys, sorties and airspace regions.
    """
    # the pipelines PROJ builds for ``from_crs("EPSG:4326", "+proj=aeqd …", always_xy=True)``
    # and its inverse, given directly: the same operations (bit-identical results) without
    # the CRS lookup and operation search, which cost ~25 ms per call
    aeqd = f"proj=aeqd lat_0={lat:.8f} lon_0={lon:.8f} x_0=0 y_0=0 ellps=WGS84"
    fwd = Transformer.from_pipeline(
        f"proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad step {aeqd}"
    )
    inv = Transformer.from_pipeline(
        f"proj=pipeline step inv {aeqd} step proj=unitconvert xy_in=rad xy_out=deg"
    )
    return fwd, inv


_M_PER_DEG_LAT_MIN = 110_574.0  # shortest degree of latitude on WGS 84 (at the equator), m
_M_PER_DEG_LON_EQ = 111_320.0  # degree of longitude at the equator, m


def lonlat_box(
    lats: ArrayLike, lons: ArrayLike, margin_m: float = 0.0
) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` around points, widened by ``margin_m``.

    A pre-selection box for database or tree queries. It is conservative: every point
    within ``margin_m`` of the given ones lies inside (the shortest degree of latitude,
    and the degree of longitude at the box's highest latitude, are used). Exact distances
    belong on :func:`local_projection`.

    Parameters
    ----------
    lats, lons : (n,) array_like, deg
    margin_m : float, m
    """
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    dlat = margin_m / _M_PER_DEG_LAT_MIN
    widest = min(float(np.abs(lat).max()) + dlat, 89.0)
    dlon = margin_m / (_M_PER_DEG_LON_EQ * max(math.cos(math.radians(widest)), 0.01))
    return (
        float(lon.min() - dlon),
        float(lat.min() - dlat),
        float(lon.max() + dlon),
        float(lat.max() + dlat),
    )
