"""A series' ``.storyboard/`` folder into sizes by kind, and into less of it: ``storyboard cache``.

What a series keeps: the shots (``cache/<provider>/``, each once; the local provider's own copy in
``local/`` is a hard link to it where the filesystem allows), mezzanines and stitch state
(``stitch/``), last frames (``frames/``), input snapshots (``inputs/``), the journal and the locks.

``prune`` removes, oldest first, what can be made again: shot videos no lock file, no shot of the
series as it is now and no unfinished task needs, local renders of those, mezzanines, last frames.
It never touches the journal, the locks, the input snapshots, a dot file (a running process's
temporary), or anything a lock, a current shot or an in-flight task needs; it holds the series'
run lock, so no render of the series runs meanwhile. A file used in the last ``RECENT`` seconds
is kept too: a stitch may be reading it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import check_state_folders, safe_to_delete
from storyboard.run.journal import read_status
from storyboard.run.lockfile import lock_path, read_lock
from storyboard.run.pacing import run_lock

STATE = ".storyboard"
KINDS = {"cache": "shots", "local": "local renders", "stitch": "mezzanines and stitch state",
         "frames": "last frames", "inputs": "input snapshots", "parsed": "compile cache"}
PRUNABLE = ("cache", "local", "stitch", "frames")
RECENT = 600.0  # seconds: a file touched this recently may be in use by a stitch
_HASH = re.compile(r"[0-9a-f]{16,}")


@dataclass
class KindUsage:
    kind: str  # "shots", "local renders", ..., "journal and locks", "other"
    files: int
    bytes: int


@dataclass
class Unit:
    """Files that go together (a video and its sidecar): removed all at once, or not at all."""

    paths: list[Path]
    bytes: int
    used: float  # the newest modification time among them


@dataclass
class PruneReport:
    removed: list[Path] = field(default_factory=list)
    freed: int = 0
    kept_needed: int = 0  # files kept because a lock, a current shot or a task needs them
    size_after: int = 0


def usage(series_dir: Path) -> list[KindUsage]:
    """Bytes and files under ``.storyboard/`` by kind; a hard-linked file is counted once."""
    seen: set[tuple[int, int]] = set()
    totals: dict[str, KindUsage] = {}
    for top, path, stat in _files(series_dir / STATE):
        kind = KINDS.get(top) or _loose(top, path.name)
        row = totals.setdefault(kind, KindUsage(kind, 0, 0))
        row.files += 1
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            row.bytes += stat.st_size
    return sorted(totals.values(), key=lambda row: -row.bytes)


def _loose(top: str, name: str) -> str:
    if top:
        return "other"
    return "compile cache" if name == "media.json" else "journal and locks"


def _files(root: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(top folder under ``root``, or "" for a file of its own, path, stat) of every file."""
    for folder, _, names in os.walk(root):
        relative = Path(folder).relative_to(root)
        top = relative.parts[0] if relative.parts else ""
        for name in names:
            path = Path(folder) / name
            try:
                yield top, path, path.lstat()
            except OSError:
                continue


def needed_hashes(series_dir: Path, current: Collection[str]) -> set[str]:
    """Shot hashes nothing may remove: the locks', the current shots', unfinished tasks'."""
    locked = {str(e.get("hash")) for p in (lock_path(series_dir), lock_path(series_dir, True))
              for e in read_lock(p).shots.values()}
    flying = {a.shot_hash for a in read_status(series_dir, unfinished_only=True)}
    return locked | flying | set(current)


def prune(series_dir: Path, current: Collection[str], *, older_than: float | None = None,
          max_size: int | None = None, now: float | None = None) -> PruneReport:
    """Remove what nothing needs: every unit not used for ``older_than`` seconds, then the
    oldest until ``.storyboard/`` is at most ``max_size`` bytes (as ``usage`` counts it)."""
    if older_than is None and max_size is None:
        raise StoryboardError("cache prune: give --older-than, --max-size or both")
    now = time.time() if now is None else now
    check_state_folders(series_dir)  # a state folder linked elsewhere: refused, nothing removed
    with run_lock(series_dir):
        needed = {h[:16] for h in needed_hashes(series_dir, current)}
        units, kept = _units(series_dir, needed)
        report = PruneReport(kept_needed=kept)
        size = sum(row.bytes for row in usage(series_dir))
        for unit in sorted(units, key=lambda u: u.used):
            old = older_than is not None and now - unit.used > older_than
            over = max_size is not None and size > max_size
            if (old or over) and now - unit.used > RECENT:
                _remove(unit, report)
                size -= unit.bytes
        report.size_after = sum(row.bytes for row in usage(series_dir))
    return report


def _units(series_dir: Path, needed: set[str]) -> tuple[list[Unit], int]:
    """The prunable units (files grouped by folder and stem) and how many files were kept."""
    groups: dict[tuple[Path, str], list[tuple[Path, os.stat_result]]] = {}
    for top, path, stat in _files(series_dir / STATE):
        if top in PRUNABLE and not path.name.startswith("."):
            groups.setdefault((path.parent, path.name.split(".", 1)[0]), []).append((path, stat))
    units, kept = [], 0
    for (_, stem), files in groups.items():
        if any(found[:16] in needed for found in _HASH.findall(stem)):
            kept += len(files)
            continue
        units.append(Unit([p for p, _ in files], _unique_bytes(files),
                          max(s.st_mtime for _, s in files)))
    return units, kept


def _unique_bytes(files: list[tuple[Path, os.stat_result]]) -> int:
    """The bytes removing these files frees: a file with another link frees nothing."""
    return sum(s.st_size for _, s in files if s.st_nlink == 1)


def _remove(unit: Unit, report: PruneReport) -> None:
    for path in unit.paths:
        try:
            safe_to_delete(path).unlink()
        except FileNotFoundError:
            continue
        report.removed.append(path)
    report.freed += unit.bytes


def parse_size(text: str) -> int:
    """``500MB``, ``2G``, ``800k``, ``1048576`` into bytes (powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if found is None:
        raise ValueError(f"expected a size such as 500MB or 2GB, got {text!r}")
    power = " kmgt".index(found.group(2) or " ")
    return int(float(found.group(1)) * 1024 ** power)


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m`` into seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text.lower())
    if found is None:
        raise ValueError(f"expected an age such as 30d, 12h or 2w, got {text!r}")
    unit = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[found.group(2)]
    return float(found.group(1)) * unit


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
