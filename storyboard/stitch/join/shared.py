"""Mezzanines shared by every series of one machine (``STORYBOARD_STITCH_SHARED``).

A mezzanine depends on nothing but its clip's bytes, the episode format, the encoder settings and
the ffmpeg binary, so a machine that stitches many series (a studio box rendering an ad's
variations as separate series, a teammate's fresh clones, CI) can keep one copy of each for all
of them: with ``STORYBOARD_STITCH_SHARED=/folder`` set, a mezzanine made for one series is also
copied there, and a series that needs the same one copies it from there instead of encoding the
clip again. An entry is named by the mezzanine's key and the binary's identity (its real path,
size and modification time), so another ffmpeg never reads it; its record is written last (a
half-copied entry is never read) and touched at each use, so ``prune`` (run at the end of each
stitch, on the series' folder and this one) removes what no stitch used for a month. The folder
is opt-in and trusted as the series' own cache is: a folder nobody can write is only read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from storyboard.media import ffbinary, ffmpeg

SHARED_ENV = "STORYBOARD_STITCH_SHARED"
VIDEO, RECORD = ".mp4", ".json"


def folder() -> Path | None:
    """The shared folder this process uses, if one is set."""
    named = os.environ.get(SHARED_ENV, "").strip()
    return Path(named) if named else None


def entry(share: Path, key: str) -> Path:
    """The stem of ``key``'s entry in ``share``, for the binary in use."""
    binary = ffbinary.current().require()
    try:
        stat = os.stat(binary)
    except OSError:
        return share / key  # never matched: the entry below would name a binary that is gone
    made_by = f"{os.path.realpath(binary)}|{stat.st_size}|{stat.st_mtime_ns}"
    return share / f"{key}-{hashlib.sha256(made_by.encode()).hexdigest()[:12]}"


def take(key: str, stem: Path, audio: Path, sound: str) -> bool:
    """Whether the shared entry of ``key`` was copied to ``stem`` (its video and record; its sound,
    suffix ``sound``, to ``audio`` when the entry has one). False when none is set or found, or a
    copy failed: then the caller encodes as it would have."""
    share = folder()
    if share is None:
        return False
    source = entry(share, key)
    try:
        record = source.with_suffix(RECORD).read_text(encoding="utf-8")
    except OSError:
        return False
    if not _whole(record):
        return False  # a damaged entry: encoded again, and given back whole (``give``)
    sound_pair = [(source.with_suffix(sound), audio)] if source.with_suffix(sound).is_file() else []
    if not copy_whole([*sound_pair, (source.with_suffix(VIDEO), stem.with_suffix(VIDEO))], record,
                      stem.with_suffix(RECORD)):
        return False
    with contextlib.suppress(OSError):
        os.utime(source.with_suffix(RECORD))  # used now: kept by ``prune``
    return True


def copy_whole(pairs: list[tuple[Path, Path]], record: str, target: Path) -> bool:
    """Copy each (made, copy) of ``pairs``, then write ``record`` to ``target`` last (a mezzanine
    is read only through its record, so a half-made copy is never loaded, and is made over);
    False when a copy failed. Each file is read from one open file, so a copy is whole."""
    try:
        for made, copy in pairs:
            copy.parent.mkdir(parents=True, exist_ok=True)
            with ffmpeg.atomic_output(copy) as tmp:
                shutil.copyfile(made, tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        with ffmpeg.atomic_output(target) as tmp:
            tmp.write_text(record, encoding="utf-8")
    except OSError:
        return False
    return True


def give(key: str, stem: Path, audio: Path, sound: str, record: str) -> None:
    """Copy the mezzanine just made under ``stem`` (its sound at ``audio``, when kept) into the
    shared folder, if one is set and has no entry of ``key`` yet; a folder that cannot be written
    costs only the next series an encode."""
    share = folder()
    if share is None:
        return
    target = entry(share, key)
    with contextlib.suppress(OSError):
        if _whole(target.with_suffix(RECORD).read_text(encoding="utf-8")):
            return
    sound_pair = [(audio, target.with_suffix(sound))] if audio.is_file() else []
    copy_whole([*sound_pair, (stem.with_suffix(VIDEO), target.with_suffix(VIDEO))], record,
               target.with_suffix(RECORD))


def _whole(record: str) -> bool:
    """Whether ``record`` reads as a mezzanine's record (a JSON object), not a damaged one."""
    try:
        return isinstance(json.loads(record), dict)
    except ValueError:
        return False
