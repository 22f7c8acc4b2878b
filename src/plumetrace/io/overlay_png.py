"""A map overlay as a transparent PNG: enhancement in a colour map, no data transparent."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["overlay_png"]


def overlay_png(grid: NDArray[np.float64], vmax: float) -> bytes:
    """Return ``grid`` (ppm·m) as RGBA PNG bytes: 'inferno' from 0 to ``vmax``.

    NaN and values <= 0 are fully transparent; the rest fade in over the first fifth of
    the range, so the background noise does not hide the map below.
    """
    from matplotlib import colormaps

    g = np.asarray(grid, dtype=np.float64)
    top = vmax if vmax > 0 and np.isfinite(vmax) else 1.0
    t = np.clip(np.nan_to_num(g, nan=0.0) / top, 0.0, 1.0)
    rgba = colormaps["inferno"](t)
    alpha = np.clip(t / 0.2, 0.0, 1.0) * 0.85
    alpha[~np.isfinite(g) | (g <= 0)] = 0.0
    rgba[..., 3] = alpha
    buf = io.BytesIO()
    Image.fromarray((rgba * 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
