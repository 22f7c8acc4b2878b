from __future__ import annotations

import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

import plumetrace.io._atomic as atomic_mod
from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.io import display_threshold, write_enhancement_png
from plumetrace.io.quicklook import _nice_ticks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read(path: Path) -> np.ndarray:
    """Check the PNG header and return the picture as ``(h, w, 3)`` uint8 RGB."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    with Image.open(path) as img:
        img.load()
        assert img.format == "PNG"
        assert img.size == (width, height)
        return np.asarray(img.convert("RGB"))


def _image_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` (exclusive) of the raster, found by its black frame.

    The scenes below have a NaN background frame, drawn pure black; text and frame
    lines are near-black, so pure black only occurs inside the raster.
    """
    rows, cols = np.nonzero((rgb == 0).all(axis=2))
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def _cmap_rgb(value: float, name: str = "plasma") -> np.ndarray:
    return np.round(np.asarray(matplotlib.colormaps[name](value))[:3] * 255.0)


def _is_grey(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])


def _scene(rows: int, cols: int, frame: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    background = rng.uniform(2.0, 8.0, (rows, cols))
    enhancement = rng.normal(0.0, 100.0, (rows, cols))
    rr, cc = np.mgrid[0:rows, 0:cols]
    enhancement += 2000.0 * np.exp(-((rr - rows / 2) ** 2 + (cc - cols / 3) ** 2) / 20.0)
    for a in (background, enhancement):
        a[:frame], a[-frame:], a[:, :frame], a[:, -frame:] = np.nan, np.nan, np.nan, np.nan
    return background, enhancement


@pytest.mark.parametrize(
    ("rows", "cols", "dpi", "long_side"),
    [
        (60, 120, 100, 960),  # upscaled x8 (nearest neighbour)
        (120, 60, 100, 960),
        (80, 80, 100, 960),  # x12
        (80, 80, 50, 480),  # x6: dpi scales the picture
        (1000, 598, 100, 1000),  # native
        (1700, 300, 100, 1700),  # native up to 2000
        (4100, 500, 100, 1367),  # block-averaged by 3
    ],
)
def test_png_size_follows_raster_and_dpi(
    tmp_path: Path, rows: int, cols: int, dpi: int, long_side: int
) -> None:
    down = -(-max(rows, cols) // 2000)
    background, enhancement = _scene(rows, cols, frame=down)
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, enhancement, title="CH4", dpi=dpi)
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    assert max(bottom - top, right - left) == long_side
    factor = long_side / max(rows, cols)
    assert abs((bottom - top) - rows * factor) <= 1 and abs((right - left) - cols * factor) <= 1
    height, width = rgb.shape[:2]
    assert width > right + 40 and height > bottom  # room for the colour bar and labels
    assert max(height, width) < 2300
    with Image.open(path) as img:
        assert img.info["dpi"] == pytest.approx((dpi, dpi), abs=0.1)
    assert [p.name for p in tmp_path.iterdir()] == ["ql.png"]  # no temporary left over


def test_grey_below_threshold_and_colour_above(tmp_path: Path) -> None:
    rows, cols = 40, 50
    background, _ = _scene(rows, cols)
    enhancement = np.random.default_rng(1).uniform(-50.0, 50.0, (rows, cols))
    enhancement[10:20, 20:30] = 5000.0  # above vmax: top colour
    enhancement[25:30, 5:10] = 550.0  # middle of the colour scale
    enhancement[0, 0] = np.nan
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, enhancement, threshold=100.0, vmax=1000.0)
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    k = (right - left) // cols
    assert k * cols == right - left and k * rows == bottom - top
    # sample the centre of every raster pixel
    centres = rgb[top + k // 2 : bottom : k, left + k // 2 : right : k].astype(int)
    assert centres.shape[:2] == (rows, cols)
    shown = enhancement > 100.0
    assert _is_grey(centres[~shown]).all()
    assert not _is_grey(centres[shown]).any()
    assert (np.abs(centres[10:20, 20:30] - _cmap_rgb(1.0)) <= 1).all()
    assert (np.abs(centres[25:30, 5:10] - _cmap_rgb(0.5)) <= 8).all()
    # nearest-neighbour upscaling: every k x k block is one colour
    block = rgb[top + 10 * k : top + 11 * k, left + 20 * k : left + 21 * k]
    assert (block == block[0, 0]).all()


def test_greyscale_stretch_uses_2_98_percentiles(tmp_path: Path) -> None:
    background, _ = _scene(30, 40)
    background[1:-1, 1:-1] = np.linspace(0.0, 1.0, 38 * 28).reshape(28, 38)
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, np.zeros_like(background), threshold=1.0)
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    k = (right - left) // 40
    centres = rgb[top + k // 2 : bottom : k, left + k // 2 : right : k, 0].astype(int)
    inner = centres[1:-1, 1:-1].ravel()
    ramp = background[1:-1, 1:-1].ravel()
    lo, hi = np.percentile(ramp, [2.0, 98.0])
    assert (inner[ramp <= lo] == 0).all() and (inner[ramp >= hi] == 255).all()
    assert np.all(np.diff(inner) >= 0)  # monotonic grey ramp
    assert len(np.unique(inner)) > 100  # 128 grey levels available


def test_colour_bar_and_title(tmp_path: Path) -> None:
    background, enhancement = _scene(60, 80)
    with_title = tmp_path / "title.png"
    write_enhancement_png(
        with_title, background, enhancement, title="CH4 enhancement", threshold=0.0, vmax=2000.0
    )
    rgb = _read(with_title)
    top, bottom, left, right = _image_box(rgb)
    side = rgb[:, right:].astype(int)
    # the bar: columns holding the whole colour scale, top colour above bottom colour
    near_top = (np.abs(side - _cmap_rgb(1.0)) <= 2).all(axis=2)
    near_bottom = (np.abs(side - _cmap_rgb(0.0)) <= 2).all(axis=2)
    bar_cols = np.nonzero(near_top.any(axis=0) & near_bottom.any(axis=0))[0]
    assert bar_cols.size >= 10
    col = side[:, bar_cols[bar_cols.size // 2]]
    coloured = np.nonzero(~_is_grey(col))[0]
    assert coloured.min() <= top + 2 and coloured.max() >= bottom - 3  # spans the image
    assert (np.abs(col[coloured.min()] - _cmap_rgb(1.0)) <= 2).all()
    assert (np.abs(col[coloured.max()] - _cmap_rgb(0.0)) <= 2).all()
    # tick labels and the units label: dark text right of the bar
    text = rgb[:, right + bar_cols.max() + 2 :]
    dark = _is_grey(text) & (text[..., 0] < 128)
    assert dark.sum() > 100
    assert len(np.unique(np.nonzero(dark.any(axis=1))[0] // 10)) >= 5  # several rows of text
    # title: dark pixels above the image; none without a title
    assert (rgb[:top, left:right, 0] < 128).sum() > 50
    no_title = tmp_path / "plain.png"
    write_enhancement_png(no_title, background, enhancement, threshold=0.0, vmax=2000.0)
    plain = _read(no_title)
    p_top = _image_box(plain)[0]
    assert p_top < top
    assert (plain[:p_top, left:right, 0] < 128).sum() == 0


def test_units_middle_dot_is_drawn(tmp_path: Path) -> None:
    background, enhancement = _scene(40, 40)
    a, b = tmp_path / "dot.png", tmp_path / "space.png"
    write_enhancement_png(a, background, enhancement, units="ppm·m")
    write_enhancement_png(b, background, enhancement, units="ppm m")
    assert not np.array_equal(_read(a), _read(b))
    # characters the built-in font lacks fall back to ASCII instead of failing
    write_enhancement_png(b, background, enhancement, units="µW cm⁻² sr⁻¹ nm⁻¹", title="δ¹³C — é")
    assert _read(b).shape[0] > 0


def test_nan_and_infinite_pixels(tmp_path: Path) -> None:
    path = tmp_path / "ql.png"
    # all-NaN background and enhancement: a black image, no colour
    write_enhancement_png(path, np.full((10, 10), np.nan), np.full((10, 10), np.nan))
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    assert (bottom - top, right - left) == (1000, 1000)
    assert (rgb[top:bottom, left:right] == 0).all()
    # NaN / inf enhancement is never coloured; inf background is clipped like a value
    background, enhancement = _scene(20, 20)
    enhancement[5:10, 5:10] = np.nan
    enhancement[12, 12] = np.inf
    background[3, 3] = np.inf
    write_enhancement_png(path, background, enhancement, threshold=100.0, vmax=500.0)
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    k = (right - left) // 20
    centres = rgb[top + k // 2 : bottom : k, left + k // 2 : right : k]
    assert _is_grey(centres[5:10, 5:10]).all()
    assert _is_grey(centres[12, 12])
    assert _is_grey(centres[3, 3])
    assert not _is_grey(centres[10, 6])  # the plume, centred at (10, 6.7)


def test_huge_raster_is_block_averaged(tmp_path: Path) -> None:
    background, enhancement = _scene(2400, 300, frame=2)
    enhancement[:] = 0.0
    enhancement[1000:1002, 100:102] = 4000.0  # one 2x2 block of the reduced picture
    enhancement[1500, 100] = np.nan
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, enhancement, threshold=100.0, vmax=4000.0)
    rgb = _read(path)
    top, bottom, left, right = _image_box(rgb)
    assert (bottom - top, right - left) == (1200, 150)
    assert (np.abs(rgb[top + 500, left + 50].astype(int) - _cmap_rgb(1.0)) <= 1).all()
    assert _is_grey(rgb[top + 750, left + 50])
    assert int((~_is_grey(rgb[top:bottom, left:right])).sum()) == 1


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ql.png"
    path.write_bytes(b"old quick-look")
    background, enhancement = _scene(20, 30)

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", broken_fsync)
    with pytest.raises(DataSourceError, match="No space left"):
        write_enhancement_png(path, background, enhancement)
    assert path.read_bytes() == b"old quick-look"
    assert [p.name for p in tmp_path.iterdir()] == ["ql.png"]
    monkeypatch.undo()
    with pytest.raises(InvalidParameterError):
        write_enhancement_png(path, background, enhancement[:5])
    assert path.read_bytes() == b"old quick-look"
    with pytest.raises(DataSourceError):
        write_enhancement_png(tmp_path / "missing" / "ql.png", background, enhancement)


def test_invalid_parameters(tmp_path: Path) -> None:
    path = tmp_path / "ql.png"
    background, enhancement = _scene(40, 50)
    for bg, enh in [
        (background, enhancement[:10]),
        (background[0], enhancement[0]),
        (background[..., None], enhancement[..., None]),
        (np.zeros((0, 5)), np.zeros((0, 5))),
    ]:
        with pytest.raises(InvalidParameterError, match=r"one shape"):
            write_enhancement_png(path, bg, enh)
    with pytest.raises(InvalidParameterError, match=r"must exceed the display threshold"):
        write_enhancement_png(path, background, enhancement, vmax=1.0, threshold=2.0)
    with pytest.raises(InvalidParameterError, match=r"must exceed"):
        write_enhancement_png(path, background, enhancement, vmax=float("inf"))
    with pytest.raises(InvalidParameterError, match=r"finite"):
        write_enhancement_png(path, background, enhancement, threshold=float("nan"))
    with pytest.raises(InvalidParameterError, match=r"dpi"):
        write_enhancement_png(path, background, enhancement, dpi=0)
    with pytest.raises(ValueError, match=r"colormap"):
        write_enhancement_png(path, background, enhancement, cmap="no-such-map")
    assert not path.exists()


def test_other_colormap(tmp_path: Path) -> None:
    background, enhancement = _scene(30, 30)
    enhancement[10:15, 10:15] = 1e4
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, enhancement, cmap="viridis", vmax=500.0)
    rgb = _read(path)
    top, _, left, right = _image_box(rgb)
    k = (right - left) // 30
    pixel = rgb[top + 12 * k, left + 12 * k].astype(int)
    assert (np.abs(pixel - _cmap_rgb(1.0, "viridis")) <= 1).all()


def test_display_threshold() -> None:
    _, enhancement = _scene(40, 50)
    thr = display_threshold(enhancement)
    assert 150.0 < thr < 450.0  # ~2 sigma of N(0, 100) noise, the plume barely moves it
    assert display_threshold(np.full((3, 3), np.nan)) == 0.0
    values = np.array([[1.0, 2.0], [np.nan, 4.0]])
    display_threshold(values)
    assert np.isnan(values[1, 0]) and values[1, 1] == 4.0  # the input is not modified


@pytest.mark.parametrize(
    ("lo", "hi"), [(0.0, 1.0), (250.0, 2000.0), (37.2, 1234.5), (0.3, 0.9), (1e3, 1e3 + 1e-3)]
)
def test_nice_ticks(lo: float, hi: float) -> None:
    ticks, decimals = _nice_ticks(lo, hi)
    assert 3 <= len(ticks) <= 7
    assert lo - 1e-9 * abs(hi) <= ticks[0] and ticks[-1] <= hi + 1e-9 * abs(hi)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10.0 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1.0, 2.0, 2.5, 5.0))
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels)


def test_packaged_palette_is_matplotlibs_sampling() -> None:
    from plumetrace.io.quicklook import _LEVELS, _palette

    table = np.frombuffer(_palette("plasma"), dtype=np.uint8).reshape(-1, 3)
    rgba = matplotlib.colormaps["plasma"](np.linspace(0.0, 1.0, _LEVELS))
    expected = np.round(np.asarray(rgba)[:, :3] * 255.0).astype(np.uint8)
    assert np.array_equal(table[_LEVELS:], expected)
    assert np.array_equal(table[:_LEVELS, 0], table[:_LEVELS, 2])  # greys first


def test_default_colormap_needs_no_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from plumetrace.io.quicklook import _palette\n"
        "_palette('plasma')\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
