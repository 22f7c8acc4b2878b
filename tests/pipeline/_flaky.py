"""A block retrieval that fails once per scene (a transient fault), for the retry tests.

Importable by Dask workers (they inherit the test process's ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

from plumetrace.pipeline.detect import BlockResult, DetectOptions, ScenePlan, retrieve_block


def fail_once(plan: ScenePlan, c0: int, c1: int, options: DetectOptions) -> BlockResult:
    """Raise the first time a scene's first block is tried, then retrieve normally."""
    mark = Path(plan.path).with_suffix(".failed-once")
    if c0 == 0 and not mark.exists():
        mark.write_text("x")
        raise OSError("transient: the file server went away")
    return retrieve_block(plan, c0, c1, options)


def always_fail(plan: ScenePlan, c0: int, c1: int, options: DetectOptions) -> BlockResult:
    """Fail every attempt of the scenes whose file name starts with ``bad``."""
    if Path(plan.path).parent.name.startswith("bad"):
        raise OSError(f"{plan.path}: unreadable block at column {c0}")
    return retrieve_block(plan, c0, c1, options)
