"""One chapter's shots answer into timed shots: lines held to the chapter, quotes cut from it.

``problems`` is the stage's check (what is sent back to the model): a line range outside the
chapter or out of order, a shot shorter than 2 or longer than 15 seconds (wan2.7-r2v's range), a
speaker or cast name the cast stage did not give, more than 5 references in one shot, and a quote
that is not the author's words. ``built`` turns an answer into ``Shot``s: each named by a digest
of its own lines of the source (so a shot's id changes only when its words do), its names as
``@key`` mentions, its dialogue the source's words.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.cast import Cast
from storyboard.breakdown.faithful import Flat, check_quote
from storyboard.breakdown.prompts import MAX_SHOT_SECONDS, MIN_SHOT_SECONDS
from storyboard.breakdown.source import Chapter

MAX_REFERENCES = 5


@dataclass
class Scene:
    start: float
    end: float
    action: str
    say: list[tuple[str, str, int]] = field(default_factory=list)  # key, words, line


@dataclass
class Shot:
    id: str
    file: str
    first: int
    last: int
    camera: str
    duration: int
    cast: list[str]
    scenes: list[Scene]


def _half(seconds: float) -> float:
    return max(0.5, math.ceil(seconds * 2) / 2)


def seconds_of(shot: dict[str, Any]) -> float:
    return sum(_half(float(scene["seconds"])) for scene in shot["scenes"])


def _range_problems(where: str, shot: dict[str, Any], chapter: Chapter, after: int) -> list[str]:
    first, last = shot["from_line"], shot["to_line"]
    if not (chapter.first <= first <= last <= chapter.last):
        return [f"{where}: lines {first}..{last} are not within the chapter's lines "
                f"{chapter.first}..{chapter.last} (from_line <= to_line)"]
    if first <= after:
        return [f"{where}: lines {first}..{last} overlap or come before the shot before it "
                f"(which ends at line {after})"]
    return []


def _length_problems(where: str, shot: dict[str, Any]) -> list[str]:
    total = seconds_of(shot)
    if not shot["scenes"]:
        return [f"{where}: a shot needs at least one scene"]
    if not MIN_SHOT_SECONDS <= math.ceil(total) <= MAX_SHOT_SECONDS:
        return [f"{where}: its scenes last {total:g} s; a shot lasts {MIN_SHOT_SECONDS} to "
                f"{MAX_SHOT_SECONDS} s (split it, or join it to the next)"]
    return []


def _name_problems(where: str, shot: dict[str, Any], names: dict[str, list[str]]) -> list[str]:
    known = {n.lower() for kind in names.values() for n in kind}
    speakers = {n.lower() for n in names["character"]}
    found = [f"{where}.cast: {name!r} is not one of the given names"
             for name in shot["cast"] if name.lower() not in known]
    found += [f"{where}.scenes[{s}].lines[{n}].speaker: {line['speaker']!r} is not one of the "
              "given characters" for s, scene in enumerate(shot["scenes"])
              for n, line in enumerate(scene["lines"]) if line["speaker"].lower() not in speakers]
    refs = {n.lower() for n in shot["cast"]} | {
        line["speaker"].lower() for scene in shot["scenes"] for line in scene["lines"]}
    if len(refs) > MAX_REFERENCES:
        found.append(f"{where}: {len(refs)} characters, places and props; a shot shows at most "
                     f"{MAX_REFERENCES}")
    actions = " ".join(scene["action"] for scene in shot["scenes"])
    if not refs and not any(name_pattern(n).search(actions) for n in names["character"]):
        found.append(f"{where}: it shows none of the given characters, places and props; the "
                     "video model draws every shot from at least one (name it in cast)")
    return found


def _quote_problems(where: str, shot: dict[str, Any], flat: Flat) -> list[str]:
    return [f"{where}.scenes[{s}].lines[{n}].quote: {why}"
            for s, scene in enumerate(shot["scenes"]) for n, line in enumerate(scene["lines"])
            for found, why in [check_quote(flat, line["quote"])] if found is None]


def problems(answer: Any, chapter: Chapter, names: dict[str, list[str]]) -> list[str]:
    """What is wrong with a shots answer (schema-valid) for ``chapter``; names by kind."""
    flat = Flat(chapter)
    found: list[str] = []
    after = chapter.first - 1
    for index, shot in enumerate(answer["shots"]):
        where = f"shots[{index}]"
        found += _range_problems(where, shot, chapter, after)
        after = max(after, shot["to_line"])
        found += _length_problems(where, shot) + _name_problems(where, shot, names)
        found += _quote_problems(where, shot, flat)
    if not answer["shots"]:
        found.append("shots: the chapter needs at least one shot")
    return found


def shot_id(chapter: Chapter, first: int, last: int, taken: set[str]) -> str:
    """``s`` and a digest of the shot's own lines; a repeat gets ``-2``, ``-3``..."""
    words = "\n".join(chapter.lines[first - chapter.first:last - chapter.first + 1])
    base = "s" + hashlib.sha256(words.encode()).hexdigest()[:8]
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


def built(answer: Any, chapter: Chapter, cast: Cast, taken: set[str]) -> list[Shot]:
    """The shots of a checked answer (a shot still wrong is skipped by the caller's report)."""
    flat = Flat(chapter)
    return [_shot(shot, chapter, flat, cast, taken) for shot in answer["shots"]]


def _said(scene: dict[str, Any], flat: Flat, cast: Cast) -> list[tuple[str, str, int]]:
    """The scene's lines as (key, the source's words, line); a refused one is left out (it is
    reported by ``problems``)."""
    out = []
    for line in scene["lines"]:
        found, _ = check_quote(flat, line["quote"])
        key = cast.key_of(line["speaker"], ("character",))
        if found is not None and key is not None:  # an @ in the words is a literal one
            out.append((key, found.text.replace("@", "@@"), found.line))
    return out


def _shot(shot: dict[str, Any], chapter: Chapter, flat: Flat, cast: Cast, taken: set[str]
          ) -> Shot:
    scenes: list[Scene] = []
    clock = 0.0
    for scene in shot["scenes"]:
        length = _half(float(scene["seconds"]))
        scenes.append(Scene(clock, clock + length, mentioned(scene["action"], cast),
                            _said(scene, flat, cast)))
        clock += length
    keys = [k for k in (cast.key_of(name) for name in shot["cast"]) if k is not None]
    mentions = " ".join(s.action for s in scenes)
    listed = [k for k in dict.fromkeys(keys) if f"@{k}" not in mentions]
    duration = min(MAX_SHOT_SECONDS, max(MIN_SHOT_SECONDS, math.ceil(clock)))
    return Shot(shot_id(chapter, shot["from_line"], shot["to_line"], taken), chapter.file,
                shot["from_line"], shot["to_line"], shot["camera"], duration, listed, scenes)


def mentioned(text: str, cast: Cast) -> str:
    """``text`` with every ``@`` doubled (a literal one) and each character's name (as the cast
    spells it, or in capitals as a screenplay does) as ``@key``."""
    out = text.replace("@", "@@")
    for entry in sorted(cast.of("character"), key=lambda e: -len(e.name)):
        out = name_pattern(entry.name).sub(f"@{entry.key}", out)
    return out


def name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, as spelt or in capitals (not inside a mention)."""
    spelt = "|".join(dict.fromkeys(re.escape(n) for n in (name, name.upper())))
    return re.compile(rf"(?<![\w@])(?:{spelt})(?!\w)")
