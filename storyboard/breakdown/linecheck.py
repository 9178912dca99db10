"""A written series' lines held to who the story says says them, into ``check``'s warnings.

Each ``say:`` the breakdown wrote carries the story's line it came from (``# story.md: line
12``). Where the story names that line's speaker beside it (``stages.speakers.attributed``,
by the newest rules whatever a series was asked by: ``"...," said Mrs. Hudson``), and that
person is one of the series' characters, a line given to another character is a warning at the
line, naming the story's line and the character the story gives it to: the breakdown sends such
an answer back, and a series edited since (or written before it did) would put the words in the
wrong mouth. A line whose speaker the story does not name (``said he``), or names as no
character of the series (a place or prop is none: ``speaks``; ``castcheck`` says so), is not
judged by it; a line given to the one it speaks to by name (``"..., Gluck, my boy"`` given to
Gluck) is a warning too, unless the story says that one says it. Only a series the breakdown
wrote is held so (its record names the story; nothing is sent, nothing is paid); without it, or
with the story gone, nothing is said.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storyboard.breakdown.castcheck import MAX_BYTES, cast_names
from storyboard.breakdown.source import Chapter, Story
from storyboard.breakdown.stages.faithful import MARKS, Flat, shorten
from storyboard.breakdown.stages.speakers import Said, addressed, attributed, said_by, same
from storyboard.breakdown.state.answerstore import RULES
from storyboard.breakdown.status import recorded
from storyboard.errors import Diagnostic
from storyboard.language.document import Document
from storyboard.language.read.load import parse

CODE = "line-speaker"
MAX_FILES = 2000  # episode files read at most (a season the breakdown wrote has at most 500)
WHERE = re.compile(r"#\s*(.+?): ((?:line \d+(?:, )?)+)\s*$")  # ``# story.md: line 5, line 7``


class Told:
    """The story's attributed quotes, by chapter (each chapter's folded text read once)."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self._read: dict[int, tuple[Flat, list[Said]]] = {}

    def who(self, words: str, line: int) -> list[tuple[str, str, int]]:
        """Each stretch of the story ``words`` holds, from its ``line`` on (a speaker's two lines
        in a scene are written joined: each is judged), with whom the story says says it ("" where
        it names no one) and its own line."""
        chapter = next((c for c in self.story.chapters if c.first <= line <= c.last), None)
        if chapter is None:
            return []
        flat, said = self._of(chapter)
        return [(said_by(flat, said, part, at, at), part, at)
                for part, at in stretches(flat, words, line)]

    def _of(self, chapter: Chapter) -> tuple[Flat, list[Said]]:
        if chapter.number not in self._read:
            flat = Flat(chapter)
            self._read[chapter.number] = (flat, attributed(flat, RULES))
        return self._read[chapter.number]


def stretches(flat: Flat, words: str, line: int) -> list[tuple[str, int]]:
    """``words`` as the runs of the story's text they join, in order, each with its line: the
    longest run of words from the start found at or after the last one's end (from ``line``), then
    the rest; a word found nowhere is left out. The whole, found as it is, is one run. Where none
    is found from ``line`` on (a series edited since), from the chapter's start."""
    start = bisect.bisect_left(flat.lines, line)  # the lines only grow: the line's first character
    return _runs(flat, words.split(), start) or _runs(flat, words.split(), 0)


def _runs(flat: Flat, tokens: list[str], start: int) -> list[tuple[str, int]]:
    out, first = list[tuple[str, int]](), 0
    while first < len(tokens):
        longest = _longest(flat, tokens[first:], start)
        if not longest:
            first += 1
            continue
        part = " ".join(tokens[first:first + longest])
        found = part.strip(MARKS + " ")
        at = flat.text.find(found, start)
        out.append((part, flat.lines[at]))
        start, first = at + len(found), first + longest
    return out


def _longest(flat: Flat, tokens: list[str], start: int) -> int:
    """How many of ``tokens``, from the first, the story holds in a row at or after ``start`` (a
    shorter run of a run found is found too: halved, not tried word by word)."""
    def held(count: int) -> bool:
        wanted = " ".join(tokens[:count]).strip(MARKS + " ")
        return bool(wanted) and flat.text.find(wanted, start) >= 0
    low, high = 0, len(tokens)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if held(middle) else (low, middle - 1)
    return low


def line_problems(series: Path) -> list[Diagnostic]:
    """A warning at each ``say:`` line given to another character than the story's speaker."""
    made = recorded(series)
    path = series / "storyboard.yaml"
    if made is None or not path.is_file() or path.stat().st_size > MAX_BYTES:
        return []
    doc, found = parse(path.read_bytes().decode("utf-8", errors="replace"), path)
    if found or not isinstance(doc.data, dict) or not isinstance(doc.data.get("characters"), dict):
        return []
    cast = {str(key): cast_names({key: entry}) for key, entry in doc.data["characters"].items()
            if speaks(entry)}
    told, source = Told(made[1]), Path(made[1].file).name
    out: list[Diagnostic] = []
    for episode in sorted((series / "episodes").glob("*.yaml"))[:MAX_FILES]:
        if episode.is_file() and episode.stat().st_size <= MAX_BYTES:
            out += _episode(episode, source, told, cast)
    return out


def speaks(entry: Any) -> bool:
    """Whether a ``characters:`` entry may be given a line: a character, not a place or prop
    (``image: {kind: prop}``), whatever its name (the cast of The Velveteen Rabbit held a prop
    "the little rabbit", which is what the story calls the Rabbit)."""
    image = entry.get("image") if isinstance(entry, dict) else None
    return not (isinstance(image, dict) and image.get("kind") in ("place", "prop"))


def _episode(path: Path, source: str, told: Told, cast: dict[str, list[str]]) -> list[Diagnostic]:
    doc, found = parse(path.read_bytes().decode("utf-8", errors="replace"), path)
    if found:
        return []  # ``check`` says what is wrong with the file itself
    out = []
    for at, key, words, line in _lines(doc, source):
        for who, part, on in told.who(words, line):
            owners = [k for k, names in cast.items() if who and any(same(who, n) for n in names)]
            if owners and key not in owners:
                out.append(doc.diagnostic(at, (
                    f"the story gives this line to {who} ({source}:{on}: "
                    f"{shorten(' '.join(part.split()), 40)!r}), and here {key} says it; expected "
                    f"the story's speaker: give it to {owners[0]}"), key=True,
                    severity="warning", code=CODE))
                break
            to = _to(part, cast.get(key, [key])) if not owners and not (
                who and any(same(who, n) for n in cast.get(key, [key]))) else ""
            if to:
                story = f": the story gives it to {who}" if who else ""
                out.append(doc.diagnostic(at, (
                    f"this line speaks to {to} ({source}:{on}: "
                    f"{shorten(' '.join(part.split()), 40)!r}), and here {key} says it; expected "
                    f"another speaker{story}"), key=True, severity="warning", code=CODE))
                break
    return out


def _to(words: str, names: list[str]) -> str:
    """The one of ``names`` that ``words`` speak to by name ("" where none)."""
    return next((n for n in addressed(words) if any(same(n, name) for name in names)), "")


def _lines(doc: Document, source: str) -> Iterator[tuple[tuple[Any, ...], str, str, int]]:
    """Each ``say:`` line of an episode written from ``source``: where it is, its speaker, its
    words and the story's line its comment names."""
    shots = doc.data.get("shots") if isinstance(doc.data, dict) else None
    for s, shot in enumerate(shots if isinstance(shots, list) else []):
        scenes = shot.get("scenes") if isinstance(shot, dict) else None
        for c, scene in enumerate(scenes if isinstance(scenes, list) else []):
            say = scene.get("say") if isinstance(scene, dict) else None
            if not isinstance(say, dict):
                continue
            at = ("shots", s, "scenes", c, "say")
            noted = WHERE.search(doc.line_text(doc.span(at).line) or "")
            if noted is None or noted[1] != source:
                continue
            numbers = [int(n) for n in re.findall(r"\d+", noted[2])]
            for (key, words), line in zip(say.items(), numbers, strict=False):
                if isinstance(words, str):
                    yield (*at, key), str(key), words, line
