"""Which scenes a batch processes: names, times, globs, directories, STAC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.pipeline.scenes import resolve_scenes, scene_name, time_from_name
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.sim import SceneSpec


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny scenes, ``a/radiance.hdr`` and ``b/radiance.hdr``."""
    root = tmp_path_factory.mktemp("scenes")
    for i, name in enumerate(("a", "b")):
        run_sim_scene(root / name, SceneSpec(rows=16, cols=16, sources=0, seed=i))
    return root


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ang20191018t141549_rdn_v2x1_img.hdr", datetime(2019, 10, 18, 14, 15, 49, tzinfo=UTC)),
        ("AV320230915t182453_RDN.nc", datetime(2023, 9, 15, 18, 24, 53, tzinfo=UTC)),
        (
            "EMIT_L1B_RAD_001_20220815T042838_2222703_003.nc",
            datetime(2022, 8, 15, 4, 28, 38, tzinfo=UTC),
        ),
        ("radiance.hdr", None),
        ("ang20191318t141549_rdn.hdr", None),  # month 13: not a time
    ],
)
def test_time_from_name(name: str, expected: datetime | None) -> None:
    assert time_from_name(name) == expected


def test_scene_name_drops_the_radiance_extension() -> None:
    assert scene_name(Path("x/ang2019_rdn.hdr")) == "ang2019_rdn"
    assert scene_name(Path("EMIT_L1B.nc")) == "EMIT_L1B"
    assert scene_name(Path("cube.img")) == "cube"


def test_same_file_names_in_two_folders_get_their_folder(scenes: Path) -> None:
    found = resolve_scenes([str(scenes / "*" / "*.hdr")])
    assert [s.name for s in found] == ["a_radiance", "b_radiance"]
    assert all(s.time is None and s.time_source == "unknown" for s in found)


def test_a_file_given_twice_is_one_scene(scenes: Path) -> None:
    p = str(scenes / "a" / "radiance.hdr")
    found = resolve_scenes([p, p, str(scenes / "a" / "radiance")])
    assert len(found) == 1  # the header and its data file are one scene
    assert found[0].path == Path(p)


def test_directory_and_time_sources(scenes: Path, tmp_path: Path) -> None:
    given = datetime(2025, 4, 2, 17, tzinfo=UTC)
    found = resolve_scenes([str(scenes / "a")], time=given)
    assert [(s.name, s.time, s.time_source) for s in found] == [("radiance", given, "option")]
    # the header's own acquisition time wins over the option
    d = tmp_path / "ang20240101t000000"
    run_sim_scene(d, SceneSpec(rows=16, cols=16, sources=0, seed=3))
    hdr = d / "radiance.hdr"
    hdr.write_text(hdr.read_text() + "acquisition time = 2024-06-01T10:20:30Z\n")
    (s,) = resolve_scenes([str(hdr)], time=given)
    assert s.time == datetime(2024, 6, 1, 10, 20, 30, tzinfo=UTC) and s.time_source == "metadata"


def test_time_from_the_file_name(scenes: Path, tmp_path: Path) -> None:
    src = scenes / "a"
    (tmp_path / "ang20250402t170000_rdn").write_bytes((src / "radiance").read_bytes())
    (tmp_path / "ang20250402t170000_rdn.hdr").write_text((src / "radiance.hdr").read_text())
    (s,) = resolve_scenes([str(tmp_path / "ang20250402t170000_rdn.hdr")])
    assert s.time == datetime(2025, 4, 2, 17, tzinfo=UTC) and s.time_source == "name"


def test_stac_catalog_items_are_scenes(scenes: Path, tmp_path: Path) -> None:
    import pystac

    cat = pystac.Catalog(id="flights", description="radiance")
    for name in ("a", "b"):
        item = pystac.Item(
            id=f"flight-{name}",
            geometry={"type": "Point", "coordinates": [-102.2, 31.9]},
            bbox=[-102.2, 31.9, -102.2, 31.9],
            datetime=datetime(2025, 5, 1, 9, tzinfo=UTC),
            properties={},
        )
        item.add_asset(
            "radiance", pystac.Asset(href=str(scenes / name / "radiance.hdr"), roles=["data"])
        )
        item.add_asset("thumbnail", pystac.Asset(href="q.png", roles=["thumbnail"]))
        cat.add_item(item)
    cat.normalize_hrefs(str(tmp_path / "stac"))
    cat.make_all_asset_hrefs_relative()
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    found = resolve_scenes([str(tmp_path / "stac" / "catalog.json")])
    assert [s.name for s in found] == ["flight-a", "flight-b"]
    assert found[0].path.resolve() == (scenes / "a" / "radiance.hdr").resolve()
    assert found[0].time == datetime(2025, 5, 1, 9, tzinfo=UTC) and found[0].time_source == "stac"
    assert found[0].stac_item is not None and found[0].stac_item.endswith("flight-a.json")


def test_bad_arguments(scenes: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="no scenes"):
        resolve_scenes([])
    with pytest.raises(DataSourceError, match="file not found"):
        resolve_scenes([str(tmp_path / "missing.hdr")])
    with pytest.raises(DataSourceError, match="matches no radiance"):
        resolve_scenes([str(tmp_path / "*.hdr")])
    with pytest.raises(DataSourceError, match="no radiance files"):
        resolve_scenes([str(tmp_path)])
    with pytest.raises(InvalidParameterError, match="both named 'x_radiance'"):
        resolve_scenes(_clash(tmp_path, scenes))
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"type": "Catalog", "stac_version": "1.1.0"}))
    with pytest.raises(DataSourceError, match=r"broken\.json"):
        resolve_scenes([str(bad)])


def _clash(tmp_path: Path, scenes: Path) -> list[str]:
    """``x/radiance.hdr`` (named ``x_radiance`` beside another ``radiance``) and a
    ``x_radiance.hdr``: two scenes, one name."""
    for stem in ("x/radiance", "x_radiance"):
        (tmp_path / stem).parent.mkdir(exist_ok=True)
        (tmp_path / f"{stem}.hdr").write_text((scenes / "a" / "radiance.hdr").read_text())
        (tmp_path / stem).write_bytes((scenes / "a" / "radiance").read_bytes())
    return [
        str(tmp_path / "x" / "radiance.hdr"),
        str(scenes / "a" / "radiance.hdr"),
        str(tmp_path / "x_radiance.hdr"),
    ]
