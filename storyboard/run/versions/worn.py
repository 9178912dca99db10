"""A shot as a version was made from it and as it is now into the look or picture that changed.

``version render`` keeps, with each shot of the cut it made a version from, what that take was
compiled from (``lockfile.describe``: its prompt, its media, its parameters). When all that moved
since is what the shot wears (a reference's content, not its YAML), the cause is a character's
look or picture: ``check`` says the stale version at that line (the character's ``looks:`` entry
the shot wears now, else its picture line), not at the shot's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import Span
from storyboard.language.document import Document
from storyboard.language.request import CompiledShot
from storyboard.run.state.lock.lockfile import describe
from storyboard.run.trip.changes import explain


@dataclass(frozen=True)
class Worn:
    """A character's look or picture that changed what a shot wears, and its line."""

    what: str  # "mia's look coat", "mia's picture"
    span: Span
    changes: str  # explain's words: "Image 1 (mia): content changed (media/coat.png)"


def recorded(take: CompiledShot, root: Path) -> dict[str, Any]:
    """What ``take`` was compiled from, as a version's cut keeps it."""
    return dict(describe(take, root))


def worn_change(doc: Document, shot: CompiledShot, was: object, root: Path) -> Worn | None:
    """The look or picture whose change alone moved ``shot`` from ``was`` (a cut's record of
    it: ``{"take", "hash", "entry"}``); None when its YAML changed too, or nothing is known."""
    entry = was.get("entry") if isinstance(was, dict) else None
    if not isinstance(entry, dict):
        return None
    now = describe(shot, root)
    changes = explain(entry, now)
    if any(change.kind != "reference" for change in changes):
        return None
    characters = _characters(entry.get("media") or {}, now["media"])
    for character in characters:
        found = _line(doc, character, shot.looks.get(character))
        if found is not None:
            what, span = found
            return Worn(what, span, "; ".join(str(change) for change in changes))
    return None


def _characters(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The characters whose references differ between ``old`` and ``new`` media entries."""
    found = set()
    for key in set(old) | set(new):
        if old.get(key) != new.get(key):
            item = new.get(key) or old.get(key) or {}
            if isinstance(item, Mapping) and item.get("character"):
                found.add(str(item["character"]))
    return sorted(found)


def _line(doc: Document, character: str, look: str | None) -> tuple[str, Span] | None:
    """The character's ``looks:`` entry ``look`` (when the series declares it), else its
    picture line, else its name's; None when the series file does not declare it."""
    if not isinstance(doc.data, dict):
        return None
    for path, what in (((("characters", character, "looks", look), f"{character}'s look {look}")
                        if look else ((), "")),
                       (("characters", character, "image"), f"{character}'s picture"),
                       (("characters", character), f"{character}'s picture")):
        if path and doc.get(path) is not None:
            return what, doc.span(path, key=len(path) == 4)
    return None
