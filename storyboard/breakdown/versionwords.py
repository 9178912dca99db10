"""A series' spoken lines into a version's words: asked of the breakdown's model, priced, consented, written.

``storyboard translate SERIES --language es`` maps onto ``translate``. The series is compiled
(its errors refuse the run); each episode versioned into the language (``languages.versions_of``)
has its lines (``versions.source_lines``) set against its version file
(``languages/<lang>/<episode>.yaml``) as it stands:

- a line the file lacks, or holds with no words yet, is asked;
- a line whose source words are those the file translated is kept as the file says, the
  model's words or a person's (``is_hand_fixed``): never asked again, never written over;
- a line whose source words changed since (``is_stale``) stays as the file says, and its new
  translation is proposed beside the file as ``<episode>.yaml.proposed`` (the breakdown's
  proposals: the person compares and takes it), and ``check`` warns the line is stale;
- a line the series no longer has is left out (said);
- a line named by ``shorter`` (``ep01/toast/1``: made and found longer than its window) is asked
  again for fewer words, its words now given, and its answer written over them (you asked).

Lines are asked in batches of ``BATCH`` an episode through the breakdown's own asker (the same
``breakdown:`` endpoint settings, the answer cache by content, the send-backs, ``Spend``): the
run is first walked with the cache alone and priced at its ceiling, consented as a breakdown is
(``--yes``, ``--budget``, a yes at a terminal), and each answer is stored as it arrives, so a run
killed part-way asks again only what was not answered. An episode's file is written once its
lines are answered. ``no_model``: the files are written with the lines' entries and no words
for a person to fill in; nothing is asked.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.chat.calls import NotAnswered
from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.failure import failed
from storyboard.breakdown.pipeline import (
    Estimate,
    Options,
    asker_for,
    consent,
    endpoint_problem,
    one_at_a_time,
    price_for,
    recorded,
)
from storyboard.breakdown.source import Chapter
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.files import check_state_folders, series_folder
from storyboard.language.compile import compile_source
from storyboard.language.read import ranges
from storyboard.language.read.series import Source, load_source
from storyboard.language.request import Manifest
from storyboard.language.variations import compile_variations, language_versions
from storyboard.language.versions import languages as langs
from storyboard.language.versions.versionfile import (
    FOLDER,
    LABEL_KEY,
    Version,
    VersionLine,
    is_untranslated,
    label_line,
    read_version,
    source_lines,
    text_hash,
    title_line,
    version_path,
    write_version,
)
from storyboard.review.studio.proposals import PROPOSED

STAGE = "translate"
BATCH = 40  # lines a call (the answer's schema takes 100)


@dataclass(frozen=True)
class Job:
    """One episode's version: its file, what the file says (None: no file yet), and the
    series' lines as they are now."""

    episode: str
    path: Path
    old: Version | None
    lines: tuple[VersionLine, ...]
    source: str  # the original language
    shorter: frozenset[tuple[str, int]] = frozenset()  # lines asked again for fewer words
    language: str = ""  # the version's
    name: str = ""  # its file as said: ``languages/es/ep01.yaml`` (a base's: ``es/BASE/ep01``)

    def entry(self, line: VersionLine) -> VersionLine | None:
        return self.old.line(line.shot, line.n) if self.old is not None else None

    def asked(self) -> list[VersionLine]:
        """The lines to ask: new ones, ones with no words yet, and stale ones (proposed)."""
        return [line for line in self.lines if (e := self.entry(line)) is None
                or is_untranslated(e) or e.source != line.source or line.key in self.shorter]


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)
    kept: int = 0  # lines whose words were kept as the file said (a hand fix or the model's)
    hand: int = 0  # of which fixed by hand
    filled: int = 0  # lines given words by this run
    stale: list[str] = field(default_factory=list)  # ``ep01/toast 1``: proposed, not replaced
    dropped: list[str] = field(default_factory=list)  # lines the series no longer has


@dataclass
class Report:
    language: str
    estimate: Estimate | None
    outcome: Outcome = field(default_factory=Outcome)
    problems: list[str] = field(default_factory=list)
    sent: int = 0
    cached: int = 0
    spend: Spend | None = None


@dataclass(frozen=True)
class Ask:
    """What a run asks: the language, which episodes (None: all of them), no model at all."""

    language: str
    episodes: tuple[str, ...] | None = None
    no_model: bool = False
    shorter: tuple[str, ...] = ()  # ``EPISODE/SHOT/N``: lines to ask again for fewer words


def jobs(series: Path, ask: Ask) -> tuple[Source, str, list[Job]]:
    """The series, its original language and each episode's job (errors at their lines)."""
    source = load_source(series)
    unknown = langs.unknown_language(source, ask.language)
    if unknown is not None:
        raise ProblemsFound([unknown])
    matrix = isinstance(source.series.data, dict) and "variations" in source.series.data
    bases = matrix_bases(series, ask.language) if matrix else [(compile_source(source), None)]
    wanted = langs.episodes_in(source, ask.language)
    original = langs.original(source.series.data) or ""
    if ask.episodes is not None:
        picked = ranges.chosen(ask.episodes, list(langs.episode_ids(source)))
        if isinstance(picked, str):
            raise StoryboardError(f"--episodes: {picked}")
        missing = [e for e in picked if e not in wanted]
        if missing:
            raise StoryboardError(f"--episodes: {', '.join(missing)} not versioned into "
                                  f"{ask.language}; expected some of {', '.join(wanted) or '(none)'}")
        wanted = [e for e in wanted if e in picked]
    found = []
    for manifest, home in bases:
        for number, episode in enumerate(manifest.episodes, start=1):
            if episode.id not in wanted:
                continue
            path = version_path(source.root, ask.language, episode.id, home)
            old = _read(path, source.root, ask.language, episode.id) if path.is_file() else None
            cards = [c for c in (label_line(episode, number), title_line(episode)) if c]
            lines = (*cards, *source_lines(episode))  # the title card's words first
            found.append(Job(episode.id, path, old, lines, original,
                             _shorter(ask, episode.id, lines), ask.language,
                             path.relative_to(source.root).as_posix()))
    unknown_lines = [name for name in ask.shorter if name.partition("/")[0] not in wanted]
    if unknown_lines:
        raise StoryboardError(f"--shorter {unknown_lines[0]}: no episode "
                              f"{unknown_lines[0].partition('/')[0]!r} in the {ask.language} "
                              "version; expected EPISODE/SHOT/N (ep01/toast/1)")
    return source, original, found


def matrix_bases(series: Path, language: str) -> list[tuple[Manifest, str | None]]:
    """A matrix's base variations (docs/variations.md, "A language axis"): each cut its
    ``language`` variations are versions of, with its own folder of version files (None:
    ``languages/<lang>/``), by name; refused when it has none in ``language``."""
    bases = {made.base.name: (made.base.manifest, made.home)
             for made in language_versions(compile_variations(series)).values()
             if made.language == language and made.base.manifest is not None}
    if not bases:
        raise StoryboardError(
            f"{series}: this matrix has no {language} variation that differs from a base "
            "variation only by its language (a `language` axis, the base in the original "
            "language); its variations render their shots, and have no version to translate")
    return [(manifest, home) for _, (manifest, home) in sorted(bases.items(),
                                                               key=lambda b: str(b[0]))]


def _shorter(ask: Ask, episode: str, lines: tuple[VersionLine, ...]
             ) -> frozenset[tuple[str, int]]:
    """The lines of ``episode`` ``ask.shorter`` names (one it does not have: an error)."""
    keys = {f"{episode}/{line.shot}/{line.n}": line.key for line in lines}
    named = [name for name in ask.shorter if name.partition("/")[0] == episode]
    for name in named:
        if name not in keys:
            raise StoryboardError(f"--shorter {name}: episode {episode} has no such line; "
                                  f"expected one of {', '.join(keys) or '(none)'}")
    return frozenset(keys[name] for name in named)


def _read(path: Path, root: Path, language: str, episode: str) -> Version:
    version = read_version(path, root)
    for key, want in (("language", language), ("episode", episode)):
        if getattr(version, key) != want:
            raise StoryboardError(f"{path}: {key} is {getattr(version, key)!r}, expected "
                                  f"{want!r} (the file's place names its {key})")
    return version


def context(job: Job, batch: list[VersionLine], original: str, language: str) -> dict[str, Any]:
    """The translate call's input document (besides its stage)."""
    return {"from": original, "to": language, "version": job.episode,
            "lines": [_asked(job, line) for line in batch]}


def _asked(job: Job, line: VersionLine) -> dict[str, Any]:
    said: dict[str, Any] = {"id": f"{line.shot}/{line.n}", "speaker": line.speaker,
                            "seconds": line.window, "text": line.source}
    entry = job.entry(line)
    if line.key in job.shorter and entry is not None and not is_untranslated(entry):
        said.update(shorter=True, now=entry.text)
    return said


def batches(job: Job) -> list[tuple[Chapter, list[VersionLine]]]:
    """The episode's asked lines in calls of at most ``BATCH`` (each a chapter of no lines)."""
    asked = job.asked()
    out = []
    for index in range(0, len(asked), BATCH):
        part = asked[index:index + BATCH]
        title = f"{job.episode} (lines {index + 1}-{index + len(part)} of {len(asked)})"
        out.append((Chapter(str(job.path.name), index // BATCH + 1, title, 1, ()), part))
    return out


def checker(batch: list[VersionLine]) -> Callable[[Any], list[str]]:
    """An answer's own problems: every id asked answered once, no other."""
    ids = [f"{line.shot}/{line.n}" for line in batch]

    def check(answer: Any) -> list[str]:
        said = [str(item.get("id")) for item in answer.get("lines", []) if isinstance(item, dict)]
        problems = [f"lines: {i!r} was not asked; answer only the ids given" for i in said
                    if i not in ids]
        problems += [f"lines: {i!r} is answered {said.count(i)} times; expected once" for i in ids
                     if said.count(i) > 1]
        problems += [f"lines: {i!r} is not answered; expected every id given" for i in ids
                     if i not in said]
        return problems
    return check


def walked(asker: Asker, work: list[Job], original: str, language: str
           ) -> tuple[dict[tuple[str, str, int], str], list[str]]:
    """Each answered line's words by (episode, shot, n), and what could not be answered."""
    words: dict[tuple[str, str, int], str] = {}
    problems: list[str] = []
    for job in work:
        for chapter, batch in batches(job):
            try:
                result = asker.ask(STAGE, chapter, context(job, batch, original, language),
                                   checker(batch), [])
            except NotAnswered:
                continue
            if result.problems or not isinstance(result.answer, dict):
                problems += [f"the translation of {chapter.title}: {p}" for p in result.problems]
                continue
            for item in result.answer["lines"]:
                shot, _, n = str(item["id"]).rpartition("/")
                words[(job.name, shot, int(n) if n.isdigit() else 0)] = str(item["text"])
    return words, problems


def plan(series: Path, options: Options, work: list[Job], original: str, language: str
         ) -> Estimate:
    """What a run would ask and cost, from the cache alone (nothing is sent)."""
    price = price_for(options)
    asker = asker_for(series, options, Spend(price, 0.0), lambda _text: None)
    asker.planning = True
    walked(asker, work, original, language)
    host = urlsplit(options.base_url).hostname or options.base_url
    return Estimate(asker.pending, asker.cached, price, host, options.key_env)


def resume_command(series: Path, ask: Ask, options: Options) -> str:
    words = ["storyboard", "translate", str(series), "--language", ask.language]
    if ask.episodes is not None:
        words += ["--episodes", ",".join(ask.episodes)]
    for name, flag in (("model", "--model"), ("base_url", "--base-url"),
                       ("key_env", "--api-key-env"), ("price_in", "--price-in"),
                       ("price_out", "--price-out"), ("budget", "--budget")):
        value: Any = getattr(options, name)
        if value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if options.yes:
        words.append("--yes")
    return shlex.join(words)


def translate(series: Path, ask: Ask, options: Options, *,
              confirm: Callable[[Estimate], bool] | None = None,
              say: Callable[[str], None] = lambda _text: None,
              progress: Callable[[str], None] = lambda _text: None) -> Report:
    """Translate the series' lines into ``ask.language`` (see the module docstring)."""
    series_folder(series, series / FOLDER)
    check_state_folders(series)
    _, original, work = jobs(series, ask)
    writable(series, work)  # a link one folder down: refused before anything is asked
    if ask.no_model:
        report = Report(ask.language, None)
        if not options.dry_run:
            write(work, {}, report.outcome)
        return report
    endpoint_problem(options)
    recorded(series, options)
    estimate = plan(series, options, work, original, ask.language)
    say(estimate.describe())
    report = Report(ask.language, estimate)
    if options.dry_run:
        return report
    limit = consent(estimate, options, confirm)
    spend = Spend(estimate.price, limit, consented=options.budget is None)
    with one_at_a_time(series):
        asker = asker_for(series, options, spend, say, progress)
        try:
            words, report.problems = walked(asker, work, original, ask.language)
        except (StoryboardError, OSError) as error:
            raise failed(error, asker, resume_command(series, ask, options)) from error
        finally:
            asker.close()
        report.sent, report.cached, report.spend = asker.sent, asker.cached, spend
        writable(series, work)  # and again as they are written (the answers took a while)
        write(work, words, report.outcome)
    return report


# --- writing -----------------------------------------------------------------------------------


def writable(series: Path, work: list[Job]) -> None:
    """Each version file's folder (``languages/<lang>/``, a base's ``languages/<lang>/<home>/``)
    a real folder inside the series, else a LinkedStateFolder naming the link."""
    for job in work:
        series_folder(series, job.path.parent)


def merged(job: Job, words: dict[tuple[str, str, int], str], outcome: Outcome
           ) -> tuple[Version, Version | None]:
    """The version file as this run leaves it, and the proposal beside it (None: nothing
    proposed): a stale line stays as the file says and its new words go to the proposal."""
    kept: list[VersionLine] = []
    proposal: list[VersionLine] = []
    for line in job.lines:
        entry, said = job.entry(line), words.get((job.name, line.shot, line.n))
        made = replace(line, text=said, made=text_hash(said)) if said is not None else None
        if made is not None and line.key in job.shorter:
            outcome.filled += 1
            kept.append(made)
            proposal.append(made)
            continue
        if entry is not None and not is_untranslated(entry) and entry.source != line.source:
            outcome.stale.append(f"{job.episode}/{line.shot} {line.n}")
            kept.append(entry)
            proposal.append(made or entry)
            continue
        if entry is not None and not is_untranslated(entry):
            outcome.kept += 1
            outcome.hand += entry.made != text_hash(entry.text)
            now = replace(line, text=entry.text, made=entry.made)
        else:
            outcome.filled += made is not None
            now = made or replace(line, text=entry.text if entry else "")
        kept.append(now)
        proposal.append(now)
    names = {(line.shot, line.n) for line in job.lines}
    outcome.dropped += [f"{job.episode}/{e.shot} {e.n}" for e in job.old.lines
                        if (e.shot, e.n) not in names] if job.old is not None else []
    language, source = job.language, job.source
    version = _version(language, source, job.episode, kept)
    changed = any(p != k for p, k in zip(proposal, kept, strict=True))
    return version, _version(language, source, job.episode, proposal) if changed else None


def _version(language: str, source: str, episode: str, lines: list[VersionLine]) -> Version:
    """A version of these entries: its title card's (its title, entry 0 of no shot, and its
    "Episode N" label, ``LABEL_KEY``) apart from its lines."""
    title = next((line for line in lines if line.key == ("", 0)), None)
    label = next((line for line in lines if line.key == LABEL_KEY), None)
    return Version(language, source, episode, tuple(line for line in lines
                                                    if line is not title and line is not label),
                   title=None if title is None else replace(title, span=None),
                   label=None if label is None else replace(label, span=None))


def write(work: list[Job], words: dict[tuple[str, str, int], str], outcome: Outcome) -> None:
    """Each job's file (only when what it says changes) and its proposal (removed when none)."""
    for job in work:
        version, proposal = merged(job, words, outcome)
        name = job.name
        if version == job.old:  # the file says it already: its own bytes (and comments) stay
            outcome.unchanged.append(name)
        else:
            write_version(job.path, version)
            outcome.written.append(name)
        beside = job.path.with_name(job.path.name + PROPOSED)
        if proposal is not None:
            write_version(beside, proposal)
            outcome.proposed.append(name)
        elif beside.is_file():
            beside.unlink()
