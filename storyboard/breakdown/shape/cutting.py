"""A story into N contiguous segments on its own units, whole units kept, balanced by length.

A unit is a chapter (a window of one, ``source``), a paragraph (a run of non-blank lines that is
not a heading) or a sentence (a run of words up to a ``.``, ``!``, ``?`` or ``…`` before a space
or the end of a line, and a paragraph's words after its last such mark; a sentence may end inside
a line). A season of N episodes is cut on the coarsest of these that gives at least N
(``level``): each episode is a run of neighbouring units (``balanced``: each cut at the unit
boundary nearest its share of the story's characters), and its lines (``piece``) are the file's
own, numbered as in the file, a line a cut falls inside holding only the words on its side.
Units are numbered ``chapter.unit`` within their chapter, as ``season.yaml`` writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from storyboard.breakdown.source import CHAPTER, Chapter, Story

SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s|$)")
HEADING = re.compile(r"^\s*(#|=+\s*$|-+\s*$|```|~~~)")
LETTER = re.compile(r"[^\W\d_]")
LEVELS = ("chapter", "paragraph", "sentence")
Point = tuple[int, int]  # (a line's number in the file, a column in it)


@dataclass(frozen=True)
class Unit:
    """One unit: its chapter's number, its number in the chapter (from 1), where it starts and
    where it ends (the end's column one past its last character), and its words."""

    chapter: int
    index: int
    start: Point
    end: Point
    text: str

    @property
    def ref(self) -> str:
        return f"{self.chapter}.{self.index}"


def _paragraphs(chapter: Chapter) -> list[list[int]]:
    """The indexes in ``chapter.lines`` of each paragraph's lines (a heading line ends one and
    belongs to none)."""
    runs: list[list[int]] = []
    open_ = False
    for index, line in enumerate(chapter.lines):
        if not line.strip() or HEADING.match(line) or CHAPTER.match(line):
            open_ = False
            continue
        if open_:
            runs[-1].append(index)
        else:
            runs.append([index])
            open_ = True
    return runs


def _whole(chapter: Chapter, first: int, last: int, number: int) -> Unit:
    lines = chapter.lines[first:last + 1]
    return Unit(chapter.number, number, (chapter.first + first, 0),
                (chapter.first + last, len(chapter.lines[last])), " ".join(
                    line.strip() for line in lines if line.strip()))


def _sentences(chapter: Chapter, run: list[int], start: int) -> list[Unit]:
    """The sentences of one paragraph, numbered from ``start``."""
    text, where = "", list[Point]()
    for index in run:
        line = chapter.lines[index]
        left = len(line) - len(line.lstrip())
        if text:
            text += " "
            where.append((chapter.first + index, left))
        for column in range(left, len(line.rstrip())):
            text += line[column]
            where.append((chapter.first + index, column))
    where.append((where[-1][0], where[-1][1] + 1))
    bounds = [m.end() for m in SENTENCE_END.finditer(text)]
    if not bounds or bounds[-1] < len(text):
        bounds.append(len(text))
    out: list[Unit] = []
    begin = 0
    for end in bounds:
        piece = text[begin:end]
        if not LETTER.search(piece):
            if out:  # marks with no words after a sentence: that sentence's
                out[-1] = replace(out[-1], end=_end(where, end), text=out[-1].text + piece)
            begin = end
            continue
        skip = len(piece) - len(piece.lstrip())
        out.append(Unit(chapter.number, start + len(out), where[begin + skip], _end(where, end),
                        piece.strip()))
        begin = end
    return out


def _end(where: list[Point], end: int) -> Point:
    line, column = where[end - 1]
    return line, column + 1


def units(story: Story, level: str) -> list[Unit]:
    """Every unit of ``level`` in the story, in order."""
    out: list[Unit] = []
    for chapter in story.chapters:
        runs = _paragraphs(chapter)
        if level == "chapter":
            if runs:
                out.append(_whole(chapter, runs[0][0], runs[-1][-1], 1))
        elif level == "paragraph":
            out += [_whole(chapter, run[0], run[-1], n) for n, run in enumerate(runs, 1)]
        else:
            own: list[Unit] = []
            for run in runs:
                own += _sentences(chapter, run, len(own) + 1)
            out += own
    return out


def sentence_units(story: Story) -> list[Unit]:
    return units(story, "sentence")


def level(story: Story, episodes: int) -> str:
    """The coarsest unit the story has at least ``episodes`` of (``sentence`` when none has)."""
    for each in LEVELS[:-1]:
        if len(units(story, each)) >= episodes:
            return each
    return LEVELS[-1]


def balanced(found: list[Unit], episodes: int) -> list[tuple[int, int]]:
    """``found`` cut into ``episodes`` runs of neighbours (first and last index of each), each
    cut at the boundary nearest its share of the characters, every run at least one unit."""
    return balanced_sizes([len(unit.text) for unit in found], episodes)


def balanced_sizes(sizes: list[int], runs: int) -> list[tuple[int, int]]:
    """Items of ``sizes`` cut into ``runs`` runs of neighbours (first and last index of each),
    each cut at the boundary nearest its share of the whole, every run at least one item."""
    count = len(sizes)
    if count < runs or runs < 1:
        return []
    reach, total = [], 0
    for size in sizes:
        total += max(1, size)
        reach.append(total)
    cuts, after = [], 0
    for k in range(1, runs):
        aim = total * k / runs
        lowest, highest = after + 1, count - (runs - k)
        cut = min(range(lowest, highest + 1), key=lambda i: (abs(reach[i - 1] - aim), i))
        cuts.append(cut)
        after = cut
    bounds = [0, *cuts, count]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(runs)]


def piece(story: Story, start: Point, end: Point, number: int, episode: int) -> Chapter:
    """The story's lines from ``start`` to ``end`` as a chapter of their own (``number``), for
    ``episode``: each line the file's, numbered as in the file, the first and last holding only
    their words inside the range; titled by the chapter it starts in."""
    text: dict[int, str] = {}
    title = story.chapters[0].title
    for chapter in story.chapters:
        for offset, line in enumerate(chapter.lines):
            text[chapter.first + offset] = line
        if chapter.first <= start[0]:
            title = chapter.title
    lines = []
    for number in range(start[0], end[0] + 1):
        words = text.get(number, "")
        if number == end[0]:
            words = words[:end[1]]
        if number == start[0]:
            words = words[start[1]:]
        lines.append(words)
    return Chapter(story.file, number, title, start[0], tuple(lines), episode=episode)


def containing(story: Story, first: int, last: int) -> list[int]:
    """The numbers of the story's chapters that lines ``first..last`` touch."""
    return [c.number for c in story.chapters if c.first <= last and first <= c.last]
