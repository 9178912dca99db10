"""A series' compiled variations into one plan and one run: shared shots are paid for once.

``plan_variations`` plans all their shots together, so a shot that comes out identical in several
variations (the same hash) is counted once, and says per variation what it shares, what it alone
needs and what it would cost. ``render_variations`` runs every shot of every variation in one run
(one budget, one consent, one submit per distinct shot), then stitches each variation's episodes
into ``<series>/out/<variation>/`` (drafts: ``<series>/out/draft/<variation>/``, their record in
``.storyboard/draft.lock``); a variation that fails does not stop the others. Compiling them is the
language's (``storyboard.language.variations``).
"""


from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, StoryboardError
from storyboard.language.expand import expand
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.series import load_source
from storyboard.language.variations import Variant, Variants
from storyboard.run import Plan, RunResult, ShotEvent, plan_for
from storyboard.run.ahead import AheadOfStitch
from storyboard.run.lockfile import lock_path, prune_variations, read_lock
from storyboard.run.rendering import build_episode, consent, execute, store_hits
from storyboard.run.setup import ensure_writable, make_provider, prepare, provider_name, reference_seconds
from storyboard.run.takes import episode_as_used
from storyboard.stitch.episodes import DRAFT_DIR, EpisodeBuilder, EpisodeOutput, output_dir

# --- plan ----------------------------------------------------------------------------------------


@dataclass
class VariationPlan:
    name: str
    shots: int
    cached: int
    shared: int  # distinct shots to render that other selected variations use too
    own: int  # distinct shots to render that only this variation uses
    own_cost: float  # what its ``own`` shots cost (the shots no other variation uses)
    alone_cost: float  # what it would cost rendered on its own
    adds_cost: float = 0.0  # what it adds to the variations above it: these sum to the total

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class MatrixPlan:
    plan: Plan
    variations: list[VariationPlan]

    @property
    def distinct(self) -> int:
        return len({s.hash for s in self.plan.shots})

    def to_dict(self) -> dict[str, Any]:
        return {"total_cost": self.plan.total_cost, "currency": self.plan.currency,
                "distinct_shots": self.distinct, "shots": len(self.plan.shots),
                "variations": [v.to_dict() for v in self.variations], "plan": self.plan.to_dict()}


def selected_shots(manifest: Manifest, episode: str | None) -> list[CompiledShot]:
    return [t for e in manifest.episodes if episode is None or e.id == episode for s in e.shots
            for t in s.all_takes()]


def plan_variations(variants: Variants, provider: Any, episode: str | None = None,
                    seconds: Callable[[CompiledShot], float | None] | None = None, *,
                    in_store: Collection[str] = ()) -> MatrixPlan:
    """One plan for every shot of every variation, and what each variation shares or needs;
    ``in_store``: the hashes the shared store holds (free)."""
    combined = variants.combined()
    shots = selected_shots(combined, episode)
    if episode is not None and not shots:
        raise StoryboardError(f"no episode {episode!r} in any variation")
    the_plan = plan_for(shots, provider, series_dir=variants.root,
                        price_overrides=combined.provider.get("prices"),
                        reference_video_seconds=seconds or reference_seconds(combined),
                        in_store=in_store)
    return MatrixPlan(the_plan, _per_variation(the_plan))


def _per_variation(the_plan: Plan) -> list[VariationPlan]:
    cost = {s.hash: s.cost for s in the_plan.to_render}
    users: dict[str, set[str]] = {}
    by_variation: dict[str, list[Any]] = {}
    for shot in the_plan.shots:
        users.setdefault(shot.hash, set()).add(shot.series)
        by_variation.setdefault(shot.series, []).append(shot)
    result = []
    counted: set[str] = set()  # a shared shot is added by the first variation that needs it
    for series, shots in by_variation.items():
        needed = {s.hash for s in shots if s.status != "cached"}
        shared = {h for h in needed if len(users[h]) > 1}
        own = needed - shared
        result.append(VariationPlan(
            series.split("/", 1)[-1], len(shots), sum(s.status == "cached" for s in shots),
            len(shared), len(own), _cost(cost, own), _cost(cost, needed),
            _cost(cost, needed - counted)))
        counted |= needed
    return result


def _cost(cost: dict[str, float], hashes: set[str]) -> float:
    return round(sum(cost.get(h, 0.0) for h in hashes), 4)


# --- render --------------------------------------------------------------------------------------


@dataclass
class VariationResult:
    name: str | None
    state: str  # "ok" | "failed" (shots or episodes) | "invalid" (did not compile)
    episodes: list[EpisodeOutput] = field(default_factory=list)
    shots: dict[str, int] = field(default_factory=dict)  # shot state -> count
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass
class MatrixReport:
    plans: list[MatrixPlan]  # one per provider the variations use (nearly always one)
    runs: list[RunResult]
    variations: list[VariationResult]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variations)

    @property
    def spent(self) -> float:
        return round(sum(run.spent for run in self.runs), 6)

    @property
    def submits(self) -> int:
        return sum(run.submits for run in self.runs)

    @property
    def distinct(self) -> int:
        return sum(plan.distinct for plan in self.plans)


def by_provider(variants: Variants, override: str | None = None) -> list[Variants]:
    """The variations grouped by the provider (and settings) that renders them: a ``provider``
    axis makes several groups, each planned and run on its own."""
    groups: dict[str, list[Variant]] = {}
    for variant in variants.variants:
        if variant.manifest is not None:
            key = provider_name(variant.manifest, override) + json.dumps(
                variant.manifest.provider, sort_keys=True, default=str)
            groups.setdefault(key, []).append(variant)
    return [Variants(variants.root, variants.name, variants.matrix, group, variants.every)
            for group in groups.values()]


def plan_groups(variants: Variants, provider: str | None = None, episode: str | None = None, *,
                draft: bool = False) -> list[MatrixPlan]:
    """``plan_variations`` for each provider group."""
    return [plan_variations(group, make_provider(group.manifests[0], provider, draft=draft),
                            episode) for group in by_provider(variants, provider)]


def render_variations(variants: Variants, *, provider: str | None = None,
                      episode: str | None = None, draft: bool = False, out: Path | None = None,
                      yes: bool = False, budget: float | None = None,
                      concurrency: int | None = None, offline: bool = False,
                      confirm: Callable[[Plan], bool] | None = None,
                      on_plan: Callable[[MatrixPlan], None] | None = None,
                      on_event: Callable[[ShotEvent], None] | None = None,
                      on_episode: Callable[[EpisodeOutput], None] | None = None) -> MatrixReport:
    """Render every variation that compiled, one run per provider (nearly always one run), then
    stitch each into its own folder. ``budget`` covers all the runs together; the shared store
    and the team ledger (when set) serve the whole matrix as they serve one series."""
    report = MatrixReport([], [], [VariationResult(v.name, "invalid", problems=v.problems)
                                   for v in variants.variants if not v.ok])
    options: dict[str, Any] = {
        "provider": provider, "episode": episode, "draft": draft, "out": out, "yes": yes,
        "concurrency": concurrency, "offline": offline, "confirm": confirm, "on_plan": on_plan,
        "on_event": on_event, "on_episode": on_episode}
    stitched: list[VariationResult] = []
    for group in by_provider(variants, provider):
        remaining = None if budget is None else max(0.0, budget - report.spent)
        plan, run, results = _render_group(group, budget=remaining, **options)
        report.plans.append(plan)
        report.runs.append(run)
        stitched += results
    report.variations = stitched + report.variations
    if variants.matrix:
        forget_removed_variations(variants.root, variants.name)
    return report


def forget_removed_variations(root: Path, series: str) -> list[str]:
    """Drop the lock entries (committed and draft) of variations no longer in the matrix as the
    files write it now (``--var`` and ``--variation`` aside); returns the keys dropped."""
    expansion = expand(load_source(root))
    if expansion.problems or not expansion.matrix:
        return []
    return [key for path in (lock_path(root), lock_path(root, True))
            for key in prune_variations(path, series, set(expansion.names))]


def _render_group(variants: Variants, *, provider: str | None, episode: str | None, draft: bool,
                  out: Path | None, yes: bool, budget: float | None, concurrency: int | None,
                  offline: bool, confirm: Callable[[Plan], bool] | None,
                  on_plan: Callable[[MatrixPlan], None] | None,
                  on_event: Callable[[ShotEvent], None] | None,
                  on_episode: Callable[[EpisodeOutput], None] | None
                  ) -> tuple[MatrixPlan, RunResult, list[VariationResult]]:
    combined = variants.combined()
    setup = prepare(combined, provider=provider, draft=draft, concurrency=concurrency,
                    offline=offline, shots=selected_shots(combined, episode))
    in_store = store_hits(setup.store, variants.root, setup.shots, setup.provider)
    matrix_plan = plan_variations(variants, setup.provider, episode, setup.seconds,
                                  in_store=in_store)
    if on_plan is not None:
        on_plan(matrix_plan)
    consent(setup, matrix_plan.plan, yes=yes, budget=budget, confirm=confirm)
    targets = {m.name: _target(m, out, variants.matrix, draft) for m in variants.manifests}
    for target in targets.values():
        ensure_writable(target)  # before anything is paid for, not after
    source: Manifest | list[CompiledShot] = combined if episode is None else setup.shots
    ahead = AheadOfStitch([EpisodeBuilder(m, targets[m.name], draft=draft)
                           for m in variants.manifests])  # mezzanines made as shots arrive
    try:
        result = execute(setup, budget=budget, on_event=ahead.listen(on_event), source=source)
    finally:
        ahead.wait()
    results = [_stitch(v, result, targets, episode, draft, on_episode) for v in variants.variants
               if v.manifest is not None]
    return matrix_plan, result, results


def _target(manifest: Manifest, out: Path | None, matrix: bool, draft: bool) -> Path:
    """``<series>/out/<variation>``; ``-o DIR`` or ``output.dir`` get a folder per variation.
    Drafts go to the output folder's ``draft/``, as a plain series' do: ``<series>/out/draft/
    <variation>`` (``DIR/draft/<variation>``), so they never overwrite finished episodes."""
    if not matrix:
        return output_dir(manifest, out, draft=draft)
    folder = output_dir(manifest, out)
    return (folder / DRAFT_DIR if draft else folder) / manifest.name.partition("/")[2]


def variation_dir(manifest: Manifest, out: Path | None, *, draft: bool = False) -> Path:
    """Where a variation of a matrix is stitched: ``<series>/out/<variation>`` (``-o DIR`` or
    ``output.dir`` get a folder per variation; drafts ``<series>/out/draft/<variation>``)."""
    return _target(manifest, out, True, draft)


def _stitch(variant: Variant, result: RunResult, targets: dict[str, Path], episode: str | None,
            draft: bool, on_episode: Callable[[EpisodeOutput], None] | None) -> VariationResult:
    manifest = variant.manifest
    assert manifest is not None
    mine = [r for r in result.shots if r.series == manifest.name]
    counts: dict[str, int] = {}
    for shot in mine:
        counts[shot.state] = counts.get(shot.state, 0) + 1
    builder = EpisodeBuilder(manifest, targets[manifest.name], draft=draft)
    if variant.name:
        builder.state_dir = builder.state_dir / variant.name
    report = VariationResult(variant.name, "ok", shots=counts)
    for ep in manifest.episodes:
        if episode is not None and ep.id != episode:
            continue
        outputs = {r.shot: r.output for r in mine if r.ok and r.output and r.episode == ep.id}
        used, done = episode_as_used(ep, read_lock(lock_path(manifest.root)).takes, outputs)
        built = build_episode(builder, used, done, targets[manifest.name])
        report.episodes.append(built)
        if on_episode is not None:
            on_episode(built)
    if not all(r.ok for r in mine) or any(e.state == "skipped" for e in report.episodes):
        report.state = "failed"
    return report
