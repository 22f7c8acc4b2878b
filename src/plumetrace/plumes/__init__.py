"""Plumes: segmentation, source pinpointing and emission rates from enhancement maps.

Kernels take arrays and return small frozen dataclasses; ``pipeline/plumes.py`` reads the
rasters and writes ``plumes.geojson`` and the pictures.
"""

from plumetrace.plumes.calibration import (
    ConfidenceModel,
    WindCalibration,
    confidence_model,
    wind_calibration,
)
from plumetrace.plumes.features import FEATURE_NAMES, candidate_features
from plumetrace.plumes.find import Plume, PlumeOptions, find_plumes
from plumetrace.plumes.geometry import downwind_unit_vector, north_up_jacobian
from plumetrace.plumes.quantify import FluxEstimate, estimate_flux
from plumetrace.plumes.segment import Segmentation, SegmentOptions, segment
from plumetrace.plumes.source import SourceEstimate, pinpoint_source

__all__ = [
    "FEATURE_NAMES",
    "ConfidenceModel",
    "FluxEstimate",
    "Plume",
    "PlumeOptions",
    "SegmentOptions",
    "Segmentation",
    "SourceEstimate",
    "WindCalibration",
    "candidate_features",
    "confidence_model",
    "downwind_unit_vector",
    "estimate_flux",
    "find_plumes",
    "north_up_jacobian",
    "pinpoint_source",
    "segment",
    "wind_calibration",
]
