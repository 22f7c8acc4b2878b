"""``plumetrace backup`` / ``restore``: a restored store has the same data, intact audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from plumetrace.cli.app import main

SMALL = ["--sources", "8", "--passes", "4", "--reports", "5", "--seed", "3"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLUMETRACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLUMETRACE_DATABASE_URL", raising=False)
    return tmp_path / "home"


def _dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    out = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    conn.close()
    return out


def test_backup_restore_keeps_data_and_audit_chain(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "campaign", str(tmp_path / "camp"), *SMALL]) == 0
    assert main(["ingest", "campaign", str(tmp_path / "camp")]) == 0
    capsys.readouterr()
    assert main(["audit-log", "verify"]) == 0
    head = capsys.readouterr().out.split("head")[-1].split()[0]
    before = _dump(home / "plumetrace.db")
    assert len(before["sites"]) > 3
    assert main(["backup", str(tmp_path / "b.db")]) == 0
    # the store changes after the backup; restoring brings back the backed-up state
    assert main(["sim", "campaign", str(tmp_path / "camp2"), *SMALL[:-1], "4"]) == 0
    assert main(["ingest", "campaign", str(tmp_path / "camp2")]) == 0
    assert _dump(home / "plumetrace.db") != before
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "b.db")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "b.db"), "--force"]) == 0
    assert _dump(home / "plumetrace.db") == before
    capsys.readouterr()
    assert main(["audit-log", "verify", "--head", head]) == 0
    assert "intact" in capsys.readouterr().out


def test_restore_into_an_empty_home_and_errors(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", str(tmp_path / "b.db")]) == 2  # no store yet
    assert "no store" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert main(["backup", str(tmp_path / "b.db")]) == 0
    (home / "plumetrace.db").unlink()
    assert main(["restore", str(tmp_path / "b.db")]) == 0
    assert main(["audit-log", "verify"]) == 0
    (tmp_path / "junk.db").write_text("junk")
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "junk.db"), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1


def test_postgresql_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLUMETRACE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/x")
    for cmd in ("backup", "restore"):
        assert main([cmd, str(tmp_path / "b.db")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "pg_dump" in err and "docs/reliability.md" in err
