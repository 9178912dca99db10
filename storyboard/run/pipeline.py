"""Variations and a render's flags into plans and finished episodes: the one render pipeline.

A plain series is a matrix of one variation, so ``plan`` and ``render`` walk one path for both:
group the variations by provider, then for each group open one ``RunSetup`` (the lock read once,
the ledger opened once, every output folder decided), plan, protect approved shots, ask consent,
execute, and stitch each variation's episodes. Every flag means the same for a series and a matrix.
``render_series`` and ``plan_series`` are the plain series' view of the same path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledEpisode, Manifest
from storyboard.language.variations import Variant, Variants
from storyboard.providers.base import Provider
from storyboard.run import Plan, RunResult, drafts
from storyboard.run.boards.ahead import AheadOfMeasure, AheadOfPeople, AheadOfStitch
from storyboard.run.boards.animatic import AheadOfAnimatic, board_animatic
from storyboard.run.rendering import (
    build_episode,
    consent,
    execute,
    keep_take_changes,
    listening,
    plan_setup,
    protect_approved,
    remove_empty,
)
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, ensure_writable, open_run, single
from storyboard.run.state.castinputs import shown_folder
from storyboard.run.state.lock.derived import heard_files
from storyboard.run.state.measured import Outcome, Report, measure_takes, thresholds
from storyboard.run.state.people.measuring import measure_people_of
from storyboard.run.state.takes import cached_outputs, episode_as_used, state_key, with_retakes
from storyboard.run.trip.model import Later, ShotResult
from storyboard.run.variations import (
    MatrixPlan,
    MatrixReport,
    VariationResult,
    by_provider,
    forget_removed_variations,
    per_variation,
)
from storyboard.stitch.series.episodes import EpisodeBuilder, EpisodeOutput

Then = Callable[[Sequence[ShotResult]], Later]  # what a run goes on to (``Wiring.later``)
Join = Callable[[RunSetup], Then | None]  # a group's run's ``Then``, once it has consent


@dataclass
class RenderReport:
    """A plain series' render: its plan, its run, its episodes."""

    plan: Plan
    run: RunResult | None
    episodes: list[EpisodeOutput] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.run is None or self.run.ok) and all(
            e.state != "skipped" for e in self.episodes)


# --- plan ----------------------------------------------------------------------------------------


def plan(variants: Variants, flags: RenderFlags) -> list[MatrixPlan]:
    """The plan of every provider group (nearly always one): free."""
    groups = by_provider(variants, flags.provider)
    if not groups:
        raise StoryboardError("no variation compiled: nothing to plan")
    plans = []
    for group in groups:
        with open_run(group, flags) as setup:
            plans.append(matrix_plan(setup))
    return plans


def matrix_plan(setup: RunSetup) -> MatrixPlan:
    """The set-up's plan, and what each of its variations shares, needs and costs."""
    the_plan = plan_setup(setup)
    if setup.flags.episode is not None and not setup.shots:
        raise StoryboardError(f"no episode {setup.flags.episode!r} in any variation")
    return MatrixPlan(the_plan, per_variation(the_plan))


def plan_series(manifest: Manifest, provider: Provider, episode: str | None = None, *,
                offline: bool = False) -> Plan:
    """What a render of a plain series with ``provider`` would do and cost."""
    flags = RenderFlags(provider.name, episode, offline=offline)
    with open_run(single(manifest), flags, provider=provider) as setup:
        return plan_setup(setup)


# --- render --------------------------------------------------------------------------------------


def render(variants: Variants, flags: RenderFlags, calls: Callbacks | None = None,
           join: Join | None = None) -> MatrixReport:
    """Render every variation that compiled, one run per provider group, then stitch each into its
    own folder. ``flags.budget`` covers all the runs together (each run under what those before
    it left, as the budget counts it: ``RunResult.budget_spent``); a variation that fails does
    not stop the others. ``join``: what a group's run goes on to once its takes end (a matrix's
    versions: ``run.versions.matrix``), asked with the group's set-up once it has consent."""
    calls = calls or Callbacks()
    report = MatrixReport([], [], [VariationResult(v.name, "invalid", problems=v.problems)
                                   for v in variants.variants if not v.ok])
    stitched: list[VariationResult] = []
    for group in by_provider(variants, flags.provider):
        left = None if flags.budget is None else max(0.0, flags.budget - report.budget_spent)
        with open_run(group, replace(flags, budget=left), calls) as setup:
            the_plan, run, results = render_group(setup, join)
        report.plans.append(the_plan)
        report.runs.append(run)
        stitched += results
    report.variations = stitched + report.variations
    forget_removed_variations(variants)
    return report


def render_group(setup: RunSetup, join: Join | None = None
                 ) -> tuple[MatrixPlan, RunResult, list[VariationResult]]:
    """Plan, protect approved shots, ask, render the group's takes (and what ``join`` has the
    run go on to), stitch its variations."""
    flags, calls = setup.flags, setup.calls
    the_plan = matrix_plan(setup)
    if calls.on_plan is not None:
        calls.on_plan(the_plan)
    protect_approved(setup, the_plan.plan, replace_approved=flags.replace_approved,
                     ask=calls.ask_replace)
    consent(setup, the_plan.plan)
    later = None if join is None else join(setup)  # asked for before the run
    made = _writable(setup.targets.values())  # before anything is paid for, not after
    keep_take_changes(setup)
    try:
        builders = _builders(setup)
        run = _shots(setup, builders, later)
        return the_plan, run, [_stitch(setup, v, builders[_name(v)], run)
                               for v in _compiled(setup)]
    finally:
        remove_empty(made)


def _writable(targets: Any) -> list[Path]:
    """Create each output folder (proving it takes files); the folders this made, deepest first."""
    made: list[Path] = []
    for target in targets:
        made += [p for p in (target, *target.parents) if not p.exists() and p not in made]
        ensure_writable(target)
    return made


def _compiled(setup: RunSetup) -> list[Variant]:
    assert setup.variants is not None
    return [v for v in setup.variants.variants if v.manifest is not None]


def _name(variant: Variant) -> str:
    assert variant.manifest is not None
    return variant.manifest.name


def _builders(setup: RunSetup) -> dict[str, EpisodeBuilder]:
    """One episode builder per variation, each with its own folder and stitch state."""
    builders = {}
    for variant in _compiled(setup):
        manifest = variant.manifest
        assert manifest is not None
        builder = EpisodeBuilder(manifest, setup.targets[manifest.name], draft=setup.draft,
                                 preview=setup.preview)
        if variant.name:
            builder.state_dir = builder.state_dir / variant.name
        builders[manifest.name] = builder
    return builders


def _shots(setup: RunSetup, builders: dict[str, EpisodeBuilder], later: Then | None = None
           ) -> RunResult:
    """Render the set-up's takes, making mezzanines (and, with ``--boards``, the held boards of
    the board animatic) as they arrive; then what ``later`` has the run go on to."""
    ahead = AheadOfStitch(list(builders.values()))
    on_event = ahead.listen(setup.calls.on_event)
    measuring = _measuring(setup)
    people = AheadOfPeople.of(measuring, setup.lock, setup.store)
    held = _held_ahead(setup, builders, measuring)
    on_event = on_event if held is None else held.listen(on_event)
    on_event = on_event if measuring is None else measuring.listen(on_event)
    whole = setup.episode is None and setup.chosen is None
    try:
        if drafts.quick(setup) and len(builders) == 1:  # the studio's free previews
            facts = next(iter(builders.values())).cache_dir / "facts"
            return drafts.draft_shots(setup, facts, on_event)
        with listening(setup) as sleep:
            run = execute(setup, on_event=on_event, sleep=sleep,
                          source=setup.manifest if whole else None, later=later)
    finally:
        stopped = sys.exc_info()[1] is not None  # interrupted or failed: nothing more is drawn
        ahead.wait()
        for pool in (held, *((measuring, people) if stopped else ())):
            if pool is not None:
                pool.wait(cancel=stopped)
    found = {} if measuring is None else measuring.outcomes()
    if people is not None:
        people.wait()
    run.measured = _measure(setup, run, found)
    return run


def _held_ahead(setup: RunSetup, builders: dict[str, EpisodeBuilder],
                measuring: AheadOfMeasure | None) -> AheadOfAnimatic | None:
    """With ``--boards``: the board animatic's held boards drawn as their boards arrive (each
    board's still measured in its held board's run)."""
    if not setup.flags.boards or setup.lock is None:
        return None
    shown = [(with_retakes(b.manifest, setup.lock), b) for b in builders.values()]
    return AheadOfAnimatic(shown, setup.lock.takes, setup.cache, measuring)


def _measuring(setup: RunSetup) -> AheadOfMeasure | None:
    """The run's takes measured as they arrive (a provider that renders, not the animatic)."""
    if not setup.provider.traits.downloads:
        return None
    return AheadOfMeasure(setup.root, setup.cache, with_retakes(setup.manifest, setup.lock).takes())


def _measure(setup: RunSetup, run: RunResult, ahead: dict[str, Outcome]) -> Report | None:
    """The run's takes measured (``ahead``: those measured as they arrived), and judged."""
    if not setup.provider.traits.downloads:
        return None
    ready = {r.hash for r in run.shots if r.ok}
    takes = [t for t in with_retakes(setup.manifest, setup.lock).takes() if t.hash in ready]
    limits = thresholds(setup.manifest.checks)
    report = measure_takes(setup.root, setup.cache, takes, limits, ahead)
    measure_people_of(setup.root, setup.cache, takes, limits, report, setup.store)
    if setup.store is not None:  # a teammate who pulls these takes need not decode them again
        for sha in report.files:
            setup.store.share(sha)
    return report


def _stitch(setup: RunSetup, variant: Variant, builder: EpisodeBuilder, run: RunResult
            ) -> VariationResult:
    """Stitch a variation's episodes (those with a chosen shot, with ``--shot``)."""
    assert variant.manifest is not None and setup.lock is not None
    manifest = with_retakes(variant.manifest, setup.lock)
    ours = {s.hash for s in setup.shots}  # not what the run went on to (a version's lines)
    mine = [r for r in run.shots if r.series == manifest.name and r.hash in ours]
    report = VariationResult(variant.name, "ok", shots=_counts(mine))
    cache = setup.cache
    chosen = [ep for ep in manifest.episodes
              if _stitched(setup, ep.id, [state_key(s) for s in ep.shots])]
    for number, ep in enumerate(chosen, 1):
        told = _numbered(setup.calls.on_episode, number, len(chosen))
        outputs = {**cached_outputs(ep, cache), **{r.shot: r.output for r in mine
                                                   if r.ok and r.output and r.episode == ep.id}}
        used, done = episode_as_used(ep, setup.lock.takes, outputs)
        used = heard_files(used, manifest.root, cache.cache_key)
        built = build_episode(builder, used, done, builder.out_dir, told)
        built = replace(waits_on_boards(built, used, done, mine, manifest.root), number=number,
                        count=len(chosen))
        report.episodes.append(built)
        if told is not None:
            told(built)
    if setup.flags.boards:  # ``render SERIES boards`` ends with the board animatic
        report.episodes += board_animatic(manifest, setup.lock.takes, cache, builder,
                                          setup.episode, setup.calls.on_episode)
    if not all(r.ok or r.held for r in mine) or any(e.state == "skipped"
                                                     for e in report.episodes):
        report.state = "failed"
    return report


def _numbered(on_episode: Callable[[EpisodeOutput], None] | None, number: int, count: int
              ) -> Callable[[EpisodeOutput], None] | None:
    """``on_episode`` hearing each report of an episode as the ``number``th of ``count``."""
    if on_episode is None:
        return None
    return lambda told: on_episode(replace(told, number=number, count=count))


def waits_on_boards(built: EpisodeOutput, episode: CompiledEpisode, done: Mapping[str, Path],
                    results: list[ShotResult], root: Path) -> EpisodeOutput:
    """An episode not stitched only because the boards gate holds some of its shots: it
    ``waits`` (not a failure), naming them and the command that lets them go."""
    missing = [s.id for s in episode.shots if s.id not in done]
    held = {r.shot: r for r in results if r.held and r.episode == episode.id}
    if built.state != "skipped" or not missing or not set(missing) <= set(held):
        return built
    said = ", ".join(s.partition("#")[0] for s in missing)
    return replace(built, state="waits", message=(
        f"its shot(s) {said} wait for their boards' approval: nothing of it is sent or paid "
        f"until then (storyboard approve {shown_folder(root)} boards/{episode.id} approves the "
        "episode's boards; then render again)"))


def _stitched(setup: RunSetup, episode: str, keys: list[str]) -> bool:
    """Whether this run stitches the episode: the one asked for, one with a chosen shot."""
    if setup.episode is not None and episode != setup.episode:
        return False
    return setup.chosen is None or any(key in setup.chosen for key in keys)


def _counts(results: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for shot in results:
        counts[shot.state] = counts.get(shot.state, 0) + 1
    return counts


def render_series(manifest: Manifest, flags: RenderFlags | None = None,
                  calls: Callbacks | None = None) -> RenderReport:
    """``render`` of a plain series, seen as one: its plan, its run, its episodes."""
    return as_series(render(single(manifest), flags or RenderFlags(), calls))


def as_series(report: MatrixReport) -> RenderReport:
    """A plain series' render (a matrix of one variation) as its own report."""
    return RenderReport(report.plans[0].plan, report.runs[0], report.variations[0].episodes)
