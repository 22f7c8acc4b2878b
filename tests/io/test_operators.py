from __future__ import annotations

from pathlib import Path

import pytest

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.operators import default_operators_file, read_operators


def test_the_packaged_file_has_the_demo_operators() -> None:
    ops = read_operators()
    assert ops["border-unit"].authorized == ("USA", "international")
    assert ops["partner-program"].authorized == ("USA", "MEX", "international")
    assert default_operators_file().name == "operators.toml"


def test_exclusions_are_read_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "nofly.geojson").write_text(
        '{"type": "Polygon", "coordinates": [[[-106.6, 31.8], [-106.3, 31.8], '
        "[-106.3, 31.9], [-106.6, 31.8]]]}"
    )
    (tmp_path / "ops.toml").write_text(
        '[operator.a]\nname = "A"\nauthorized = ["usa"]\nexclude = "nofly.geojson"\n'
    )
    op = read_operators(tmp_path / "ops.toml")["a"]
    assert op.authorized == ("USA",) and op.exclude is not None and op.include_extra is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[operator.a\n", "not valid TOML"),
        ("title = 1\n", "no [operator.<id>] tables"),
        ('[operator.a]\nauthorized = ["ATL"]\n', "'ATL' is not an ISO 3166-1 alpha-3 code"),
        ("[operator.a]\nauthorized = []\n", "authorized must be a non-empty list"),
        ('[operator.a]\nauthorized = ["USA"]\nwings = 2\n', "unknown key(s) wings"),
        ('[operator.a]\nauthorized = ["USA"]\nexclude = "missing.geojson"\n', "not found"),
    ],
)
def test_bad_operators_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ops.toml"
    path.write_text(text)
    with pytest.raises((FormatError, DataSourceError)) as err:
        read_operators(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_line_is_not_an_exclusion(tmp_path: Path) -> None:
    (tmp_path / "l.geojson").write_text('{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}')
    (tmp_path / "ops.toml").write_text(
        '[operator.a]\nauthorized = ["USA"]\nexclude = "l.geojson"\n'
    )
    with pytest.raises(FormatError, match="not a polygon"):
        read_operators(tmp_path / "ops.toml")


def test_missing_file() -> None:
    with pytest.raises(DataSourceError, match="operators file not found"):
        read_operators("/nonexistent/ops.toml")


def test_the_default_file_comes_from_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ops.toml").write_text('[operator.solo]\nauthorized = ["MEX"]\n')
    monkeypatch.setenv("PLUMETRACE_OPERATORS", str(tmp_path / "ops.toml"))
    assert list(read_operators()) == ["solo"]
