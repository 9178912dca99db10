"""Finished shots into one episode file: join, transition, mix, normalise, subtitle (``stitch``).

``stitch(clips, out, options)`` picks the cheapest way that gives the asked-for result:

- ``copy``: every clip already shares codec (H.264/AAC), size, frame rate, pixel format, sample
  rate and channel layout, all joins are cuts, and no music, loudness or burn-in is asked for: the
  concat demuxer joins the packets as they are (nothing is decoded).
- ``normalized``: all joins are cuts, but some clip differs (or the sound must change): each clip
  gets a mezzanine (``mezzanine``: made once, cached by content and format; a clip whose video
  matches is only remuxed), whose packets are joined as they are; all audio is brought to 48 kHz
  stereo, cut to its clip's video length, and encoded once at the end.
- ``filtered``: transitions or burnt-in subtitles: the clips' mezzanines (encoded once,
  keyframes where cuts go) are joined as segments (``segments``): shot bodies copied, only the
  frames around each transition and under burnt-in text decoded, blended (or drawn on) and
  encoded with the mezzanines' own settings, so the stream stays strict.

The final join is ffmpeg's concat demuxer, packets copied (nothing decoded). A strict episode
(normalized or filtered: one set of parameter sets) keeps its one SPS/PPS out of band; pieces with
parameter sets of their own get them repeated in-band.

Clip facts (``facts``) and mezzanines are kept in ``options.cache_dir`` when it is set. No frame
passes through Python, and no ffmpeg process holds more than a few frames of any clip, so memory
stays flat as episodes grow. The output is written to a temporary file and renamed, never left
half-written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from storyboard.files import (
    STITCH_DIR_PREFIX,
    clean_stale_temporaries,
    state_folder,
    write_atomic,
)
from storyboard.media import ffprogress
from storyboard.stitch import subtitles
from storyboard.stitch.join import concat, mezzanine, segments, shared
from storyboard.stitch.join.concat import ClipFacts, EpisodeFormat
from storyboard.stitch.join.facts import FactStore, gather
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import (
    Clip,
    OutputNotWritable,
    PathTaken,
    StitchError,
    StitchOptions,
    StitchResult,
)
from storyboard.stitch.sound import audio, splice
from storyboard.stitch.timeline import Timeline, plan
from storyboard.stitch.using import using

__all__ = ["Layout", "choose_path", "final_join", "lay_out", "prepare", "prepare_sound",
           "prepare_transitions", "stitch"]


def _prepare_folder(out: Path) -> None:
    """Fail early and clearly when the output cannot be written (before any work is done)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out.parent, prefix=".stitch-check-")  # noqa: SIM115
        probe.close()
    except OSError as exc:
        raise OutputNotWritable(f"cannot write {out}: {exc.strerror or exc}") from exc
    if out.is_dir():
        raise OutputNotWritable(f"cannot write {out}: it is a folder")


def _check_music(options: StitchOptions) -> None:
    if options.music is not None:
        concat.require_file(options.music.path, "music file")


def choose_path(facts: Sequence[ClipFacts], fmt: EpisodeFormat, timeline: Timeline,
                options: StitchOptions) -> PathTaken:
    if timeline.has_transitions() or options.burn_subtitles:
        return "filtered"
    sound_untouched = options.music is None and options.loudness is None
    if sound_untouched and concat.same_timebase(facts) and all(
            concat.video_matches(f, fmt) and concat.audio_matches(f) for f in facts):
        return "copy"
    return "normalized"


def _facts(options: StitchOptions) -> FactStore:
    return FactStore(None if options.cache_dir is None else options.cache_dir / "facts")


def _cache(options: StitchOptions, work: Path) -> Path:
    """The mezzanine folder: the cache's when it can be written, else a temporary one."""
    if options.cache_dir is not None:
        folder = options.cache_dir / "mezzanine"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            pass  # a read-only series still stitches; its mezzanines are just not kept
    return work / "mezzanine"


def _mezzanines(facts: list[ClipFacts], timeline: Timeline, fmt: EpisodeFormat,
                options: StitchOptions, work: Path, path: PathTaken) -> list[Mezzanine]:
    """Each distinct clip's mezzanine (cached; built in parallel when missing)."""
    store = _facts(options)
    folder = _cache(options, work)
    sound = None if options.keep_sound else work / "sound"  # made for this stitch alone

    def one(i: int) -> Mezzanine:
        copy = path == "normalized" and concat.video_matches(facts[i], fmt)
        return mezzanine.prepare(facts[i], store.content_hash(facts[i].path), fmt,
                                 timeline.frames[i], "copy" if copy else "encode", options,
                                 folder, sound)

    first = {f.path: i for i, f in reversed(list(enumerate(facts)))}
    with ThreadPoolExecutor(max_workers=options.workers()) as pool:
        made = dict(zip(first, pool.map(ffprogress.carried(one), first.values()), strict=True))
    return [made[f.path] for f in facts]


def prepare(first: Path, clip: Path, options: StitchOptions) -> bool:
    """Make ``clip``'s mezzanine ahead of the stitch of an episode with transitions whose first
    clip is ``first`` (a shot that has just arrived while others still render), so the stitch
    finds it in ``options.cache_dir``. False when there is nothing to keep it in."""
    if options.cache_dir is None:
        return False
    with using(options.cache_dir), tempfile.TemporaryDirectory(prefix=STITCH_DIR_PREFIX) as tmp:
        store = _facts(options)
        facts = gather([first, clip], Path(tmp), store)
        fmt = concat.episode_format(facts[0], options)
        frames = plan([facts[1].video_len], [Clip(clip).transition], fmt.fps, [str(clip)]).frames[0]
        folder = _cache(options, Path(tmp))
        if folder != options.cache_dir / "mezzanine":
            return False  # the cache cannot be written: the stitch will make it itself
        mezzanine.prepare(facts[1], store.content_hash(clip), fmt, frames, "encode", options,
                          folder, None if options.keep_sound else Path(tmp) / "sound")
    return True


@dataclass(frozen=True)
class _Ahead:
    """An episode laid out ahead of its stitch: its work folder, clip facts, layout, mezzanines."""

    work: Path
    facts: list[ClipFacts]
    layout: Layout
    mezz: list[Mezzanine]


@contextlib.contextmanager
def _ahead(clips: Sequence[Clip], options: StitchOptions) -> Iterator[_Ahead | None]:
    """The episode as its stitch will see it, its mezzanines made if missing, in a temporary work
    folder; None when it is joined by copy or there is nowhere to keep what is made ahead."""
    if options.cache_dir is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix=STITCH_DIR_PREFIX) as tmp:
        work = Path(tmp)
        facts = gather([c.path for c in clips], work, _facts(options))
        layout = lay_out(facts, clips, options)
        if layout.path == "copy" or _cache(options, work) != options.cache_dir / "mezzanine":
            yield None
            return
        yield _Ahead(work, facts, layout, _mezzanines(facts, layout.timeline, layout.fmt, options,
                                                      work, layout.path))


def prepare_sound(clips: Sequence[Clip], options: StitchOptions) -> int:
    """Encode ahead of the stitch each clip's sound at the place (and the loudness gain) this
    episode puts it (``stitch.sound.splice``), with the clips' mezzanines if missing, so the stitch only
    encodes the sound around its joins. Returns how many sound encodes were made: 0 when the
    episode's sound is not spliced (music, a limiter needed, the copy path) or there is nowhere
    to keep them."""
    with _ahead(clips, options) as found:
        if found is None:
            return 0
        timeline = found.layout.timeline
        gain = splice.splice_gain(timeline, found.mezz, options)
        return 0 if gain is None else splice.prepare_bodies(timeline, found.mezz, options, gain)


def prepare_transitions(clips: Sequence[Clip], options: StitchOptions) -> int:
    """Encode ahead of the stitch this episode's transitions (and any frames under burnt-in text)
    that are not kept yet (``stitch.join.blends``), with the clips' mezzanines if missing, so the stitch
    only copies them. Returns how many were encoded: 0 when there are none to encode or nowhere
    to keep them."""
    with _ahead(clips, options) as found:
        if found is None or found.layout.path != "filtered":
            return 0
        layout = found.layout
        cues = _burnt_cues(clips, list(layout.starts), [f.video_len for f in found.facts])
        burn = _burn(cues, layout.fmt, layout.timeline, options, found.work)
        return segments.prepare_blends(layout.timeline, found.mezz, layout.fmt, options,
                                       found.work, burn)


def _burnt_cues(clips: Sequence[Clip], starts: list[float], lengths: list[float]
                ) -> list[subtitles.TimedCue]:
    """The cues to burn in: none from a clip that already shows its own (``Clip.captioned``)."""
    return subtitles.episode_cues([dataclasses.replace(c, cues=()) if c.captioned else c
                                   for c in clips], starts, lengths)


def _burn(cues: Sequence[subtitles.TimedCue], fmt: EpisodeFormat, timeline: Timeline,
          options: StitchOptions, work: Path) -> segments.Burn | None:
    """The burnt-in text's script and the frames it covers (none without cues: libass cannot
    open an empty script)."""
    if not options.burn_subtitles or not cues:
        return None
    script = write_atomic(work / "burn.ass", subtitles.burn_ass(cues, fmt.width, fmt.height,
                                                                 options.safe_area),
                          durable=False)
    return segments.Burn(script, tuple(subtitles.burn_spans(cues, fmt.fps, timeline.total)))


def _windows(cues: Sequence[subtitles.TimedCue]) -> list[audio.Window]:
    return [(c.start, c.end) for c in cues]


def stitch(clips: Sequence[Clip], out: Path, options: StitchOptions | None = None) -> StitchResult:
    """Join ``clips`` into ``out`` (H.264/AAC MP4, +faststart) and write its subtitles beside it."""
    options = options or StitchOptions()
    if not clips:
        raise StitchError("nothing to stitch: no clips")
    out = Path(out)
    _check_music(options)
    if options.cache_dir is not None:  # never written or pruned through a link
        state_folder(options.cache_dir / "mezzanine")
        state_folder(options.cache_dir / "facts")
    _prepare_folder(out)
    clean_stale_temporaries(out.parent)  # what a killed stitch left behind
    with using(options.cache_dir), tempfile.TemporaryDirectory(
            prefix=f"{STITCH_DIR_PREFIX}{os.getpid()}-", dir=out.parent) as tmp:
        result = _stitch_in(Path(tmp), clips, out, options)
    if options.cache_dir is not None:
        mezzanine.prune(options.cache_dir / "mezzanine")
    if (share := shared.folder()) is not None:
        mezzanine.prune(share)  # what no series on this machine used for a month
    return result


@dataclass(frozen=True)
class Layout:
    """Where each clip lands in the episode and how it will be joined (before any encoding)."""

    fmt: EpisodeFormat
    timeline: Timeline
    path: PathTaken
    starts: tuple[float, ...]  # each clip's start in the episode, in seconds
    duration: float


def _leader(facts: Sequence[ClipFacts], clips: Sequence[Clip]) -> ClipFacts:
    """The clip whose format the episode takes: its first shot (a card takes the episode's)."""
    return next((f for f, c in zip(facts, clips, strict=True) if not c.card), facts[0])


def lay_out(facts: Sequence[ClipFacts], clips: Sequence[Clip], options: StitchOptions) -> Layout:
    """The episode's clock for probed ``clips``: what ``stitch`` will write, to the frame."""
    fmt = concat.episode_format(_leader(facts, clips), options)
    fmt = dataclasses.replace(fmt, timescale=concat.episode_timescale(facts, fmt))
    timeline = plan([f.video_len for f in facts], [c.transition for c in clips], fmt.fps,
                    [str(c.path) for c in clips], fmt.sample_rate)
    path = choose_path(facts, fmt, timeline, options)
    if path == "copy":
        # The concat demuxer starts each file where the previous one's longest stream ended.
        ends = list(accumulate(f.length for f in facts))
        return Layout(fmt, timeline, path, (0.0, *ends[:-1]), ends[-1])
    return Layout(fmt, timeline, path, tuple(timeline.seconds(s) for s in timeline.starts),
                  timeline.seconds(timeline.total))


def final_join(joinable: segments.Joinable, out: Path, work: Path) -> None:
    """The video entries and the sound into ``out``, by ffmpeg's concat demuxer (nothing
    decoded); a video that is not strict (a transition kept from another x264 build, say) with
    each piece's parameter sets repeated in-band, so each still decodes."""
    audio.mux(joinable.write_list(work / "segments.ffconcat"), joinable.sound, out,
              strict=joinable.strict)


def _stitch_in(work: Path, clips: Sequence[Clip], out: Path,
               options: StitchOptions) -> StitchResult:
    facts = gather([c.path for c in clips], work, _facts(options))
    layout = lay_out(facts, clips, options)
    fmt, timeline, path, duration = layout.fmt, layout.timeline, layout.path, layout.duration
    starts = list(layout.starts)
    cues = subtitles.episode_cues(clips, starts, [f.video_len for f in facts])
    if path == "copy":
        concat.copy_join(facts, out, work)
    else:
        mezz = _mezzanines(facts, timeline, fmt, options, work, path)

        def finish(speech: audio.Dialogue) -> Path:
            return splice.episode_sound(speech, timeline, mezz, work, options, duration,
                                        _windows(cues))

        joinable = segments.render(timeline, mezz, fmt, options, work, options.workers(), finish,
                                   _burn(_burnt_cues(clips, starts, [f.video_len for f in facts]),
                                         fmt, timeline, options, work))
        final_join(joinable, out, work)
    files = subtitles.write_sidecars(cues, out) if options.subtitles else ()
    return StitchResult(out, duration, path, tuple(files), tuple(starts))
