"""Sites: fusion of detections and reports, confidence, civilian context, attribution.

Pure kernels: positions, uncertainties and evidence summaries in, assignments and
probabilities out. The store persists what they decide.
"""

from plumetrace.sites.confidence import (
    ConfidenceModel,
    EvidenceSummary,
    pass_llr,
    report_llr,
    site_confidence,
)
from plumetrace.sites.fusion import (
    Association,
    FusionOptions,
    SiteTracker,
    associate,
    combine_positions,
    split_outliers,
)

__all__ = [
    "Association",
    "ConfidenceModel",
    "EvidenceSummary",
    "FusionOptions",
    "SiteTracker",
    "associate",
    "combine_positions",
    "pass_llr",
    "report_llr",
    "site_confidence",
    "split_outliers",
]
