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
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from storyboard.errors import StoryboardError
from storyboard.files import write_text_atomic

NOTES_FILE = "review.yaml"
MAX_TEXT = 4000  # characters in one note
MAX_AUTHOR = 100


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
    """The series' notes, oldest first; a missing file is no notes. A file that is not a list of
    notes is an error that names it."""
    path = notes_path(root)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StoryboardError(f"{path}: not readable as YAML: {exc}") from exc
    items = data.get("notes", []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise StoryboardError(f"{path}: expected a mapping with a 'notes' list")
    return [_note(path, item) for item in items]


def _note(path: Path, item: object) -> Note:
    if not isinstance(item, dict) or not isinstance(item.get("shot"), str) \
            or not isinstance(item.get("text"), str):
        raise StoryboardError(f"{path}: every note needs a 'shot' and a 'text' (got {item!r:.80})")
    take = item.get("take")
    return Note(item["shot"], item["text"], str(item.get("author", "")), str(item.get("time", "")),
                take if isinstance(take, int) and not isinstance(take, bool) else None)


def add_note(root: Path, shot: str, text: str, *, take: int | None = None,
             author: str | None = None, now: float | None = None) -> Note:
    """Append one note to ``review.yaml`` (written whole, atomically) and return it."""
    text = text.strip()
    if not text:
        raise StoryboardError("a note needs some text")
    if len(text) > MAX_TEXT:
        raise StoryboardError(f"a note has at most {MAX_TEXT} characters, not {len(text)}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))
    note = Note(shot, text, (author or git_author(root))[:MAX_AUTHOR], stamp, take)
    notes = [*read_notes(root), note]
    body = yaml.safe_dump({"notes": [n.to_dict() for n in notes]}, sort_keys=False,
                          allow_unicode=True, width=100)
    write_text_atomic(notes_path(root), "# Review notes (storyboard studio, storyboard sheet)\n" + body)
    return note


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
