"""Retrieval kernels: gas column enhancement from radiance (pure numpy).

See :func:`retrieve` for the filters and :mod:`plumetrace.detect.flags` for the mask.
"""

from typing import TYPE_CHECKING, Any

from plumetrace.detect import flags
from plumetrace.detect.background import (
    ColumnBackground,
    Shrinkage,
    estimate_background,
    group_columns,
    ungroup_columns,
)
from plumetrace.detect.filters import (
    DEFAULT_EPSILON_PPM_M,
    DEFAULT_MF_SHRINKAGE,
    Method,
    Penalty,
    blas_threads,
    retrieve,
)
from plumetrace.detect.masks import screen_pixels
from plumetrace.detect.result import Retrieval

if TYPE_CHECKING:
    from plumetrace.detect.labelled import retrieve_dataarray

__all__ = [
    "DEFAULT_EPSILON_PPM_M",
    "DEFAULT_MF_SHRINKAGE",
    "ColumnBackground",
    "Method",
    "Penalty",
    "Retrieval",
    "Shrinkage",
    "blas_threads",
    "estimate_background",
    "flags",
    "group_columns",
    "retrieve",
    "retrieve_dataarray",
    "screen_pixels",
    "ungroup_columns",
]


def __getattr__(name: str) -> Any:
    """Import the xarray entry point on first use (xarray takes ~0.5 s to import)."""
    if name == "retrieve_dataarray":
        from plumetrace.detect.labelled import retrieve_dataarray

        return retrieve_dataarray
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
