"""A series into its review sheet: one self-contained HTML page, and optionally a contact sheet PNG.

``build_sheet(path)`` compiles what can be compiled (a broken series still gets a sheet, its
problems on their shots), reads the plan, the lock file and the rendered videos, and writes
``<series>/out/sheet.html`` (``out``): inline CSS, stills as ``data:`` URIs, relative links to the
stitched episodes and voice clips, no network. The same inputs give the same bytes.

A series with a matrix gets one page with a section per variation (``matrix``).

Stages: ``model`` (series, plan, lock into plain data on the episode clock of ``stitch.series.cut``;
``cast`` the generated cast's takes),
``thumbs`` (videos and images into stills), ``html`` (data into the page), ``png`` (stills into a
contact sheet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.files import series_folder, write_atomic
from storyboard.language.compile import compile_lenient
from storyboard.language.expansion.expand import expand
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.providers.base import Provider
from storyboard.review.notes import notes_by_shot, read_notes
from storyboard.review.sheet import cast, html, model, views
from storyboard.review.sheet.episodes import empty_episode, sheet_view
from storyboard.review.sheet.findings import (
    failures_by_take,
    findings_by_take,
    strips_by_take,
)
from storyboard.review.sheet.matrix import compile_all, matrix_sheet
from storyboard.review.sheet.pictures import png
from storyboard.review.sheet.problems import Placed
from storyboard.review.sheet.thumbs import Thumbs
from storyboard.review.steps import step
from storyboard.run.plans import Plan
from storyboard.run.rendering import plan_setup
from storyboard.run.setup import make_provider, setup_for
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockEntry, LockFile, TakeState, lock_path, read_lock
from storyboard.run.state.measured import Finding
from storyboard.run.state.rendered import Rendered, manifest_as_rendered, shown_by
from storyboard.run.state.takes import manifest_as_used, state_key, with_retakes
from storyboard.run.trip.budget.costs import estimate
from storyboard.run.variations import variation_dir
from storyboard.stitch.series.cut import Cut, video_length
from storyboard.stitch.series.episodes import EpisodeBuilder, output_dir

__all__ = ["SheetResult", "build_sheet", "sheet_for", "sheet_model"]


@dataclass(frozen=True)
class SheetResult:
    html: Path
    png: Path | None
    episodes: int
    panels: int  # shot panels
    problems: list[Diagnostic]
    variations: int = 0  # sections of a matrix (0: a series without one)
    hint: str = ""  # what to do when the contact sheet has no picture at all


def build_sheet(path: str | Path, *, out: Path | None = None, provider: str | None = None,
                draft: bool = False, episodes_dir: Path | None = None,
                png_out: Path | bool = False, vars: dict[str, Any] | None = None,
                select: Sequence[str] | None = None) -> SheetResult:
    """Write the review sheet of the series at ``path`` (and its contact sheet when ``png_out``).

    A series with a matrix gets one page with a section per (selected) variation; ``vars``
    override the series' vars, ``select`` picks variations by name or glob."""
    source = load_source(Path(path))
    expansion = expand(source, vars, select)
    if not expansion.matrix:
        manifest, problems = compile_lenient(source, vars=vars)
        return sheet_for(manifest, problems, out=out, provider=provider, draft=draft,
                         episodes_dir=episodes_dir, png_out=png_out)
    if expansion.problems:
        raise ProblemsFound([*source.problems, *expansion.problems])
    variants = compile_all(expansion)
    every = compile_all(expand(source, vars)) if variants.partial else variants
    target = Path(out) if out is not None else \
        variation_dir(variants.manifests[0], episodes_dir, draft=draft).parent / "sheet.html"
    series_folder(variants.manifests[0].root, target.parent)  # a link on the way: refused
    sheet = matrix_sheet(variants, provider=provider, draft=draft, episodes_dir=episodes_dir,
                         sheet_dir=target.parent, every=every)
    return _write(sheet, target, png_out, variants.diagnostics())


def sheet_for(manifest: Manifest, problems: list[Diagnostic], *, out: Path | None = None,
              provider: str | None = None, draft: bool = False,
              episodes_dir: Path | None = None, png_out: Path | bool = False,
              planned: Plan | None = None) -> SheetResult:
    """The review sheet of a series; ``planned``: a plan the caller has already (the studio's
    draft, settled), else the sheet plans."""
    folder = output_dir(manifest, episodes_dir, draft=draft)
    target = Path(out) if out is not None else folder / "sheet.html"
    series_folder(manifest.root, target.parent)  # a link on the way (``-o``): refused
    sheet = sheet_model(manifest, problems, sheet_dir=target.parent, provider=provider,
                        draft=draft, episodes_dir=episodes_dir, planned=planned)
    result = _write(sheet, target, png_out, problems)
    if result.png is None or any(picture for picture, _ in png.cells_of(sheet)):
        return result
    return replace(result, hint=blank_hint(manifest, episodes_dir, draft))


def blank_hint(manifest: Manifest, episodes_dir: Path | None, draft: bool) -> str:
    """Why a contact sheet is blank (nothing rendered, no picture given) and what to do."""
    name = manifest.root.name
    drafts = output_dir(manifest, episodes_dir, draft=True)
    if not draft and any(drafts.glob("*.mp4")):
        return (f"the contact sheet's tiles are blank: no shot is rendered for this provider "
                f"yet, and the draft proxies are in {drafts}; for them: storyboard sheet {name} "
                "--png --draft")
    return (f"the contact sheet's tiles are blank: no shot is rendered yet and no picture is "
            f"given; render first (storyboard render {name} --draft makes free proxies)")


def sheet_model(manifest: Manifest, problems: list[Diagnostic], *, sheet_dir: Path,
                provider: str | None = None, draft: bool = False,
                episodes_dir: Path | None = None, planned: Plan | None = None,
                links: Callable[[Path], str] | None = None, still_links: str = "",
                used: Path | None = None) -> model.Sheet:
    """The sheet's data for a page in ``sheet_dir``. The studio's page passes ``links`` (its own
    URL of a file) and ``still_links`` (the URL its stills go under, by name); the standalone
    sheet links files relative to itself and inlines its stills. ``used``: the studio's default
    view, each shot as the take its episode uses wherever the lock says it was rendered (drafts
    where nothing better exists), an episode that shows a provider's take stitched in ``used``."""
    folder = output_dir(manifest, episodes_dir, draft=draft)
    chosen = make_provider(manifest, provider, draft=draft)
    manifest = with_retakes(manifest)
    lock = read_lock(lock_path(manifest.root))  # read once: the shots' entries and take states
    ctx = _context(manifest, problems, chosen, sheet_dir, planned, still_links, lock.shots)
    ctx.links = links
    builder = EpisodeBuilder(manifest, folder, draft=draft)
    cache, shown = _shown(manifest, lock, chosen.cache_key, used)
    states = lock.takes
    shots = {s.shot_id: s for s in manifest.shots()}
    findings = findings_by_take(manifest, lock)
    ctx.strips = strips_by_take(manifest, lock, ctx.thumbs, findings)
    ctx.failures = failures_by_take(manifest)
    ctx.takes = _takes(manifest, shots, states, ctx.thumbs, cache, findings)
    ctx.assets = cast.made_files(manifest, cache, states)
    made = cast.paid_first(manifest.root, cache)
    ctx.boards = cast.board_views(ctx, made, states)
    if isinstance(cache, Rendered):
        ctx.made_by, ctx.shown_by = cache.by, shown_by(shown, cache)
    plans = {s.key: s for s in ctx.plan.shots}
    takes = (shots, states)
    episodes = [views.episode_view(ctx, builder, ep, cache, plans,
                                   _video(folder, used, cache, ep), takes)
                if ep.shots else empty_episode(ctx, ep) for ep in shown.episodes]
    return sheet_view(ctx, episodes, cast.cast_view(ctx, made, states))


def _shown(manifest: Manifest, lock: LockFile, cache_key: str, used: Path | None
           ) -> tuple[OutputCache, Manifest]:
    """Where the shots' files are found and the manifest as the page shows it: each shot as the
    take it uses, from ``cache_key``'s cache, or (``used``, once a provider rendered a shot)
    wherever the lock says it was rendered."""
    if used is not None:
        files = Rendered(manifest.root, lock, cache_key)
        if files.any_in(manifest.episode_shots()):
            return files, manifest_as_rendered(manifest, lock.takes, files)
    return OutputCache(manifest.root, cache_key), manifest_as_used(manifest, cache_key)


def _video(folder: Path, used: Path | None, cache: OutputCache, episode: CompiledEpisode
           ) -> Path:
    """The episode's video: the studio's stitch of the takes shown when a provider made one of
    them, else the one in ``folder``."""
    if used is not None and isinstance(cache, Rendered) and cache.any_in(episode.shots):
        return used / f"{episode.id}.mp4"
    return folder / f"{episode.id}.mp4"


def _takes(manifest: Manifest, shots: dict[str, CompiledShot], states: dict[str, TakeState],
           thumbs: Thumbs, cache: OutputCache,
           findings: Callable[[CompiledShot], tuple[Finding, ...]]
           ) -> Callable[[CompiledShot, Cut], tuple[model.Take, ...]]:
    """A shot's takes side by side: a middle still of each rendered take, its marks, and the
    command that picks it (nothing for a shot of one take)."""

    def takes(used: CompiledShot, cut: Cut) -> tuple[model.Take, ...]:
        shot = shots.get(used.shot_id)
        if shot is None or not shot.others:
            return ()
        state = states.get(state_key(shot), {})
        found = []
        for take in shot.all_takes():
            still = None
            if cache.has(take.hash):
                path = cache.path(take.hash)
                still = thumbs.frames(path, video_length(path), cut.fps)[1]
            marks = ", ".join(m for m in ("picked", "approved") if state.get(m) == take.take)
            found.append(model.Take(take.take, still, marks, take.take == used.take,
                                    f"storyboard pick {manifest.root.name} {shot.shot_id} "
                                    f"{take.take}", findings=tuple(f.line() for f in findings(take))))
        return tuple(found)
    return takes


def _write(sheet: model.Sheet, target: Path, png_out: Path | bool,
           problems: list[Diagnostic]) -> SheetResult:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, html.render(sheet), durable=False)
    picture = None
    if png_out:
        picture = target.with_suffix(".png") if png_out is True else Path(png_out)
        step(f"contact sheet {picture}")
        png.contact_sheet(sheet, picture)
    panels = sum(1 for ep in sheet.episodes for p in ep.panels if p.kind == "shot")
    return SheetResult(target, picture, len(sheet.episodes), panels, problems,
                       len(sheet.variations))


def _context(manifest: Manifest, problems: list[Diagnostic], chosen: Provider,
             sheet_dir: Path, planned: Plan | None, still_links: str,
             lock: dict[str, LockEntry]) -> model.Context:
    with setup_for(manifest, chosen) as setup:
        if planned is None:
            step(f"planning {len(manifest.shots())} shot(s)")
        the_plan = planned or plan_setup(setup)

    def estimated(shot: CompiledShot) -> float:
        return estimate(shot, setup.prices, setup.seconds)[1]

    thumbs = Thumbs.of_series(manifest.root, link=still_links)
    return model.Context(manifest, the_plan, lock, estimated, thumbs, sheet_dir,
                         Placed(manifest, problems),
                         notes=notes_by_shot(read_notes(manifest.root)))
