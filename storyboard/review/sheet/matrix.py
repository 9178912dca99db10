"""A matrix series into the review sheet's sections: one per variation, one plan over them all.

Every selected variation is compiled leniently (a broken one still gets its section, its problems
on its shots), then all their shots are planned together as ``pipeline.matrix_plan`` plans
them, so a shot that comes out identical in several variations (the same hash) has one status and
is counted once in the matrix total; its panels say which other variations share it. Each
variation's episodes are read from where ``render`` stitches them
(``<series>/out/<variation>/``). Anchors carry the variation's name, so they stay unique on the
one page. The generated cast comes first, each asset once (by its hash), as on a plain sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.language.compile import compile_lenient
from storyboard.language.expansion.expand import Expansion
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.variations import UNUSED, Variant, Variants
from storyboard.language.versions.languages import series_languages
from storyboard.providers.base import Provider
from storyboard.review.notes import notes_by_shot, read_notes
from storyboard.review.progress import money
from storyboard.review.sheet import cast, model
from storyboard.review.sheet.episodes import empty_episode, episode_view
from storyboard.review.sheet.problems import Placed
from storyboard.review.sheet.thumbs import Thumbs
from storyboard.review.sheet.versions import VersionPlace, base_places
from storyboard.review.steps import step
from storyboard.run.pipeline import matrix_plan
from storyboard.run.plans import ShotPlan, apply_price_overrides
from storyboard.run.setup import RenderFlags, make_provider, open_run, reference_seconds
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockEntry, TakeState, lock_path, read_lock, spent_under
from storyboard.run.trip.budget.costs import estimate
from storyboard.run.variations import MatrixPlan, variation_dir
from storyboard.stitch.series.cut import episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder
from storyboard.targets import PriceTable


@dataclass
class _Shared:
    """What every section reads: the one plan, the lock, the prices, the stills."""

    variants: Variants
    plan: MatrixPlan
    chosen: Provider
    lock: dict[str, LockEntry]
    states: dict[str, TakeState]  # the lock's take states (picked, approved)
    thumbs: Thumbs
    prices: PriceTable
    seconds: Callable[[CompiledShot], float | None]

    def estimated(self, shot: CompiledShot) -> float:
        return estimate(shot, self.prices, self.seconds)[1]


def compile_all(expansion: Expansion) -> Variants:
    """Every selected variation compiled leniently: what compiles, with every problem."""
    variants = []
    for variation in expansion.variations:
        manifest, problems = compile_lenient(variation.source, expanded=True)
        variants.append(Variant(variation.name, dict(variation.values), manifest, problems,
                                dict(variation.values),
                                series_languages(variation.source.series.data)))
    root = expansion.variations[0].source.root
    partial = len(variants) < len(expansion.names)
    return Variants(root, root.name, True, _without_partly_unused(variants, partial),
                    every=len(expansion.names))


def _without_partly_unused(variants: list[Variant], partial: bool) -> list[Variant]:
    """A product or voice used by some variations only is the point of a matrix: its "is never
    used" warning is dropped where other variations use it, or might (only some variations
    selected), as ``merge_problems`` does."""
    def key(problem: Diagnostic) -> tuple[object, ...]:
        return (problem.span, problem.message, problem.severity)

    everywhere = set.intersection(*({key(p) for p in v.problems} for v in variants))
    for variant in variants:
        variant.problems = [p for p in variant.problems
                            if UNUSED not in p.message or (key(p) in everywhere and not partial)]
    return variants


def matrix_sheet(variants: Variants, *, provider: str | None, draft: bool,
                 episodes_dir: Path | None, sheet_dir: Path, every: Variants | None = None
                 ) -> model.Sheet:
    """The sheet of a matrix: a section per variation, planned as one run; each base's
    episodes with the versions its language variations are made as (``every``: all the
    matrix's variations, when only some are shown)."""
    combined = variants.combined()
    chosen = make_provider(combined, provider, draft=draft)
    seconds = reference_seconds(combined)
    with open_run(variants, RenderFlags(chosen.name, draft=draft, offline=True),
                  provider=chosen) as setup:
        planned = matrix_plan(setup)
    lock = read_lock(lock_path(variants.root))
    shared = _Shared(variants, planned, chosen, lock.shots, lock.takes,
                     Thumbs(variants.root / ".storyboard" / "thumbs"),
                     apply_price_overrides(chosen.prices, combined.settings_for(chosen.name).get("prices")),
                     seconds)
    users = _users(variants)
    plans = {s.key: s for s in shared.plan.plan.shots}
    places = base_places(every or variants, episodes_dir)
    sections = tuple(_section(shared, v, users, plans, episodes_dir, sheet_dir, draft,
                              places.get(v.name or "", ()))
                     for v in variants.variants)
    return _sheet(shared, sections, _cast(shared, combined, sheet_dir))


def _cast(shared: _Shared, combined: Manifest, sheet_dir: Path) -> tuple[model.Asset, ...]:
    """The generated cast of every variation, each asset once (variations that share it share
    its hash), before the sections as on a plain series' sheet."""
    unique = replace(combined, cast=list({a.hash: a for a in combined.cast}.values()))
    ctx = model.Context(unique, shared.plan.plan, shared.lock, shared.estimated, shared.thumbs,
                        sheet_dir, Placed(unique, []))
    cache = OutputCache(unique.root, shared.chosen.cache_key)
    return cast.cast_view(ctx, cast.paid_first(unique.root, cache), shared.states)


def _users(variants: Variants) -> dict[str, tuple[str, ...]]:
    """Each shot hash -> the variations (in order) that use it."""
    users: dict[str, list[str]] = {}
    for variant in variants.variants:
        assert variant.manifest is not None
        for shot in variant.manifest.shots():
            names = users.setdefault(shot.hash, [])
            if variant.name not in names:
                names.append(variant.name or "")
    return {h: tuple(names) for h, names in users.items()}


def _section(shared: _Shared, variant: Variant, users: dict[str, tuple[str, ...]],
             plans: dict[str, ShotPlan], episodes_dir: Path | None, sheet_dir: Path,
             draft: bool, versions: tuple[VersionPlace, ...]) -> model.Section:
    manifest = variant.manifest
    assert manifest is not None
    name = variant.name or ""
    step(f"variation {name}: stills of {len(manifest.shots())} shot(s)")
    ctx = model.Context(manifest, shared.plan.plan, shared.lock, shared.estimated, shared.thumbs,
                        sheet_dir, Placed(manifest, variant.problems), prefix=name, users=users,
                        variation=name, notes=notes_by_shot(read_notes(manifest.root)),
                        versions=versions)
    folder = variation_dir(manifest, episodes_dir, draft=draft)
    builder = EpisodeBuilder(manifest, folder, draft=draft)
    cache = OutputCache(manifest.root, shared.chosen.cache_key)
    episodes = tuple(episode_view(ctx, episode_cut(builder, ep, cache), plans,
                                        folder / f"{ep.id}.mp4") if ep.shots
                     else empty_episode(ctx, ep) for ep in manifest.episodes)
    return _section_view(ctx, variant, episodes)


def _section_view(ctx: model.Context, variant: Variant,
                  episodes: tuple[model.Episode, ...]) -> model.Section:
    manifest: Manifest = ctx.manifest
    estimated = sum(ctx.estimate(s) for s in manifest.shots())
    paid = spent_under(ctx.lock, f"{manifest.name}/")
    values = tuple((str(k), str(v)) for k, v in variant.vars.items())
    return model.Section(variant.name or "", model.anchor(variant.name or "variation"), values,
                         f"{sum(e.seconds for e in episodes):.2f} s",
                         money(estimated, ctx.currency), money(paid, ctx.currency), episodes,
                         ctx.problems.for_series())


def _sheet(shared: _Shared, sections: tuple[model.Section, ...],
           cast_view: tuple[model.Asset, ...]) -> model.Sheet:
    the_plan = shared.plan.plan
    distinct: dict[str, CompiledShot] = {}
    for shot in shared.variants.shots():
        distinct.setdefault(shot.hash, shot)
    estimated = sum(shared.estimated(s) for s in distinct.values())
    episodes = tuple(e for s in sections for e in s.episodes)
    paid = spent_under(shared.lock, f"{shared.variants.name}/")
    return model.Sheet(shared.variants.manifests[0].title, shared.variants.name, the_plan.provider,
                       f"{sum(e.seconds for e in episodes):.2f} s",
                       money(estimated, the_plan.currency), money(paid, the_plan.currency),
                       episodes, (), the_plan.counts(), sections, shared.plan.distinct,
                       money(the_plan.total_cost, the_plan.currency), cast_view)

