"""Clean YAML documents into a signed cache keyed by their content: a re-check parses only what changed.

Parsing YAML is the slowest part of a check (libyaml builds a node per value, then we walk them). A
document that loaded and passed the schema is stored as plain data (its data and span tables,
marshalled: several times faster than JSON either way) under ``.storyboard/parsed/``, one file per
source file, keyed by the sha256 of its text, of this module's format and of the schemas, and
sealed like the compiled series (``storedform``: signed by this user's secret, named by the
interpreter's make). marshal, not pickle: a cache in a cloned repository must never run code, and
none of it reaches ``marshal`` unless this user on this machine wrote it (a file planted in a
repository, damaged, or written by another Python is only a slower check).
A process keeps the documents it parsed too (the studio, a re-check in the same process): an
unchanged file is then the very same ``Document``, read from neither disk nor JSON.
Like all of ``.storyboard/``, the cache is never read or written through a link (``state_folder``):
a linked ``.storyboard`` or ``parsed`` folder only makes the check slower.
"""

from __future__ import annotations

import hashlib
import marshal
from pathlib import Path
from typing import Any

from storyboard.files import LinkedStateFolder, state_folder
from storyboard.language import storedform
from storyboard.language.document import Document

FORMAT = "3"  # 3: marshal, sealed (``storedform``)
MEMORY_FILES = 4096  # documents a process keeps (the newest parse of each file)
_MEMORY: dict[tuple[Path, str], Document] = {}  # (file, salt) -> its newest document


def forget() -> None:
    """Drop the documents this process keeps."""
    _MEMORY.clear()


class ParseCache:
    def __init__(self, folder: Path | None, salt: str = "") -> None:
        self.folder = _real(folder)
        self.salt = salt

    def _entry(self, file: Path) -> Path | None:
        if self.folder is None:
            return None
        name = hashlib.sha256(str(file).encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{name}.parsed"

    def key(self, text: str) -> str:
        """The text's key: its sha256 with this format's and the schemas' (``Document.digest``)."""
        return hashlib.sha256(f"{FORMAT}\0{self.salt}\0{text}".encode()).hexdigest()

    def get(self, file: Path, text: str) -> Document | None:
        key = self.key(text)
        kept = _MEMORY.get((file, self.salt))
        if kept is not None and kept.digest == key:
            kept.__dict__.pop("name", None)  # shown relative to the working folder, as it is now
            return kept
        found = self._read(file, text, key)
        if found is not None:
            self.remember(found)
        return found

    def remember(self, doc: Document) -> None:
        """Keep ``doc`` (clean, with its ``digest``) for the next ``get`` of the same text."""
        if len(_MEMORY) >= MEMORY_FILES:
            _MEMORY.clear()
        _MEMORY[(doc.file, self.salt)] = doc

    def _read(self, file: Path, text: str, key: str) -> Document | None:
        entry = self._entry(file)
        payload = None if entry is None else storedform.read(entry, key)
        if payload is None:
            return None  # none, another text's, or not written by this user here
        try:
            data, spans, key_spans, quoted = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None  # a damaged entry is only a slower check
        tables: list[Any] = [spans, key_spans, quoted]
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in tables):
            return None
        return Document(file=file, data=data, lines=text.splitlines(), spans=spans,
                        key_spans=key_spans, quoted=quoted, digest=key)

    def put(self, doc: Document, text: str) -> None:
        """Store a clean document, on disk and in this process."""
        self.remember(doc)
        entry = self._entry(doc.file)
        if entry is None:
            return
        try:
            payload = marshal.dumps((doc.data, doc.spans, doc.key_spans, doc.quoted))
        except ValueError:
            return  # a value marshal cannot hold: only a slower next check
        # a read-only series still checks; it is just not cached
        storedform.write(entry, doc.digest or self.key(text), payload)


def _real(folder: Path | None) -> Path | None:
    """``folder`` when no folder from ``.storyboard`` down to it is a link, else None (no cache)."""
    if folder is None:
        return None
    try:
        return state_folder(folder)
    except (LinkedStateFolder, OSError):
        return None
