"""Rendered videos into a content-addressed cache: ``.storyboard/cache/<cache_key>/<hash>.mp4``.

A cast asset's hash names its own file type (``<sha256>.png``, ``<sha256>.wav``): it is cached
under that name as it is, beside the videos, with the same sidecar and the same rules.

A shot whose hash is in the cache is never submitted, and old hashes stay, so reverting an edit
costs nothing. Each video has a JSON sidecar (its sha256, the provider, the task id, the seed, the
billed seconds, the cost). The sidecar is written first and the video renamed into place last, so
the presence of ``<hash>.mp4`` is the single fact that means "rendered": a run killed at any instant
leaves either no video (the journal still holds the task id, so the next run downloads again) or a
complete one (the next run sees a cache hit).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storyboard.files import safe_to_delete, state_folder, sync_folder, write_atomic
from storyboard.media.probes.probe import sha256_file
from storyboard.targets.kinds import CAST_MAKER  # the provider whose cast a video-only provider uses

CACHE_DIR = Path(".storyboard") / "cache"
ASSET_SUFFIXES = (".png", ".wav")  # a cast asset's hash ends with its file type


def file_name(shot_hash: str) -> str:
    """The cached file's name: a shot's ``<hash>.mp4``, an asset's hash as it is."""
    return shot_hash if shot_hash.endswith(ASSET_SUFFIXES) else f"{shot_hash}.mp4"


def hash_of(name: str) -> str | None:
    """A cached file's hash from its name (None for a sidecar, a temporary or anything else)."""
    if name.startswith("."):
        return None
    if name.endswith(".mp4"):
        return name[:-4]
    return name if name.endswith(ASSET_SUFFIXES) else None
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LOCAL_KEY = re.compile(r"local-r\d+(?:-draft)?")  # the local provider's (animatic.cache)


def _listed(folder: Path) -> set[str]:
    try:
        with os.scandir(folder) as entries:
            return {h for e in entries if (h := hash_of(e.name)) is not None}
    except (FileNotFoundError, NotADirectoryError):
        return set()


@dataclass(frozen=True)
class CacheEntry:
    """What the sidecar says about a cached video."""

    hash: str
    sha256: str
    provider: str
    task_id: str
    seed: int | None
    billed_seconds: float
    cost: float
    currency: str
    created_at: float = 0.0


_PATHS: dict[tuple[Path, str], Path] = {}  # a cached video's path by its folder and hash


def is_asset(shot_hash: str) -> bool:
    """A cast asset's hash (it names its file type), not a video's."""
    return shot_hash.endswith(ASSET_SUFFIXES)


def cast_source(cache_key: str) -> str:
    """The cache key whose cast assets a render under ``cache_key`` uses. An asset's hash covers
    its whole request (service, model, words, references, seed), not the video provider, so one
    made by DashScope is the same paid result whichever provider renders the videos: a provider
    that makes the cast keeps its own (``dashscope``; the local stand-ins, ``local-r*``, by
    renderer version), and one that makes video only (a gateway, ComfyUI) uses DashScope's."""
    if cache_key == CAST_MAKER or _LOCAL_KEY.fullmatch(cache_key):
        return cache_key
    return CAST_MAKER


def _folder(series_dir: Path, cache_key: str) -> Path:
    return series_dir / CACHE_DIR / (_UNSAFE.sub("_", cache_key) or "default")


class OutputCache:
    """The cache of one provider flavour (its ``cache_key``) in one series folder; its cast
    assets in the folder of ``cast_source(cache_key)``."""

    def __init__(self, series_dir: Path, cache_key: str) -> None:
        self.cache_key = cache_key
        self.dir = _folder(series_dir, cache_key)
        self.cast_dir = _folder(series_dir, cast_source(cache_key))

    def folder(self, shot_hash: str) -> Path:
        """Where ``shot_hash`` is kept: the cast's folder for an asset, else this cache's."""
        return self.cast_dir if is_asset(shot_hash) else self.dir

    def path(self, shot_hash: str) -> Path:
        folder = self.folder(shot_hash)
        key = (folder, shot_hash)
        found = _PATHS.get(key)
        if found is None:  # joined once: a page of 2,000 shots asks for each path many times
            if len(_PATHS) >= 100_000:
                _PATHS.clear()
            found = _PATHS[key] = folder / file_name(shot_hash)
        return found

    def sidecar(self, shot_hash: str) -> Path:
        return self.folder(shot_hash) / f"{shot_hash}.json"

    def has(self, shot_hash: str) -> bool:
        return self.path(shot_hash).is_file()

    def hashes(self) -> set[str]:
        """Every cached hash, from one directory listing (two when the cast is kept apart: the
        planner's fast path)."""
        if self.cast_dir == self.dir:
            return _listed(self.dir)
        return {h for h in _listed(self.dir) if not is_asset(h)} | {
            h for h in _listed(self.cast_dir) if is_asset(h)}

    def get(self, shot_hash: str) -> CacheEntry | None:
        """The sidecar of a cached video; rebuilt from the video when the sidecar is missing."""
        video = self.path(shot_hash)
        if not video.is_file():
            return None
        try:
            data: dict[str, Any] = json.loads(self.sidecar(shot_hash).read_text("utf-8"))
            entry = CacheEntry(**{k: data[k] for k in CacheEntry.__dataclass_fields__ if k in data})
        except (OSError, ValueError, TypeError):
            entry = None
        if entry is None or entry.hash != shot_hash:
            entry = CacheEntry(shot_hash, sha256_file(video), "", "", None, 0.0, 0.0, "")
        return entry

    def temp_path(self, shot_hash: str) -> Path:
        """A fresh temporary file beside the cache (same filesystem: the final move is atomic)."""
        folder = self.folder(shot_hash)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".part" + Path(file_name(shot_hash)).suffix
        fd, name = tempfile.mkstemp(prefix=f".{shot_hash[:16]}.", suffix=suffix, dir=folder)
        os.close(fd)
        return Path(name)

    def put(self, entry: CacheEntry, downloaded: Path) -> Path:
        """Move a verified download into the cache: sidecar first, the video last."""
        from storyboard.media import ffmpeg  # a render's: a check never imports its runner
        target = self.path(entry.hash)
        with downloaded.open("rb") as handle:
            os.fsync(handle.fileno())
        write_atomic(self.sidecar(entry.hash),
                     json.dumps(asdict(entry), sort_keys=True, indent=2).encode() + b"\n",
                     durable=True)  # a paid render's record: on disk before the video moves in
        before = ffmpeg.file_identity(downloaded)
        os.replace(downloaded, target)
        ffmpeg.moved(before, target)  # verified by its probe: measured without another
        sync_folder(target.parent)
        return target

    def clean_temporaries(self) -> int:
        """Remove partial downloads left by a killed run; return how many."""
        removed = 0
        for leftover in state_folder(self.dir).glob(".*.part.*") if self.dir.is_dir() else ():
            safe_to_delete(leftover).unlink(missing_ok=True)
            removed += 1
        return removed
