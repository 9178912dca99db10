"""A series' boards, its made lines and the lock's take states into the board animatic: ``out/boards/EP.mp4``.

Each shot of an episode shows its board (``CompiledShot.board``: the approved take of the asset
``boards/EP/SHOT``, else the picked one, else the latest made; or the shot's own still) held for the
shot's length with a slow move from its camera words (``animatic.held``), its spoken lines where
they were made (``lines/`` assets) and its voices; subtitles, title and end cards, music and the
joins are the episode's own, through the same ``EpisodeBuilder`` and stitcher as the video
episode, into ``boards/`` beside it. Each held clip is kept by what it shows (``.storyboard/cards``),
so a re-stitch after one new board draws that one only. A shot with no board made yet is a plain
frame of its length, so the animatic keeps the episode's timing.

Drawing a held clip is an encode of its distinct pictures (``animatic.held``), still many times
the stitch's work, so the clips are drawn on a bounded pool of ffmpeg processes, one a core
(``HeldPool``), and during ``render SERIES boards`` each as its board arrives (``AheadOfAnimatic``),
while the pass still makes the others, at a lower priority than the pass's requests and polls;
those still queued when the pass ends are drawn at once at the run's priority, so the stitch
finds them all drawn. A clip is drawn ahead only once its board's choice is final (its approved
or picked take made, else every take of it) and its made lines are in, so no board is encoded
twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from storyboard.animatic.draw import DRAFT_FPS, FPS, Sound, draft_size
from storyboard.animatic.held import (
    Held,
    camera_move,
    held_sounds,
    render_held,
    shape,
    work,
)
from storyboard.animatic.shots import SIZES
from storyboard.errors import StoryboardError
from storyboard.language.request import BOARDS, CompiledEpisode, CompiledShot, Manifest
from storyboard.media.probes.measure import Measured
from storyboard.media.probes.probe import sha256_file
from storyboard.run.boards.ahead import AheadOfMeasure, background_pool
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.castinputs import Made, substituted
from storyboard.run.state.lock.lockfile import TakeState
from storyboard.run.state.takes import state_key
from storyboard.run.trip.model import ShotEvent
from storyboard.stitch.join.facts import FactStore
from storyboard.stitch.series.episodes import EpisodeBuilder, EpisodeOutput

# Bump when what a held board looks like changes: every clip is drawn again (2: the distinct
# pictures encoded, held by skipped P-frames, a move a few pixels a step; 3: a silent board's
# sound the shared silent track, copied; 4: a move's steps of four and eight pixels, one x264
# thread, a silent board muxed in Python)
HELD_VERSION = 4
DEFAULT_FRAME = (1280, 720)
FACTS = "facts"  # the stitch's clip facts, in its cache folder (``EpisodeBuilder.cache_dir``)
log = logging.getLogger(__name__)
EventSink = Callable[[ShotEvent], None]


def board_animatic(manifest: Manifest, states: Mapping[str, TakeState], cache: OutputCache,
                   builder: EpisodeBuilder, episode: str | None = None,
                   on_episode: Callable[[EpisodeOutput], None] | None = None
                   ) -> list[EpisodeOutput]:
    """Stitch each episode's board animatic (``episode`` alone when given) whose shots have a
    board made, into ``boards/`` under ``builder``'s folder; ``on_episode`` hears each as it
    starts and ends. A failure is reported as the episode's, not raised."""
    boards = EpisodeBuilder(manifest, builder.out_dir / BOARDS, draft=builder.draft,
                            preview=builder.preview)
    boards.state_dir = builder.state_dir
    files = BoardFiles(manifest, states, cache)
    outputs = []
    for ep in manifest.episodes:
        if (episode is None or ep.id == episode) and any(files.board(s) for s in ep.shots):
            built = _stitched(files, boards, ep, on_episode)
            outputs.append(built)
            if on_episode is not None:
                on_episode(built)
    return outputs


def _stitched(files: BoardFiles, boards: EpisodeBuilder, episode: CompiledEpisode,
              on_start: Callable[[EpisodeOutput], None] | None) -> EpisodeOutput:
    """One episode's animatic, named ``boards/EP``."""
    name = f"{BOARDS}/{episode.id}"
    try:
        held = {shot.id: files.held_clip(shot, boards.cards_dir, boards.draft)
                for shot in episode.shots}
        with HeldPool() as pool:
            pool.draw_all(held.values(), facts=boards.cache_dir / FACTS)
        clips = {shot: path for shot, (_, path) in held.items()}
        heard = None if on_start is None else (lambda e: on_start(replace(e, id=name)))
        built = boards.build(_as_used(episode), clips, on_start=heard)
    except StoryboardError as error:
        return EpisodeOutput(name, boards.out_dir / f"{episode.id}.mp4", "skipped",
                             message=str(error))
    return replace(built, id=name)


def _as_used(episode: CompiledEpisode) -> CompiledEpisode:
    """The episode as its animatic shows it: each shot alone (its board is the same for all)."""
    return replace(episode, shots=[replace(s, others=[]) for s in episode.shots])


class BoardFiles:
    """Where each shot's board and lines are: the lock's take states over the output cache."""

    def __init__(self, manifest: Manifest, states: Mapping[str, TakeState],
                 cache: OutputCache) -> None:
        self.root = manifest.root
        self.assets = {asset.shot_id: asset for asset in manifest.cast}
        self.states, self.cache = states, cache

    def board(self, shot: CompiledShot) -> Path | None:
        """The still ``shot`` shows: its own, or the approved, picked or latest made take."""
        ref = shot.board
        if ref is None:
            return None
        if ref.path is not None:
            return ref.path if ref.path.is_file() else None
        asset = self.assets.get(ref.asset or "")
        return None if asset is None else self.take_file(asset)

    def take_file(self, asset: CompiledShot) -> Path | None:
        """The file of ``asset``'s approved take, else its picked one, else its latest made."""
        state = self.states.get(state_key(asset), {})
        made = {t.take: t for t in asset.all_takes() if self.cache.has(t.hash)}
        for number in (state.get("approved"), state.get("picked")):
            if number in made:
                return self.cache.path(made[number].hash)
        return self.cache.path(made[max(made)].hash) if made else None

    def sounds(self, shot: CompiledShot) -> tuple[Sound, ...]:
        """The shot's made lines (a ``lines/`` asset from its start) and its own voice clips."""
        lines = {asset: Made(self.cache.path(digest), "") for asset, digest in shot.needs.items()
                 if asset.startswith("lines/") and self.cache.has(digest)}
        request = substituted(shot, lines).request
        return held_sounds(request)

    def held_clip(self, shot: CompiledShot, cards: Path, draft: bool) -> tuple[Held, Path]:
        """What the shot's held board shows, and its file in the card cache ``cards`` (drawn
        or not)."""
        spec = held_spec(shot, self.board(shot), self.sounds(shot), draft=draft)
        return spec, cards / f"held-{_identity(spec)}.mp4"

    def settled(self, shot: CompiledShot) -> bool:
        """Whether the shot's held board can be drawn for good: its board's choice final (its
        own still; the approved or picked take made, else every take) and its lines made."""
        lines = [d for asset, d in shot.needs.items() if asset.startswith("lines/")]
        return self._board_settled(shot) and all(self.cache.has(d) for d in lines)

    def _board_settled(self, shot: CompiledShot) -> bool:
        ref = shot.board
        if ref is None:  # a plain frame: nothing to wait for
            return True
        asset = self.assets.get(ref.asset or "")
        if asset is None:  # its own still, or a board never made: nothing will change it
            return True
        state = self.states.get(state_key(asset), {})
        made = {t.take for t in asset.all_takes() if self.cache.has(t.hash)}
        chosen = {state.get("approved"), state.get("picked")} - {None}
        return bool(made & chosen) or len(made) == len(asset.all_takes())


Sink = Callable[[Measured | None], None]  # hears a still's measurement (``AheadOfMeasure``'s)
# what a held board shows, its file, where its facts go, who hears its still's measurement
Clip = tuple[Held, Path, Path | None, Sink | None]


class HeldPool:
    """Held boards drawn on a bounded pool of ffmpeg processes (one a core), each file once;
    each one's facts (``stitch.join.facts``) read as it is drawn, so the stitch need not."""

    def __init__(self, workers: int | None = None, *, give_way: bool = False) -> None:
        self.pool = background_pool("storyboard-held", workers, give_way=give_way)
        self.drawing: dict[Path, tuple[Clip, Future[Path]]] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> HeldPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown(wait=True)

    def draw(self, spec: Held, path: Path, facts: Path | None = None, sink: Sink | None = None,
             hand_over: Callable[[Path], Sink | None] | None = None) -> Future[Path] | None:
        """Draw ``spec`` into ``path`` unless it is there or being drawn (and keep its facts in
        the folder ``facts``); ``sink`` hears its still's measurement, made in the same run, or
        the one ``hand_over`` names for the still, asked only when it is drawn
        (``AheadOfMeasure.hand_over``)."""
        with self.lock:
            if path in self.drawing:
                return self.drawing[path][1]
            if path.is_file():
                return None
            if sink is None and hand_over is not None and spec.still is not None:
                sink = hand_over(spec.still)
            clip = (spec, path, facts, sink)
            future = self.pool.submit(_drawn, *clip)
            self.drawing[path] = clip, future
        return future

    def unbegun(self) -> list[Clip]:
        """Each clip whose drawing was cancelled before it began (``pool.shutdown``'s
        ``cancel_futures``)."""
        with self.lock:
            return [clip for clip, future in self.drawing.values() if future.cancelled()]

    def draw_all(self, clips: Iterable[tuple[Held, Path]], facts: Path | None = None) -> None:
        """Draw every clip not drawn yet, at once; the first failure raised once all are done."""
        futures = [f for spec, path in clips if (f := self.draw(spec, path, facts)) is not None]
        failures = [f.exception() for f in futures]
        for failure in failures:
            if failure is not None:
                raise failure


class AheadOfAnimatic:
    """``render SERIES boards``: each shot's held board drawn as soon as its board is settled, while
    the pass makes the others (``listen``); ``wait`` before the animatic's stitch."""

    def __init__(self, shown: Iterable[tuple[Manifest, EpisodeBuilder]],
                 states: Mapping[str, TakeState], cache: OutputCache,
                 measuring: AheadOfMeasure | None = None) -> None:
        """``shown``: each series (its retakes in) and the builder that stitches it (its card
        folder, its facts, whether a draft); ``measuring``: the run's takes measured as they
        arrive, of which a board's still is measured in its held board's run instead (the
        frame it decodes anyway: one ffmpeg run, not two)."""
        self.hand_over = None if measuring is None else measuring.hand_over
        self.looked: Future[None] | None = None  # the last scan asked for
        if measuring is not None:  # an arriving still measured once this scan is over
            measuring.gate = lambda: self.looked
        shown = list(shown)
        self.shots = [(BoardFiles(m, states, cache), b, s) for m, b in shown for ep in m.episodes
                      if any(s.board for s in ep.shots) for s in ep.shots]
        self.held = HeldPool(give_way=True)  # the pass's requests and polls first
        for manifest, builder in shown:  # the cards, drawn and read before the first board
            for episode in manifest.episodes:
                if any(s.board for s in episode.shots):
                    self.held.pool.submit(_cards, builder, episode)
        self.scanner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyboard-boards")
        self.closed = False

    def listen(self, on_event: EventSink | None) -> EventSink:
        """An event sink that looks for settled boards on each arrival, then passes it on."""
        def hear(event: ShotEvent) -> None:
            if event.output is not None and self.shots and not self.closed:
                self.looked = self.scanner.submit(self._scan)
            if on_event is not None:
                on_event(event)
        return hear

    def _scan(self) -> None:
        """On the scanner's one thread: every shot whose board is settled, handed to the pool."""
        waiting = []
        for files, builder, shot in self.shots:
            try:
                if files.settled(shot):
                    drawn = self.held.draw(*files.held_clip(shot, builder.cards_dir,
                                                            builder.draft),
                                           builder.cache_dir / FACTS, hand_over=self.hand_over)
                    if drawn is not None:
                        drawn.add_done_callback(_noted)
                    continue
            except Exception:  # the stitch draws what is missing, and says why
                log.warning("could not draw %s's board ahead", shot.id, exc_info=True)
            waiting.append((files, builder, shot))
        self.shots = waiting

    def wait(self, cancel: bool = False) -> None:
        """Every held board handed to the pool, drawn: those being drawn finish where they are,
        those still queued are drawn at once on a pool at the run's own priority, beside them
        (and beside the measuring the run still waits for), the costliest first (``held.work``);
        ``cancel``: the run stopped, so only
        what had begun is drawn (the next stitch draws the rest), and nothing is scanned again."""
        self.closed = True
        self.scanner.shutdown(wait=True, cancel_futures=cancel)
        self.held.pool.shutdown(wait=False, cancel_futures=True)
        if not cancel:
            with HeldPool() as now:  # the costliest first: the pool's cores end together
                for clip in sorted(self.held.unbegun(), key=_work, reverse=True):
                    drawn = now.draw(*clip)
                    if drawn is not None:
                        drawn.add_done_callback(_noted)
        self.held.pool.shutdown(wait=True)


def _cards(builder: EpisodeBuilder, episode: CompiledEpisode) -> None:
    """The episode's title and end cards drawn into the card cache and their facts read, so the
    animatic's stitch finds them (one it cannot draw is the stitch's to draw again, and say)."""
    for kind in ("title_card", "end_card"):
        try:
            card = builder.card(episode, kind)
            if card is not None:
                with tempfile.TemporaryDirectory(prefix="storyboard-card-") as work:
                    FactStore(builder.cache_dir / FACTS).facts(card, Path(work) / "card.framecrc")
        except Exception:
            log.warning("could not draw %s's %s ahead", episode.id, kind, exc_info=True)


def _work(clip: Clip) -> int:
    return work(clip[0])


def _noted(drawn: Future[Path]) -> None:
    """A held board drawn ahead that failed: noted (the stitch draws it again, and says why)."""
    failure = None if drawn.cancelled() else drawn.exception()  # cancelled: left to the stitch
    if failure is not None:
        log.warning("could not draw a held board ahead: %s", failure)


def _drawn(spec: Held, path: Path, facts: Path | None, sink: Sink | None = None) -> Path:
    """``spec`` drawn into ``path`` (``sink``: hears its still's measurement); with ``facts``, the
    clip's facts kept in that folder (the stitch's ``FactStore``), so the animatic's stitch finds
    them instead of reading each clip then: those of the first held board of its ``shape`` (one
    packet scan), the same for every other (none). A clip that cannot be read is the stitch's to
    say."""
    if sink is None:
        render_held(spec, path)
    else:
        render_held(spec, path, sink)
    if facts is not None:
        with tempfile.TemporaryDirectory(prefix="storyboard-held-") as work, \
                contextlib.suppress(StoryboardError):
            FactStore(facts).alike(path, Path(work) / "held.framecrc", shape(spec, path))
    return path


def held_spec(shot: CompiledShot, still: Path | None, sounds: tuple[Sound, ...], *,
              draft: bool) -> Held:
    """What ``shot``'s held board shows: its frame and length, the move its words ask for."""
    request = shot.request
    width, height = SIZES.get((request.resolution, request.ratio), DEFAULT_FRAME)
    fps = FPS
    if draft:
        (width, height), fps = draft_size(width, height), DRAFT_FPS
    words = " ".join([request.prompt, *(scene.text for scene in request.scenes)])
    return Held(still, width, height, float(request.duration), camera_move(words), sounds, fps,
                draft)


def _identity(spec: Held) -> str:
    """A held clip's name: the digest of everything it shows (its files by content)."""
    described = {"version": HELD_VERSION, "still": _content(spec.still), "size": [spec.width,
                 spec.height], "duration": spec.duration, "move": spec.move, "fps": spec.fps,
                 "draft": spec.draft,
                 "sounds": [[_content(s.path), s.start, s.length] for s in spec.sounds]}
    text = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _content(path: Path | None) -> str | None:
    return None if path is None else sha256_file(path)
