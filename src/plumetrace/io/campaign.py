"""Files of a simulated campaign (``plumetrace sim campaign``).

Layout of the output directory::

    campaign.json                      manifest: seed, origin, passes (time order), reports
    truth.json                         sources, clutter, what caused each detection/report
    passes/<flight>/plumes.geojson     Point features with the properties of ``plumes``
    passes/<flight>/coverage.geojson   the pass's footprint, one Polygon feature
    reports/<report-id>.json           one report each

Paths in the manifest are relative to the directory, with ``/`` separators. Every file is
written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plumetrace.io._atomic import ensure_dir
from plumetrace.io.geojson import write_geojson
from plumetrace.io.tables import write_json
from plumetrace.sim.campaign_spec import Campaign, Pass, format_time

__all__ = ["CampaignFiles", "write_campaign"]

CampaignFiles = dict[str, Path]
"""Written files by role: ``"manifest"``, ``"truth"``, ``"plumes:<flight>"``,
``"coverage:<flight>"`` and ``"report:<id>"``."""


def _pass_header(p: Pass) -> dict[str, Any]:
    return {
        "flight": p.flight,
        "time": format_time(p.time),
        "platform": p.platform,
        "sensor": p.sensor,
        "operator": p.operator,
    }


def _write_pass(p: Pass, folder: Path) -> tuple[Path, Path]:
    ensure_dir(folder)
    plumes = folder / "plumes.geojson"
    features = [
        {
            "type": "Feature",
            "id": d.plume_id,
            "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
            "properties": d.properties(),
        }
        for d in p.detections
    ]
    write_geojson(
        plumes,
        features,
        properties={
            **_pass_header(p),
            "wind_speed_m_s": round(p.wind_speed_m_s, 2),
            "units": {"ime_kg": "kg", "flux_kg_h": "kg/h", "source_uncertainty_m": "m"},
            "generator": "plumetrace.sim.campaign",
        },
    )
    coverage = folder / "coverage.geojson"
    write_geojson(
        coverage,
        [
            {
                "type": "Feature",
                "id": p.flight,
                "geometry": {"type": "Polygon", "coordinates": [list(p.footprint)]},
                "properties": {**_pass_header(p), "area_km2": round(p.area_km2, 3)},
            }
        ],
    )
    return plumes, coverage


def write_campaign(campaign: Campaign, out_dir: str | Path) -> CampaignFiles:
    """Write a simulated campaign's evidence, manifest and truth into ``out_dir``.

    Parameters
    ----------
    campaign : Campaign
        From :func:`plumetrace.sim.campaign.simulate_campaign`.
    out_dir : str or Path
        Created if missing; files of the same names are replaced (other files are left).

    Returns
    -------
    dict of str to Path
        Every file written, by role (see :data:`CampaignFiles`).

    Raises
    ------
    DataSourceError
        If a directory or file cannot be written.
    """
    out = ensure_dir(out_dir)
    files: CampaignFiles = {}
    passes: list[dict[str, Any]] = []
    for p in campaign.passes:
        plumes, coverage = _write_pass(p, out / "passes" / p.flight)
        files[f"plumes:{p.flight}"] = plumes
        files[f"coverage:{p.flight}"] = coverage
        passes.append(
            {
                **_pass_header(p),
                "plumes": plumes.relative_to(out).as_posix(),
                "coverage": coverage.relative_to(out).as_posix(),
            }
        )
    reports: list[str] = []
    if campaign.reports:
        ensure_dir(out / "reports")
    for r in campaign.reports:
        path = out / "reports" / f"{r.id}.json"
        write_json(path, r.to_dict())
        files[f"report:{r.id}"] = path
        reports.append(path.relative_to(out).as_posix())
    spec = campaign.spec
    manifest = {
        "seed": spec.seed,
        "origin": {"lat": spec.origin_lat, "lon": spec.origin_lon},
        "passes": passes,
        "reports": reports,
    }
    files["manifest"] = out / "campaign.json"
    write_json(files["manifest"], manifest)
    files["truth"] = out / "truth.json"
    write_json(files["truth"], campaign.truth_dict())
    return files
