"""A compiled episode into its cut: title card, shots and end card laid on the episode clock.

The clock is the stitcher's own: when every clip is rendered, they are probed and laid out by
``stitch.lay_out``, the very function ``stitch`` uses, so the sheet's timecodes and the editor
exports agree with the stitched episode to the frame, cards and transitions included (an episode
joined by stream copy, where each clip lasts as long as its longer stream, is rounded to whole
frames). Until then, the stitcher's ``Timeline`` is fed with the rendered clips' real lengths and
the others' nominal ones (a shot's ``duration``, a card's).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol

from storyboard.errors import MediaError
from storyboard.language.request import CompiledEpisode, CompiledShot, Transition
from storyboard.media import ffmpeg
from storyboard.stitch.join.concat import as_rate
from storyboard.stitch.join.facts import FactStore, gather
from storyboard.stitch.model import Clip, StitchError, StitchOptions
from storyboard.stitch.series.episodes import DEFAULT_CARD_SECONDS, EpisodeBuilder
from storyboard.stitch.stitcher import lay_out
from storyboard.stitch.timeline import Timeline, plan

ItemKind = Literal["title_card", "shot", "end_card"]
DEFAULT_FPS = Fraction(30)  # what the model and the local animatics return


class ShotVideos(Protocol):
    """Where a rendered shot's video is (the runner's output cache), by the shot's hash."""

    def path(self, shot_hash: str) -> Path: ...



@dataclass(frozen=True)
class CutItem:
    """One clip of the cut: a card or a shot, its video (None when not rendered yet)."""

    kind: ItemKind
    name: str  # the shot id, or "title card" / "end card"
    path: Path | None
    length: float  # seconds the stitcher would read
    transition: Transition
    shot: CompiledShot | None = None
    card: dict[str, object] | None = None  # the card's YAML settings


@dataclass(frozen=True)
class Cut:
    episode: CompiledEpisode
    items: tuple[CutItem, ...]
    timeline: Timeline
    duration: float  # seconds, as the stitched episode will last

    @property
    def fps(self) -> Fraction:
        return self.timeline.fps

    def span(self, index: int) -> tuple[int, int]:
        """Episode frames [in, out) of item ``index``."""
        start = self.timeline.starts[index]
        return start, start + self.timeline.frames[index]


def video_length(path: Path) -> float:
    """The exact length of a clip's video, from its packets (what the stitcher reads)."""
    lengths = ffmpeg.stream_lengths(path)
    value = lengths.get("video")
    if not value:
        raise MediaError(f"{path}: cannot tell how long its video is")
    return value


def _fps(items: list[CutItem]) -> Fraction:
    """The first rendered shot's rate, as the stitch takes it (a card never sets it)."""
    for item in items:
        if item.path is not None and item.card is None:
            info = ffmpeg.probe(item.path)
            if info.video is not None and info.video.fps > 0:
                return as_rate(info.video.fps)
    return DEFAULT_FPS


def _card(builder: EpisodeBuilder, episode: CompiledEpisode, kind: ItemKind,
          render: bool) -> CutItem | None:
    spec = builder.card_spec(episode, kind)
    if spec is None or not episode.shots:
        return None
    try:
        path = builder.card(episode, kind, render=render)
    except OSError:  # its image is missing (check reports it): a card with nothing to show yet
        path = None
    name = kind.replace("_", " ")
    if path is None or not path.is_file():
        seconds = float(spec.get("duration", DEFAULT_CARD_SECONDS))
        return CutItem(kind, name, None, seconds, Transition(), card=dict(spec))
    return CutItem(kind, name, path, float(spec.get("duration", DEFAULT_CARD_SECONDS)),
                   Transition(), card=dict(spec))


def _shot(shot: CompiledShot, cache: ShotVideos) -> CutItem:
    path = cache.path(shot.hash)
    return CutItem("shot", shot.id, path if path.is_file() else None,
                   float(shot.request.duration), shot.transition, shot=shot)


def _nominal(items: list[CutItem], names: list[str], store: FactStore
             ) -> tuple[list[CutItem], Timeline, float]:
    """Some clip is not rendered: rendered clips count with their real length (from the stitch's
    records when it has read them, else one packet scan), others nominally."""
    items = [replace(i, length=_length(i.path, store)) if i.path is not None else i for i in items]
    lengths, fps = [i.length for i in items], _fps(items)
    try:
        timeline = plan(lengths, [i.transition for i in items], fps, names)
    except StitchError:  # a broken series (check reports it): lay it out with cuts instead
        timeline = plan(lengths, [Transition()] * len(items), fps, names)
    return items, timeline, timeline.seconds(timeline.total)


def _length(path: Path, store: FactStore) -> float:
    known = store.recorded(path)
    return known.video_len if known is not None else video_length(path)


def _stitched(items: list[CutItem], options: StitchOptions) -> tuple[list[CutItem], Timeline,
                                                                      float]:
    """Every clip is rendered: the stitcher's own layout of them (its path, its clock)."""
    paths = [i.path for i in items if i.path is not None]
    store = fact_store(options)
    with tempfile.TemporaryDirectory(prefix="storyboard-cut-") as work:
        facts = gather(paths, Path(work), store)  # the stitch's own records: read, not probed
    clips = [Clip(p, i.transition, card=i.card is not None)
             for p, i in zip(paths, items, strict=True)]
    layout = lay_out(facts, clips, options)
    items = [replace(i, length=f.video_len) for i, f in zip(items, facts, strict=True)]
    if layout.path != "copy":
        return items, layout.timeline, layout.duration
    # Joined by stream copy: each clip lasts as long as its longer stream; round to frames.
    fps = layout.timeline.fps
    starts = [round(start * fps) for start in layout.starts]
    ends = [*starts[1:], round(layout.duration * fps)]
    timeline = Timeline(fps, layout.timeline.sample_rate,
                        tuple(e - s for s, e in zip(starts, ends, strict=True)),
                        (0,) * len(items), ("cut",) * len(items), tuple(starts))
    return items, timeline, layout.duration


def episode_cut(builder: EpisodeBuilder, episode: CompiledEpisode, cache: ShotVideos, *,
                render_cards: bool = False) -> Cut:
    """Lay out ``episode`` as the stitcher would (cards rendered first only if ``render_cards``)."""
    items: list[CutItem] = []
    if (title := _card(builder, episode, "title_card", render_cards)) is not None:
        items.append(title)
    items += [_shot(shot, cache) for shot in episode.shots]
    if (end := _card(builder, episode, "end_card", render_cards)) is not None:
        items.append(end)
    if not items:
        raise StitchError(f"episode {episode.id} has no shots")
    options = builder.options(episode)
    names = [f"{episode.id}/{i.name}" for i in items]
    if all(i.path is not None for i in items):
        try:
            laid = _stitched(items, options)
        except StitchError:  # transitions that do not fit: check reports them
            laid = _nominal(items, names, fact_store(options))
    else:
        laid = _nominal(items, names, fact_store(options))
    return Cut(episode, tuple(laid[0]), laid[1], laid[2])


def fact_store(options: StitchOptions) -> FactStore:
    """The stitch's records of clip facts (none without a cache folder)."""
    return FactStore(None if options.cache_dir is None else options.cache_dir / "facts")


def timecode(frame: int, fps: Fraction) -> str:
    """``HH:MM:SS:FF`` (non-drop frame) at the nearest whole frame rate."""
    rate = max(1, round(fps))
    seconds, frames = divmod(frame, rate)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"
