"""``plumetrace partners`` and ``plumetrace leads`` end to end on the embedded SQLite store."""

from __future__ import annotations

import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from plumetrace import security
from plumetrace.cli.app import main
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.models import Site, User
from plumetrace.store.users import find_user
from plumetrace.store.workflow import review

LON0, LAT0 = -106.45, 31.75

PARTNERS_TOML = """
[[partner]]
name = "Fiscalia General"
country = "MX"
[partner.policy]
tlp = "amber"
release = ["sensor"]
cot_stale_hours = 24
[partner.policy.field_tlp]
advisory = "amber+strict"
[partner.policy.timeline]
acknowledge_days = 3
feedback_days = 30
verify_days = 60

[[partner]]
name = "Other Agency"
country = "GT"
"""


@dataclass
class Store:
    home: Path
    engine: sa.Engine
    site: str


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash the users' one-time passwords with cheap Argon2 parameters."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def _det(key: str, x: float, y: float) -> DetectionRecord:
    _fwd, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, y)
    return DetectionRecord(key, "plume", float(lat), float(lon), 20.0, 50.0, 35.0, 65.0, 0.8)


def _ingest(engine: sa.Engine, flight: str, time: datetime, *dets: DetectionRecord) -> list[str]:
    with session_scope(engine, write=True) as s:
        r = ingest_detections(
            s,
            FlightSpec(flight, operator="border-unit", platform="ac-1", sensor="aviris-ng"),
            list(dets),
            time=time,
            actor="test",
            source="t",
        )
    return sorted(r.sites_created)


def _ok(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that must succeed; return its stdout."""
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that must fail with exit code 2 and one line on stderr; return it."""
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Store]:
    """Partners loaded from TOML, one user per role, and one confirmed site."""
    home = tmp_path / "home"
    monkeypatch.setenv("PLUMETRACE_HOME", str(home))
    monkeypatch.delenv("PLUMETRACE_DATABASE_URL", raising=False)
    partners = tmp_path / "partners.toml"
    partners.write_text(PARTNERS_TOML, encoding="utf-8")
    out = _ok(["partners", "load", str(partners)], capsys)
    assert "added partner-fiscalia-general" in out and "added partner-other-agency" in out
    for name, role in [("ana", "analyst"), ("lia", "liaison"), ("sue", "supervisor")]:
        _ok(["users", "add", name, "--role", role], capsys)
    _ok(["users", "add", "pat", "--role", "partner", "--partner", "Fiscalia General"], capsys)
    engine = make_engine(f"sqlite:///{home / 'plumetrace.db'}")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    (site,) = _ingest(engine, "flt-1", t0, _det("p1", 0, 0))
    with session_scope(engine, write=True) as s:
        version = s.scalar(sa.select(Site.version).where(Site.id == site))
        review(s, site, "confirm", by=find_user(s, "ana"), expected_version=version)
    yield Store(home, engine, site)
    engine.dispose()


def _draft(store: Store, capsys: pytest.CaptureFixture[str], user: str = "lia") -> str:
    out = _ok(
        [
            "leads",
            "draft",
            "--partner",
            "Fiscalia General",
            "--site",
            store.site,
            "--title",
            "Suspected lab east of the river",
            "--summary",
            "Repeated methane plumes; ana confirmed.",
            "--internal-note",
            "source: border-unit flight flt-1",
            "--user",
            user,
        ],
        capsys,
    )
    lead_id = out.strip().splitlines()[-1]
    assert lead_id.startswith("lead-")
    return lead_id


def _lead_row(lead_id: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    rows = json.loads(_ok(["leads", "list", "--json"], capsys))
    (row,) = [r for r in rows if r["id"] == lead_id]
    return dict(row)


def test_partners_load_list_show_update_and_bad_files(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads(_ok(["partners", "list", "--json"], capsys))
    assert [r["name"] for r in rows] == ["Fiscalia General", "Other Agency"]
    fiscalia = rows[0]
    assert fiscalia["country"] == "MX" and fiscalia["policy"]["release"] == ["sensor"]
    assert fiscalia["policy"]["field_tlp"] == {"advisory": "amber+strict"}
    assert rows[1]["policy"]["release"] == []  # nothing released unless listed
    assert "partner-other-agency" in _ok(["partners", "list"], capsys)
    shown = json.loads(_ok(["partners", "show", "partner-fiscalia-general", "--json"], capsys))
    assert shown["leads"] == {"draft": 0, "released": 0}
    assert "releases sensor" in _ok(["partners", "show", "Fiscalia General"], capsys)
    # loading again: unchanged; a changed policy updates the existing partner
    again = tmp_path / "again.toml"
    again.write_text(
        PARTNERS_TOML.replace('release = ["sensor"]', 'release = ["sensor", "platform"]'),
        encoding="utf-8",
    )
    out = _ok(["partners", "load", str(again)], capsys)
    assert "updated the policy of partner-fiscalia-general" in out
    assert "unchanged partner-other-agency" in out
    shown = json.loads(_ok(["partners", "show", "Fiscalia General", "--json"], capsys))
    assert shown["policy"]["release"] == ["platform", "sensor"]
    # add one partner with a policy file
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\ntlp = "green"\n', encoding="utf-8")
    out = _ok(
        ["partners", "add", "Policia Nacional", "--country", "CO", "--policy", str(policy)], capsys
    )
    assert "partner-policia-nacional" in out and "TLP:GREEN" in out
    assert "already exists" in _fails(["partners", "add", "Policia Nacional"], capsys)
    assert "no partner" in _fails(["partners", "show", "partner-nope"], capsys)
    # bad files: one line naming the file, exit 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[[partner]]\nname = "X"\ncountry = MX\n', encoding="utf-8")
    err = _fails(["partners", "load", str(bad)], capsys)
    assert str(bad) in err and "not valid TOML" in err
    bad.write_text('[[partner]]\nname = "X"\n[partner.policy]\ntlp = "purple"\n')
    err = _fails(["partners", "load", str(bad)], capsys)
    assert str(bad) in err and "unknown TLP level" in err
    err = _fails(["partners", "add", "Y", "--policy", str(bad)], capsys)
    assert str(bad) in err and "partners file?" in err
    bad.write_text(PARTNERS_TOML + '\n[[partner]]\nname = "Z"\ncountry = "Z1"\n')
    err = _fails(["partners", "load", str(bad)], capsys)
    assert str(bad) in err and "partner 3 ('Z'): country" in err
    # all or nothing: a clash on the second partner leaves the first one out too
    bad.write_text('[[partner]]\nname = "New One"\n[[partner]]\nname = "Fiscalia-General"\n')
    assert "already exists" in _fails(["partners", "load", str(bad)], capsys)
    assert len(json.loads(_ok(["partners", "list", "--json"], capsys))) == 3


def test_full_flow_draft_release_export_respond(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = _draft(store, capsys)
    row = _lead_row(lead_id, capsys)
    assert row["status"] == "draft" and row["state"] == "draft" and row["tlp"] == "amber"
    assert row["partner"] == "partner-fiscalia-general" and row["released"] is None
    assert row["title"] == "Suspected lab east of the river"
    assert lead_id in _ok(["leads", "list", "--status", "draft"], capsys)

    # release review: what would leave, and what redaction removed
    preview = json.loads(_ok(["leads", "preview", lead_id, "--json", "--user", "sue"], capsys))
    site = preview["lead"]["sites"][0]
    assert store.site not in json.dumps(preview["lead"])  # the internal id stays home
    assert "border-unit flight" not in json.dumps(preview["lead"])  # internal note too
    assert any("aviris-ng" in c for c in site["collection"])  # sensor is released
    assert not any("ac-1" in c for c in site["collection"])  # platform is not
    assert preview["redaction"]["withheld"]
    text = _ok(["leads", "preview", lead_id], capsys)
    assert "redaction: withheld" in text and site["uid"] in text

    # a draft does not leave; the supervisor approves
    assert "not released" in _fails(
        ["leads", "export", lead_id, "--format", "stix", "--out", str(tmp_path / "x.json")],
        capsys,
    )
    assert not (tmp_path / "x.json").exists()
    assert "only released leads" in _fails(
        ["leads", "record", lead_id, "--kind", "acknowledged", "--user", "lia"], capsys
    )
    assert "released" in _ok(["leads", "approve", lead_id, "--user", "sue"], capsys)
    assert "not a draft" in _fails(["leads", "approve", lead_id, "--user", "sue"], capsys)
    row = _lead_row(lead_id, capsys)
    assert row["status"] == "released" and row["state"] == "notified" and row["released"]
    shown = json.loads(_ok(["leads", "show", lead_id, "--json"], capsys))
    released = shown["release"]
    assert released["sites"][0]["uid"] == site["uid"] and shown["events"][0]["kind"] == "released"

    # exports: exactly what was released
    out = {fmt: tmp_path / f"lead.{fmt}" for fmt in ("stix", "geojson", "kml", "cot")}
    for fmt, path in out.items():
        _ok(["leads", "export", lead_id, "--format", fmt, "--out", str(path)], capsys)
    from stix2validator import validate_file  # slow to import: only here

    result = validate_file(str(out["stix"]))
    assert result.is_valid, [str(e) for e in result.errors]
    bundle = json.loads(out["stix"].read_text())
    assert bundle["type"] == "bundle" and store.site not in out["stix"].read_text()
    assert lead_id in out["stix"].read_text()
    geo = json.loads(out["geojson"].read_text())
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 1
    lon, lat = geo["features"][0]["geometry"]["coordinates"][:2]
    assert (lat, lon) == pytest.approx((released["sites"][0]["lat"], released["sites"][0]["lon"]))
    kml = ET.parse(out["kml"]).getroot()
    assert kml.tag.endswith("kml") and any(e.tag.endswith("Placemark") for e in kml.iter())
    cot = out["cot"].read_bytes()
    assert cot.count(b"<event ") == 1 and site["uid"].encode() in cot
    assert "--format must be one of" in _fails(
        ["leads", "export", lead_id, "--format", "pdf", "--out", str(tmp_path / "x")], capsys
    )

    # responses: the partner acknowledges, the liaison records feedback
    ack = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out_ack = _ok(
        ["leads", "record", lead_id, "--kind", "acknowledged", "--user", "pat", "--time", ack],
        capsys,
    )
    assert "now acknowledged" in out_ack
    assert "needs an outcome" in _fails(
        ["leads", "record", lead_id, "--kind", "feedback", "--user", "lia"], capsys
    )
    assert "not ISO 8601" in _fails(
        ["leads", "record", lead_id, "--kind", "action", "--user", "lia", "--time", "soon"],
        capsys,
    )
    _ok(
        [
            "leads",
            "record",
            lead_id,
            "--kind",
            "feedback",
            "--user",
            "lia",
            "--outcome",
            "dismantled",
            "--text",
            "Lab dismantled by the state police.",
        ],
        capsys,
    )
    row = _lead_row(lead_id, capsys)
    assert row["state"] == "feedback" and row["outcome"] == "dismantled"
    assert "Lab dismantled" in _ok(["leads", "show", lead_id], capsys)

    # metrics: each lead's id and state
    metrics = json.loads(_ok(["leads", "metrics", "--json"], capsys))
    assert {"id": lead_id, "state": "feedback"}.items() <= metrics["leads"][0].items()
    fiscalia = metrics["partners"]["partner-fiscalia-general"]
    assert fiscalia["released"] == 1 and fiscalia["acknowledged"] == 1
    assert fiscalia["response_rate"] == 1.0 and fiscalia["overdue"] == 0
    table = _ok(["leads", "metrics"], capsys)
    assert "partner-fiscalia-general" in table and "no overdue leads" in table
    assert "0 leads verified" in _ok(["leads", "verify"], capsys)
    shown = json.loads(_ok(["partners", "show", "Fiscalia General", "--json"], capsys))
    assert shown["leads"] == {"draft": 0, "released": 1}


def test_push_then_action_and_resurvey_verifies(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = _push(store, capsys)
    acted = datetime.now(UTC) - timedelta(seconds=30)
    when = acted.strftime("%Y-%m-%dT%H:%M:%SZ")
    _ok(["leads", "record", lead_id, "--kind", "action", "--user", "lia", "--time", when], capsys)
    # a later pass sees the emission again
    _ingest(store.engine, "flt-2", acted + timedelta(seconds=20), _det("q1", 5, 5))
    verified = json.loads(_ok(["leads", "verify", "--json"], capsys))
    assert [(v["id"], v["verification"]) for v in verified] == [(lead_id, "still-emitting")]
    assert _lead_row(lead_id, capsys)["state"] == "verified"
    metrics = json.loads(_ok(["leads", "metrics", "--json"], capsys))
    assert metrics["leads"][0]["state"] == "verified"


def test_two_person_rule_roles_and_unknown_leads(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    lead_id = _draft(store, capsys)
    assert "liaison role may not" in _fails(["leads", "approve", lead_id, "--user", "lia"], capsys)
    assert "analyst role may not" in _fails(["leads", "approve", lead_id, "--user", "ana"], capsys)
    assert "analyst role may not" in _draft_fails(store, "ana", capsys)
    # the drafter, since promoted to supervisor, still cannot approve their own lead
    with session_scope(store.engine, write=True) as s:
        s.execute(sa.update(User).where(User.name == "lia").values(role="supervisor"))
    err = _fails(["leads", "approve", lead_id, "--user", "lia"], capsys)
    assert "two-person rule" in err
    assert "no user" in _fails(["leads", "approve", lead_id, "--user", "zed"], capsys)
    # a supervisor sends it back instead
    assert "say why" in _fails(["leads", "return", lead_id, "--user", "sue", "--note", " "], capsys)
    _ok(["leads", "return", lead_id, "--user", "sue", "--note", "Add the advisory."], capsys)
    shown = json.loads(_ok(["leads", "show", lead_id, "--json"], capsys))
    assert shown["status"] == "draft" and shown["events"][-1]["text"] == "Add the advisory."
    _unknown_lead_and_bad_options(store, capsys)


_DRAFT_OTHER = ["leads", "draft", "--partner", "Other Agency", "--site"]


def _draft_fails(store: Store, user: str, capsys: pytest.CaptureFixture[str]) -> str:
    return _fails(
        [*_DRAFT_OTHER, store.site, "--title", "T", "--user", user],
        capsys,
    )


def _unknown_lead_and_bad_options(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["leads", "show", "lead-nope"],
        ["leads", "preview", "lead-nope"],
        ["leads", "approve", "lead-nope", "--user", "sue"],
        ["leads", "export", "lead-nope", "--format", "kml", "--out", str(store.home / "x.kml")],
        ["leads", "push", "lead-nope", "--cot-url", "tcp://127.0.0.1:9"],
    ):
        assert "no lead 'lead-nope'" in _fails(args, capsys)
    assert "--status must be" in _fails(["leads", "list", "--status", "open"], capsys)
    assert json.loads(_ok(["leads", "list", "--json", "--status", "released"], capsys)) == []
    assert "no partner" in _fails(["leads", "list", "--partner", "Nobody"], capsys)
    # only confirmed sites become leads
    _ok(["users", "add", "max", "--role", "liaison"], capsys)
    (candidate,) = _ingest(store.engine, "flt-3", datetime.now(UTC), _det("c1", 9000, 0))
    err = _fails(
        [*_DRAFT_OTHER, candidate, "--title", "T", "--user", "max"],
        capsys,
    )
    assert "only confirmed sites" in err


def _push(store: Store, capsys: pytest.CaptureFixture[str]) -> str:
    """Release a lead and push its CoT events to a local TCP server; return its id."""
    lead_id = _draft(store, capsys)
    assert "not released" in _fails(
        ["leads", "push", lead_id, "--cot-url", "tcp://127.0.0.1:9"], capsys
    )
    _ok(["leads", "approve", lead_id, "--user", "sue"], capsys)
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                while chunk := conn.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        out = _ok(["leads", "push", lead_id, "--cot-url", f"tcp://127.0.0.1:{port}"], capsys)
        thread.join(10)
    assert "pushed 1 CoT events" in out
    assert received.count(b"<event ") == 1 and b"a-u-G" in received
    assert "cert, key, cafile and insecure apply to tls://" in _fails(
        ["leads", "push", lead_id, "--cot-url", "tcp://127.0.0.1:9", "--insecure"], capsys
    )
    return lead_id
