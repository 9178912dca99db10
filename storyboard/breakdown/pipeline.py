"""A story and a series folder into a written series: planned, priced, consented, asked, checked.

``breakdown`` is what ``storyboard breakdown`` maps onto. In order: refuse a folder it would write
through a link (``episodes/``, ``.storyboard/``, as ``render`` does) and an endpoint other than the
one the series records (unless told to switch); read the story; walk it once with the cache alone
to plan (what is stored costs nothing; the rest is priced at its ceiling); refuse or ask for
consent as a paid render does (``--yes``, ``--budget``, a yes at the terminal; anything else
refused before any call), naming the host and the key's variable; walk it again asking what is
missing; write the texts into a temporary folder and ``check`` them for the target model; send the
shots of a chapter whose episode has check errors or warnings in its shots back to the model
with them located and quoted (at most twice, each round checked again); then write through the
guard (a hand-edited file gets a proposal beside it only when its answers changed; files no
longer made are retired), record the endpoint in the series file's ``breakdown:`` block, check
the series as written (each error in the file it is in; the warnings left, ``left``, counted in
the summary) and report.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import filelock

from storyboard.breakdown.answers.asking import SEND_BACKS, Asker
from storyboard.breakdown.chat.calls import Pending, Settings
from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.chat.endpoints import asking_problem
from storyboard.breakdown.chat.pace import BASE
from storyboard.breakdown.checking import checked, on_disk, send_backs
from storyboard.breakdown.failure import failed, resume_command
from storyboard.breakdown.seriesfile import merge_problem, put
from storyboard.breakdown.settings import RATIOS, block, carried, endpoint, states, switch_problem
from storyboard.breakdown.shape import video
from storyboard.breakdown.shape.skeleton import refusal
from storyboard.breakdown.source import Story, read_story
from storyboard.breakdown.stages.seasonwalk import target_of, walk_season
from storyboard.breakdown.stages.seriestext import Texts, texts
from storyboard.breakdown.stages.walk import Answers, walk
from storyboard.breakdown.state.answerstore import FOLDER, AnswerCache, write_atomic
from storyboard.breakdown.state.guard import Guard, Outcome
from storyboard.errors import BudgetExceeded, Diagnostic, ProblemsFound, StoryboardError
from storyboard.files import check_state_folders, series_folder, state_folder
from storyboard.review.studio.proposals import PROPOSED
from storyboard.scaffold.blueprint import GITIGNORE
from storyboard.targets.llm import (
    DEFAULT_CHAT_BASE,
    DEFAULT_CHAT_MODEL,
    DEFAULT_KEY_ENV,
    ChatPrice,
    chat_price,
    key_host_problem,
)
from storyboard.targets.prices import is_amount

if TYPE_CHECKING:  # httpx is imported when a call is made
    from storyboard.breakdown.chat.client import ChatClient


SERIES_FILE = "storyboard.yaml"


class BreakdownError(StoryboardError):
    """A breakdown that cannot start (no price, no key) or whose answers cannot be used."""


@dataclass(frozen=True)
class Options:
    model: str = DEFAULT_CHAT_MODEL
    base_url: str = DEFAULT_CHAT_BASE
    key_env: str = DEFAULT_KEY_ENV
    episodes: int | None = None
    yes: bool = False
    budget: float | None = None
    dry_run: bool = False
    price_in: float | None = None
    price_out: float | None = None
    episode_minutes: float | None = None
    episode_seconds: float | None = None  # the season's target length of an episode
    ratio: str | None = None  # the season's aspect ratio (the series' defaults)
    switch_endpoint: bool = False
    response_format: str = "auto"
    stream: str = "auto"
    deadline: float | None = None  # one call's, seconds (None: fitted to the endpoint's pace)
    context: int | None = None  # the endpoint's context window in tokens (None: found or none)
    max_answer_mb: float = 4.0
    video_model: str | None = None  # the series' video model (None: its defaults' or wan2.7-r2v)


@dataclass
class Estimate:
    pending: list[Pending]
    cached: int
    price: ChatPrice
    host: str = ""  # where the story goes
    key_env: str = ""  # whose key pays

    @property
    def where(self) -> str:
        return f"at {self.host} with the key in {self.key_env}"

    @property
    def ceiling(self) -> float:
        return sum(p.ceiling for p in self.pending)

    @property
    def worst(self) -> float:
        """With every answer sent back the most times."""
        return self.ceiling * (1 + SEND_BACKS)

    def describe(self) -> str:
        tokens = sum(p.input_tokens for p in self.pending)
        return (f"{len(self.pending)} call(s) to ask {self.price.model} {self.where} (~{tokens:,} input "
                f"tokens), {self.cached} answered already (free): up to {usd(self.worst)} "
                f"(every answer sent back at most {SEND_BACKS} times); price "
                f"{self.price.tiers[0].input:g}/{self.price.tiers[0].output:g} USD per 1M "
                f"tokens in/out, {self.price.source}")


@dataclass
class Report:
    estimate: Estimate
    outcome: Outcome = field(default_factory=Outcome)
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    sent: int = 0
    cached: int = 0
    spend: Spend | None = None
    shots: int = 0
    notes: list[str] = field(default_factory=list)  # near-misses read as meant
    repairs: list[dict[str, Any]] = field(default_factory=list)  # each repair's firings, by mode
    left: list[Diagnostic] = field(default_factory=list)  # the written series' check warnings


def endpoint_problem(options: Options) -> None:
    parts = urlsplit(options.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BreakdownError(f"--base-url must be an http(s) URL, got {options.base_url!r}")
    problem = key_host_problem(options.key_env, parts.hostname)
    if problem:
        raise BreakdownError(problem)


def recorded(series: Path, options: Options) -> None:
    """Refuse another endpoint than the one the series records, unless told to switch."""
    found = switch_problem(series, {"base_url": options.base_url, "key_env": options.key_env})
    if found is not None and not options.switch_endpoint:
        raise ProblemsFound([found])


def price_for(options: Options) -> ChatPrice:
    for value, flag in ((options.price_in, "--price-in"), (options.price_out, "--price-out")):
        if value is not None and not is_amount(value):
            raise BreakdownError(f"{flag} must be a finite amount >= 0, got {value}")
    price = chat_price(options.model, input=options.price_in, output=options.price_out)
    if price is None:
        raise BreakdownError(f"no list price is known for the model {options.model!r}: give "
                             "--price-in and --price-out (USD per million tokens) to estimate it")
    return price


def asker_for(series: Path, options: Options, spend: Spend, say: Callable[[str], None],
           progress: Callable[[str], None] = lambda _text: None) -> Asker:
    def connect() -> ChatClient:
        from storyboard.breakdown.chat.client import ChatClient, Limits
        from storyboard.providers.protocol import ApiKey
        key = os.environ.get(options.key_env, "").strip()
        if not key:
            raise BreakdownError(f"the environment variable {options.key_env} holds no API key "
                                 "(set it, or name another with --api-key-env)")
        limits = Limits(options.deadline or BASE, int(options.max_answer_mb * 1024 * 1024))
        return ChatClient(options.base_url, ApiKey(key), limits=limits)
    asking_problem(options)
    settings = Settings(options.model, options.base_url, response_format=options.response_format,
                        stream=options.stream, context=options.context,
                        deadline=options.deadline)
    return Asker(AnswerCache(series), settings, spend, connect, say, progress)


def usd(amount: float) -> str:
    """A ceiling as ``render`` says money, rounded up to the cent: ``0.05 USD``."""
    return f"{math.ceil(round(amount * 100, 6)) / 100:.2f} USD"


def consent(estimate: Estimate, options: Options, confirm: Callable[[Estimate], bool] | None
            ) -> float | None:
    """The most this run may spend: ``--budget``, else the estimate's "up to" that ``--yes``
    or a yes at the terminal accepted (None: nothing is to be asked), or BudgetExceeded."""
    if options.budget is not None and not is_amount(options.budget):
        raise BudgetExceeded(f"--budget must be a finite amount >= 0, got {options.budget}")
    if not estimate.pending:
        return options.budget
    if options.yes:
        return estimate.worst if options.budget is None else options.budget
    if options.budget is not None:
        if estimate.worst > options.budget:
            raise BudgetExceeded(f"the breakdown could cost up to {usd(estimate.worst)}, more "
                                 f"than --budget {options.budget:g}; nothing was asked")
        return options.budget
    if confirm is not None:
        if not confirm(estimate):
            raise BudgetExceeded("nothing was asked: the breakdown was not confirmed")
        return estimate.worst
    raise BudgetExceeded(
        f"this breakdown would make {len(estimate.pending)} paid call(s) costing up to "
        f"{usd(estimate.worst)} with {estimate.price.model} {estimate.where}; nothing was "
        "asked. Run it with "
        "--dry-run to see why, then pass --yes to accept the cost or --budget AMOUNT to cap it.")


def walked(story: Story, asker: Asker, options: Options,
           later: dict[int, list[list[str]]] | None = None) -> Answers:
    """Every answer: a season's (``seasonwalk``) when the options ask for one. The rules the
    series' calls are asked by are pinned before any answer is stored, whichever it is (a season
    of a series broken down by chapters first is asked by them too)."""
    rules = asker.cache.rules(pin=not asker.planning)
    target = target_of(options, asker.cache.series)
    if target is None:
        return walk(story, asker, later)
    return walk_season(story, asker, target, rules, later)


def target_problem(options: Options) -> None:
    """Refuse a season's target that cannot work (fail closed: NaN, inf, 0, negative), before
    any call (the flags and the series file are checked where they are read)."""
    if options.episodes is not None and not (type(options.episodes) is int and
                                             1 <= options.episodes <= 500):
        raise BreakdownError(f"episodes must be a whole number from 1 to 500, got "
                             f"{options.episodes!r}")
    seconds = options.episode_seconds
    if seconds is not None and not (isinstance(seconds, int | float) and
                                    math.isfinite(seconds) and 0 < seconds <= 3600):
        raise BreakdownError(f"episode_seconds must be a number above 0 and at most 3600, got "
                             f"{seconds!r}")
    if options.ratio is not None and options.ratio not in RATIOS:
        raise BreakdownError(f"ratio must be one of {', '.join(RATIOS)}, got {options.ratio!r}")


def cuttable(story: Story, series: Path, options: Options) -> None:
    """Refuse a season of more episodes than the story has sentences, of episodes' seconds
    no shots of the series' video model make, or for a model no story becomes (one that edits
    a video of its own), before the estimate, the consent or any request
    (``skeleton.refusal``, ``video.refusal``)."""
    try:
        target, made = target_of(options, series), video.video_of(series, options.video_model)
    except ValueError as error:
        raise BreakdownError(str(error)) from error
    said = video.refusal(made, options.ratio)
    said = f"{said}; nothing was asked" if said is not None else None if target is None else \
        refusal(story, target.episodes, target.seconds, target.video.takes())
    if said is not None:
        raise BreakdownError(said)


def plan(story: Story, series: Path, options: Options) -> Estimate:
    """What a run would ask and cost, from the cache alone (nothing is sent)."""
    price = price_for(options)
    asker = asker_for(series, options, Spend(price, 0.0), lambda _text: None)
    asker.planning = True
    walked(story, asker, options)
    host = urlsplit(options.base_url).hostname or options.base_url
    return Estimate(asker.pending, asker.cached, price, host, options.key_env)


def breakdown(source: Path, series: Path, options: Options, *,
              confirm: Callable[[Estimate], bool] | None = None,
              say: Callable[[str], None] = lambda _text: None,
              progress: Callable[[str], None] = lambda _text: None) -> Report:
    """Break ``source`` down into the series in ``series`` (see the module docstring)."""
    endpoint_problem(options)
    target_problem(options)
    unlinked(series)
    recorded(series, options)
    kept = carried(series)  # a series file that does not read is refused before any call
    merge_problem(series, kept[1])  # nor one the breakdown's cast could not be added to
    story = read_story(source)
    cuttable(story, series, options)
    estimate = plan(story, series, options)
    say(estimate.describe())
    report = Report(estimate)
    if options.dry_run:
        return report
    limit = consent(estimate, options, confirm)
    with one_at_a_time(series):
        return _run(source, series, story, options, report, (say, progress),
                    Spend(estimate.price, limit, consented=options.budget is None), kept)


def unlinked(series: Path) -> None:
    """Before anything is written: no folder the breakdown writes into (``episodes/``,
    ``.storyboard/`` and its ``breakdown/`` state) is a link, as ``render`` refuses them."""
    series_folder(series, series / "episodes")
    check_state_folders(series)
    state_folder(series / FOLDER / "answers")


@contextlib.contextmanager
def one_at_a_time(series: Path) -> Iterator[None]:
    """Refuse a second breakdown of the same series while one runs (the OS's lock, dropped when
    a process dies): two would ask the same calls and write the same files."""
    folder = series / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(folder / "lock"), timeout=0)
        lock.acquire()
    except filelock.Timeout as exc:
        raise BreakdownError(f"another breakdown of {series} is running; wait for it or stop "
                             "it first (nothing was asked)") from exc
    except OSError as exc:
        raise BreakdownError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
    try:
        yield
    finally:
        lock.release()


def _run(source: Path, series: Path, story: Story, options: Options, report: Report,
         talk: tuple[Callable[[str], None], Callable[[str], None]], spend: Spend,
         kept: tuple[str, bool]) -> Report:
    asker = asker_for(series, options, spend, *talk)
    try:
        made, found = _checked_rounds(story, options, asker,
                                      resume_command(source, series, options))
    except (StoryboardError, OSError) as error:  # a deadline passed: go on with a longer one
        going = replace(options, deadline=asker.longer) if asker.longer else options
        raise failed(error, asker, resume_command(source, series, going)) from error
    finally:
        asker.close()
    report.sent, report.cached, report.spend, report.shots = asker.sent, asker.cached, spend, \
        made.shots
    report.notes, report.repairs = asker.judge.notes, asker.judge.counted()
    guard = _write(series, made, report, kept, options)
    written = on_disk(series)
    report.problems = _answer_problems(made, report) + [
        d for d in written if d.severity == "error"]
    report.left = [d for d in written if d.severity == "warning"]
    report.warnings += made.warnings + _in_proposals(series, found, report.outcome.proposed)
    remember(series, source, options, guard.waiting())
    return report


def _answer_problems(made: Texts, report: Report) -> list[Diagnostic]:
    """The answers' problems; those of a chapter whose episode is your edit (kept, or with a
    proposal beside it) are warnings: your file stands, and it is checked as it is."""
    yours = set(report.outcome.kept) | set(report.outcome.proposed)
    out: list[Diagnostic] = []
    for chapter, problem in zip(made.problem_chapters, made.problems, strict=True):
        if made.file_of_chapter.get(chapter) in yours:
            report.warnings.append(replace(problem, severity="warning", message=(
                f"{problem.message} (your edit of {made.file_of_chapter[chapter]} stands)")))
        else:
            out.append(problem)
    return out


def _checked_rounds(story: Story, options: Options, asker: Asker, go_on: str
                    ) -> tuple[Texts, list[Diagnostic]]:
    """The texts and what ``check`` found in them (in a temporary copy), after at most
    ``SEND_BACKS`` rounds of sending each chapter's check errors back with its shots answer."""
    rounds: dict[int, list[list[str]]] = {}
    for _round in range(SEND_BACKS + 1):
        made = texts(story, walked(story, asker, options, rounds), options.episodes,
                     options.episode_minutes, go_on, target_of(options, asker.cache.series),
                     video.video_of(asker.cache.series, options.video_model))
        found = checked(made)
        later = send_backs(made, found) if _round < SEND_BACKS else {}
        if not later:
            break
        for chapter, problems in later.items():
            rounds.setdefault(chapter, []).append(problems)
    return made, found


def _in_proposals(series: Path, found: list[Diagnostic], proposed: list[str]
                  ) -> list[Diagnostic]:
    """The check errors of texts that became proposals, as warnings in the proposal files
    (your file stands; the proposal holds the error, at the same line)."""
    out = []
    for diagnostic in found:
        span = diagnostic.span
        if diagnostic.severity == "error" and span is not None and span.file in proposed:
            where = (series / (span.file + PROPOSED)).as_posix()
            out.append(replace(diagnostic, severity="warning", span=replace(span, file=where)))
    return out


def remember(series: Path, source: Path, options: Options, proposed: list[str]) -> None:
    """``.storyboard/breakdown/last.json``: the story (its path from the series folder), the
    model, the endpoint, the price overrides and the proposals written; never a key, nor what
    a run spent (so a run that changes nothing changes no byte). ``status`` reads it for
    ``storyboard plan``."""
    record: dict[str, Any] = {
        "source": os.path.relpath(source.resolve(), series.resolve()),
        "options": {**asdict(options), "base_url": endpoint(options.base_url), "yes": False,
                    "budget": None, "dry_run": False, "switch_endpoint": False},
        "proposed": proposed}
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    write_atomic(series / FOLDER / "last.json", text.encode())


def _write(series: Path, made: Texts, report: Report, kept: tuple[str, bool],
           options: Options) -> Guard:
    """Through the guard; the series file ends with the ``breakdown:`` block that records the
    run's endpoint (the author's own, kept as written while it says the same; ``kept``: its
    text, and whether the file held nothing else, so it may be written over). Files written
    before and no longer produced are retired, unless an answer has a problem (a chapter that
    could not be answered keeps its episode)."""
    guard = Guard(series)
    written, settings_only = kept
    settings = {**asdict(options)}
    record = written if written and states(written, settings) else block(settings)
    for name, text in made.files.items():
        if name == SERIES_FILE:  # merged into the settings you wrote first (``seriesfile``)
            put(guard, text, record, settings, report.outcome, settings_only)
        else:
            guard.put(name, text, report.outcome)
    if not made.problems:
        guard.retire(set(made.files), report.outcome)
    guard.save()
    report.warnings += guard.warnings
    ignore = series / ".gitignore"
    if not ignore.exists() and not ignore.is_symlink():  # as init writes it; never updated
        write_atomic(ignore, GITIGNORE.encode())
    return guard
