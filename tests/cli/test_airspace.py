from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from plumetrace.cli.app import main


def test_check_one_point(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["airspace", "check", "31.65", "-106.45", "--operator", "border-unit"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out == {
        "lat": 31.65,
        "lon": -106.45,
        "zone": "MEX",
        "allowed": False,
        "distance_to_unauthorized_m": 0.0,
    }


def test_check_json_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("31.85,-106.45\n# comment\n\n31.65,-106.45\n"))
    rc = main(["airspace", "check", "--json-lines", "--operator", "partner-program"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rc == 0 and [x["zone"] for x in lines] == ["USA", "MEX"]
    assert all(x["allowed"] for x in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["95", "0", "--operator", "border-unit"], "not a WGS 84 position"),
        (["31", "-106", "--operator", "nobody"], "no operator 'nobody'"),
        (["--operator", "border-unit"], "give LAT LON"),
    ],
)
def test_check_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    rc = main(["airspace", "check", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err


def test_export(tmp_path: Path) -> None:
    out = tmp_path / "zones.geojson"
    rc = main(
        [
            "airspace",
            "export",
            "--operator",
            "border-unit",
            "--out",
            str(out),
            "--bbox",
            "-107,31,-106,32",
        ]
    )
    doc = json.loads(out.read_text())
    zones = {f["properties"]["zone"]: f["properties"]["allowed"] for f in doc["features"]}
    assert rc == 0
    assert zones["USA"] is True and zones["MEX"] is False and zones["authorized"] is True


@pytest.mark.parametrize(
    ("operator", "out", "message"),
    [
        ("nobody", "r.json", "no operator 'nobody'"),
        ("border-unit", "nodir/r.json", "its directory does not exist"),
        ("border-unit", "r.json", "track not found"),
    ],
)
def test_audit_errors_in_order(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    operator: str,
    out: str,
    message: str,
) -> None:
    # the track is read while the operator loads; its error still comes last
    monkeypatch.chdir(tmp_path)
    rc = main(["audit", "missing.csv", "--operator", operator, "--out", out])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err
