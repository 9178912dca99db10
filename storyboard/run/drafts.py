"""Changed shots into local drafts at once: the studio's quick path, with no task journal.

The ``local`` provider is free and its task is finished when ``submit`` returns, so the studio's
drafts need none of what makes a paid run safe to kill (journal intents, polling, the ledger): a
draft that is lost is drawn again for nothing. ``draft_shots`` draws each take not in the cache
(once per hash, from its verified input snapshots), checks it with the one packet scan the stitch
reads (recorded for the stitch, so it is not scanned twice), moves it into the cache and writes
the draft lock, under the series' run lock as any render is. ``quick`` says when it applies: the
studio's previews on ``local``, no shot taking its first frame from another (those go through the
runner, as ``render --draft`` always does).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from storyboard.animatic import render_shot
from storyboard.errors import StoryboardError
from storyboard.files import check_state_folders, state_folder, version
from storyboard.language.request import CompiledShot
from storyboard.media.probes.probe import sha256_file
from storyboard.providers.local import LocalProvider
from storyboard.run.setup import RunSetup
from storyboard.run.state.cache import CacheEntry, OutputCache
from storyboard.run.state.lock.lockfile import LockEntry, entry_for, lock_path, proxy, update_lock
from storyboard.run.state.runlock import run_lock
from storyboard.run.trip.guards.inputs import prune_inputs, snapshot_inputs
from storyboard.run.trip.guards.verdicts import verify_info
from storyboard.run.trip.model import EventState, ResultState, RunResult, ShotEvent, ShotResult
from storyboard.stitch.join.concat import probe_clip
from storyboard.stitch.join.facts import FactStore
from storyboard.targets.kinds import has

EventSink = Callable[[ShotEvent], None]


def quick(setup: RunSetup) -> bool:
    """Whether ``draft_shots`` renders ``setup``: the studio's local previews without a first
    frame taken from another shot, and without a cast to make first (those take the runner's
    way, which waits for what a shot uses)."""
    return (setup.preview and setup.draft and has(setup.provider.name, "drafts")
            and not any(shot.depends_on or shot.needs or shot.asset for shot in setup.shots))


def draft_shots(setup: RunSetup, facts_dir: Path, on_event: EventSink | None = None
                ) -> RunResult:
    """Draw ``setup``'s takes that are not in the cache; the others are cache hits."""
    root, cache = setup.root, setup.cache
    check_state_folders(root)  # before the lock: nothing is written through a link
    with run_lock(root), tempfile.TemporaryDirectory(prefix="storyboard-drafts-") as work:
        cache.clean_temporaries()
        store = FactStore(state_folder(facts_dir))
        firsts = list({s.hash: s for s in setup.shots if not cache.has(s.hash)}.values())
        jobs = max(1, min(setup.options.concurrency, len(firsts)))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            drawn = dict(zip((s.hash for s in firsts), pool.map(
                lambda s: _draw(setup, cache, store, s, Path(work)), firsts), strict=True))
        results = [_result(shot, cache, drawn.get(shot.hash), on_event) for shot in setup.shots]
        lock = _write_lock(setup, cache, results)
        prune_inputs(root)
    return RunResult(results, 0.0, setup.prices.currency, len(firsts), lock)


def _draw(setup: RunSetup, cache: OutputCache, store: FactStore, shot: CompiledShot,
          work: Path) -> str:
    """Draw, check and cache one take; the error's message when it fails ("" when drawn)."""
    tmp = cache.temp_path(shot.hash)
    try:
        sent = snapshot_inputs(shot, setup.root)
        render_shot(sent.request, tmp, draft=True)
        facts = probe_clip(tmp, work / f"{shot.hash}.framecrc")
        verify_info(facts.info, float(shot.request.duration), setup.options.duration_tolerance,
                    setup.options.require_audio)
        billed = setup.prices.billed_seconds(float(shot.request.duration))
        entry = CacheEntry(shot.hash, sha256_file(tmp), setup.provider.name,
                           LocalProvider.task_id(shot), shot.request.seed, billed,
                           setup.prices.cost(shot.request.resolution, billed),
                           setup.prices.currency, time.time())
        store.record(replace(facts, path=cache.put(entry, tmp)))
    except StoryboardError as error:
        return str(error) or type(error).__name__
    finally:
        tmp.unlink(missing_ok=True)
    return ""


def _result(shot: CompiledShot, cache: OutputCache, failure: str | None,
            on_event: EventSink | None) -> ShotResult:
    """``failure``: None for a cache hit, "" for a take drawn now, else why drawing failed."""
    state: ResultState = "cached" if failure is None else ("failed" if failure else "done")
    heard: EventState = "cached" if failure is None else ("failed" if failure else "done")
    output = cache.path(shot.hash) if state != "failed" else None
    task_id = LocalProvider.task_id(shot)
    if on_event is not None:
        on_event(ShotEvent(shot.episode, shot.id, heard, 0.0, 0.0, failure or "", shot.series,
                           task_id, output))
    return ShotResult(shot.series, shot.episode, shot.id, shot.hash, state, output=output,
                      task_id=task_id, message=failure or "",
                      code="RenderFailed" if state == "failed" else "")


def _write_lock(setup: RunSetup, cache: OutputCache, results: list[ShotResult]) -> Path:
    """The draft lock, as the runner writes it for a render of the series' takes."""
    entries = []
    for shot, result in zip(setup.shots, results, strict=True):
        entry = _entry(setup, cache, shot) if result.ok else None
        if entry is not None:
            entries.append(entry)
    path = lock_path(setup.root, proxy(setup.provider))  # never the committed lock
    update_lock(path, entries)
    return path


# A cached take's lock entry, kept while what decides it is the same: the shot (its place, its
# request and hash), the provider, and the cache's video and sidecar files (by size and time). The
# studio writes the lock of every take of the series on every save; most are unchanged.
_ENTRIES: dict[tuple[object, ...], LockEntry] = {}
_ENTRIES_MAX = 50_000


def _entry(setup: RunSetup, cache: OutputCache, shot: CompiledShot) -> LockEntry | None:
    files = tuple(version(path) for path in (cache.path(shot.hash), cache.sidecar(shot.hash)))
    if files[0] is None:
        return None  # not in the cache (``cache.get`` says the same)
    key: tuple[object, ...] | None = (
        setup.root, setup.provider.name, setup.provider.cache_key, shot.series, shot.episode,
        shot.id, shot.take, shot.hash, shot.request, tuple(sorted(shot.needs.items())), files)
    try:
        found = _ENTRIES.get(key) if key is not None else None
    except TypeError:  # something unhashable in the request: made each time
        found, key = None, None
    if found is None:
        cached = cache.get(shot.hash)
        if cached is None:
            return None
        found = entry_for(shot, cached, setup.root, setup.provider.name, setup.provider.cache_key)
        if key is not None:
            if len(_ENTRIES) >= _ENTRIES_MAX:
                _ENTRIES.clear()
            _ENTRIES[key] = found
    return dict(found)  # a copy: the caller may add to it
