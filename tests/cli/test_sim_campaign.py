from __future__ import annotations

from pathlib import Path

import pytest

from plumetrace.cli.app import main
from plumetrace.io.tables import read_json

SMALL = ["--sources", "12", "--passes", "3", "--reports", "5", "--days", "7"]


def test_sim_campaign_writes_files_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "campaign"
    code = main(
        [
            "sim",
            "campaign",
            str(out),
            *SMALL,
            "--seed",
            "7",
            "--origin",
            "32.0,-106.0",
            "--area-km",
            "10",
            "--false-rate",
            "0.05",
        ]
    )
    assert code == 0
    words = [line.split() for line in capsys.readouterr().out.splitlines()]
    rows = {w[0]: w[1] for w in words if len(w) >= 2 and w[1].isdigit()}
    assert (rows["passes"], rows["reports"], rows["sources"]) == ("3", "5", "12")
    manifest = read_json(out / "campaign.json")
    assert manifest["seed"] == 7 and manifest["origin"] == {"lat": 32.0, "lon": -106.0}
    assert [p["flight"] for p in manifest["passes"]] == ["flt-7-1", "flt-7-2", "flt-7-3"]
    assert len(manifest["reports"]) == 5 and len(read_json(out / "truth.json")["sources"]) == 12
    assert all((out / p["coverage"]).is_file() for p in manifest["passes"])
    times = [p["time"] for p in manifest["passes"]]
    assert times[0] >= "2025-03-03" and times[-1] < "2025-03-11"


def test_same_seed_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["sim", "campaign", str(tmp_path / name), *SMALL, "--seed", "2"]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "31.9"], "--origin must be LAT,LON"),
        (["--origin", "95,0"], "origin must be LAT,LON"),
        (["--days", "0"], "days must be at least 1"),
        (["--area-km", "-1"], "the area's side must be a positive"),
        (["--false-rate", "-0.5"], "false detection rate"),
        (["--sources", "-2"], "sources must be zero or more"),
    ],
)
def test_bad_options_give_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["sim", "campaign", str(tmp_path / "x"), *args])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "x").exists()
