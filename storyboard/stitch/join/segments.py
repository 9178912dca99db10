"""A timeline and its mezzanines into segments: shot bodies copied, only transition frames encoded.

Each clip's *body* runs from the first keyframe after its incoming transition to the last keyframe
before its outgoing one; bodies are copied packet for packet from the clip's mezzanine (as
``Entry`` frames of a file, which ffmpeg's concat demuxer copies by ``inpoint``/``outpoint``: no
file written, nothing decoded). What lies between two
bodies (a transition, widened to the keyframes around it) is a *blend* (``blends``): its frames
are decoded from the mezzanines, crossfaded and encoded with the mezzanines' own encoder settings,
so bodies and blends share one set of parameter sets and join into one strict stream (checked:
a blend kept from another x264 build makes the join carry each piece's sets in-band); each blend
is kept by its recipe and copied by the next stitch that needs it. The sound is built once for the
whole episode from the mezzanines' sound files (cuts joined, transitions crossfaded, sample-exact) and
encoded once, while the blends are made; the final join only copies.

Every position is a whole frame; the concat list (for ffmpeg) gives each entry its exact duration
in microseconds, rounded from the episode clock (never summed), so no error accumulates.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.media import ffmpeg, ffprogress
from storyboard.stitch.join import blends as blending
from storyboard.stitch.join.blends import Blend, Recipe
from storyboard.stitch.join.concat import EpisodeFormat
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.timeline import MICRO, Timeline, seconds_text
from storyboard.stitch.transitions import write_noise


@dataclass(frozen=True)
class Body:
    """Frames [first, last) of clip ``clip``, copied from its mezzanine."""

    clip: int
    first: int
    last: int


Segment = Body | Blend


Span = tuple[int, int]  # episode frames [first, end)


def bodies(tl: Timeline, i: int, keys: Sequence[int], marks: Sequence[Span] = ()
           ) -> list[tuple[int, int]]:
    """Clip ``i``'s copyable runs of frames: between its overlaps and outside ``marks`` (episode
    frames that must be encoded: under burnt-in text), each from a keyframe to a keyframe (or to
    the clip's own end, where the next clip starts on one)."""
    n, start = tl.frames[i], tl.starts[i]
    outgoing = tl.overlaps[i + 1] if i + 1 < len(tl.frames) else 0
    free = [(tl.overlaps[i], n - outgoing)]
    for a, b in marks:
        free = [(lo, hi) for s, e in free
                for lo, hi in ((s, min(e, a - start)), (max(s, b - start), e)) if hi > lo]
    runs = []
    for s, e in free:
        first = s if s == 0 else min((k for k in keys if k >= s), default=n)
        last = e if e == n else max((k for k in keys if k <= e), default=0)
        if last > first:
            runs.append((first, last))
    return runs


def plan_segments(tl: Timeline, keyframes: Sequence[Sequence[int]], marks: Sequence[Span] = ()
                  ) -> list[Segment]:
    """Bodies and the blends between them, covering every episode frame once, in order."""
    out: list[Segment] = []
    cursor = 0
    for i in range(len(tl.frames)):
        for first, last in bodies(tl, i, keyframes[i], marks):
            if tl.starts[i] + first > cursor:
                out.append(_blend(tl, cursor, tl.starts[i] + first))
            out.append(Body(i, first, last))
            cursor = tl.starts[i] + last
    if cursor < tl.total:
        out.append(_blend(tl, cursor, tl.total))
    return out


def _blend(tl: Timeline, start: int, end: int) -> Blend:
    clips = tuple(i for i in range(len(tl.frames))
                  if tl.starts[i] < end and tl.starts[i] + tl.frames[i] > start)
    return Blend(start, end, clips, start - tl.starts[clips[0]])


def _quoted(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Entry:
    """One line group of the concat script: frames [first, last) of ``file``."""

    file: Path
    first: int
    last: int


def concat_script(entries: Sequence[Entry], fps: Fraction) -> str:
    """An ffconcat script: each entry's exact duration and its in and out points.

    Durations are differences of the episode clock rounded to microseconds (so they never drift);
    an in point is rounded up and an out point down, so each lands on its own frame (a keyframe).
    """
    lines, start = ["ffconcat version 1.0"], 0
    for entry in entries:
        end = start + entry.last - entry.first
        lines.append(f"file {_quoted(entry.file)}")
        if entry.first:
            lines.append(f"inpoint {seconds_text(entry.first, fps, 'up')}")
        lines.append(f"outpoint {seconds_text(entry.last, fps, 'down')}")
        duration = round(end * MICRO / fps) - round(start * MICRO / fps)
        lines.append(f"duration {duration // MICRO}.{duration % MICRO:06d}")
        start = end
    return "\n".join(lines) + "\n"


def dialogue(tl: Timeline, mezz: Sequence[Mezzanine], work: Path) -> Any:
    """Every clip's sound joined (cuts) or crossfaded (overlaps), sample-exact: an ffmpeg-python
    stream exactly ``tl.sample(tl.total)`` long."""
    g = ffmpeg.graph
    joined: Any = None
    for i, m in enumerate(mezz):
        source = g.input(str(_own_name(m.audio, i, mezz, work))).audio
        end = tl.starts[i] + tl.frames[i]
        take = tl.sample(end) - tl.sample(tl.starts[i])
        clip = source.filter("atrim", end_sample=take).filter("asetpts", "PTS-STARTPTS")
        if joined is None:
            joined = clip
            continue
        shared = tl.sample(tl.starts[i - 1] + tl.frames[i - 1]) - tl.sample(tl.starts[i])
        joined = (g.filter([joined, clip], "acrossfade", ns=shared, c1="tri", c2="tri") if shared
                  else g.concat(joined, clip, v=0, a=1))
    return joined


def _own_name(path: Path, i: int, mezz: Sequence[Mezzanine], work: Path) -> Path:
    """``path``, or a link to it when an earlier clip reads the same file: ffmpeg-python merges
    identical inputs into one, and one input feeding two clips needs an ``asplit``, which
    ffmpeg 5.1 ends early behind ``acrossfade``. Separate inputs read the file twice instead."""
    if all(m.audio != path for m in mezz[:i]):
        return path
    link = work / f"sound{i:05d}{path.suffix}"
    if not link.exists():
        try:
            link.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, link)
    return link


@dataclass(frozen=True)
class Joinable:
    """What the final join reads: the video's entries (at ``fps``), the encoded sound, and whether
    the video is strict (one set of parameter sets)."""

    sound: Path
    strict: bool
    entries: tuple[Entry, ...]
    fps: Fraction

    def write_list(self, path: Path) -> Path:
        """The entries as a concat script in ``path``, for ffmpeg's concat demuxer."""
        path.write_text(concat_script(self.entries, self.fps), encoding="utf-8")
        return path


SoundFinisher = Callable[[Callable[[], Any]], Path]  # the dialogue's maker -> encoded sound


@dataclass(frozen=True)
class Burn:
    """Burnt-in text: the ASS script, and the episode frames it is drawn on."""

    script: Path
    spans: tuple[Span, ...]


def _recipe(tl: Timeline, mezz: Sequence[Mezzanine], fmt: EpisodeFormat, options: StitchOptions,
            work: Path, burn: Burn | None) -> Recipe:
    """What the blends are made of (the dissolves' noise picture written into ``work``)."""
    recipe = Recipe(tl, mezz, fmt, options, burn=burn.script if burn else None,
                    spans=burn.spans if burn else ())
    if any(kind == "dissolve" and overlap for kind, overlap in zip(tl.kinds, tl.overlaps,
                                                                    strict=True)):
        recipe = dataclasses.replace(recipe, noise=write_noise(work / "noise.yuv", fmt.width,
                                                               fmt.height))
    return recipe


def prepare_blends(tl: Timeline, mezz: Sequence[Mezzanine], fmt: EpisodeFormat,
                   options: StitchOptions, work: Path, burn: Burn | None = None) -> int:
    """Encode the blends ``render`` will need and are not kept yet (one process at a time);
    how many were made."""
    segments = plan_segments(tl, [m.keyframes for m in mezz], burn.spans if burn else ())
    recipe = _recipe(tl, mezz, fmt, options, work, burn)
    kept = blending.files([s for s in segments if isinstance(s, Blend)], recipe)
    groups = blending.to_make(kept)
    for group in groups:
        blending.encode(group, kept, recipe)
    return sum(len(group) for group in groups)


def render(tl: Timeline, mezz: Sequence[Mezzanine], fmt: EpisodeFormat, options: StitchOptions,
           work: Path, jobs: int, finish_sound: SoundFinisher, burn: Burn | None = None
           ) -> Joinable:
    """Encode the blends not kept yet (a few per process) while the sound is joined and finished
    (``finish_sound``: music, loudness, encoding, reading the ``dialogue`` straight from the
    mezzanines), in parallel. With ``burn``, the frames under its
    text are encoded too (with the text drawn on them); the others are still copied."""
    segments = plan_segments(tl, [m.keyframes for m in mezz], burn.spans if burn else ())
    recipe = _recipe(tl, mezz, fmt, options, work, burn)
    kept = blending.files([s for s in segments if isinstance(s, Blend)], recipe)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        sound = pool.submit(ffprogress.carried(finish_sound),  # first: the longest
                            lambda: dialogue(tl, mezz, work))
        encode = ffprogress.carried(functools.partial(blending.encode, kept=kept,
                                                      recipe=recipe))
        list(pool.map(encode, blending.to_make(kept)))
        sound_file = sound.result()
    entries = [Entry(mezz[s.clip].video, s.first, s.last) if isinstance(s, Body)
               else Entry(kept[s], 0, s.end - s.start) for s in segments]
    return Joinable(sound_file, _one_set(mezz, list(dict.fromkeys(kept.values())), work),
                    tuple(entries), tl.fps)


def _one_set(mezz: Sequence[Mezzanine], kept: Sequence[Path], work: Path) -> bool:
    """Whether the mezzanines and the kept blends share one set of parameter sets (a blend kept
    from another x264 build has its own: the join must then carry them in-band)."""
    found = {m.extradata for m in mezz} | set(blending.parameter_sets(kept, work))
    return len(found) == 1
