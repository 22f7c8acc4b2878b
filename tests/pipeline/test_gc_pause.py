"""The collector pause of batch jobs: nested, overlapping across threads, restored."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumetrace.errors import PlumetraceError
from plumetrace.pipeline.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_nested_pauses_end_with_the_outermost() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_ends_the_pause() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads() -> None:
    """Thread A pauses, B pauses, A ends: still paused until B ends."""
    a_in, b_in, a_out, b_may_end = (threading.Event() for _ in range(4))

    def a() -> None:
        with gc_paused():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with gc_paused():
            b_in.set()
            b_may_end.wait(5)

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    assert a_out.wait(5)
    assert not gc.isenabled()  # B is still inside
    b_may_end.set()
    ta.join(5)
    tb.join(5)
    assert gc.isenabled()


def test_a_failed_ingest_leaves_the_collector_on(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from plumetrace.pipeline.ingest import ingest_detections_file
    from plumetrace.store.engine import make_engine
    from plumetrace.store.ingest import FlightSpec
    from plumetrace.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(engine)
    bad = tmp_path / "plumes.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    with pytest.raises(PlumetraceError):
        ingest_detections_file(
            engine,
            bad,
            time=datetime(2026, 1, 1, tzinfo=UTC),
            flight=FlightSpec("flt-1", "border-unit", "ac-1", "aviris-ng"),
            actor="test",
        )
    assert gc.isenabled()
    engine.dispose()
