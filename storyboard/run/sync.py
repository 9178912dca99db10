"""A series' rendered shots into the shared store and back: ``storyboard push`` and ``pull``.

``push`` sends every shot of the series that is in the local cache and missing from the store
(each video checked against its sidecar's sha256 first). ``pull`` fetches every shot the store
has and the local cache lacks, each checked against the sha256 the lock file (else the store's
record) names: what a teammate or an editor runs after ``git pull``. Neither spends money, writes
the lock file or stitches; ``render`` afterwards stitches without a submission.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from storyboard.errors import StoreError, StoreUnreachable, StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.run.setup import make_provider, open_store, select
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import lock_path, read_lock, shot_key
from storyboard.run.state.people.cast import pictures
from storyboard.run.state.sharing import StoreLink

Direction = Literal["push", "pull"]
WORKERS = 4  # transfers at once


@dataclass
class SyncReport:
    """What a push or pull did, shot by shot (``series/episode/shot`` keys)."""

    direction: Direction
    store: str
    done: list[str] = field(default_factory=list)  # pushed / pulled now
    already: list[str] = field(default_factory=list)  # in the store / in the local cache
    missing: list[str] = field(default_factory=list)  # not rendered here / not in the store
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, why)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, object]:
        return {"direction": self.direction, "store": self.store, "ok": self.ok,
                "done": self.done, "already": self.already, "missing": self.missing,
                "failed": [{"key": k, "message": m} for k, m in self.failed]}


def _link(manifest: Manifest, provider: str | None, draft: bool) -> tuple[StoreLink, OutputCache]:
    chosen = make_provider(manifest, provider, draft=draft)
    link = open_store(manifest, chosen)
    if link is None:
        raise StoreError("no store is set: add `store: <folder or URL>` to the series, or set "
                         "STORYBOARD_STORE")
    link.scan()
    if link.problem:
        raise StoreUnreachable(link.problem)
    return link, OutputCache(manifest.root, chosen.cache_key)


def _unique(shots: list[CompiledShot]) -> list[CompiledShot]:
    """One shot per hash: variations that compile alike share one video."""
    first: dict[str, CompiledShot] = {}
    for shot in shots:
        first.setdefault(shot.hash, shot)
    return list(first.values())


def push_series(manifest: Manifest, *, provider: str | None = None, episode: str | None = None,
                draft: bool = False) -> SyncReport:
    """Send the series' cached shots that the store lacks."""
    link, cache = _link(manifest, provider, draft)
    report = SyncReport("push", link.shown)
    todo: list[CompiledShot] = []
    for shot in _unique(select(manifest, episode)):
        if not cache.has(shot.hash):
            report.missing.append(shot_key(shot))
        elif shot.hash in link.known:
            report.already.append(shot_key(shot))
        else:
            todo.append(shot)

    def one(shot: CompiledShot) -> tuple[str, str | None]:
        try:
            link.push_cached(shot.hash, cache)
        except (StoryboardError, OSError) as exc:
            return shot_key(shot), str(exc)
        return shot_key(shot), None

    _collect(report, map_threads(one, todo))
    _pictures_people(manifest, link, [s for s in todo if shot_key(s) in report.done], "push")
    with contextlib.suppress(StoryboardError):  # housekeeping: never the push's failure
        link.store.clean_uploads()
    return report


def pull_series(manifest: Manifest, *, provider: str | None = None, episode: str | None = None,
                draft: bool = False) -> SyncReport:
    """Fetch the series' shots that the store has and the local cache lacks, verified."""
    link, cache = _link(manifest, provider, draft)
    report = SyncReport("pull", link.shown)
    locked = read_lock(lock_path(manifest.root, draft)).shots  # a draft's lock is its own
    shots = _unique(select(manifest, episode))
    available = link.available(shots, locked)
    todo: list[CompiledShot] = []
    for shot in shots:
        if cache.has(shot.hash):
            report.already.append(shot_key(shot))
        elif shot.hash not in available:
            report.missing.append(shot_key(shot))
        else:
            todo.append(shot)

    def one(shot: CompiledShot) -> tuple[str, str | None]:
        fetched = link.fetch(shot, cache, locked)
        if fetched.kind == "pulled":
            return shot_key(shot), None
        return shot_key(shot), fetched.message or "the store no longer has it"

    _collect(report, map_threads(one, todo))
    _pictures_people(manifest, link, [s for s in todo if shot_key(s) in report.done], "pull")
    return report


def _pictures_people(manifest: Manifest, link: StoreLink, shots: list[CompiledShot],
                     direction: Direction) -> None:
    """The people of the pictures ``shots`` declare (each character's, as measured) put into
    the store or taken from it: what their takes are judged against, measured once a team."""
    lock = read_lock(lock_path(manifest.root))
    digests = sorted({p.sha256 for shot in shots for p in pictures(manifest.root, shot, lock)
                      if p.sha256 is not None})
    for sha in digests:
        if direction == "push":
            link.share_people(sha, check=True)
        else:
            link.adopt_people(sha, faces=False)


Outcome = tuple[str, str | None]  # (key, None when it worked, else why not)


def map_threads(one: Callable[[CompiledShot], Outcome], items: list[CompiledShot]
                ) -> list[Outcome]:
    if not items:
        return []
    with ThreadPoolExecutor(min(WORKERS, len(items)), thread_name_prefix="storyboard-sync") as pool:
        return list(pool.map(one, items))


def _collect(report: SyncReport, outcomes: list[tuple[str, str | None]]) -> None:
    for key, problem in outcomes:
        if problem is None:
            report.done.append(key)
        else:
            report.failed.append((key, problem))
