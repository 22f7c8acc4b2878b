"""Atomic file replacement: write beside the target, then ``os.replace``.

An existing good file is never lost: the new content goes to a temporary file in the
same directory (same file system, so the final rename is atomic) and replaces the target
only once it has been written completely. On any failure the temporary file is removed
and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from plumetrace.errors import DataSourceError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "discard",
    "ensure_dir",
    "make_temp_beside",
    "publish",
]

logger = logging.getLogger(__name__)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def make_temp_beside(path: Path, suffix: str = "") -> Path:
    """Create an empty temporary file in ``path``'s directory and return its path.

    The file gets the permissions a normally created file would have (``0o666`` less the
    umask), not ``mkstemp``'s private ``0o600``.

    Raises
    ------
    DataSourceError
        If the directory does not exist or is not writable.
    """
    parent = path.parent
    if not parent.is_dir():
        raise DataSourceError(path, f"cannot write: directory {parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=parent)
        os.close(fd)
        Path(name).chmod(0o666 & ~_UMASK)
    except OSError as exc:
        raise DataSourceError(path, f"cannot write: {exc.strerror or exc}") from exc
    return Path(name)


def discard(tmp: Path) -> None:
    """Remove a temporary file, ignoring a file that is already gone."""
    with contextlib.suppress(OSError):
        tmp.unlink()


def publish(tmp: Path, path: Path) -> None:
    """Move a completely written temporary file over ``path`` (atomic rename).

    Raises
    ------
    DataSourceError
        If the rename fails; the temporary file is removed.
    """
    try:
        tmp.replace(path)
    except OSError as exc:
        discard(tmp)
        raise DataSourceError(path, f"cannot write: {exc.strerror or exc}") from exc
    logger.debug("wrote %s", path)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The final file.
    suffix : str
        Extension for the temporary file (some writers choose a format by it).

    Raises
    ------
    DataSourceError
        If the directory is missing or an ``OSError`` occurs while writing; the original
        ``path`` is untouched and the temporary file removed.
    """
    target = Path(path)
    tmp = make_temp_beside(target, suffix)
    try:
        yield tmp
    except OSError as exc:
        discard(tmp)
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(target, f"cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, target)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def ensure_dir(path: str | Path) -> Path:
    """Create an output directory (and parents) or raise one clear :class:`DataSourceError`."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataSourceError(p, f"cannot create the output directory: {exc.strerror}") from exc
    return p
