"""A matrix plan and run into what each variation shares, needs, costs and became: plain data.

The one pipeline (``pipeline``) plans all the shots of a render together, so a shot that comes out
identical in several variations (the same hash) is counted once; ``per_variation`` says per
variation what it shares, what it alone needs and what it would cost. ``by_provider`` groups the
variations by the provider that renders them (a ``provider`` axis makes several groups, each one
run). A plain series is a matrix of one variation. Compiling them is the language's
(``storyboard.language.variations``).
"""


from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.files import series_folder
from storyboard.language.request import Manifest
from storyboard.language.variations import Variant, Variants
from storyboard.run import Plan, RunResult
from storyboard.run.choices.versionquote import VersionQuote
from storyboard.run.config import provider_name
from storyboard.run.state.lock.lockfile import lock_path, prune_variations
from storyboard.stitch.series.episodes import DRAFT_DIR, EpisodeOutput, output_dir

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


@dataclass(frozen=True)
class RouteQuote:
    """A language variation made as a version of its approved base, priced: its version's
    lines and passes, beside what rendering its shots again would cost."""

    name: str
    base: str
    quote: VersionQuote

    def to_dict(self) -> dict[str, Any]:
        q = self.quote
        return {"name": self.name, "base": self.base, "language": q.language,
                "lines": q.lines, "lines_cost": q.lines_cost, "passes": q.passes,
                "passes_cost": q.passes_cost, "cost": q.total, "currency": q.currency,
                "rerender_cost": q.rerender_cost, "saving": q.saving}


@dataclass
class MatrixPlan:
    plan: Plan
    variations: list[VariationPlan]
    versions: list[RouteQuote] = field(default_factory=list)  # made as versions, not rendered

    @property
    def distinct(self) -> int:
        return len({s.hash for s in self.plan.shots})

    def to_dict(self) -> dict[str, Any]:
        return {"total_cost": self.plan.total_cost, "currency": self.plan.currency,
                "waiting_cost": self.plan.waiting_cost,
                "cost_once_approved": self.plan.once_approved,
                "distinct_shots": self.distinct, "shots": len(self.plan.shots),
                "variations": [v.to_dict() for v in self.variations], "plan": self.plan.to_dict(),
                "versions": [v.to_dict() for v in self.versions]}


def plans_dict(plans: list[MatrixPlan]) -> dict[str, Any]:
    """A matrix's plans as ``plan --json`` gives them: the one provider group's plan, else each
    group's with its provider."""
    if len(plans) == 1:
        return plans[0].to_dict()
    return {"groups": [{"provider": p.plan.provider, **p.to_dict()} for p in plans]}


def per_variation(the_plan: Plan) -> list[VariationPlan]:
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
    versions: list[Any] = field(default_factory=list)  # run.versions's VersionReports: made as versions

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variations) and all(v.ok for v in self.versions)

    @property
    def spent(self) -> float:
        """What its runs spent: the variations' (with the versions made in them) and those of
        the versions made in runs of their own."""
        versions: float = sum(run.spent for v in self.versions for run in v.runs)
        return round(sum(run.spent for run in self.runs) + versions, 6)

    @property
    def budget_spent(self) -> float:
        """``spent`` as a budget counts it (``RunResult.budget_spent``)."""
        versions: float = sum(run.budget_spent for v in self.versions for run in v.runs)
        return round(sum(run.budget_spent for run in self.runs) + versions, 6)

    @property
    def submits(self) -> int:
        """Submit requests sent: its runs' (the variations', the versions' lines and passes)."""
        versions: int = sum(run.submits for version in self.versions for run in version.runs)
        return sum(run.submits for run in self.runs) + versions

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
    return [Variants(variants.root, variants.name, variants.matrix, group, variants.every,
                     variants.names)
            for group in groups.values()]


def forget_removed_variations(variants: Variants) -> list[str]:
    """Drop the lock entries (committed and draft) of variations no longer in the matrix as the
    files wrote it when it was compiled (``--var`` and ``--variation`` aside: ``names``); returns
    the keys dropped."""
    if not variants.matrix or variants.names is None:
        return []
    root, names = variants.root, set(variants.names)
    return [key for path in (lock_path(root), lock_path(root, True))
            for key in prune_variations(path, variants.name, names)]


def variation_target(manifest: Manifest, out: Path | None, matrix: bool, draft: bool) -> Path:
    """Where a variation's episodes go: a plain series' output folder; ``<series>/out/
    <variation>`` in a matrix (``-o DIR`` or ``output.dir`` get a folder per variation). Drafts go
    to the output folder's ``draft/`` (``<series>/out/draft/<variation>``), so they never
    overwrite finished episodes."""
    if not matrix:
        return output_dir(manifest, out, draft=draft)
    folder = output_dir(manifest, out)
    return series_folder(manifest.root, (folder / DRAFT_DIR if draft else folder)
                         / manifest.name.partition("/")[2])


def variation_dir(manifest: Manifest, out: Path | None, *, draft: bool = False) -> Path:
    """Where a variation of a matrix is stitched: ``<series>/out/<variation>`` (``-o DIR`` or
    ``output.dir`` get a folder per variation; drafts ``<series>/out/draft/<variation>``)."""
    return variation_target(manifest, out, True, draft)
