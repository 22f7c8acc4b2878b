"""Which scenes a batch processes: paths, globs, directories and STAC catalogs.

Each scene gets a name (its output sub-folder and its flight id in the store) and,
where it can be known, its acquisition time: the STAC item's ``datetime``, the file's
own metadata (ENVI ``acquisition time``, netCDF ``time_coverage_start``), or the
sensor's file-naming convention (AVIRIS-NG ``angYYYYMMDDtHHMMSS``, AVIRIS-3
``AV3YYYYMMDDtHHMMSS``, EMIT ``..._YYYYMMDDTHHMMSS_...``) in the file's name or,
failing that, its folder's.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.io.envi_files import DATA_EXTENSIONS, find_envi_pair
from plumetrace.io.radiance import NETCDF_EXTENSIONS, open_radiance
from plumetrace.io.stac import is_stac_file, read_stac_radiance

__all__ = ["SceneInput", "resolve_scenes", "scene_name", "time_from_name"]

_GLOB_CHARS = frozenset("*?[")
_NAME_TIME = (
    # AVIRIS-NG / AVIRIS-3 flight lines: ang20191018t141549, AV320230915t182453
    re.compile(r"(?:ang|av3)(\d{8})t(\d{6})", re.IGNORECASE),
    # EMIT granules and generic ISO basic stamps: 20220815T042838
    re.compile(r"(?<!\d)(\d{8})T(\d{6})(?!\d)"),
)


@dataclass(frozen=True)
class SceneInput:
    """One scene of a batch.

    Attributes
    ----------
    name : str
        Output sub-folder and flight id.
    path : Path
        The radiance file as given (ENVI header or data file, or netCDF).
    time : datetime or None
        Acquisition time, UTC; None if nothing says.
    time_source : str
        ``"stac"``, ``"metadata"``, ``"name"``, ``"option"`` or ``"unknown"``.
    stac_item : str or None
        The STAC item the scene came from.
    """

    name: str
    path: Path
    time: datetime | None
    time_source: str
    stac_item: str | None = None


def scene_name(path: Path) -> str:
    """Return the scene's name: the file name without its radiance extension."""
    name = path.name
    for ext in (".hdr", *NETCDF_EXTENSIONS, *DATA_EXTENSIONS):
        if ext and name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def time_from_name(name: str) -> datetime | None:
    """Return the acquisition time in a sensor's file-naming convention, UTC; None if none."""
    for pattern in _NAME_TIME:
        m = pattern.search(name)
        if m:
            try:
                return datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(
                    tzinfo=UTC
                )
            except ValueError:
                continue
    return None


def _is_radiance(p: Path) -> bool:
    s = p.suffix.lower()
    return s == ".hdr" or s in NETCDF_EXTENSIONS


def _expand(arg: str) -> list[tuple[Path, datetime | None, str | None, str | None]]:
    """(path, stac time, stac item href, stac item id) of one command-line argument."""
    p = Path(arg)
    if p.is_dir():
        found = sorted(f for f in p.iterdir() if f.is_file() and _is_radiance(f))
        if not found:
            raise DataSourceError(p, "no radiance files (.hdr, .nc) in this directory")
        return [(f, None, None, None) for f in found]
    if is_stac_file(p):
        return [(s.path, s.time, s.item_href, s.item_id) for s in read_stac_radiance(p)]
    if not p.exists() and _GLOB_CHARS & set(arg):
        matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))  # noqa: PTH207
        files = [m for m in matches if m.is_file() and _is_radiance(m)]
        if not files:
            raise DataSourceError(p, "the pattern matches no radiance files (.hdr, .nc)")
        return [(f, None, None, None) for f in files]
    if not p.exists():
        raise DataSourceError(p, "file not found")
    return [(p, None, None, None)]


def resolve_scenes(
    args: Sequence[str], *, time: datetime | None = None, read_metadata: bool = True
) -> list[SceneInput]:
    """Return the scenes named by ``args``, in order, each once, with names and times.

    Parameters
    ----------
    args : sequence of str
        Radiance files, glob patterns (``**`` recurses), directories (their ``.hdr``
        and ``.nc`` files) or STAC catalog / collection / item JSON files.
    time : datetime, optional
        The acquisition time of scenes that carry none of their own.
    read_metadata : bool
        Open each file's header for its acquisition time (cheap: no pixels are read).

    Raises
    ------
    InvalidParameterError
        If nothing is given, or two different scenes would share a name (one output
        sub-folder, one flight id).
    DataSourceError, FormatError
        If an argument does not exist or a STAC file cannot be read.
    """
    if not args:
        raise InvalidParameterError("no scenes given")
    found: dict[Path, tuple[Path, datetime | None, str | None, str | None]] = {}
    for arg in args:
        for entry in _expand(arg):
            found.setdefault(_key(entry[0]), entry)
    names = _names([(e[0], e[3]) for e in found.values()])
    out = []
    for (path, stac_time, item_href, _item_id), name in zip(found.values(), names, strict=True):
        when, source = stac_time, "stac" if stac_time is not None else "unknown"
        if when is None and read_metadata:
            when = _metadata_time(path)
            source = "metadata" if when is not None else source
        if when is None:
            when = time_from_name(path.name) or time_from_name(path.resolve().parent.name)
            source = "name" if when is not None else source
        if when is None and time is not None:
            when, source = time, "option"
        out.append(SceneInput(name, path, when, source, item_href))
    return out


def _key(path: Path) -> Path:
    """Return what identifies a scene: an ENVI image's header (given as header or data file)."""
    if path.suffix.lower() not in NETCDF_EXTENSIONS:
        try:
            return find_envi_pair(path)[0].resolve()
        except DataSourceError:
            pass  # reported when the scene is processed
    return path.resolve()


def _metadata_time(path: Path) -> datetime | None:
    """Return the file's own acquisition time; None if it has none or cannot be opened.

    A file that cannot be opened is not an error here: the batch reports it as that
    scene's failure and goes on with the others.
    """
    try:
        with open_radiance(path) as cube:
            return cube.acquired
    except DataSourceError:
        return None


def _names(entries: Sequence[tuple[Path, str | None]]) -> list[str]:
    """Scene names: the STAC item id or the file's stem; clashing stems get their folder.

    Scenes in different folders with the same file name (``a/radiance.hdr``,
    ``b/radiance.hdr``) become ``a_radiance`` and ``b_radiance``.
    """
    base = [item_id or scene_name(path) for path, item_id in entries]
    counts: dict[str, int] = {}
    for n in base:
        counts[n] = counts.get(n, 0) + 1
    names = [
        n if counts[n] == 1 or item_id else f"{path.resolve().parent.name}_{n}"
        for n, (path, item_id) in zip(base, entries, strict=True)
    ]
    seen: dict[str, Path] = {}
    for name, (path, _) in zip(names, entries, strict=True):
        if name in seen:
            raise InvalidParameterError(
                f"two scenes are both named {name!r} ({seen[name]} and {path}): "
                "outputs and flight ids would collide; rename one"
            )
        seen[name] = path
    return names
