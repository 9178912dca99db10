"""A story's chapters into answers, stage by stage: every chapter's outline and cast, then its shots.

Each chapter is a window of its own: its calls read only its own lines and what its own outline
and cast answers said, so an edit to one chapter asks again only that chapter's calls. A chapter
whose calls cannot fit the endpoint's context window is cut into parts that can
(``fitting.fitted``) before any call. The same
walk plans a run (``Asker.planning``: an answer that is not stored is counted, priced, and not
asked) and makes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.chat import loops
from storyboard.breakdown.chat.calls import NotAnswered
from storyboard.breakdown.chat.fitting import fitted
from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.results import Result
from storyboard.breakdown.shape.season import Entry, Segment
from storyboard.breakdown.source import Chapter, Story
from storyboard.breakdown.stages import chaptershots as shot_stage
from storyboard.breakdown.stages.cast import names_in
from storyboard.breakdown.stages.cast import problems as cast_problems
from storyboard.breakdown.stages.speakers import missing, same, speaking
from storyboard.breakdown.state.reading import loads
from storyboard.errors import RequestRejected

MODERATION = "data_inspection_failed"  # the service refused the text: asking again will not help


@dataclass
class ChapterAnswers:
    chapter: Chapter
    outline: Result | None = None
    cast: Result | None = None
    shots: Result | None = None


@dataclass
class SeasonAnswers:
    """A season's answers: each episode's call (``segments``); ``entries``: the season as used
    (the file's, when ``edited``); ``answered``: the season storyboard proposes, titled by the
    answers, and ``proposed`` its calls."""

    entries: list[Entry] = field(default_factory=list)
    answered: list[Entry] = field(default_factory=list)
    segments: list[tuple[Segment, Result | None]] = field(default_factory=list)
    proposed: list[Segment] = field(default_factory=list)
    edited: bool = False


@dataclass
class Answers:
    chapters: list[ChapterAnswers] = field(default_factory=list)
    season: SeasonAnswers | None = None


def _no_check(_answer: Any) -> list[str]:
    return []


def shots_context(outline: Any, cast: Any) -> dict[str, Any]:
    names = names_in(cast)
    return {"beats": list(outline["beats"]) if isinstance(outline, dict) else [],
            "characters": names["character"], "places": names["place"], "props": names["prop"]}


def try_ask(asker: Asker, stage: str, chapter: Chapter, context: dict[str, Any],
         check: Any = _no_check, later: list[list[str]] | None = None) -> Result | None:
    try:
        return asker.ask(stage, chapter, context, check, later or [])
    except NotAnswered:
        return None
    except RequestRejected as refused:
        if refused.code != MODERATION:
            raise
        return Result(None, [str(refused)], 1)  # reported at the chapter; the others go on


def first_answers(story: Story, asker: Asker, season: bool = False) -> Answers:
    """Every chapter's outline and cast (the chapters fitted to the context window); a
    ``season``'s: its cast alone (its episodes are cut from the story, never from beats), and a
    cast that leaves out a person the chapter says speaks sent back (``speakers.missing``)."""
    answers = Answers()
    stage = "cast" if season else "shots"  # a chapter's largest call
    for chapter in fitted(story, asker.window(), stage).chapters:
        outline = None if season else settled_read(asker, "outline", chapter, try_ask(
            asker, "outline", chapter, {}))
        check: Callable[[Any], list[str]] = functools.partial(_cast_check, chapter=chapter) \
            if season else cast_problems
        cast = settled_read(asker, "cast", chapter, try_ask(asker, "cast", chapter, {}, check),
                            check)
        if season:
            known = _known(answers)
            cast = _cast_earlier(_cast_turns(asker, cast, chapter, known), chapter, known)
        answers.chapters.append(ChapterAnswers(chapter, outline, cast))
    return answers


def _known(answers: Answers) -> tuple[str, ...]:
    """The characters the chapters so far cast."""
    return tuple(name for found in answers.chapters if found.cast is not None
                 for name in names_in(found.cast.answer)["character"])


def _cast_check(answer: Any, chapter: Chapter, known: tuple[str, ...] = ()) -> list[str]:
    return cast_problems(answer) + missing(answer, chapter, known)


def _cast_turns(asker: Asker, cast: Result | None, chapter: Chapter, known: tuple[str, ...]
                ) -> Result | None:
    """A season's cast still refused after its send-backs, with each person the chapter says
    speaks whom neither it nor an earlier chapter cast taken from an earlier answer of the same
    call that did (sent back for them, a small model drops others to add them, then drops those
    again), each said as a warning; checked again (``_cast_earlier`` takes it if it is then
    refused only for people an earlier chapter cast)."""
    if cast is None or not cast.problems or not isinstance(cast.answer, dict):
        return cast
    entries = [e for e in cast.answer.get("characters") or [] if isinstance(e, dict)]
    taken = [str(e.get("name", "")) for e in entries] + list(known)
    earlier = [e for answer in _answers(asker, "cast", chapter)
               for e in answer.get("characters") or [] if isinstance(e, dict)]
    speakers = speaking(chapter, [str(e.get("name", "")) for e in earlier])
    added: list[str] = []
    for entry in earlier:
        name = str(entry.get("name", ""))
        if name in speakers and not any(same(name, had) for had in taken):
            entries, taken, added = [*entries, entry], [*taken, name], [*added, name]
    if not added:
        return cast
    merged = {**cast.answer, "characters": entries}
    said = [f"characters: {name!r} speaks in this chapter and the cast's last answer left them "
            "out: taken from an earlier answer of the same call" for name in added]
    return Result(merged, schemas.problems("cast", merged, chapter) + _cast_check(merged, chapter),
                  cast.turns, warnings=[*cast.warnings, *said])


def _answers(asker: Asker, stage: str, chapter: Chapter) -> list[dict[str, Any]]:
    """Each answer of the call that was JSON in its schema, in the order given."""
    out = []
    for record in asker.judge.answered.get(prompts.what(stage, chapter), []):
        try:
            data = loads(str(record.get("content", "")))
        except ValueError:
            continue
        if isinstance(data, dict) and not schemas.problems(stage, data, chapter):
            out.append(data)
    return out


def _cast_earlier(cast: Result | None, chapter: Chapter, known: tuple[str, ...]
                  ) -> Result | None:
    """A season's cast still refused after its send-backs only for people the chapter says
    speak whom an earlier chapter cast: taken, each said as a warning (its episodes are given
    them from there, ``seasonwalk``)."""
    if cast is None or not cast.problems or not isinstance(cast.answer, dict):
        return cast
    if _cast_check(cast.answer, chapter, known):
        return cast
    own = names_in(cast.answer)["character"]
    given = [f"characters: {name!r} speaks in this chapter and is not in its cast: given from "
             "an earlier chapter's" for name in speaking(chapter, list(dict.fromkeys(known)))
             if not any(same(name, mine) for mine in own)]
    return Result(cast.answer, [], cast.turns, warnings=[*cast.warnings, *given])


@dataclass(frozen=True)
class Reading:
    """How a stage's cut answer is read: the repair that reads it (``repairs.REPAIRS``), how
    what it read is counted, which whole items were left out, and the stage's own check."""

    name: str
    counted: Callable[[dict[str, Any]], str]
    which: str
    check: Callable[[Any], list[str]] = _no_check


READINGS = {
    "outline": (Reading("cut-outline", lambda a: f"{len(a['beats'])} beat(s)",
                        " (a beat said again)"),
                Reading("cut-summary", lambda a: f"summary ({len(a['beats'])} whole "
                        "sentence(s) before its loop, each read as a beat: it began no beat)",
                        "")),
    "cast": (Reading("cut-cast", lambda a: f"{sum(map(len, a.values()))} entries",
                     " (a name listed again)", cast_problems),),
}


def settled_read(asker: Asker, stage: str, chapter: Chapter, result: Result | None,
                 check: Callable[[Any], list[str]] | None = None) -> Result | None:
    """An outline or cast answer cut at ``max_tokens`` or stopped looping (at once when it
    repeats an item, else each time), read as the first of its cut answers that wrote anything
    whole before the cut (``cutshort.read_outline``, ``read_cast``; else an outline's summary,
    ``read_summary``) that is in the schema and passes the reading's check, what ``check``
    (the stage's whole check) finds in it kept as warnings (a person it leaves out who speaks:
    it cannot be sent back, as the model loops again); else one whose strings past their
    bounds, cut, leave nothing wrong (``within_bounds``); else the answer as it was, its
    problems reported."""
    if result is None or not result.problems or isinstance(result.answer, dict):
        return result
    for reading in READINGS[stage]:
        for turn, record in asker.judge.cut.get(prompts.what(stage, chapter), []):
            answer = _read(asker, stage, chapter, reading, turn, record)
            if answer is not None:
                return Result(answer, [], result.turns, warnings=[
                    f"read as written before the cut, {said}" for said in (check or _no_check)(
                        answer) if said not in reading.check(answer)])
    return within_bounds(asker, stage, chapter, READINGS[stage][0].check, result)


def _read(asker: Asker, stage: str, chapter: Chapter, reading: Reading, turn: int,
          record: dict[str, Any]) -> dict[str, Any] | None:
    """One cut answer as ``reading`` reads it, its strings within their bounds, when that is in
    the schema and passes the reading's check (said); else None."""
    judge = asker.judge
    mark = judge.mark()
    read = judge.settle(reading.name, record["content"], stage, chapter)[0]
    if read is None:
        return None
    answer, notes = judge.repaired("judged", read[0], judge.context(stage, chapter))
    answer, cuts = judge.settle("over-bound", answer, stage, chapter)
    answer, left = judge.settle("ordinary-entry", answer, stage, chapter)  # no one's name
    if schemas.problems(stage, answer) or reading.check(answer):
        judge.back(mark)
        return None
    said = cut_note(reading.counted(answer), read[1], reading.which, turn,
                    record["finish_reason"] == loops.STOPPED)
    asker.judge.noted(stage, chapter, [said, *notes, *cuts, *left])
    return dict(answer)


def within_bounds(asker: Asker, stage: str, chapter: Chapter, check: Callable[[Any], list[str]],
                  result: Result | None) -> Result | None:
    """An answer refused after its send-backs only for strings past their bounds, read as its
    last answer (``Result.read``) with them cut where that is in the schema, said, and held to
    ``check`` as any answer in its schema is (its caller settles or reports what it still finds:
    a season's shot, ``episode.finished``); else ``result`` as it was (None, or taken)."""
    if result is None or not result.problems:
        return result
    answer, notes = bounded_read(asker, stage, chapter, result)
    if answer is None:
        return result
    asker.judge.noted(stage, chapter, notes)
    return Result(answer, check(answer), result.turns, read=answer)


def bounded_read(asker: Asker, stage: str, chapter: Chapter, result: Result
                 ) -> tuple[Any, list[str]]:
    """A refused answer's last answer with what is past its bounds cut (``over-bound``), when
    that is in the schema, and what was cut (None: nothing past a bound, or more wrong;
    nothing counted)."""
    mark = asker.judge.mark()
    answer, notes = asker.judge.settle("over-bound", result.read, stage, chapter)
    if notes and not schemas.problems(stage, answer, chapter):
        return answer, notes
    asker.judge.back(mark)
    return None, []


ORDINALS = ("first", "second", "third", "fourth")


def _nth(turn: int) -> str:
    return ORDINALS[turn - 1] if turn <= len(ORDINALS) else f"{turn}th"


def cut_note(read: str, dropped: int, which: str = "", turn: int = 1, stopped: bool = False
             ) -> str:
    """What is said of an answer cut at ``max_tokens`` (``stopped``: a stream stopped in its
    loop) and read as written whole before it (``turn``: which of the call's answers it was)."""
    how = "stopped while the model repeated itself" if stopped else \
        "cut at max_tokens (the model repeated itself until stopped)"
    return (f"the answer was {how}: the {_nth(turn)} answer's {read} read as written before the cut; "
            f"what was cut in the middle and {dropped} whole item(s) after them{which} left out")


def walk(story: Story, asker: Asker, later: dict[int, list[list[str]]] | None = None
         ) -> Answers:
    """Every chapter's answers; ``later`` holds problems found after writing, by chapter, a list
    of them for each round of ``storyboard check``."""
    answers = first_answers(story, asker)
    for found in answers.chapters:
        outline = found.outline.answer if found.outline else None
        cast = found.cast.answer if found.cast else None
        context = shots_context(outline, cast)
        if outline is None or cast is None:
            asker.pending_shots(found.chapter, context)
            continue
        names = names_in(cast)
        chapter = found.chapter
        check = functools.partial(shot_stage.problems, chapter=chapter, names=names)
        found.shots = settled(asker, chapter, check, try_ask(
            asker, "shots", chapter, context, check, (later or {}).get(chapter.number)), names)
    return answers


def settled(asker: Asker, chapter: Chapter, check: Callable[[Any], list[str]],
            result: Result | None, names: dict[str, list[str]] | None = None
            ) -> Result | None:
    """A shots answer still refused after its send-backs, finished (``shots.left_out``: the
    lines the model invented left out, a backward range read as its first line, one past the
    chapter's end read to it, a range counted from the chapter's first line read so, a
    one-second shot lengthened, the names not among ``names`` left out of a shot's cast and its
    lines' speakers) where that leaves nothing wrong. Not JSON in the schema, the first of
    these that does: the shots each answer cut at ``max_tokens`` wrote whole (``cutshort``; at
    once when it repeats a shot), the first shot of one cut inside its first scene's action,
    its last answer with what is past its bounds cut (``bounded_read``), the call's answers in
    the schema, latest first (``_earlier``), each finished the same way. Each said as read;
    else the answer as it was, its problems reported."""
    if result is None or not result.problems:
        return result
    mark = asker.judge.mark()
    for answer, notes in _candidates(asker, chapter, result):
        answer, more = shot_stage.left_out(answer, chapter, names)
        if notes + more and not check(answer):
            asker.judge.noted("shots", chapter, notes + more)
            return Result(answer, [], result.turns)
        asker.judge.back(mark)  # the next reading counts from here
    return result


def _candidates(asker: Asker, chapter: Chapter, result: Result
                ) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """What a refused shots answer may be read as, in order, with what says so: the last
    answer; not JSON in the schema, what each of the call's cut answers wrote whole (``_cut``),
    then the last answer within its bounds, then the call's whole answers (``_earlier``)."""
    if isinstance(result.answer, dict):
        yield result.answer, []
        return
    yield from _cut(asker, chapter)
    answer, notes = bounded_read(asker, "shots", chapter, result)
    if answer is not None:
        yield answer, notes
    yield from _earlier(asker, chapter)


def _earlier(asker: Asker, chapter: Chapter) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """The call's answers in the schema, latest first, each as read (the novel's episode 23,
    issue 67: its last answer looped inside its first shot's cast with nothing whole, where an
    earlier one was whole but for a slip the finishing reads)."""
    turns = asker.judge.answered.get(prompts.what("shots", chapter), [])
    for index in reversed(range(len(turns))):
        answer = asker.judge.judge("shots", chapter, turns[index], _no_check)[0]
        if isinstance(answer, dict):
            yield answer, [f"the last answer could not be read as meant: the "
                           f"{_nth(index + 1)} answer, in the schema, read instead"]


def _cut(asker: Asker, chapter: Chapter) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """The shots each of the call's answers cut at ``max_tokens`` wrote whole in the schema
    (``cutshort.read_shots``), first to last; then the first shot of each cut inside its first
    scene's action (``cutshort.read_scene``); each with the note that says so."""
    cut, judge = asker.judge.cut.get(prompts.what("shots", chapter), []), asker.judge
    for reading in SHOT_READINGS:
        for turn, record in cut:
            mark = judge.mark()
            read = judge.settle(reading.name, record["content"], "shots", chapter)[0]
            answer, dropped, notes = _whole_shots(asker, chapter, read) if read is not None \
                else (None, 0, [])
            if answer is None:
                judge.back(mark)
            else:
                stopped = record["finish_reason"] == loops.STOPPED
                yield answer, [cut_note(reading.counted(answer), dropped, reading.which, turn,
                                        stopped), *notes]


SHOT_READINGS = (Reading("cut-shots", lambda a: f"{len(a['shots'])} shot(s)", ""),
                 Reading("cut-scene", lambda a: "first shot, cut inside its first scene's "
                         "action (the action's whole sentences before its loop, each once; no "
                         "lines)", ""))


def _whole_shots(asker: Asker, chapter: Chapter, read: tuple[dict[str, Any], int]
                 ) -> tuple[dict[str, Any] | None, int, list[str]]:
    """Shots read from a cut answer, repaired to the schema (the last one left out when it was
    cut), how many whole ones were left out, and what was repaired (None: not in the schema)."""
    judge = asker.judge
    answer, notes = judge.repaired("judged", read[0], judge.context("shots", chapter))
    dropped = read[1]
    if schemas.problems("shots", answer) and len(answer["shots"]) > 1:  # the last shot cut
        answer, dropped = {"shots": answer["shots"][:-1]}, dropped + 1
    if schemas.problems("shots", answer):
        return None, 0, []
    return answer, dropped, notes
