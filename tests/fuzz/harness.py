"""Run a reader on one fuzzed input, within bounds, and judge the outcome.

A reader given a malformed file must either return a result or raise a
:class:`~plumetrace.errors.PlumetraceError` whose message is one clear line that names
the file. Anything else (another exception, more than :data:`TIME_LIMIT_S` seconds, an
allocation beyond :data:`MEMORY_HEADROOM` bytes) is a bug in the reader.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from plumetrace.errors import DataSourceError, PlumetraceError
from tests.fuzz.samples import Variant

__all__ = [
    "MAX_MESSAGE",
    "MEMORY_HEADROOM",
    "TIME_LIMIT_S",
    "ReaderTimeout",
    "bounded",
    "check_error",
    "run_variant",
]

TIME_LIMIT_S = 5.0
"""Longest a reader may take on one input."""

MEMORY_HEADROOM = 3 * 2**30
"""Most address space a reader may add while reading one small input (bytes)."""

MAX_MESSAGE = 600
"""Longest acceptable error message, not counting the file name."""


class ReaderTimeout(BaseException):
    """A reader ran over :data:`TIME_LIMIT_S` (a BaseException: no reader may swallow it)."""


def _address_space() -> int:
    with Path("/proc/self/statm").open() as f:
        pages = int(f.read().split()[0])
    return pages * resource.getpagesize()


@contextlib.contextmanager
def bounded(
    seconds: float = TIME_LIMIT_S, headroom: int | None = MEMORY_HEADROOM
) -> Iterator[None]:
    """Interrupt the block after ``seconds`` and cap its address space growth.

    The time limit is a ``SIGALRM`` that raises :class:`ReaderTimeout` in the reader;
    the memory limit lowers ``RLIMIT_AS`` so that an oversized allocation fails with
    ``MemoryError`` (a test failure) instead of exhausting the machine.
    """

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise ReaderTimeout(f"the reader ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if headroom is not None:
        limit = _address_space() + headroom
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check_error(exc: PlumetraceError) -> None:
    """Assert that ``exc`` is one clear line (and names the file, for file errors)."""
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} with an empty message"
    assert "\n" not in text and "\r" not in text, f"multi-line message: {text[:300]!r}"
    if isinstance(exc, DataSourceError):
        assert exc.path is not None, f"the message does not name the file: {text[:300]!r}"
        size = len(exc.problem)
    else:
        size = len(text)
    assert size <= MAX_MESSAGE, f"message of {size} characters: {text[:300]!r}..."


def run_variant(variant: Variant, data: bytes, directory: Path | None = None) -> Any:
    """Write the variant's files with ``data`` as its main file, run the reader.

    Returns the reader's result, or the :class:`PlumetraceError` it raised (checked
    with :func:`check_error`). Any other exception propagates.
    """
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for name, content in variant.files().items():
            (directory / name).write_bytes(data if name == variant.main else content)
        try:
            return variant.read(directory)
        except PlumetraceError as exc:
            check_error(exc)
            return exc
