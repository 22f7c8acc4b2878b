"""The store's commands end to end on the embedded default (SQLite under PLUMETRACE_HOME)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plumetrace.cli.app import main
from plumetrace.errors import AuthError
from plumetrace.io.tables import read_json, write_json
from plumetrace.store.migrate import head_revision
from plumetrace.store.sites import SITE_FIELDS

SMALL = ["--sources", "10", "--passes", "4", "--reports", "6", "--days", "5", "--seed", "3"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLUMETRACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLUMETRACE_DATABASE_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    out = tmp_path / "camp"
    assert main(["sim", "campaign", str(out), *SMALL]) == 0
    return out


def _sites(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["sites", "list", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_ingest_files_then_list_and_show(
    home: Path, campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = read_json(campaign / "campaign.json")
    p = manifest["passes"][0]
    args = ["--time", p["time"], "--flight", p["flight"]]
    new = ["--platform", p["platform"], "--sensor", p["sensor"], "--operator", p["operator"]]
    # a new flight without its platform/sensor/operator: one line, exit 2, nothing stored
    assert main(["ingest", "detections", str(campaign / p["plumes"]), *args]) == 2
    assert "is new: give --operator, --platform, --sensor" in capsys.readouterr().err
    bad_time = ["--time", "yesterday", "--flight", p["flight"], *new]
    assert main(["ingest", "coverage", str(campaign / p["coverage"]), *bad_time]) == 2
    assert "--time 'yesterday' is not ISO 8601" in capsys.readouterr().err
    assert main(["ingest", "coverage", str(campaign / p["coverage"]), *args, *new]) == 0
    assert main(["ingest", "detections", str(campaign / p["plumes"]), *args]) == 0
    first = _sites(capsys)
    assert first and all(list(s) == list(SITE_FIELDS) for s in first)
    assert (home / "plumetrace.db").is_file()
    # idempotent
    assert main(["ingest", "detections", str(campaign / p["plumes"]), *args]) == 0
    assert "already ingested" in capsys.readouterr().out
    assert _sites(capsys) == first
    for rel in manifest["reports"]:
        assert main(["ingest", "report", str(campaign / rel)]) == 0
    sites = _sites(capsys)
    assert sum(int(str(s["n_reports"])) for s in sites) == len(manifest["reports"])
    sid = str(sites[0]["id"])
    assert main(["sites", "show", sid, "--json"]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["id"] == sid and "evidence" in detail and "confidence_terms" in detail
    assert main(["sites", "show", sid]) == 0
    assert sid in capsys.readouterr().out
    assert main(["sites", "show", "site-nope"]) == 2
    assert "no site" in capsys.readouterr().err


def test_campaign_audit_log_and_tamper(
    home: Path, campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    assert main(["ingest", "campaign", str(campaign)]) == 0
    capsys.readouterr()
    assert main(["audit-log", "verify", "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["ok"] and v["events"] >= 4
    con = sqlite3.connect(home / "plumetrace.db")
    con.execute("DROP TRIGGER audit_events_no_update")
    con.execute("UPDATE audit_events SET actor='mallory' WHERE seq=2")
    con.commit()
    con.close()
    assert main(["audit-log", "verify"]) == 2
    assert "event 2" in capsys.readouterr().err


def test_db_purge_dry_run_then_purge(
    home: Path, campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "campaign", str(campaign)]) == 0
    before = _sites(capsys)
    keep = ["--tracks-days", "100000", "--attachments-days", "100000"]
    assert main(["db", "purge", "--dry-run", "--unconfirmed-days", "0", *keep, "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["sites"] == len(before) > 0 and dry["files_deleted"] == 0
    assert _sites(capsys) == before  # nothing changed
    assert main(["db", "purge", "--unconfirmed-days", "100000", *keep]) == 0
    assert "purged: 0 site(s)" in capsys.readouterr().out  # nothing that old
    assert main(["db", "purge", "--unconfirmed-days", "0", *keep]) == 0
    assert f"purged: {len(before)} site(s)" in capsys.readouterr().out
    assert _sites(capsys) == []
    assert main(["audit-log", "verify"]) == 0  # the purge is one more event in the chain
    assert main(["db", "purge", "--unconfirmed-days", "-1"]) == 2  # one line, exit 2


def test_users_compartments_and_sites_restrict(
    home: Path, campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "campaign", str(campaign)]) == 0
    site = str(_sites(capsys)[0]["id"])
    assert main(["users", "add", "sue", "--role", "supervisor"]) == 0
    assert main(["users", "add", "ana", "--role", "analyst"]) == 0
    capsys.readouterr()
    assert main(["sites", "restrict", site, "--user", "sue", "--compartment", "team-b"]) == 2
    assert "do not belong to compartment 'team-b'" in capsys.readouterr().err
    assert main(["users", "compartments", "sue", "team-b", "team-a"]) == 0
    assert "sue: team-a, team-b" in capsys.readouterr().out
    assert main(["sites", "restrict", site, "--user", "sue", "--compartment", "team-b"]) == 0
    assert f"{site}: visible to compartment team-b" in capsys.readouterr().out
    assert main(["sites", "restrict", site, "--user", "ana"]) == 2  # not a supervisor
    assert main(["users", "compartments", "sue", "Team B"]) == 2
    assert main(["sites", "restrict", site, "--user", "sue"]) == 0
    assert f"{site}: visible to all staff" in capsys.readouterr().out


def test_bad_report_is_one_line_and_stores_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "r.json"
    write_json(bad, {"id": "r1", "time": "2026-01-01T00:00Z", "lat": 95, "lon": 0})
    assert main(["ingest", "report", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err
    write_json(
        bad,
        {
            "id": "r1",
            "time": "2026-01-01T00:00Z",
            "lat": 95,
            "lon": 0,
            "uncertainty_m": 100,
            "source_reliability": "B",
            "credibility": 2,
            "text": "",
        },
    )
    assert main(["ingest", "report", str(bad)]) == 2
    assert "not a WGS84" in capsys.readouterr().err
    assert _sites(capsys) == []


def test_users_add_prints_a_one_time_password(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "ana", "--role", "analyst"]) == 0
    password = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(password) >= 16
    assert main(["users", "add", "ana", "--role", "analyst"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "add", "bob", "--role", "king"]) == 2
    assert main(["users", "list"]) == 0
    assert "ana" in capsys.readouterr().out


def test_users_revoke_deactivate_activate(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import timedelta

    from plumetrace.settings import Settings
    from plumetrace.store.engine import make_engine, session_scope
    from plumetrace.store.users import find_user, issue_token, user_for_token

    assert main(["users", "add", "ana", "--role", "analyst"]) == 0
    engine = make_engine(Settings().url)
    with session_scope(engine, write=True) as s:
        token, _ = issue_token(s, find_user(s, "ana"), timedelta(hours=1))
    capsys.readouterr()
    assert main(["users", "revoke", "ana"]) == 0
    assert "ana: 1 token(s) revoked" in capsys.readouterr().out
    with session_scope(engine) as s, pytest.raises(AuthError):
        user_for_token(s, token)
    assert main(["users", "deactivate", "ana"]) == 0
    assert main(["users", "list"]) == 0
    assert "disabled" in capsys.readouterr().out
    assert main(["users", "activate", "ana"]) == 0
    assert main(["users", "revoke", "nobody"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    engine.dispose()


def test_context_load_sets_exposure(
    home: Path, campaign: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from plumetrace.io.context import write_buildings, write_population
    from plumetrace.sim.context import synthetic_town

    assert main(["ingest", "campaign", str(campaign)]) == 0
    origin = read_json(campaign / "campaign.json")["origin"]
    grid, feats = synthetic_town(origin["lat"], origin["lon"], seed=0, size_m=4000)
    write_population(tmp_path / "pop.tif", grid)
    write_buildings(tmp_path / "b.geojson", feats)
    assert main(["context", "load", "--population", str(tmp_path / "pop.tif")]) == 0
    assert main(["context", "load", "--buildings", str(tmp_path / "b.geojson")]) == 0
    sites = _sites(capsys)
    assert {s["exposure"] for s in sites} <= {"low", "medium", "high", "unknown"}
    assert all(s["exposure"] is not None for s in sites)
    assert main(["context", "load"]) == 2


def test_db_upgrade_on_postgresql(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLUMETRACE_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("PLUMETRACE_DATABASE_URL", db_url)
    assert main(["db", "upgrade"]) == 0
    assert f"empty -> {head_revision()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["sites", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_bad_setting_is_one_line(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLUMETRACE_TOKEN_TTL_H", "abc")
    assert main(["sites", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: PLUMETRACE_TOKEN_TTL_H") and "\n" not in err


def test_ingest_audit_keeps_the_track_for_the_map(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    track = tmp_path / "track.csv"
    rows = ["time,lat,lon"] + [f"{10 * k},{31.80 - 0.002 * k},-106.45" for k in range(60)]
    track.write_text("\n".join(rows) + "\n")
    report = tmp_path / "audit.json"
    assert main(["audit", str(track), "--operator", "border-unit", "--out", str(report)]) == 0
    capsys.readouterr()
    args = ["ingest", "audit", str(report), "--flight", "flt-x"]
    assert main(args) == 2  # a new flight needs its platform and sensor
    assert "--platform" in capsys.readouterr().err
    assert main([*args, "--platform", "ac-9", "--sensor", "gps"]) == 0
    assert "1 incursion(s)" in capsys.readouterr().out
    assert main(args) == 0
    assert "already stored" in capsys.readouterr().out
    (tmp_path / "audit.geojson").unlink()
    assert main(args) == 2
    assert "audit.geojson" in capsys.readouterr().err
