"""Reading partners files and policy files (TOML)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.partners import PartnerSpec, read_partners, read_policy
from plumetrace.share.policy import ReleasePolicy, Timeline

EXAMPLE = """
[[partner]]
name = "Fiscalia  General"
country = "mx"
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
"""


def _write(tmp_path: Path, text: str, name: str = "partners.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_documented_example(tmp_path: Path) -> None:
    specs = read_partners(_write(tmp_path, EXAMPLE))
    assert specs == [
        PartnerSpec(
            "Fiscalia General",
            "MX",
            ReleasePolicy(
                tlp="amber",
                release=frozenset({"sensor"}),
                field_tlp={"advisory": "amber+strict"},
                timeline=Timeline(3, 30, 60),
                cot_stale_hours=24,
            ),
        ),
        PartnerSpec("Other Agency", "", ReleasePolicy()),
    ]
    # nothing released unless listed
    assert specs[1].policy.release == frozenset()


def test_reads_a_policy_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[policy]\ntlp = "green"\nrelease = ["platform", "method"]\n')
    policy = read_policy(path)
    assert policy.tlp == "green" and policy.release == {"platform", "method"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[partner]\nname = 1", "not valid TOML"),
        ("", "no [[partner]] tables"),
        ('[partner]\nname = "A"', "array of tables"),
        ('[[partner]]\ncountry = "MX"', "name must be a non-empty string"),
        ('[[partner]]\nname = "A"\ncolour = "red"', "unknown key(s) colour"),
        ('[[partner]]\nname = "A"\ncountry = "Mexico"', "ISO 3166"),
        ('[[partner]]\nname = "A"\n[partner.policy]\ntlp = "purple"', "unknown TLP level"),
        ('[[partner]]\nname = "A"\n[partner.policy]\nrelease = ["secrets"]', "categories"),
        ('[[partner]]\nname = "A"\n[partner.policy]\nembargo = 1', "unknown policy keys"),
        ('[[partner]]\nname = "A"\n[partner.policy]\ncot_stale_hours = inf', "finite"),
        ('[[partner]]\nname = "A"\n[partner.policy.field_tlp]\ntitle = "red"', "field_tlp"),
        (
            '[[partner]]\nname = "A"\n[partner.policy.timeline]\nverify_days = -1',
            "verify_days must be a positive",
        ),
        ('[[partner]]\nname = "A"\n[[partner]]\nname = "a"', "listed twice"),
        ('[policy]\ntlp = "red"', "a policy file?"),
    ],
)
def test_bad_partners_file_is_one_line_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(FormatError) as info:
        read_partners(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[partner]]\nname = "A"', "a partners file?"),
        ('tlp = "red"', "unknown top-level key(s) tlp"),
        ("", "no [policy] table"),
        ('[policy]\ntlp = "white-ish"', "unknown TLP level"),
    ],
)
def test_bad_policy_file(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, text, "policy.toml")
    with pytest.raises(FormatError) as info:
        read_policy(path)
    assert str(path) in str(info.value) and problem in str(info.value)


def test_missing_or_undecodable_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="partners file not found"):
        read_partners(tmp_path / "nope.toml")
    with pytest.raises(DataSourceError, match="is a directory"):
        read_partners(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[partner]]\nname = "Fiscal\xeda"\n')
    with pytest.raises(FormatError, match="not a UTF-8"):
        read_partners(bad)
