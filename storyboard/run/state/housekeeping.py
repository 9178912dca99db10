"""A series' ``.storyboard/`` folder into sizes by kind, and into less of it: ``storyboard cache``.

What a series keeps (``kind_of`` names each kind): the shots (``cache/<provider>/``, each once;
the local provider's own copy in ``local/`` is a hard link to it where the filesystem allows), the
stitch cache (``stitch-cache/``: mezzanines' video and sound, the clips' and joins' sound encodes,
the clips' loudness, kept transitions, clip facts), episode stitch records (``stitch/``), last
frames, contact-sheet stills, title and end cards, input snapshots, the scaled stills a gateway
fetches (``sent/``), the compile cache, media facts, rejected takes, the journal and the locks,
and the providers' own records of paid work (DashScope's designed voices' previews and spoken
lines' answers under ``dashscope/``, ComfyUI's sent jobs and throughput under ``comfyui/``).
``usage`` names the kind of every file; "other" is only what none of these is.

``prune`` removes what can be made again, in ``TIERS`` order: what is free to make again (the
stitch cache, frames, stills, cards, the compile cache), then local renders nothing needs, then
(only to reach ``--max-size``) the local renders the series uses, then paid shots nothing needs.
It never touches a paid shot a lock file, the series as it is now or an unfinished task needs,
a render an unfinished task needs, the journal, the locks, the input snapshots, the scaled
stills sent (hosted by the user, named in ComfyUI's job files), the stitch records, the
providers' records, or a dot file (a running process's temporary); it holds the series' run lock,
so no render of the series runs meanwhile. A stitch outside a render (the studio's, a contact
sheet's) holds the stitch cache (``stitch.using``): while one does, a file used in the last
``RECENT`` seconds is kept too, as it may be reading it; when none does, age holds nothing back,
so a prune right after a render frees what it can.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.dialects.images import IMAGE_WIRES
from storyboard.errors import StoryboardError
from storyboard.files import check_state_folders, safe_to_delete
from storyboard.run.state.lock.lockfile import lock_path, read_lock
from storyboard.run.state.runlock import run_lock
from storyboard.run.state.tasks.journal import JOURNAL_NAME, read_status
from storyboard.stitch.join.mezzanine import BLEND_MARK
from storyboard.stitch.using import PREFIX as USING
from storyboard.stitch.using import in_use
from storyboard.targets.cast.arkassets import LIBRARIES
from storyboard.targets.kinds import COMFYUI, DASHSCOPE, LOCAL

STATE = ".storyboard"
# Folders and files under .storyboard/ -> kind (``cache/<provider>/`` and ``stitch-cache/`` are
# split further by ``kind_of``).
FOLDERS = {LOCAL.name: "local renders (the local provider's own links)",
           "stitch": "episode stitch records", "frames": "last frames",
           "thumbs": "contact-sheet stills", "cards": "title and end cards",
           "inputs": "input snapshots", "parsed": "compile cache", "checked": "compile cache",
           "checked-episodes": "compile cache",
           "rejected": "rejected takes", "sent": "scaled stills sent (hosted)"}
FILES = {JOURNAL_NAME: "journal", f"{JOURNAL_NAME}-wal": "journal",
         f"{JOURNAL_NAME}-shm": "journal", "media.json": "media facts", "run.lock": "locks",
         "run.pid": "locks", "draft.lock": "draft lock", ".gitignore": "its .gitignore (*)"}
# The providers' records of paid work, by (provider folder, subfolder or file): kept, never pruned.
PROVIDERS = {(DASHSCOPE.name, "voices"): "designed voices' previews and samples (DashScope)",
             (DASHSCOPE.name, "speech"): "spoken lines' answers (DashScope)",
             (COMFYUI.name, "jobs"): "ComfyUI jobs sent",
             (COMFYUI.name, "throughput.json"): "ComfyUI throughput",
             **{(name, "pictures"): f"picture tasks asked ({name})" for name in IMAGE_WIRES},
             **{(name, "portraits"): f"portraits made ({name})" for name in LIBRARIES}}
STITCH_CACHE = "stitch-cache"
MEZZANINE_SOUND = "stitch cache: mezzanine sound"
LOUDNESS_FACTS = "stitch cache: clip loudness"
# What ``prune --max-size`` removes, in this order: everything made again for free first (the
# mezzanines' sound before their video: it is made again from the clip's audio alone), then
# local renders nothing needs, then the local renders the series uses (drawn again for free, but
# it takes time), then paid shots nothing needs. Never: a paid shot the locks, the series as it is
# now or a task in flight needs, the journal, the locks, the input snapshots, the stitch records.
FREE = (MEZZANINE_SOUND, "stitch cache: clip sound encodes", LOUDNESS_FACTS,
        "stitch cache: transitions",
        "stitch cache: mezzanine video", "stitch cache: clip facts", "last frames",
        "contact-sheet stills", "title and end cards", "compile cache")
TIERS = ("free to make again", "local renders nothing needs", "local renders the series uses",
         "paid shots nothing needs")
RECENT = 600.0  # seconds: while a stitch runs, a file touched this recently may be in use by it
_HASH = re.compile(r"[0-9a-f]{16,}")


def kind_of(parts: tuple[str, ...]) -> str:
    """The kind of the file at ``parts`` (its path under .storyboard/); "other" when unknown."""
    if len(parts) == 1:
        return FILES.get(parts[0], "other")
    if parts[0] == "cache" and len(parts) == 3:
        return f"shots ({parts[1]})"
    if parts[0] == STITCH_CACHE:
        return _stitch_kind(parts[1], parts[-1]) if len(parts) > 2 else _stitch_file(parts[1])
    return PROVIDERS.get((parts[0], parts[1])) or FOLDERS.get(parts[0], "other")


def _stitch_file(name: str) -> str:
    return "locks" if name.startswith(USING) else "other"


def _stitch_kind(folder: str, name: str) -> str:
    if folder == "facts":  # the facts by content hash, and ``paths/`` by path
        return "stitch cache: clip facts"
    if folder != "mezzanine":
        return "other"
    if BLEND_MARK in name:
        return "stitch cache: transitions"
    suffix = name.rsplit(".", 1)[-1]
    if suffix in ("wv", "wav"):
        return MEZZANINE_SOUND
    if suffix == "r128":
        return LOUDNESS_FACTS
    return "stitch cache: clip sound encodes" if suffix == "adts" else "stitch cache: mezzanine video"


def is_local(key: str) -> bool:
    """Whether a shot cache folder is the local provider's (free to draw again)."""
    return key == LOCAL.name or key.startswith(f"{LOCAL.name}-")


@dataclass
class KindUsage:
    kind: str  # "shots", "local renders", ..., "journal and locks", "other"
    files: int
    bytes: int


Stat = tuple[Path, os.stat_result]


@dataclass
class Unit:
    """Files that go together (a video and its sidecar): removed all at once, or not at all."""

    files: list[Stat]
    tier: tuple[int, int]  # the order ``prune --max-size`` removes in (``TIERS``, then ``FREE``)
    used: float  # the newest modification time among them

    @property
    def paths(self) -> list[Path]:
        return [path for path, _ in self.files]


@dataclass
class PruneReport:
    removed: list[Path] = field(default_factory=list)
    freed: int = 0
    kept_needed: int = 0  # files kept because a lock, a current shot or a task needs them
    size_after: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # why -> bytes kept for that reason


def usage(series_dir: Path) -> list[KindUsage]:
    """Bytes and files under ``.storyboard/`` by kind; a hard-linked file is counted once."""
    seen: set[tuple[int, int]] = set()
    totals: dict[str, KindUsage] = {}
    for parts, _, stat in _files(series_dir / STATE):
        kind = kind_of(parts)
        row = totals.setdefault(kind, KindUsage(kind, 0, 0))
        row.files += 1
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            row.bytes += stat.st_size
    return sorted(totals.values(), key=lambda row: (-row.bytes, row.kind))


def _files(root: Path) -> Iterator[tuple[tuple[str, ...], Path, os.stat_result]]:
    """(path parts under ``root``, path, stat) of every file."""
    for folder, _, names in os.walk(root):
        relative = Path(folder).relative_to(root).parts
        for name in names:
            path = Path(folder) / name
            try:
                yield (*relative, name), path, path.lstat()
            except OSError:
                continue


def locked_hashes(series_dir: Path, current: Collection[str]) -> set[str]:
    """Shot hashes the locks and the series as it is now use."""
    locked = {str(e.get("hash")) for p in (lock_path(series_dir), lock_path(series_dir, True))
              for e in read_lock(p).shots.values()}
    return locked | set(current)


def flying_hashes(series_dir: Path) -> set[str]:
    """Shot hashes of tasks not finished (the journal): their results must stay."""
    return {a.shot_hash for a in read_status(series_dir, unfinished_only=True)}


NEEDED = "paid shots a lock, the series as it is now or a task in flight needs"
FLYING = "renders a task in flight needs"
IN_USE = f"files used in the last {RECENT / 60:.0f} minutes (a stitch running now may be reading them)"
KEPT = ("the journal, the locks, input snapshots, stitch records, media facts, rejected takes, "
        "the providers' records of paid work")


def prune(series_dir: Path, current: Collection[str], *, older_than: float | None = None,
          max_size: int | None = None, now: float | None = None) -> PruneReport:
    """Remove what can go: every unit not used for ``older_than`` seconds (never a render the
    series uses), then, while ``.storyboard/`` is over ``max_size`` bytes (as ``usage`` counts
    it), units in ``TIERS`` order, oldest first in each. ``report.kept`` says what stayed, why."""
    if older_than is None and max_size is None:
        raise StoryboardError("cache prune: give --older-than, --max-size or both")
    now = time.time() if now is None else now
    check_state_folders(series_dir)  # a state folder linked elsewhere: refused, nothing removed
    with run_lock(series_dir):
        locked = {h[:16] for h in locked_hashes(series_dir, current)}
        flying = {h[:16] for h in flying_hashes(series_dir)}
        report = PruneReport()
        units, links = _units(series_dir, locked, flying, report)
        size = sum(row.bytes for row in usage(series_dir))
        recent = RECENT if in_use(series_dir / STATE / STITCH_CACHE) else -math.inf
        for unit in sorted(units, key=lambda u: (u.tier, u.used)):
            old = older_than is not None and now - unit.used > older_than and unit.tier[0] != 2
            over = max_size is not None and size > max_size
            if not (old or over):
                continue
            if now - unit.used <= recent:
                _keep(report, IN_USE, unit.files)
                continue
            size -= _remove(unit, report, links)
        report.size_after = sum(row.bytes for row in usage(series_dir))
    return report


def _tier(kind: str, stem: str, locked: set[str], flying: set[str]) -> tuple[int, int] | str:
    """Where a unit comes in ``TIERS`` (and in ``FREE``), or why it is never removed."""
    if kind in FREE:
        return 0, FREE.index(kind)
    shot = kind == FOLDERS[LOCAL.name] or kind.startswith("shots (")
    if not shot:
        return KEPT
    ids = {found[:16] for found in _HASH.findall(stem)}
    if ids & flying:
        return FLYING
    local = kind == FOLDERS[LOCAL.name] or is_local(kind[len("shots ("):-1])
    if local:
        return (2 if ids & locked else 1), 0
    return NEEDED if ids & locked else (3, 0)


def _units(series_dir: Path, locked: set[str], flying: set[str], report: PruneReport
           ) -> tuple[list[Unit], dict[tuple[int, int], int]]:
    """The prunable units (files grouped by folder, stem and kind), and each file's number of
    links under .storyboard/; what is kept goes into ``report``."""
    groups: dict[tuple[Path, str, str], list[Stat]] = {}
    links: dict[tuple[int, int], int] = {}
    for parts, path, stat in _files(series_dir / STATE):
        links[(stat.st_dev, stat.st_ino)] = links.get((stat.st_dev, stat.st_ino), 0) + 1
        if path.name.startswith("."):
            continue  # a running process's temporary
        key = (path.parent, path.name.split(".", 1)[0], kind_of(parts))
        groups.setdefault(key, []).append((path, stat))
    units = []
    records = _records(groups)
    for (parent, stem, kind), files in groups.items():
        tier = _tier(kind, stem, locked, flying)
        if isinstance(tier, str):
            _keep(report, tier, files)
            report.kept_needed += len(files) if tier in (NEEDED, FLYING) else 0
            continue
        used = max(s.st_mtime for _, s in files)
        units.append(Unit(files, tier, max(used, records.get((parent, stem), used))))
    return units, links


def _records(groups: dict[tuple[Path, str, str], list[Stat]]) -> dict[tuple[Path, str], float]:
    """When each mezzanine was last used: its record's time, which every stitch that reads it
    refreshes (its sound, encodes and transitions are only written once, so their own times say
    nothing of a stitch reading them now)."""
    return {(parent, stem): stat.st_mtime
            for (parent, stem, kind), files in groups.items()
            if kind == "stitch cache: mezzanine video"
            for path, stat in files if path.suffix == ".json"}


def _keep(report: PruneReport, why: str, files: list[Stat]) -> None:
    report.kept[why] = report.kept.get(why, 0) + sum(s.st_size for _, s in files)


def _remove(unit: Unit, report: PruneReport, links: dict[tuple[int, int], int]) -> int:
    """Remove the unit's files; the bytes that frees (a file with another link frees nothing
    until its last name goes)."""
    freed = 0
    for path, stat in unit.files:
        try:
            safe_to_delete(path).unlink()
        except FileNotFoundError:
            continue
        report.removed.append(path)
        inode = (stat.st_dev, stat.st_ino)
        links[inode] = links.get(inode, 1) - 1
        freed += stat.st_size if links[inode] <= 0 else 0
    report.freed += freed
    return freed


def parse_size(text: str) -> int:
    """``500MB``, ``2G``, ``800k``, ``1048576`` into bytes (powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if found is None:
        raise ValueError(f"expected a size such as 500MB or 2GB, got {text!r}")
    size = float(found.group(1)) * 1024 ** " kmgt".index(found.group(2) or " ")
    if not math.isfinite(size):
        raise ValueError(f"expected a size such as 500MB or 2GB, got a number too large: {text!r}")
    return int(size)


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m`` into seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text.lower())
    if found is None:
        raise ValueError(f"expected an age such as 30d, 12h or 2w, got {text!r}")
    seconds = float(found.group(1)) * {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[found.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"expected an age such as 30d, 12h or 2w, got a number too large: {text!r}")
    return seconds


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
