"""Compiled values into ``marshal``'s plain data, signed, and back: what a check's caches store.

The caches a check writes (the parsed documents, each compiled episode, the compiled series) are
read back by the next process. ``marshal`` writes and reads Python's own plain values (text,
numbers, tuples, lists, dictionaries) several times faster than JSON, and reading it runs no code
(unlike pickle, never used). It is not meant for data it did not write, so every stored file is
signed first (``seal``: an HMAC-SHA256 of the rest under this user's secret, ``files.user_secret``)
and nothing reaches ``marshal`` unless this user on this machine wrote it. Its format is the
interpreter's own: each file's header names ``TAG`` (the interpreter's bytecode tag and marshal's
version) with the entry's key, and a file of another make or key is absent, read no further.

``encode`` turns a value holding the manifest's dataclasses (``CLASSES``) into plain data:

- a dataclass is a tuple: its class's number (``NUMBERS``), then its fields in order;
- a path is ``(PATH, text)``; a tuple ``(TUPLE, *items)``: so every tuple of the stored form is
  tagged by its first item, and a user's keys or values are never read as one of ours;
- lists, dictionaries and plain values are themselves; the fields that hold plain values only
  (the canonical form, the files' digests, ``PLAIN``) are stored as they are, not walked;
- a value the compiler shares between shots (``SHARED``) is encoded once: marshal writes it once
  and reads it back as one object, decoded once.

A value it cannot hold (a class of no ``CLASSES``) is a TypeError, and one marshal cannot hold a
ValueError: only a slower next check. ``decode`` reads back only the classes of ``CLASSES``.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import sys
import zlib
from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from pathlib import Path, PurePath
from typing import Any

from storyboard.errors import Diagnostic, Span
from storyboard.files import user_secret, write_atomic
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

TAG = f"{sys.implementation.cache_tag}-marshal{marshal.version}"  # the stored form's make
SECRET = "checkcache.key"  # the user's secret that signs the stored files, in their state folder
PATH, TUPLE = 0, 1  # the tags of a path and a tuple; a class's number follows them
CLASSES: tuple[type, ...] = (
    AssetRequest, CompiledEpisode, CompiledShot, Line, Manifest, MediaItem, MediaRef, Mention,
    Scene, ShotRequest, Transition, Span, Diagnostic)
NUMBERS = {cls: number for number, cls in enumerate(CLASSES, start=2)}
# Frozen values the compiler shares between shots (each reference's ``MediaRef``, each
# ``Mention``, each reference's ``MediaItem``): encoded once, read back as one object each.
SHARED = frozenset({MediaRef, Mention, MediaItem})
# Fields of plain values only (text, numbers, lists and dictionaries of them), stored as they are;
# every other field that may hold a dataclass, a path, a tuple or a user's data is walked.
PLAIN = {"CompiledShot": {"canonical", "inputs", "needs", "looks"}}
_ANY_OF = ("Path", "Any", "Token", "tuple", *(cls.__name__ for cls in CLASSES))
_AS_IS = frozenset({str, int, float, bool, type(None)})


def _walked(cls: type) -> tuple[int, ...]:
    """The places (1 on: the class's number is first) of ``cls``' fields that are walked."""
    init = [f for f in fields(cls) if f.init]
    plain = PLAIN.get(cls.__name__, set())
    return tuple(place for place, f in enumerate(init, start=1)
                 if f.name not in plain and any(word in str(f.type) for word in _ANY_OF))


_NAMES = {cls: tuple(f.name for f in fields(cls) if f.init) for cls in CLASSES}
_WALKED = {cls: _walked(cls) for cls in CLASSES}


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of ``names``, in order, always as a tuple (``attrgetter`` of one name is not)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    return attrgetter(*names)


_GETTERS = {cls: _getter(_NAMES[cls]) for cls in CLASSES}


class _Encoder:
    """Values into plain data (the module's docstring); a shared value once, by identity."""

    def __init__(self) -> None:
        self.kept: dict[int, tuple[Any, tuple[Any, ...]]] = {}  # id() -> the value, its form
        self.coders = {cls: self._coder(cls) for cls in CLASSES}

    def __call__(self, value: Any) -> Any:
        cls = value.__class__
        coder = self.coders.get(cls)
        if coder is not None:
            return coder(value)
        if cls in _AS_IS:
            return value
        if cls is list:
            return [self(v) for v in value]
        if cls is dict:
            return {self(k): self(v) for k, v in value.items()}
        if cls is tuple:
            return (TUPLE, *[self(v) for v in value])
        if isinstance(value, PurePath):
            return (PATH, str(value))
        raise TypeError(f"cannot store a {cls.__name__}")

    def _coder(self, cls: type) -> Callable[[Any], tuple[Any, ...]]:
        """``cls``' values into their forms: its number, then its fields (those that may hold
        more than plain values walked)."""
        number, get, walked, walk = NUMBERS[cls], _GETTERS[cls], _WALKED[cls], self
        kept = self.kept if cls in SHARED else None

        def coder(value: Any) -> tuple[Any, ...]:
            if kept is not None:
                found = kept.get(id(value))
                if found is not None:
                    return found[1]
            if walked:
                form = [number, *get(value)]
                for place in walked:
                    found = form[place]
                    if found is not None:  # most optional fields are not set: no call
                        form[place] = walk(found)
                made = tuple(form)
            else:
                made = (number, *get(value))
            if kept is not None:
                kept[id(value)] = (value, made)  # the value kept: its id is not reused
            return made

        return coder


def encode(value: Any) -> Any:
    """``value`` as plain data ``marshal`` writes and ``decode`` reads back."""
    return _Encoder()(value)


class _Decoder:
    """Plain data ``encode`` made back into its values: equal paths into one ``Path``, each
    shared value's form (one object, as marshal reads it) into one value."""

    def __init__(self) -> None:
        self.paths: dict[str, Path] = {}
        self.shared: dict[int, Any] = {}  # id() of a shared value's form -> the value

    def __call__(self, value: Any) -> Any:
        cls = value.__class__
        if cls is tuple:
            tag = value[0]
            if tag == PATH:
                return self.path(value[1])
            if tag == TUPLE:
                return tuple([self(v) for v in value[1:]])
            return self.dataclass(value, CLASSES[tag - 2] if tag.__class__ is int and
                                  tag >= 2 else _unknown(tag))
        if cls is list:
            return [self(v) for v in value]
        if cls is dict:
            return {self(k): self(v) for k, v in value.items()}
        if cls in _AS_IS:
            return value
        raise TypeError(f"not a stored value: {cls.__name__}")

    def path(self, text: str) -> Path:
        if text.__class__ is not str:
            raise TypeError("a path is text")
        found = self.paths.get(text)
        if found is None:
            found = self.paths[text] = Path(text)
        return found

    def dataclass(self, form: tuple[Any, ...], cls: type) -> Any:
        if cls in SHARED:
            found = self.shared.get(id(form))
            if found is not None:
                return found
        walked = _WALKED[cls]
        if walked:
            values = list(form[1:])
            for place in walked:
                values[place - 1] = self(values[place - 1])
            made = cls(*values)
        else:
            made = cls(*form[1:])
        if cls in SHARED:
            self.shared[id(form)] = made  # ``form`` lives as long as the data read
        return made


def _unknown(tag: Any) -> type:
    raise TypeError(f"no stored class numbered {tag!r}")


def decode(data: Any) -> Any:
    """Plain data ``encode`` made, read back into its values; TypeError, ValueError, IndexError
    or RecursionError for data it did not make."""
    return _Decoder()(data)


# --- the stored files: signed, named by their make and key -------------------------------------


def signature(body: bytes) -> bytes | None:
    """HMAC-SHA256 of ``body`` under the user's secret, in hex (None without one: nothing is
    stored nor trusted)."""
    secret = user_secret(SECRET)
    if secret is None:
        return None
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")


def seal(key: str, payload: bytes) -> bytes | None:
    """A stored file's bytes: the signature of the rest, the make and ``key``, then ``payload``;
    None when there is no secret to sign with."""
    body = f"{TAG} {key}\n".encode() + payload
    mac = signature(body)
    return None if mac is None else mac + b"\n" + body


def unseal(data: bytes, key: str) -> bytes | None:
    """The payload ``seal`` put in ``data`` when this user on this machine signed it, of this
    make and for ``key``; else None (nothing of it read further)."""
    mac, newline, body = data.partition(b"\n")
    head = f"{TAG} {key}\n".encode()
    if not newline or not body.startswith(head):
        return None  # another make or key (an edit since): not even its signature checked
    expected = signature(body)
    if expected is None or not hmac.compare_digest(mac, expected):
        return None
    return body[len(head):]


def store(file: Path, key: str, value: Any, level: int | None = None) -> bool:
    """``value`` encoded, marshalled (compressed by zlib at ``level``, if given) and sealed into
    ``file``; False when it is not: a value it cannot hold, a read-only series, or no secret to
    sign with (only a slower next check)."""
    try:
        payload = marshal.dumps(encode(value))
    except (TypeError, ValueError, RecursionError):
        return False
    return write(file, key, payload if level is None else zlib.compress(payload, level))


def load(file: Path, key: str, level: int | None = None) -> Any:
    """What ``store`` put in ``file`` under ``key`` (with the same ``level``), decoded; None when
    there is none: missing, of another key or make, not signed here, or damaged."""
    payload = read(file, key)
    if payload is None:
        return None
    try:
        return decode(marshal.loads(payload if level is None else zlib.decompress(payload)))
    except (EOFError, ValueError, TypeError, IndexError, KeyError, RecursionError, zlib.error):
        return None  # damaged: only a slower check


def write(file: Path, key: str, payload: bytes) -> bool:
    """``payload`` sealed under ``key`` into ``file`` (``seal``); False when it is not."""
    sealed = seal(key, payload)
    if sealed is None:
        return False
    try:
        write_atomic(file, sealed, durable=False)
    except OSError:
        return False
    return True


def read(file: Path, key: str) -> bytes | None:
    """The payload ``write`` sealed into ``file`` under ``key`` (``unseal``), else None."""
    try:
        return unseal(file.read_bytes(), key)
    except OSError:
        return None
