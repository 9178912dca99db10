"""A season's episodes into ``season.yaml``, the reviewable plan, and a hand-edited one back.

The file lists each episode: its number, title, beats (the story's units it films,
``chapter.unit``, as a range in quotes: ``"3.2-4.1"`` is chapter 3's second unit to chapter 4's
first; a unit is a chapter, a paragraph or a sentence, ``cutting``) and the hook it ends on, with
the story's lines they are (``# novel.md:120-188``) and each unit's first words as comments.
It is written through the guard as every file of the breakdown is: once edited by hand it is
never written over (a new season goes beside it as ``season.yaml.proposed``), and the episodes'
shots are then written from the file as edited (``edited``, ``entries``): a wrong value is an
error at its line, before any call. ``check`` reads it too (``seasoncheck``), against the story's
chapters and their units (``Counts``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storyboard.breakdown.shape.season import Entry, Segment
from storyboard.breakdown.state.answerstore import FOLDER
from storyboard.breakdown.state.guard import digest, read_record
from storyboard.breakdown.state.statefile import Unreadable
from storyboard.errors import Diagnostic, ProblemsFound, one_line
from storyboard.language.document import Document
from storyboard.language.read.load import parse
from storyboard.scaffold.yamltext import comment, fold, trailing

NAME = "season.yaml"
Counts = Mapping[int, int | None]  # each chapter's units (None: not known)
KEYS = ("episode", "title", "beats", "hook")
REF = re.compile(r"^\s*(\d+)\.(\d+)\s*(?:-\s*(\d+)\.(\d+)\s*)?$")
HEAD = ("The season of {source}, as `storyboard breakdown` planned it: which of the story's "
        "units (its chapters, paragraphs\nor sentences) each episode films (chapter.unit: \"3.2\" "
        "is chapter 3's second; a range in quotes, \"3.2-4.1\")\nand the hook it ends on. "
        "Edit it freely: a file you edit is "
        "never overwritten (a new season goes beside it as season.yaml.proposed),\nand each "
        "episode's shots are written from what it says. `storyboard docs breakdown`")


def _q(text: str) -> str:
    return fold(json.dumps(text, ensure_ascii=False))


def season_yaml(season: list[Entry], segments: list[Segment], source: str) -> str:
    """The file's text: same season, same bytes."""
    lines = [*comment(HEAD.format(source=source)), "season:"]
    for entry in season:
        own = [s for s in segments if s.entry.episode == entry.episode]
        where = trailing(f"{source}:{own[0].lines.first}-{own[-1].lines.last}") if own else ""
        lines += [f"  - episode: {entry.episode}", f"    title: {_q(entry.title)}",
                  f"    beats: {_q(entry.beats)}{where}", f"    hook: {_q(entry.hook)}"]
        lines += [c for segment in own for beat in segment.beats
                  for c in comment(beat, "    ")]
        lines += comment(one_line(entry.moved), "    ") if entry.moved else []
    return "\n".join(lines) + "\n"


def edited(series: Path) -> str | None:
    """The text of the series' ``season.yaml`` when it holds other than what the breakdown
    last wrote there (edited by hand, or there before any breakdown); None otherwise."""
    path = series / NAME
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        written, _ = read_record(series / FOLDER / "written.json")
    except (OSError, Unreadable):
        written = {}
    if written.get(NAME) == digest(data):
        return None
    return data.decode("utf-8", errors="replace")


def entries(text: str, file: Path, counts: Counts | None) -> list[Entry]:
    """The season a hand-edited file says (``counts``: each chapter's units; None: the story is
    not known, so only the file's form is held); ``ProblemsFound`` with every problem at its
    line."""
    doc, found = parse(text, file)
    if found:
        raise ProblemsFound(found)
    items = doc.data.get("season") if isinstance(doc.data, dict) else None
    if not isinstance(items, list) or not items:
        raise ProblemsFound([doc.diagnostic((), "expected season: a list of episodes, each "
                                                "with episode, title, beats and hook")])
    out: list[Entry] = []
    problems: list[Diagnostic] = []
    after = (0, 0)
    for index, item in enumerate(items):
        entry = _entry(doc, index, item, counts, after, problems)
        if entry is not None:
            out.append(entry)
            after = entry.last
    if problems:
        raise ProblemsFound(problems)
    return out


def _entry(doc: Document, index: int, item: Any, counts: Counts | None,
           after: tuple[int, int], problems: list[Diagnostic]) -> Entry | None:
    where = ("season", index)
    if not isinstance(item, dict):
        problems.append(doc.diagnostic(where, "expected an episode: {episode, title, beats, "
                                              "hook}"))
        return None
    before = len(problems)
    problems += [doc.diagnostic((*where, k), f"unknown key {k!r}: expected one of "
                                f"{', '.join(KEYS)}", key=True) for k in item if k not in KEYS]
    problems += [doc.diagnostic(where, f"expected {k}: this episode has none", key=False)
                 for k in KEYS if k not in item]
    if len(problems) > before:
        return None
    if item["episode"] != index + 1 or type(item["episode"]) is not int:
        problems.append(doc.diagnostic((*where, "episode"), f"expected episode: {index + 1} "
                                       "(the episodes are numbered in order from 1)"))
    for key in ("title", "hook"):
        if not isinstance(item[key], str) or not item[key].strip():
            problems.append(doc.diagnostic((*where, key), f"expected {key} as words in quotes"))
    refs = _refs(doc, where, item["beats"], counts, after, problems)
    if len(problems) > before or refs is None:
        return None
    return Entry(index + 1, item["title"], refs[0], refs[1], item["hook"])


def _refs(doc: Document, where: tuple[str, int], value: Any, counts: Counts | None,
          after: tuple[int, int], problems: list[Diagnostic]) -> tuple[tuple[int, int], ...] | None:
    said = REF.match(value) if isinstance(value, str) else None
    at = (*where, "beats")
    if said is None:
        problems.append(doc.diagnostic(at, f"expected beats as chapter.unit or a range in quotes "
                                           f"(\"3.2-4.1\"), found {value!r}"))
        return None
    numbers = [int(n) for n in said.groups() if n is not None]
    refs = ((numbers[0], numbers[1]), (numbers[-2], numbers[-1]))
    for chapter, beat in refs:
        why = _missing(chapter, beat, counts)
        if why is not None:
            problems.append(doc.diagnostic(at, f"unit {chapter}.{beat}: chapter {chapter} {why}"))
            return None
    if refs[1] < refs[0] or refs[0] <= after:
        problems.append(doc.diagnostic(at, f"beats {value}: expected a range in story order, "
                                           f"after the episode before (which ends at "
                                           f"{after[0]}.{after[1]})"))
        return None
    return refs


def _missing(chapter: int, beat: int, counts: Counts | None) -> str | None:
    """Why unit ``chapter.beat`` is not in the story (None: it is, or cannot be told)."""
    if beat < 1:
        return "counts its units from 1"
    if counts is None:
        return None
    if chapter not in counts:
        return "is not in the story"
    has = counts[chapter]
    return f"has {has} unit(s)" if has is not None and beat > has else None
