from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from PIL import Image

import plumetrace.io._atomic as atomic_mod
from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.io.plume_png import OUTLINE_RGB, write_plume_chip, write_plumes_png
from plumetrace.io.quicklook import write_enhancement_png

CYAN = np.array(OUTLINE_RGB)
WHITE = np.array([255, 255, 255])
EDGE = np.array([20, 20, 20])
# a 10 x 20 pixel rectangle: rows 10..20, cols 10..30 of the pixel grid
RECT = np.array([[10.0, 10.0], [10.0, 30.0], [20.0, 30.0], [20.0, 10.0]])


def _read(path: Path) -> np.ndarray:
    """Decode the PNG with Pillow and return it as ``(h, w, 3)`` uint8 RGB."""
    with Image.open(path) as img:
        img.load()
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def _image_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the raster, found by its NaN (pure black) frame."""
    rows, cols = np.nonzero((rgb == 0).all(axis=2))
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def _is(rgb: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return np.asarray((rgb == colour).all(axis=-1))


def _cmap_rgb(value: float) -> np.ndarray:
    return np.round(np.asarray(matplotlib.colormaps["plasma"](value))[:3] * 255.0)


def _scene(rows: int, cols: int, frame: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    grey = rng.uniform(2.0, 8.0, (rows, cols))
    enhancement = rng.normal(0.0, 100.0, (rows, cols))
    rr, cc = np.mgrid[0:rows, 0:cols]
    enhancement += 2000.0 * np.exp(-((rr - rows / 2) ** 2 + (cc - cols / 3) ** 2) / 20.0)
    for a in (grey, enhancement):
        a[:frame], a[-frame:], a[:, :frame], a[:, -frame:] = np.nan, np.nan, np.nan, np.nan
    return grey, enhancement


@pytest.mark.parametrize(("rows", "cols", "dpi", "frame"), [(40, 50, 100, 1), (2400, 300, 100, 2)])
def test_without_plumes_it_is_the_quicklook(
    tmp_path: Path, rows: int, cols: int, dpi: int, frame: int
) -> None:
    grey, enhancement = _scene(rows, cols, frame)
    plain, plumes = tmp_path / "plain.png", tmp_path / "plumes.png"
    write_enhancement_png(plain, grey, enhancement, title="CH4", dpi=dpi)
    write_plumes_png(plumes, grey, enhancement, [], [], [], title="CH4", dpi=dpi)
    assert np.array_equal(_read(plain), _read(plumes))
    with Image.open(plumes) as img:
        assert img.info["dpi"] == pytest.approx((dpi, dpi), abs=0.1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.png", "plumes.png"]


@pytest.mark.parametrize(
    "ring",
    [RECT, RECT[::-1], np.vstack([RECT, RECT[:1]]), RECT.tolist()],
    ids=["clockwise", "anticlockwise", "closed", "list"],
)
def test_outline_drawn_along_pixel_boundaries(tmp_path: Path, ring: Any) -> None:
    grey, enhancement = _scene(40, 50)
    plain, path = tmp_path / "plain.png", tmp_path / "plumes.png"
    write_plumes_png(plain, grey, enhancement, [], [], [], title="CH4")
    write_plumes_png(path, grey, enhancement, [[ring]], [(35.5, 45.5)], ["1"], title="CH4")
    before, rgb = _read(plain), _read(path)
    assert rgb.shape == before.shape
    top, bottom, left, right = _image_box(rgb)
    k = (right - left) // 50
    assert k == 20 and (bottom - top) == 40 * k
    cyan = _is(rgb, CYAN)
    # each edge covers the two picture pixels either side of its pixel boundary
    mid_row, mid_col = top + 15 * k, left + 20 * k + 3
    assert (
        np.nonzero(cyan[mid_row, left:right])[0] == [10 * k - 1, 10 * k, 30 * k - 1, 30 * k]
    ).all()
    assert (
        np.nonzero(cyan[top:bottom, mid_col])[0] == [10 * k - 1, 10 * k, 20 * k - 1, 20 * k]
    ).all()
    # with a dark edge on both sides
    assert _is(rgb[mid_row, left + 10 * k - 2], EDGE) and _is(rgb[mid_row, left + 10 * k + 1], EDGE)
    # the corners are closed
    assert cyan[top + 10 * k - 1 : top + 10 * k + 1, left + 10 * k - 1 : left + 10 * k + 1].all()
    # everything but the outline, its edge and the far marker is the plain picture
    changed = (rgb != before).any(axis=2)
    changed[top + 33 * k : bottom, left + 43 * k : right] = False  # marker and label
    rr, cc = np.nonzero(changed)
    assert rr.size > 0
    near_h = (np.abs(rr - (top + 10 * k)) <= 2) | (np.abs(rr - (top + 20 * k)) <= 2)
    near_v = (np.abs(cc - (left + 10 * k)) <= 2) | (np.abs(cc - (left + 30 * k)) <= 2)
    assert (near_h | near_v).all()
    assert not cyan[:, :left].any() and not cyan[:top].any() and not cyan[:, right:].any()


def test_overlays_follow_a_downscaled_raster(tmp_path: Path) -> None:
    grey, enhancement = _scene(2400, 300, frame=2)
    ring = np.array([[1000.0, 100.0], [1000.0, 200.0], [1100.0, 200.0], [1100.0, 100.0]])
    path = tmp_path / "big.png"
    write_plumes_png(path, grey, enhancement, [[ring]], [(2000.0, 150.0)], ["9"], title="t")
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    assert (bottom - top, right - left) == (1200, 150)  # block-averaged by 2
    cyan = _is(rgb, CYAN)
    assert (np.nonzero(cyan[top + 525, left:right])[0] == [49, 50, 99, 100]).all()
    assert (np.nonzero(cyan[top:bottom, left + 75])[0] == [499, 500, 549, 550]).all()
    # the marker ring is centred on the source at picture (1000, 75)
    white = _is(rgb[top + 985 : top + 1016, left + 60 : left + 91], WHITE)
    rr, cc = np.nonzero(white)
    assert rr.size > 10
    assert abs(rr.mean() - 15) < 2 and abs(cc.mean() - 15) < 3


def test_marker_and_label(tmp_path: Path) -> None:
    grey, enhancement = _scene(40, 50)
    grey[8:13, 33:39] = 1e6  # a small bright patch (white after the stretch) under label 2
    pictures = {}
    for name, labels in [("none", None), ("one", ["1", "2"]), ("seven", ["7", "2"])]:
        path = tmp_path / f"{name}.png"
        if labels is None:
            write_plumes_png(path, grey, enhancement, [], [], [], title="t")
        else:
            sources = [(20.5, 16.5), (10.5, 35.5)]  # over the plume, over the bright patch
            write_plumes_png(path, grey, enhancement, [[], []], sources, labels, title="t")
        pictures[name] = _read(path).astype(int)
    top, _, left, right = _image_box(pictures["none"])
    k = (right - left) // 50
    for row, col in [(20.5, 16.5), (10.5, 35.5)]:
        y, x = top + round(row * k), left + round(col * k)
        marker = pictures["one"][y - 8 : y + 9, x - 8 : x + 9]
        assert (marker != pictures["none"][y - 8 : y + 9, x - 8 : x + 9]).any(axis=2).sum() > 30
        plain = pictures["none"][y - 8 : y + 9, x - 8 : x + 9]
        drawn = (marker != plain).any(axis=2)
        assert (drawn & _is(marker, WHITE)).sum() + (
            _is(marker, WHITE) & _is(plain, WHITE)
        ).sum() > 15
        assert (drawn & _is(marker, EDGE)).sum() > 15  # the dark edge: visible on white too
        assert (marker[8, 8] == plain[8, 8]).all()  # a ring: the source pixel stays visible
        assert _is(marker, EDGE).sum() > 15
        # the label: white glyph with a dark stroke to the right of the marker
        label = pictures["one"][y - 12 : y + 13, x + 9 : x + 30]
        assert _is(label, WHITE).sum() >= 8 and _is(label, EDGE).sum() > 20
    # the labels are what differs between "1" and "7", and only right of the markers
    diff = (pictures["one"] != pictures["seven"]).any(axis=2)
    rr, cc = np.nonzero(diff)
    assert rr.size > 10
    y, x = top + round(20.5 * k), left + round(16.5 * k)
    assert (np.abs(rr - y) <= 12).all() and (cc > x + 4).all() and (cc < x + 30).all()


def test_overlays_are_clipped_to_the_raster(tmp_path: Path) -> None:
    grey, enhancement = _scene(40, 50)
    huge = np.array([[-30.0, -30.0], [-30.0, 90.0], [80.0, 90.0], [80.0, -30.0]])
    edge = np.array([[5.0, -5.0], [5.0, 55.0], [6.0, 55.0], [6.0, -5.0]])  # crosses both sides
    plain, path = tmp_path / "plain.png", tmp_path / "clip.png"
    write_plumes_png(plain, grey, enhancement, [], [], [], title="t")
    write_plumes_png(path, grey, enhancement, [[huge, edge]], [(39.9, 49.9)], ["123456"], title="t")
    before, rgb = _read(plain), _read(path)
    top, bottom, left, right = _image_box(before)
    outside = np.ones(rgb.shape[:2], dtype=bool)
    outside[top:bottom, left:right] = False
    assert np.array_equal(rgb[outside], before[outside])
    assert _is(rgb[top:bottom, left:right], CYAN).any()
    # the label of a source at the right edge moves to the marker's left, inside the raster
    corner = (
        rgb[bottom - 25 : bottom, right - 120 : right]
        != before[bottom - 25 : bottom, right - 120 : right]
    )
    assert corner.any(axis=2)[:, :80].sum() > 50


def test_chip_crops_and_upscales(tmp_path: Path) -> None:
    grey, enhancement = _scene(60, 80, frame=0)
    rng = np.random.default_rng(5)
    enhancement = rng.normal(0.0, 50.0, (60, 80))
    enhancement[45:50, 60:70] = 20_000.0  # a strong plume elsewhere in the scene
    enhancement[18:23, 15:25] = 1000.0  # the weak plume of the chip
    enhancement[18, 24] = 1200.0  # the chip's peak, away from the marker
    window = (10, 30, 5, 45)  # 20 x 40 pixels
    r0, r1, c0, c1 = window
    for a in (grey, enhancement):  # NaN (black) frames locate the scene and the window
        a[r0, c0:c1], a[r1 - 1, c0:c1], a[r0:r1, c0], a[r0:r1, c1 - 1] = (np.nan,) * 4
        a[0], a[-1], a[:, 0], a[:, -1] = (np.nan,) * 4
    ring = np.array([[15.0, 10.0], [15.0, 30.0], [25.0, 30.0], [25.0, 10.0]])
    path = tmp_path / "chip.png"
    write_plume_chip(path, grey, enhancement, [ring], (20.5, 20.5), "1", window=window, title="1")
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    k = 13  # ceil(256 / 20)
    assert (bottom - top, right - left) == (20 * k, 40 * k)
    # nearest neighbour: a block of one scene pixel, away from the overlays, is one colour
    block = rgb[top + 3 * k : top + 4 * k, left + 35 * k : left + 36 * k]
    assert (block == block[0, 0]).all()
    # the outline, in scene coordinates, lands at window coordinates times the factor
    cyan = _is(rgb, CYAN)
    y = top + (22 - r0) * k + 3
    assert (np.nonzero(cyan[y, left:right])[0] == [5 * k - 1, 5 * k, 25 * k - 1, 25 * k]).all()
    # colour scale from the chip: its own peak is the top colour, not the far plume's
    peak = rgb[top + (18 - r0) * k + k // 2, left + (24 - c0) * k + k // 2].astype(int)
    assert (np.abs(peak - _cmap_rgb(1.0)) <= 1).all()
    whole = tmp_path / "whole.png"
    write_enhancement_png(whole, grey, enhancement, title="1")
    full = _read(whole).astype(int)
    f_top, _, f_left, f_right = _image_box(full)
    fk = (f_right - f_left) // 80
    pixel = full[f_top + 18 * fk + fk // 2, f_left + 24 * fk + fk // 2]
    assert not (pixel[0] == pixel[1] == pixel[2])  # coloured, but low on the scene's scale
    assert (np.abs(pixel - _cmap_rgb(1.0)) > 10).any()


def test_chip_size_rules(tmp_path: Path) -> None:
    grey, enhancement = _scene(50, 600, frame=0)
    path = tmp_path / "chip.png"
    no_plume: list[np.ndarray] = []
    write_plume_chip(
        path,
        grey,
        enhancement,
        no_plume,
        (5.0, 5.0),
        "",
        window=(0, 20, 0, 40),
        title="",
        min_size=100,
    )
    small = _read(path)
    write_plume_chip(
        path, grey, enhancement, no_plume, (5.0, 5.0), "", window=(0, 20, 0, 40), title=""
    )
    large = _read(path)
    assert large.shape[1] - small.shape[1] == 40 * (13 - 5)  # factors ceil(256/20), 100/20
    # a long thin window is enlarged only as far as the 2000-pixel limit allows
    write_plume_chip(
        path, grey, enhancement, no_plume, (5.0, 5.0), "", window=(0, 3, 0, 600), title=""
    )
    with Image.open(path) as img:
        assert 1800 <= img.width < 2000 + 200  # x3 (2000 // 600), not x86


def _plumes_args() -> dict[str, Any]:
    grey, enhancement = _scene(20, 30)
    return {
        "grey": grey,
        "enhancement": enhancement,
        "outlines": [[RECT / 2]],
        "sources": [(5.5, 5.5)],
        "labels": ["1"],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"enhancement": np.zeros((20, 29))}, r"grey and enhancement must be 2-D of one shape"),
        ({"grey": np.zeros(30), "enhancement": np.zeros(30)}, r"2-D of one shape"),
        ({"sources": [(1.0, 1.0), (2.0, 2.0)]}, r"one entry per plume, got 1, 2 and 1"),
        ({"labels": []}, r"one entry per plume"),
        ({"outlines": [[np.zeros((4, 3))]]}, r"ring 0 of plume 0 must be an \(N, 2\) array"),
        ({"outlines": [[np.zeros((1, 2))]]}, r"N >= 2, got shape \(1, 2\)"),
        ({"outlines": [[RECT, [[0.0, np.nan], [1.0, 1.0]]]]}, r"ring 1 of plume 0 has non-finite"),
        ({"outlines": [RECT]}, r"sequence of rings, got one \(N, 2\) array"),
        ({"sources": [(np.inf, 1.0)]}, r"source of plume 0 must be a finite \(row, col\) pair"),
        ({"sources": [(1.0, 2.0, 3.0)]}, r"sources must be an \(n, 2\) array"),
        ({"sources": (5.5, 5.5)}, r"sources must be an \(n, 2\) array"),
        ({"sources": [(5.5, 5.5), (1.0,)]}, r"sources must be an \(n, 2\) array"),
        ({"sources": []}, r"sources must be an \(n, 2\) array"),
        ({"labels": [1]}, r"label of plume 0 must be a str, got int"),
    ],
)
def test_plumes_png_invalid_parameters(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "p.png"
    args = _plumes_args() | change
    with pytest.raises(InvalidParameterError, match=message):
        write_plumes_png(path, **args, title="t")
    with pytest.raises(InvalidParameterError, match=r"dpi must be positive"):
        write_plumes_png(path, **_plumes_args(), title="t", dpi=0)
    assert not path.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": (0, 21, 0, 10)}, r"must be non-empty and inside the 20 x 30 scene"),
        ({"window": (5, 5, 0, 10)}, r"non-empty"),
        ({"window": (-1, 5, 0, 10)}, r"inside"),
        ({"window": (0, 5, 10, 2)}, r"non-empty"),
        ({"window": (0.0, 5.0, 0.0, 5.0)}, r"window must be 4 integers"),
        ({"window": (0, 5, 0)}, r"window must be 4 integers"),
        ({"min_size": 0}, r"min_size must be positive"),
        ({"source": (1.0,)}, r"finite \(row, col\) pair"),
        ({"outline": [np.zeros((3, 3))]}, r"\(N, 2\) array"),
        ({"enhancement": np.zeros((20, 31))}, r"2-D of one shape"),
    ],
)
def test_chip_invalid_parameters(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    grey, enhancement = _scene(20, 30)
    args: dict[str, Any] = {
        "grey": grey,
        "enhancement": enhancement,
        "outline": [RECT / 2],
        "source": (5.5, 5.5),
        "label": "1",
        "window": (0, 10, 0, 10),
        "title": "t",
    } | kwargs
    path = tmp_path / "chip.png"
    with pytest.raises(InvalidParameterError, match=message):
        write_plume_chip(path, **args)
    assert not path.exists()


def test_unwritable_paths_and_failed_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _plumes_args()
    missing = tmp_path / "missing" / "p.png"
    with pytest.raises(DataSourceError, match=r"p\.png: cannot write: directory"):
        write_plumes_png(missing, **args, title="t")
    with pytest.raises(DataSourceError, match=r"cannot write: directory"):
        write_plume_chip(
            missing,
            args["grey"],
            args["enhancement"],
            [RECT],
            (5.0, 5.0),
            "1",
            window=(0, 10, 0, 10),
            title="t",
        )
    path = tmp_path / "p.png"
    path.write_bytes(b"old picture")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", broken_fsync)
    with pytest.raises(DataSourceError, match="No space left"):
        write_plumes_png(path, **args, title="t")
    with pytest.raises(DataSourceError, match="No space left"):
        write_plume_chip(
            path,
            args["grey"],
            args["enhancement"],
            [RECT],
            (5.0, 5.0),
            "1",
            window=(0, 10, 0, 10),
            title="t",
        )
    assert path.read_bytes() == b"old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]
