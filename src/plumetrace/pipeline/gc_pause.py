"""Pause Python's cyclic garbage collector for the length of one bounded batch job.

An ingest of 10,000 detections allocates millions of short-lived objects (rows read back
from the database, per-site dictionaries, JSON documents). Each 700 net allocations
start a young-generation collection and every tenth of those an older one that walks
every object the process holds; on a team-sized store that was ~6 % of an ingest's time
(``benchmarks/RESULTS.md``, store section). Reference counting still frees almost all
of those objects at once; the few cycles a batch makes wait for the next collection,
which runs as soon as the outermost pause ends.

Pauses nest and may overlap across threads (the API runs ingests in worker threads):
the collector comes back on when the last one ends, and only if it was on when the
first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (see the module's notes)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
