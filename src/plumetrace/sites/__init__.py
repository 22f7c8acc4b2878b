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
    site_confidences,
)
from plumetrace.sites.context import (
    Features,
    PopulationGrid,
    SiteContext,
    site_context,
    site_contexts,
)
from plumetrace.sites.fusion import (
    Association,
    Associations,
    FusionOptions,
    SiteTracker,
    associate,
    combine_positions,
    split_outliers,
)
from plumetrace.sites.priority import site_priority

__all__ = [
    "Association",
    "Associations",
    "ConfidenceModel",
    "EvidenceSummary",
    "Features",
    "FusionOptions",
    "PopulationGrid",
    "SiteContext",
    "SiteTracker",
    "associate",
    "combine_positions",
    "pass_llr",
    "report_llr",
    "site_confidence",
    "site_confidences",
    "site_context",
    "site_contexts",
    "site_priority",
    "split_outliers",
]
