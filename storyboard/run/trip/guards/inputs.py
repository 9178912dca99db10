"""A shot's local files into content-addressed snapshots: the bytes sent are the bytes hashed.

A shot's hash covers the sha256 of every local file it names, read when the series was checked. A
file replaced while a render runs would otherwise be uploaded (or rendered) in its new form and
cached under the old hash: ``plan`` would then call a video of the wrong picture "cached". So before
a submit each file is copied into ``.storyboard/inputs/<sha256><suffix>`` while it is hashed, and
the copy is used only when the two digests agree; a mismatch stops that shot before anything is
sent. The snapshot is ours and never changes, so what the provider reads is what was hashed.
Snapshots no run has used for 30 days are removed at the end of a run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError
from storyboard.files import safe_to_delete, state_folder
from storyboard.language.request import CompiledShot, MediaRef

INPUTS_DIR = Path(".storyboard") / "inputs"
_CHUNK = 1 << 20


class InputChanged(MediaError):
    """A local file's bytes are not the ones the shot's hash was computed over."""


def snapshot_inputs(shot: CompiledShot, series_dir: Path) -> CompiledShot:
    """``shot`` with every hashed local file replaced by its verified snapshot (blocking)."""
    store = state_folder(series_dir / INPUTS_DIR)
    swaps: dict[Path, Path] = {}
    for name, digest in sorted(shot.inputs.items()):
        swaps[Path(name)] = snapshot(Path(name), digest, store)
    if not swaps:
        return shot
    request = _swap(shot.request, swaps)
    return dataclasses.replace(shot, request=request)


def snapshot(path: Path, digest: str, store: Path) -> Path:
    """The snapshot of ``path`` whose content has sha256 ``digest``; raises InputChanged."""
    target = store / f"{digest}{path.suffix.lower()}"
    if target.is_file():
        with contextlib.suppress(OSError):
            os.utime(target)  # used now: kept by ``prune_inputs``
        return target
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".in-", dir=store)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _copy_hashing(path, out)
        if actual != digest:
            raise InputChanged(f"{path} changed after it was checked (sha256 {digest[:12]}... "
                               f"then, {actual[:12]}... now): nothing was sent for this shot; "
                               "run again to render it from the new file")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


UNUSED_DAYS = 30.0  # a snapshot no run used for this long is removed (the next run makes it again)


def prune_inputs(series_dir: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Remove the snapshots no run has used for ``days`` and the copies a killed run left
    half-written. Only under the series' run lock: no other run is writing there then."""
    store = state_folder(series_dir / INPUTS_DIR)
    cutoff = time.time() - days * 86400
    removed: list[Path] = []
    try:
        entries = list(store.iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_file() and (entry.name.startswith(".in-")
                                    or entry.stat().st_mtime < cutoff):
                safe_to_delete(entry).unlink()
                removed.append(entry)
        except OSError:
            continue  # not ours to remove: left as it is
    return removed


def _copy_hashing(path: Path, out: Any) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputChanged(f"{path}: cannot read it any more ({exc.strerror or exc}): nothing "
                           "was sent for this shot") from exc
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise InputChanged(f"{path} is no longer a regular file: nothing was sent")
        digest = hashlib.sha256()
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _swap(value: Any, swaps: dict[Path, Path]) -> Any:
    """A copy of a request tree with each ``MediaRef(path=p)`` in ``swaps`` pointing elsewhere."""
    if isinstance(value, MediaRef):
        if value.path is not None and value.path in swaps:
            return MediaRef(path=swaps[value.path])
        return value
    if isinstance(value, tuple):
        return tuple(_swap(item, swaps) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _swap(getattr(value, f.name), swaps)
                   for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value
