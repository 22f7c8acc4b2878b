"""Kill tests: commands run as subprocesses; the figures are printed at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

_FIGURES: list[str] = []


@pytest.fixture
def figures() -> Iterator[list[str]]:
    """Lines a test records for the end-of-run summary (kills survived per command)."""
    yield _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("reliability: kills survived")
        for line in _FIGURES:
            terminalreporter.write_line(line)
