"""A compiled series into a JSON entry keyed by all that decides it: a new process re-checks nothing.

``storyboard check``, ``plan`` and ``render`` each start a new process, so the in-process reuse of
``incremental`` starts cold every time. When nothing changed since the last check (a ``render``
after a ``check``, a ``status`` after a ``render``), the compiled series is read back from
``.storyboard/checked/`` instead: one file per series file, provider and variation, holding its
key, the media files it named with their content digests, its problems and its manifest, as JSON
compressed by zlib (a compiled season is ten times its series' state otherwise).

The key covers every document by its file and text (``Document.digest``; a templated or composed
document has none, and such a series is never stored), the provider, the working folder (problems
name files relative to it), whether media are checked, and the code itself (the size and time of
every module of the package; the schemas salt each document's digest): a new storyboard compiles
anew. Each media file the series named is looked up again (``MediaCache.facts``: a stat, and a
new digest only when the file changed); one new, gone or different file and the series is
compiled anew. Only a series
with no error is stored. JSON, not pickle (a cache must never run code): values are written by
``encode`` and read back by ``decode`` into the few dataclasses of the manifest, named in
``CLASSES``, and nothing else. A damaged or foreign entry is only a slower check.

Each entry is bound to this user on this machine: its first line is an HMAC-SHA256 of the rest
(the compressed bytes: nothing is decompressed before it is trusted),
keyed by a random secret in the user's state folder (``files.user_secret``, made 0600 on first
use). An entry edited in place (its key kept), damaged, or copied from another machine or user
fails that check and is compiled anew, before a byte of it is parsed: a render never trusts a
prompt the series does not say, and no file in ``.storyboard/checked/`` (nested a thousand levels
deep, say) reaches the JSON reader unless this machine wrote it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, MediaError, Span
from storyboard.files import LinkedStateFolder, state_folder, user_secret, write_atomic
from storyboard.language.request import (
    AssetRequest,
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    MediaItem,
    MediaRef,
    Mention,
    Scene,
    ShotRequest,
    Transition,
)
from storyboard.language.series import Source
from storyboard.media.probe import MediaCache

FORMAT = "5"  # 2: each entry signed (its first line); 3: a shared value written once;
# 4: the manifest's ``providers:``; 5: each shot's ``looks``
FOLDER = "checked"
# zlib's fastest level: a season's 7 MB of JSON is 0.7 MB on disk, written in 20 ms, read in 15
COMPRESSION = 1
SECRET = "checkcache.key"  # the user's secret that signs entries, in their state folder
CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    AssetRequest, CompiledEpisode, CompiledShot, Line, Manifest, MediaItem, MediaRef, Mention,
    Scene, ShotRequest, Transition, Span, Diagnostic)}
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
    for dirpath, dirnames, filenames in os.walk(Path(__file__).resolve().parents[1]):
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
        return state_folder(parsed.parent / FOLDER) / f"{name}.json"
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
    text = read_signed(file)  # None: edited, damaged, or written elsewhere: compiled anew
    if text is None or not text.startswith(f'{{"key":{json.dumps(wanted)},'):
        return None  # another key (an edit since): not decoded, a season's takes 0.25 s
    try:
        stored = decode(text)
        entry = stored["entry"] if stored.get("key") == wanted else None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # a damaged or foreign entry: compiled anew
    return entry if _well_formed(entry) else None


def _signature(body: bytes) -> str | None:
    """The entry's signature: HMAC-SHA256 of ``body`` under the user's secret (None without one:
    nothing is stored nor trusted)."""
    secret = user_secret(SECRET)
    return None if secret is None else hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed(data: bytes) -> bytes | None:
    """The bytes after the first line when that line is their signature, else None."""
    mac, newline, body = data.partition(b"\n")
    expected = _signature(body) if newline else None
    if expected is None or not hmac.compare_digest(mac, expected.encode("ascii")):
        return None
    return body


def _well_formed(entry: Any) -> bool:
    """The shape an entry of ours has (its key is known only to this machine's checks; a damaged
    file is only a slower check, never a traceback)."""
    if not isinstance(entry, Entry) or not isinstance(entry.manifest, Manifest):
        return False
    manifest = entry.manifest
    return isinstance(entry.problems, list) and all(
        isinstance(p, Diagnostic) for p in entry.problems) and all(
        isinstance(k, str) and (v is None or isinstance(v, str))
        for k, v in entry.media.items()) and isinstance(manifest.episodes, list) and all(
        isinstance(e, CompiledEpisode) and isinstance(e.shots, list) and all(
            isinstance(s, CompiledShot) for s in e.shots) for e in manifest.episodes) and \
        isinstance(manifest.cast, list) and all(isinstance(s, CompiledShot) for s in manifest.cast)


def write(where: Slot, entry: Entry) -> None:
    """Store ``entry`` for the next process (nothing when a value is not one ``encode``
    writes)."""
    wanted, file = where
    try:
        text = f'{{"key":{json.dumps(wanted)},"entry":{encode(entry)}}}'
    except (TypeError, ValueError, RecursionError):
        return  # a value JSON cannot hold: only a slower next check
    if write_signed(file, text):
        _remember(file, wanted, entry)


def write_signed(file: Path, text: str) -> bool:
    """``text`` compressed and signed into ``file`` (False when it is not: a read-only series,
    or no secret to sign with)."""
    try:
        body = zlib.compress(text.encode("utf-8"), COMPRESSION)
        mac = _signature(body)
        if mac is None:
            return False  # no secret to sign with: never stored
        write_atomic(file, mac.encode("ascii") + b"\n" + body, durable=False)
    except OSError:
        return False  # only a slower next check
    return True


def read_signed(file: Path) -> str | None:
    """The text ``write_signed`` put in ``file``, when this user on this machine wrote it."""
    try:
        body = signed(file.read_bytes())
        return None if body is None else zlib.decompress(body).decode("utf-8")
    except (OSError, ValueError, zlib.error):
        return None


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


# --- values into JSON and back ---------------------------------------------------------------

def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names``, in order, always as a tuple (``attrgetter`` of one name is not)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    return attrgetter(*names)


# Fields holding a user's own data (``settings``, ``provider``...): walked (``_walked``), so no
# key of a user's ever reads as a tag.
_USER_DATA = {"CompiledEpisode": ("settings",), "CompiledShot": ("checks",),
              "Manifest": ("provider", "store", "ledger", "checks", "providers")}
# Per class: its fields in order, which hold tuples (JSON has lists only), which user data.
_SHAPES: dict[type, tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]] = {
    cls: (tuple(f.name for f in init),
          tuple(i for i, f in enumerate(init) if str(f.type).startswith("tuple[")),
          tuple(i for i, f in enumerate(init) if f.name in _USER_DATA.get(cls.__name__, ())))
    for cls in CLASSES.values() for init in [[f for f in fields(cls) if f.init]]}
_GETTERS = {cls: _getter(shape[0]) for cls, shape in _SHAPES.items()}
_TAGS = {cls: "@" + name for name, cls in CLASSES.items()}
# Frozen values the compiler shares between shots (each reference's ``MediaRef``, each
# ``Mention``): written in full where first met, and as ``{"@r": k}`` (the k-th of them) after.
# Neither holds the other, so they are met in the same order writing and reading.
SHARED = (MediaRef, Mention)
# The classes ``_encoded`` writes as their tag and their fields' values, nothing walked: looked up
# first (40,000 values in 2,000 shots).
_PLAIN = {cls: (_TAGS[cls], _GETTERS[cls]) for cls in _SHAPES
          if not _SHAPES[cls][2] and cls not in SHARED}


def encode(entry: Entry) -> str:
    """``entry`` as JSON text. A dataclass of ``CLASSES`` is an object of one key, its name after
    ``@``, holding its fields in order; a path is ``{"@p": text}``; a value of ``SHARED`` met
    before is ``{"@r": k}``. No other object's key starts with ``@``: the manifest's own
    dictionaries have the compiler's keys (the files' digests, the hashed form), and a user's
    data is walked (``_walked``)."""
    media = [[name, digest] for name, digest in entry.media.items()]
    return encode_value({"@entry": [entry.manifest, entry.problems, media]})


def encode_value(value: Any) -> str:
    """``value`` (JSON data, ``CLASSES``' values and paths in it) as JSON text ``decode`` reads
    back; TypeError, ValueError or RecursionError for a value it cannot hold."""
    # check_circular off: the compiler's values hold no cycle (a cycle would be a RecursionError,
    # which ``write`` lets be), and the check costs a dictionary lookup a value (about 13 ms of
    # 2,000 shots)
    return json.dumps(value, default=_Encoder(), separators=(",", ":"), allow_nan=False,
                      check_circular=False)


class _Encoder:
    """Values into JSON (``json.dumps``'s ``default``): a shared value met again as a reference
    to where it was first written (by identity: the compiler hands out the same object)."""

    def __init__(self) -> None:
        self.written: dict[int, dict[str, int]] = {}  # id() of a shared value -> its reference

    def __call__(self, value: Any) -> dict[str, Any]:
        plain = _PLAIN.get(value.__class__)
        if plain is not None:  # most values: a class of no user data, never shared
            return {plain[0]: plain[1](value)}
        found = self.written.get(id(value))
        if found is not None:
            return found
        if value.__class__ in SHARED:
            self.written[id(value)] = {"@r": len(self.written)}
        return _encoded(value)


def _encoded(value: Any) -> dict[str, Any]:
    cls: type = value.__class__
    if isinstance(value, Path):
        return {"@p": str(value)}
    if CLASSES.get(cls.__name__) is not cls:
        raise TypeError(f"cannot store a {cls.__name__}")
    found: Any = _GETTERS[cls](value)
    user = _SHAPES[cls][2]
    if user:
        found = list(found)
        for index in user:
            found[index] = _walked(found[index])
    return {_TAGS[cls]: found}


def _walked(value: Any) -> Any:
    """A user's data (and the paths and tuples resolving put in it) as JSON data: its tuples as
    ``{"@t": [...]}`` and a dictionary with a key that is not text, or starts with ``@``, as
    ``{"@d": [[key, value], ...]}``."""
    cls = value.__class__
    if cls is dict:
        if all(k.__class__ is str and not k.startswith("@") for k in value):
            return {k: _walked(v) for k, v in value.items()}
        return {"@d": [[_walked(k), _walked(v)] for k, v in value.items()]}
    if cls is list:
        return [_walked(v) for v in value]
    if cls is tuple:
        return {"@t": [_walked(v) for v in value]}
    return value  # text, numbers, None; paths and dataclasses are written by ``_encoded``


def decode(text: str) -> Any:
    """JSON text ``encode`` wrote, read back into its values."""
    with no_gc_pauses():
        return json.loads(text, object_hook=_Decoder())


class _Decoder:
    """JSON objects read back (``object_hook``): a tagged one into its value, a plain one as it
    is. Equal paths are read into one ``Path``; each shared value once (``SHARED``)."""

    def __init__(self) -> None:
        self.paths: dict[str, Path] = {}
        self.shared: list[Any] = []  # the values of ``SHARED``, in the order they were written

    def __call__(self, found: dict[str, Any]) -> Any:
        if len(found) != 1:
            return found
        tag, value = next(iter(found.items()))
        if tag[:1] != "@":
            return found
        if tag == "@p":
            path = self.paths.get(value)
            if path is None:
                path = self.paths[value] = Path(value)
            return path
        if tag == "@r":
            return self.shared[value]
        if tag == "@t":
            return tuple(value)
        if tag == "@d":
            return {k: v for k, v in value}
        if tag == "@entry":
            manifest, problems, media = value
            return Entry(manifest, problems, {name: digest for name, digest in media})
        cls = CLASSES[tag[1:]]
        for index in _SHAPES[cls][1]:
            value[index] = tuple(value[index])
        found = cls(*value)
        if cls in SHARED:
            self.shared.append(found)
        return found


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
