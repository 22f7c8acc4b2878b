"""Atomic file replacement: write beside the target, then ``os.replace``.

An existing good file is never lost: the new content goes to a temporary file in the
same directory (same file system, so the final rename is atomic) and replaces the target
only once it has been written completely. On any failure the temporary file is removed
and the target is left as it was.

A process killed outright (``SIGKILL``, power loss) cannot remove its temporary file, so
the name records the writer's process id (``.NAME.PID.RANDOM.tmp``): the next write of the
same target removes the leftovers of writers that are no longer running, and a re-run of
an interrupted job leaves exactly the files an uninterrupted run would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
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
    "remove_stale_temps",
]

logger = logging.getLogger(__name__)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (one we may not signal counts as alive)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_temps(path: Path, suffix: str = "") -> list[Path]:
    """Remove temporary files of ``path`` left behind by writers that no longer run.

    Only names of the exact form :func:`make_temp_beside` creates for this target and
    suffix are considered, and only when the process id they record is gone. Returns the
    files removed.
    """
    pattern = re.compile(
        rf"\.{re.escape(path.name)}\.(\d+)\.[a-z0-9_]{{8}}\.tmp{re.escape(suffix)}"
    )
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            Path(entry.path).unlink()
            removed.append(Path(entry.path))
            logger.info("removed %s, left by an interrupted writer", entry.path)
    return removed


def make_temp_beside(path: Path, suffix: str = "") -> Path:
    """Create an empty temporary file in ``path``'s directory and return its path.

    The file gets the permissions a normally created file would have (``0o666`` less the
    umask), not ``mkstemp``'s private ``0o600``. Its name records this process's id;
    leftovers of earlier writers of the same target that were killed are removed first
    (:func:`remove_stale_temps`).

    Raises
    ------
    DataSourceError
        If the directory does not exist or is not writable.
    """
    parent = path.parent
    if not parent.is_dir():
        raise DataSourceError(path, f"cannot write: directory {parent} does not exist")
    remove_stale_temps(path, suffix)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=parent
        )
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
