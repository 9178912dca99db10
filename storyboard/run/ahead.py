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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storyboard.language.request import CompiledEpisode
from storyboard.run.trip.model import ShotEvent
from storyboard.stitch import prepare, prepare_sound, prepare_transitions
from storyboard.stitch.episodes import EpisodeBuilder

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
            closing = builder.card(episode, "end_card")
            for clip in (first, *shots.values(), *([closing] if closing else [])):
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
