"""The review queue's total: exact while small, recounted at most once a second when large."""

from __future__ import annotations

import time

from plumetrace.api.routes.sites import RecentCounts


def test_small_counts_are_always_exact_large_ones_are_kept_briefly() -> None:
    calls: list[int] = []

    def count(n: int) -> int:
        calls.append(n)
        return n

    counts = RecentCounts(max_age_s=0.2, exact_below=100)
    assert counts.get(("a",), lambda: count(5)) == 5
    assert counts.get(("a",), lambda: count(6)) == 6  # small: recounted every time
    assert counts.get(("b",), lambda: count(500)) == 500
    assert counts.get(("b",), lambda: count(501)) == 500  # large: kept
    assert counts.get(("c",), lambda: count(700)) == 700  # another key, its own count
    time.sleep(0.25)
    assert counts.get(("b",), lambda: count(502)) == 502  # too old: recounted
    assert counts.get(("b",), lambda: count(3)) == 502
    assert calls == [5, 6, 500, 700, 502]
