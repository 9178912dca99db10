"""A story and a target into a season's answers: the skeleton computed, then a call a shot.

The walk of a season: every chapter's cast (as ``walk``; no outline: the season is not cut on
beats), then the season's skeleton, computed, never asked (``skeleton.shape``: K shots of d
seconds an episode; ``season.planned``: the story cut into N runs of its units, balanced by
length; ``cuts``: each cut moved, where the model chooses, to a nearby unit that ends its
episode on a hook), then each episode asked as its own call (its title and hook) and one
bounded call a shot, each over the shot's own run of the episode's lines (``episode``), given
the names of the cast of every chapter its lines touch. A ``season.yaml`` edited by hand gives
the runs used (its errors at their lines, before any call); an episode's calls depend on its
lines alone, so an edit of an episode's title or hook asks nothing again, and an edit of its
range asks that episode alone. Density is sent back as any problem, but it is a warning, never
a limit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.results import Result
from storyboard.breakdown.shape import season
from storyboard.breakdown.shape.season import Entry, Segment, Target
from storyboard.breakdown.shape.skeleton import shape
from storyboard.breakdown.shape.video import video_of
from storyboard.breakdown.source import Story
from storyboard.breakdown.stages import cuts, episode, seasonfile
from storyboard.breakdown.stages.cast import names_in
from storyboard.breakdown.stages.speakers import same, speaking
from storyboard.breakdown.stages.walk import (
    Answers,
    SeasonAnswers,
    first_answers,
    try_ask,
    within_bounds,
)


def walk_season(story: Story, asker: Asker, target: Target, rules: int,
                later: dict[int, list[list[str]]] | None = None) -> Answers:
    """Every answer of a season (see the module docstring), asked and judged by ``rules``
    (``Chapter.rules``: the series' pinned ones); ``later``: problems ``check`` found in the
    written series, by episode."""
    answers = first_answers(story, asker, season=True)
    found = answers.season = SeasonAnswers()
    made = shape(target.seconds, target.video.takes())
    if isinstance(made, str):  # refused before any call (``pipeline.cuttable``)
        return answers
    units = season.story_units(story, target.episodes)
    segments = functools.partial(season.segments, story, found=units, shape=made,
                                 rules=rules)
    planned = season.planned(units, target.episodes)
    text = seasonfile.edited(asker.cache.series)
    if text is not None:
        found.edited = True
        found.entries = seasonfile.entries(text, asker.cache.series / seasonfile.NAME,
                                           season.counts(units))
        with _unasked(asker):  # the proposal beside it: its cuts as stored, never asked
            planned = cuts.moved(asker, story, units, planned)
    else:
        found.entries = planned = cuts.moved(asker, story, units, planned)
    for segment in segments(found.entries):
        found.segments.append((segment, _episode(asker, answers, segment,
                                                 (later or {}).get(segment.lines.number))))
    said = {(s.entry.first, s.entry.last): r.answer for s, r in found.segments
            if r is not None and isinstance(r.answer, dict)}
    if found.edited:  # the proposal's titles and hooks: its calls stored, never asked
        said = {**_stored(asker, answers, segments(planned)), **said}
    found.answered = [_titled(e, said) for e in planned]
    if not found.edited:
        found.entries = found.answered
        found.segments = [(replace(s, entry=found.entries[s.entry.episode - 1]), r)
                          for s, r in found.segments]
    found.proposed = segments(found.answered)
    return answers


def _stored(asker: Asker, answers: Answers, segments: list[Segment]
            ) -> dict[tuple[tuple[int, int], tuple[int, int]], Any]:
    """The answers stored for the proposed season's calls, by their range (nothing is asked:
    a call not stored is left out)."""
    with _unasked(asker):
        found = {(s.entry.first, s.entry.last): _head(asker, s, names) for s in segments
                 if (names := _names(answers, s)) is not None}
    return {k: r.answer for k, r in found.items() if r is not None and isinstance(r.answer, dict)}


@contextmanager
def _unasked(asker: Asker) -> Iterator[None]:
    """Calls answered from the cache alone: one not stored is neither asked nor counted."""
    was, pending = asker.planning, len(asker.pending)
    asker.planning = True
    try:
        yield
    finally:
        asker.planning = was
        del asker.pending[pending:]


def _titled(entry: Entry, said: dict[tuple[tuple[int, int], tuple[int, int]], Any]) -> Entry:
    """``entry`` with the title and the hook its episode's answer gave (else its number's)."""
    answer = said.get((entry.first, entry.last))
    if answer is None:
        return replace(entry, title=f"Episode {entry.episode}", hook="(not answered yet)")
    return replace(entry, title=answer["title"], hook=answer["hook"])


def _names(answers: Answers, segment: Segment) -> dict[str, list[str]] | None:
    """The names of the cast of every chapter the segment's lines touch, and of another
    chapter's cast each person its lines say speaks whom those leave out (None: a cast is not
    answered)."""
    lines = segment.lines
    own = [a for a in answers.chapters
           if a.chapter.first <= lines.last and lines.first <= a.chapter.last]
    if not own or any(a.cast is None or not isinstance(a.cast.answer, dict) for a in own):
        return None
    out: dict[str, list[str]] = {"character": [], "place": [], "prop": []}
    for found in own:
        assert found.cast is not None
        for kind, names in names_in(found.cast.answer).items():
            out[kind] = list(dict.fromkeys([*out.get(kind, []), *names]))
    others = [name for a in answers.chapters if a not in own and a.cast is not None
              for name in names_in(a.cast.answer)["character"]]
    out["character"] += [name for name in speaking(lines, list(dict.fromkeys(others)))
                         if not any(same(name, held) for held in out["character"])]
    return out


def _episode(asker: Asker, answers: Answers, segment: Segment,
             later: list[list[str]] | None) -> Result | None:
    """The episode's checked answer: its title and hook, and each of its shots asked alone over
    its own lines, filled to the skeleton (``episode``)."""
    lines = segment.lines
    names = _names(answers, segment)
    calls = episode.calls(lines)
    if names is None:
        asker.pending_shots(lines, {}, "episode")
        for call, again in calls:
            asker.pending_shots(call, episode.context(call, again, _NO_NAMES), "shot")
        return None
    head = _head(asker, segment, names)
    shots = []
    for index, (call, again) in enumerate(calls):
        check = functools.partial(episode.problems, call=call, names=names, around=lines)
        asked = try_ask(asker, "shot", call, episode.context(call, again, names), check,
                        episode.rounds(later, index))  # past a bound after its send-backs: cut
        result, notes = episode.finished(within_bounds(asker, "shot", call, check, asked), call,
                                         names, lines)
        asker.judge.noted("shot", call, notes)
        shots.append(result)
    return episode.joined(head, shots)


_NO_NAMES: dict[str, list[str]] = {"character": [], "place": [], "prop": []}


def _head(asker: Asker, segment: Segment, names: dict[str, list[str]]) -> Result | None:
    """The episode's own call: its title and hook, given its lines and the names; one still
    refused after its send-backs only for a title or hook too long, read with it cut
    (``within_bounds``: its bounds are not sent, as for every stage but a shot's)."""
    context = {"characters": names["character"], "places": names["place"],
               "props": names["prop"], **segment.context()}
    result = try_ask(asker, "episode", segment.lines, context)
    return within_bounds(asker, "episode", segment.lines, lambda _answer: [], result)


def target_of(options: Any, series: Path) -> Target | None:
    """The season an options' ``episodes`` asks for, for the series' video model (None:
    chapters map to episodes, grouped by ``episode_minutes`` when given)."""
    if options.episodes is None or options.episode_minutes is not None:
        return None
    return Target(options.episodes, options.episode_seconds, options.ratio,
                  video_of(series, options.video_model))

