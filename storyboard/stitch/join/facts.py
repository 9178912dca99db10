"""Clip files into recorded facts: what one packet scan found, kept by content hash for next time.

Probing a clip (``concat.probe_clip``) starts one ffmpeg process; for the copy path that start-up
is most of the work. The facts a scan finds (streams, exact stream lengths, parameter-set
checksum) never change for the same bytes, so they are written to ``<cache>/facts/<sha256>.json``
when first read, and a small index by path, size and mtime (``<cache>/facts/paths/``) finds the
content hash without reading the file again. Without a cache folder every clip is probed, as
before. A damaged or foreign record is only a slower stitch: it is probed again and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.files import write_atomic
from storyboard.media.ffmpeg import MediaInfo, StreamInfo
from storyboard.media.probes.probe import sha256_file
from storyboard.stitch.join.concat import PROBE_JOBS, ClipFacts, probe_clip, require_file

FACTS_VERSION = 2  # 2: the video time base is recorded (the copy path needs one shared)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` atomically; a read-only cache only means probing again next time."""
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps(value, sort_keys=True), durable=False)


_SEEN: dict[tuple[Path, Path], tuple[int, int, str]] = {}  # (folder, file) -> size, mtime, sha
_RECORDS: dict[tuple[Path, int, int], dict[str, Any]] = {}  # a record file as it was -> its facts
_KEPT_MAX = 100_000


def _remember(table: dict[Any, Any], key: Any, value: Any) -> None:
    if len(table) >= _KEPT_MAX:
        table.clear()
    table[key] = value


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) and value.get("version") == FACTS_VERSION else None


def to_record(facts: ClipFacts) -> dict[str, Any]:
    info = facts.info
    return {"version": FACTS_VERSION, "format": info.format, "duration": info.duration,
            "streams": [asdict(s) for s in info.streams], "video_len": facts.video_len,
            "audio_len": facts.audio_len, "extradata": facts.extradata,
            "video_tb": str(facts.video_tb)}


def from_record(path: Path, record: dict[str, Any]) -> ClipFacts | None:
    """The facts in ``record`` for the file now at ``path`` (None when the record is damaged)."""
    try:
        streams = [StreamInfo(**s) for s in record["streams"]]
        info = MediaInfo(path, str(record["format"]), record["duration"], streams)
        facts = ClipFacts(path, info, float(record["video_len"]),
                          None if record["audio_len"] is None else float(record["audio_len"]),
                          str(record["extradata"]), Fraction(str(record["video_tb"])))
    except (KeyError, TypeError, ValueError):
        return None
    return facts if info.video is not None else None


class FactStore:
    """Recorded clip facts under ``folder`` (``None``: nothing is recorded, everything probed)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path_entry(self, path: Path) -> Path:
        assert self.folder is not None
        key = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:32]
        return self.folder / "paths" / f"{key}.json"

    def content_hash(self, path: Path) -> str:
        """The file's sha256, from the path index while size and mtime are unchanged."""
        stat = path.stat()
        if self.folder is None:
            return sha256_file(path)
        seen = _SEEN.get((self.folder, path))
        if seen is not None and seen[:2] == (stat.st_size, stat.st_mtime_ns):
            return seen[2]  # this process read the index already (the studio, every save)
        entry = _read_json(self._path_entry(path))
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            digest = str(entry["sha256"])
        else:
            digest = sha256_file(path)
            _write_json(self._path_entry(path), {"version": FACTS_VERSION, "size": stat.st_size,
                                                 "mtime_ns": stat.st_mtime_ns, "sha256": digest})
        _remember(_SEEN, (self.folder, path), (stat.st_size, stat.st_mtime_ns, digest))
        return digest

    def recorded(self, path: Path) -> ClipFacts | None:
        if self.folder is None:
            return None
        where = self.folder / f"{self.content_hash(path)}.json"
        try:
            stat = where.stat()
        except OSError:
            return None
        key = (where, stat.st_size, stat.st_mtime_ns)  # a record changed on disk is read again
        record = _RECORDS.get(key)
        if record is None:
            record = _read_json(where)
            if record:
                _remember(_RECORDS, key, record)
        return from_record(path, record) if record else None

    def record(self, facts: ClipFacts) -> None:
        if self.folder is not None:
            _write_json(self.folder / f"{self.content_hash(facts.path)}.json", to_record(facts))

    def facts(self, path: Path, listing: Path) -> ClipFacts:
        """Recorded facts, else one packet scan (recorded for next time)."""
        known = self.recorded(path)
        if known is not None:
            return known
        found = probe_clip(path, listing)
        self.record(found)
        return found

    def alike(self, path: Path, listing: Path, shape: str | None) -> ClipFacts:
        """Facts of a clip made exactly as every other clip of ``shape`` (a digest of all that
        its facts depend on: its streams' parameters and parameter sets, its frames and
        samples; None: none known): recorded ones, else those of the first clip of that shape,
        for this file, with no packet scan; else one scan, kept for the next of its shape."""
        if shape is None or self.folder is None:
            return self.facts(path, listing)
        known = self.recorded(path)
        if known is not None:
            return known
        template = self.folder / "shapes" / f"{shape}.json"
        record = _read_json(template)
        found = None if record is None else from_record(path, record)
        if found is None:
            found = probe_clip(path, listing)
            _write_json(template, to_record(found))
        self.record(found)
        return found


def gather(paths: Sequence[Path], work: Path, store: FactStore) -> list[ClipFacts]:
    """Facts of every clip: recorded ones read back, the others probed in parallel."""
    for path in paths:
        require_file(path, "clip")
    listings = [work / f"probe{i:05d}.framecrc" for i in range(len(paths))]
    unique = {p: listing for p, listing in zip(paths, listings, strict=True)}
    found = {p: known for p in unique if (known := store.recorded(p)) is not None}
    todo = [p for p in unique if p not in found]
    if todo:  # no threads started for a stitch whose clips are all recorded (the studio's)
        with ThreadPoolExecutor(max_workers=PROBE_JOBS) as pool:
            found.update(zip(todo, pool.map(store.facts, todo, [unique[p] for p in todo]),
                             strict=True))
    return [found[p] for p in paths]
