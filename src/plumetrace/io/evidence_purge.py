"""Delete evidence files that nothing references any more (after a retention purge)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from plumetrace.errors import DataSourceError
from plumetrace.io.evidence_files import evidence_file_path

__all__ = ["remove_evidence_files"]


def remove_evidence_files(root: Path, shas: Iterable[str]) -> int:
    """Delete the content-addressed files ``shas`` under ``root``; return how many were there.

    Missing files are fine (already gone); an empty fan-out directory is removed too.

    Raises
    ------
    DataSourceError
        If a file exists but cannot be deleted.
    """
    removed = 0
    for sha in shas:
        path = evidence_file_path(root, sha)
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DataSourceError(path, f"cannot be deleted: {exc.strerror or exc}") from None
        with contextlib.suppress(OSError):  # not empty: other files share the directory
            path.parent.rmdir()
    return removed
