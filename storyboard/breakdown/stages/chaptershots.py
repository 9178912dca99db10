"""One chapter's shots answer into timed shots: lines held to the chapter, quotes cut from it.

``problems`` is the stage's check (what is sent back to the model): a line range outside the
chapter or out of order, a shot shorter than 2 or longer than 15 seconds (wan2.7-r2v's range), a
speaker or cast name the cast stage did not give, more than 5 references in one shot, and a quote
that is not the author's words. ``built`` turns an answer into ``Shot``s: its references (the
speakers, then its ``cast``, then the rest of the cast its action names, in order, at most the
target model's ``MAX_REFERENCES``) as ``@key`` mentions where its action names them, anyone left
named in plain words (so the written shot never holds more references than the model takes, and
``check`` names no one unreferenced while there is room), its dialogue the source's words.
``named`` gives a shot its id once its episode is known: its number in the episode and two words
of its own lines of the story (``s03-cafe-door``), so editing other shots' words never renames it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.questions.density import half
from storyboard.breakdown.questions.ordinary import ORDINARY
from storyboard.breakdown.questions.prompts import MAX_SHOT_SECONDS, MIN_SHOT_SECONDS
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.cast import Cast, fold
from storyboard.breakdown.stages.faithful import Flat, check_quote, shorten
from storyboard.scaffold.namekeys import slug
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS

_TARGET = MODELS[DEFAULT_MODEL]  # the written series names no model: the default renders it
MAX_REFERENCES = min(_TARGET.caps.max_references, _TARGET.max_images)
ID_WORDS = 2  # words of the shot's own lines in its id
KINDS = ("character", "place", "prop")  # whose spelling is read first


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
    words: str = ""  # its own lines of the story (its id's words)
    shows: list[str] = field(default_factory=list)  # its references: listed, mentioned, speaking


def seconds_of(shot: dict[str, Any]) -> float:
    return sum(half(float(scene["seconds"])) for scene in shot["scenes"])


def _range_problems(where: str, shot: dict[str, Any], chapter: Chapter, after: int,
                    shared: bool = False) -> list[str]:
    first, last = shot["from_line"], shot["to_line"]
    if not (chapter.first <= first <= last <= chapter.last):
        return [f"{where}: lines {first}..{last} are not within the chapter's lines "
                f"{chapter.first}..{chapter.last} (from_line <= to_line)"]
    if shared and first < after:
        return [f"{where}: lines {first}..{last} come before the shot before it (which starts "
                f"at line {after}): the shots film the lines in story order"]
    if not shared and first <= after:
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


def _known_names(names: dict[str, list[str]]) -> set[str]:
    """Every given name of every kind, in lower case (as a shot's ``cast`` is matched)."""
    return {n.lower() for kind in names.values() for n in kind}


def _speakers(names: dict[str, list[str]]) -> set[str]:
    """The given characters' names, in lower case (as a line's speaker is matched)."""
    return {n.lower() for n in names["character"]}


def _drawn(shot: dict[str, Any]) -> set[str]:
    """Who and what a shot draws, in lower case: its cast and its lines' speakers."""
    return {name.lower() for name in shot["cast"]} | {
        line["speaker"].lower() for scene in shot["scenes"] for line in scene["lines"]}


def _name_problems(where: str, shot: dict[str, Any], names: dict[str, list[str]]) -> list[str]:
    known, speakers = _known_names(names), _speakers(names)
    found = [f"{where}.cast: {name!r} is not one of the given names"
             for name in shot["cast"] if name.lower() not in known]
    found += [f"{where}.scenes[{s}].lines[{n}].speaker: {line['speaker']!r} is not one of the "
              "given characters" for s, scene in enumerate(shot["scenes"])
              for n, line in enumerate(scene["lines"]) if line["speaker"].lower() not in speakers]
    refs = _drawn(shot)
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


def problems(answer: Any, chapter: Chapter, names: dict[str, list[str]], shared: bool = False
             ) -> list[str]:
    """What is wrong with a shots answer (schema-valid) for ``chapter``; names by kind;
    ``shared``: shots may film the same lines (a season episode's skeleton may ask more shots
    than it has lines), in story order."""
    flat = Flat(chapter)
    found: list[str] = []
    after = chapter.first - 1
    for index, shot in enumerate(answer["shots"]):
        where = f"shots[{index}]"
        found += _range_problems(where, shot, chapter, after, shared)
        after = max(after, shot["from_line"] if shared else shot["to_line"])
        found += _length_problems(where, shot) + _name_problems(where, shot, names)
        found += _quote_problems(where, shot, flat)
    if not answer["shots"]:
        found.append("shots: the chapter needs at least one shot")
    return found


def left_out(answer: dict[str, Any], chapter: Chapter,
             names: dict[str, list[str]] | None = None) -> tuple[dict[str, Any], list[str]]:
    """A shots answer its send-backs did not mend, read as a person would finish it: a line
    whose quote is not the author's words is left out (what the instructions allow), a range
    outside the chapter that fits it counted from its first line is read so, a range that ends
    before it starts is read as its first line (one that ends past the chapter's last line, to
    that line), a shot too short lengthened to the least a shot
    lasts, a ``cast`` name that is not one of the given
    ``names`` is left out of the cast (its words keep it), a line whose speaker is not one of
    the given characters is left out, and a shot whose cast and speakers outside it name more
    than it shows loses the cast names its actions never name (``_roomy``). The notes say each,
    located."""
    flat, notes, shots = Flat(chapter), list[str](), list[dict[str, Any]]()
    speakers = None if names is None else _speakers(names)
    for index, shot in enumerate(answer["shots"]):
        where = f"shots[{index}]"
        shot = _ranged(_counted(shot, chapter, where, notes), chapter, where, notes)
        shot = _lasting(shot, where, notes)
        shot = _known(shot, names, where, notes) if names is not None else shot
        scenes = [{**scene, "lines": _kept(scene["lines"], flat, speakers,
                                           f"{where}.scenes[{s}]", notes)}
                  for s, scene in enumerate(shot["scenes"])]
        shots.append(_roomy({**shot, "scenes": scenes}, where, notes))
    return {**answer, "shots": shots}, notes


def _roomy(shot: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any]:
    """A shot whose cast and speakers outside it name more than ``MAX_REFERENCES``, without the
    cast names none of its actions name, from the last (Qwen2.5-Coder-1.5B kept five rabbits
    beside Mr. McGregor's line through its send-backs); as it is when those are too few."""
    named = _drawn(shot)
    actions, over = " ".join(scene["action"] for scene in shot["scenes"]), len(named) - MAX_REFERENCES
    idle = [name for name in shot["cast"] if not name_pattern(name).search(actions)][::-1][:over]
    if over <= 0 or len(idle) < over:
        return shot
    notes.append(f"{where}.cast: {len(named)} characters, places and props where a shot shows at "
                 f"most {MAX_REFERENCES}: {', '.join(idle)} (named in none of its actions) left out")
    return {**shot, "cast": [name for name in shot["cast"] if name not in idle]}


def _kept(lines: list[dict[str, Any]], flat: Flat, speakers: set[str] | None, where: str,
          notes: list[str]) -> list[dict[str, Any]]:
    """A scene's lines without those whose quote is not the author's words, and (``speakers``
    given) those whose speaker is not one of the given characters (the same model gave a line
    to each place of the chapter, issue 67)."""
    kept = []
    for n, line in enumerate(lines):
        if check_quote(flat, line["quote"])[0] is None:
            notes.append(f"{where}.lines[{n}]: the quote {shorten(line['quote'])!r} is not the "
                         "author's words: the line is left out")
        elif speakers is not None and line["speaker"].lower() not in speakers:
            notes.append(f"{where}.lines[{n}]: the speaker {line['speaker']!r} is not one of "
                         "the given characters: the line is left out")
        else:
            kept.append(line)
    return kept


def _counted(shot: dict[str, Any], chapter: Chapter, where: str, notes: list[str]
             ) -> dict[str, Any]:
    """A shot whose range is outside the chapter but inside it counted from its first line as
    1 (Qwen2.5-Coder-1.5B wrote ``lines 1..1`` for a chapter of lines 239..271), read so."""
    first, last, size = shot["from_line"], shot["to_line"], chapter.last - chapter.first + 1
    if chapter.first <= first <= chapter.last or not (1 <= first <= size and 1 <= last <= size):
        return shot
    at = chapter.first - 1
    notes.append(f"{where}: lines {first}..{last} are outside the chapter's lines "
                 f"{chapter.first}..{chapter.last}: read as counted from its first line "
                 f"({first + at}..{last + at})")
    return {**shot, "from_line": first + at, "to_line": last + at}


def _ranged(shot: dict[str, Any], chapter: Chapter, where: str, notes: list[str]
            ) -> dict[str, Any]:
    """A shot whose range ends before it starts, read as its first line; one that starts in the
    chapter and ends past its last line, read to that line."""
    first, last = shot["from_line"], shot["to_line"]
    if not chapter.first <= first <= chapter.last or first <= last <= chapter.last:
        return shot
    if last < first:
        notes.append(f"{where}: lines {first}..{last} end before they start: read as line "
                     f"{first}")
        return {**shot, "to_line": first}
    notes.append(f"{where}: lines {first}..{last} end past the chapter's last line "
                 f"{chapter.last}: read as {first}..{chapter.last}")
    return {**shot, "to_line": chapter.last}


def _lasting(shot: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any]:
    """A shot whose scenes last under the least a shot lasts, its last scene lengthened to it
    (the same model wrote one-second shots through every turn, issue 67)."""
    total = seconds_of(shot)
    if not shot["scenes"] or math.ceil(total) >= MIN_SHOT_SECONDS:
        return shot
    *before, last = shot["scenes"]
    longer = round(last["seconds"] + MIN_SHOT_SECONDS - total, 3)
    notes.append(f"{where}: its scenes last {total:g} s, under the {MIN_SHOT_SECONDS} s a shot "
                 f"lasts: its last scene lengthened to {longer:g} s")
    return {**shot, "scenes": [*before, {**last, "seconds": longer}]}


def _known(shot: dict[str, Any], names: dict[str, list[str]], where: str, notes: list[str]
           ) -> dict[str, Any]:
    """A shot's ``cast`` without the names that are not given (its words keep them)."""
    known = _known_names(names)
    unknown = [name for name in shot["cast"] if name.lower() not in known]
    if not unknown:
        return shot
    notes.append(f"{where}.cast: {', '.join(map(repr, unknown))} not among the given names: "
                 "left out of the shot's cast (its words keep them)")
    return {**shot, "cast": [name for name in shot["cast"] if name.lower() in known]}


def id_words(text: str) -> str:
    """The first ``ID_WORDS`` words of ``text`` that say something (three letters or more, not
    an ordinary word), accents folded, joined by ``-``; ``shot`` when it has none."""
    words = [w for w in re.findall(r"[a-z]{3,}", fold(text).lower()) if w not in ORDINARY]
    return slug(" ".join(words[:ID_WORDS]), "-") if words else "shot"


def named(number: int, shot: Shot) -> str:
    """The id of the ``number``th shot of its episode: ``s03-cafe-door``."""
    return f"s{number:02d}-{id_words(shot.words)}"


def built(answer: Any, chapter: Chapter, cast: Cast, room: int = MAX_REFERENCES) -> list[Shot]:
    """The shots of a checked answer, unnamed until their episode names them (``named``);
    ``room``: the references a shot may show (0: none is mentioned, its speakers still speak)."""
    flat = Flat(chapter)
    widened: set[tuple[str, tuple[bool, int]]] = set()
    return [_shot(shot, chapter, flat, cast, widened, room) for shot in answer["shots"]]


def _said(scene: dict[str, Any], flat: Flat, cast: Cast,
          widened: set[tuple[str, tuple[bool, int]]]) -> list[tuple[str, str, int]]:
    """The scene's lines as (key, the source's words, line); a refused one is left out (it is
    reported by ``problems``). A line a title's stop cut is its whole sentence (``Flat.whole``),
    said once: its other part picked later by the same speaker (in ``widened``) is left out."""
    out = []
    for line in scene["lines"]:
        found, _ = check_quote(flat, line["quote"])
        key = cast.key_of(line["speaker"], ("character",))
        if found is None or key is None:
            continue
        whole = flat.whole(found)
        if whole is not found:
            if (key, whole.at) in widened:
                continue
            widened.add((key, whole.at))
        out.append((key, whole.text.replace("@", "@@"), whole.line))  # an @: a literal one
    return out


def references(shot: dict[str, Any], said: list[Scene], cast: Cast,
               room: int = MAX_REFERENCES) -> list[str]:
    """The keys a shot shows, at most ``room``: its speakers, then its ``cast``, then
    everyone else of the cast its action names (``named_in``), in order of appearance (with no
    room, its speakers alone: they speak, and are mentioned nowhere)."""
    keys = [key for scene in said for key, _, _ in scene.say]
    if not room:
        return list(dict.fromkeys(keys))
    keys += [k for k in (cast.key_of(name) for name in shot["cast"]) if k is not None]
    keys += named_in(" ".join(scene["action"] for scene in shot["scenes"]), cast)
    return list(dict.fromkeys(keys))[:room]


def _shot(shot: dict[str, Any], chapter: Chapter, flat: Flat, cast: Cast,
          widened: set[tuple[str, tuple[bool, int]]], room: int = MAX_REFERENCES) -> Shot:
    scenes: list[Scene] = []
    clock = 0.0
    for scene in shot["scenes"]:
        length = half(float(scene["seconds"]))
        scenes.append(Scene(clock, clock + length, scene["action"],
                            _said(scene, flat, cast, widened)))
        clock += length
    keys = references(shot, scenes, cast, room)
    for scene in scenes:
        scene.action = mentioned(scene.action, cast, set(keys) if room else set())
    mentions = " ".join(s.action for s in scenes)
    listed = [k for k in keys if room and f"@{k}" not in mentions and
              not any(k == key for s in scenes for key, _, _ in s.say)]
    duration = min(MAX_SHOT_SECONDS, max(MIN_SHOT_SECONDS, math.ceil(clock)))
    words = " ".join(chapter.lines[shot["from_line"] - chapter.first:
                                   shot["to_line"] - chapter.first + 1])
    return Shot("", chapter.file, shot["from_line"], shot["to_line"], shot["camera"], duration,
                listed, scenes, words, keys)


def mentioned(text: str, cast: Cast, keys: set[str] | None = None) -> str:
    """``text`` with every ``@`` doubled (a literal one) and each name of the cast (``spelt``)
    as ``@key``: of those in ``keys`` (None: all), the rest left as their names (a longer name
    read first, whole: ``Dame Van Winkle`` stays hers when only ``Van Winkle`` is shown)."""
    out = text.replace("@", "@@")
    found = spelt(cast)
    if found is None:
        return out
    pattern, key_of = found

    def mention(match: re.Match[str]) -> str:
        key = key_of(match.group())
        return f"@{key}" if keys is None or key in keys else match.group()
    return pattern.sub(mention, out)


def named_in(text: str, cast: Cast) -> list[str]:
    """The keys of the cast ``text`` names (``spelt``), in order of first appearance."""
    found = spelt(cast)
    if found is None:
        return []
    pattern, key_of = found
    return list(dict.fromkeys(key_of(m.group()) for m in pattern.finditer(text)))


def spelt(cast: Cast) -> tuple[re.Pattern[str], Callable[[str], str]] | None:
    """A pattern of every way words name one of the cast, and the key of a match: its name as
    the cast spells it or in capitals (as a screenplay does), and its key in words in any case
    (``old_cafe``: "Old Cafe", as ``check``'s ``unreferenced`` lint reads it); a longer one
    first, each whole and not inside a mention. None for an empty cast. Made once for each
    set of names (a season's thousands of shots ask it of one cast)."""
    return _spelt(tuple((e.key, e.name, e.kind) for e in cast.entries.values()))


@functools.lru_cache(maxsize=16)
def _spelt(names: tuple[tuple[str, str, str], ...]
           ) -> tuple[re.Pattern[str], Callable[[str], str]] | None:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for key, name, _kind in sorted(names, key=lambda e: KINDS.index(e[2])):
        for spelling in (name, name.upper()):
            exact.setdefault(spelling, key)
        loose.setdefault(key.replace("_", " ").lower(), key)
    ways = [(n, re.escape(n)) for n in exact] + [(n, f"(?i:{re.escape(n)})") for n in loose]
    if not ways:
        return None
    pattern = "|".join(way for _, way in sorted(ways, key=lambda w: (-len(w[0]), w[1])))
    return (re.compile(rf"(?<![\w@])(?:{pattern})(?!\w)"),
            lambda said: exact.get(said) or loose[said.lower()])


def name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, as spelt or in capitals (not inside a mention)."""
    spelt = "|".join(dict.fromkeys(re.escape(n) for n in (name, name.upper())))
    return re.compile(rf"(?<![\w@])(?:{spelt})(?!\w)")


def fitted(shot: Shot, *, whole: bool, timed: bool, most: int = 0,
           takes: tuple[int, ...] = ()) -> Shot:
    """``shot``'s scenes as its video model follows them: its length one the model renders
    (``takes``: the least that holds it, else the longest, its scenes stretched or shrunk to
    it), one scene where it follows no timed scenes (Hailuo 2.3), windows on whole seconds
    where it asks them (Seedance 2.5, Kling), at most ``most`` scenes (0: any); a scene left
    with no second of its own joins the one before it, its action and lines after that one's."""
    if takes and shot.duration not in takes:
        shot = _lasting_as(shot, min((t for t in takes if t >= shot.duration), default=max(takes)))
    scenes = list(shot.scenes)
    if not timed:
        scenes = [_joined(scenes)]
    elif whole:
        edges = [round(s.end) for s in scenes[:-1]]
        kept: list[Scene] = []
        start, waiting = 0, list[Scene]()
        for scene, end in zip(scenes, [*edges, shot.duration], strict=True):
            if end <= start:  # no second of its own: it joins a neighbour
                waiting.append(scene)
                if kept:
                    both = _joined([kept[-1], *waiting])
                    kept[-1], waiting = Scene(kept[-1].start, kept[-1].end, both.action, both.say), []
                continue
            both = _joined([*waiting, scene])
            kept.append(Scene(float(start), float(end), both.action, both.say))
            start, waiting = end, []
        kept[-1].end = float(shot.duration)
        scenes = kept
    if most and len(scenes) > most:
        scenes = [*scenes[:most - 1], _joined(scenes[most - 1:])]
    return Shot(shot.id, shot.file, shot.first, shot.last, shot.camera, shot.duration, shot.cast,
                scenes, shot.words, shot.shows)


def _lasting_as(shot: Shot, duration: int) -> Shot:
    """``shot`` lasting ``duration`` seconds, its scenes' windows scaled to fill it."""
    scale = duration / max(shot.scenes[-1].end, 0.5)
    scenes = [Scene(round(s.start * scale, 3), round(s.end * scale, 3), s.action, s.say)
              for s in shot.scenes]
    scenes[-1].end = float(duration)
    return Shot(shot.id, shot.file, shot.first, shot.last, shot.camera, duration, shot.cast,
                scenes, shot.words, shot.shows)


def _joined(scenes: list[Scene]) -> Scene:
    """Scenes as one over their windows: their actions in order, each speaker's lines joined."""
    return Scene(scenes[0].start, scenes[-1].end, " ".join(s.action for s in scenes),
                 spoken([line for scene in scenes for line in scene.say]))


def spoken(say: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """A scene's lines as its ``say:`` holds them, one a speaker: a speaker's later lines joined
    to their first (in the story's words: a space between where the first ends a sentence, else
    an ellipsis, ``ELIDED``, for the words left out), at its place and story line."""
    said: dict[str, tuple[str, str, int]] = {}
    for key, words, line in say:
        was = said.get(key)
        said[key] = (key, then(was[1], words), was[2]) if was else (key, words, line)
    return list(said.values())


ENDED = ".!?…\"”’»"  # a line ending in one of these ends a sentence
ELIDED = " … "  # between two lines of one speaker where the first stops mid-sentence


def then(first: str, second: str) -> str:
    """``second`` after ``first``, as one line (``ELIDED`` between where ``first`` does not end
    a sentence: "how you are made … When a child loves you", not "made When")."""
    return f"{first} {second}" if first.rstrip()[-1:] in ENDED else \
        f"{first.rstrip()}{ELIDED}{second.lstrip()}"
