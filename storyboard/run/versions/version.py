"""A series and a language into its version, planned and rendered: the lines spoken, the mouths
re-lipped, the episodes stitched into ``out/<lang>/``; nothing of the original rendered again.

One plan and one consent cover the version: its lines (``lines/<lang>/...``, in each speaker's
designed voice) and its passes (a placeholder prices a pass whose lines are not made yet: the
same take, the same seconds). One run makes them: the lines first (journaled, cached by their
hash), then each pass laid on its made lines (journaled, cached by the take's file and its
track), under one budget (``LaterPasses``: the run goes on to them as ``Wiring.later``). A run
killed anywhere is finished by running it again: a made line or pass is a cache hit, a
submitted one is polled, never sent twice. Each made line is measured from its audio
(``media``'s facts, kept by file) and a line over its window is said, with the seconds over and
its room (``language.versions.fit``), and kept where ``check`` reads it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import made_series_folder, series_folder, write_atomic
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.language.versions.linefit import fit_warning, room, said
from storyboard.language.versions.speech import SpokenLine
from storyboard.language.versions.versioncheck import measured_path
from storyboard.language.versions.versionfile import text_hash
from storyboard.media.probes import probe as media
from storyboard.providers.base import Provider
from storyboard.run.plans import Plan
from storyboard.run.rendering import check_sending, consent, execute, plan_setup
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, make_provider, open_run, single
from storyboard.run.state.cache import OutputCache, cast_source
from storyboard.run.trip.model import Later, RunResult, ShotResult
from storyboard.run.versions.cut import VersionCut, version_cut
from storyboard.run.versions.episodes import stitch_version, version_episode, version_folder
from storyboard.run.versions.passes import Laid, VersionPass, pass_lines, version_passes
from storyboard.run.versions.stale import keep_cut
from storyboard.stitch.series.episodes import EpisodeOutput
from storyboard.targets.kinds import passes as kind_passes


@dataclass
class VersionReport:
    """A version's render: its plan, its lines' and passes' results (``shots``), the run it
    opened (``version render``; none when a matrix's render made it in its variations' run),
    its episodes, each made line's measured seconds (by asset id) and what did not fit."""

    language: str
    plan: Plan
    runs: list[RunResult] = field(default_factory=list)
    shots: list[ShotResult] = field(default_factory=list)
    episodes: list[EpisodeOutput] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    fits: list[str] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)  # the re-lipped shots, EP/SHOT
    made_as: str | None = None  # the matrix's language variation it was made as

    @property
    def ok(self) -> bool:
        return all(s.ok or s.held for s in self.shots) and all(
            e.state in ("stitched", "up to date") for e in self.episodes)

    @property
    def spent(self) -> float:
        if self.runs:
            return round(sum(r.spent for r in self.runs), 6)
        return round(sum(s.cost for s in self.shots), 6)

    @property
    def budget_spent(self) -> float:
        """``spent`` as a budget counts it (``RunResult.budget_spent``)."""
        if self.runs:
            return round(sum(r.budget_spent for r in self.runs), 6)
        return self.spent


@dataclass
class Versioning:
    """One version's cut, where its lines are made, and where its passes are sent."""

    cut: VersionCut
    cast: OutputCache  # where its lines are made (the cast maker's cache)
    cache: OutputCache  # where its passes are made (the provider's)
    where: tuple[str, str | None]
    laid: Laid = field(default_factory=dict)  # the tracks its passes were laid on: each once

    def made(self, line: SpokenLine) -> Path | None:
        return self.cast.path(line.asset.hash) if self.cast.has(line.asset.hash) else None

    def passes(self) -> list[VersionPass]:
        return version_passes(self.cut, self.made, self.where, self.laid)


def plan_version(manifest: Manifest, language: str, flags: RenderFlags,
                 region: str | None = None, made_as: str | None = None,
                 home: str | None = None) -> tuple[Plan, list[str]]:
    """What the version would make and cost (free), and what of its made lines does not fit
    (``made_as`` and ``home``: as ``render_version`` takes them)."""
    provider = make_provider(manifest, flags.provider)
    job = _versioning(manifest, language, flags, provider, region, made_as, home)
    with _setup(job, job.passes(), flags, Callbacks(), provider) as setup:
        the_plan = plan_setup(setup)
    return the_plan, fits(job)[1]


def render_version(manifest: Manifest, language: str, flags: RenderFlags,
                   calls: Callbacks | None = None, region: str | None = None,
                   made_as: str | None = None, home: str | None = None) -> VersionReport:
    """Make the version: plan, one consent, one run (the lines, then the passes laid on them),
    the episodes (``made_as``: the matrix's language variation it is made as, its passes and
    folder that variation's; ``home``: its base's own folder of version files)."""
    calls = calls or Callbacks()
    made = prepare_version(manifest, language, flags, calls, region, made_as, home)
    with made.setup as setup:
        made.agree()
        run = execute(setup, on_event=calls.on_event, later=made.passes)
    return finish_version(made, run.shots, flags.out, calls, [run])


@dataclass
class Prepared:
    """A version planned, its set-up open (closed by who runs it): what its run makes first
    (``setup.shots``: its lines) and goes on to (``passes``)."""

    language: str
    made_as: str | None
    job: Versioning
    setup: RunSetup
    plan: Plan
    passes: LaterPasses

    def agree(self) -> None:
        """Its consent, as its set-up's flags and callbacks give it (``rendering.consent``);
        then its placeholders out of its run's shots: the run makes its lines first."""
        consent(self.setup, self.plan)
        self.setup.shots = [s for s in self.setup.shots
                            if s.hash not in self.passes.placeholders]


def prepare_version(manifest: Manifest, language: str, flags: RenderFlags, calls: Callbacks,
                    region: str | None = None, made_as: str | None = None,
                    home: str | None = None) -> Prepared:
    """The version planned (free), its set-up open; a link on the way to what it writes (its
    episodes, its lines' seconds) refused first."""
    version_folder(manifest, flags.out, language, made_as)
    series_folder(manifest.root, measured_path(manifest.root, language, "", home).parent)
    provider = make_provider(manifest, flags.provider)
    job = _versioning(manifest, language, flags, provider, region, made_as, home)
    planned = job.passes()
    setup = _setup(job, planned, flags, calls, provider)
    try:
        the_plan = plan_setup(setup)
    except BaseException:
        setup.close()
        raise
    later = LaterPasses(job, setup, {p.take.hash: p.shot_id for p in planned if not p.ready})
    return Prepared(language, made_as, job, setup, the_plan, later)


def finish_version(made: Prepared, ended: Sequence[ShotResult], out: Path | None,
                   calls: Callbacks, runs: list[RunResult] | None = None) -> VersionReport:
    """The version after its run (``ended``: that run's results, the version's among them):
    its lines measured, its episodes stitched once every line and pass is made."""
    if made.passes.refused is not None:  # the lines are made and kept: run again goes on
        raise made.passes.refused
    job = made.job
    mine = {s.hash for s in (*made.setup.shots, *made.passes.sent)}
    own = {r.hash: r for r in reversed(ended) if r.hash in mine}  # each once: the first
    report = VersionReport(made.language, made.plan, runs or [],
                           [r for r in ended if own.get(r.hash) is r], made_as=made.made_as)
    report.seconds, report.fits = fits(job)
    passes = job.passes()
    report.passes = [p.shot_id for p in passes]
    if report.ok:
        files = {p.shot_id: job_file(job, p) for p in passes}
        report.episodes = stitch_version(job.cut, files, job.made, out, calls.on_episode)
        keep_cut(job.cut, [e.id for e in report.episodes
                           if e.state in ("stitched", "up to date")])
    return report


@dataclass
class LaterPasses:
    """The passes a version's run goes on to once its lines are made (``Wiring.later``): each
    laid on its made lines, checked as consent checks what it sends, and left out where the
    budget's cut left out its placeholder; none when a line did not end made."""

    job: Versioning
    setup: RunSetup
    placeholders: dict[str, str]  # a placeholder pass's hash -> its shot's id
    refused: StoryboardError | None = None  # why the passes could not be sent
    sent: list[CompiledShot] = field(default_factory=list)  # the passes the run went on to

    def __call__(self, ended: Sequence[ShotResult]) -> Later:
        begun = {s.hash for s in self.setup.shots}
        if not self.placeholders or not all(r.ok for r in ended if r.hash in begun):
            return Later()
        passes = [p for p in self.job.passes() if p.ready and p.take.hash not in begun]
        cut = {self.placeholders[h]: why for h, why in self.setup.skips.items()
               if h in self.placeholders}
        skips = {p.take.hash: cut[p.shot_id] for p in passes if p.shot_id in cut}
        sent = [p.take for p in passes
                if p.take.hash not in skips and not self.setup.cache.has(p.take.hash)]
        try:
            if sent:
                check_sending(self.setup, sent)
        except StoryboardError as error:
            self.refused = error
            return Later()
        self.sent = [p.take for p in passes]
        return Later(self.sent, skips)


def job_file(job: Versioning, made: VersionPass) -> Path:
    """The made file of a shot's pass (refused when it is not made)."""
    path = job.cache.path(made.take.hash)
    if not made.ready or not job.cache.has(made.take.hash):
        raise StoryboardError(f"{made.shot_id}: its {job.cut.language} lip-sync pass is not "
                              "made (render the version again)")
    return path


def fits(job: Versioning) -> tuple[dict[str, float], list[str]]:
    """Each made line's seconds, measured from its audio, kept where ``check`` reads them
    (``versioncheck.measured``), and a warning for each line over its window."""
    facts = media.MediaCache(job.cut.manifest.root / ".storyboard" / "media.json")
    seconds: dict[str, float] = {}
    notes = []
    for dub in job.cut.lines:
        path = job.made(dub)
        if path is None:
            continue
        seconds[dub.asset_id] = measured = round(facts.facts(path).seconds, 3)
        approved = job.cut.approved[f"{dub.episode}/{dub.line.shot}"]
        lines = [d.line for d in job.cut.lines if d.episode == dub.episode]
        space = room(dub.line, lines, float(approved.take.request.duration))
        found = fit_warning(dub.line, measured, dub.line.window, space=space)
        if found is not None:
            notes.append(said(dub.line, found))
    keep_measured(job.cut, seconds)
    return seconds, notes


def keep_measured(cut: VersionCut, seconds: dict[str, float]) -> None:
    """Each episode's made lines' seconds, for the words they were made of:
    ``.storyboard/languages/<lang>/<EP>.json`` (what ``check`` and ``plan`` warn from)."""
    for episode in cut.episodes:
        rows = [{"shot": d.line.shot, "n": d.line.n, "text": text_hash(d.line.text),
                 "seconds": seconds[d.asset_id]}
                for d in cut.lines if d.episode == episode.id and d.asset_id in seconds]
        if not rows:
            continue
        path = measured_path(cut.manifest.root, cut.language, episode.id, cut.home)
        made_series_folder(cut.manifest.root, path.parent)
        write_atomic(path, json.dumps({"lines": rows}, indent=1, sort_keys=True) + "\n",
                     durable=False)


def _versioning(manifest: Manifest, language: str, flags: RenderFlags, provider: Provider,
                region: str | None, made_as: str | None = None, home: str | None = None
                ) -> Versioning:
    job = _job(manifest, language, provider.cache_key, flags.episode,
               (str(getattr(provider, "base_url", "") or ""), region), made_as, home)
    if _passing(job) and not kind_passes(provider.name).lipsyncs:
        raise StoryboardError(
            f"the {language} version re-lips on-screen speakers (a lip-sync pass over each "
            f"approved take), which {provider.name} does not make: --provider dashscope "
            "(videoretalk)")
    return job


def _job(manifest: Manifest, language: str, cache_key: str, episode: str | None,
         where: tuple[str, str | None], made_as: str | None = None, home: str | None = None
         ) -> Versioning:
    cut = version_cut(manifest, language, cache_key, episode, made_as, home)
    return Versioning(cut, OutputCache(manifest.root, cast_source(cache_key)),
                      OutputCache(manifest.root, cache_key), where)


def version_episodes(manifest: Manifest, language: str, cache_key: str,
                     episode: str | None = None) -> list[tuple[CompiledEpisode, dict[str, Path]]]:
    """The made version's episodes as they play (each shot's clip by shot id), for the exports;
    refused while a line or pass of it is not made (``version render`` makes them)."""
    job = _job(manifest, language, cache_key, episode, ("", None))
    missing = [d.asset_id for d in job.cut.lines if job.made(d) is None]
    if missing:
        raise StoryboardError(f"the {language} version's lines are not all made ("
                              f"{', '.join(missing[:3])}...): render it first (storyboard "
                              f"version render SERIES {language})")
    files = {p.shot_id: job_file(job, p) for p in job.passes()}
    folder = manifest.root / ".storyboard" / "stitch-cache" / "heard"
    return [version_episode(job.cut, e, files, job.made, folder) for e in job.cut.episodes]


def _passing(job: Versioning) -> list[str]:
    return [s for s in job.cut.approved if pass_lines(job.cut, s)]


def _setup(job: Versioning, passes: list[VersionPass], flags: RenderFlags, calls: Callbacks,
           provider: Provider) -> RunSetup:
    """A run of the version's voices (made already: cached), lines and passes, apart from the
    original's shots: nothing of the original is planned, so nothing of it is rendered."""
    cut = job.cut
    series = cut.name
    episodes = [CompiledEpisode(e.id, e.title, [p.take for p in passes
                                               if p.shot_id.partition("/")[0] == e.id],
                                e.settings, e.span) for e in cut.episodes]
    needed = {h for d in cut.lines for h in d.asset.needs.values()}
    cast = [replace(v, others=[]) for v in cut.voices if v.hash in needed]
    cast += [d.asset for d in cut.lines]
    manifest = replace(cut.manifest, episodes=[e for e in episodes if e.shots], cast=cast,
                       retakes=True)
    assert all(p.take.series == series for p in passes)
    return open_run(single(manifest), replace(flags, episode=None, shots=()), calls,
                    provider=provider)

