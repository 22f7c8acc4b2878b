"""Property tests: every reader, given a mutated valid file, returns or raises cleanly.

The number of examples per parser is ``PLUMETRACE_FUZZ_EXAMPLES`` (default 60); the runs
are derandomized so that CI is reproducible. See docs/fuzzing.md.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumetrace.errors import PlumetraceError
from tests.fuzz.harness import bounded, run_variant
from tests.fuzz.samples import PARSERS, Variant
from tests.fuzz.strategies import mutated

EXAMPLES = int(os.environ.get("PLUMETRACE_FUZZ_EXAMPLES", "60"))

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the 5 s bound is a SIGALRM in harness.bounded, which also stops hangs
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VARIANTS = [(p.name, v) for p in PARSERS.values() for v in p.variants]


@pytest.mark.parametrize(
    ("parser", "variant"), VARIANTS, ids=[f"{p}-{v.name}" for p, v in VARIANTS]
)
def test_the_valid_samples_read(parser: str, variant: Variant) -> None:
    with bounded():
        result = run_variant(variant, variant.files()[variant.main])
    assert not isinstance(result, PlumetraceError), str(result)


def _fuzz(parser: str, data: st.DataObject) -> None:
    p = PARSERS[parser]
    variant = data.draw(st.sampled_from(p.variants), label="variant")
    blob = data.draw(mutated(variant.files()[variant.main], text=p.text), label="input")
    with bounded():
        run_variant(variant, blob)


PARSER_PARAMS = sorted(PARSERS)


@pytest.mark.parametrize("parser", PARSER_PARAMS)
@fuzz_settings
@given(data=st.data())
def test_mutated_files_fail_cleanly(parser: str, data: st.DataObject) -> None:
    _fuzz(parser, data)
