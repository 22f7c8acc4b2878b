"""``plumetrace sim campaign``: simulate a survey campaign and write its files.

The evidence (passes with their plume detections and footprints, reports) and the truth
(sources, clutter, what caused each detection and report) validate the fusion of
detections into sites: precision, recall and the calibration of site confidence. See
:mod:`plumetrace.sim.campaign` for the model and :mod:`plumetrace.io.campaign` for the
files.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from plumetrace.io.campaign import write_campaign
from plumetrace.sim.campaign import DETECTION_KINDS, CampaignSpec, simulate_campaign

__all__ = ["CampaignSummary", "run_campaign"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CampaignSummary:
    """What a ``sim campaign`` run simulated and wrote.

    Attributes
    ----------
    out_dir : Path
    manifest : Path
        ``campaign.json``.
    files : int
        Number of files written.
    sources, intermittent, clutter : int
        True sources, how many of them intermittent, persistent clutter locations.
    passes : int
    detections : dict of str to int
        By kind: ``"real"``, ``"false"``, ``"clutter"``.
    sources_detected : int
        Sources detected on at least one pass.
    reports, true_reports : int
    seconds : float, s
        Wall-clock time of simulation and writing.
    """

    out_dir: Path
    manifest: Path
    files: int
    sources: int
    intermittent: int
    clutter: int
    passes: int
    detections: dict[str, int]
    sources_detected: int
    reports: int
    true_reports: int
    seconds: float


def run_campaign(out_dir: str | Path, spec: CampaignSpec) -> CampaignSummary:
    """Simulate a campaign from ``spec`` and write it into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Output directory (created if missing; files of the same names are replaced).
    spec : CampaignSpec
        What to simulate; the same spec always writes the same files.

    Returns
    -------
    CampaignSummary
    """
    start = time.perf_counter()
    campaign = simulate_campaign(spec)
    files = write_campaign(campaign, out_dir)
    kinds = Counter(d.kind for d in campaign.detections)
    seconds = time.perf_counter() - start
    log.info("simulated a campaign of %d passes in %.1f s", len(campaign.passes), seconds)
    return CampaignSummary(
        out_dir=Path(out_dir),
        manifest=files["manifest"],
        files=len(files),
        sources=len(campaign.sources),
        intermittent=sum(s.intermittent for s in campaign.sources),
        clutter=len(campaign.clutter),
        passes=len(campaign.passes),
        detections={k: kinds.get(k, 0) for k in DETECTION_KINDS},
        sources_detected=len({d.source for d in campaign.detections if d.source is not None}),
        reports=len(campaign.reports),
        true_reports=sum(r.source is not None for r in campaign.reports),
        seconds=seconds,
    )
