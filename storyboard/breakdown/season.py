"""The outline's beats and a target into a season: parts asked, answers checked, episodes' segments.

A season is asked after every chapter's outline, before any shot: the model is given the beats
(never the story's text), numbered, and how many episodes to make of them, and answers each
episode's title, its beats (``first_beat..last_beat``: every beat in one episode, in order) and
the hook it ends on (``schemas.SEASON``). A long story is asked in parts (``parts``): the fewest
runs of neighbouring chapters that each fit the endpoint's context window at their ceiling (every
chapter's beats counted at the outline's whole ``max_tokens``, the answer at what its episodes can
need: ``fitting.season_tokens``), each holding at most ``PER_CALL`` episodes; the episodes are
shared among the parts by their lines of story. The parts follow from the chapters' count, the
episodes asked and the window, never from an answer, so an edit in one part never asks another
again. Each part is its own cached call: a run stopped mid-season goes on from
the ones stored.

An episode is then filmed chapter by chapter (``segments``): for each chapter its beats come from,
the paragraphs those beats tell (a chapter's beats follow its paragraphs in order: beat ``b`` of
``n`` is the ``b``-th ``n``-th of them), asked as one shots call with the episode's beats, its
share of ``episode_seconds`` and, in its last segment, its hook.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from storyboard.breakdown.fitting import MARGIN, MAX_TOKENS, TooSmall, Window, season_tokens
from storyboard.breakdown.source import CHAPTER, Chapter

PER_CALL = 40  # episodes one season call plans at most
CHAPTERS_PER_CALL = 24  # chapters' beats one season call reads at most
OVERHEAD = 1500  # tokens of a season call's instructions and framing
HEADING = re.compile(r"^\s*(#|=+$|-+$)")
FAR = 2.0  # an episode whose shots come to under 1/FAR or over FAR times its seconds is said


@dataclass(frozen=True)
class Target:
    """What a season is asked for."""

    episodes: int
    seconds: float | None = None  # an episode's length
    ratio: str | None = None


@dataclass(frozen=True)
class Part:
    """One season call: chapters (indexes in the walk's), how many episodes, the first's number."""

    number: int
    chapters: range
    episodes: int
    first_episode: int


@dataclass(frozen=True)
class Beat:
    chapter: int  # the chapter's number
    index: int  # 1-based within the chapter
    text: str

    @property
    def ref(self) -> str:
        return f"{self.chapter}.{self.index}"


@dataclass(frozen=True)
class Entry:
    """One episode of the season: the beats it films, by (chapter, beat), and its hook."""

    episode: int
    title: str
    first: tuple[int, int]
    last: tuple[int, int]
    hook: str

    @property
    def beats(self) -> str:
        first, last = (f"{c}.{b}" for c, b in (self.first, self.last))
        return first if first == last else f"{first}-{last}"


@dataclass(frozen=True)
class Segment:
    """One shots call of a season: an episode's lines of one chapter (``lines``: a chapter of
    its own, numbered among the segments), the beats they tell, and the episode's context.
    ``asked_as``: the proposed episode of the same beats, when ``entry`` is an edit of it: its
    title and hook are the ones asked with, so an edit of an episode's words alone (its title,
    its hook) asks none of its shots again."""

    entry: Entry
    chapter: Chapter  # the chapter its lines come from
    lines: Chapter
    beats: tuple[str, ...]
    seconds: float | None
    ends: bool  # the episode's last segment: it lands the hook
    asked_as: Entry | None = None

    def context(self) -> dict[str, Any]:
        words = self.asked_as or self.entry
        episode: dict[str, Any] = {"number": self.entry.episode, "title": words.title,
                                   "ends_on_hook": self.ends}
        if self.ends:
            episode["hook"] = words.hook
        if self.seconds is not None:
            episode["seconds"] = round(self.seconds, 1)
        return {"episode": episode}


def off_length(written: float, asked: float | None) -> str | None:
    """How an episode's shots (``written`` seconds in all) are far from the ``asked`` seconds of
    an episode, said with both figures and the remedy (None: within ``FAR`` of it, or no length
    asked)."""
    if asked is None or asked / FAR <= written <= asked * FAR:
        return None
    side, more = ("under half", "more") if written < asked else (f"over {FAR:g} times", "fewer")
    return (f"its shots come to {written:g} s, {side} the {asked:g} s asked for an episode "
            f"(episode_seconds): give it {more} beats in season.yaml, or edit its shots")


def _runs(count: int, wanted: int) -> list[range]:
    bounds = [round(i * count / wanted) for i in range(wanted + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(wanted)]


def fits(part: Part, window: Window | None) -> bool:
    """Whether ``part``'s call fits ``window`` at its ceiling: its chapters' beats each as long
    as an outline answer may be, and its answer as long as its episodes may need."""
    need = OVERHEAD + len(part.chapters) * MAX_TOKENS["outline"] + season_tokens(part.episodes)
    return window is None or need + MARGIN <= window.tokens


def _shares(weights: list[int], total: int) -> list[int]:
    """``total`` shared in proportion to ``weights``, at least 1 each (largest remainders)."""
    whole = sum(weights) or 1
    exact = [1 + (total - len(weights)) * w / whole for w in weights]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def parts(chapters: list[Chapter], target: Target, window: Window | None) -> list[Part]:
    """The season's calls: the fewest runs of chapters, each with its share of the episodes,
    that each fit ``window`` (``TooSmall``: not even one chapter and one episode a call)."""
    most = max(1, min(len(chapters), target.episodes))
    least = max(math.ceil(len(chapters) / CHAPTERS_PER_CALL), math.ceil(target.episodes / PER_CALL))
    for count in range(min(least, most), most + 1):
        found = _split(chapters, target, count)
        if all(fits(p, window) for p in found):
            return found
    assert window is not None  # with no window, the first count fits
    need = OVERHEAD + MAX_TOKENS["outline"] * math.ceil(len(chapters) / most) + MARGIN + \
        season_tokens(math.ceil(target.episodes / most))
    raise TooSmall(f"the season call needs a context of about {need:,} tokens (the beats of "
                   f"{math.ceil(len(chapters) / most)} chapter(s) and the answer's max_tokens); "
                   f"the endpoint's is {window.tokens:,} ({window.source}): nothing was sent. "
                   "To go on: start the server with a larger context and set context: in the "
                   "series' breakdown: block")


def _split(chapters: list[Chapter], target: Target, count: int) -> list[Part]:
    """``count`` runs of neighbouring chapters, the episodes shared by their lines of story."""
    runs = _runs(len(chapters), count)
    weights = [sum(len(chapters[i].numbered()) for i in run) for run in runs]
    out, first = [], 1
    for number, (run, share) in enumerate(zip(runs, _shares(weights, target.episodes),
                                              strict=True), 1):
        out.append(Part(number, run, share, first))
        first += share
    return out


def asked(part: Part, beats: list[Beat]) -> int:
    """The episodes a part is asked for: its share, or one a beat when it has fewer beats."""
    return max(1, min(part.episodes, len(beats)))


def context(part: Part, beats: list[Beat], target: Target, title: str) -> dict[str, Any]:
    """What the season call of ``part`` is given: the beats, numbered, never the text."""
    document: dict[str, Any] = {
        "story": title, "episodes": asked(part, beats), "first_episode": part.first_episode,
        "beats": [[n, beat.chapter, beat.text] for n, beat in enumerate(beats, 1)]}
    if target.seconds is not None:
        document["episode_seconds"] = target.seconds
    return document


def problems(answer: Any, beats: list[Beat], wanted: int) -> list[str]:
    """What is wrong with a season answer (schema-valid) for a part of ``len(beats)`` beats."""
    episodes = answer["episodes"]
    found = []
    if len(episodes) != wanted:
        found.append(f"episodes: {len(episodes)} episode(s); this part of the season needs "
                     f"exactly {wanted}")
    after = 0
    for index, episode in enumerate(episodes):
        first, last = episode["first_beat"], episode["last_beat"]
        if first != after + 1 or last < first or last > len(beats):
            found.append(f"episodes[{index}]: beats {first}..{last}; it must start at beat "
                         f"{after + 1} (the one after the episode before) and end at or after "
                         f"it, by beat {len(beats)} at the latest")
        after = max(after, last)
    if episodes and after != len(beats):
        found.append(f"episodes[{len(episodes) - 1}]: the last episode ends at beat {after}; "
                     f"every beat goes into one episode, the last ending at beat {len(beats)}")
    return found


def regrouped(answer: Any, beats: list[Beat], wanted: int) -> dict[str, Any] | None:
    """An answer with more episodes than ``wanted`` that is otherwise right (in order, every beat
    in one), its neighbours joined into ``wanted`` episodes as even as they go, each with its
    first's title and first beat and its last's last beat and hook (None: not such an answer)."""
    episodes = answer.get("episodes") if isinstance(answer, dict) else None
    if not isinstance(episodes, list) or len(episodes) <= wanted or \
            problems({"episodes": episodes}, beats, len(episodes)):
        return None
    bounds = [round(i * len(episodes) / wanted) for i in range(wanted + 1)]
    return {**answer, "episodes": [_joined(episodes[bounds[i]:bounds[i + 1]])
                                   for i in range(wanted)]}


def _joined(run: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = run[0], run[-1]
    return {"title": first["title"], "first_beat": first["first_beat"],
            "last_beat": last["last_beat"], "hook": last["hook"]}


def entries(answer: Any, part: Part, beats: list[Beat]) -> list[Entry]:
    """A checked answer's episodes, numbered in the season, their beats by (chapter, beat)."""
    out = []
    for index, episode in enumerate(answer["episodes"]):
        first = beats[episode["first_beat"] - 1]
        last = beats[min(episode["last_beat"], len(beats)) - 1]
        out.append(Entry(part.first_episode + index, episode["title"],
                         (first.chapter, first.index), (last.chapter, last.index),
                         episode["hook"]))
    return out


def beats_of(outlines: list[tuple[Chapter, Any]]) -> list[Beat]:
    """Every beat of the chapters' outline answers, in order."""
    return [Beat(chapter.number, n, str(text)) for chapter, outline in outlines
            for n, text in enumerate(outline["beats"], 1)]


def paragraphs(chapter: Chapter) -> list[tuple[int, int]]:
    """(first, last) index in ``chapter.lines`` of each paragraph that is not a heading."""
    runs: list[list[int]] = []
    for index, line in enumerate(chapter.lines):
        if not line.strip():
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [(run[0], run[-1]) for run in runs if not all(
        HEADING.match(chapter.lines[i]) or CHAPTER.match(chapter.lines[i]) for i in run)]


def units(chapter: Chapter, count: int) -> list[tuple[int, int]]:
    """What ``count`` beats of ``chapter`` are cut on: its paragraphs, or, when they are fewer
    than the beats and its lines more (a story pasted one sentence a line), its lines (headings
    left out), so that every beat has a line of its own to tell."""
    paras = paragraphs(chapter)
    if len(paras) >= count:
        return paras
    lines = [(i, i) for first, last in paras for i in range(first, last + 1)]
    return lines if len(lines) > len(paras) else paras


def lines_for(chapter: Chapter, first: int, last: int, count: int) -> tuple[int, int] | None:
    """The indexes of ``chapter.lines`` that beats ``first..last`` (1-based) of ``count`` tell
    (None: no paragraph or line falls to them)."""
    paras = units(chapter, count)
    if not paras or count < 1:
        return None
    start = math.floor((first - 1) * len(paras) / count)
    end = math.floor(last * len(paras) / count)
    if end <= start:
        return None
    return paras[start][0], paras[end - 1][1]


def segments(season: list[Entry], chapters: dict[int, Chapter], counts: dict[int, int],
             beats: dict[tuple[int, int], str], seconds: float | None) -> list[Segment]:
    """Each episode's shots calls, in order: one per chapter its beats come from."""
    out: list[Segment] = []
    for entry in season:
        pieces = []
        for number in range(entry.first[0], entry.last[0] + 1):
            if number not in chapters:
                continue
            first = entry.first[1] if number == entry.first[0] else 1
            last = entry.last[1] if number == entry.last[0] else counts.get(number, 0)
            found = lines_for(chapters[number], first, last, counts.get(number, 0))
            if found is not None and last >= first:
                pieces.append((chapters[number], found, first, last))
        told = sum(last - first + 1 for *_, first, last in pieces) or 1
        for place, (chapter, (start, end), first, last) in enumerate(pieces):
            lines = replace(chapter, number=len(out) + 1, first=chapter.first + start,
                            lines=chapter.lines[start:end + 1], part_of=0,
                            episode=entry.episode)
            said = tuple(beats.get((chapter.number, b), "") for b in range(first, last + 1))
            share = seconds * (last - first + 1) / told if seconds is not None else None
            out.append(Segment(entry, chapter, lines, said, share, place == len(pieces) - 1))
    return out
