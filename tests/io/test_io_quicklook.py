from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.io import display_threshold, write_enhancement_png


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _scene(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    background = rng.uniform(2.0, 8.0, (rows, cols))
    enhancement = rng.normal(0.0, 100.0, (rows, cols))
    rr, cc = np.mgrid[0:rows, 0:cols]
    enhancement += 2000.0 * np.exp(-((rr - rows / 2) ** 2 + (cc - cols / 3) ** 2) / 20.0)
    enhancement[:3] = np.nan
    return background, enhancement


@pytest.mark.parametrize(("rows", "cols"), [(60, 120), (120, 60), (80, 80)])
def test_png_written_with_expected_size(tmp_path: Path, rows: int, cols: int) -> None:
    background, enhancement = _scene(rows, cols)
    path = tmp_path / "ql.png"
    write_enhancement_png(path, background, enhancement, title="CH4", dpi=50)
    width, height = _png_size(path)
    img_w, img_h = (10.0, 10.0 * rows / cols) if cols >= rows else (10.0 * cols / rows, 10.0)
    assert abs(width - (img_w + 1.6) * 50) <= 1  # image + left margin + colour bar
    assert abs(height - (img_h + 0.7) * 50) <= 1  # image + bottom + title
    assert path.stat().st_size > 2000
    assert [p.name for p in tmp_path.iterdir()] == ["ql.png"]


def test_threshold_and_edge_cases(tmp_path: Path) -> None:
    background, enhancement = _scene(40, 50)
    thr = display_threshold(enhancement)
    assert 150.0 < thr < 450.0  # ~2 sigma of N(0, 100) noise, the plume barely moves it
    assert display_threshold(np.full((3, 3), np.nan)) == 0.0
    path = tmp_path / "empty.png"
    write_enhancement_png(path, np.full((10, 10), np.nan), np.zeros((10, 10)), threshold=5.0)
    assert _png_size(path)[0] > 0
    with pytest.raises(InvalidParameterError, match=r"one shape"):
        write_enhancement_png(path, background, enhancement[:10])
    with pytest.raises(InvalidParameterError, match=r"must exceed the display threshold"):
        write_enhancement_png(path, background, enhancement, vmax=1.0, threshold=2.0)
