"""What ffmpeg said of a file, remembered for the life of the process (``recall``).

ffmpeg's answer about a file (its stream facts, its measurement, its packets' times, the people
in its frames) depends on nothing but the file's bytes, its suffix (which can pick the reader)
and the binary that read it. So an answer is kept under the file's version (its path, size,
mtime and inode: a file that changes, or is replaced by a rename, gets another), carried across
a rename the caller says of (``moved``: a download verified, then moved into the cache), and,
for a file of at most ``CONTENT_MOST`` bytes, under its bytes as well: a copy (the same drawing
downloaded into another series, a sample copied into another folder) is not read again. The
studio and the sheet ask of one file again and again; a test suite makes the same small files
in hundreds of folders. An answer that raised is not kept: the next ask tries again.

What a process made is remembered the same way (``keep_made``, ``made``): the files one piece of
work wrote (a stitch's mezzanine of a clip), handed back while each is still the version it wrote,
so the same work for another folder (another series, a fresh clone) is a copy, not a second encode.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar, cast

from storyboard.media import ffbinary

T = TypeVar("T")
FileKey = tuple[str, str, int, int, int]  # the binary, the file's path, size, mtime, inode
Key = tuple[object, ...]

KEPT = 4096  # answers (and renames, and digests) remembered at most
CONTENT_MOST = 4 * 1024 * 1024  # bytes: a file this small is also remembered by its bytes
_KNOWN: collections.OrderedDict[Key, object] = collections.OrderedDict()
_MOVED: dict[FileKey, FileKey] = {}  # a file's key now -> its key before it was renamed
_DIGESTS: dict[FileKey, str] = {}  # a small file's version -> the sha256 of its bytes
_LOCK = threading.Lock()


def file_identity(path: Path) -> FileKey:
    """What names one version of a file: a file that changes (or is replaced by a rename) gets
    another size, mtime or inode, so a stale answer is never reused."""
    binary = ffbinary.current().require()
    try:
        stat = path.stat()
    except OSError:
        return binary, str(path), -1, -1, -1
    return binary, str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino


def recall(what: tuple[Hashable, ...], path: Path, compute: Callable[[], T]) -> T:
    """The answer ``compute`` gives for ``path`` (``what``: the question's name, then whatever
    else it depends on), from memory when this version of the file, a file it was renamed from, or a
    small file of the same bytes and suffix was asked before."""
    key = file_identity(path)
    own: Key = (what, _MOVED.get(key, key))
    found = _get(own)
    if found is _MISSING:
        same = _content_key(what, path, key)
        found = _MISSING if same is None else _get(same)
        if found is _MISSING:
            found = compute()
            if same is not None:
                _put(same, found)
        _put(own, found)
    return cast(T, found)


def moved(before: FileKey, after: Path) -> None:
    """``after`` is the file whose key was ``before`` (``file_identity``), renamed onto it: the
    same bytes (the same size, mtime and inode), so what was said of it before still holds."""
    now = file_identity(after)
    if now[2:] == before[2:] and now[2] >= 0 and now != before:
        with _LOCK:
            if len(_MOVED) >= KEPT:
                _MOVED.clear()
            _MOVED[now] = _MOVED.get(before, before)  # renamed twice: the first name's answers


def keep_made(what: tuple[Hashable, ...], files: dict[str, Path], note: object = None) -> None:
    """``files`` (by a name of the caller's) are what the work ``what`` just wrote, with ``note``
    (what else it found: kept as it is, so a value nobody changes)."""
    _put((("made", *what), ffbinary.current().require()),
         ({name: file_identity(path) for name, path in files.items()}, note))


def made(what: tuple[Hashable, ...]) -> tuple[dict[str, Path], object]:
    """Those of the files ``keep_made`` was told of for ``what`` that are still the very version
    written (the same binary, path, size, mtime and inode), and its note; nothing and None when
    it was not told of ``what``."""
    found = _get((("made", *what), ffbinary.current().require()))
    if found is _MISSING:
        return {}, None
    kept, note = cast(tuple[dict[str, FileKey], object], found)
    return {name: Path(key[1]) for name, key in kept.items()
            if key[2] >= 0 and file_identity(Path(key[1])) == key}, note


def forget(question: str | None = None) -> None:
    """Nothing remembered any more; with ``question``, only its answers (``"measure"``,
    ``"people"``, ``"probe"``, ``"stream lengths"``, ``"made"``): a bench that times one of them."""
    with _LOCK:
        if question is None:
            _KNOWN.clear()
            _MOVED.clear()
            _DIGESTS.clear()
            return
        for key in [k for k in _KNOWN if cast(tuple[Hashable, ...], k[0])[0] == question]:
            del _KNOWN[key]


_MISSING = object()


def _content_key(what: tuple[Hashable, ...], path: Path, key: FileKey) -> Key | None:
    """What ``path``'s answer depends on when it is small: the binary, its bytes, its suffix."""
    if not 0 <= key[2] <= CONTENT_MOST:
        return None
    with _LOCK:
        digest = _DIGESTS.get(key)
    if digest is None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) != key[2]:
            return None  # changed as it was read: its own key alone
        digest = hashlib.sha256(data).hexdigest()
        with _LOCK:
            if len(_DIGESTS) >= KEPT:
                _DIGESTS.clear()
            _DIGESTS[key] = digest
    return what, key[0], digest, path.suffix.lower()


def _get(key: Key) -> object:
    with _LOCK:
        return _KNOWN.get(key, _MISSING)


def _put(key: Key, found: object) -> None:
    with _LOCK:
        if len(_KNOWN) >= KEPT:
            _KNOWN.popitem(last=False)
        _KNOWN[key] = found
