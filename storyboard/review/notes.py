"""Review notes into ``review.yaml`` beside the series, and back: a review that survives in git.

One note is a shot (``ep01/ballad``), an optional take, its text, its author and when. The file is
plain YAML with one short mapping per note, appended in order, so two reviewers' notes merge in git
like any text and show in a pull request. The author comes from ``--author``, else git's
``user.name`` (the repository's, then the user's ``~/.gitconfig``), else the login name.
"""

from __future__ import annotations

import configparser
import getpass
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from storyboard.errors import Diagnostic, ProblemsFound, Span, StoryboardError
from storyboard.files import write_atomic
from storyboard.language.document import MAX_FILE_BYTES, Document, PathKey, display_path
from storyboard.language.read.load import load_file, parse
from storyboard.language.request import Manifest
from storyboard.run.state.takes import find_shot, with_retakes

NOTES_FILE = "review.yaml"
MAX_TEXT = 4000  # characters in one note
MAX_AUTHOR = 100
HEADER = "# Review notes (storyboard studio, storyboard sheet)\n"
NOTE_KEYS = ("shot", "take", "text", "author", "time")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and newline are text


@dataclass(frozen=True)
class Note:
    shot: str  # "ep01/ballad"
    text: str
    author: str
    time: str  # ISO 8601, UTC, to the second
    take: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def notes_path(root: Path) -> Path:
    return root / NOTES_FILE


def read_notes(root: Path) -> list[Note]:
    """The series' notes, oldest first; a missing file is no notes. The file is read as the
    series' own files are (size, depth, aliases, tags, links out of the series): anything that is
    not a list of notes is a ProblemsFound at its file, line and column."""
    path = notes_path(root)
    if not (path.exists() or path.is_symlink()):
        return []
    doc = _document(root, path)
    problems: list[Diagnostic] = []
    notes = [note for i, item in enumerate(_items(doc, problems))
             if (note := _note(doc, ("notes", i), item, problems)) is not None]
    if problems:
        raise ProblemsFound(problems)
    return notes


def _document(root: Path, path: Path) -> Document:
    if not path.resolve().is_relative_to(root.resolve()):
        raise ProblemsFound([Diagnostic(Span(display_path(path), 1, 1), (
            f"{NOTES_FILE} leads outside the series folder (a link?); expected a file inside "
            "the series (it was not read)"))])
    doc, problems = load_file(path)
    if problems:
        raise ProblemsFound(problems)
    return doc


def _items(doc: Document, problems: list[Diagnostic]) -> list[Any]:
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict) or set(data) - {"notes"}:
        problems.append(doc.diagnostic((), "expected a mapping with one key, 'notes': a list of "
                                            "notes"))
        return []
    items = data.get("notes") or []
    if not isinstance(items, list):
        problems.append(doc.diagnostic(("notes",), "expected 'notes' to be a list of notes"))
        return []
    return items


def _note(doc: Document, where: PathKey, item: Any, problems: list[Diagnostic]) -> Note | None:
    if not isinstance(item, dict):
        problems.append(doc.diagnostic(where, "expected a note: a mapping with 'shot' and 'text'"))
        return None
    before = len(problems)
    for key in item:
        if key not in NOTE_KEYS:
            problems.append(doc.diagnostic((*where, key), f"unknown key {key!r} in a note; "
                                           f"expected: {', '.join(NOTE_KEYS)}", key=True))
    texts = {key: _read_text(doc, (*where, key), item.get(key), key in ("shot", "text"), problems)
             for key in ("shot", "text", "author", "time")}
    take = item.get("take")
    if take is not None and (isinstance(take, bool) or not isinstance(take, int) or take < 1):
        problems.append(doc.diagnostic((*where, "take"), "expected 'take' as a whole number, 1 "
                                                         "or more"))
    if len(problems) > before:
        return None
    return Note(texts["shot"], texts["text"], texts["author"], texts["time"], take)


def _read_text(doc: Document, where: PathKey, value: Any, required: bool,
               problems: list[Diagnostic]) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        problems.append(doc.diagnostic(where, f"expected {where[-1]!r} as text"))
        return ""
    bad = _invalid(value)
    if bad is not None:
        offset, what = bad
        span = doc.text_span(where, offset)
        problems.append(doc.diagnostic(where, f"{what} in {where[-1]!r}; expected plain text",
                                       span=span))
    return value


def _invalid(text: str) -> tuple[int, str] | None:
    """Where ``text`` holds what no note may (a lone surrogate: not text at all; a control
    character), and what it is; None when it is plain text."""
    for pattern, what in ((_SURROGATE, "a lone surrogate (not a character)"),
                          (_CONTROL, "a control character")):
        found = pattern.search(text)
        if found is not None:
            return found.start(), f"{what} {found.group()!a}"
    return None


def plain_text(text: str, what: str) -> str:
    """``text`` when it holds no lone surrogate and no control character (tab and newline
    aside), else a StoryboardError saying where: checked before anything is written."""
    bad = _invalid(text)
    if bad is not None:
        raise StoryboardError(f"{what}: {bad[1]} at character {bad[0] + 1}; expected plain text")
    return text


def note_on(manifest: Manifest, shot: str, text: str, *, take: int | None = None,
            author: str | None = None) -> Note:
    """A note on a shot the series has (``ep01/ballad``, or its id alone when one episode has
    it), on one of its takes when ``take`` is given; else the command line's error, with its
    "did you mean". The note names the shot as ``episode/shot``."""
    found = find_shot(with_retakes(manifest), shot)
    numbers = [t.take for t in found.all_takes()]
    if take is not None and take not in numbers:
        raise StoryboardError(f"{found.shot_id} has no take {take}; expected one of: "
                              f"{', '.join(map(str, numbers))}")
    return add_note(manifest.root, found.shot_id, text, take=take, author=author)


def add_note(root: Path, shot: str, text: str, *, take: int | None = None,
             author: str | None = None, now: float | None = None) -> Note:
    """Append one note to ``review.yaml`` (written whole, atomically) and return it. Text that
    could not be read back (a lone surrogate, a control character) is refused, and so is a note
    that would make the file unreadable; nothing is written then."""
    text = plain_text(text.replace("\r\n", "\n").replace("\r", "\n").strip(), "the note")
    if not text:
        raise StoryboardError("a note needs some text")
    if len(text) > MAX_TEXT:
        raise StoryboardError(f"a note has at most {MAX_TEXT} characters, not {len(text)}")
    shot = plain_text(shot, "the shot")
    if take is not None and (isinstance(take, bool) or not isinstance(take, int) or take < 1):
        raise StoryboardError(f"take {take!r}: expected a whole number, 1 or more")
    name = plain_text(author, "the author") if author else _repaired(git_author(root))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))
    note = Note(shot, text, name[:MAX_AUTHOR], stamp, take)
    notes = [*read_notes(root), note]
    body = HEADER + yaml.safe_dump({"notes": [n.to_dict() for n in notes]}, sort_keys=False,
                                   allow_unicode=True, width=100)
    _write(notes_path(root), body)
    return note


def _repaired(name: str) -> str:
    """A name from git's config or the login, without what a note may not hold."""
    return _CONTROL.sub("", _SURROGATE.sub("", name)) or "someone"


def _write(path: Path, body: str) -> None:
    """``body`` into ``path`` once it is known to read back (the loader's limits)."""
    if len(body.encode("utf-8")) > MAX_FILE_BYTES:
        raise StoryboardError(f"{NOTES_FILE} would grow past {MAX_FILE_BYTES // (1 << 20)} MiB; "
                              "move the notes already dealt with out of it, then add this one")
    _, problems = parse(body, path)
    if problems:
        raise StoryboardError(f"this note would make {NOTES_FILE} unreadable: "
                              f"{problems[0].message}")
    try:
        write_atomic(path, body, durable=False)
    except OSError as exc:
        raise StoryboardError(f"cannot write {path}: {exc.strerror or exc}") from exc


def notes_by_shot(notes: list[Note]) -> dict[str, list[Note]]:
    found: dict[str, list[Note]] = {}
    for note in notes:
        found.setdefault(note.shot, []).append(note)
    return found


def git_author(root: Path) -> str:
    """git's ``user.name`` for this folder (its repository's config, then the user's), read from
    the config files themselves; else the login name."""
    for config in (*_repo_configs(root), Path.home() / ".gitconfig"):
        name = _user_name(config)
        if name:
            return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "someone")


def _repo_configs(root: Path) -> list[Path]:
    here = root.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git" / "config").is_file():
            return [folder / ".git" / "config"]
    return []


def _user_name(config: Path) -> str:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read(config, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return ""
    return parser.get("user", "name", fallback="").strip().strip('"')
