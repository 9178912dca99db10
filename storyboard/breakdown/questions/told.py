"""A season shot's answer into the scenes whose action tells what the shot's lines do not.

A shot films its own run of the story's lines; a scene whose action adds what none of them says
(``@peter was playing with his wheelbarrow while his mother was cooking dinner``, where the lines
say neither) films another story. Read word by word, as ``bench/faithfulness.py`` measures a
season: the action's content words (four letters or more, not an ordinary word, not a name of the
cast, not a camera move's) each compared by a crude stem (``counted``, ``counts``: ``count``)
with every word of the shot's lines; a scene tells what they do not when at least ``LEAST`` of
its content words, and at least ``SHARE`` of them, are in none. The shot's question asks for its
action from its lines alone (``prompts``); a scene that tells more is sent back naming the words
it added, once (``SEND_BACKS``: on the kept real-model runs about half the shots tell more, and
each send-back is a call), and one still telling more is taken with a warning
(``stages.episode.finished``), as a scene too dense is: a synonym counts as not told, so the
words are the model's to weigh. A shot wrong otherwise too is sent back as often as any.
Judged by rules 3 (``Chapter.rules``): a series begun before keeps the rules it was asked by.
"""

from __future__ import annotations

import re
from typing import Any

from storyboard.breakdown.questions import density
from storyboard.breakdown.questions.ordinary import WORD
from storyboard.breakdown.source import Chapter
from storyboard.language.lint.density import CJK, MOVES

SEND_BACKS = 1  # a scene telling more alone is sent back once (others: ``asking.SEND_BACKS``)
SAID = "tells what the shot's lines"  # how its problem says it (``spent``)
LEAST = 2  # content words told by none of the shot's lines, at least, for a scene to be sent back
SHARE = 1 / 3  # and at least this share of its content words
SHORTEST = 4  # letters of a content word
ENDINGS = ("ing", "ed", "es", "s", "d")
ORDINARY_WORDS = """
a about above after again against all also although always among an and another any are around
as at away back be because been before being below beside besides between both but by came can
cannot could did does doing done down during each even ever every few for from further had has
have having he her here hers herself him himself his how however i if in into is it its itself
just least less like made make many may me might more most much must my myself near never no nor
not now of off often on once one only onto or other others our ours out over own quite rather
said same say says see seemed shall she should since so some still such than that the their
them then there these they this those though through thus till to too toward towards under
until up upon us very was way we well were what when where whether which while who whom whose
why will with within without would yet you your yours shot wide close medium slow push pull
static handheld camera scene speaks"""
ORDINARY = frozenset(ORDINARY_WORDS.split())
# An edition's furniture: a line wholly in brackets (``[Illustration]``, ``(pause)``) or with no
# letter (a rule of underscores). A shot whose lines are all furniture tells no event: not judged.
FURNITURE = re.compile(r"\s*(?:\[[^\]]*\]|\([^)]*\)|[\W\d_]*)\s*")


def stem(word: str) -> str:
    """A crude stem: lower case, one ending off, a doubled last consonant single (``stopped``,
    ``stops``: ``stop``)."""
    word = word.lower().strip("'’")
    for end in ENDINGS:
        if word.endswith(end) and len(word) - len(end) >= 3:
            word = word[: -len(end)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def content(action: str, named: set[str]) -> list[str]:
    """The action's content words, in order, each once: not ordinary, not a word of the cast's
    names (``named``; its ``@handles`` read as words), not a camera move's (``pans``, ``pulls
    back``), and not in a script written without spaces (Chinese, Japanese: a run of it is no
    word to look for)."""
    said = MOVES.sub(" ", action.replace("@", " ").replace("_", " "))
    words = [w.lower() for w in WORD.findall(said)]
    return [*dict.fromkeys(w for w in words
                           if len(w) >= SHORTEST and w not in ORDINARY and w not in named
                           and not CJK.search(w))]


def _named(cast: list[str]) -> set[str]:
    """The words of the cast's names, lower case (``mr_mcgregor``: ``mr``, ``mcgregor``)."""
    return {word.lower() for name in cast for word in WORD.findall(name.replace("_", " "))}


def _told(lines: Chapter) -> set[str] | None:
    """The stems of every word of ``lines`` (None where the lines are all furniture:
    ``[Illustration]`` tells nothing to keep to)."""
    story = [line for line in lines.lines if not FURNITURE.fullmatch(line)]
    return {stem(word) for line in story for word in WORD.findall(line)} if story else None


def _absent(action: str, told: set[str], named: set[str]) -> list[str]:
    """The content words of ``action`` whose stem is not in ``told``, when they are enough for
    the scene to tell what the lines do not (``LEAST``, ``SHARE``); else none."""
    words = content(action, named)
    absent = [word for word in words if stem(word) not in told]
    return absent if len(absent) >= LEAST and len(absent) >= SHARE * len(words) else []


def untold(action: str, lines: Chapter, cast: list[str]) -> list[str]:
    """The content words of ``action`` told by none of ``lines``, when they are enough for the
    scene to tell what the lines do not; else none (and none where the lines are furniture)."""
    told = _told(lines)
    return [] if told is None else _absent(action, told, _named(cast))


def spent(problems: list[str], backs: int) -> bool:
    """Whether an answer's problems, after ``backs`` send-backs, are scenes telling what their
    lines do not (beside which density's are said: never sent back alone), sent back
    ``SEND_BACKS`` times already."""
    return backs >= SEND_BACKS and any(SAID in p for p in problems) and \
        all(SAID in p or density.SAID in p for p in problems)


def problems(answer: Any, call: Chapter, cast: list[str]) -> list[str]:
    """Each scene of a one-shot shots answer (``episode.filled``) whose action tells what its
    call's lines do not, located, with the words and what to do (rules 3; none before)."""
    told = _told(call) if call.rules >= 3 else None
    if told is None:
        return []
    found, named = [], _named(cast)  # the shot's lines and cast read once, for all its scenes
    for s, shot in enumerate(answer["shots"]):
        for c, scene in enumerate(shot["scenes"]):
            words = _absent(str(scene["action"]), told, named)
            if words:
                said = ", ".join(repr(word) for word in words[:6])
                found.append(f"shots[{s}].scenes[{c}].action: {SAID} "
                             f"({call.first} to {call.last}) do not ({said}): tell only what "
                             "they say")
    return found
