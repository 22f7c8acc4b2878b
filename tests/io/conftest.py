"""Fixtures for the io tests: small cubes and band sets, and raw ENVI file factories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

HeaderText = Callable[..., str]
WritePair = Callable[..., Path]


@pytest.fixture
def bands12() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Twelve band centres from 2000 to 2495 nm and their widths."""
    return np.linspace(2000.0, 2495.0, 12), np.full(12, 6.0)


@pytest.fixture
def cube() -> NDArray[np.float32]:
    """A (9, 7, 12) radiance cube, values 0.5-20 µW cm⁻² sr⁻¹ nm⁻¹."""
    rng = np.random.default_rng(42)
    return (0.5 + 19.5 * rng.random((9, 7, 12))).astype(np.float32)


def _header_text(
    samples: int = 4, lines: int = 3, bands: int = 2, data_type: int = 4, extra: str = ""
) -> str:
    wl = ", ".join(str(2000.0 + 10 * k) for k in range(bands))
    return (
        f"ENVI\nsamples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
        f"data type = {data_type}\ninterleave = bil\nbyte order = 0\n"
        f"wavelength units = Nanometers\nwavelength = {{{wl}}}\n{extra}"
    )


@pytest.fixture
def header_text() -> HeaderText:
    """Factory of a minimal valid ENVI header (float32 BIL with wavelengths)."""
    return _header_text


@pytest.fixture
def write_pair(tmp_path: Path) -> WritePair:
    """Factory writing ``name.hdr`` + ``name.img`` in ``tmp_path``; returns the data path."""

    def write(header: str, data: bytes, name: str = "scene") -> Path:
        (tmp_path / f"{name}.hdr").write_text(header)
        data_path = tmp_path / f"{name}.img"
        data_path.write_bytes(data)
        return data_path

    return write
