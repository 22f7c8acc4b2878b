"""Shared driver of the atheris targets ``fuzz/fuzz_<parser>.py`` (see docs/fuzzing.md).

Each target feeds libFuzzer's inputs to one parser of ``tests/fuzz/samples.py``: the
first byte picks the variant (e.g. an ENVI image's header or its data file), the rest
replaces that file. A :class:`~plumetrace.errors.PlumetraceError` with a clear message
is the expected outcome of a malformed input; any other exception is reported by
atheris as a crash. Hangs and memory blow-ups are caught by libFuzzer's ``-timeout``
and ``-rss_limit_mb``, which default here to 5 s and 2048 MB.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.fuzz.samples
sys.path.insert(0, str(REPO / "src"))

DEFAULT_FLAGS = ("-timeout=5", "-rss_limit_mb=2048")


def seed_corpus(parser: str, directory: Path) -> None:
    """Write the valid samples of ``parser`` as a seed corpus (one file per variant)."""
    from tests.fuzz.samples import PARSERS

    directory.mkdir(parents=True, exist_ok=True)
    for k, variant in enumerate(PARSERS[parser].variants):
        data = bytes([k]) + variant.files()[variant.main]
        (directory / f"{variant.name}.seed").write_bytes(data)


def main(parser: str) -> None:
    """Fuzz ``parser`` with atheris; pass libFuzzer flags and corpus directories."""
    import atheris

    with atheris.instrument_imports(include=["plumetrace"]):
        import plumetrace.io  # noqa: F401  (instrumented for coverage)
        from plumetrace.io import (  # noqa: F401
            audit_files,
            context,
            evidence,
            maritime,
            operators,
            partners,
            points,
            readings,
            tracks,
            wind,
        )

    from tests.fuzz.harness import run_variant
    from tests.fuzz.samples import PARSERS

    logging.disable(logging.CRITICAL)  # the readers' warnings about odd input
    variants = PARSERS[parser].variants
    for variant in variants:
        variant.files()  # build the samples before fuzzing starts
    workdir = Path(tempfile.mkdtemp(prefix=f"fuzz-{parser}-"))

    def one_input(data: bytes) -> None:
        if not data:
            return
        variant = variants[data[0] % len(variants)]
        run_variant(variant, data[1:], workdir)  # PlumetraceError: checked and returned

    argv = list(sys.argv)
    for flag in DEFAULT_FLAGS:
        if not any(a.startswith(flag.split("=")[0] + "=") for a in argv):
            argv.append(flag)
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
