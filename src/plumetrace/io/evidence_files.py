"""Content-addressed evidence files: the bytes of analysts' attachments.

A file is stored once under its SHA-256, at ``root/ab/abcdef…`` (the first two hex
digits name a sub-directory so no directory grows huge). Writes are atomic
(:mod:`plumetrace.io._atomic`): a reader never sees half a file, and storing the same
content twice writes nothing the second time. The database keeps only the metadata
(:class:`~plumetrace.store.models.Attachment`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from plumetrace.errors import InvalidParameterError, NotFoundError
from plumetrace.io._atomic import atomic_write_bytes, ensure_dir

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "check_evidence_size",
    "evidence_file_path",
    "store_evidence_file",
]

MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
"""Largest evidence file accepted (50 MB)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_evidence_size(size: int) -> None:
    """Refuse an evidence file larger than :data:`MAX_EVIDENCE_BYTES`.

    Raises
    ------
    InvalidParameterError
        If ``size`` exceeds the limit.
    """
    if size > MAX_EVIDENCE_BYTES:
        raise InvalidParameterError(
            f"evidence file is {size / 2**20:.1f} MB; the limit is {MAX_EVIDENCE_BYTES // 2**20} MB"
        )


def evidence_file_path(root: Path, sha256: str, *, must_exist: bool = False) -> Path:
    """Return where the evidence file with this SHA-256 lives under ``root``.

    Parameters
    ----------
    root : Path
        The evidence directory (:attr:`plumetrace.settings.Settings.evidence_dir`).
    sha256 : str
        64 lowercase hex digits; anything else is refused, so the path never leaves
        ``root``.
    must_exist : bool
        Raise if the file is not there.

    Raises
    ------
    InvalidParameterError
        If ``sha256`` is not a SHA-256 hex digest.
    NotFoundError
        If ``must_exist`` and the file is missing.
    """
    if not _SHA256.fullmatch(sha256):
        raise InvalidParameterError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    path = Path(root) / sha256[:2] / sha256
    if must_exist and not path.is_file():
        raise NotFoundError(f"no evidence file {sha256}")
    return path


def store_evidence_file(root: Path, data: bytes) -> str:
    """Store ``data`` content-addressed under ``root`` and return its SHA-256 (hex).

    Parameters
    ----------
    root : Path
        The evidence directory; created if missing.
    data : bytes
        At most :data:`MAX_EVIDENCE_BYTES`.

    Raises
    ------
    InvalidParameterError
        If ``data`` is larger than 50 MB.
    DataSourceError
        If the file cannot be written.
    """
    check_evidence_size(len(data))
    sha = hashlib.sha256(data).hexdigest()
    path = evidence_file_path(root, sha)
    if path.is_file() and path.stat().st_size == len(data):
        return sha
    ensure_dir(path.parent)
    atomic_write_bytes(path, data)
    return sha
