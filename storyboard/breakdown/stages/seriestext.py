"""A walk's answers into the series' texts: the merged cast, episodes of shots, and what is wrong.

Chapters become episodes (one each, or grouped into ``episodes`` runs of neighbours, or into runs
of about ``minutes`` of shots each; a chapter's windows are never cut apart); each episode file is
named by its first chapter's own title (not the model's), so a new answer does not rename it;
each shot is named in its episode (``shots.named``: its number there and words of its own lines);
a cast member no shot shows is written as a comment (``unshown``).
Every problem still left in an answer is a located diagnostic: at the shot's first line when the
problem names a shot, else at the chapter's first line. Nothing wrong is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from storyboard.breakdown.questions import prompts
from storyboard.breakdown.shape import season
from storyboard.breakdown.shape.season import Target
from storyboard.breakdown.shape.skeleton import shortfall
from storyboard.breakdown.shape.video import Video
from storyboard.breakdown.source import Story
from storyboard.breakdown.stages import chaptershots as shot_stage
from storyboard.breakdown.stages import seasonfile
from storyboard.breakdown.stages.cast import Cast, for_user, merged
from storyboard.breakdown.stages.walk import Answers, ChapterAnswers, SeasonAnswers
from storyboard.breakdown.stages.writer import Episode, episode_yaml, series_yaml
from storyboard.errors import Diagnostic, Span
from storyboard.language.resolving.cast import SAMPLE_AIM, SAMPLE_CHARACTERS, voice_sample
from storyboard.scaffold.cast import sample as cut_sample
from storyboard.scaffold.namekeys import slug
from storyboard.targets.cast.assets import spoken_seconds
from storyboard.targets.video.wording import wording_of

SAMPLE_MORE = "Listen: this is how I sound when I speak, slowly and clearly."
SHOT_INDEX = re.compile(r"^shots\[(\d+)\]")


@dataclass
class Texts:
    files: dict[str, str] = field(default_factory=dict)  # name in the series -> text
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # left in what was written
    # (episode file, shot id) -> (chapter, the shot's place in its answer)
    chapter_of_shot: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    problem_chapters: list[int] = field(default_factory=list)  # each problem's chapter
    file_of_chapter: dict[int, str] = field(default_factory=dict)  # its episode's file
    shots: int = 0
    cast: Cast = field(default_factory=Cast)


def groups(count: int, wanted: int | None) -> list[range]:
    """Chapter indexes cut into ``wanted`` runs of neighbours, as even as they go."""
    parts = max(1, min(count, wanted or count))
    bounds = [round(i * count / parts) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def _located(found: ChapterAnswers, stage: str, problems: list[str], label: str = ""
             ) -> list[Diagnostic]:
    chapter = found.chapter
    label = label or f"chapter {chapter.number} ({chapter.title})"
    out = []
    for problem in prompts.few(problems, 2 * prompts.PROBLEM_CHARS):  # cut where it was made
        line = chapter.first
        index = SHOT_INDEX.match(problem)
        answer = found.shots.answer if found.shots else None
        if stage == "shots" and index and isinstance(answer, dict):
            shot = answer["shots"][int(index.group(1))]
            line = shot["from_line"] if chapter.first <= shot["from_line"] <= chapter.last \
                else line
        told = for_user(problem) if stage == "cast" else problem
        out.append(Diagnostic(Span(chapter.file, line, 1), f"the {stage} answer for "
                              f"{label}: {told}",
                              code=f"breakdown-{stage}"))
    return out


def _problems(answers: Answers, out: Texts) -> None:
    for found in answers.chapters:
        for stage in ("outline", "cast", "shots"):
            result = getattr(found, stage)
            if result is not None and result.problems:
                located = _located(found, stage, result.problems)
                out.problems += located
                out.problem_chapters += [found.chapter.number] * len(located)
            if stage == "cast" and result is not None and result.warnings:  # read from a loop
                out.warnings += [replace(d, severity="warning") for d in
                                 _located(found, stage, result.warnings)]


def _episode(number: int, members: list[ChapterAnswers]) -> Episode:
    outline = members[0].outline.answer if members[0].outline else None
    title = outline["title"] if isinstance(outline, dict) else members[0].chapter.title
    summary = " ".join(m.outline.answer["summary"] for m in members
                       if m.outline and isinstance(m.outline.answer, dict))
    beats = [b for m in members if m.outline and isinstance(m.outline.answer, dict)
             for b in m.outline.answer["beats"]]
    return Episode(number, title, summary, beats, [m.chapter.title for m in members])


def by_minutes(seconds: list[float], minutes: float) -> list[range]:
    """Chapter indexes cut into runs of about ``minutes`` of shots each: a run ends before the
    chapter whose first half would pass the length."""
    runs, start, total = [], 0, 0.0
    for index, length in enumerate(seconds):
        if index > start and total + length / 2 > minutes * 60:
            runs.append(range(start, index))
            start, total = index, 0.0
        total += length
    return [*runs, range(start, len(seconds))]


def _built(answers: Answers, cast: Cast, video: Video | None) -> list[list[shot_stage.Shot]]:
    """Each chapter's shots (none for a chapter with no usable answer), in order, unnamed, as
    the video model takes them (``_for_video``)."""
    every: list[list[shot_stage.Shot]] = []
    for found in answers.chapters:
        made: list[shot_stage.Shot] = []
        if found.shots is not None and isinstance(found.shots.answer, dict):
            made = shot_stage.built(found.shots.answer, found.chapter, cast,
                                    video.room if video else shot_stage.MAX_REFERENCES)
        every.append(_for_video(made, video) if video else made)
    return every


def _named(answers: Answers, shots: list[list[shot_stage.Shot]], run: range, out: Texts,
           name: str) -> None:
    """Each shot of one episode named by its number there (``shots.named``)."""
    number = 0
    for index in run:
        for place, shot in enumerate(shots[index]):
            number += 1
            shot.id = shot_stage.named(number, shot)
            out.chapter_of_shot[(name, shot.id)] = (answers.chapters[index].chapter.number,
                                                    place)


def _runs(answers: Answers, shots: list[list[shot_stage.Shot]], episodes: int | None,
          minutes: float | None) -> list[range]:
    """The episodes as runs of the walk's chapters: whole chapters (a chapter's windows are
    never cut apart), grouped by count or by length."""
    units: list[list[int]] = []
    for index, found in enumerate(answers.chapters):
        if units and found.chapter.part_of and \
                answers.chapters[units[-1][0]].chapter.part_of == found.chapter.part_of:
            units[-1].append(index)
        else:
            units.append([index])
    grouped = by_minutes([sum(s.duration for i in unit for s in shots[i]) for unit in units],
                         minutes) if minutes else groups(len(units), episodes)
    return [range(units[run[0]][0], units[run[-1]][-1] + 1) for run in grouped if run]


def refused(answers: Answers) -> list[str]:
    """Each stage whose answer was refused (none usable), with its first problem."""
    out = []
    for found in answers.chapters:
        for stage in ("outline", "cast", "shots"):
            result = getattr(found, stage)
            if result is not None and result.answer is None and result.problems:
                why = result.problems[0]
                why = why if len(why) <= 300 else why[:300] + "..."
                out.append(f"the {stage} answer for chapter {found.chapter.number} "
                           f"({found.chapter.title}): {why}")
    return out


def texts(story: Story, answers: Answers, episodes: int | None,
          minutes: float | None = None, go_on: str = "", target: Target | None = None,
          video: Video | None = None) -> Texts:
    """The series' files from the answers (a chapter with no usable shots adds none);
    ``go_on``: the command that goes on, said in a series written after a refused stage; a
    season's (``target``): its episodes as the season says (``season_texts``); ``video``: the
    model the chapters' shots are written for (a season's is its target's)."""
    if answers.season is not None and target is not None:
        return season_texts(story, answers, target, go_on)
    out = Texts()
    _problems(answers, out)
    out.cast = merged([(f.chapter, f.cast.answer) for f in answers.chapters if f.cast])
    source = Path(story.file).name
    shots = _built(answers, out.cast, video)
    runs = _runs(answers, shots, episodes, minutes)
    for number, run in enumerate(runs, 1):
        episode = _episode(number, [answers.chapters[i] for i in run])
        episode.shots = [shot for i in run for shot in shots[i]]
        if episode.shots:
            title = answers.chapters[run[0]].chapter.title
            name = f"episodes/{number:02d}-{slug(title, '-')}.yaml"
            _named(answers, shots, run, out, name)
            out.files[name] = episode_yaml(episode, source)
            out.file_of_chapter.update({answers.chapters[i].chapter.number: name for i in run})
            out.shots += len(episode.shots)
    every = [shot for made in shots for shot in made]
    _first_lines(out.cast, every)
    left_out = refused(answers)
    hidden = set() if left_out else unshown(out.cast, every)
    head = series_yaml(story.title, out.cast, source, left_out, go_on, hidden, video=video)
    out.files = {"storyboard.yaml": head, **out.files}
    return out


def unshown(cast: Cast, shots: list[shot_stage.Shot]) -> set[str]:
    """The keys of the cast no shot shows (named only where a shot was full): written as a
    comment, as a picture no shot uses would be paid for in vain (and ``check`` warns of it).
    Only when every answer was usable: a refused one may have shown them."""
    shown = {key for shot in shots for key in shot.shows}
    hidden = {key for key in cast.entries if key not in shown}
    return hidden if shown else set()  # no shot shows anyone: check says so, not a comment


def _first_lines(cast: Cast, shots: list[shot_stage.Shot]) -> None:
    """Each speaking character's sample for its designed voice: its first line long enough to
    be a reference voice and short enough for one, else its first lines joined
    (``language.resolving.cast.voice_sample``), one too long cut to whole sentences as ``storyboard init``
    cuts one (``scaffold.cast.sample``), and ``SAMPLE_MORE`` after them when even all of them are
    too short to be one."""
    said: dict[str, list[str]] = {}
    for shot in shots:
        for scene in shot.scenes:
            for key, words, _ in scene.say:
                said.setdefault(key, []).append(words)
    for key, lines in said.items():
        sample = voice_sample(lines)
        if len(sample) > SAMPLE_CHARACTERS:  # check would warn: longer than a reference voice
            sample = cut_sample(key, sample)[0]
        if spoken_seconds(sample) < SAMPLE_AIM:  # check would warn: the voice cannot be made
            sample, cast.entries[key].lengthened = f"{sample} {SAMPLE_MORE}", True
        cast.entries[key].first_line = sample


def season_texts(story: Story, answers: Answers, target: Target, go_on: str) -> Texts:
    """A season's files: ``season.yaml`` (the season the answers say), an episode file for
    each episode of the season used (the file's, when edited), its shots its segments'."""
    found = answers.season
    assert found is not None
    out = Texts()
    _problems(answers, out)
    _season_problems(story, found, out)
    out.cast = merged([(f.chapter, f.cast.answer) for f in answers.chapters if f.cast])
    source = Path(story.file).name
    every: list[shot_stage.Shot] = []
    empty: list[str] = []  # why an episode of the season was not written
    for entry in found.entries:
        own = [(s, r) for s, r in found.segments if s.entry.episode == entry.episode]
        made = [(s, _for_video(shot_stage.built(r.answer, s.lines, out.cast,
                                                 target.video.room), target.video))
                for s, r in own if r is not None and isinstance(r.answer, dict)]
        shots = [shot for _, built in made for shot in built]
        if not shots:
            empty.append(_unwritten(entry, bool(own)))
            continue
        name = f"episodes/{entry.episode:02d}-{slug(own[0][0].chapter.title, '-')}.yaml"
        for number, (segment, place, shot) in enumerate(
                ((s, p, shot) for s, built in made for p, shot in enumerate(built)), 1):
            shot.id = shot_stage.named(number, shot)
            out.chapter_of_shot[(name, shot.id)] = (segment.lines.number, place)
            out.file_of_chapter[segment.lines.number] = name
        titles = list(dict.fromkeys(s.chapter.title for s, _ in own))
        episode = Episode(entry.episode, entry.title, "", [b for s, _ in own for b in s.beats],
                          titles, shots, hook=entry.hook)
        out.files[name] = episode_yaml(episode, source)
        _length(out, entry, shots, target)
        out.shots += len(shots)
        every += shots
    _first_lines(out.cast, every)
    _short(story, answers, target, empty, out)
    left_out = refused(answers) + _season_refused(found)
    hidden = set() if left_out else unshown(out.cast, every)
    head = series_yaml(story.title, out.cast, source, left_out, go_on, hidden, target.ratio,
                       density=True, video=target.video)
    out.files = {"storyboard.yaml": head, **out.files}
    if found.answered:
        out.files[seasonfile.NAME] = seasonfile.season_yaml(found.answered, found.proposed,
                                                            source)
    return out


def _for_video(shots: list[shot_stage.Shot], video: Video) -> list[shot_stage.Shot]:
    """The shots' scenes as the season's video model follows them (``shots.fitted``)."""
    if video.default:
        return shots
    most = wording_of(video.model.id).max_shots
    return [shot_stage.fitted(shot, whole=video.whole_seconds, timed=video.timed, most=most,
                              takes=video.takes()) for shot in shots]


def _unwritten(entry: season.Entry, told: bool) -> str:
    return (f"episode {entry.episode} ({entry.title}) "
            + ("got no shot from its answers" if told else
               f"tells no line of the story (its units {entry.beats} are not the story's)"))


def _short(story: Story, answers: Answers, target: Target, empty: list[str],
           out: Texts) -> None:
    """A season that wrote fewer episodes than it asks, said as a problem (exit 1) with how
    many and why (``skeleton.shortfall``), after its answers' problems: the run's last word on
    its episodes, however many problems came before it."""
    found = answers.season
    if found is None:
        return
    wanted = len(found.entries) if found.edited else target.episodes
    reasons = [] if len(found.entries) >= wanted else [
        f"the season has {len(found.entries)} episode(s) where {wanted} were asked"]
    said = shortfall(len(found.entries) - len(empty), wanted, reasons + empty)
    if said is not None:
        out.problems.append(Diagnostic(Span(story.file, 1, 1), said, code="breakdown-episodes"))
        out.problem_chapters.append(0)


def _length(out: Texts, entry: season.Entry, shots: list[shot_stage.Shot],
            target: Target) -> None:
    """A warning at an episode's first shot when its shots are far from the seconds asked."""
    said = season.off_length(sum(shot.duration for shot in shots), target.seconds)
    if said is not None:
        out.warnings.append(Diagnostic(Span(shots[0].file, shots[0].first, 1), f"episode "
                                       f"{entry.episode} ({entry.title}): {said}",
                                       severity="warning", code="breakdown-length"))


def _season_problems(story: Story, found: SeasonAnswers, out: Texts) -> None:
    """The episodes' calls' problems, located at their shots' lines, as a chapter's."""
    for segment, result in found.segments:
        label = (f"episode {segment.entry.episode} (chapter {segment.chapter.number}, "
                 f"{segment.chapter.title})")
        if result is not None and result.problems:
            located = _located(ChapterAnswers(segment.lines, shots=result), "shots",
                               result.problems, label)
            out.problems += located
            out.problem_chapters += [segment.lines.number] * len(located)
        if result is not None and result.warnings:
            out.warnings += [replace(d, severity="warning") for d in _located(
                ChapterAnswers(segment.lines, shots=result), "shots", result.warnings, label)]


def _season_refused(found: SeasonAnswers) -> list[str]:
    """Each episode whose answer was refused, with its first problem."""
    out = [f"the shots answer for episode {s.entry.episode} (chapter {s.chapter.number}): "
            f"{result.problems[0][:300]}" for s, result in found.segments
            if result is not None and result.answer is None and result.problems]
    return out
