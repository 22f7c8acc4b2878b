"""Surface reflectance maps for simulated scenes: fields, roads, pads, roofs and water.

A scene's surface is a linear mixture of a few dozen laboratory spectra (USGS splib07a,
Kokaly et al. 2017). The generator returns per-pixel *abundances* (rows, cols, K) and the
endmembers' band reflectances (K, bands); the radiance of a block of rows is then one
``abundance @ endmember`` product, never a per-pixel convolution.

The layout mimics a semi-arid oil-and-gas landscape (e.g. the Permian Basin), including
the structures that cause false positives in gas retrievals:

* Voronoi patches (fields, rangeland) of soils, dry and green vegetation and soil/grass
  mixes, with domain-warped (irregular) and softened edges, smooth within-patch mixing
  fractions and a brightness texture at several scales (albedo edges);
* straight section-line roads (asphalt or caliche) with anti-aliased edges, and spur roads
  to the pads (linear features);
* well pads of caliche (calcite: bright, with a 2340 nm carbonate band) carrying storage
  tanks of painted metal or white HDPE (hydrocarbon C-H bands at 1730 and 2310 nm);
* clusters of buildings with roofing, metal and plastic roofs (bright roofs);
* a few ponds (water: dark in the SWIR, hence noisy retrievals).

Below 1400 nm the library has no data: each spectrum is extended with its mean over
1400-1450 nm, and above 2500 nm with its mean over 2480-2500 nm (flat extrapolation). The
VNIR reflectance of the scene is therefore only a placeholder; the SWIR used by gas
retrievals is exact up to the band convolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import zoom
from scipy.spatial import cKDTree
from scipy.special import ndtr

from plumetrace.data import SurfaceLibrary
from plumetrace.errors import InvalidParameterError
from plumetrace.spectra.srf import convolve_to_bands

__all__ = [
    "LAND_COVER_CLASSES",
    "SurfaceMap",
    "band_reflectance",
    "generate_surface",
    "smooth_field",
]

LAND_COVER_CLASSES: tuple[str, ...] = (
    "soil",
    "dry_vegetation",
    "green_vegetation",
    "soil_vegetation",
    "caliche_pad",
    "road_paved",
    "road_caliche",
    "roof",
    "tank",
    "water",
)
"""Names of the land-cover codes of :attr:`SurfaceMap.land_cover` (code = index)."""

_CLS = {name: i for i, name in enumerate(LAND_COVER_CLASSES)}

# Endmember pools: (categories, name prefixes; empty = whole categories, excluded prefixes).
_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "soil": (
        ("soil", "rock_altered", "coating"),
        (
            "Phlogopite_Sand",
            "Sand_DWO-3-DEL2ar1",
            "Stonewall_Playa",
            "Limestone",
            "Hematite_Coatd_Qtz_BR93-25B",
            "Desert_Varnish",
            "Basalt_weathered",
        ),
        (),
    ),
    "dry_vegetation": (
        ("vegetation_dry",),
        (),
        ("Marsh", "S.altern", "P.aus", "Willow_Dead", "D.spicata", "J.roemer"),
    ),
    "green_vegetation": (
        ("vegetation",),
        (),
        (
            "S.altern",
            "S.americanus",
            "Spar.patens",
            "Hyacinth",
            "P.austr",
            "J.roemer",
            "Blue_Spruce",
            "Engelmann",
            "Lodgepole",
            "Aspen",
        ),
    ),
    "soil_vegetation": (("vegetation_soil_mix",), (), ("Marsh",)),
    "caliche": (("mineral", "rock_altered"), ("Calcite", "Limestone"), ()),
    "asphalt": (("asphalt_road",), (), ()),
    "concrete": (("concrete_masonry",), ("Concrete", "Cinder_Block"), ()),
    "roof": (
        ("roofing", "metal", "plastic_synthetic", "concrete_masonry"),
        (
            "Asphalt_Shingle",
            "Fiberglass_GDS335",
            "Roofing_Felt",
            "Tar_Paper",
            "GalvanizedSheetMetal",
            "Sheet_Metal",
            "Aluminum_brushed",
            "Painted_Aluminum",
            "Plastic_Vinyl_GDS372",
            "Plastic_HDPE_GDS384",
            "Brick_GDS354",
            "Cinder_Block",
        ),
        (),
    ),
    "tank": (
        ("metal", "plastic_synthetic"),
        (
            "Painted_Aluminum",
            "Sheet_Metal",
            "Coated_Steel",
            "Rusted_Tin_Can",
            "Plastic_HDPE_GDS384",
            "Plastic_HDPE_GDS392",
        ),
        (),
    ),
    "water": (("water",), (), ()),
}
# How many spectra of each pool one scene uses.
_PER_SCENE = {
    "soil": 4,
    "dry_vegetation": 3,
    "green_vegetation": 3,
    "soil_vegetation": 2,
    "caliche": 2,
    "asphalt": 1,
    "concrete": 1,
    "roof": 6,
    "tank": 3,
    "water": 2,
}
# Voronoi patch classes: (land-cover name, pool, probability, partner pool for mixing).
_PATCHES: tuple[tuple[str, str, float, str], ...] = (
    ("soil", "soil", 0.35, "dry_vegetation"),
    ("dry_vegetation", "dry_vegetation", 0.30, "soil"),
    ("soil_vegetation", "soil_vegetation", 0.15, "soil"),
    ("green_vegetation", "green_vegetation", 0.20, "soil"),
)


@dataclass(frozen=True)
class SurfaceMap:
    """A mixed-pixel surface: abundances of a few library spectra.

    Attributes
    ----------
    abundance : (rows, cols, K) ndarray of float32
        Mixing coefficients; they sum to a brightness factor near 1 (texture and shading).
    endmember_names : tuple of str
        Library names of the K spectra.
    reflectance : (K, bands) ndarray, unitless
        The spectra convolved to the sensor's bands.
    land_cover : (rows, cols) ndarray of uint8
        Dominant cover of each pixel, codes of :data:`LAND_COVER_CLASSES`.
    sites : (n, 2) ndarray of int
        Pixel (row, col) of each well-pad centre (candidate emission sources and flares).
    """

    abundance: NDArray[np.float32]
    endmember_names: tuple[str, ...]
    reflectance: NDArray[np.float64]
    land_cover: NDArray[np.uint8]
    sites: NDArray[np.int64]

    def reflectance_rows(self, start: int, stop: int) -> NDArray[np.float32]:
        """Band reflectance of rows ``start:stop`` as ``(stop-start, cols, bands)`` float32."""
        a = self.abundance[start:stop]
        return np.asarray(a @ self.reflectance.astype(np.float32), dtype=np.float32)


def band_reflectance(
    wavelength_nm: ArrayLike,
    reflectance: ArrayLike,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
) -> NDArray[np.float64]:
    """Convolve reflectance spectra to bands, extending them flat beyond the library.

    Parameters
    ----------
    wavelength_nm : (n,) array_like, nm
        Library grid (1400-2500 nm for the packaged library).
    reflectance : (K, n) array_like, unitless
    centers_nm, fwhm_nm : (bands,) array_like, nm

    Returns
    -------
    (K, bands) ndarray, unitless
        Below the grid each spectrum is its mean over the first 50 nm (1400-1450 nm), above
        it the mean over the last 20 nm: a documented approximation (no VNIR data).
    """
    w = np.asarray(wavelength_nm, dtype=np.float64)
    r = np.atleast_2d(np.asarray(reflectance, dtype=np.float64))
    c = np.asarray(centers_nm, dtype=np.float64)
    fw = np.broadcast_to(np.asarray(fwhm_nm, dtype=np.float64), c.shape)
    step = float(np.median(np.diff(w)))
    reach = 5.0 * float(fw.max())
    lo = np.arange(min(c.min() - reach, w[0] - step), w[0] - 0.5 * step, step)
    hi = np.arange(w[-1] + step, max(c.max() + reach, w[-1] + step) + step, step)
    low_value = r[:, w <= w[0] + 50.0].mean(axis=1)
    high_value = r[:, w >= w[-1] - 20.0].mean(axis=1)
    grid = np.concatenate([lo, w, hi])
    ext = np.concatenate(
        [
            np.repeat(low_value[:, None], lo.size, axis=1),
            r,
            np.repeat(high_value[:, None], hi.size, axis=1),
        ],
        axis=1,
    )
    return convolve_to_bands(grid, ext, c, fw)


def smooth_field(
    shape: tuple[int, int], scale_px: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Gaussian random field with unit variance and a Gaussian correlation of ``scale_px``.

    Made by filtering white noise in the Fourier domain (periodic); for large scales the
    noise is generated on a coarser grid and zoomed, which keeps it cheap.
    """
    rows, cols = shape
    factor = max(1, int(scale_px // 4))
    small = (max(rows // factor + 2, 4), max(cols // factor + 2, 4))
    s = scale_px / factor
    noise = rng.standard_normal(small)
    fy = np.fft.fftfreq(small[0])[:, None]
    fx = np.fft.rfftfreq(small[1])[None, :]
    transfer = np.exp(-2.0 * (np.pi * s) ** 2 * (fy**2 + fx**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * transfer, s=small)
    if factor > 1:
        field = zoom(field, factor, order=1, mode="nearest", grid_mode=True)
    field = field[:rows, :cols]
    field -= field.mean()
    std = field.std()
    return np.asarray(field / std if std > 0 else field, dtype=np.float32)


def _select_endmembers(library: SurfaceLibrary, rng: np.random.Generator) -> dict[str, list[int]]:
    """Pick the library rows of each pool used by one scene."""
    names = library.names
    cats = library.category
    out: dict[str, list[int]] = {}
    for pool, (categories, prefixes, excluded) in _POOLS.items():
        idx = [
            i
            for i in range(names.size)
            if cats[i] in categories
            and (not prefixes or any(str(names[i]).startswith(p) for p in prefixes))
            and not any(str(names[i]).startswith(p) for p in excluded)
        ]
        if not idx:
            idx = [i for i in range(names.size) if cats[i] in categories]
        if not idx:
            raise InvalidParameterError(f"the surface library has no {pool} spectra")
        n = min(_PER_SCENE[pool], len(idx))
        out[pool] = sorted(rng.choice(idx, size=n, replace=False).tolist())
    return out


class _Canvas:
    """Mutable abundance map that shapes are painted onto (private helper)."""

    def __init__(self, abundance: NDArray[np.float32], land_cover: NDArray[np.uint8]) -> None:
        self.abundance = abundance
        self.land_cover = land_cover
        self.rows, self.cols = land_cover.shape

    def paint(
        self,
        r0: int,
        c0: int,
        cover: NDArray[np.float32],
        mixture: list[tuple[int, float]],
        cls: str,
    ) -> None:
        """Blend a mixture ``[(endmember, fraction), ...]`` into the window at (r0, c0).

        ``cover`` is the fractional cover of each pixel; repeated endmembers add up.
        """
        r1 = min(r0 + cover.shape[0], self.rows)
        c1 = min(c0 + cover.shape[1], self.cols)
        ra, ca = max(r0, 0), max(c0, 0)
        if r1 <= ra or c1 <= ca:
            return
        cov = cover[ra - r0 : r1 - r0, ca - c0 : c1 - c0]
        sub = self.abundance[ra:r1, ca:c1]
        sub *= (1.0 - cov)[..., None]
        for k, frac in mixture:
            sub[..., k] += np.float32(frac) * cov
        self.land_cover[ra:r1, ca:c1][cov >= 0.5] = _CLS[cls]


def _shape_cover(
    kind: str,
    center: tuple[float, float],
    half: tuple[float, float],
    angle: float,
    supersample: int = 4,
) -> tuple[int, int, NDArray[np.float32]]:
    """Fractional pixel cover of a rotated rectangle or ellipse (pixel units).

    ``center`` = (row, col) in pixel coordinates (pixel (i, j) spans [i, i+1) x [j, j+1)),
    ``half`` = half-lengths along and across ``angle`` (radians, from the +col axis).
    Returns the window origin (r0, c0) and the cover, by supersampling.
    """
    reach = float(np.hypot(*half)) + 1.0
    r0 = int(np.floor(center[0] - reach))
    c0 = int(np.floor(center[1] - reach))
    n = int(np.ceil(2 * reach)) + 1
    sub = (np.arange(n * supersample) + 0.5) / supersample
    rr = r0 + sub[:, None] - center[0]
    cc = c0 + sub[None, :] - center[1]
    u = cc * np.cos(angle) + rr * np.sin(angle)
    v = -cc * np.sin(angle) + rr * np.cos(angle)
    if kind == "rect":
        inside = (np.abs(u) <= half[0]) & (np.abs(v) <= half[1])
    else:
        inside = (u / half[0]) ** 2 + (v / half[1]) ** 2 <= 1.0
    cover = inside.reshape(n, supersample, n, supersample).mean(axis=(1, 3))
    return r0, c0, cover.astype(np.float32)


def _band_cover(distance_px: NDArray[np.float64], half_width_px: float) -> NDArray[np.float32]:
    """Fraction of a pixel covered by a straight band (box-filter approximation)."""
    top = np.minimum(distance_px + half_width_px, 0.5)
    bottom = np.maximum(distance_px - half_width_px, -0.5)
    return np.asarray(np.clip(top - bottom, 0.0, 1.0), dtype=np.float32)


def _background(
    rows: int,
    cols: int,
    pixel_size_m: float,
    pools: dict[str, list[int]],
    column: dict[int, int],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """Voronoi patches of natural cover with soft, irregular edges and mixing texture."""
    k_total = len(column)
    area_m2 = rows * cols * pixel_size_m**2
    n_cells = max(4, int(area_m2 / 250.0**2))
    seeds = rng.uniform([0.0, 0.0], [rows, cols], size=(n_cells, 2))
    probs = np.array([p[2] for p in _PATCHES])
    cell_class = rng.choice(len(_PATCHES), size=n_cells, p=probs / probs.sum())
    primary = np.empty(n_cells, dtype=np.int64)
    partner = np.empty(n_cells, dtype=np.int64)
    for i, c in enumerate(cell_class):
        _, pool, _, partner_pool = _PATCHES[c]
        primary[i] = column[int(rng.choice(pools[pool]))]
        partner[i] = column[int(rng.choice(pools[partner_pool]))]
    max_mix = rng.uniform(0.1, 0.6, size=n_cells)

    # domain warp: irregular, natural-looking patch boundaries
    warp_px = 60.0 / pixel_size_m
    warp_scale = max(100.0 / pixel_size_m, 1.0)
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float32) + np.float32(0.5)
    rr += np.float32(warp_px) * smooth_field((rows, cols), warp_scale, rng)
    cc += np.float32(warp_px) * smooth_field((rows, cols), warp_scale, rng)
    k = min(3, n_cells)
    dist, idx = cKDTree(seeds).query(np.column_stack([rr.ravel(), cc.ravel()]), k=k)
    dist = dist.reshape(-1, k)
    idx = idx.reshape(-1, k)
    edge_px = max(12.0 / pixel_size_m, 0.3)
    weight = np.exp(-(dist - dist[:, :1]) / edge_px)
    weight /= weight.sum(axis=1, keepdims=True)

    # mixing fraction: patchy at ~40 m (grazing, moisture) and speckled at shrub scale
    mix_field = ndtr(
        0.75 * smooth_field((rows, cols), max(40.0 / pixel_size_m, 1.0), rng)
        + 0.66 * smooth_field((rows, cols), max(6.0 / pixel_size_m, 0.7), rng)
    ).ravel()
    npix = rows * cols
    pix = np.arange(npix)
    flat_index: list[NDArray[np.int64]] = []
    flat_weight: list[NDArray[np.float64]] = []
    for j in range(k):
        f = max_mix[idx[:, j]] * mix_field
        flat_index += [pix * k_total + primary[idx[:, j]], pix * k_total + partner[idx[:, j]]]
        flat_weight += [weight[:, j] * (1.0 - f), weight[:, j] * f]
    abundance = np.bincount(
        np.concatenate(flat_index), np.concatenate(flat_weight), minlength=npix * k_total
    ).astype(np.float32)
    land_cover = np.array([_CLS[p[0]] for p in _PATCHES], dtype=np.uint8)[
        cell_class[idx[:, 0]]
    ].reshape(rows, cols)
    return abundance.reshape(rows, cols, k_total), land_cover


def generate_surface(
    library: SurfaceLibrary,
    rows: int,
    cols: int,
    pixel_size_m: float,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
    rng: np.random.Generator,
) -> SurfaceMap:
    """Generate a textured, mixed-pixel surface with man-made structures.

    Parameters
    ----------
    library : SurfaceLibrary
        Reflectance spectra with categories (the packaged USGS subset).
    rows, cols : int
        Raster size.
    pixel_size_m : float, m
        Ground sampling distance; feature sizes are set in metres.
    centers_nm, fwhm_nm : (bands,) array_like, nm
        Sensor bands.
    rng : numpy.random.Generator
        Source of randomness (the surface depends on nothing else).

    Returns
    -------
    SurfaceMap
    """
    if rows < 1 or cols < 1 or pixel_size_m <= 0:
        raise InvalidParameterError("the surface needs a positive size and pixel size")
    pools = _select_endmembers(library, rng)
    used = sorted({i for v in pools.values() for i in v})
    column = {lib_row: k for k, lib_row in enumerate(used)}
    abundance, land_cover = _background(rows, cols, pixel_size_m, pools, column, rng)
    canvas = _Canvas(abundance, land_cover)
    px = pixel_size_m
    area_km2 = rows * cols * px**2 / 1e6

    def pick(pool: str) -> int:
        return column[int(rng.choice(pools[pool]))]

    # --- roads: straight section-line roads across the scene (anti-aliased) ----------
    rr = np.arange(rows)[:, None] + 0.5
    cc = np.arange(cols)[None, :] + 0.5
    n_roads = max(1, rng.poisson(0.3 * np.sqrt(area_km2) * 2.0))
    roads: list[tuple[float, float, float]] = []
    for _ in range(n_roads):
        if rng.random() < 0.7:  # section lines run N-S or E-W
            angle = float(rng.choice([0.0, np.pi / 2]) + rng.normal(0.0, np.radians(1.5)))
        else:
            angle = float(rng.uniform(0.0, np.pi))
        r_c, c_c = rng.uniform(0.1, 0.9) * rows, rng.uniform(0.1, 0.9) * cols
        roads.append((r_c, c_c, angle))
        dist = -(cc - c_c) * np.sin(angle) + (rr - r_c) * np.cos(angle)
        paved = rng.random() < 0.35
        half_w = (rng.uniform(3.5, 5.0) if paved else rng.uniform(2.5, 4.0)) / px
        cover = _band_cover(dist, half_w)
        if paved:
            mix = [(pick("asphalt"), 0.9), (pick("concrete"), 0.1)]
        else:
            mix = [(pick("caliche"), 0.55), (pick("soil"), 0.45)]
        canvas.paint(0, 0, cover, mix, "road_paved" if paved else "road_caliche")

    # --- well pads with tanks, and spur roads to the nearest main road ---------------
    n_pads = max(4, int(rng.poisson(1.5 * area_km2)))
    margin = max(2.0, 20.0 / px)
    sites = []
    for _ in range(n_pads):
        centre = (
            np.floor(rng.uniform(margin, rows - margin)) + 0.5,
            np.floor(rng.uniform(margin, cols - margin)) + 0.5,
        )
        # spur road from the pad to the nearest road line (foot of the perpendicular)
        offsets = [
            -(centre[1] - c_r) * np.sin(a_r) + (centre[0] - r_r) * np.cos(a_r)
            for r_r, c_r, a_r in roads
        ]
        nearest = int(np.argmin(np.abs(offsets)))
        a_road = roads[nearest][2]
        d = offsets[nearest]
        angle = a_road + float(rng.normal(0.0, np.radians(3.0)))
        foot = (centre[0] - d * np.cos(a_road), centre[1] + d * np.sin(a_road))
        length = abs(d)
        if length > 1.0:
            mid = ((centre[0] + foot[0]) / 2, (centre[1] + foot[1]) / 2)
            spur_angle = float(np.arctan2(foot[0] - centre[0], foot[1] - centre[1]))
            r0, c0, cov = _shape_cover("rect", mid, (length / 2, 2.5 / px), spur_angle, 2)
            canvas.paint(r0, c0, cov, [(pick("caliche"), 0.5), (pick("soil"), 0.5)], "road_caliche")
        half = (rng.uniform(20.0, 45.0) / px, rng.uniform(20.0, 40.0) / px)
        r0, c0, cov = _shape_cover("rect", centre, half, angle)
        caliche = float(rng.uniform(0.6, 0.85))
        canvas.paint(
            r0, c0, cov, [(pick("caliche"), caliche), (pick("soil"), 1 - caliche)], "caliche_pad"
        )
        # a row of tanks along one side of the pad
        n_tanks = int(rng.integers(1, 6))
        tank_mat = pick("tank")
        radius = rng.uniform(1.5, 4.0) / px
        for t_i in range(n_tanks):
            along = (t_i - (n_tanks - 1) / 2) * 2.6 * radius
            off = 0.6 * half[1]
            pos = (
                centre[0] + along * np.sin(angle) + off * np.cos(angle),
                centre[1] + along * np.cos(angle) - off * np.sin(angle),
            )
            r0, c0, cov = _shape_cover("ellipse", pos, (radius, radius), 0.0)
            canvas.paint(r0, c0, cov, [(tank_mat, 1.0)], "tank")
        sites.append((int(centre[0]), int(centre[1])))

    # --- building clusters beside roads -----------------------------------------------
    n_clusters = max(1, int(rng.poisson(0.3 * area_km2)))
    for _ in range(n_clusters):
        r_road, c_road, a_road = roads[int(rng.integers(len(roads)))]
        t = rng.uniform(-0.4, 0.4) * max(rows, cols)
        side = rng.choice([-1.0, 1.0]) * rng.uniform(30.0, 80.0) / px
        base = (
            r_road + t * np.sin(a_road) + side * np.cos(a_road),
            c_road + t * np.cos(a_road) - side * np.sin(a_road),
        )
        for _ in range(int(rng.integers(3, 16))):
            pos = (base[0] + rng.normal(0, 60.0 / px), base[1] + rng.normal(0, 60.0 / px))
            if not (0 <= pos[0] < rows and 0 <= pos[1] < cols):
                continue
            half = (rng.uniform(5.0, 20.0) / px, rng.uniform(4.0, 12.0) / px)
            angle = a_road + float(rng.normal(0.0, np.radians(2.0)))
            r0, c0, cov = _shape_cover("rect", pos, half, angle)
            canvas.paint(r0, c0, cov, [(pick("roof"), 1.0)], "roof")

    # --- ponds (produced water, stock tanks) --------------------------------------------
    for _ in range(int(rng.poisson(0.15 * area_km2))):
        pos = (rng.uniform(0, rows), rng.uniform(0, cols))
        half = (rng.uniform(15.0, 60.0) / px, rng.uniform(10.0, 40.0) / px)
        r0, c0, cov = _shape_cover("ellipse", pos, half, float(rng.uniform(0, np.pi)))
        canvas.paint(r0, c0, cov, [(pick("water"), 1.0)], "water")

    # --- brightness texture: shading, moisture, sub-pixel heterogeneity ---------------
    shade = (
        1.0
        + 0.06 * smooth_field((rows, cols), max(300.0 / px, 1.0), rng)
        + 0.03 * smooth_field((rows, cols), max(15.0 / px, 1.0), rng)
        + 0.015 * rng.standard_normal((rows, cols)).astype(np.float32)
    )
    canvas.abundance *= np.clip(shade, 0.5, 1.5).astype(np.float32)[..., None]

    refl = band_reflectance(library.wavelength_nm, library.reflectance[used], centers_nm, fwhm_nm)
    return SurfaceMap(
        abundance=canvas.abundance,
        endmember_names=tuple(str(library.names[i]) for i in used),
        reflectance=np.clip(refl, 0.0, None),
        land_cover=canvas.land_cover,
        sites=np.array(sites, dtype=np.int64).reshape(-1, 2),
    )
