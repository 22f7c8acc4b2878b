"""STAC: reading radiance items, writing the products catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pystac
import pytest

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.stac import (
    CatalogScene,
    is_stac_file,
    read_stac_radiance,
    write_products_catalog,
)

POINT = {"type": "Point", "coordinates": [-106.4, 31.7]}


def _item(item_id: str, assets: dict[str, pystac.Asset], **kw: object) -> pystac.Item:
    item = pystac.Item(
        id=item_id,
        geometry=POINT,
        bbox=[-106.4, 31.7, -106.4, 31.7],
        datetime=kw.pop("when", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),  # type: ignore[arg-type]
        properties=dict(kw),
    )
    for key, asset in assets.items():
        item.add_asset(key, asset)
    return item


def test_item_and_collection(tmp_path: Path) -> None:
    (tmp_path / "rdn.nc").write_bytes(b"")
    item = _item("one", {"data": pystac.Asset(href=str(tmp_path / "rdn.nc"), roles=["data"])})
    item.set_self_href(str(tmp_path / "one.json"))
    item.save_object()
    (got,) = read_stac_radiance(tmp_path / "one.json")
    assert got.item_id == "one" and got.path == tmp_path / "rdn.nc"
    assert got.time == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert is_stac_file(tmp_path / "one.json") and not is_stac_file(tmp_path / "rdn.nc")

    col = pystac.Collection(
        id="c",
        description="d",
        extent=pystac.Extent(
            pystac.SpatialExtent([[-107, 31, -106, 32]]), pystac.TemporalExtent([[None, None]])
        ),
    )
    ranged = _item(
        "two",
        {
            "thumbnail": pystac.Asset(href="t.png", roles=["thumbnail"]),
            "rdn": pystac.Asset(href=str(tmp_path / "x_rdn.hdr")),
        },
        when=None,
        start_datetime="2024-02-03T04:05:06Z",
        end_datetime="2024-02-03T04:15:06Z",
    )
    col.add_item(ranged)
    col.normalize_hrefs(str(tmp_path / "col"))
    col.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    (got,) = read_stac_radiance(tmp_path / "col" / "collection.json")
    assert got.path == tmp_path / "x_rdn.hdr"
    assert got.time == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("assets", "message"),
    [
        ({"thumbnail": pystac.Asset(href="t.png", roles=["thumbnail"])}, "no radiance asset"),
        ({"radiance": pystac.Asset(href="https://example.org/a.nc")}, "remote"),
    ],
)
def test_bad_items(tmp_path: Path, assets: dict[str, pystac.Asset], message: str) -> None:
    item = _item("bad", assets)
    item.set_self_href(str(tmp_path / "bad.json"))
    item.save_object()
    with pytest.raises(FormatError, match=message) as err:
        read_stac_radiance(tmp_path / "bad.json")
    assert "bad.json" in str(err.value)


def test_not_stac(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="file not found"):
        read_stac_radiance(tmp_path / "none.json")
    empty = tmp_path / "empty.json"
    pystac.Catalog(id="e", description="nothing").save_object(dest_href=str(empty))
    with pytest.raises(FormatError, match="no items"):
        read_stac_radiance(empty)
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps({"type": "Feature", "stac_version": "1.1.0"}))
    with pytest.raises(FormatError, match="not a readable STAC"):
        read_stac_radiance(junk)


def test_products_catalog_links_items_to_their_scene(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenes = []
    for name in ("s1", "s2"):
        d = out / name
        d.mkdir(parents=True)
        for f in ("enhancement.tif", "mask.tif", "plumes.geojson", "footprint.geojson"):
            (d / f).write_bytes(b"x")
        if name == "s1":  # an ace retrieval: its score too
            (d / "score.tif").write_bytes(b"x")
        scenes.append(
            CatalogScene(
                name=name,
                radiance=tmp_path / "in" / f"{name}.hdr",
                out_dir=d,
                time=datetime(2025, 4, 2, 17, tzinfo=UTC) if name == "s1" else None,
                processed=datetime(2026, 1, 1, tzinfo=UTC),
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[-106, 31], [-105.9, 31], [-105.9, 31.1], [-106, 31]]],
                },
                properties={"plumetrace:plumes": 1},
                source_item="https://example.org/items/s1.json" if name == "s1" else None,
            )
        )
    path = write_products_catalog(out, scenes)
    cat = pystac.Catalog.from_file(str(path))
    items = {i.id: i for i in cat.get_items(recursive=True)}
    assert sorted(items) == sorted(
        f"{n}-{k}" for n in ("s1", "s2") for k in ("radiance", "retrieval", "plumes")
    )
    assert Path(items["s1-plumes"].get_self_href() or "").parent == out / "s1" / "stac"
    ret = items["s1-retrieval"]
    (src,) = ret.get_links("derived_from")
    assert src.resolve_stac_object().target.id == "s1-radiance"
    plumes_from = {
        link.resolve_stac_object().target.id
        for link in items["s1-plumes"].get_links("derived_from")
    }
    assert plumes_from == {"s1-retrieval", "s1-radiance"}
    enh = ret.assets["enhancement"]
    assert enh.media_type == pystac.MediaType.COG
    assert Path(enh.get_absolute_href() or "") == out / "s1" / "enhancement.tif"
    raw = json.loads((out / "s1" / "stac" / "s1-retrieval.json").read_text())
    assert raw["assets"]["enhancement"]["href"] == "../enhancement.tif"  # relative: movable
    assert "uncertainty" not in raw["assets"]  # only files that exist
    assert ret.assets["score"].media_type == pystac.MediaType.COG
    assert "score" not in items["s2-retrieval"].assets
    assert items["s1-radiance"].get_links("via")[0].href == "https://example.org/items/s1.json"
    assert items["s1-plumes"].properties["plumetrace:time_source"] == "acquisition"
    assert items["s2-plumes"].properties["plumetrace:time_source"] == "processed"
    assert items["s2-plumes"].datetime == datetime(2026, 1, 1, tzinfo=UTC)
    assert items["s1-plumes"].bbox == pytest.approx([-106, 31, -105.9, 31.1])
