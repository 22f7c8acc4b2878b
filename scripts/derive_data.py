"""Derive the compact reference data shipped inside the package from ../shared/data.

Run once by a developer (``python scripts/derive_data.py``); the product never reads
``shared/``. Every output is listed with its provenance and licence in
``src/plumetrace/data/NOTICE``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "plumetrace" / "data"

# Library categories kept for simulated backgrounds (rural, urban and industrial scenes).
KEEP = {
    "soil": None,
    "rock_altered": None,
    "vegetation": None,
    "vegetation_dry": None,
    "vegetation_soil_mix": None,
    "roofing": None,
    "asphalt_road": None,
    "concrete_masonry": None,
    "metal": None,
    "plastic_synthetic": 12,
    "wood_paper_fabric": None,
    "water": None,
    "coating": 6,
    "mineral": 14,
}


def derive_lut() -> None:
    hdr = (SHARED / "ch4" / "ch4.hdr").read_text()
    wl = np.array(
        [float(v) for v in re.search(r"wavelength = \{([^}]*)\}", hdr).group(1).split(",")]
    )
    # ENVI BSQ, 1 line x 7 samples x 31800 bands, float64 little endian.
    rad = np.fromfile(SHARED / "ch4" / "ch4.lut", dtype="<f8").reshape(wl.size, 7).T
    ppm_m = np.array([0.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0])
    np.savez_compressed(
        OUT / "ch4_lut.npz",
        wavelength_nm=wl,
        enhancement_ppm_m=ppm_m,
        radiance=rad.astype(np.float32),
    )


def derive_surfaces() -> None:
    lib = np.load(SHARED / "spectral_library" / "usgs_splib07a_swir_1nm.npz")
    cats = lib["category"].astype(str)
    names = lib["names"].astype(str)
    refl = lib["reflectance"]
    keep: list[int] = []
    for cat, limit in KEEP.items():
        idx = np.flatnonzero(cats == cat)
        if limit is not None and idx.size > limit:
            # spread the choice over brightness so dark and bright variants both stay
            order = idx[np.argsort(refl[idx].mean(axis=1))]
            idx = np.sort(order[np.linspace(0, order.size - 1, limit).round().astype(int)])
        keep.extend(idx.tolist())
    sel = np.array(keep)
    wl = lib["wavelength_nm"][::2]  # 2 nm grid: sensor FWHMs here are >= 5.5 nm
    np.savez_compressed(
        OUT / "surfaces.npz",
        wavelength_nm=wl.astype(np.float32),
        reflectance=refl[sel][:, ::2].astype(np.float32),
        names=names[sel],
        category=cats[sel],
    )


def _read_csv(path: Path) -> dict[str, list[str]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return {k: [r[k] for r in rows] for k in rows[0]}


def derive_sensors() -> None:
    ang = _read_csv(
        SHARED / "aviris_ng_samples" / "avirisng_rdn_ang20171108_pasadena_10spectra.csv"
    )
    ang_wl = np.array(ang["wavelength_fit_nm"], dtype=float)
    ang_fwhm = np.array(ang["fwhm_nm"], dtype=float)
    spectra_cols = [k for k in ang if k.startswith("ang2017")]
    real = np.array([ang[k] for k in spectra_cols], dtype=float)

    emit = _read_csv(SHARED / "targets" / "emit_ch4_target_emit20220815t042838_285.csv")
    emit_wl = np.array(emit["wavelength_nm"], dtype=float)
    known = np.array([v != "" for v in emit["fwhm_nm"]])
    fw = np.array([float(v) if v else np.nan for v in emit["fwhm_nm"]])
    # EMIT FWHM is published only for the SWIR bands here; elsewhere use their median
    # (the EMIT spectrometer's FWHM is nearly uniform across the range).
    emit_fwhm = np.where(known, fw, np.nanmedian(fw))

    def noise(name: str) -> np.ndarray:
        t = _read_csv(SHARED / "aviris_ng_samples" / f"noise_{name}_parametric.csv")
        return np.array([t["wavelength_nm"], t["a"], t["b"], t["c"]], dtype=float)

    np.savez_compressed(
        OUT / "sensors.npz",
        avirisng_wavelength_nm=ang_wl,
        avirisng_fwhm_nm=ang_fwhm,
        emit_wavelength_nm=emit_wl,
        emit_fwhm_nm=emit_fwhm,
        avirisng_noise=noise("avirisng"),
        emit_noise=noise("emit"),
        real_radiance_avirisng=real.astype(np.float32),
        real_radiance_names=np.array([c.split("_")[-1] for c in spectra_cols]),
    )


PALETTE_LEVELS = 128
"""Colours sampled per colormap: the quicklooks' ``_LEVELS``."""


def derive_palettes() -> None:
    """The quicklooks' default colormap, sampled once, so no command imports matplotlib."""
    import matplotlib

    levels = np.linspace(0.0, 1.0, PALETTE_LEVELS)
    rgb = {
        name: np.round(np.asarray(matplotlib.colormaps[name](levels))[:, :3] * 255.0).astype(
            np.uint8
        )
        for name in ("plasma",)
    }
    np.savez_compressed(OUT / "palettes.npz", **rgb)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    derive_lut()
    derive_surfaces()
    derive_sensors()
    derive_palettes()
    for p in sorted(OUT.glob("*.npz")):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
