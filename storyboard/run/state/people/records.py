"""Files into their people's measurements, each measured once: by its content digest and the
measurer's version (``media.faces.record.VERSION``), kept in
``.storyboard/measured/<sha256>.people.json`` beside the file's other measurement, and, with
``STORYBOARD_MEASURED_SHARED`` set, in a folder every series of the machine shares (``machinewide``).

A take, a board and every picture a character wears (its sheet, its look's picture, its board) are
measured by the same code and kept the same way, so a reference shared by a season's shots is
measured once. Measuring needs the ``faces`` extra (``media.faces.models``); reading what was
measured needs nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from storyboard.errors import FFmpegError, MediaError
from storyboard.files import write_atomic
from storyboard.media.faces.record import VERSION, People, trusted
from storyboard.run.state import machinewide

log = logging.getLogger("storyboard.run")

FOLDER = Path(".storyboard") / "measured"
SUFFIX = ".people.json"


def record_path(root: Path, sha256: str) -> Path:
    return root / FOLDER / f"{sha256}{SUFFIX}"


def recorded_people(root: Path, sha256: str) -> People | None:
    """The people measured in the file with ``sha256`` by this version; None when none is."""
    path = record_path(root, sha256)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read(path, stamp)


@functools.lru_cache(maxsize=4096)
def _read(path: Path, _stamp: int) -> People | None:
    try:
        return trusted(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError):
        return None


def measure_people(root: Path, path: Path, sha256: str, kind: str,
                   times: Sequence[float] | None = None, *, faces: bool = True,
                   small: bool = True) -> People | None:
    """``path``'s people: the stored measurement when this version made it (and looked for
    faces, when ``faces``), else measured now and stored (``faces`` False: its light alone, no
    face looked for; ``small`` False: a character's picture, whose face is its subject, not
    searched again for small faces). ``media.faces.models.FacesMissing`` without the extra; a
    file ffmpeg cannot read gives None (said in the log)."""
    known = recorded_people(root, sha256)
    if current(known, faces=faces):
        return known
    shared = machinewide.taken(sha256, machinewide.PEOPLE)  # measured on this machine
    taken = _adopted(root, sha256, shared, faces=faces)
    if taken is not None:
        return taken
    from storyboard.media.faces import scan  # numpy and dlib: only when measuring
    try:
        found = scan.measure(path, "image" if kind == "image" else "video", times,
                                faces=faces, small=small)
    except (MediaError, FFmpegError, OSError) as exc:
        log.warning("measuring the people of %s failed (%s)", path.name, exc)
        return None
    machinewide.give(sha256, machinewide.PEOPLE, _keep(root, sha256, found))
    return found


def current(known: People | None, *, faces: bool = True) -> bool:
    """Whether ``known`` stands: measured by this version, and faces looked for (when
    ``faces``; a light-only measurement does for a take no one is looked for in)."""
    return known is not None and known.version >= VERSION and (known.searched or not faces)


def adopt_people(root: Path, sha256: str, data: object, *, faces: bool = True) -> bool:
    """Keep ``data``, the people of the file with ``sha256`` as measured elsewhere (a team's
    store), as this folder's when it is whole and stands (``current``). True when kept."""
    return _adopted(root, sha256, data, faces=faces) is not None


def _adopted(root: Path, sha256: str, data: object, *, faces: bool) -> People | None:
    """``data`` kept as ``adopt_people`` keeps it: what was kept, or None."""
    found = trusted(data)
    if found is None or not current(found, faces=faces):
        return None
    _keep(root, sha256, found)
    return found


def _keep(root: Path, sha256: str, found: People) -> str:
    text = json.dumps(found.to_dict(), sort_keys=True) + "\n"
    write_atomic(record_path(root, sha256), text, durable=False)
    return text


def file_digest(path: Path) -> str | None:
    """The sha256 of ``path``'s content (a reference picture's), None when it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _digest(path: Path, _size: int, _stamp: int) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
