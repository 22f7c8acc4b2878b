"""STAC (pystac): radiance scenes from a catalog, and the catalog of a batch's products.

Reading: a STAC catalog, collection or item JSON whose items carry a radiance asset
(ENVI header or data file, or netCDF) on a local or mounted file system.

Writing: ``catalog.json`` at the top of a ``process`` output directory, with three items
per scene: the source scene (``<scene>-radiance``), the retrieval's Cloud-Optimized
GeoTIFFs (``<scene>-retrieval``, ``derived_from`` the scene) and the plumes
(``<scene>-plumes``, ``derived_from`` the retrieval and the scene). Item files live in
``<scene dir>/stac/``; every link and asset href is relative (a self-contained catalog
that can be moved or published as a whole).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plumetrace.errors import DataSourceError, FormatError

__all__ = [
    "CatalogScene",
    "StacRadiance",
    "is_stac_file",
    "read_stac_radiance",
    "write_products_catalog",
]

log = logging.getLogger(__name__)

_RADIANCE_KEYS = ("radiance", "rdn", "radiance_header", "hdr", "data", "image")
_RADIANCE_SUFFIXES = (".hdr", ".nc", ".nc4")
_COG = "image/tiff; application=geotiff; profile=cloud-optimized"
_GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class StacRadiance:
    """A radiance scene found in a STAC catalog.

    Attributes
    ----------
    item_id : str
        The item's id (the scene's name in the outputs).
    path : Path
        The local radiance file (ENVI header or data file, or netCDF).
    time : datetime or None
        The item's ``datetime`` (or ``start_datetime``), UTC.
    item_href : str
        Where the item's JSON is (its self href).
    """

    item_id: str
    path: Path
    time: datetime | None
    item_href: str


def is_stac_file(path: Path) -> bool:
    """Whether ``path`` looks like a STAC JSON document (a ``.json`` file with a STAC type)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
        doc = json.loads(head)
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and (
        "stac_version" in doc or doc.get("type") in ("Catalog", "Collection")
    )


def _asset_path(item: Any, source: Path) -> Path:
    """Return the local radiance file of an item: by asset key, then role, then file suffix."""
    assets: Mapping[str, Any] = item.assets
    ranked: list[tuple[int, str, Any]] = []
    for key, asset in assets.items():
        href = str(asset.get_absolute_href() or asset.href)
        suffix = Path(href.split("?")[0]).suffix.lower()
        score = 0
        if key.lower() in _RADIANCE_KEYS:
            score += 2
        if "data" in (asset.roles or []):
            score += 1
        if suffix in _RADIANCE_SUFFIXES:
            score += 4
        if score:
            ranked.append((score, key, href))
    if not ranked:
        found = ", ".join(sorted(assets)) or "none"
        raise FormatError(
            source,
            f"item {item.id!r} has no radiance asset (assets: {found}); expected "
            "a 'radiance' or 'data' asset pointing at an ENVI header or netCDF file",
        )
    ranked.sort(key=lambda t: (-t[0], t[1]))
    href = ranked[0][2]
    if "://" in href and not href.startswith("file://"):
        raise FormatError(
            source,
            f"item {item.id!r}: radiance asset {href} is remote; "
            "download the scenes (or mount them) and point the catalog at the local files",
        )
    return Path(href.removeprefix("file://"))


def _item_time(item: Any) -> datetime | None:
    t: datetime | None = item.datetime
    if t is None:
        start = item.properties.get("start_datetime")
        if start:
            t = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def read_stac_radiance(path: str | Path) -> list[StacRadiance]:
    """Return the radiance scenes of a STAC catalog, collection or item (recursively).

    Raises
    ------
    DataSourceError
        If the file is missing.
    FormatError
        If it is not STAC, or an item has no local radiance asset.
    """
    import pystac
    from pystac.errors import STACError

    p = Path(path)
    if not p.is_file():
        raise DataSourceError(p, "file not found" if not p.exists() else "not a file")
    try:
        obj = pystac.read_file(str(p.resolve()))
        if isinstance(obj, pystac.Item):
            items = [obj]
        elif isinstance(obj, pystac.Catalog):  # collections are catalogs
            items = list(obj.get_items(recursive=True))
        else:
            raise FormatError(p, f"a STAC {type(obj).__name__} holds no items")
    except (STACError, ValueError, KeyError, TypeError, OSError) as exc:
        problem = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise FormatError(p, f"not a readable STAC catalog, collection or item: {problem}") from exc
    if not items:
        raise FormatError(p, "the STAC catalog has no items")
    out = []
    for item in items:
        try:
            when = _item_time(item)
        except ValueError as exc:
            raise FormatError(p, f"item {item.id!r}: bad start_datetime ({exc})") from exc
        out.append(
            StacRadiance(
                item_id=str(item.id),
                path=_asset_path(item, p),
                time=when,
                item_href=str(item.get_self_href() or p),
            )
        )
    return out


@dataclass(frozen=True)
class CatalogScene:
    """What the products catalog records of one processed scene.

    Attributes
    ----------
    name : str
        The scene's name (its output sub-folder; item ids start with it).
    radiance : Path
        The source radiance file.
    out_dir : Path
        Where its products are.
    time : datetime or None
        Acquisition time (UTC); None if unknown (the items then carry the processing
        time and ``plumetrace:time_source = "processed"``).
    processed : datetime
        When the products were made (UTC).
    geometry : mapping
        The scene footprint, GeoJSON geometry (lon/lat).
    properties : mapping
        Extra properties of the retrieval and plume items (``plumetrace:*``).
    source_item : str or None
        The STAC item the scene came from, if any (a ``via`` link).
    """

    name: str
    radiance: Path
    out_dir: Path
    time: datetime | None
    processed: datetime
    geometry: Mapping[str, Any]
    properties: Mapping[str, Any]
    source_item: str | None = None


def _bbox(geometry: Mapping[str, Any]) -> list[float]:
    from shapely.geometry import shape

    return [float(v) for v in shape(geometry).bounds]


def _asset(path: Path, media_type: str, roles: Sequence[str], title: str) -> Any:
    import pystac

    return pystac.Asset(
        href=str(path.resolve()), media_type=media_type, roles=list(roles), title=title
    )


def _scene_items(scene: CatalogScene) -> list[Any]:
    import pystac

    when = scene.time or scene.processed
    common = {
        "plumetrace:time_source": "acquisition" if scene.time is not None else "processed",
        "created": scene.processed.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    geometry = dict(scene.geometry)
    bbox = _bbox(geometry)
    stac_dir = scene.out_dir / "stac"

    def item(suffix: str, props: Mapping[str, Any]) -> Any:
        it = pystac.Item(
            id=f"{scene.name}-{suffix}",
            geometry=geometry,
            bbox=bbox,
            datetime=when,
            properties={**common, **props},
        )
        it.set_self_href(str((stac_dir / f"{scene.name}-{suffix}.json").resolve()))
        return it

    radiance = item("radiance", {"plumetrace:role": "source scene"})
    radiance.add_asset(
        "radiance",
        _asset(scene.radiance, _radiance_media_type(scene.radiance), ["data"], "radiance"),
    )
    if scene.source_item:
        radiance.add_link(pystac.Link(rel="via", target=scene.source_item))

    retrieval = item("retrieval", {"plumetrace:role": "retrieval", **scene.properties})
    for key, title in (
        ("enhancement", "column enhancement, ppm·m"),
        ("uncertainty", "one-sigma uncertainty, ppm·m"),
        ("mask", "flag bits"),
        ("albedo", "window radiance relative to the column mean"),
        ("score", "detection statistic (ace: cos² of the angle to the target)"),
    ):
        f = scene.out_dir / f"{key}.tif"
        if f.is_file():
            retrieval.add_asset(key, _asset(f, _COG, ["data"], title))
    _optional(retrieval, scene.out_dir / "quicklook.png", "quicklook", "image/png", "overview")
    _optional(retrieval, scene.out_dir / "detect.json", "report", "application/json", "metadata")
    retrieval.add_link(pystac.Link(rel="derived_from", target=radiance))

    plumes = item("plumes", {"plumetrace:role": "plumes", **scene.properties})
    for key, name, media, role in (
        ("plumes", "plumes.geojson", _GEOJSON, "data"),
        ("candidates", "candidates.geojson", _GEOJSON, "data"),
        ("footprint", "footprint.geojson", _GEOJSON, "metadata"),
        ("report", "plumes.json", "application/json", "metadata"),
        ("overview", "plumes.png", "image/png", "overview"),
    ):
        _optional(plumes, scene.out_dir / name, key, media, role)
    plumes.add_link(pystac.Link(rel="derived_from", target=retrieval))
    plumes.add_link(pystac.Link(rel="derived_from", target=radiance))
    return [radiance, retrieval, plumes]


def _optional(item: Any, path: Path, key: str, media: str, role: str) -> None:
    if path.is_file():
        item.add_asset(key, _asset(path, media, [role], path.name))


def _radiance_media_type(path: Path) -> str:
    if path.suffix.lower() in (".nc", ".nc4"):
        return "application/x-netcdf"
    return "application/x-envi" if path.suffix.lower() != ".hdr" else "text/plain"


def write_products_catalog(
    out_dir: str | Path, scenes: Sequence[CatalogScene], *, title: str = "plumetrace products"
) -> Path:
    """Write ``OUT/catalog.json`` describing ``scenes`` (replacing an earlier one).

    Returns
    -------
    Path
        The catalog file.

    Raises
    ------
    DataSourceError
        If the catalog cannot be written.
    """
    import pystac

    out = Path(out_dir).resolve()
    catalog = pystac.Catalog(
        id="plumetrace-products",
        description=f"{title}: {len(scenes)} scene(s), each with its retrieval and plumes",
        title=title,
    )
    catalog.set_self_href(str(out / "catalog.json"))
    for scene in scenes:
        items = _scene_items(scene)
        hrefs = [it.get_self_href() for it in items]
        catalog.add_items(items)
        for it, href in zip(items, hrefs, strict=True):  # keep them beside the products
            it.set_self_href(href)
    catalog.make_all_asset_hrefs_relative()
    try:
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    except OSError as exc:
        raise DataSourceError(
            out / "catalog.json", f"cannot write the STAC catalog: {exc}"
        ) from exc
    log.info("STAC catalog of %d scene(s) -> %s", len(scenes), out / "catalog.json")
    return out / "catalog.json"
