"""A compiled series into a signed entry keyed by all that decides it: a new process re-checks nothing.

``storyboard check``, ``plan`` and ``render`` each start a new process, so the in-process reuse of
``incremental`` starts cold every time. When nothing changed since the last check (a ``render``
after a ``check``, a ``status`` after a ``render``), the compiled series is read back from
``.storyboard/checked/`` instead: one file per series file, provider and variation, holding its
key, the media files it named with their content digests, its problems and its manifest, in
``storedform``'s plain data, marshalled and compressed by zlib (a compiled season is ten times its
series' state otherwise). An episode that has an entry of its own (``episodecache``, written by
the same check) is named by that entry's key and file instead of held again, and read back from
it: each compiled episode is encoded and written once, and that entry gone or changed is a miss.

The key covers every document by its file and text (``Document.digest``; a templated or composed
document has none, and such a series is never stored), the provider, the working folder (problems
name files relative to it), whether media are checked, and the code itself (the size and time of
every module of the package; the schemas salt each document's digest): a new storyboard compiles
anew. Each media file the series named is looked up again (``MediaCache.facts``: a stat, and a
new digest only when the file changed); one new, gone or different file and the series is
compiled anew. Only a series with no error is stored. marshal, not pickle (a cache must never run
code): values are read back into the few dataclasses of the manifest (``storedform.CLASSES``) and
nothing else. A damaged or foreign entry is only a slower check.

Each entry is bound to this user on this machine, and to this interpreter: it starts with an
HMAC-SHA256 of the rest (nothing is decompressed before it is trusted), keyed by a random secret
in the user's state folder (``files.user_secret``, made 0600 on first use), then the make of its
data (``storedform.TAG``) and its key. An entry edited in place (its key kept), damaged, written by
another Python, or copied from another machine or user fails that check and is compiled anew,
before a byte of it is read: a render never trusts a prompt the series does not say, and no file
in ``.storyboard/checked/`` reaches ``marshal`` unless this user on this machine wrote it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, MediaError
from storyboard.files import LinkedStateFolder, state_folder
from storyboard.language import storedform
from storyboard.language.read.series import Source
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.media.probes.probe import MediaCache

FORMAT = "7"  # 2: each entry signed (its first line); 3: a shared value written once;
# 4: the manifest's ``providers:``; 5: each shot's ``looks``; 6: marshal (``storedform``), an
# episode with an entry of its own stored as that entry's key and file; 7: each shot's ``people``
FOLDER = "checked"
COMPRESSION = 1  # zlib's fastest level
SECRET = storedform.SECRET  # the user's secret that signs entries, in their state folder
MEMORY_ENTRIES = 64  # entries a process keeps (the last of each series, provider and variation)


@dataclass
class Entry:
    """What a check left: its manifest (without its warnings), the problems it added (warnings
    only: a series with an error is not stored) and the digest of each media file it named."""

    manifest: Manifest
    problems: list[Diagnostic]
    media: dict[str, str | None]


_MEMORY: dict[Path, tuple[str, Entry]] = {}  # entry file -> its key and entry, as last read

# --- the key ---------------------------------------------------------------------------------


def key(source: Source, provider: str | None, check_media: bool) -> str | None:
    """All that decides the compiled series but its media files; None when a document has no
    digest (templated or composed anew each check: never stored)."""
    docs: list[tuple[str, ...]] = [(str(source.series.file), source.series.digest)]
    docs += [(str(ep.doc.file), ep.doc.digest, repr(ep.path), ep.default_id)
             for ep in source.episodes]
    if not all(doc[1] for doc in docs):
        return None
    parts = [FORMAT, code_digest(), str(source.root), source.name, provider, check_media,
             os.getcwd(), docs, [str(p) for p in source.problems]]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


@cache
def code_digest() -> str:
    """The size and modification time of every module of the installed package (the schemas
    salt every document's digest already)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(Path(__file__).resolve().parents[2]):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(n for n in filenames if n.endswith(".py")):
            stat = os.stat(os.path.join(dirpath, name))
            found.append(f"{dirpath}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(found).encode("utf-8")).hexdigest()


def _entry_file(source: Source, provider: str | None, check_media: bool) -> Path | None:
    parsed = source.cache.folder
    if parsed is None:
        return None
    slot = json.dumps([str(source.series.file), source.name, provider, check_media])
    name = hashlib.sha256(slot.encode("utf-8")).hexdigest()[:24]
    try:
        return state_folder(parsed.parent / FOLDER) / f"{name}.entry"
    except (LinkedStateFolder, OSError):
        return None


# --- reading and writing ---------------------------------------------------------------------


def forget() -> None:
    """Drop the entries this process read or wrote."""
    _MEMORY.clear()


Slot = tuple[str, Path]  # an entry's key and its file


def slot(source: Source, provider: str | None, check_media: bool) -> Slot | None:
    """Where the series' entry is and the key it must have; None when it is never stored."""
    wanted = key(source, provider, check_media)
    file = _entry_file(source, provider, check_media)
    return None if wanted is None or file is None else (wanted, file)


def read(where: Slot, media: MediaCache) -> Entry | None:
    """The entry a check of the same series left (in this process, else on disk), when every
    media file it named is the same."""
    wanted, file = where
    kept = _MEMORY.get(file)
    entry = kept[1] if kept is not None and kept[0] == wanted else _read(file, wanted)
    if entry is None or not _same_media(entry.media, media):
        return None
    _remember(file, wanted, entry)
    return entry


def _read(file: Path, wanted: str) -> Entry | None:
    # None: missing, of another key (an edit since: not decoded, nor its signature checked),
    # edited, damaged, or written elsewhere: compiled anew
    stored = storedform.load(file, wanted, COMPRESSION)
    try:
        shell, problems, media, places = stored
        episodes = [_episode(place) for place in places]
        entry = Entry(replace(shell, episodes=episodes), problems, dict(media))
    except (ValueError, TypeError):
        return None  # not an entry of ours, or an episode's entry gone or changed since
    return entry if _well_formed(entry) else None


def _episode(place: Any) -> Any:
    """An episode the entry holds, or the one held by the episode's own entry it names (its key
    and file, ``episodecache``: its data starts with its key and its episode); ValueError when
    that entry is not there, or holds another."""
    if place.__class__ is not tuple:
        return place
    key, file = place
    found = storedform.load(Path(file), key, COMPRESSION)
    if not isinstance(found, list) or len(found) < 2 or found[0] != key:
        raise ValueError("the episode's entry is gone or changed")
    return found[1]


def _well_formed(entry: Entry) -> bool:
    """The shape an entry of ours has (its key is known only to this machine's checks; a damaged
    file is only a slower check, never a traceback)."""
    manifest = entry.manifest
    if not isinstance(manifest, Manifest):
        return False
    return isinstance(entry.problems, list) and all(
        isinstance(p, Diagnostic) for p in entry.problems) and all(
        isinstance(k, str) and (v is None or isinstance(v, str))
        for k, v in entry.media.items()) and isinstance(manifest.episodes, list) and all(
        isinstance(e, CompiledEpisode) and isinstance(e.shots, list) and all(
            isinstance(s, CompiledShot) for s in e.shots) for e in manifest.episodes) and \
        isinstance(manifest.cast, list) and all(isinstance(s, CompiledShot) for s in manifest.cast)


def write(where: Slot, entry: Entry, episodes: Mapping[int, Slot] | None = None) -> None:
    """Store ``entry`` for the next process (nothing when a value is not one ``storedform``
    holds). An episode with an entry of its own on disk (``episodes``, by its id():
    ``episodecache``) is stored as that entry's key and file, read back from it: each compiled
    episode is encoded and written once."""
    wanted, file = where
    media = [(name, digest) for name, digest in entry.media.items()]
    own = episodes or {}
    places = [episode if (at := own.get(id(episode))) is None else (at[0], str(at[1]))
              for episode in entry.manifest.episodes]
    value = [replace(entry.manifest, episodes=[]), entry.problems, media, places]
    if storedform.store(file, wanted, value, COMPRESSION):
        _remember(file, wanted, entry)


def _remember(file: Path, wanted: str, entry: Entry) -> None:
    if len(_MEMORY) >= MEMORY_ENTRIES:
        _MEMORY.clear()
    _MEMORY[file] = (wanted, entry)


def _same_media(recorded: dict[str, str | None], media: MediaCache) -> bool:
    for name, digest in recorded.items():
        try:
            now: str | None = media.facts(Path(name)).sha256
        except (MediaError, OSError):
            now = None
        if now != digest:
            return False
    return True


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """No cyclic garbage collection while a series is read, checked or compiled: its objects are
    kept, so each collection would walk the thousands made so far again, for nothing; on again
    afterwards, with the objects made meanwhile handed to the oldest generation unwalked (else
    the first collection after it walks them all: 0.08 s for 2,000 shots). A cycle among them is
    still collected by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _promote()
            gc.enable()


def _promote() -> None:
    """Every object the collector tracks moved to its oldest generation without a collection
    (``gc.freeze`` then ``gc.unfreeze``); not when objects are frozen already (by the
    program that runs us, which may want them to stay so)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
