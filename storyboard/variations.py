"""A series' variations into manifests, one plan and one run: shared shots are paid for once.

``compile_variations`` expands the series (``expand``) and compiles every selected variation with
one media cache. ``plan_variations`` plans all their shots together, so a shot that comes out
identical in several variations (the same hash) is counted once, and says per variation what it
shares, what it alone needs and what it would cost. ``render_variations`` runs every shot of every
variation in one run (one budget, one consent, one submit per distinct shot), then stitches each
variation's episodes into ``out/<series>/<variation>/`` (drafts: ``out/<series>/draft/<variation>/``,
their record in ``.storyboard/draft.lock``); a variation that fails does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard import media
from storyboard.ahead import AheadOfStitch
from storyboard.compile import Compiler
from storyboard.episodes import DRAFT_DIR, EpisodeBuilder, EpisodeOutput, output_dir
from storyboard.errors import BudgetExceeded, Diagnostic, ProblemsFound, StoryboardError
from storyboard.expand import Variation, expand
from storyboard.providers.base import NATIVE_SIZES, PriceTable, Provider
from storyboard.request import CompiledShot, Manifest
from storyboard.run import Plan, RunResult, ShotEvent, apply_price_overrides, check_consent, plan_for
from storyboard.run.sharing import StoreLink
from storyboard.series import Source, load_source

UNUSED = "is never used"


@dataclass
class Variant:
    """One compiled variation (``manifest`` is None when it has errors)."""

    name: str | None
    vars: dict[str, Any]
    manifest: Manifest | None
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None


@dataclass
class Variants:
    """Every selected variation of a series, compiled."""

    root: Path
    name: str
    matrix: bool
    variants: list[Variant]

    @property
    def manifests(self) -> list[Manifest]:
        return [v.manifest for v in self.variants if v.manifest is not None]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variants)

    def diagnostics(self) -> list[Diagnostic]:
        """Every variation's problems once; one found in only some says which."""
        return merge_problems([(v.name or "", v.problems) for v in self.variants])

    def shots(self) -> list[CompiledShot]:
        return [shot for manifest in self.manifests for shot in manifest.shots()]

    def combined(self) -> Manifest:
        """All variations as one manifest: one run, one lock file update (pruned per variation)."""
        first = self.manifests[0]
        episodes = [episode for manifest in self.manifests for episode in manifest.episodes]
        return Manifest(title=first.title, name=self.name, root=self.root, source=first.source,
                        episodes=episodes, provider=first.provider, store=first.store,
                        ledger=first.ledger,
                        warnings=[w for m in self.manifests for w in m.warnings])


def merge_problems(found: Sequence[tuple[str, list[Diagnostic]]]) -> list[Diagnostic]:
    where: dict[tuple[Any, ...], tuple[Diagnostic, list[str]]] = {}
    for name, problems in found:
        for problem in problems:
            key = (problem.span, problem.message, problem.severity)
            where.setdefault(key, (problem, []))[1].append(name)
    merged = []
    for problem, names in where.values():
        if len(names) < len(found) and UNUSED in problem.message:
            continue  # a product used by some variations only is the point of a matrix
        if len(names) < len(found) and any(names):
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            problem = Diagnostic(problem.span, f"{problem.message} [in variation(s) {shown}]",
                                 problem.severity, problem.source_line)
        merged.append(problem)
    return sorted(merged, key=Diagnostic.sort_key)


def compile_variations(path: str | Path, *, vars: dict[str, Any] | None = None,
                       select: Sequence[str] | None = None,
                       provider: str | None = None) -> Variants:
    """Load, expand and compile every (selected) variation; problems stay with their variation.
    ``provider`` (a gateway's name) adds that gateway's limits to every variation.

    Raises ProblemsFound when the series or its ``variations`` block itself is broken."""
    source = load_source(Path(path))
    with _no_gc_pauses():
        expansion = expand(source, vars, select)
        if expansion.problems:
            raise ProblemsFound([*source.problems, *expansion.problems])
        variants = _compile_each(source, expansion.variations, provider)
    return Variants(source.root, source.root.name, expansion.matrix, variants)


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """No cyclic garbage collection while a thousand manifests are built (they are kept, so each
    collection would walk them all again for nothing); on again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile_each(source: Source, variations: list[Variation], provider: str | None
                  ) -> list[Variant]:
    cache = _RunMediaCache(source.root / ".storyboard" / "media.json")
    variants = []
    for variation in variations:
        try:
            manifest = Compiler(variation.source, media_cache=cache, provider=provider).run()
            manifest.warnings += card_warnings(variation.source, manifest)
            variants.append(Variant(variation.name, variation.vars, manifest, manifest.warnings))
        except ProblemsFound as found:
            variants.append(Variant(variation.name, variation.vars, None, found.diagnostics))
    cache.save()
    return variants


def card_warnings(source: Source, manifest: Manifest) -> list[Diagnostic]:
    """A warning for each title or end card whose text cannot fit even at the smallest size."""
    from storyboard.providers.local import CARD_TEXT_FLOOR
    where = {str(ep.doc.get(ep.path, {}).get("id") or ep.default_id): ep
             for ep in source.episodes if isinstance(ep.doc.get(ep.path), dict)}
    found = []
    for episode in manifest.episodes:
        origin = where.get(episode.id)
        if origin is None or not episode.shots:
            continue
        first = episode.shots[0].request
        width, height = NATIVE_SIZES.get((first.resolution, first.ratio), (1280, 720))
        for kind in ("title_card", "end_card"):
            card = episode.settings.get(kind)
            text = card.get("text") if isinstance(card, dict) else None
            if isinstance(text, str) and not _fits(text, width, height):
                found.append(origin.doc.diagnostic((*origin.path, kind, "text"), (
                    f"the {kind.replace('_', ' ')} text ({len(text)} characters) does not fit a "
                    f"{width}x{height} card even at the smallest size ({CARD_TEXT_FLOOR:g} of "
                    "its short side) and will be cut; expected a shorter text"),
                    severity="warning"))
    return found


@functools.lru_cache(maxsize=4096)
def _fits(text: str, width: int, height: int) -> bool:
    """Whether card text fits (remembered: most variations share their cards' sizes and texts)."""
    from storyboard.providers.local import fit_card_text
    return fit_card_text(text, width, height)[1]


class _RunMediaCache(media.MediaCache):
    """The media fact cache, each file looked at once for all the variations of one compile."""

    def __init__(self, file: Path | None) -> None:
        super().__init__(file)
        self.seen: dict[Path, media.Facts] = {}

    def facts(self, path: Path) -> media.Facts:
        found = self.seen.get(path)
        if found is None:
            found = self.seen[path] = super().facts(path)
        return found


def strict(variants: Variants) -> Variants:
    """``variants`` when every variation compiled, else ProblemsFound with all their problems."""
    if not variants.ok:
        raise ProblemsFound(variants.diagnostics())
    return variants


# --- plan ----------------------------------------------------------------------------------------


@dataclass
class VariationPlan:
    name: str
    shots: int
    cached: int
    shared: int  # distinct shots to render that other selected variations use too
    own: int  # distinct shots to render that only this variation uses
    own_cost: float  # what this variation adds to the run
    alone_cost: float  # what it would cost rendered on its own

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
    return [s for e in manifest.episodes if episode is None or e.id == episode for s in e.shots]


def plan_variations(variants: Variants, provider: Any, episode: str | None = None,
                    seconds: Callable[[CompiledShot], float | None] | None = None, *,
                    in_store: Collection[str] = ()) -> MatrixPlan:
    """One plan for every shot of every variation, and what each variation shares or needs;
    ``in_store``: the hashes the shared store holds (free)."""
    from storyboard.rendering import reference_seconds
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
    for series, shots in by_variation.items():
        needed = {s.hash for s in shots if s.status != "cached"}
        shared = {h for h in needed if len(users[h]) > 1}
        own = needed - shared
        result.append(VariationPlan(
            series.split("/", 1)[-1], len(shots), sum(s.status == "cached" for s in shots),
            len(shared), len(own), round(sum(cost.get(h, 0.0) for h in own), 4),
            round(sum(cost.get(h, 0.0) for h in needed), 4)))
    return result


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
    from storyboard.rendering import provider_name
    groups: dict[str, list[Variant]] = {}
    for variant in variants.variants:
        if variant.manifest is not None:
            key = provider_name(variant.manifest, override) + json.dumps(
                variant.manifest.provider, sort_keys=True, default=str)
            groups.setdefault(key, []).append(variant)
    return [Variants(variants.root, variants.name, variants.matrix, group)
            for group in groups.values()]


def plan_groups(variants: Variants, provider: str | None = None, episode: str | None = None, *,
                draft: bool = False) -> list[MatrixPlan]:
    """``plan_variations`` for each provider group."""
    from storyboard.rendering import make_provider
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
    return report


def _render_group(variants: Variants, *, provider: str | None, episode: str | None, draft: bool,
                  out: Path | None, yes: bool, budget: float | None, concurrency: int | None,
                  offline: bool, confirm: Callable[[Plan], bool] | None,
                  on_plan: Callable[[MatrixPlan], None] | None,
                  on_event: Callable[[ShotEvent], None] | None,
                  on_episode: Callable[[EpisodeOutput], None] | None
                  ) -> tuple[MatrixPlan, RunResult, list[VariationResult]]:
    from storyboard.rendering import (
        ensure_writable,
        make_provider,
        open_store,
        reference_seconds,
        store_for_run,
        store_hits,
    )
    combined = variants.combined()
    chosen = make_provider(combined, provider, draft=draft)
    seconds = reference_seconds(combined)
    store = open_store(combined, chosen, offline=offline)
    in_store = store_hits(store, variants.root, selected_shots(combined, episode), chosen)
    matrix_plan = plan_variations(variants, chosen, episode, seconds, in_store=in_store)
    if on_plan is not None:
        on_plan(matrix_plan)
    verdict = check_consent(matrix_plan.plan, yes=yes, budget=budget,
                            interactive=confirm is not None)
    if verdict == "ask" and confirm is not None and not confirm(matrix_plan.plan):
        raise BudgetExceeded("nothing was submitted: the render was not confirmed")
    if matrix_plan.plan.to_render:
        chosen.preflight()
    targets = {m.name: _target(m, out, variants.matrix, draft) for m in variants.manifests}
    for target in targets.values():
        ensure_writable(target)  # before anything is paid for, not after
    source: Manifest | list[CompiledShot] = combined if episode is None else \
        selected_shots(combined, episode)
    prices = apply_price_overrides(chosen.prices, combined.provider.get("prices"))
    store = store_for_run(matrix_plan.plan, store, prices, yes=yes, budget=budget)
    ahead = AheadOfStitch([EpisodeBuilder(m, targets[m.name], draft=draft)
                           for m in variants.manifests])  # mezzanines made as shots arrive
    try:
        result = _run_shared(combined, selected_shots(combined, episode), chosen, source,
                             budget=budget, prices=prices, concurrency=concurrency,
                             on_event=ahead.listen(on_event), seconds=seconds, store=store)
    finally:
        ahead.wait()
    results = [_stitch(v, result, targets, episode, draft, on_episode) for v in variants.variants
               if v.manifest is not None]
    return matrix_plan, result, results


def _run_shared(combined: Manifest, shots: list[CompiledShot], chosen: Provider,
                source: Manifest | list[CompiledShot], *, budget: float | None,
                prices: PriceTable, concurrency: int | None,
                on_event: Callable[[ShotEvent], None] | None,
                seconds: Callable[[CompiledShot], float | None],
                store: StoreLink | None) -> RunResult:
    """One run for every shot of the group, through the store and the team ledger if set."""
    from storyboard.rendering import _run, open_ledger, run_options
    team = open_ledger(combined)
    try:
        return asyncio.run(_run(shots, chosen, combined.root, budget=budget, prices=prices,
                                options=run_options(combined, concurrency, chosen),
                                on_event=on_event, ref_seconds=seconds, source=source,
                                store=store, ledger=team))
    finally:
        if team is not None:
            team.close()


def _target(manifest: Manifest, out: Path | None, matrix: bool, draft: bool) -> Path:
    """``out/<series>/<variation>``; ``-o DIR`` or ``output.dir`` get a folder per variation.
    Drafts go to the series' ``draft/`` folder, as a plain series' do: ``out/<series>/draft/
    <variation>`` (``DIR/draft/<variation>``), so they never overwrite finished episodes."""
    if not matrix:
        return output_dir(manifest, out, draft=draft)
    series, _, variation = manifest.name.partition("/")
    folder = output_dir(manifest, out)
    if folder == Path("out") / manifest.name:  # the default folder: the series' own
        folder = Path("out") / series
    return (folder / DRAFT_DIR if draft else folder) / variation


def variation_dir(manifest: Manifest, out: Path | None, *, draft: bool = False) -> Path:
    """Where a variation of a matrix is stitched: ``out/<series>/<variation>`` (``-o DIR`` or
    ``output.dir`` get a folder per variation; drafts ``out/<series>/draft/<variation>``)."""
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
        done = {r.shot: r.output for r in mine if r.ok and r.output and r.episode == ep.id}
        try:
            built = builder.build(ep, done)
        except StoryboardError as error:  # one episode's failure does not stop the others
            built = EpisodeOutput(ep.id, targets[manifest.name] / f"{ep.id}.mp4", "skipped",
                                  message=str(error))
        report.episodes.append(built)
        if on_episode is not None:
            on_episode(built)
    if not all(r.ok for r in mine) or any(e.state == "skipped" for e in report.episodes):
        report.state = "failed"
    return report
