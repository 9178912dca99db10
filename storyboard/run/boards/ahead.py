"""Arriving shots into mezzanines: the stitch's encoding done while other shots still render.

A generated shot takes minutes; encoding it into its episode's format (``storyboard.stitch
.prepare``) takes seconds. So as each shot arrives (rendered, downloaded or found in the cache),
its mezzanine is made on one background thread, and when the last shot lands the stitch finds
them all made. Once all of an episode's shots are in, its transitions are encoded and kept
(``storyboard.stitch.prepare_transitions``), and its clips' sound too, where the episode puts
each clip (``storyboard.stitch.prepare_sound``: only for sound that is spliced), so the stitch
only copies the transitions and encodes the sound around its joins. In a matrix, episodes whose
shots are all in are prepared while other episodes' shots still render. Only episodes with
transitions use mezzanines this way. A failure here is never the render's: the stitch makes what
is missing.

Each arriving take is measured the same way (``AheadOfMeasure``: one ffmpeg pass a file, on a
bounded pool, one process a core), and then its people (``AheadOfPeople``: one thread, at a lower
priority than the run), so the run's report finds its takes measured when the last one lands
instead of measuring them all, one by one, after it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from storyboard.language.request import CompiledEpisode, CompiledShot
from storyboard.media.probes.measure import Measured, decodes
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile
from storyboard.run.state.measured import (
    Outcome,
    current,
    kind_of,
    measure_file,
    recorded,
    store,
)
from storyboard.run.state.people.measuring import Shared, measure_ahead, not_measured
from storyboard.run.trip.model import ShotEvent
from storyboard.stitch import prepare, prepare_sound, prepare_transitions
from storyboard.stitch.series.episodes import EpisodeBuilder

log = logging.getLogger(__name__)
EventSink = Callable[[ShotEvent], None]


def uses_mezzanines(episode: CompiledEpisode) -> bool:
    return any(shot.transition.type != "cut" for shot in episode.shots)


Episode = tuple[str, str]  # (series, episode id): a matrix has one series per variation


class AheadOfStitch:
    """Prepares each arriving shot's mezzanine for its episode (in the series the ``builders``
    stitch); ``wait`` before stitching."""

    def __init__(self, builders: Sequence[EpisodeBuilder]) -> None:
        self.episodes = {(b.manifest.name, ep.id): (b, ep) for b in builders
                         for ep in b.manifest.episodes if uses_mezzanines(ep)}
        self.arrived: dict[Episode, dict[str, Path]] = {}  # -> shot -> video
        self.prepared: set[tuple[Path, Path]] = set()  # (opening clip, clip)
        self.sounded: set[Episode] = set()  # episodes whose transitions and sound are encoded
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyboard-ahead")

    def listen(self, on_event: EventSink | None) -> EventSink:
        """An event sink that notes arrivals, then passes every event on to ``on_event``."""
        def hear(event: ShotEvent) -> None:
            key = (event.series, event.episode)
            if event.output is not None and key in self.episodes:
                self.pool.submit(self._arrived, key, event.shot, event.output)
            if on_event is not None:
                on_event(event)
        return hear

    def _arrived(self, key: Episode, shot_id: str, output: Path) -> None:
        """On the pool's one thread: every arrived clip of the episode, once its opening is known."""
        builder, episode = self.episodes[key]
        shots = self.arrived.setdefault(key, {})
        shots[shot_id] = output
        try:
            first = builder.first_clip(episode, shots)
            if first is None:
                return  # the opening shot is still rendering: its arrival prepares these too
            options = builder.options(episode)
            cards = [c for c in (builder.card(episode, k) for k in ("title_card", "end_card")) if c]
            for clip in (first, *shots.values(), *cards):
                if (first, clip) not in self.prepared and prepare(first, clip, options):
                    self.prepared.add((first, clip))
            if key not in self.sounded and all(s.id in shots for s in episode.shots):
                self.sounded.add(key)
                clips = builder.clips(episode, shots)
                prepare_transitions(clips, options)
                prepare_sound(clips, options)
        except Exception:
            log.warning("could not prepare %s ahead of stitching", output, exc_info=True)

    def wait(self) -> None:
        self.pool.shutdown(wait=True)


def cores() -> int:
    """The processors this process may run on: as many ffmpeg processes work at once."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


GIVE_WAY = 10  # how much lower than the run a pool that gives way runs its ffmpeg processes


def background_pool(prefix: str, workers: int | None = None, *,
                    give_way: bool = False) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads (one a core), each running one ffmpeg process at a time;
    ``give_way``: what they start runs at a lower priority, so while the pass still runs its
    requests and polls come first (on Linux, where a thread's priority is its own and what it
    starts inherits it; elsewhere at the run's)."""
    return ThreadPoolExecutor(max_workers=workers or cores(), thread_name_prefix=prefix,
                              initializer=_give_way if give_way else None)


def _give_way() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           os.getpriority(os.PRIO_PROCESS, 0) + GIVE_WAY)


class AheadOfMeasure:
    """Measures each arriving take of ``takes`` (``measured.measure_file``) on a bounded pool;
    ``outcomes`` waits for them and hands them to ``measured.measure_takes``."""

    def __init__(self, root: Path, cache: OutputCache, takes: Iterable[CompiledShot]) -> None:
        self.root, self.cache = root, cache
        self.takes = {cache.path(t.hash): t for t in takes}
        self.images = {path: t for path, t in self.takes.items() if kind_of(t) == "image"}
        self.found: dict[str, Outcome] = {}  # by sha256; PENDING: being measured
        # the last look of a run that may take an image's measuring over (``hand_over``)
        self.gate: Callable[[], Future[None] | None] | None = None
        self.then: Callable[[CompiledShot], None] | None = None  # each take once measured
        self.lock = threading.Lock()
        self.pool = background_pool("storyboard-measure")

    def listen(self, on_event: EventSink | None) -> EventSink:
        """An event sink that passes every event on to ``on_event``, then measures each arrival
        (an image once ``gate``'s look at it is over: it may hand the image over)."""
        def hear(event: ShotEvent) -> None:
            take = None if event.output is None else self.takes.pop(event.output, None)
            if on_event is not None:
                on_event(event)
            if take is not None:
                gate = None if self.gate is None or event.output not in self.images \
                    else self.gate()
                self.pool.submit(self._measure, take, gate)
        return hear

    def _measure(self, take: CompiledShot, gate: Future[None] | None = None) -> None:
        if gate is not None:  # its drawer's look at this arrival: it may take the image over
            wait([gate])
        self._once(take)
        if self.then is not None:
            self.then(take)

    def _once(self, take: CompiledShot) -> None:
        try:
            entry = self.cache.get(take.hash)
            with self.lock:
                if entry is None or entry.sha256 in self.found:
                    return
                self.found[entry.sha256] = PENDING  # being measured: once a file
            try:
                outcome = measure_file(self.root, self.cache.path(take.hash), entry.sha256,
                                       kind_of(take))
            except BaseException:
                with self.lock:
                    del self.found[entry.sha256]  # measured again at the end, and said there
                raise
            with self.lock:
                self.found[entry.sha256] = outcome
        except Exception:
            log.warning("could not measure %s as it arrived", take.hash, exc_info=True)

    def hand_over(self, still: Path) -> Callable[[Measured | None], None] | None:
        """The measuring of the image take ``still`` handed to a run that decodes it anyway (a
        held board's), unless it is measured or being measured already (or measured without
        decoding): what that run tells its measurement (None: it made none, so it is measured
        here, at the end)."""
        take = self.images.get(still)
        entry = None if take is None else self.cache.get(take.hash)
        if entry is None or not decodes(still) or current(self.root, entry.sha256):
            return None
        with self.lock:
            if entry.sha256 in self.found:
                return None
            self.found[entry.sha256] = PENDING
        sha256 = entry.sha256

        def heard(found: Measured | None) -> None:
            with self.lock:
                if found is None:
                    del self.found[sha256]
                    return
                self.found[sha256] = store(self.root, sha256, found, recorded(self.root, sha256))
        return heard

    def wait(self, cancel: bool = False) -> None:
        """The measuring in hand done; with ``cancel`` (the run stopped), only what has begun."""
        self.pool.shutdown(wait=True, cancel_futures=cancel)

    def outcomes(self) -> dict[str, Outcome]:
        """Every file measured as it arrived, by sha256 (once the measuring in hand is done;
        one handed over but never measured is measured at the end)."""
        self.wait()
        with self.lock:
            return {sha: found for sha, found in self.found.items() if found is not PENDING}


PENDING = Outcome(None)  # being measured (here, or in the run it was handed over to)


class AheadOfPeople:
    """Measures the people of each take handed to ``submit`` (``AheadOfMeasure.then``: once its
    file is measured), on one thread at a lower priority than the run; what it cannot yet
    measure as the end would (``measuring.measure_ahead``) is left for the end."""

    def __init__(self, root: Path, cache: OutputCache, lock: LockFile,
                 store: Shared | None) -> None:
        self.root, self.cache, self.lock, self.store = root, cache, lock, store
        self.pool = background_pool("storyboard-people", 1, give_way=True)

    @classmethod
    def of(cls, measuring: AheadOfMeasure | None, lock: LockFile | None,
           store: Shared | None) -> AheadOfPeople | None:
        """The people of ``measuring``'s takes measured after each, their pictures found in
        the run's ``lock`` (or made by the run); None: without the faces extra."""
        if measuring is None or lock is None or not_measured() is not None:
            return None
        people = cls(measuring.root, measuring.cache, lock, store)
        measuring.then = people.submit
        return people

    def submit(self, take: CompiledShot) -> None:
        with contextlib.suppress(RuntimeError):  # the run stopped: nothing more is measured
            self.pool.submit(self._measure, take)

    def _measure(self, take: CompiledShot) -> None:
        try:
            measure_ahead(self.root, self.cache, take, self.lock, self.store)
        except Exception:
            log.warning("could not measure the people of %s as it arrived", take.hash,
                        exc_info=True)

    def wait(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=True, cancel_futures=cancel)
