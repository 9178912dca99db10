"""A story, its chapters' outlines and a target into a season's answers: the season, then its shots.

The walk of a season: every chapter's outline and cast (as ``walk``), then the season stage in its
parts (``season.parts``; each given the outline's beats, never the text), then each episode's
shots, segment by segment (``season.segments``), each held to the chapter's checks and to the
density heuristic (``density``). Density is sent back as any problem, but it is a warning, never a
limit: an answer whose only problems left after its send-backs are shots too dense is written, and
each is said as a warning at its line (``lightened``; the written series' ``check`` warns of it
too under ``lint: {density: true}``). A ``season.yaml`` edited
by hand is the season used (its errors at their lines, before any shot is asked); the season
answers are still asked (from the cache, when stored) for the proposal that goes beside it; an
edited episode whose beats are the proposal's is asked with the proposal's title and hook
(``Segment.asked_as``), so an edit of its words alone asks none of its shots again.
Planning a season not yet answered prices its shots at their ceiling: every chapter's shots call
whole, and one more call of the largest chapter for every episode after the first (an episode that
starts inside a chapter adds one segment)."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from storyboard.breakdown import density, season, seasonfile, seasonmend
from storyboard.breakdown import shots as shot_stage
from storyboard.breakdown.asking import Asker, Pending, Result
from storyboard.breakdown.cast import names_in
from storyboard.breakdown.cost import price_of
from storyboard.breakdown.fitting import MAX_TOKENS, season_tokens
from storyboard.breakdown.season import Entry, Target
from storyboard.breakdown.source import Chapter, Story
from storyboard.breakdown.walk import (
    Answers,
    SeasonAnswers,
    first_answers,
    settled,
    shots_context,
    try_ask,
)


def walk_season(story: Story, asker: Asker, target: Target,
                later: dict[int, list[list[str]]] | None = None) -> Answers:
    """Every answer of a season (see the module docstring); ``later``: problems ``check``
    found in the written series, by segment."""
    answers = first_answers(story, asker)
    found = answers.season = SeasonAnswers()
    outlines = {a.chapter.number: a.outline.answer for a in answers.chapters
                if a.outline is not None and isinstance(a.outline.answer, dict)}
    asked = _asked(story, answers, asker, target, outlines)
    found.answered = asked or []
    text = seasonfile.edited(asker.cache.series)
    counts = {n: len(o["beats"]) for n, o in outlines.items()}
    if text is not None and len(outlines) == len(answers.chapters):
        found.edited = True
        found.entries = seasonfile.entries(text, asker.cache.series / seasonfile.NAME, counts)
    elif asked is not None:
        found.entries = asked
    else:
        _pending_shots(answers, asker, target)
        return answers
    _shots(answers, asker, target, later or {})
    return answers


def _asked(story: Story, answers: Answers, asker: Asker, target: Target,
           outlines: dict[int, Any]) -> list[Entry] | None:
    """The season the answers say, its episodes numbered in order (None: a part has none)."""
    chapters = [a.chapter for a in answers.chapters]
    assert answers.season is not None
    out: list[Entry] = []
    whole = True
    for part in season.parts(chapters, target, asker.window()):
        mine = [chapters[i] for i in part.chapters]
        call = Chapter(story.file, part.number, f"the season, part {part.number}", 1, (),
                       episodes=part.episodes)
        if any(c.number not in outlines for c in mine):
            _pending_season(asker, part, mine)
            answers.season.calls.append((call, None))
            whole = False
            continue
        beats = season.beats_of([(c, outlines[c.number]) for c in mine])
        wanted = season.asked(part, beats)
        call = replace(call, episodes=wanted)
        result = _mended(asker, call, wanted, beats, try_ask(
            asker, "season", call, season.context(part, beats, target, story.title),
            lambda a, b=beats, w=wanted: season.problems(a, b, w)))
        answers.season.calls.append((call, result))
        if result is None or result.answer is None or result.problems:
            whole = False
            continue
        out += season.entries(result.answer, part, beats)
    return [_numbered(e, n) for n, e in enumerate(out, 1)] if whole else None


def _mended(asker: Asker, call: Chapter, wanted: int, beats: list[season.Beat],
            result: Result | None) -> Result | None:
    """A season part still wrong after its send-backs (refused by the schema too: its last
    answer as read), read as meant where its episodes can be used (``seasonmend``: words cut to
    their bounds, ranges read back into the part and closed up, neighbours joined or the longest
    split), said."""
    if result is None or not result.problems:
        return result
    found = seasonmend.read_as_meant(result.answer if result.answer is not None else result.read,
                              beats, wanted)
    if found is None:
        return result
    answer, notes = found
    asker.noted("season", call, notes)
    return Result(answer, [], result.turns)


def _numbered(entry: Entry, number: int) -> Entry:
    return Entry(number, entry.title, entry.first, entry.last, entry.hook)


def _pending_season(asker: Asker, part: season.Part, chapters: list[Chapter]) -> None:
    """Planning: a season call whose chapters' outlines are not stored, at its ceiling (every
    chapter's beats as long as an outline answer may be)."""
    tokens = season.OVERHEAD + len(chapters) * MAX_TOKENS["outline"]
    ceiling = price_of(asker.spend.price, tokens, season_tokens(part.episodes))
    asker.pending.append(Pending("season", part.number, tokens, ceiling))


def _pending_shots(answers: Answers, asker: Asker, target: Target) -> None:
    """Planning (or a season refused): the shots calls at their ceiling."""
    if not asker.planning or not answers.chapters:
        return
    for found in answers.chapters:
        asker.pending_shots(found.chapter, {})
    largest = max((a.chapter for a in answers.chapters), key=lambda c: len(c.numbered()))
    for _ in range(target.episodes - 1):
        asker.pending_shots(largest, {})


def _shots(answers: Answers, asker: Asker, target: Target,
           later: dict[int, list[list[str]]]) -> None:
    """Each segment's shots answer, checked (its chapter's checks and the density)."""
    found = answers.season
    assert found is not None
    by_number = {a.chapter.number: a for a in answers.chapters}
    proposed = {(e.episode, e.first, e.last): e for e in found.answered}
    for segment in segments_of(answers, found.entries, target.seconds):
        same = proposed.get((segment.entry.episode, segment.entry.first, segment.entry.last))
        segment = replace(segment, asked_as=same) if found.edited and same else segment
        own = by_number[segment.chapter.number]
        outline = own.outline.answer if own.outline else None
        cast = own.cast.answer if own.cast else None
        if outline is None or cast is None:
            found.segments.append((segment, None))
            continue
        names = names_in(cast)
        context = {**shots_context(outline, cast), "beats": list(segment.beats),
                   **segment.context()}
        lines = segment.lines
        check = functools.partial(_problems, chapter=lines, names=names)
        strict = functools.partial(shot_stage.problems, chapter=lines, names=names)
        asked = try_ask(asker, "shots", lines, context, check, later.get(lines.number))
        result = settled(asker, lines, strict, asked, names)
        if asked is not None and asked.problems:  # an answer taken at once has none to lighten
            result = lightened(result, lines, names)
        found.segments.append((segment, result))


def lightened(result: Result | None, chapter: Chapter, names: dict[str, list[str]]
              ) -> Result | None:
    """A shots answer whose problems left are only density's (also one finished by
    ``settled``, which holds it to the shot checks alone), taken as it is, density's each kept as
    a warning (density is a warning, never a limit)."""
    if result is None or not isinstance(result.answer, dict) or \
            shot_stage.problems(result.answer, chapter, names):
        return result
    return Result(result.answer, [], result.turns, density.problems(result.answer, names))


def _problems(answer: Any, chapter: Chapter, names: dict[str, list[str]]) -> list[str]:
    return shot_stage.problems(answer, chapter, names) + density.problems(answer, names)


def segments_of(answers: Answers, entries: list[Entry], seconds: float | None
                ) -> list[season.Segment]:
    """The segments of ``entries`` over the answers' chapters and their outlines' beats."""
    outlines = {a.chapter.number: a.outline.answer for a in answers.chapters
                if a.outline is not None and isinstance(a.outline.answer, dict)}
    every = season.beats_of([(a.chapter, outlines[a.chapter.number]) for a in answers.chapters
                             if a.chapter.number in outlines])
    beats = {(b.chapter, b.index): b.text for b in every}
    counts = {n: len(o["beats"]) for n, o in outlines.items()}
    chapters = {a.chapter.number: a.chapter for a in answers.chapters}
    return season.segments(entries, chapters, counts, beats, seconds)


def target_of(options: Any) -> Target | None:
    """The season an options' ``episodes`` asks for (None: chapters map to episodes, grouped
    by ``episode_minutes`` when given)."""
    if options.episodes is None or options.episode_minutes is not None:
        return None
    return Target(options.episodes, options.episode_seconds, options.ratio)
