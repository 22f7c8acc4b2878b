from __future__ import annotations

import pytest

from plumetrace.sim import SceneInputs


@pytest.fixture(scope="session")
def avirisng_inputs() -> SceneInputs:
    return SceneInputs.packaged("aviris-ng")


@pytest.fixture(scope="session")
def emit_inputs() -> SceneInputs:
    return SceneInputs.packaged("emit")
